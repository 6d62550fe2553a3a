package console_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// The browser tests drive the console in headless Chromium: the issue's
// seven steps literally, the first sign-in of the activated user from the
// welcome mail a real SMTP server received, and the other sections. They
// prove what handler tests cannot: the script and styles load under the
// CSP, the switch and the row selection work with a mouse, and cookies
// flow between the console and the tenant's sign-in as a browser sends
// them.

// chrome starts headless Chromium for t (see uitest.Chrome).
func chrome(t *testing.T) context.Context { return uitest.Chrome(t, 1280, 900) }

// watchConsole fails t, at its end, on any CSP violation the tab reports.
func watchConsole(t *testing.T, ctx context.Context) {
	var mu sync.Mutex
	var msgs []string
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") {
				t.Errorf("browser console: %s", m)
			}
		}
	})
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, m.String())
			mu.Unlock()
		}
	}()
}

// screenshot saves the page to docs/screenshots/console-<name>.png when
// COGNATE_SCREENSHOTS=1.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("COGNATE_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "console-"+name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// mustHaveFocus fails t unless the element with id has the focus.
func mustHaveFocus(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.tagName`))
	must(t, "read the focus", err)
	if got != id {
		t.Errorf("the focus is on %s, want %s", got, id)
	}
}

// mustShowEverySection fails t unless every entry of the console's
// navigation is on the screen, whole: none scrolled off to the side.
func mustShowEverySection(t *testing.T, ctx context.Context) {
	t.Helper()
	cut, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".sections a")).filter(function (a) {
		var r = a.getBoundingClientRect();
		return r.left < 0 || r.right > window.innerWidth || a.scrollWidth > a.clientWidth;
	}).map(function (a) { return a.textContent; })`))
	must(t, "measure the sections", err)
	if len(cut) > 0 {
		t.Errorf("sections cut off or off the screen: %q", cut)
	}
}

// waitForPath waits until the tab shows path (with any query), loaded.
func waitForPath(ctx context.Context, path string) error {
	return uitest.WaitUntil(ctx, fmt.Sprintf(`location.pathname === %q`, path))
}

// waitForURL waits until the tab shows url, loaded.
func waitForURL(ctx context.Context, url string) error {
	return uitest.WaitUntil(ctx, fmt.Sprintf(`location.href === %q`, url))
}

func text(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	must(t, "read "+string(sel), err)
	return strings.TrimSpace(s)
}

