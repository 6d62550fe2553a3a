package ui_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cognate-idp/cognate/mfa/mfatest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// signInAtAccount signs a user with an authenticator app (secret) in from
// the account page and returns that page.
func signInAtAccount(t *testing.T, b *browser, s *stack, login, secret string) page {
	t.Helper()
	challenge := b.submit(b.Follow(b.Get(s.tenantURL+"/account")), map[string]string{"login": login, "password": goodPassword})
	if secret == "" {
		return b.Follow(challenge)
	}
	signedIn := b.submit(challenge, map[string]string{"code": oathtool(t, secret, time.Now().Add(30*time.Second))})
	if signedIn.Status != http.StatusSeeOther {
		t.Fatalf("signing in at the account page: status %d:\n%s", signedIn.Status, signedIn.Body)
	}
	return b.Follow(signedIn)
}

// A refusal is one log line: where the state machine logged that a flow
// ended after too many wrong answers, the pages log nothing more.
func TestOneLogLinePerRefusal(t *testing.T) {
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	s := ms.acme
	tests := []struct {
		name string
		// form is the page whose form is answered wrongly, at path.
		form       func(t *testing.T, b *browser, login string) page
		path       string
		wantStatus int
		wantText   string
		answer     map[string]string // the wrong answer; nil: a wrong code
	}{
		{"sign-in code", func(t *testing.T, b *browser, login string) page {
			ms.enrolTOTP(t, s, s.addUserAt(t, login).Sub)
			return b.submit(s.startLogin(t, b), map[string]string{"login": login, "password": goodPassword})
		}, "/login/mfa/code", http.StatusTooManyRequests, "Too many wrong answers. Start signing in again.", nil},
		{"account set-up", func(t *testing.T, b *browser, login string) page {
			s.addUserAt(t, login)
			account := signInAtAccount(t, b, s, login, "")
			return b.postForm(account, "/account/mfa/add", map[string]string{"kind": "SOFTWARE_TOKEN_MFA"})
		}, "/account/mfa/setup", http.StatusConflict, "Too many wrong answers. Start adding again.", nil},
		{"account security key", func(t *testing.T, b *browser, login string) page {
			s.addUserAt(t, login)
			account := signInAtAccount(t, b, s, login, "")
			return b.postForm(account, "/account/mfa/add", map[string]string{"kind": "WEB_AUTHN"})
		}, "/account/mfa/setup", http.StatusConflict, "Too many wrong answers. Start adding again.", map[string]string{"credential": "{}"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			form := tt.form(t, b, "user"+string(rune('a'+i)))
			var last page
			var lines []string
			for range 5 {
				mark := ms.log.Mark()
				answer := tt.answer
				if answer == nil {
					answer = map[string]string{"code": "000000"}
				}
				last = b.postForm(form, tt.path, answer)
				lines = ms.log.Since(mark)
			}
			if last.Status != tt.wantStatus {
				t.Fatalf("fifth wrong code: status %d, want %d:\n%s", last.Status, tt.wantStatus, last.Body)
			}
			uitest.MustContain(t, last, tt.wantText)
			if len(lines) != 1 || !strings.Contains(lines[0], "wrongly too often") {
				t.Errorf("the fifth wrong code logged %d lines, want the state machine's one:\n%s", len(lines), strings.Join(lines, "\n"))
			}
		})
	}
}

