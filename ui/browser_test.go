package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cognate-idp/cognate/ui/uitest"
)

// The browser tests drive the pages in headless Chromium: the script and
// styles must load under the CSP, cookies must flow across the relying
// party's and the tenant's hosts as a real browser sends them, and
// password fields must be found by their autocomplete values.

// chrome starts headless Chromium for t (see uitest.Chrome).
func chrome(t *testing.T) context.Context { return uitest.Chrome(t, 1100, 820) }

// consoleLog collects the page's console and browser log (where CSP
// violations are reported).
type consoleLog struct {
	mu   sync.Mutex
	msgs []string
}

// watchConsole collects the tab's console; at the end of t, any CSP
// violation in it fails t (also when t stopped early, which then says why).
func watchConsole(t *testing.T, ctx context.Context) {
	l := &consoleLog{}
	t.Cleanup(func() { l.check(t) })
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, m.String())
			l.mu.Unlock()
		}
	}()
}

func (l *consoleLog) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") {
			t.Errorf("browser console: %s", m)
		}
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("COGNATE_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitForURL waits until the tab shows url, loaded.
func waitForURL(ctx context.Context, url string) error {
	return uitest.WaitUntil(ctx, fmt.Sprintf("location.href === %q", url))
}

func TestBrowserSignIn(t *testing.T) {
	browser := chrome(t) // first: without a browser, skip before building anything
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", tempPassword, true)
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 40*time.Second)
	defer cancel()

	// The relying party sends the browser to Cognate's login page.
	username := chromedp.CSS(`input[autocomplete="username"]`)
	must(t, "open the relying party", chromedp.Do(ctx,
		chromedp.Navigate(s.rpURL+"/start"),
		chromedp.WaitVisible(username),
		// app.js ran under the CSP: it un-hides the show-password button.
		chromedp.WaitVisible(chromedp.CSS(`button.reveal`)),
	))
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	must(t, "read the heading", err)
	if heading != "Sign in to Acme BV" {
		t.Errorf("heading %q", heading)
	}
	// Both stylesheets loaded under the CSP: the button wears the accent.
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("button.primary")).backgroundColor`))
	must(t, "read the button colour", err)
	if bg != "rgb(37, 87, 214)" {
		t.Errorf("submit button background %q, want the accent rgb(37, 87, 214)", bg)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute("autocomplete")`))
	must(t, "read the focus", err)
	if focused != "username" {
		t.Errorf("focus is on %q, want the username field", focused)
	}
	screenshot(t, ctx, "login.png")

	// Temporary password, then the new-password page.
	newPassword := chromedp.CSS(`input[autocomplete="new-password"][name="new_password"]`)
	must(t, "type the temporary password", chromedp.Do(ctx,
		chromedp.SendKeys(username, "ann"),
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), tempPassword),
		chromedp.Click(chromedp.CSS(`button.reveal`)),
	))
	revealed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("password").type + "/" + document.querySelector("button.reveal").textContent`))
	must(t, "read the password field", err)
	if revealed != "text/Hide password" {
		t.Errorf("after show password: %q", revealed)
	}
	must(t, "sign in with the temporary password", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(newPassword),
	))
	must(t, "choose a new password", chromedp.Do(ctx,
		chromedp.SendKeys(newPassword, goodPassword),
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="new-password"][name="confirm_password"]`), goodPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("claims")),
	))
	first := browserClaims(t, ctx)
	if first["cognito:username"] != "ann" || first["email"] != "ann@example.com" || first["token_use"] != "id" {
		t.Errorf("claims: %v", first)
	}
	if amr, _ := first["amr"].([]any); !slices.Contains(amr, any("pwd")) {
		t.Errorf("amr = %v, want pwd", first["amr"])
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	must(t, "read the location", err)
	if !strings.HasPrefix(loc, s.rpURL+"/callback?") {
		t.Errorf("landed at %s, want the relying party's callback", loc)
	}

	// A second sign-in goes through silently on the SSO session.
	must(t, "start again", chromedp.Do(ctx, chromedp.Navigate(s.rpURL+"/start")))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	must(t, "read the location", err)
	if !strings.HasPrefix(loc, s.rpURL+"/callback?") {
		t.Fatalf("second sign-in stopped at %s, want the callback through the SSO session", loc)
	}
	must(t, "wait for the claims", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("claims"))))
	again := browserClaims(t, ctx)
	if again["sub"] != first["sub"] || again["auth_time"] != first["auth_time"] {
		t.Errorf("SSO: sub %v auth_time %v, want %v %v", again["sub"], again["auth_time"], first["sub"], first["auth_time"])
	}
}

