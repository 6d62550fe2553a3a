package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// The pages of onboarding and recovery, over HTTP: forgot password and the
// reset by code, the start page's own sign-in, a reset an administrator
// asked for, and the apex lookup by email address.

// deliver runs the outbox once and returns the mails it delivered.
func (s *stack) deliver(t *testing.T) []mail.Message {
	t.Helper()
	before := len(s.sink.Messages())
	if _, err := s.outbox.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	all := s.sink.Messages() // newest first
	return all[:len(all)-before]
}

// onlyMail delivers and expects exactly one mail, to to.
func (s *stack) onlyMail(t *testing.T, to string) mail.Message {
	t.Helper()
	got := s.deliver(t)
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != to {
		t.Fatalf("delivered %v, want one mail to %s", got, to)
	}
	return got[0]
}

var (
	mailCode = regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`)
	mailTemp = regexp.MustCompile(`Temporary password:\s+(\S+)`)
)

func codeFrom(t *testing.T, m mail.Message) string {
	t.Helper()
	match := mailCode.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no code in the mail:\n%s", m.Text)
	}
	return match[1]
}

// testClock is a clock the test moves; the server reads it from its own
// goroutines.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sameExceptTokens compares two pages with the form token and one typed
// value taken out.
func sameExceptTokens(a page, aValue string, b page, bValue string) bool {
	norm := func(p page, v string) string {
		body := regexp.MustCompile(`name="csrf_token" value="[^"]*"`).ReplaceAllString(p.Body, "")
		body = strings.ReplaceAll(body, url.QueryEscape(v), "VALUE")
		if strings.Contains(v, "@") { // an address is also shown in the text
			body = strings.ReplaceAll(body, v, "VALUE")
		}
		return strings.ReplaceAll(body, `value="`+v+`"`, `value="VALUE"`)
	}
	return a.Status == b.Status && norm(a, aValue) == norm(b, bValue)
}

func TestForgotPassword(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)
	b := newBrowser(t)
	login := s.startLogin(t, b)
	id := uitest.HiddenFields(login.Body).Get("authRequestID")
	uitest.MustContain(t, login, `href="/forgot-password?authRequestID=`+id+`"`, "Forgot your password?")

	forgot := b.Get(s.tenantURL + "/forgot-password?authRequestID=" + id)
	uitest.MustContain(t, forgot, "Forgot your password?", `autocomplete="username"`, `name="csrf_token"`)
	if p := b.submit(forgot, map[string]string{"login": ""}); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("empty name: status %d", p.Status)
	}

	// Known and unknown names read alike, and only the known one gets mail.
	sent := b.submit(forgot, map[string]string{"login": "ann"})
	unknown := b.submit(forgot, map[string]string{"login": "nobody"})
	uitest.MustContain(t, sent, "If an account exists for that name, we&#39;ve sent a code to its email address.",
		`autocomplete="one-time-code"`, "at least 8 characters", "a symbol", `name="confirm_password"`)
	if !sameExceptTokens(sent, "ann", unknown, "nobody") {
		t.Errorf("known and unknown names differ:\n%s\n----\n%s", sent.Body, unknown.Body)
	}
	code := codeFrom(t, s.onlyMail(t, "ann@example.com"))

	const next = "Battery-Staple-7?"
	tests := []struct {
		name   string
		values map[string]string
		status int
		want   string
	}{
		{"wrong code", map[string]string{"code": "000000x", "new_password": next, "confirm_password": next},
			http.StatusUnprocessableEntity, "That code is not correct."},
		{"passwords differ", map[string]string{"code": code, "new_password": next, "confirm_password": next + "x"},
			http.StatusUnprocessableEntity, "The two passwords are not the same."},
		{"weak password", map[string]string{"code": code, "new_password": "weak", "confirm_password": "weak"},
			http.StatusUnprocessableEntity, "at least 8 characters"},
		{"missing code", map[string]string{"code": "", "new_password": next, "confirm_password": next},
			http.StatusUnprocessableEntity, "the code from the email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.values["login"] = "ann" // a visible field: submit copies hidden ones only
			p := b.submit(sent, tt.values)
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", p.Status, tt.status, p.Body)
			}
			uitest.MustContain(t, p, tt.want)
			if strings.Contains(p.Body, tt.values["new_password"]) {
				t.Error("the page shows the password it was sent")
			}
		})
	}

	// The code typed with a space, as people copy it.
	done := b.submit(sent, map[string]string{"login": "ann", "code": code[:3] + " " + code[3:], "new_password": next, "confirm_password": next})
	uitest.MustContain(t, done, "Your password has been changed", `href="/login?authRequestID=`+id+`"`)
	// Sent twice (a double click): the same good news.
	again := b.submit(sent, map[string]string{"login": "ann", "code": code, "new_password": next, "confirm_password": next})
	uitest.MustContain(t, again, "Your password has been changed")

	// Recorded once, in ann's name, from her address.
	trail, err := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: string(tenant.AuditUserPasswordRecover)})
	if err != nil {
		t.Fatal(err)
	}
	if len(trail.Events) != 1 || trail.Events[0].Actor.Name != "ann" || trail.Events[0].Actor.IP != "127.0.0.1" {
		t.Errorf("user.password.recover events %+v", trail.Events)
	}

	// Back to the sign-in that was waiting, with the new password.
	back := b.Get(s.tenantURL + "/login?authRequestID=" + id)
	claims := rpClaims(t, b.Follow(b.submit(back, map[string]string{"login": "ann", "password": next})))
	if claims["cognito:username"] != "ann" {
		t.Errorf("claims %v", claims)
	}
}

