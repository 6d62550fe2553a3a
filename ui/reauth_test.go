package ui_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// The account page's changes that decide who can sign in need a recent
// sign-in (ui.RecentSignInWindow). These tests give a browser an SSO
// session signed in at a chosen time, as the store keeps it, instead of
// waiting for one to age.

// sessionSignedInAt starts an SSO session of sub at s's tenant as a
// sign-in at signedIn would have (still live: it expires an hour after)
// and returns the cookie value that carries it.
func sessionSignedInAt(t *testing.T, s *stack, sub string, signedIn time.Time) string {
	t.Helper()
	token := tenant.NewSessionToken()
	err := s.store.Update(t.Context(), func(tx tenant.Tx) error {
		return tenant.StartSession(tx, s.slug(), token, sub, []string{"pwd", "otp", "mfa"}, signedIn, signedIn, tenant.SessionTTL)
	})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// signedInAt gives b the SSO session of sub at s's tenant, signed in at
// signedIn.
func (b *browser) signedInAt(s *stack, sub string, signedIn time.Time) {
	b.t.Helper()
	u, err := url.Parse(s.tenantURL)
	if err != nil {
		b.t.Fatal(err)
	}
	b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "cognate_session", Value: sessionSignedInAt(b.t, s, sub, signedIn), Path: "/"}})
}