// signInBrowser signs in at the tenant's login page the console sent the
// tab to.
func signInBrowser(t *testing.T, ctx context.Context, username, pw string) {
	t.Helper()
	must(t, "sign in", chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`input[autocomplete="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), pw),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
	))
}

// The seven steps, literally, and the first sign-in after them.
func TestBrowserActivationSevenSteps(t *testing.T) {
	browser := chrome(t)
	s := newStack(t)
	dora := s.user(t, "acme", tenant.NewUser{Username: "dora", Email: "dora@acme.example", Attributes: map[string]string{"name": "Dora Explorer"}})
	s.user(t, "acme", tenant.NewUser{Username: "eli", Email: "eli@acme.example", Password: adminPassword})
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 30*time.Second)
	defer cancel()

	// The administrator opens the console and signs in through the
	// tenant's own login page.
	must(t, "open the console", chromedp.Do(ctx, chromedp.Navigate(s.url("acme", "/admin"))))
	signInBrowser(t, ctx, "boss", adminPassword)

	// 1. Users, and select the user to activate: not activated shows.
	must(t, "reach the users", waitForPath(ctx, "/admin/users"))
	row := chromedp.CSS(fmt.Sprintf(`tr[data-select="select-%s"]`, dora.Sub))
	if got := text(t, ctx, row+" .badge"); got != "Not activated" {
		t.Errorf("dora's status %q", got)
	}
	disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("view-profile").disabled`))
	must(t, "read the button", err)
	if !disabled {
		t.Error("View profile is enabled before a user is selected")
	}
	screenshot(t, ctx, "users")
	must(t, "select dora", chromedp.Do(ctx, chromedp.Click(row+" td:nth-child(4)")))
	picked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(
		`document.getElementById("select-%s").checked && !document.getElementById("view-profile").disabled`, dora.Sub)))
	must(t, "read the selection", err)
	if !picked {
		t.Fatal("clicking dora's row did not select her")
	}

	// 2. View profile.
	must(t, "view the profile", chromedp.Do(ctx, chromedp.Click(chromedp.ID("view-profile"))))
	must(t, "reach the profile", waitForPath(ctx, "/admin/users/"+dora.Sub))
	if h := text(t, ctx, "h1"); h != "dora" {
		t.Errorf("profile heading %q", h)
	}
	screenshot(t, ctx, "profile")

	// 3. The pencil.
	must(t, "edit", chromedp.Do(ctx, chromedp.Click(chromedp.ID("edit"))))
	must(t, "reach the edit form", waitForPath(ctx, "/admin/users/"+dora.Sub+"/edit"))
	screenshot(t, ctx, "edit")

	// 4. Toggle the status to on.
	must(t, "toggle the status", chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`label[for="active"]`))))
	on, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("active").checked`))
	must(t, "read the switch", err)
	if !on {
		t.Fatal("the status switch did not turn on")
	}

	// 5. Save.
	must(t, "save", chromedp.Do(ctx, chromedp.Click(chromedp.ID("save"))))
	must(t, "back on the profile", waitForPath(ctx, "/admin/users/"+dora.Sub))

	// 6. Cognate sends the welcome mail; the console says so.
	notice := text(t, ctx, "#notice")
	if !strings.Contains(notice, "welcome mail") || !strings.Contains(notice, "dora@acme.example") {
		t.Errorf("notice %q", notice)
	}
	screenshot(t, ctx, "activated")
	m := s.smtp.WaitFor("dora@acme.example", "", 10*time.Second)
	temp := regexp.MustCompile(`(?m)^Temporary password:\s*\n\s*\n\s+(\S+)`).FindStringSubmatch(m.Text)
	link := regexp.MustCompile(`https?://\S+`).FindAllString(m.Text, -1)
	if temp == nil || len(link) == 0 || !strings.Contains(m.Text, "dora") {
		t.Fatalf("welcome mail without username, password or link:\n%s", m.Text)
	}

	// 7. The link leads to the organization's login page on its own
	// subdomain, where dora must change the password before anything else.
	// She opens it in a browser of her own.
	doraCtx, cancelDora := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelDora()
	doraCtx, cancelTimeout := context.WithTimeout(doraCtx, 20*time.Second)
	defer cancelTimeout()
	must(t, "open the link", chromedp.Do(doraCtx, chromedp.Navigate(link[len(link)-1])))
	must(t, "reach the login page", waitForPath(doraCtx, "/login"))
	loc, _ := chromedp.Run(doraCtx, chromedp.Location())
	if !strings.HasPrefix(loc, s.url("acme", "/login")) {
		t.Errorf("the link led to %s, want acme's login page", loc)
	}
	prefilled, err := chromedp.Run(doraCtx, chromedp.Value(chromedp.CSS(`input[autocomplete="username"]`)))
	must(t, "read the username", err)
	if prefilled != "dora" {
		t.Errorf("username field %q", prefilled)
	}
	newPw := chromedp.CSS(`input[autocomplete="new-password"][name="new_password"]`)
	must(t, "sign in with the temporary password", chromedp.Do(doraCtx,
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), temp[1]),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(newPw),
	))
	must(t, "choose a password", chromedp.Do(doraCtx,
		chromedp.SendKeys(newPw, newPassword),
		chromedp.SendKeys(chromedp.CSS(`input[name="confirm_password"]`), newPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
	))
	must(t, "finish the first sign-in", waitForPath(doraCtx, tenant.PathWelcome))
	u, err := s.svc.User(t.Context(), "acme", dora.Sub)
	must(t, "read dora", err)
	if u.Status != tenant.StatusConfirmed || u.LastSignInAt.IsZero() {
		t.Errorf("dora after her first sign-in: %s, last sign-in %s", u.Status, u.LastSignInAt)
	}

	// Back in the console, she is active with a last sign-in.
	must(t, "reload the profile", chromedp.Do(ctx, chromedp.Navigate(s.url("acme", "/admin/users/"+dora.Sub))))
	if got := text(t, ctx, "#status"); got != "Active" {
		t.Errorf("status after the first sign-in %q", got)
	}
}

