package ui_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
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

// A legacy pool that accepts the password but describes an account that
// cannot come over makes signing in temporarily unavailable too (503, the
// form kept), with one log line for the operator and nothing written: its
// sub is another user's here, or one that no user can have here.
func TestLegacyAccountCannotComeOver(t *testing.T) {
	tests := []struct {
		name, sub string
		wantLog   string
	}{
		{"sub of another user", "sub-conf", "level=ERROR"},
		{"sub ..", "..", "level=WARN"},
		{"sub a/b", "a/b", "level=WARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The receiver of the migration webhook vouches for any
			// password, and answers with the sub of the case.
			pool := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var ev map[string]any
				if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				ev["response"] = map[string]any{"userAttributes": map[string]string{"sub": tt.sub}, "finalUserStatus": "CONFIRMED"}
				_ = json.NewEncoder(w).Encode(ev)
			}))
			t.Cleanup(pool.Close)
			log := &uitest.Log{}
			settings := tenant.Settings{Legacy: tenant.LegacyPool{Kind: tenant.LegacyWebhook, WebhookURL: pool.URL + "/migrate", WebhookSecret: "0123456789abcdef0123456789abcdef"}}
			s := newStack(t, stackOptions{settings: settings, legacy: &legacy.Directory{}, log: log})
			if _, err := s.svc.CreateUser(t.Context(), "acme", tenant.NewUser{Username: "u-conf", Sub: "sub-conf", Password: goodPassword}); err != nil {
				t.Fatal(err)
			}
			b := newBrowser(t)
			login := s.startLogin(t, b)
			mark := log.Mark()
			p := b.submit(login, map[string]string{"login": "temp", "password": goodPassword})
			lines := log.Since(mark)
			if p.Status != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503", p.Status)
			}
			uitest.MustContain(t, p, "Signing in is temporarily unavailable. Try again in a few minutes.", `name="password"`)
			uitest.MustNotContain(t, p, "Something went wrong")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.wantLog) || strings.Contains(lines[0], goodPassword) {
				t.Errorf("logged, want one %s line without the password:\n%s", tt.wantLog, strings.Join(lines, "\n"))
			}
			page, err := s.svc.ListUsers(t.Context(), "acme", "", 10)
			if err != nil || len(page.Users) != 1 {
				t.Errorf("users after the refusal: %+v, %v", page.Users, err)
			}
		})
	}
}
