package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// consoleCallback signs boss in to acme's console in b up to the console's
// callback, and returns its address (state and code) without visiting it.
func consoleCallback(t *testing.T, s *stack, b *browser) string {
	t.Helper()
	login := b.Follow(b.Get(s.url("acme", "/admin/users")))
	if login.URL.Path != "/login" {
		t.Fatalf("want the tenant's login page, got %d at %s", login.Status, login.URL)
	}
	p := b.Submit(login, "/login", url.Values{"login": {"boss"}, "password": {adminPassword}})
	for i := 0; i < 10 && p.Location != "" && !strings.Contains(p.Location, "/admin/callback"); i++ {
		p = b.Get(p.Location)
	}
	if !strings.Contains(p.Location, "/admin/callback") {
		t.Fatalf("the sign-in never reached the console's callback: %d at %s", p.Status, p.URL)
	}
	return p.Location
}

// consoleCookie is b's console cookie of name at acme, if any.
func consoleCookie(t *testing.T, s *stack, b *browser, name string) *http.Cookie {
	t.Helper()
	for _, c := range b.Client.Jar.Cookies(mustParse(t, s.url("acme", "/admin/"))) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// consoleSessionCookie is b's console session cookie at acme, if any.
func consoleSessionCookie(t *testing.T, s *stack, b *browser) *http.Cookie {
	t.Helper()
	return consoleCookie(t, s, b, "cognate_console")
}

// consoleSignIns counts acme's console.signin audit events.
func consoleSignIns(t *testing.T, s *stack) int {
	t.Helper()
	trail, err := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: string(tenant.AuditConsoleSignIn)})
	if err != nil {
		t.Fatal(err)
	}
	return len(trail.Events)
}

// The callback finishes a sign-in only in the browser that started it,
// whose login cookie holds the state (login CSRF, RFC 6749 §10.12):
// another browser sent to the same address, as an attacker would send a
// victim with the attacker's code, is refused and gets no session. The
// refusal spends nothing: the browser that started the sign-in still
// finishes it with the same address.
func TestConsoleCallbackInAnotherBrowser(t *testing.T) {
	s := newStack(t)
	started := newBrowser(t)
	callback := consoleCallback(t, s, started)

	other := newBrowser(t)
	p := other.Get(callback)
	if p.Status != http.StatusBadRequest {
		t.Errorf("the callback in another browser: status %d, want 400", p.Status)
	}
	uitest.MustContain(t, p, "This sign-in was started in another browser or has already been used.")
	if c := consoleSessionCookie(t, s, other); c != nil {
		t.Errorf("the other browser got a console session cookie: %v", c)
	}
	if n := consoleSignIns(t, s); n != 0 {
		t.Errorf("%d console sign-ins after the other browser's callback, want none", n)
	}

	if back := started.Get(callback); back.Status != http.StatusSeeOther || back.Location != s.url("acme", "/admin/users") {
		t.Fatalf("the callback in the browser that started the sign-in: %d to %q", back.Status, back.Location)
	}
	if consoleSessionCookie(t, s, started) == nil {
		t.Error("the browser that started the sign-in got no console session")
	}
}

// A state is good once: the callback sent again, even with the login
// cookie put back (the finished sign-in expires it), is refused before its
// code is tried, and starts no second session.
func TestConsoleCallbackReplayed(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	callback := consoleCallback(t, s, b)
	login := consoleCookie(t, s, b, "cognate_console_login")
	if login == nil {
		t.Fatal("the sign-in set no login cookie")
	}
	if first := b.Get(callback); first.Status != http.StatusSeeOther {
		t.Fatalf("the first callback: status %d, want 303", first.Status)
	}

	replay := newBrowser(t)
	replay.Client.Jar.SetCookies(mustParse(t, s.url("acme", "/")), []*http.Cookie{{Name: login.Name, Value: login.Value, Path: "/"}})
	p := replay.Get(callback)
	if p.Status != http.StatusBadRequest {
		t.Errorf("the callback replayed: status %d, want 400", p.Status)
	}
	uitest.MustContain(t, p, "This sign-in took too long and has expired.")
	if c := consoleSessionCookie(t, s, replay); c != nil {
		t.Errorf("the replay got a console session cookie: %v", c)
	}
	if n := consoleSignIns(t, s); n != 1 {
		t.Errorf("%d console sign-ins after the replay, want the first one only", n)
	}
}

// An administrator deleted between the provider's sign-in and the
// console's read of them is refused as any non-administrator is, not met
// with a fault: no access, no session, a console.denied event.
func TestConsoleCallbackForAUserDeletedMeanwhile(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	callback := consoleCallback(t, s, b)
	boss := s.admin["acme"]
	s.vanishing.Vanish(boss.Sub)
	defer s.vanishing.Vanish("")
	p := b.Get(callback)
	if p.Status != http.StatusForbidden {
		t.Fatalf("the callback: status %d, want 403:\n%s", p.Status, p.Body)
	}
	uitest.MustContain(t, p, "No access to the admin console")
	if c := consoleSessionCookie(t, s, b); c != nil {
		t.Errorf("a deleted user got a console session cookie: %v", c)
	}
	denied, err := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: string(tenant.AuditConsoleDenied)})
	if err != nil {
		t.Fatal(err)
	}
	if len(denied.Events) != 1 || denied.Events[0].Reason != tenant.ReasonNotAdmin || denied.Events[0].Target.ID != boss.Sub {
		t.Errorf("console.denied events %+v", denied.Events)
	}
}

// A sign-in the provider refused (the person cancelled), or whose code
// does not redeem, is no session: the page says the sign-in was not
// completed and offers to sign in again.
func TestConsoleCallbackNotCompleted(t *testing.T) {
	s := newStack(t)
	tests := []struct {
		name string
		edit func(q url.Values)
	}{
		{"the provider refused", func(q url.Values) { q.Del("code"); q.Set("error", "access_denied") }},
		{"a code that does not redeem", func(q url.Values) { q.Set("code", "not-the-code") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			callback := mustParse(t, consoleCallback(t, s, b))
			q := callback.Query()
			tt.edit(q)
			callback.RawQuery = q.Encode()
			p := b.Get(callback.String())
			if p.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400:\n%s", p.Status, p.Body)
			}
			uitest.MustContain(t, p, "Signing in to the console did not work", "The sign-in was not completed. Try again.",
				`href="/admin/login"`, "Sign in again")
			if c := consoleSessionCookie(t, s, b); c != nil {
				t.Errorf("a console session cookie: %v", c)
			}
		})
	}
	if n := consoleSignIns(t, s); n != 0 {
		t.Errorf("%d console sign-ins, want none", n)
	}
}