// Edit, resend, disable, groups, clients, settings, the audit trail, the
// phone-wide list and the refusal at another tenant, in one browser.
func TestBrowserAdministration(t *testing.T) {
	browser := chrome(t)
	s := newStack(t)
	ivy := s.user(t, "acme", tenant.NewUser{Username: "ivy", Email: "ivy@acme.example"})
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 35*time.Second)
	defer cancel()
	must(t, "open the console", chromedp.Do(ctx, chromedp.Navigate(s.url("acme", "/admin/users/"+ivy.Sub))))
	signInBrowser(t, ctx, "boss", adminPassword)
	must(t, "back at the profile asked for", waitForPath(ctx, "/admin/users/"+ivy.Sub))

	// Edit: a custom attribute, a standard one and a group.
	must(t, "create a group first", chromedp.Do(ctx,
		chromedp.Navigate(s.url("acme", "/admin/groups")),
		chromedp.SendKeys(chromedp.ID("name"), "Sales"),
		chromedp.Click(chromedp.CSS(`form[action="/admin/groups"] button[type="submit"]`)),
	))
	must(t, "reach the group", waitForPath(ctx, "/admin/groups/Sales"))
	must(t, "open the edit form", chromedp.Do(ctx,
		chromedp.Navigate(s.url("acme", "/admin/users/"+ivy.Sub+"/edit")),
		chromedp.SendKeys(chromedp.CSS(`input[name="attr.family_name"]`), "Green"),
		chromedp.SendKeys(chromedp.ID("new_name"), "custom:team"),
		chromedp.SendKeys(chromedp.ID("new_value"), "north"),
		chromedp.Click(chromedp.CSS(`input[name="groups"][value="Sales"]`)),
		chromedp.Click(chromedp.ID("save")),
	))
	must(t, "saved", waitForPath(ctx, "/admin/users/"+ivy.Sub))
	if got := text(t, ctx, "#notice"); got != "Your changes have been saved." {
		t.Errorf("notice %q", got)
	}
	u, _ := s.svc.User(t.Context(), "acme", ivy.Sub)
	if u.Attributes["family_name"] != "Green" || u.Attributes["custom:team"] != "north" || len(u.Groups) != 1 {
		t.Errorf("ivy after the edit: %+v", u)
	}

	// Activate, resend, disable from the profile's actions.
	// Resend comes a minute after the activation: sooner, the service
	// takes it for the same invitation again.
	for _, step := range []struct {
		button, result, notice string
		later                  time.Duration
	}{
		{"activate", "activated", "welcome mail", 0},
		{"resend", "resent", "A new welcome mail", time.Minute},
		{"disable", "disabled", "The status is off", 0},
	} {
		s.later(step.later)
		must(t, step.button, chromedp.Do(ctx, chromedp.Click(chromedp.ID(step.button))))
		must(t, step.button+": back", waitForURL(ctx, s.url("acme", "/admin/users/"+ivy.Sub+"?notice="+step.result)))
		if got := text(t, ctx, "#notice"); !strings.Contains(got, step.notice) {
			t.Errorf("%s: notice %q", step.button, got)
		}
	}
	if n := waitCount(s, "ivy@acme.example", 2); n != 2 {
		t.Errorf("ivy received %d mails, want the welcome mail twice", n)
	}

	// Rename, describe and rank the group in its details, then add boss
	// as a member.
	must(t, "edit the group's details", chromedp.Do(ctx,
		chromedp.Navigate(s.url("acme", "/admin/groups/Sales")),
		chromedp.SetValue(chromedp.ID("name"), "Sales EMEA"),
		chromedp.SetValue(chromedp.ID("description"), "Sells to Europe and the Middle East"),
		chromedp.SetValue(chromedp.ID("precedence"), "2"),
		chromedp.Click(chromedp.CSS(`form[action$="/edit"] button`)),
	))
	must(t, "renamed", waitForPath(ctx, "/admin/groups/Sales%20EMEA"))
	if got := text(t, ctx, "main"); !strings.Contains(got, "Sells to Europe and the Middle East") || !strings.Contains(got, "Precedence: 2") {
		t.Errorf("the group's page after the edit:\n%s", got)
	}
	if g, err := s.svc.Group(t.Context(), "acme", "Sales EMEA"); err != nil || g.Description != "Sells to Europe and the Middle East" ||
		g.Precedence == nil || *g.Precedence != 2 {
		t.Errorf("the group after the edit: %+v (%v)", g, err)
	}
	must(t, "add a member", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("login"), "boss"),
		chromedp.Click(chromedp.CSS(`form[action$="/members"] button`)),
	))
	must(t, "boss is a member", uitest.WaitUntil(ctx, `document.querySelector("table.list tbody").textContent.includes("boss")`))
	if members := text(t, ctx, "table.list tbody"); !strings.Contains(members, "boss") || !strings.Contains(members, "ivy") {
		t.Errorf("members %q", members)
	}

	// Register a confidential client, see its secret once, edit its URIs.
	must(t, "register a client", chromedp.Do(ctx,
		chromedp.Navigate(s.url("acme", "/admin/clients/new")),
		chromedp.SendKeys(chromedp.ID("name"), "Shop"),
		chromedp.SendKeys(chromedp.ID("redirect_uris"), "https://shop.example/cb"),
		chromedp.Click(chromedp.CSS(`button.primary[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("secret")),
	))
	secret, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("secret")))
	must(t, "read the secret", err)
	if len(secret) < 40 {
		t.Errorf("secret %q", secret)
	}
	must(t, "edit the client", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a.button.primary`)),
		chromedp.WaitVisible(chromedp.ID("redirect_uris")),
		chromedp.SetValue(chromedp.ID("redirect_uris"), "https://shop.example/cb\nhttps://shop.example/cb2"),
		chromedp.SendKeys(chromedp.ID("logout_uris"), "https://shop.example/"),
		chromedp.Click(chromedp.ID("save-client")),
	))
	must(t, "client saved", uitest.WaitUntil(ctx, `location.search === "?notice=clientSaved"`))
	clients, _ := s.svc.Clients(t.Context(), "acme")
	for _, c := range clients {
		if c.Name == "Shop" && (len(c.RedirectURIs) != 2 || len(c.PostLogoutRedirectURIs) != 1 || c.SecretHash != tenant.HashSecret(secret)) {
			t.Errorf("shop %+v", c)
		}
	}

	// Settings: a colour the login pages and the console then wear, and
	// the renamed group, which boss joined, as the admin group.
	must(t, "open the settings", chromedp.Do(ctx,
		chromedp.Navigate(s.url("acme", "/admin/settings")),
		chromedp.WaitVisible(chromedp.CSS(`input.color-picker`)), // the script ran under the CSP
	))
	screenshot(t, ctx, "settings")
	must(t, "change the settings", chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("primary_color"), "#0a7d4f"),
		chromedp.SetValue(chromedp.ID("min_length"), "10"),
		chromedp.SetValue(chromedp.ID("admin_group"), "Sales EMEA"),
		chromedp.Click(chromedp.ID("save-settings")),
	))
	must(t, "settings saved", waitForURL(ctx, s.url("acme", "/admin/settings?notice=settings")))
	if tn, _ := s.svc.Tenant(t.Context(), "acme"); tn.Settings.AdminGroup != "Sales EMEA" {
		t.Errorf("admin group after the change: %q", tn.Settings.AdminGroup)
	}
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("button.primary")).backgroundColor`))
	must(t, "read the accent", err)
	if bg != "rgb(10, 125, 79)" {
		t.Errorf("the console's accent after the change: %s", bg)
	}

	// The audit trail lists what was done.
	must(t, "open the audit trail", chromedp.Do(ctx, chromedp.Navigate(s.url("acme", "/admin/audit"))))
	trail := text(t, ctx, "table.audit tbody")
	for _, want := range []string{"Settings changed", "Application registered", "Group renamed", "User disabled", "Signed in to the console"} {
		if !strings.Contains(trail, want) {
			t.Errorf("the audit trail lacks %q", want)
		}
	}
	screenshot(t, ctx, "audit")

	// At phone width the user list is cards, with nothing sticking out.
	must(t, "phone width", chromedp.Do(ctx,
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(s.url("acme", "/admin/users")),
		chromedp.WaitVisible(chromedp.CSS(`table.users`)),
	))
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	must(t, "measure the page", err)
	if overflow {
		t.Error("the user list is wider than a 360 px screen")
	}
	mustShowEverySection(t, ctx)
	screenshot(t, ctx, "users-phone")
	must(t, "desktop width", chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)))

	// The other tenant: nothing of acme's session counts there. Acme's
	// user's profile at globex's host asks for globex's sign-in, where
	// acme's administrator is nobody.
	must(t, "open globex", chromedp.Do(ctx, chromedp.Navigate(s.url("globex", "/admin/users/"+ivy.Sub))))
	must(t, "globex's login", waitForPath(ctx, "/login"))
	signInBrowser(t, ctx, "boss", adminPassword)
	must(t, "refused", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`))))
	if got := text(t, ctx, `[role="alert"]`); got != "Incorrect username or password." {
		t.Errorf("acme's administrator at globex: %q", got)
	}
}

