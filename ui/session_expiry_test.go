package ui_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// An SSO session past its lifetime signs no one in, even while its record
// is still in the store (nothing has swept it yet) and the browser still
// sends its cookie (the browser's clock is not the server's): the
// authorization request shows the sign-in page, and with prompt=none the
// relying party gets login_required (OpenID Connect Core §3.1.2.6).
func TestExpiredSessionSignsNoOneIn(t *testing.T) {
	clock := &testClock{t: time.Now()}
	s := newStack(t, stackOptions{now: clock.Now})
	s.addUser(t, "ann", goodPassword, false)
	b := newBrowser(t)
	rpClaims(t, b.Follow(b.submit(s.startLogin(t, b), map[string]string{"login": "ann", "password": goodPassword})))

	loginPage := func() bool {
		t.Helper()
		p := b.Follow(b.Get(s.rpURL + "/start"))
		return p.Status == http.StatusOK && strings.Contains(p.URL.Path, "/login")
	}
	clock.Advance(tenant.SessionTTL - time.Minute)
	if loginPage() {
		t.Fatal("a session a minute short of its lifetime should sign in silently")
	}

	clock.Advance(2 * time.Minute)
	if !loginPage() {
		t.Error("a session past its lifetime signed the browser in; want the sign-in page")
	}
	p := b.Follow(b.Get(s.rpURL + "/start?prompt=none"))
	if !strings.Contains(p.Body, "login_required") {
		t.Errorf("prompt=none with a session past its lifetime: status %d at %s, want login_required back at the app", p.Status, p.URL)
	}
}