// A form sent again after it succeeded (a reload, two tabs), or one that
// does not fit its step, says so, rather than that the sign-in took too
// long.
func TestFormSentAgain(t *testing.T) {
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFARequired})
	s := ms.acme
	const (
		ended = "This step was done already, or this sign-in has ended. Start signing in again."
		// A flow gone: too late, or done already; which, the state
		// machine does not tell.
		gone      = "Each step of signing in must be finished within 10 minutes. This one took longer, or it was done already (in another tab, or by sending the form twice). Start signing in again."
		setupGone = gone + " If you are asked to set up your second step again, first remove what you added this time from your authenticator app or device: it will not work."
		mismatch  = "This request does not fit this step of the sign-in. Start signing in again."
	)
	// Each case returns the page whose form is sent, where, and with what;
	// again says whether it is sent twice (the first time succeeding).
	tests := []struct {
		name       string
		form       func(t *testing.T, b *browser, login string) (page, string, map[string]string)
		again      bool
		wantStatus int
		want       string
	}{
		{"new password", func(t *testing.T, b *browser, login string) (page, string, map[string]string) {
			s.addUser(t, login, tempPassword, true)
			p := b.submit(s.startLogin(t, b), map[string]string{"login": login, "password": tempPassword})
			return p, "/login/new-password", map[string]string{"new_password": goodPassword, "confirm_password": goodPassword}
		}, true, http.StatusBadRequest, gone},
		{"sign-in code", func(t *testing.T, b *browser, login string) (page, string, map[string]string) {
			secret := ms.enrolTOTP(t, s, s.addUserAt(t, login).Sub)
			p := b.submit(s.startLogin(t, b), map[string]string{"login": login, "password": goodPassword})
			return p, "/login/mfa/code", map[string]string{"code": oathtool(t, secret, time.Now().Add(30*time.Second))}
		}, true, http.StatusBadRequest, gone},
		{"set-up at sign-in", func(t *testing.T, b *browser, login string) (page, string, map[string]string) {
			s.addUserAt(t, login)
			choose := b.submit(s.startLogin(t, b), map[string]string{"login": login, "password": goodPassword})
			setup := b.submit(choose, map[string]string{"kind": "SOFTWARE_TOKEN_MFA"})
			return setup, "/login/mfa/setup", map[string]string{"code": oathtool(t, pageSecret(t, setup), time.Now())}
		}, true, http.StatusBadRequest, setupGone},
		{"set-up in two tabs", func(t *testing.T, b *browser, login string) (page, string, map[string]string) {
			s.addUserAt(t, login)
			setUp := func(b *browser) page {
				choose := b.submit(s.startLogin(t, b), map[string]string{"login": login, "password": goodPassword})
				return b.submit(choose, map[string]string{"kind": "SOFTWARE_TOKEN_MFA"})
			}
			mine, other := setUp(b), newBrowser(t)
			theirs := setUp(other)
			if done := other.postForm(theirs, "/login/mfa/setup", map[string]string{"code": oathtool(t, pageSecret(t, theirs), time.Now())}); done.Status >= 400 {
				t.Fatalf("the other tab's set-up: status %d:\n%s", done.Status, done.Body)
			}
			return mine, "/login/mfa/setup", map[string]string{"code": oathtool(t, pageSecret(t, mine), time.Now())}
		}, false, http.StatusBadRequest, ended},
		{"account set-up", func(t *testing.T, b *browser, login string) (page, string, map[string]string) {
			secret := ms.enrolTOTP(t, s, s.addUserAt(t, login).Sub)
			account := signInAtAccount(t, b, s, login, secret)
			add := b.postForm(account, "/account/mfa/add", map[string]string{"kind": "WEB_AUTHN"})
			m := optionsRe.FindStringSubmatch(add.Body)
			if m == nil {
				t.Fatalf("no options on the page:\n%s", add.Body)
			}
			key := mfatest.NewSecurityKey(t)
			return add, "/account/mfa/setup", map[string]string{"name": "Blue key",
				"credential": string(key.Register([]byte(html.UnescapeString(m[1])), s.tenantURL))}
		}, true, http.StatusConflict, "This form was sent already, or adding has ended."},
		{"unknown kind", func(t *testing.T, b *browser, login string) (page, string, map[string]string) {
			ms.enrolTOTP(t, s, s.addUserAt(t, login).Sub)
			p := b.submit(s.startLogin(t, b), map[string]string{"login": login, "password": goodPassword})
			return p, "/login/mfa/choose", map[string]string{"kind": "BOGUS"}
		}, false, http.StatusBadRequest, mismatch},
		{"wrong challenge", func(t *testing.T, b *browser, login string) (page, string, map[string]string) {
			ms.enrolTOTP(t, s, s.addUserAt(t, login).Sub)
			p := b.submit(s.startLogin(t, b), map[string]string{"login": login, "password": goodPassword})
			return p, "/login/mfa/code", map[string]string{"code": "123456", "challenge": "NEW_PASSWORD_REQUIRED"}
		}, false, http.StatusBadRequest, mismatch},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			form, path, values := tt.form(t, b, "user"+string(rune('a'+i)))
			if tt.again {
				if first := b.postForm(form, path, values); first.Status >= 400 {
					t.Fatalf("first time: status %d:\n%s", first.Status, first.Body)
				}
			}
			p := b.postForm(form, path, values)
			if p.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d:\n%s", p.Status, tt.wantStatus, p.Body)
			}
			uitest.MustContain(t, p, tt.want)
			uitest.MustNotContain(t, p, "took too long")
		})
	}
}