// The import page in Dutch: a Cognito CSV chosen in the file field, the
// report of every line in the admin's language, and a created user's
// profile one click away.
func TestBrowserImportInDutch(t *testing.T) {
	browser := chrome(t)
	s := newStack(t)
	csv := filepath.Join(t.TempDir(), "users.csv")
	must(t, "write the file", os.WriteFile(csv, []byte(
		"cognito:username,email,email_verified,given_name,cognito:mfa_enabled\n"+
			"kim,kim@acme.example,TRUE,Kim,TRUE\n"+
			"bad user,x@acme.example,TRUE,X,FALSE\n"+
			"lou,lou@acme.example,TRUE\n"), 0o600))
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 35*time.Second)
	defer cancel()
	must(t, "ask for Dutch", chromedp.Do(ctx, chromedp.Func(askForDutch)))
	must(t, "open the import page", chromedp.Do(ctx, chromedp.Navigate(s.url("acme", "/admin/import"))))
	signInBrowser(t, ctx, "boss", adminPassword)
	must(t, "back at the import page", waitForPath(ctx, "/admin/import"))
	must(t, "import the file", chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{csv}),
		chromedp.Click(chromedp.ID("import-submit")),
		chromedp.WaitVisible(chromedp.ID("report")),
	))
	screenshot(t, ctx, "import-nl")
	mustHaveFocus(t, ctx, "report")
	if created, failed := text(t, ctx, "#count-created"), text(t, ctx, "#count-failed"); created != "1" || failed != "2" {
		t.Errorf("created %s, failed %s; want 1 and 2", created, failed)
	}
	report := text(t, ctx, "#report")
	for _, want := range []string{"Importverslag", "Aangemaakt", "Mislukt",
		"MFA stond aan in Cognito en moet opnieuw worden ingesteld",
		"de gebruikersnaam mag geen spaties bevatten",
		"de regel heeft 3 waarden, maar de kopregel heeft 5 kolommen"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	for _, english := range []string{"MFA was enabled", "may not contain spaces", "values but the header has", "Created", "Failed"} {
		if strings.Contains(report, english) {
			t.Errorf("the Dutch report says %q:\n%s", english, report)
		}
	}
	must(t, "open kim's profile", chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#report a[href^="/admin/users/"]`))))
	must(t, "kim's profile", uitest.WaitUntil(ctx, `location.pathname.startsWith("/admin/users/") && document.body.textContent.includes("kim@acme.example")`))
}

// askForDutch makes the browser ask for Dutch pages from then on, as a
// browser set to Dutch does.
func askForDutch(ctx context.Context, tg *chromedp.Target) error {
	if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
		return err
	}
	_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "nl-NL,nl;q=0.9"}})
	return err
}