func browserClaims(t *testing.T, ctx context.Context) map[string]any {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("claims")))
	must(t, "read the claims", err)
	var claims map[string]any
	must(t, "parse the claims", json.Unmarshal([]byte(text), &claims))
	return claims
}

func TestBrowserFindOrganization(t *testing.T) {
	browser := chrome(t)
	s := newStack(t, stackOptions{})
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 30*time.Second)
	defer cancel()

	field := chromedp.CSS(`input#organization`)
	must(t, "open the apex", chromedp.Do(ctx, chromedp.Navigate(s.base+"/"), chromedp.WaitVisible(field)))
	screenshot(t, ctx, "find-organization.png")

	// An unknown name: the same page, the message, the field kept.
	must(t, "look up an unknown name", chromedp.Do(ctx,
		chromedp.SendKeys(field, "Globex"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`)),
	))
	alert, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[role="alert"]`)))
	must(t, "read the alert", err)
	if !strings.Contains(alert, "“Globex”") {
		t.Errorf("alert %q", alert)
	}

	// On a phone-wide screen nothing sticks out sideways.
	must(t, "narrow the viewport", chromedp.Do(ctx, chromedp.EmulateViewport(360, 740)))
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	must(t, "measure the page", err)
	if overflow {
		t.Error("the page is wider than a 360 px screen")
	}

	must(t, "look up Acme BV", chromedp.Do(ctx,
		chromedp.Clear(field),
		chromedp.SendKeys(field, "Acme BV"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
	))
	if err := waitForURL(ctx, s.tenantURL+"/"); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("want the tenant's start page, at %s: %v", loc, err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	must(t, "read the heading", err)
	if heading != "Acme BV" {
		t.Errorf("heading %q, want Acme BV", heading)
	}
}

// The error pages a person may meet outside a sign-in are the
// organization's own, styled, in words a person can act on:
//   - an organization this server cannot open the signing key of (see
//     TestOrganizationThatCannotBeServed), which says to come back rather
//     than that the organization does not exist;
//   - a sign-in link the application got wrong (here a redirect URI the
//     client did not register), instead of a line of the library's plain
//     text, and the browser is never sent to the unregistered address;
//   - the same for a sign-out link, instead of OAuth's JSON error.
func TestBrowserErrorPages(t *testing.T) {
	browser := chrome(t)
	s := newStack(t, stackOptions{})
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 30*time.Second)
	defer cancel()

	s.addUnservableTenant(t, "globex")
	must(t, "open globex", chromedp.Do(ctx,
		chromedp.Navigate(strings.Replace(s.tenantURL, "acme.", "globex.", 1)+"/"),
		chromedp.WaitVisible(chromedp.CSS("h1"))))
	screenshot(t, ctx, "organization-unavailable.png")
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	must(t, "read the page", err)
	if !strings.Contains(text, "Temporarily unavailable") || !strings.Contains(text, "not possible right now") || strings.Contains(text, "no organization") {
		t.Errorf("page text %q", text)
	}
	wantStyled(t, ctx)

	q := url.Values{
		"client_id": {s.clientID}, "redirect_uri": {"https://elsewhere.example/callback"},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
		"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"},
	}
	wantRefusalPage(t, ctx, s.tenantURL+"/oauth2/authorize?"+q.Encode(), "sign-in-link-refused.png",
		"This sign-in link does not work here", "tell the application's administrator")
	wantRefusalPage(t, ctx, s.tenantURL+"/logout?"+url.Values{"client_id": {s.clientID}, "logout_uri": {"https://elsewhere.example/bye"}}.Encode(),
		"sign-out-link-refused.png", "This sign-out link does not work here", "you have not been signed out")
}

// wantRefusalPage opens link and checks that the browser stays there, on a
// styled page with heading and a text that says phrase.
func wantRefusalPage(t *testing.T, ctx context.Context, link, screenshotName, heading, phrase string) {
	t.Helper()
	must(t, "open "+link, chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("h1"))))
	screenshot(t, ctx, screenshotName)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	must(t, "read the location", err)
	if loc != link {
		t.Errorf("the browser went on from %s to %s", link, loc)
	}
	gotHeading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	must(t, "read the heading", err)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	must(t, "read the page", err)
	if gotHeading != heading || !strings.Contains(text, phrase) {
		t.Errorf("at %s: heading %q, page %q; want %q and %q", link, gotHeading, text, heading, phrase)
	}
	wantStyled(t, ctx)
}

// wantStyled checks that the page in ctx loaded its stylesheet: an error
// page that a fault left unstyled would still read right.
func wantStyled(t *testing.T, ctx context.Context) {
	t.Helper()
	styled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.styleSheets.length > 0 && document.styleSheets[0].cssRules.length > 0`))
	must(t, "look for the stylesheet", err)
	if !styled {
		t.Error("the page has no stylesheet")
	}
}
