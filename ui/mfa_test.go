package ui_test

import (
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mfa/mfatest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// TestRequiredTOTPEndToEnd: a required policy sends a user without a
// factor from the relying party's sign-in into setting up an authenticator
// app, then on to the relying party's tokens, with amr saying what was used.
// The codes come from oathtool.
func TestRequiredTOTPEndToEnd(t *testing.T) {
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFARequired})
	s := ms.acme
	s.addUserAt(t, "ann")
	b := newBrowser(t)

	choose := b.submit(s.startLogin(t, b), map[string]string{"login": "ann", "password": goodPassword})
	if choose.Status != http.StatusOK {
		t.Fatalf("after the password: status %d:\n%s", choose.Status, choose.Body)
	}
	uitest.MustContain(t, choose, "Set up two-step verification", `value="SOFTWARE_TOKEN_MFA"`, `value="WEB_AUTHN"`)

	setup := b.submit(choose, map[string]string{"kind": "SOFTWARE_TOKEN_MFA"})
	uitest.MustContain(t, setup, "Set up your authenticator app", `src="data:image/png;base64,`,
		`autocomplete="one-time-code"`, `inputmode="numeric"`)
	secret := pageSecret(t, setup)

	wrong := b.submit(setup, map[string]string{"code": "000000"})
	if wrong.Status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code: status %d", wrong.Status)
	}
	uitest.MustContain(t, wrong, "That code is not right.")
	mustFault(t, wrong, "code")
	if pageSecret(t, wrong) != secret {
		t.Fatal("the key changed after a wrong code; the person has scanned the first one")
	}

	now := time.Now()
	code := oathtool(t, secret, now)
	codesPage := b.submit(wrong, map[string]string{"code": code, "name": "Work phone"})
	uitest.MustContain(t, codesPage, "Save your recovery codes")
	codes, next := recoveryCodes(t, codesPage)
	if strings.Contains(b.Get(s.tenantURL+"/").Body, codes[0]) {
		t.Fatal("a recovery code shows on another page")
	}
	claims := rpClaims(t, b.Follow(b.Get(next)))
	if amr := amrOf(claims); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("amr %v, want [pwd otp mfa]", amr)
	}

	// Signing in again (another browser): the code of the set-up is spent.
	b2 := newBrowser(t)
	challenge := b2.submit(s.startLogin(t, b2), map[string]string{"login": "ann", "password": goodPassword})
	uitest.MustContain(t, challenge, "Two-step verification", `autocomplete="one-time-code"`, `inputmode="numeric"`, "Use a recovery code instead")
	replay := b2.submit(challenge, map[string]string{"code": code})
	if replay.Status != http.StatusUnprocessableEntity {
		t.Fatalf("replayed code: status %d:\n%s", replay.Status, replay.Body)
	}
	uitest.MustContain(t, replay, "That code was used already.")
	mustFault(t, replay, "code")
	uitest.MustNotContain(t, replay, `<details class="alt" open>`)
	// The next step's code is within the window.
	done := b2.submit(replay, map[string]string{"code": oathtool(t, secret, now.Add(30*time.Second))})
	if amr := amrOf(rpClaims(t, b2.Follow(done))); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("amr %v, want [pwd otp mfa]", amr)
	}

	// A recovery code works once.
	for i, want := range []int{http.StatusSeeOther, http.StatusUnprocessableEntity} {
		b := newBrowser(t)
		challenge := b.submit(s.startLogin(t, b), map[string]string{"login": "ann", "password": goodPassword})
		p := b.postForm(challenge, "/login/mfa/recovery", map[string]string{"recovery_code": strings.ToUpper(codes[4])})
		if p.Status != want {
			t.Fatalf("recovery code, use %d: status %d, want %d:\n%s", i+1, p.Status, want, p.Body)
		}
		if i == 0 {
			if amr := amrOf(rpClaims(t, b.Follow(p))); !slices.Equal(amr, []string{"pwd", "mfa"}) {
				t.Errorf("amr %v after a recovery code, want [pwd mfa]", amr)
			}
		} else {
			uitest.MustContain(t, p, "That recovery code is not right, or it was used already.")
			// The recovery form that failed is shown open, its field
			// has the focus and the error; the code field neither.
			uitest.MustContain(t, p, `<details class="alt" open>`)
			mustFault(t, p, "recovery-code")
			uitest.MustContain(t, p, `aria-describedby="form-error recovery-hint"`)
		}
	}
}