// sessionToken is the SSO session cookie b holds for s's tenant.
func sessionToken(t *testing.T, b *browser, s *stack) string {
	t.Helper()
	u, _ := url.Parse(s.tenantURL)
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == "cognate_session" {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// sessionLives reports whether the SSO session of token is in s's store,
// queued writes included.
func sessionLives(t *testing.T, s *stack, token string) bool {
	t.Helper()
	_, ok := storedSession(t, s, token)
	return ok
}

// sessionOf is the SSO session of token at s's tenant, as the store keeps
// it; there must be one.
func sessionOf(t *testing.T, s *stack, token string) tenant.Session {
	t.Helper()
	sess, ok := storedSession(t, s, token)
	if !ok {
		t.Fatal("no such session")
	}
	return sess
}

// storedSession reads the SSO session of token at s's tenant, once what
// waits in the store's queue is committed; ok is false for none.
func storedSession(t *testing.T, s *stack, token string) (sess tenant.Session, ok bool) {
	t.Helper()
	if err := s.store.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	err := s.store.View(t.Context(), func(tx tenant.Tx) (err error) {
		sess, err = tenant.SessionByToken(tx, s.slug(), token)
		return err
	})
	if err != nil && !errors.Is(err, tenant.ErrNotFound) {
		t.Fatal(err)
	}
	return sess, err == nil
}

// hasTOTP reports whether the user sub of s still has an authenticator app.
func hasTOTP(t *testing.T, s *stack, sub string) bool {
	t.Helper()
	u, err := s.svc.User(t.Context(), s.slug(), sub)
	if err != nil {
		t.Fatal(err)
	}
	return u.MFA.Has(tenant.FactorTOTP)
}

// TestAccountChangesNeedRecentSignIn: within the window a factor is
// removed at once; after it, the page still shows, the changes that decide
// who can sign in send the browser to sign in again (password and code,
// though the session lives), which returns to the page saying so, and the
// change then works. Renaming and the password change (which asks for the
// current password) do not ask for it.
func TestAccountChangesNeedRecentSignIn(t *testing.T) {
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	s := ms.acme
	signInAgainURL := s.tenantURL + "/login?authRequestID=account-again"

	t.Run("recent", func(t *testing.T) {
		bob := s.addUserAt(t, "bob")
		ms.enrolTOTP(t, s, bob.Sub)
		b := newBrowser(t)
		b.signedInAt(s, bob.Sub, time.Now().Add(-ui.RecentSignInWindow+time.Minute))
		account := b.Get(s.tenantURL + "/account")
		removed := b.postForm(account, "/account/mfa/remove", map[string]string{"factor": tenant.TOTPFactorID})
		if removed.Status != http.StatusSeeOther || removed.Location != s.tenantURL+"/account?done=removed" {
			t.Fatalf("remove within the window: %d to %q:\n%s", removed.Status, removed.Location, removed.Body)
		}
		uitest.MustContain(t, b.Follow(removed), "Removed.")
		if hasTOTP(t, s, bob.Sub) {
			t.Error("bob's app is still there")
		}
	})

	ann := s.addUserAt(t, "ann")
	secret := ms.enrolTOTP(t, s, ann.Sub)
	b := newBrowser(t)
	b.signedInAt(s, ann.Sub, time.Now().Add(-ui.RecentSignInWindow-time.Minute))

	account := b.Get(s.tenantURL + "/account")
	if account.Status != http.StatusOK {
		t.Fatalf("the page with an older session: status %d, want 200 (to %q)", account.Status, account.Location)
	}
	uitest.MustContain(t, account, "Your account", "Signed in as ann", "Phone")

	for _, change := range []struct {
		path   string
		values map[string]string
	}{
		{"/account/mfa/remove", map[string]string{"factor": tenant.TOTPFactorID}},
		{"/account/mfa/add", map[string]string{"kind": "WEB_AUTHN"}},
		{"/account/mfa/setup", map[string]string{"session": "any", "code": "123456"}},
		{"/account/recovery-codes", nil},
	} {
		if p := b.postForm(account, change.path, change.values); p.Status != http.StatusSeeOther || p.Location != signInAgainURL {
			t.Errorf("%s with an older session: %d to %q, want the sign-in again:\n%s", change.path, p.Status, p.Location, p.Body)
		}
	}
	if !hasTOTP(t, s, ann.Sub) {
		t.Fatal("the app was removed without a recent sign-in")
	}
	renamed := b.postForm(account, "/account/mfa/rename", map[string]string{"factor": tenant.TOTPFactorID, "name": "Old phone"})
	if renamed.Status != http.StatusSeeOther || renamed.Location != s.tenantURL+"/account?done=renamed" {
		t.Errorf("rename with an older session: %d to %q", renamed.Status, renamed.Location)
	}
	wrong := b.postForm(account, "/account/password", map[string]string{
		"current_password": "Wrong-Pass-1!", "new_password": "Brand-New-Pass1!", "confirm_password": "Brand-New-Pass1!"})
	if wrong.Status != http.StatusUnprocessableEntity {
		t.Errorf("password change with an older session: %d to %q, want the form's own refusal", wrong.Status, wrong.Location)
	}

	// In Dutch, the same reason.
	nl := newBrowser(t)
	nl.Header.Set("Accept-Language", "nl")
	nl.signedInAt(s, ann.Sub, time.Now().Add(-time.Hour+time.Minute))
	uitest.MustContain(t, nl.Get(signInAgainURL), "moet u in de afgelopen 10 minuten zijn ingelogd")
	uitest.MustContain(t, nl.Get(s.tenantURL+"/account?done=signedin"), "U bent opnieuw ingelogd. U kunt de wijziging nu doen.")

	// The sign-in asks for the password and the code though the session
	// lives, and says why.
	before := sessionToken(t, b, s)
	login := b.Get(signInAgainURL)
	if login.Status != http.StatusOK {
		t.Fatalf("sign in again: status %d to %q, want the login form", login.Status, login.Location)
	}
	uitest.MustContain(t, login, `id="sign-in-again"`, "needs a sign-in from the last 10 minutes", `name="password"`)
	challenge := b.submit(login, map[string]string{"login": "ann", "password": goodPassword})
	uitest.MustContain(t, challenge, `name="code"`)
	signedIn := b.submit(challenge, map[string]string{"code": oathtool(t, secret, time.Now().Add(30*time.Second))})
	if signedIn.Status != http.StatusSeeOther || signedIn.Location != s.tenantURL+"/account?done=signedin" {
		t.Fatalf("after the code: %d to %q:\n%s", signedIn.Status, signedIn.Location, signedIn.Body)
	}
	account = b.Follow(signedIn)
	uitest.MustContain(t, account, "You signed in again. You can now make your change.", "Old phone")
	// The new session replaced the old one, which whoever else holds its
	// cookie can no longer use.
	if after := sessionToken(t, b, s); after == before || !sessionLives(t, s, after) {
		t.Error("the sign-in again gave no new session")
	}
	if sessionLives(t, s, before) {
		t.Error("the session from before the sign-in again still lives")
	}

	removed := b.postForm(account, "/account/mfa/remove", map[string]string{"factor": tenant.TOTPFactorID})
	if removed.Status != http.StatusSeeOther || removed.Location != s.tenantURL+"/account?done=removed" {
		t.Fatalf("remove after signing in again: %d to %q:\n%s", removed.Status, removed.Location, removed.Body)
	}
	if hasTOTP(t, s, ann.Sub) {
		t.Error("ann's app is still there")
	}
	// A sign-in again with a recent session answers at once.
	if p := b.Get(signInAgainURL); p.Status != http.StatusFound || p.Location != s.tenantURL+"/account?done=signedin" {
		t.Errorf("sign in again with a recent session: %d to %q", p.Status, p.Location)
	}
}

// TestBrowserSignInAgain is what a person sees: an hour-old tab of the
// account page, Remove on the app, the sign-in saying why, password and
// code, back on the page saying so, and Remove again.
func TestBrowserSignInAgain(t *testing.T) {
	browser := chrome(t)
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	s := ms.acme
	ann := s.addUserAt(t, "ann")
	secret := ms.enrolTOTP(t, s, ann.Sub)
	token := sessionSignedInAt(t, s, ann.Sub, time.Now().Add(-ui.RecentSignInWindow-time.Minute))
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 40*time.Second)
	defer cancel()

	must(t, "give the browser the session", chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		httpOnly := true
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "cognate_session", Value: token,
			URL: s.tenantURL + "/", Path: "/", HTTPOnly: &httpOnly})
		return err
	})))

	factor := "#factor-" + tenant.TOTPFactorID
	remove := chromedp.Steps(
		chromedp.Click(chromedp.CSS(factor+" summary")),
		chromedp.Click(chromedp.CSS(factor+` form[action="/account/mfa/remove"] button`)),
	)
	must(t, "open the account page and remove the app", chromedp.Do(ctx,
		chromedp.Navigate(s.tenantURL+"/account"),
		chromedp.WaitVisible(chromedp.CSS(factor)),
		remove,
		chromedp.WaitVisible(chromedp.ID("sign-in-again")),
	))
	reason, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("sign-in-again")))
	must(t, "read why", err)
	if !strings.Contains(reason, "needs a sign-in from the last 10 minutes") {
		t.Errorf("the sign-in says %q", reason)
	}

	username := chromedp.CSS(`input[autocomplete="username"]`)
	must(t, "sign in again", chromedp.Do(ctx,
		chromedp.SendKeys(username, "ann"),
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), oathtool(t, secret, time.Now().Add(30*time.Second))),
		chromedp.Click(chromedp.CSS(`form[action="/login/mfa/code"] button[type="submit"]`)),
	))
	must(t, "back on the account page", waitForURL(ctx, s.tenantURL+"/account?done=signedin"))
	notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[role="status"]`)))
	must(t, "read the notice", err)
	if notice != "You signed in again. You can now make your change." {
		t.Errorf("the page says %q", notice)
	}

	must(t, "remove the app again", chromedp.Do(ctx, remove))
	must(t, "removed", waitForURL(ctx, s.tenantURL+"/account?done=removed"))
	if hasTOTP(t, s, ann.Sub) {
		t.Error("ann's app is still there")
	}
}
