package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The logout confirmation in a real browser, against the attack it is for:
// another site's link to /logout, which the browser follows with the
// session cookie (SameSite=Lax lets it go along on a top-level GET), no
// longer signs the person out but asks; that site's form posting to the
// confirmation does not sign them out either; the person's own click does,
// and the signed-out page follows.
func TestBrowserLogoutConfirmation(t *testing.T) {
	browser := chrome(t)
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()

	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Win a prize</title>
<p><a id="link" href="%[1]s/logout">Claim your prize</a></p>
<form method="post" action="%[1]s/logout/confirm"><input type="hidden" name="csrf_token" value="%[2]s"><button id="post">Claim</button></form>`,
			s.tenantURL, strings.Repeat("A", 26))
	}))
	t.Cleanup(evil.Close)

	username := chromedp.CSS(`input[autocomplete="username"]`)
	must(t, "sign in at the relying party", chromedp.Do(ctx,
		chromedp.Navigate(s.rpURL+"/start"),
		chromedp.WaitVisible(username),
		chromedp.SendKeys(username, "ann"),
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), goodPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("claims")),
	))
	// signedIn reports whether a sign-in at the relying party goes through
	// on the SSO session, without the login page.
	signedIn := func(t *testing.T) bool {
		t.Helper()
		must(t, "start a sign-in", chromedp.Do(ctx, chromedp.Navigate(s.rpURL+"/start")))
		loc, err := chromedp.Run(ctx, chromedp.Location())
		must(t, "read the location", err)
		return strings.HasPrefix(loc, s.rpURL+"/callback?")
	}
	heading := func(t *testing.T) string {
		t.Helper()
		h, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
		must(t, "read the heading", err)
		return h
	}

	// Another site's link: the confirmation page, on the tenant's host.
	must(t, "follow the other site's link", chromedp.Do(ctx,
		chromedp.Navigate(evil.URL),
		chromedp.Click(chromedp.ID("link")),
	))
	if err := waitForURL(ctx, s.tenantURL+"/logout/confirm"); err != nil {
		t.Fatal(err)
	}
	must(t, "wait for the page", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`button[type="submit"]`))))
	screenshot(t, ctx, "logout-confirm.png")
	if h := heading(t); h != "Sign out of Acme BV?" {
		t.Errorf("heading %q", h)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	must(t, "read the page", err)
	if !strings.Contains(text, "You are signed in as ann.") {
		t.Errorf("page %q does not say who is signed in", text)
	}
	wantStyled(t, ctx)
	if !signedIn(t) {
		t.Fatal("another site's link to /logout signed the person out")
	}

	// Another site's form, posting to the confirmation.
	must(t, "post the other site's form", chromedp.Do(ctx,
		chromedp.Navigate(evil.URL),
		chromedp.Click(chromedp.ID("post")),
	))
	if err := waitForURL(ctx, s.tenantURL+"/logout/confirm"); err != nil {
		t.Fatal(err)
	}
	must(t, "wait for the page", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("h1"))))
	text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	must(t, "read the page", err)
	if !strings.Contains(text, "sent from another site") {
		t.Errorf("page %q, want the refusal of a form from another site", text)
	}
	if !signedIn(t) {
		t.Fatal("another site's form signed the person out")
	}

	// The person's own click.
	must(t, "confirm", chromedp.Do(ctx,
		chromedp.Navigate(s.tenantURL+"/logout"),
		chromedp.WaitVisible(chromedp.CSS(`button[type="submit"]`)),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
	))
	if err := waitForURL(ctx, s.tenantURL+"/logged-out"); err != nil {
		t.Fatal(err)
	}
	if h := heading(t); h != "You are signed out" {
		t.Errorf("heading %q, want the signed-out page", h)
	}
	must(t, "start a sign-in", chromedp.Do(ctx, chromedp.Navigate(s.rpURL+"/start"), chromedp.WaitVisible(username)))

	// The account page's own button signs out at once: its form is the
	// confirmation.
	must(t, "sign in again and sign out on the account page", chromedp.Do(ctx,
		chromedp.SendKeys(username, "ann"),
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), goodPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("claims")),
		chromedp.Navigate(s.tenantURL+"/account"),
		chromedp.Click(chromedp.ID("sign-out")),
	))
	if err := waitForURL(ctx, s.tenantURL+"/logged-out"); err != nil {
		t.Fatal(err)
	}
	if signedIn(t) {
		t.Error("still signed in after the account page's sign-out")
	}
}
