package ui_test

import (
	"net"
	"net/http"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/legacy"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// A legacy pool that does not answer makes sign-in temporarily
// unavailable: a 503 with its own words, never "incorrect password", and
// the form stays to try again.
func TestLegacyPoolUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/migrate"
	ln.Close() // nothing listens there now

	settings := tenant.Settings{Legacy: tenant.LegacyPool{Kind: tenant.LegacyWebhook, WebhookURL: down, WebhookSecret: "0123456789abcdef0123456789abcdef"}}
	s := newStack(t, stackOptions{settings: settings, legacy: &legacy.Directory{}})
	b := newBrowser(t)
	login := s.startLogin(t, b)

	p := b.submit(login, map[string]string{"login": "ann", "password": goodPassword})
	if p.Status != http.StatusServiceUnavailable || p.Header.Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q; want 503 with Retry-After", p.Status, p.Header.Get("Retry-After"))
	}
	uitest.MustContain(t, p, "Signing in is temporarily unavailable. Try again in a few minutes.", `name="password"`)
	page, err := s.svc.ListUsers(t.Context(), "acme", "", 10)
	if err != nil || len(page.Users) != 0 {
		t.Errorf("users after the refusal: %v, %v", page.Users, err)
	}
}
