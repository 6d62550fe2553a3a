package console_test

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// startTag is the start tag of the element with id in body; "" if none.
func startTag(body, id string) string {
	return regexp.MustCompile(`<[a-z]+ [^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(body)
}

// describedBy is the aria-describedby of the element with id in body.
func describedBy(body, id string) []string {
	m := regexp.MustCompile(`aria-describedby="([^"]*)"`).FindStringSubmatch(startTag(body, id))
	if m == nil {
		return nil
	}
	return strings.Fields(m[1])
}

// mustBeTiedToProblem fails t unless the field id of p is marked invalid
// and described by the problem box, before any hint of its own.
func mustBeTiedToProblem(t *testing.T, p page, id string, hints ...string) {
	t.Helper()
	tag := startTag(p.Body, id)
	if !strings.Contains(tag, `aria-invalid="true"`) {
		t.Errorf("%s is not marked invalid: %s", id, tag)
	}
	want := append([]string{"problem"}, hints...)
	if got := describedBy(p.Body, id); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s is described by %q, want %q", id, got, want)
	}
	if box := startTag(p.Body, "problem"); !strings.Contains(box, `tabindex="-1"`) {
		t.Errorf("the problem box cannot take the focus: %s", box)
	}
}

// Every refused field says why through the problem box, its hint kept:
// the client's address lists, the settings' logo, colour, admin group
// and second factors, and the audit trail's filter.
func TestRefusedFieldsAreDescribedByTheProblem(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	if _, err := s.svc.CreateGroup(t.Context(), "acme", tenant.Group{Name: "owners"}); err != nil {
		t.Fatal(err)
	}

	clientForm := b.Get(s.url("acme", "/admin/clients/new"))
	for _, tc := range []struct {
		field, hint string
		form        url.Values
	}{
		{"redirect_uris", "redirect-hint", url.Values{"redirect_uris": {"http://shop.example/cb"}}},
		{"logout_uris", "logout-hint", url.Values{"redirect_uris": {"https://shop.example/cb"}, "logout_uris": {"http://shop.example/"}}},
	} {
		tc.form.Set("name", "Shop")
		tc.form.Set("type", "confidential")
		p := b.Submit(clientForm, "/admin/clients/new", tc.form)
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d", tc.field, p.Status)
		}
		mustBeTiedToProblem(t, p, tc.field, tc.hint)
	}

	settings := b.Get(s.url("acme", "/admin/settings"))
	good := formValues(t, settings.Body, "/admin/settings")
	for _, tc := range []struct {
		field, hint string
		change      url.Values
	}{
		{"logo_url", "logo-hint", url.Values{"logo_url": {"http://cdn.acme.example/logo.png"}}},
		{"primary_color", "color-hint", url.Values{"primary_color": {"green"}}},
		{"admin_group", "admin-group-hint", url.Values{"admin_group": {"owners"}}},
		{"factors", "", url.Values{"mfa_mode": {"ON"}, "factor_totp": {""}, "factor_webauthn": {""}}},
	} {
		v := url.Values{}
		for k, vs := range good {
			v[k] = vs
		}
		for k, vs := range tc.change {
			v[k] = vs
		}
		p := b.Submit(settings, "/admin/settings", v)
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d", tc.field, p.Status)
		}
		if tc.hint == "" {
			mustBeTiedToProblem(t, p, tc.field)
		} else {
			mustBeTiedToProblem(t, p, tc.field, tc.hint)
		}
	}

	for _, tc := range []struct{ query, field string }{
		{"from=2026-11-30&to=2026-11-01", "from"},
		{"action=bogus", "action"},
		{"to=30-11-2026", "to"},
	} {
		p := b.Get(s.url("acme", "/admin/audit?"+tc.query))
		mustBeTiedToProblem(t, p, tc.field)
	}
}

