package ui_test

import (
	"context"
	"html"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// setMFA changes the MFA policy of s's tenant, as an administrator does.
func setMFA(t *testing.T, s *stack, policy tenant.MFAPolicy) {
	t.Helper()
	if _, err := s.svc.UpdateTenant(t.Context(), s.slug(), tenant.TenantChange{Settings: tenant.SettingsChange{MFA: &policy}}); err != nil {
		t.Fatal(err)
	}
}

// An SSO session whose sign-in proved no second factor stops counting once
// the organization's MFA policy asks its user for one: the next sign-in of
// any application, and the account page, ask for a full sign-in again
// (password, then the second factor or its set-up), saying why; with
// prompt=none the application gets login_required. A session that proved
// a second factor, or whose user the policy still asks for none, goes on.
func TestSessionWithoutNowRequiredFactor(t *testing.T) {
	requireOathtool(t)
	var (
		off      = tenant.MFAPolicy{Mode: tenant.MFAOff}
		optional = tenant.MFAPolicy{Mode: tenant.MFAOptional}
		required = tenant.MFAPolicy{Mode: tenant.MFARequired}
		keysOnly = tenant.MFAPolicy{Mode: tenant.MFAOptional, Factors: []string{tenant.FactorWebAuthn}}
	)
	const nowDue = "Signing in now needs a second step after your password. Sign in again to continue."
	tests := []struct {
		name string
		// before is the policy at sign-in, after the one it becomes.
		before, after tenant.MFAPolicy
		app           bool // the user has an authenticator app
		reenrol       bool // imported from Cognito with MFA: must enrol again
		withCode      bool // the sign-in proved the app's code
		// stepUp: the session no longer counts; next is then the page
		// that follows the password (a challenge, or a set-up).
		stepUp bool
		next   string
	}{
		{"off, then required", off, required, false, false, false, true, "Set up two-step verification"},
		{"off, then optional, with an app", off, optional, true, false, false, true, "Two-step verification"},
		{"app not counted, then counted", keysOnly, optional, true, false, false, true, "Two-step verification"},
		{"off, then optional, imported with MFA", off, optional, false, true, false, true, "Set up two-step verification"},
		{"with the code, then required", optional, required, true, false, true, false, ""},
		{"optional without a factor, then unchanged", optional, optional, false, false, false, false, ""},
		{"off, then app not counted", off, keysOnly, true, false, false, false, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := newMFAStack(t, optional)
			s := ms.acme
			login := "user" + string(rune('a'+i))
			u := s.addUserAt(t, login)
			var secret string
			if tt.app {
				secret = ms.enrolTOTP(t, s, u.Sub)
			}
			if tt.reenrol {
				yes := "true"
				if _, err := s.svc.UpdateUser(t.Context(), "acme", u.Sub, tenant.UserChange{
					Attributes: map[string]*string{tenant.AttrMFAReenroll: &yes}}); err != nil {
					t.Fatal(err)
				}
			}
			setMFA(t, s, tt.before)
			b := newBrowser(t)
			p := b.submit(s.startLogin(t, b), map[string]string{"login": login, "password": goodPassword})
			if tt.withCode {
				p = b.submit(p, map[string]string{"code": oathtool(t, secret, time.Now().Add(30*time.Second))})
			}
			amr, _ := rpClaims(t, b.Follow(p))["amr"].([]any)
			if got := slices.Contains(amr, any("mfa")); got != tt.withCode {
				t.Fatalf("amr %v at the first sign-in", amr)
			}

			setMFA(t, s, tt.after)
			again := b.Follow(b.Get(s.rpURL + "/start"))
			if !tt.stepUp {
				rpClaims(t, again) // signed in at once
				uitest.MustContain(t, b.Follow(b.Get(s.tenantURL+"/account")), "Signed in as "+login)
				return
			}
			if again.Status != http.StatusOK || again.URL.Path != "/login" {
				t.Fatalf("want the sign-in page again, got %d at %s:\n%s", again.Status, again.URL, again.Body)
			}
			uitest.MustContain(t, again, nowDue, `name="password"`)
			// Without interaction, the application hears that a sign-in
			// is needed.
			if none := b.Follow(b.Get(s.rpURL + "/start?prompt=none")); !strings.Contains(none.Body, "login_required") {
				t.Errorf("prompt=none: %d %s", none.Status, none.Body)
			}
			// The account page too asks for the sign-in.
			account := b.Follow(b.Get(s.tenantURL + "/account"))
			if account.URL.Path != "/login" {
				t.Errorf("the account page: %d at %s", account.Status, account.URL)
			}
			uitest.MustContain(t, account, nowDue)
			// The sign-in asks for what anyone signing in now is asked.
			next := b.submit(again, map[string]string{"login": login, "password": goodPassword})
			uitest.MustContain(t, next, tt.next)
		})
	}
	// In Dutch too.
	ms := newMFAStack(t, off)
	s := ms.acme
	s.addUserAt(t, "nl")
	b := newBrowser(t)
	rpClaims(t, b.Follow(b.submit(s.startLogin(t, b), map[string]string{"login": "nl", "password": goodPassword})))
	setMFA(t, s, required)
	loginPage := b.Follow(b.Get(s.rpURL + "/start"))
	uitest.MustContain(t, b.Get(loginPage.URL.String(), "Accept-Language", "nl"), "Inloggen vraagt nu om een tweede stap na uw wachtwoord. Log opnieuw in om verder te gaan.")
}