// A reset begun at the account page's sign-in leads back to it, as one
// begun at an application's sign-in leads back to that.
func TestForgotPasswordFromTheAccountPage(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)
	b := newBrowser(t)
	login := b.Follow(b.Get(s.tenantURL + "/account"))
	uitest.MustContain(t, login, `href="/forgot-password?authRequestID=account"`)
	forgot := b.Get(s.tenantURL + "/forgot-password?authRequestID=account")
	sent := b.submit(forgot, map[string]string{"login": "ann"})
	code := codeFrom(t, s.onlyMail(t, "ann@example.com"))
	const next = "Battery-Staple-7?"
	done := b.submit(sent, map[string]string{"login": "ann", "code": code, "new_password": next, "confirm_password": next})
	uitest.MustContain(t, done, "Your password has been changed", `href="/login?authRequestID=account"`)
	back := b.Follow(b.Get(s.tenantURL + "/login?authRequestID=account"))
	account := b.Follow(b.submit(back, map[string]string{"login": "ann", "password": next}))
	if account.URL.Path != "/account" {
		t.Errorf("signed in with the new password at %s, want /account", account.URL)
	}
}

// Wrong codes run out after five, whether or not the name has an account;
// an expired code asks for a new one.
func TestResetCodeLimits(t *testing.T) {
	clock := &testClock{t: time.Now()}
	s := newStack(t, stackOptions{now: clock.Now})
	s.addUser(t, "ann", goodPassword, false)
	b := newBrowser(t)

	reset := map[string]page{}
	for _, name := range []string{"ann", "nobody"} {
		reset[name] = b.submit(b.Get(s.tenantURL+"/forgot-password"), map[string]string{"login": name})
	}
	code := codeFrom(t, s.onlyMail(t, "ann@example.com"))
	wrong := "111111"
	if code == wrong {
		wrong = "222222"
	}
	last := map[string]page{}
	for _, name := range []string{"ann", "nobody"} {
		for i := range tenant.MaxResetCodeAttempts {
			p := b.submit(reset[name], map[string]string{"login": name, "code": wrong, "new_password": "Battery-Staple-7?", "confirm_password": "Battery-Staple-7?"})
			if i < tenant.MaxResetCodeAttempts-1 && p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%s, attempt %d: status %d", name, i+1, p.Status)
			}
			last[name] = p
		}
		if last[name].Status != http.StatusTooManyRequests {
			t.Errorf("%s: status %d after five wrong codes, want 429", name, last[name].Status)
		}
		uitest.MustContain(t, last[name], "Too many wrong codes: this code no longer works. Request a new code.",
			`href="/forgot-password?login=`+name+`"`)
	}
	if !sameExceptTokens(last["ann"], "ann", last["nobody"], "nobody") {
		t.Errorf("the limit reads differently for an account and for no account:\n%s\n----\n%s", last["ann"].Body, last["nobody"].Body)
	}
	p := b.submit(reset["ann"], map[string]string{"login": "ann", "code": code, "new_password": "Battery-Staple-7?", "confirm_password": "Battery-Staple-7?"})
	uitest.MustContain(t, p, "Too many wrong codes")

	// A new code, left for more than an hour.
	clock.Advance(2 * time.Minute)
	fresh := b.submit(b.Get(s.tenantURL+"/forgot-password"), map[string]string{"login": "ann"})
	code = codeFrom(t, s.onlyMail(t, "ann@example.com"))
	clock.Advance(61 * time.Minute)
	p = b.submit(fresh, map[string]string{"login": "ann", "code": code, "new_password": "Battery-Staple-7?", "confirm_password": "Battery-Staple-7?"})
	uitest.MustContain(t, p, "This code has expired or has already been used. Request a new code.", "Request a new code")
}