// A factor's name with control characters is refused at set-up with a
// sentence that says so, and the field keeps the name without them.
func TestSetupNameWithControlCharacters(t *testing.T) {
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	s := ms.acme
	tests := []struct {
		lang, want string
	}{
		{"en", "A name may be at most 64 characters, without control characters."},
		{"nl", "Een naam mag hooguit 64 tekens hebben, zonder stuurtekens."},
	}
	for i, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			b := newBrowser(t)
			b.signedInAt(s, s.addUserAt(t, "user"+string(rune('a'+i))).Sub, time.Now())
			account := b.Get(s.tenantURL + "/account")
			setup := b.postForm(account, "/account/mfa/add", map[string]string{"kind": "SOFTWARE_TOKEN_MFA"})
			form := uitest.HiddenFields(setup.Body)
			form.Set("code", oathtool(t, pageSecret(t, setup), time.Now()))
			form.Set("name", "Work\x07phone")
			p := b.Post(s.tenantURL+"/account/mfa/setup", form, "Accept-Language", tt.lang)
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", p.Status, p.Body)
			}
			uitest.MustContain(t, p, tt.want, `value="Workphone"`)
		})
	}
}

// What a person typed comes back on the page bounded by characters, as
// valid, printable text, and a name no user can have is refused like a
// wrong password, without reaching the lockout's count.
func TestEchoedFields(t *testing.T) {
	s := newStack(t, stackOptions{})
	b := newBrowser(t)
	apex := b.Get(s.base + "/")
	tests := []struct {
		name   string
		send   func() page
		status int
		want   string
	}{
		{"organization, invalid UTF-8", func() page {
			return b.submit(apex, map[string]string{"organization": "\xff\xfeGlobex"})
		}, http.StatusUnprocessableEntity, "“Globex”"},
		{"organization, cut in a character", func() page {
			return b.submit(apex, map[string]string{"organization": "a" + strings.Repeat("é", 300)})
		}, http.StatusUnprocessableEntity, "“a" + strings.Repeat("é", 255) + "”"},
		{"login, control characters", func() page {
			return b.submit(s.startLogin(t, b), map[string]string{"login": "de\x00mo\x1b[31m", "password": "x"})
		}, http.StatusUnprocessableEntity, `value="demo[31m"`},
		{"login, too long", func() page {
			return b.submit(s.startLogin(t, b), map[string]string{"login": strings.Repeat("x", 10000), "password": "x"})
		}, http.StatusUnprocessableEntity, `value="` + strings.Repeat("x", 256) + `"`},
		{"login_hint, too long", func() page {
			start := b.Get(s.rpURL + "/start")
			u, _ := url.Parse(start.Location)
			q := u.Query()
			// Under the authorization endpoint's limit (512 bytes, over
			// which the application gets invalid_request), over the field's.
			q.Set("login_hint", strings.Repeat("x", 500)+"\x1b")
			u.RawQuery = q.Encode()
			return b.Follow(b.Get(u.String()))
		}, http.StatusOK, `value="` + strings.Repeat("x", 256) + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.send()
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", p.Status, tt.status, p.Body)
			}
			uitest.MustContain(t, p, tt.want)
			uitest.MustNotContain(t, p, strings.Repeat("x", 257), "\x1b", "\x00")
			if !utf8.ValidString(p.Body) {
				t.Error("the page is not valid UTF-8")
			}
		})
	}
}