// The confirmation of a deletion does not start on the button that
// deletes: a stray Enter would, and the explanation would be skipped.
func TestDeleteConfirmationDoesNotStartOnDelete(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	ivy := s.user(t, "acme", tenant.NewUser{Username: "ivy"})
	confirm := b.Get(s.url("acme", "/admin/users/"+ivy.Sub+"/delete"))
	uitest.MustContain(t, confirm, "Delete ivy?", `class="danger"`)
	uitest.MustNotContain(t, confirm, "autofocus")
}

// In Chromium, a page sent back with a problem starts where the fix is:
// on the field it names, of whatever kind (a select, a group of boxes, a
// date), else on the problem; a deletion's confirmation does not start on
// its button. At phone width every section shows, and the client secret
// shows whole; copying it is said in its status region.
func TestBrowserFocusAndPhoneWidth(t *testing.T) {
	browser := uitest.Chrome(t, 360, 740)
	s := newStack(t)
	if _, err := s.svc.CreateGroup(t.Context(), "acme", tenant.Group{Name: "owners"}); err != nil {
		t.Fatal(err)
	}
	ivy := s.user(t, "acme", tenant.NewUser{Username: "ivy"})
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 40*time.Second)
	defer cancel()
	must(t, "allow the clipboard", uitest.AllowClipboard(ctx))
	must(t, "phone width", chromedp.Do(ctx, chromedp.EmulateViewport(360, 740)))
	must(t, "open the console", chromedp.Do(ctx, chromedp.Navigate(s.url("acme", "/admin"))))
	signInBrowser(t, ctx, "boss", adminPassword)
	must(t, "reach the users", waitForPath(ctx, "/admin/users"))
	mustShowEverySection(t, ctx)
	must(t, "ask for Dutch", chromedp.Do(ctx, chromedp.Func(askForDutch)))
	must(t, "the users in Dutch", chromedp.Do(ctx, chromedp.Navigate(s.url("acme", "/admin/users"))))
	must(t, "Dutch", uitest.WaitUntil(ctx, `document.documentElement.lang === "nl"`))
	mustShowEverySection(t, ctx)

	for _, tc := range []struct{ name, change, focus string }{
		{"an admin group boss is not in", `document.getElementById("admin_group").value = "owners"`, "admin_group"},
		{"no second factor", `document.getElementById("mfa-on").checked = true;
			document.getElementById("factor_totp").checked = false;
			document.getElementById("factor_webauthn").checked = false`, "factor_totp"},
	} {
		must(t, "open the settings", chromedp.Do(ctx, chromedp.Navigate(s.url("acme", "/admin/settings"))))
		must(t, "the settings", waitForPath(ctx, "/admin/settings"))
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](tc.change+`; document.getElementById("save-settings").click(); true`))
		must(t, tc.name, err)
		must(t, "refused: "+tc.name, uitest.WaitUntil(ctx, `document.getElementById("problem") !== null`))
		mustHaveFocus(t, ctx, tc.focus)
	}

	must(t, "a refused audit filter", chromedp.Do(ctx, chromedp.Navigate(s.url("acme", "/admin/audit?from=2026-11-30&to=2026-11-01"))))
	must(t, "refused", uitest.WaitUntil(ctx, `document.getElementById("problem") !== null`))
	mustHaveFocus(t, ctx, "from")

	must(t, "the confirmation", chromedp.Do(ctx, chromedp.Navigate(s.url("acme", "/admin/users/"+ivy.Sub+"/delete"))))
	must(t, "confirm", waitForPath(ctx, "/admin/users/"+ivy.Sub+"/delete"))
	mustHaveFocus(t, ctx, "BODY")

	must(t, "register a client", chromedp.Do(ctx,
		chromedp.Navigate(s.url("acme", "/admin/clients/new")),
		chromedp.SendKeys(chromedp.ID("name"), "Shop"),
		chromedp.SendKeys(chromedp.ID("redirect_uris"), "https://shop.example/cb"),
		chromedp.Click(chromedp.CSS(`button.primary[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("secret")),
	))
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function (f) {
		return f.scrollWidth > f.clientWidth || f.scrollHeight > f.clientHeight || document.documentElement.scrollWidth > window.innerWidth;
	})(document.getElementById("secret"))`))
	must(t, "measure the secret", err)
	if hidden {
		t.Error("part of the secret is out of sight at 360 px")
	}
	must(t, "copy the secret", chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-copy="secret"]`))))
	must(t, "copied", uitest.WaitUntil(ctx, `document.getElementById("secret-copied").textContent === "Gekopieerd"`))
}

// The profile ties each action to the hint that says what it does, and
// shows an address on its lines.
func TestProfileTiesHintsToActions(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	ann := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example", Password: newPassword,
		Attributes: map[string]string{"address": "Street 1\n1234 AB Town"}})
	p := b.Get(s.url("acme", "/admin/users/"+ann.Sub))
	uitest.MustContain(t, p, `<dd class="wrap lines">Street 1`+"\n"+`1234 AB Town</dd>`)
	for _, action := range []string{"disable", "reset-password", "delete"} {
		hint := action + "-hint"
		if got := describedBy(p.Body, action); len(got) != 1 || got[0] != hint {
			t.Errorf("%s is described by %q, want %s", action, got, hint)
		}
		if startTag(p.Body, hint) == "" {
			t.Errorf("no hint %s", hint)
		}
	}
}

// The stylesheet: the focus ring in the tenant's ink colour, which keeps
// 4.5:1 on white where a light tenant colour would all but vanish; body
// text that follows the browser's font size; field edges of at least 3:1.
func TestStylesheetContrastAndTextSize(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	users := b.Get(s.url("acme", "/admin/users"))
	href := regexp.MustCompile(`<link rel="stylesheet" href="([^"]*/console\.css[^"]*)">`).FindStringSubmatch(users.Body)
	if href == nil {
		t.Fatalf("no stylesheet on\n%s", users.Body)
	}
	css := b.Get(s.url("acme", href[1])).Body
	ring := regexp.MustCompile(`(?s):focus-visible[^{]*\{[^}]*outline: 3px solid ([^;]+);`).FindAllStringSubmatch(css, -1)
	if len(ring) == 0 {
		t.Fatal("no focus ring in the stylesheet")
	}
	for _, r := range ring {
		if r[1] != "var(--accent-ink)" {
			t.Errorf("a focus ring of %s, want var(--accent-ink)", r[1])
		}
	}
	font := regexp.MustCompile(`body \{[^}]*font: ([^;]+);`).FindStringSubmatch(css)
	if font == nil {
		t.Fatal("no body font")
	}
	if strings.Contains(font[1], "px") {
		t.Errorf("body font %q: a size in px ignores the reader's font size", font[1])
	}
	line := regexp.MustCompile(`--field-line: #([0-9a-f]{6});`).FindStringSubmatch(css)
	if line == nil {
		t.Fatal("no --field-line")
	}
	if c := contrastOnWhite(line[1]); c < 3 {
		t.Errorf("field edges of #%s: %.2f:1 on white, want at least 3:1", line[1], c)
	}
	if strings.Contains(css, "#a1a1aa") {
		t.Error("the stylesheet still draws with #a1a1aa, 2.56:1 on white")
	}
}

// contrastOnWhite is the WCAG contrast ratio of the colour rrggbb on white.
func contrastOnWhite(rrggbb string) float64 {
	v, _ := strconv.ParseUint(rrggbb, 16, 32)
	channel := func(c uint64) float64 {
		f := float64(c) / 255
		if f <= 0.04045 {
			return f / 12.92
		}
		return math.Pow((f+0.055)/1.055, 2.4)
	}
	l := 0.2126*channel(v>>16) + 0.7152*channel(v>>8&0xff) + 0.0722*channel(v&0xff)
	return 1.05 / (l + 0.05)
}
