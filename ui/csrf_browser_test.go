package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// fromTheApplication opens the relying party's page and follows its sign-in
// link to the tenant's login page: a navigation that starts on another site,
// as every sign-in an application starts, and every link in a mail, does.
// query is added to the link (prompt=login, say).
func fromTheApplication(s *stack, query string) chromedp.Action[chromedp.Void] {
	start := chromedp.Click(chromedp.ID("start"))
	if query != "" {
		// A script of the application's page navigates, so the navigation
		// still starts on the application's site.
		start = chromedp.Steps(chromedp.WaitVisible(chromedp.ID("start")),
			chromedp.Evaluate[chromedp.Void](`location.href = "/start?`+query+`"`))
	}
	return chromedp.Steps(
		chromedp.Navigate(s.rpURL+"/"),
		start,
		chromedp.WaitVisible(chromedp.CSS(`input[autocomplete="current-password"]`)),
	)
}

// signInHere fills the login form in the tab and sends it.
func signInHere(login string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="username"]`), login),
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
	)
}

// Two sign-ins at once, each started by an application in a tab of its own,
// both go through: the second does not make the first tab's form stale
// (the form token's cookie is sent on a navigation from another site, so
// the second page keeps the token rather than replacing it). Nor does a
// sign-in started from an application make an open account page's forms
// stale.
func TestBrowserTwoSignInsAtOnce(t *testing.T) {
	browser := chrome(t)
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)
	s.addUser(t, "bob", goodPassword, false)

	t.Run("two applications", func(t *testing.T) {
		ctx, ctx2 := twoTabs(t, browser)

		must(t, "open the first tab's sign-in", chromedp.Do(ctx, fromTheApplication(s, "")))
		must(t, "open the second tab's sign-in", chromedp.Do(ctx2, fromTheApplication(s, "")))
		must(t, "sign in in the first tab", chromedp.Do(ctx, signInHere("ann")))
		// The example application keeps one sign-in's state per browser,
		// the second tab's now, so it does not take this tab's code; that
		// Cognate sent the tab there with a code is what counts.
		wantCodeAt(t, ctx, s.rpURL+"/callback?")
		must(t, "sign in in the second tab", chromedp.Do(ctx2, signInHere("ann")))
		wantClaimsOf(t, ctx2, "ann")
	})

	t.Run("account page and an application", func(t *testing.T) {
		ctx, ctx2 := twoTabs(t, browser)

		must(t, "sign in at the account page", chromedp.Do(ctx,
			forgetSessions,
			chromedp.Navigate(s.tenantURL+"/account"),
			signInHere("bob"),
			chromedp.WaitVisible(chromedp.ID("current-password")),
		))
		must(t, "open a sign-in from the application", chromedp.Do(ctx2, fromTheApplication(s, "prompt=login")))
		must(t, "change the password in the first tab", chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("current-password"), goodPassword),
			chromedp.SendKeys(chromedp.ID("new-password"), "New-Horse-10!"),
			chromedp.SendKeys(chromedp.ID("confirm-password"), "New-Horse-10!"),
			chromedp.Click(chromedp.CSS(`form[action="/account/password"] button[type="submit"]`)),
		))
		if err := waitForURL(ctx, s.tenantURL+"/account?done=password"); err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			t.Fatalf("%v; the page says %q", err, text)
		}
	})
}

// wantClaimsOf waits for the relying party's page in the tab and checks
// that it signed login in.
func wantClaimsOf(t *testing.T, ctx context.Context, login string) {
	t.Helper()
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(wait, chromedp.WaitVisible(chromedp.ID("claims"))); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("no claims: %v; the page says %q", err, strings.TrimSpace(text))
	}
	if claims := browserClaims(t, ctx); claims["cognito:username"] != login {
		t.Errorf("claims %v, want %s's", claims, login)
	}
}

// twoTabs opens two new tabs of browser, which share its cookies, each
// with a time limit for the test's actions.
func twoTabs(t *testing.T, browser context.Context) (context.Context, context.Context) {
	t.Helper()
	var tabs [2]context.Context
	for i := range tabs {
		tab, cancel := chromedp.NewContext(browser)
		t.Cleanup(cancel)
		// The first action opens the tab, without a deadline (see chromedp.Run).
		must(t, "open a tab", chromedp.Do(tab))
		watchConsole(t, tab)
		ctx, cancelT := context.WithTimeout(tab, 40*time.Second)
		t.Cleanup(cancelT)
		tabs[i] = ctx
	}
	return tabs[0], tabs[1]
}

// wantCodeAt waits until the tab reaches callback with an authorization code.
func wantCodeAt(t *testing.T, ctx context.Context, callback string) {
	t.Helper()
	var loc string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var err error
		if loc, err = chromedp.Run(ctx, chromedp.Location()); err == nil && strings.HasPrefix(loc, callback) && strings.Contains(loc, "code=") {
			return
		}
	}
	text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	t.Fatalf("the tab is at %s, not at %s with a code; the page says %q", loc, callback, strings.TrimSpace(text))
}