// A user whose password an administrator reset: the old password leads to
// the reset, a wrong one reads like any wrong one, and the reset mail's
// link opens the code form.
func TestResetRequired(t *testing.T) {
	s := newStack(t, stackOptions{})
	ann := s.addUser(t, "ann", goodPassword, false)
	if _, _, err := s.svc.AdminResetPassword(t.Context(), "acme", ann.Sub); err != nil {
		t.Fatal(err)
	}
	m := s.onlyMail(t, "ann@example.com")
	code := codeFrom(t, m)
	b := newBrowser(t)

	wrong := b.submit(s.startLogin(t, b), map[string]string{"login": "ann", "password": "Wrong-Pass-1!"})
	unknown := b.submit(s.startLogin(t, b), map[string]string{"login": "nobody", "password": "Wrong-Pass-1!"})
	uitest.MustContain(t, wrong, "Incorrect username or password.", "Forgot your password?")
	if wrong.Status != unknown.Status {
		t.Errorf("status %d for a reset user, %d for nobody", wrong.Status, unknown.Status)
	}
	p := b.submit(s.startLogin(t, b), map[string]string{"login": "ann", "password": goodPassword})
	uitest.MustContain(t, p, "Reset your password", "&amp;login=ann")

	link := regexp.MustCompile(`https?://\S+/reset-password\?login=ann`).FindString(m.Text)
	if link == "" {
		t.Fatalf("no reset link in:\n%s", m.Text)
	}
	form := b.Get(link)
	uitest.MustContain(t, form, `value="ann"`, `autocomplete="one-time-code"`)
	done := b.submit(form, map[string]string{"login": "ann", "code": code, "new_password": "Battery-Staple-7?", "confirm_password": "Battery-Staple-7?"})
	uitest.MustContain(t, done, "Your password has been changed", `href="/sign-in?login_hint=ann"`)
}