// A factor of a kind the organization no longer counts (an authenticator
// app where only security keys and passkeys are accepted) is marked on the
// account page as not used, in English and Dutch; the others are not.
func TestAccountMarksFactorsNotCounted(t *testing.T) {
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	s := ms.acme
	u := s.addUserAt(t, "ann")
	ms.enrolTOTP(t, s, u.Sub)
	const (
		en = "Not used: your organization's current settings do not accept this kind of second step."
		nl = "Niet in gebruik: de huidige instellingen van uw organisatie accepteren dit soort tweede stap niet."
	)
	tests := []struct {
		name    string
		factors []string
		lang    string
		want    string // "" for no mark
	}{
		{"app counted", []string{tenant.FactorTOTP, tenant.FactorWebAuthn}, "en", ""},
		{"app not counted", []string{tenant.FactorWebAuthn}, "en", en},
		{"app not counted, in Dutch", []string{tenant.FactorWebAuthn}, "nl", nl},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setMFA(t, s, tenant.MFAPolicy{Mode: tenant.MFAOptional, Factors: tt.factors})
			b := newBrowser(t)
			b.signedInAt(s, u.Sub, time.Now())
			p := b.Get(s.tenantURL+"/account", "Accept-Language", tt.lang)
			if p.Status != http.StatusOK {
				t.Fatalf("status %d:\n%s", p.Status, p.Body)
			}
			factor := factorItem(t, p, tenant.TOTPFactorID)
			if tt.want == "" {
				for _, mark := range []string{html.EscapeString(en), html.EscapeString(nl), `class="unused"`} {
					if strings.Contains(factor, mark) {
						t.Errorf("the app is marked %q:\n%s", mark, factor)
					}
				}
				return
			}
			if !strings.Contains(factor, html.EscapeString(tt.want)) {
				t.Errorf("the app is not marked %q:\n%s", tt.want, factor)
			}
		})
	}
}

// factorItem is the account page's list item of the factor id.
func factorItem(t *testing.T, p page, id string) string {
	t.Helper()
	_, rest, ok := strings.Cut(p.Body, `<li class="factor" id="factor-`+id+`">`)
	if !ok {
		t.Fatalf("no factor %s on the page:\n%s", id, p.Body)
	}
	item, _, _ := strings.Cut(rest, "</li>")
	return item
}

// TestBrowserPolicyChange is what a person sees when the organization
// changes its MFA policy: an authenticator app the organization stopped
// counting is marked on the account page, the password alone signs in;
// once the app counts again, the live session no longer does: the next
// sign-in says why and asks for the password and the code.
func TestBrowserPolicyChange(t *testing.T) {
	browser := chrome(t)
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	s := ms.acme
	ann := s.addUserAt(t, "ann")
	secret := ms.enrolTOTP(t, s, ann.Sub)
	setMFA(t, s, tenant.MFAPolicy{Mode: tenant.MFAOptional, Factors: []string{tenant.FactorWebAuthn}})
	watchConsole(t, browser)
	ctx, cancel := context.WithTimeout(browser, 40*time.Second)
	defer cancel()

	must(t, "sign in with the password alone", chromedp.Do(ctx, passwordStep(s, "ann"), chromedp.WaitVisible(chromedp.ID("claims"))))
	if amr := amrOf(browserClaims(t, ctx)); !slices.Equal(amr, []string{"pwd"}) {
		t.Fatalf("amr %v, want [pwd]", amr)
	}
	unused := chromedp.CSS("#factor-" + tenant.TOTPFactorID + " .unused")
	must(t, "the account page", chromedp.Do(ctx, chromedp.Navigate(s.tenantURL+"/account"), chromedp.WaitVisible(unused)))
	note, err := chromedp.Run(ctx, chromedp.Text(unused))
	must(t, "read the note", err)
	if note != "Not used: your organization's current settings do not accept this kind of second step." {
		t.Errorf("the app's note says %q", note)
	}

	setMFA(t, s, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	must(t, "sign in to the application again", chromedp.Do(ctx,
		chromedp.Navigate(s.rpURL+"/start"),
		chromedp.WaitVisible(chromedp.ID("sign-in-again"))))
	reason, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("sign-in-again")))
	must(t, "read why", err)
	if reason != "Signing in now needs a second step after your password. Sign in again to continue." {
		t.Errorf("the sign-in says %q", reason)
	}
	must(t, "password and code", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="username"]`), "ann"),
		chromedp.SendKeys(chromedp.CSS(`input[autocomplete="current-password"]`), goodPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), oathtool(t, secret, time.Now().Add(30*time.Second))),
		chromedp.Click(chromedp.CSS(`form[action="/login/mfa/code"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("claims"))))
	if amr := amrOf(browserClaims(t, ctx)); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("amr %v, want [pwd otp mfa]", amr)
	}
}