// The address of a form, reloaded from the address bar after a refused
// POST or sent another method, leads on instead of "page not found".
func TestFormAddressesWithOtherMethods(t *testing.T) {
	s := newStack(t, stackOptions{})
	tests := []struct {
		method, path string
		status       int
		allow        string
		want         string // Location for a redirect, else text on the page
	}{
		{"GET", "/login/new-password", http.StatusMethodNotAllowed, "POST", "Go back to the application and start signing in again."},
		{"GET", "/login/mfa/code", http.StatusMethodNotAllowed, "POST", "Go back to the application and start signing in again."},
		{"GET", "/login/passkey/finish", http.StatusMethodNotAllowed, "POST", "Go back to the application and start signing in again."},
		{"GET", "/account/password", http.StatusSeeOther, "", "/account"},
		{"GET", "/account/mfa/add", http.StatusSeeOther, "", "/account"},
		{"GET", "/account/recovery-codes", http.StatusSeeOther, "", "/account"},
		{"PUT", "/account/mfa/add", http.StatusMethodNotAllowed, "POST", "This page cannot be used this way."},
		{"PUT", "/login", http.StatusMethodNotAllowed, "GET, HEAD, POST", "This page cannot be used this way."},
		{"POST", "/account", http.StatusMethodNotAllowed, "GET, HEAD", "This page cannot be used this way."},
		{"DELETE", "/account", http.StatusMethodNotAllowed, "GET, HEAD", "This page cannot be used this way."},
		{"POST", "/logged-out", http.StatusMethodNotAllowed, "GET, HEAD", "This page cannot be used this way."},
		{"POST", "/sign-in", http.StatusMethodNotAllowed, "GET, HEAD", "This page cannot be used this way."},
		{"POST", "/welcome", http.StatusMethodNotAllowed, "GET, HEAD", "This page cannot be used this way."},
		{"POST", "/", http.StatusMethodNotAllowed, "GET, HEAD", "This page cannot be used this way."},
		{"PUT", "/forgot-password", http.StatusMethodNotAllowed, "GET, HEAD, POST", "This page cannot be used this way."},
		{"DELETE", "/reset-password", http.StatusMethodNotAllowed, "GET, HEAD, POST", "This page cannot be used this way."},
		{"PUT", "/logout/confirm", http.StatusMethodNotAllowed, "GET, HEAD, POST", "This page cannot be used this way."},
		// The static files, as the console's own.
		{"PUT", "/static/style.css", http.StatusMethodNotAllowed, "GET, HEAD", "This page cannot be used this way."},
		{"POST", "/static/app.js", http.StatusMethodNotAllowed, "GET, HEAD", "This page cannot be used this way."},
		{"DELETE", "/static/no-such-file.css", http.StatusMethodNotAllowed, "GET, HEAD", "This page cannot be used this way."},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			b := newBrowser(t)
			req, err := http.NewRequestWithContext(t.Context(), tt.method, s.tenantURL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := b.Do(req)
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", p.Status, tt.status, p.Body)
			}
			if tt.status == http.StatusSeeOther {
				if p.Location != s.tenantURL+tt.want {
					t.Errorf("Location %q, want %q", p.Location, s.tenantURL+tt.want)
				}
				return
			}
			if got := p.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			uitest.MustContain(t, p, tt.want, `href="/"`)
		})
	}
	// The apex's one page and its static files too, and the static files
	// of a host without an organization.
	b := newBrowser(t)
	apex, _ := url.Parse(s.base)
	for _, tt := range []struct{ url, allow string }{
		{s.base + "/", "GET, HEAD, POST"},
		{s.base + "/static/style.css", "GET, HEAD"},
		{"http://nope." + apex.Host + "/static/style.css", "GET, HEAD"},
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, tt.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p := b.Do(req); p.Status != http.StatusMethodNotAllowed || p.Header.Get("Allow") != tt.allow {
			t.Errorf("PUT %s: status %d, Allow %q; want 405 and %s", tt.url, p.Status, p.Header.Get("Allow"), tt.allow)
		}
	}
	// In Dutch too.
	uitest.MustContain(t, b.Get(s.tenantURL+"/login/new-password", "Accept-Language", "nl"), "Ga terug naar de applicatie en begin opnieuw met inloggen.")
}