// The welcome mail's link: a sign-in at the tenant's own host, the forced
// change, and the welcome page.
func TestStartPageSignIn(t *testing.T) {
	s := newStack(t, stackOptions{})
	ann, err := s.svc.CreateUser(t.Context(), "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.svc.ActivateUser(t.Context(), "acme", ann.Sub); err != nil {
		t.Fatal(err)
	}
	m := s.onlyMail(t, "ann@example.com")
	temp := mailTemp.FindStringSubmatch(m.Text)
	link := regexp.MustCompile(`http://\S+/sign-in\?login_hint=ann`).FindString(m.Text)
	if temp == nil || link == "" {
		t.Fatalf("welcome mail without password or link:\n%s", m.Text)
	}

	b := newBrowser(t)
	login := b.Follow(b.Get(link))
	uitest.MustContain(t, login, "Sign in to Acme BV", `value="ann"`)
	// The organization's own sign-in does not name it twice.
	uitest.MustNotContain(t, login, "to continue to")
	change := b.submit(login, map[string]string{"login": "ann", "password": temp[1]})
	uitest.MustContain(t, change, "Choose a new password")
	welcome := b.Follow(b.submit(change, map[string]string{"new_password": goodPassword, "confirm_password": goodPassword}))
	if welcome.URL.Path != tenant.PathWelcome {
		t.Fatalf("ended at %s, want the welcome page:\n%s", welcome.URL, welcome.Body)
	}
	uitest.MustContain(t, welcome, "Your account is ready", "You are signed in to Acme BV as ann.")

	// The link of another newcomer, opened where ann is signed in, asks
	// for a sign-in: it is not taken for ann. Her own link is.
	for _, tc := range []struct{ hint, prompt string }{{"tim", "login"}, {"ANN", ""}, {"ann@example.com", ""}} {
		to := b.Get(s.tenantURL + tenant.PathSignIn + "?login_hint=" + url.QueryEscape(tc.hint))
		u, err := url.Parse(to.Location)
		if err != nil || u.Query().Get("prompt") != tc.prompt || u.Query().Get("login_hint") != tc.hint {
			t.Errorf("link for %s: to %q, want prompt %q", tc.hint, to.Location, tc.prompt)
		}
	}

	// Without a session the page offers to sign in.
	uitest.MustContain(t, newBrowser(t).Get(s.tenantURL+tenant.PathWelcome), "You are not signed in", `href="/sign-in"`)
}

func TestFindOrganizationByEmail(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)
	b := newBrowser(t)
	form := b.Get(s.base + "/")
	known := b.submit(form, map[string]string{"organization": "ann@example.com"})
	unknown := b.submit(form, map[string]string{"organization": "zed@example.com"})
	uitest.MustContain(t, known, "Check your email", "If ann@example.com has an account at any organization")
	if !sameExceptTokens(known, "ann@example.com", unknown, "zed@example.com") {
		t.Errorf("known and unknown addresses differ:\n%s\n----\n%s", known.Body, unknown.Body)
	}
	got := s.deliver(t)
	if len(got) != 2 {
		t.Fatalf("delivered %d mails, want 2", len(got))
	}
	for _, m := range got {
		hasLink := strings.Contains(m.Text, s.tenantURL+"/")
		if want := m.To[0] == "ann@example.com"; hasLink != want || (want && !strings.Contains(m.Text, "Acme BV")) {
			t.Errorf("mail to %v (link %t):\n%s", m.To, hasLink, m.Text)
		}
	}
}

func TestOnboardingPagesInDutch(t *testing.T) {
	s := newStack(t, stackOptions{settings: tenant.Settings{Locale: "nl"}})
	b := newBrowser(t)
	forgot := b.Get(s.tenantURL + "/forgot-password")
	uitest.MustContain(t, forgot, `<html lang="nl">`, "Wachtwoord vergeten?", "Code versturen")
	reset := b.submit(forgot, map[string]string{"login": "ann"})
	uitest.MustContain(t, reset, "Als er een account met die naam bestaat", "minstens 8 tekens", "een hoofdletter")
	p := b.submit(reset, map[string]string{"login": "ann", "code": "123456", "new_password": "zwak", "confirm_password": "zwak"})
	uitest.MustContain(t, p, "Die code klopt niet.")
}

// The new forms refuse a post without the form token, like every form.
func TestOnboardingFormsNeedTheToken(t *testing.T) {
	s := newStack(t, stackOptions{})
	b := newBrowser(t)
	for _, path := range []string{"/forgot-password", tenant.PathResetPassword} {
		form := uitest.HiddenFields(b.Get(s.tenantURL + path).Body)
		form.Del("csrf_token")
		form.Set("login", "ann")
		if p := b.Post(s.tenantURL+path, form); p.Status != http.StatusForbidden {
			t.Errorf("%s without the token: status %d, want 403", path, p.Status)
		}
	}
	if got := s.deliver(t); len(got) != 0 {
		t.Errorf("a refused form sent %d mails", len(got))
	}
}
