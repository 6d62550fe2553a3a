package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/ui/uitest"
)

// twin is b as it is now, in a second tab: a browser with b's cookies that
// does not see what b receives from here, as the second of two requests
// sent before the answer to the first arrives.
func (b *browser) twin(t *testing.T, s *stack) *browser {
	t.Helper()
	other := newBrowser(t)
	for _, raw := range []string{s.tenantURL, s.rpURL} {
		u, _ := url.Parse(raw)
		var cookies []*http.Cookie
		for _, c := range b.Client.Jar.Cookies(u) {
			cookies = append(cookies, &http.Cookie{Name: c.Name, Value: c.Value, Path: "/"})
		}
		other.Client.Jar.SetCookies(u, cookies)
	}
	return other
}

// The login form sent twice by one browser (a double click, Enter and then
// a click) at its first sign-in, before it holds any cookie of a sign-in:
// both sends are the same browser's, and the one it shows, the last,
// signs in at the application. A copied link signed in with elsewhere is
// still refused, with one line in the log.
func TestLoginFormSentTwice(t *testing.T) {
	log := &uitest.Log{}
	s := newStack(t, stackOptions{log: log})
	s.addUser(t, "ann", goodPassword, false)
	creds := map[string]string{"login": "ann", "password": goodPassword}

	t.Run("by one browser", func(t *testing.T) {
		b := newBrowser(t)
		login := s.startLogin(t, b)
		second := b.twin(t, s)
		if first := b.submit(login, creds); first.Status != http.StatusSeeOther {
			t.Fatalf("first send: status %d:\n%s", first.Status, first.Body)
		}
		again := second.submit(login, creds)
		if again.Status != http.StatusSeeOther {
			t.Fatalf("second send: status %d, want 303 to the callback:\n%s", again.Status, again.Body)
		}
		rpClaims(t, second.Follow(again))
	})

	t.Run("by another browser, with a copied link", func(t *testing.T) {
		b := newBrowser(t)
		login := s.startLogin(t, b)
		other := newBrowser(t)
		copied := other.Get(login.URL.String())
		if first := b.submit(login, creds); first.Status != http.StatusSeeOther {
			t.Fatalf("first browser: status %d:\n%s", first.Status, first.Body)
		}
		mark := log.Mark()
		refused := other.submit(copied, creds)
		lines := log.Since(mark)
		if refused.Status != http.StatusBadRequest {
			t.Errorf("other browser: status %d, want 400", refused.Status)
		}
		uitest.MustContain(t, refused, "This sign-in link has expired or has been used already.")
		if len(lines) != 1 || !strings.Contains(lines[0], "another browser completed this request") {
			t.Errorf("logged, want one line of the other browser:\n%s", strings.Join(lines, "\n"))
		}
		// The request stays the first browser's.
		rpClaims(t, b.Follow(b.Get(s.tenantURL+"/login?authRequestID="+uitest.HiddenField(t, login, "authRequestID"))))
	})
}

// A step of a sign-in voided because the account changed meanwhile (the
// temporary password changed in another tab) is one refusal: one line in
// the log, the state machine's, which names whose sign-in it was.
func TestVoidedStepLogsOneLine(t *testing.T) {
	log := &uitest.Log{}
	s := newStack(t, stackOptions{log: log})
	s.addUser(t, "tom", tempPassword, true)
	tab1, tab2 := newBrowser(t), newBrowser(t)
	creds := map[string]string{"login": "tom", "password": tempPassword}
	form1 := tab1.submit(s.startLogin(t, tab1), creds)
	form2 := tab2.submit(s.startLogin(t, tab2), creds)
	if done := tab1.submit(form1, map[string]string{"new_password": goodPassword, "confirm_password": goodPassword, "username": "tom"}); done.Status != http.StatusSeeOther {
		t.Fatalf("first tab: status %d:\n%s", done.Status, done.Body)
	}
	const other = "Other-Passw0rd-9!"
	mark := log.Mark()
	p := tab2.submit(form2, map[string]string{"new_password": other, "confirm_password": other, "username": "tom"})
	lines := log.Since(mark)
	if p.Status != http.StatusBadRequest {
		t.Errorf("status %d, want 400", p.Status)
	}
	uitest.MustContain(t, p, "This sign-in has ended", "Start signing in again.")
	if len(lines) != 1 || !strings.Contains(lines[0], "sign-in voided") {
		t.Errorf("logged, want the one line of the voided sign-in:\n%s", strings.Join(lines, "\n"))
	}
}