func amrOf(claims map[string]any) []string {
	var out []string
	list, _ := claims["amr"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// Wrong codes end the sign-in after five, and count towards the lockout
// like wrong passwords.
func TestTooManyWrongCodes(t *testing.T) {
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	s := ms.acme
	ann := s.addUserAt(t, "ann")
	ms.enrolTOTP(t, s, ann.Sub)
	b := newBrowser(t)
	p := b.submit(s.startLogin(t, b), map[string]string{"login": "ann", "password": goodPassword})
	for i := 1; i <= 5; i++ {
		p = b.submit(p, map[string]string{"code": "000000"})
		if i < 5 && p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong code %d: status %d", i, p.Status)
		}
	}
	if p.Status != http.StatusTooManyRequests {
		t.Fatalf("fifth wrong code: status %d, want 429:\n%s", p.Status, p.Body)
	}
	uitest.MustContain(t, p, "Too many wrong answers. Start signing in again.", `href="/login?authRequestID=`)
	// The name is locked now, right password or not.
	again := b.submit(s.startLogin(t, b), map[string]string{"login": "ann", "password": goodPassword})
	if again.Status != http.StatusTooManyRequests {
		t.Fatalf("signing in again: status %d, want 429", again.Status)
	}
	uitest.MustContain(t, again, "Too many failed attempts.")
}

// TestAccountPage: sign in from the account page (no relying party), see
// the factors, rename one, be refused removing the last, make new recovery
// codes, change the password.
func TestAccountPage(t *testing.T) {
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFARequired})
	s := ms.acme
	ann := s.addUserAt(t, "ann")
	secret := ms.enrolTOTP(t, s, ann.Sub)
	b := newBrowser(t)
	start := time.Now()

	toLogin := b.Get(s.tenantURL + "/account")
	if toLogin.Status != http.StatusSeeOther || toLogin.Location != s.tenantURL+"/login?authRequestID=account" {
		t.Fatalf("without a session: %d to %q", toLogin.Status, toLogin.Location)
	}
	login := b.Follow(toLogin)
	uitest.MustContain(t, login, "Sign in to Acme BV", "to continue to your account")
	challenge := b.submit(login, map[string]string{"login": "ann", "password": goodPassword})
	signedIn := b.submit(challenge, map[string]string{"code": oathtool(t, secret, time.Now().Add(30*time.Second))})
	if signedIn.Status != http.StatusSeeOther || signedIn.Location != s.tenantURL+"/account" {
		t.Fatalf("after the code: %d to %q:\n%s", signedIn.Status, signedIn.Location, signedIn.Body)
	}
	account := b.Follow(signedIn)
	uitest.MustContain(t, account, "Your account", "Signed in as ann", "Phone", "Authenticator app",
		"You have 10 unused recovery codes.", `value="WEB_AUTHN"`)
	if strings.Contains(account.Body, `value="SOFTWARE_TOKEN_MFA"`) {
		t.Error("the page offers a second authenticator app")
	}
	// Each factor's controls name the factor (a screen reader lists them
	// out of context), and the hint of an action is tied to its button.
	uitest.MustContain(t, account, `Change<span class="visually-hidden"> “Phone”</span></summary>`,
		`Rename<span class="visually-hidden"> “Phone”</span></button>`, `Remove<span class="visually-hidden"> “Phone”</span></button>`,
		`aria-describedby="recovery-new-hint">Make new recovery codes</button>`, `<p class="hint" id="recovery-new-hint">`)

	renamed := b.Follow(b.postForm(account, "/account/mfa/rename", map[string]string{"factor": tenant.TOTPFactorID, "name": "Old phone"}))
	uitest.MustContain(t, renamed, "Renamed.", "Old phone")

	refused := b.postForm(account, "/account/mfa/remove", map[string]string{"factor": tenant.TOTPFactorID})
	if refused.Status != http.StatusConflict {
		t.Fatalf("removing the last factor: status %d", refused.Status)
	}
	uitest.MustContain(t, refused, "This is your last second step")
	// Not the password form's error: its inputs do not name it.
	uitest.MustNotContain(t, refused, `aria-describedby="policy form-error"`)

	// A security key, registered from the account page (a software
	// authenticator answers for the browser); then the app is not the last
	// factor and may go.
	add := b.postForm(account, "/account/mfa/add", map[string]string{"kind": "WEB_AUTHN"})
	uitest.MustContain(t, add, "Register a security key or passkey", `data-mode="create"`, `action="/account/mfa/setup"`)
	m := optionsRe.FindStringSubmatch(add.Body)
	if m == nil {
		t.Fatalf("no options on the page:\n%s", add.Body)
	}
	key := mfatest.NewSecurityKey(t)
	added := b.postForm(add, "/account/mfa/setup", map[string]string{"name": "Blue key",
		"credential": string(key.Register([]byte(html.UnescapeString(m[1])), s.tenantURL))})
	if added.Status != http.StatusSeeOther || added.Location != s.tenantURL+"/account?done=added" {
		t.Fatalf("registering a key: %d to %q:\n%s", added.Status, added.Location, added.Body)
	}
	account = b.Follow(added)
	uitest.MustContain(t, account, "Added.", "Blue key", "Security key", "You have 10 unused recovery codes.")
	removed := b.Follow(b.postForm(account, "/account/mfa/remove", map[string]string{"factor": tenant.TOTPFactorID}))
	uitest.MustContain(t, removed, "Removed.")
	if strings.Contains(removed.Body, "Old phone") {
		t.Error("the removed app is still listed")
	}

	codesPage := b.postForm(account, "/account/recovery-codes", nil)
	codes, next := recoveryCodes(t, codesPage)
	if next != s.tenantURL+"/account" || len(codes) != 10 {
		t.Errorf("new codes lead to %s", next)
	}

	tests := []struct {
		name                  string
		current, next, repeat string
		status                int
		want                  string
		invalid               string // the id of the field at fault
	}{
		{"no current", "", "Brand-New-Pass1!", "Brand-New-Pass1!", http.StatusUnprocessableEntity, "Enter your current password.", "current-password"},
		{"no new", goodPassword, "", "", http.StatusUnprocessableEntity, "Enter your new password twice.", "new-password"},
		{"wrong current", "Wrong-Pass-1!", "Brand-New-Pass1!", "Brand-New-Pass1!", http.StatusUnprocessableEntity, "Your current password is not right.", "current-password"},
		{"mismatch", goodPassword, "Brand-New-Pass1!", "Brand-New-Pass2!", http.StatusUnprocessableEntity, "The two passwords are not the same.", "confirm-password"},
		{"weak", goodPassword, "weak", "weak", http.StatusUnprocessableEntity, "at least 8 characters", "new-password"},
		{"same", goodPassword, goodPassword, goodPassword, http.StatusUnprocessableEntity, "differs from your current one", "new-password"},
		{"bytes that are not text", goodPassword, "Brand-New-Pass1!\xff\xfe", "Brand-New-Pass1!\xff\xfe", http.StatusUnprocessableEntity,
			"only characters a keyboard types: no control characters", "new-password"},
		{"good", goodPassword, "Brand-New-Pass1!", "Brand-New-Pass1!", http.StatusSeeOther, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.postForm(account, "/account/password", map[string]string{
				"current_password": tt.current, "new_password": tt.next, "confirm_password": tt.repeat})
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", p.Status, tt.status, p.Body)
			}
			if tt.want != "" {
				// The field at fault names the error, and has the focus.
				uitest.MustContain(t, p, tt.want, "Requirements for your password:", `name="confirm_password"`)
				mustFault(t, p, tt.invalid)
			} else {
				uitest.MustContain(t, b.Follow(p), "Your password was changed.")
			}
		})
	}

	b.Header.Set("Accept-Language", "nl")
	uitest.MustContain(t, b.postForm(account, "/account/password", map[string]string{
		"current_password": "", "new_password": "Brand-New-Pass2!", "confirm_password": "Brand-New-Pass2!"}), "Vul uw huidige wachtwoord in.")
	b.Header.Del("Accept-Language")

	// The trail has each change in ann's name, from her address: the
	// pages pass it on (the refused ones left nothing).
	page, err := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: "user.", Actor: ann.Sub, From: start})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range slices.Backward(page.Events) {
		got = append(got, string(ev.Action))
		if ev.Actor.Kind != tenant.ActorUser || ev.Actor.IP != "127.0.0.1" {
			t.Errorf("%s by %+v", ev.Action, ev.Actor)
		}
	}
	if want := []string{"user.mfa.enrol", "user.mfa.remove", "user.mfa.recovery_codes", "user.password.change"}; !slices.Equal(got, want) {
		t.Errorf("audit trail %v, want %v", got, want)
	}

	// Every change needs the form token and the session.
	forged := b.Post(s.tenantURL+"/account/mfa/remove", map[string][]string{"factor": {tenant.TOTPFactorID}})
	if forged.Status != http.StatusForbidden {
		t.Errorf("without the form token: status %d, want 403", forged.Status)
	}
	stranger := newBrowser(t)
	form := uitest.HiddenFields(account.Body)
	stranger.Client.Jar.SetCookies(account.URL, []*http.Cookie{{Name: "cognate_csrf", Value: form.Get("csrf_token"), Path: "/"}})
	if p := stranger.Post(s.tenantURL+"/account/recovery-codes", form); p.Status != http.StatusSeeOther || !strings.Contains(p.Location, "authRequestID=account") {
		t.Errorf("without a session: %d to %q, want the sign-in", p.Status, p.Location)
	}
}