// Every refusal of a second factor's answer or of an account change logs
// exactly one line, at INFO, saying for whom (login), from where
// (client_ip) and why, with nothing that was typed: not the code, the
// recovery code or a password.
func TestRefusalsLogOneLine(t *testing.T) {
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFARequired})
	s := ms.acme
	// codeChallenge signs a user with an authenticator app in, to the
	// page that asks for the code.
	codeChallenge := func(t *testing.T, b *browser, login string) (page, string) {
		secret := ms.enrolTOTP(t, s, s.addUserAt(t, login).Sub)
		return b.submit(s.startLogin(t, b), map[string]string{"login": login, "password": goodPassword}), secret
	}
	// account is the account page of a user signed in a moment ago, with
	// an authenticator app when app is true.
	account := func(t *testing.T, b *browser, login string, app bool) page {
		u := s.addUserAt(t, login)
		if app {
			ms.enrolTOTP(t, s, u.Sub)
		}
		b.signedInAt(s, u.Sub, time.Now())
		return b.Get(s.tenantURL + "/account")
	}
	tests := []struct {
		name string
		// form returns the page whose form is sent, to path, with the
		// refused values; typed is what must not reach the log.
		form       func(t *testing.T, b *browser, login string) (p page, path string, values map[string]string, typed string)
		wantStatus int
	}{
		{"sign-in, wrong code", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			p, _ := codeChallenge(t, b, login)
			return p, "/login/mfa/code", map[string]string{"code": "000000"}, "000000"
		}, http.StatusUnprocessableEntity},
		{"sign-in, malformed code", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			p, _ := codeChallenge(t, b, login)
			return p, "/login/mfa/code", map[string]string{"code": "12ab"}, "12ab"
		}, http.StatusUnprocessableEntity},
		{"sign-in, wrong recovery code", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			p, _ := codeChallenge(t, b, login)
			return p, "/login/mfa/recovery", map[string]string{"recovery_code": "aaaa-bbbb-cccc"}, "aaaa-bbbb-cccc"
		}, http.StatusUnprocessableEntity},
		{"sign-in, replayed code", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			p, secret := codeChallenge(t, b, login)
			code := oathtool(t, secret, time.Now().Add(30*time.Second))
			// Another browser signs in with the code first.
			other := newBrowser(t)
			first := other.submit(other.submit(s.startLogin(t, other), map[string]string{"login": login, "password": goodPassword}),
				map[string]string{"code": code})
			if first.Status != http.StatusSeeOther {
				t.Fatalf("first use of the code: status %d:\n%s", first.Status, first.Body)
			}
			return p, "/login/mfa/code", map[string]string{"code": code}, code
		}, http.StatusUnprocessableEntity},
		{"adding an app, wrong code", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			setup := b.postForm(account(t, b, login, false), "/account/mfa/add", map[string]string{"kind": "SOFTWARE_TOKEN_MFA"})
			return setup, "/account/mfa/setup", map[string]string{"code": "000000"}, "000000"
		}, http.StatusUnprocessableEntity},
		{"adding an app, malformed code", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			setup := b.postForm(account(t, b, login, false), "/account/mfa/add", map[string]string{"kind": "SOFTWARE_TOKEN_MFA"})
			return setup, "/account/mfa/setup", map[string]string{"code": "12ab"}, "12ab"
		}, http.StatusUnprocessableEntity},
		{"adding an app, name too long", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			setup := b.postForm(account(t, b, login, false), "/account/mfa/add", map[string]string{"kind": "SOFTWARE_TOKEN_MFA"})
			code := oathtool(t, pageSecret(t, setup), time.Now())
			return setup, "/account/mfa/setup", map[string]string{"code": code, "name": strings.Repeat("n", 65)}, code
		}, http.StatusUnprocessableEntity},
		{"removing the last factor", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			return account(t, b, login, true), "/account/mfa/remove", map[string]string{"factor": tenant.TOTPFactorID}, ""
		}, http.StatusConflict},
		{"renaming to nothing", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			return account(t, b, login, true), "/account/mfa/rename", map[string]string{"factor": tenant.TOTPFactorID, "name": " "}, ""
		}, http.StatusUnprocessableEntity},
		{"page out of date", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			return account(t, b, login, true), "/account/mfa/rename", map[string]string{"factor": "webauthn-gone", "name": "Key"}, ""
		}, http.StatusConflict},
		{"wrong current password", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			return account(t, b, login, true), "/account/password",
				map[string]string{"current_password": "Not-The-Password-1", "new_password": "New-Horse-10!", "confirm_password": "New-Horse-10!"}, "Not-The-Password-1"
		}, http.StatusUnprocessableEntity},
		{"new passwords differ", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			return account(t, b, login, true), "/account/password",
				map[string]string{"current_password": goodPassword, "new_password": "New-Horse-10!", "confirm_password": "New-Horse-11!"}, "New-Horse-1"
		}, http.StatusUnprocessableEntity},
		{"no current password", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			return account(t, b, login, true), "/account/password",
				map[string]string{"current_password": "", "new_password": "New-Horse-10!", "confirm_password": "New-Horse-10!"}, "New-Horse-10!"
		}, http.StatusUnprocessableEntity},
		{"new password the current one", func(t *testing.T, b *browser, login string) (page, string, map[string]string, string) {
			return account(t, b, login, true), "/account/password",
				map[string]string{"current_password": goodPassword, "new_password": goodPassword, "confirm_password": goodPassword}, goodPassword
		}, http.StatusUnprocessableEntity},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			login := fmt.Sprintf("log%c", 'a'+i)
			form, path, values, typed := tt.form(t, b, login)
			mark := ms.log.Mark()
			p := b.postForm(form, path, values)
			lines := ms.log.Since(mark)
			if p.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d:\n%s", p.Status, tt.wantStatus, p.Body)
			}
			if len(lines) != 1 {
				t.Fatalf("logged %d lines, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			line := lines[0]
			for _, want := range []string{"level=INFO", "tenant=acme", "login=" + login, "client_ip=127.0.0.1", "err="} {
				if !strings.Contains(line, want) {
					t.Errorf("the line lacks %q:\n%s", want, line)
				}
			}
			if typed != "" && strings.Contains(line, typed) {
				t.Errorf("the line holds what was typed (%q):\n%s", typed, line)
			}
			// The account page has no temporary password: its reasons
			// do not speak of one.
			if strings.Contains(line, "temporary") {
				t.Errorf("the line speaks of a temporary password:\n%s", line)
			}
		})
	}
}

