package ui_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/cognate-idp/cognate/provider"
)

// An application that links to Cognito's hosted UI, /login with its
// authorization request, gets its code in a real browser: the link leads to
// the login page, and signing in there returns to the application.
func TestBrowserCognitoLoginLink(t *testing.T) {
	browser := chrome(t)
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 40*time.Second)
	defer cancel()

	// The relying party's authorization request as a /login link, and the
	// cookie with which the relying party expects this browser back.
	b := newBrowser(t)
	start := b.Get(s.rpURL + "/start")
	link, err := url.Parse(start.Location)
	if err != nil || link.Path != provider.PathAuthorize {
		t.Fatalf("the relying party started at %q, want its authorization request", start.Location)
	}
	link.Path = "/login"
	rp, _ := url.Parse(s.rpURL)
	withRPState := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, c := range b.Client.Jar.Cookies(rp) {
			if _, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: s.rpURL + "/"}); err != nil {
				return err
			}
		}
		return nil
	})

	username := chromedp.CSS(`input[autocomplete="username"]`)
	must(t, "open the hosted-UI link", chromedp.Do(ctx, withRPState, chromedp.Navigate(link.String()), chromedp.WaitVisible(username)))
	must(t, "sign in", chromedp.Do(ctx,
		chromedp.SendKeys(username, "ann"),
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), goodPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("claims")),
	))
	if claims := browserClaims(t, ctx); claims["cognito:username"] != "ann" {
		t.Errorf("the application signed in %v, want ann", claims["cognito:username"])
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	must(t, "read the location", err)
	if !strings.HasPrefix(loc, s.rpURL+"/callback?") {
		t.Errorf("landed at %s, want the application's callback", loc)
	}
}