var optionsRe = regexp.MustCompile(`data-options="([^"]*)"`)

func TestPasskeyOffered(t *testing.T) {
	tests := []struct {
		policy tenant.MFAPolicy
		want   bool
	}{
		{tenant.MFAPolicy{Mode: tenant.MFAOptional, Passwordless: true}, true},
		{tenant.MFAPolicy{Mode: tenant.MFAOff, Passwordless: true}, true},
		{tenant.MFAPolicy{Mode: tenant.MFAOptional}, false},
		{tenant.MFAPolicy{Mode: tenant.MFAOptional, Passwordless: true, Factors: []string{tenant.FactorTOTP}}, false},
	}
	for _, tt := range tests {
		ms := newMFAStack(t, tt.policy)
		b := newBrowser(t)
		login := ms.acme.startLogin(t, b)
		if got := strings.Contains(login.Body, `action="/login/passkey"`); got != tt.want {
			t.Errorf("%+v: passkey offered %v, want %v", tt.policy, got, tt.want)
		}
		if !tt.want {
			continue
		}
		p := b.postForm(login, "/login/passkey", nil)
		uitest.MustContain(t, p, "Sign in with a passkey", `data-mode="get"`, `data-autostart="1"`, `/static/webauthn.js?v=`,
			`action="/login/passkey/finish"`)
		// A made-up answer goes back to the login form, with why.
		refused := b.postForm(p, "/login/passkey/finish", map[string]string{"credential": `{"id":"AAAA","type":"public-key"}`})
		if refused.Status != http.StatusUnprocessableEntity {
			t.Fatalf("garbage passkey answer: status %d", refused.Status)
		}
		uitest.MustContain(t, refused, "Your passkey was not accepted.", `autocomplete="current-password"`)
	}
}

func TestMFAPagesInDutch(t *testing.T) {
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFARequired})
	s := ms.acme
	s.addUserAt(t, "ann")
	b := newBrowser(t)
	b.Header.Set("Accept-Language", "nl")
	p := b.submit(s.startLogin(t, b), map[string]string{"login": "ann", "password": goodPassword})
	uitest.MustContain(t, p, "Verificatie in twee stappen instellen", "Authenticator-app", "Beveiligingssleutel of passkey")
	p = b.submit(p, map[string]string{"kind": "SOFTWARE_TOKEN_MFA"})
	uitest.MustContain(t, p, "Uw authenticator-app instellen", "Lukt scannen niet?")
	p = b.submit(p, map[string]string{"code": "12"})
	uitest.MustContain(t, p, "Vul de 6 cijfers in die uw app toont.")
}