// Every refusal of the sign-in, new-password, reset and apex forms logs
// exactly one line, at INFO, saying where (tenant, but for the apex), from
// where (client_ip) and why (err), with nothing that was typed. The
// refusals found before anything is asked (an empty field, two passwords
// that differ) are refusals too.
func TestFormRefusalsLogOneLine(t *testing.T) {
	log := &uitest.Log{}
	s := newStack(t, stackOptions{log: log})
	s.addUser(t, "ann", goodPassword, false)
	const typedPw, otherPw = "Typed-Horse-41!", "Typed-Horse-42!"

	// newPassword is the new-password page of a user who signs in with a
	// temporary password.
	newPassword := func(t *testing.T, b *browser, login string) page {
		s.addUser(t, login, tempPassword, true)
		p := b.submit(s.startLogin(t, b), map[string]string{"login": login, "password": tempPassword})
		uitest.MustContain(t, p, "Choose a new password")
		return p
	}
	resetForm := func(b *browser) page {
		return b.submit(b.Get(s.tenantURL+"/forgot-password"), map[string]string{"login": "ann"})
	}
	tests := []struct {
		name string
		// send sends the refused form; typed is what must not reach the
		// log.
		send       func(t *testing.T, b *browser, login string) (p page, typed []string)
		wantStatus int
		wantText   string
		apex       bool
		// invalid are the ids of the fields at fault, the focused one
		// first (mustFault).
		invalid []string
	}{
		{"sign-in, wrong password", func(t *testing.T, b *browser, _ string) (page, []string) {
			return b.submit(s.startLogin(t, b), map[string]string{"login": "ann", "password": typedPw}), []string{typedPw}
		}, http.StatusUnprocessableEntity, "Incorrect username or password.", false, []string{"password", "login"}},
		{"sign-in, empty password", func(t *testing.T, b *browser, _ string) (page, []string) {
			return b.submit(s.startLogin(t, b), map[string]string{"login": "ann", "password": ""}), nil
		}, http.StatusUnprocessableEntity, "Enter your username and your password.", false, []string{"password", "login"}},
		{"sign-in, empty name", func(t *testing.T, b *browser, _ string) (page, []string) {
			return b.submit(s.startLogin(t, b), map[string]string{"login": "", "password": typedPw}), []string{typedPw}
		}, http.StatusUnprocessableEntity, "Enter your username and your password.", false, []string{"login", "password"}},
		{"sign-in, temporary password expired", func(t *testing.T, b *browser, login string) (page, []string) {
			u := s.addUser(t, login, tempPassword, true)
			err := s.store.Update(t.Context(), func(tx tenant.Tx) error {
				u.TempPasswordExpiresAt = time.Now().Add(-time.Hour)
				return tenant.UpdateUser(tx, "acme", u)
			})
			if err != nil {
				t.Fatal(err)
			}
			return b.submit(s.startLogin(t, b), map[string]string{"login": login, "password": tempPassword}), []string{tempPassword}
		}, http.StatusUnprocessableEntity, "Your temporary password has expired.", false, []string{"password", "login"}},
		{"new password, the two differ", func(t *testing.T, b *browser, login string) (page, []string) {
			return b.submit(newPassword(t, b, login), map[string]string{"new_password": typedPw, "confirm_password": otherPw}),
				[]string{typedPw, otherPw}
		}, http.StatusUnprocessableEntity, "The two passwords are not the same.", false, []string{"confirm-password"}},
		{"new password, against the policy", func(t *testing.T, b *browser, login string) (page, []string) {
			return b.submit(newPassword(t, b, login), map[string]string{"new_password": "typedweakpw", "confirm_password": "typedweakpw"}),
				[]string{"typedweakpw"}
		}, http.StatusUnprocessableEntity, "does not meet these requirements", false, []string{"new-password"}},
		{"new password, the temporary one", func(t *testing.T, b *browser, login string) (page, []string) {
			return b.submit(newPassword(t, b, login), map[string]string{"new_password": tempPassword, "confirm_password": tempPassword}),
				[]string{tempPassword}
		}, http.StatusUnprocessableEntity, "differs from your temporary password", false, []string{"new-password"}},
		{"new password, empty", func(t *testing.T, b *browser, login string) (page, []string) {
			return b.submit(newPassword(t, b, login), map[string]string{"new_password": "", "confirm_password": ""}), nil
		}, http.StatusUnprocessableEntity, "Enter your new password twice.", false, []string{"new-password"}},
		{"forgot password, no name", func(t *testing.T, b *browser, _ string) (page, []string) {
			return b.submit(b.Get(s.tenantURL+"/forgot-password"), map[string]string{"login": ""}), nil
		}, http.StatusUnprocessableEntity, "", false, []string{"login"}},
		{"reset, the two differ", func(t *testing.T, b *browser, _ string) (page, []string) {
			return b.submit(resetForm(b), map[string]string{"login": "ann", "code": "123456", "new_password": typedPw, "confirm_password": otherPw}),
				[]string{typedPw, otherPw, "123456"}
		}, http.StatusUnprocessableEntity, "The two passwords are not the same.", false, []string{"confirm-password"}},
		{"reset, no code", func(t *testing.T, b *browser, _ string) (page, []string) {
			return b.submit(resetForm(b), map[string]string{"login": "ann", "code": "", "new_password": typedPw, "confirm_password": typedPw}),
				[]string{typedPw}
		}, http.StatusUnprocessableEntity, "", false, []string{"code"}},
		// A code or a name of only spaces is no code or name: the field
		// is marked as one left empty is.
		{"reset, a code of spaces", func(t *testing.T, b *browser, _ string) (page, []string) {
			return b.submit(resetForm(b), map[string]string{"login": "ann", "code": "   ", "new_password": typedPw, "confirm_password": typedPw}),
				[]string{typedPw}
		}, http.StatusUnprocessableEntity, "", false, []string{"code"}},
		{"reset, a name of spaces", func(t *testing.T, b *browser, _ string) (page, []string) {
			return b.submit(resetForm(b), map[string]string{"login": "  ", "code": "123456", "new_password": typedPw, "confirm_password": typedPw}),
				[]string{typedPw, "123456"}
		}, http.StatusUnprocessableEntity, "", false, []string{"login"}},
		{"reset, wrong code", func(t *testing.T, b *browser, _ string) (page, []string) {
			return b.submit(resetForm(b), map[string]string{"login": "ann", "code": "000000", "new_password": typedPw, "confirm_password": typedPw}),
				[]string{typedPw, "000000"}
		}, http.StatusUnprocessableEntity, "", false, []string{"code"}},
		{"apex, unknown organization", func(t *testing.T, b *browser, _ string) (page, []string) {
			return b.submit(b.Get(s.base+"/"), map[string]string{"organization": "Typed Globex"}), []string{"Typed Globex"}
		}, http.StatusUnprocessableEntity, "We could not find an organization called", true, []string{"organization"}},
		{"apex, not an email address", func(t *testing.T, b *browser, _ string) (page, []string) {
			return b.submit(b.Get(s.base+"/"), map[string]string{"organization": "typed@y"}), []string{"typed@y"}
		}, http.StatusUnprocessableEntity, "is not an email address", true, []string{"organization"}},
		{"apex, empty", func(t *testing.T, b *browser, _ string) (page, []string) {
			return b.submit(b.Get(s.base+"/"), map[string]string{"organization": ""}), nil
		}, http.StatusUnprocessableEntity, "Type the name of your organization or your email address.", true, []string{"organization"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			login := fmt.Sprintf("form%c", 'a'+i)
			var p page
			var typed []string
			// What the form needs before (signing in, asking for a code)
			// logs lines of its own; what the refused post logs is
			// counted from its form's own sending.
			mark := 0
			b.Client.Transport = markBeforePost{b.Client.Transport, func() { mark = log.Mark() }}
			p, typed = tt.send(t, b, login)
			lines := log.Since(mark)
			if p.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d:\n%s", p.Status, tt.wantStatus, p.Body)
			}
			if tt.wantText != "" {
				uitest.MustContain(t, p, tt.wantText)
			}
			mustFault(t, p, tt.invalid...)
			if len(lines) != 1 {
				t.Fatalf("logged %d lines, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			line := lines[0]
			want := []string{"level=INFO", "refused", "client_ip=127.0.0.1", "err="}
			if !tt.apex {
				want = append(want, "tenant=acme")
			}
			for _, w := range want {
				if !strings.Contains(line, w) {
					t.Errorf("the line lacks %q:\n%s", w, line)
				}
			}
			for _, v := range typed {
				if strings.Contains(line, v) {
					t.Errorf("the line holds what was typed (%q):\n%s", v, line)
				}
			}
		})
	}
}

// markBeforePost calls mark before each POST it sends: a test counts what
// the last form's sending logged.
type markBeforePost struct {
	next http.RoundTripper
	mark func()
}

func (m markBeforePost) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		m.mark()
	}
	return m.next.RoundTrip(r)
}
