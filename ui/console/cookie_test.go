package console

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// Over https the console's cookies are __Host- cookies, as the provider's
// are: a sibling host (another tenant, the apex) cannot plant a console
// session, and one under the plain name is ignored. Plain http keeps the
// plain names (the stack tests).
func TestCookiesOverHTTPS(t *testing.T) {
	c := cookieConsole(t, "https://example.com")

	for name, want := range map[string]string{c.sessionCookieName(): "__Host-cognate_console", c.loginCookieName(): "__Host-cognate_console_login"} {
		if name != want {
			t.Errorf("cookie %q, want %q", name, want)
		}
	}

	value := cookieSession(t, c)
	// The cookies the console deletes are set as a browser asks of a
	// __Host- cookie (Path=/, Secure, no Domain), once prefixed, with
	// their own SameSite.
	req, _ := http.NewRequest(http.MethodGet, "https://acme.example.com/admin/callback?state=s", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-cognate_console_login", Value: "s"})
	req.AddCookie(&http.Cookie{Name: "__Host-cognate_console", Value: value})
	rec := httptest.NewRecorder()
	_ = c.finishSignIn(rec, req, &request{tenant: tenant.Tenant{Slug: "acme"}}) // the state is unknown: refused, cookie deleted
	c.endSession(rec, req, "acme")
	set := rec.Result().Header.Values("Set-Cookie")
	for _, want := range []string{
		"__Host-cognate_console_login=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax",
		"__Host-cognate_console=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
	} {
		if !slices.Contains(set, want) {
			t.Errorf("Set-Cookie %q, want %q", set, want)
		}
	}
	if _, ok, _ := c.loadSession(req, "acme"); ok {
		t.Fatal("the session outlived its end")
	}

	value = cookieSession(t, c)
	for name, want := range map[string]bool{"__Host-cognate_console": true, "cognate_console": false, "__Secure-cognate_console": false} {
		req, _ := http.NewRequest(http.MethodGet, "https://acme.example.com/admin/users", nil)
		req.AddCookie(&http.Cookie{Name: name, Value: value})
		if _, ok, err := c.loadSession(req, "acme"); err != nil || ok != want {
			t.Errorf("session under %s: found %t, %v; want %t", name, ok, err, want)
		}
	}
}

// Over plain http a cookie from before the console's cookies moved to
// Path=/ has the same name and comes first (its path, /admin, is longer):
// the session is the one of the cookie that names one, whichever comes
// first, and ending it expires the old cookie too.
func TestTwoSessionCookiesOfOneName(t *testing.T) {
	c := cookieConsole(t, "http://localhost:8080")
	value := cookieSession(t, c)
	for _, header := range []string{"cognate_console=old-value; cognate_console=" + value, "cognate_console=" + value + "; cognate_console=old-value"} {
		req, _ := http.NewRequest(http.MethodGet, "http://acme.localhost:8080/admin/users", nil)
		req.Header.Set("Cookie", header)
		if got, ok, err := c.loadSession(req, "acme"); err != nil || !ok || got.Sub != "sub-boss" {
			t.Errorf("Cookie: %s: session %+v, found %t, %v", header, got, ok, err)
		}
	}

	req, _ := http.NewRequest(http.MethodPost, "http://acme.localhost:8080/admin/logout", nil)
	req.Header.Set("Cookie", "cognate_console=old-value; cognate_console="+value)
	rec := httptest.NewRecorder()
	c.endSession(rec, req, "acme")
	if _, ok, _ := c.loadSession(req, "acme"); ok {
		t.Error("the session outlived its end")
	}
	set := rec.Result().Header.Values("Set-Cookie")
	for _, want := range []string{"cognate_console=; Path=/; Max-Age=0", "cognate_console=; Path=/admin; Max-Age=0", "cognate_console_login=; Path=/admin; Max-Age=0"} {
		if !slices.ContainsFunc(set, func(h string) bool { return strings.HasPrefix(h, want) }) {
			t.Errorf("Set-Cookie %q, want one starting %q", set, want)
		}
	}
}

// cookieConsole is a console for the base URL base, on a new store, for
// tests of its cookies.
func cookieConsole(t *testing.T, base string) *Console {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	u, _ := url.Parse(base)
	prov, err := provider.New(provider.Config{Hosts: provider.Hosts{Base: u}, Store: store, Now: time.Now, CryptoKey: [32]byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	return &Console{Service: &tenant.Service{Store: store}, Provider: prov, Now: time.Now, IdleTimeout: time.Hour, MaxAge: time.Hour}
}

// cookieSession stores a console session of sub-boss at tenant acme and
// returns the cookie value that names it.
func cookieSession(t *testing.T, c *Console) string {
	t.Helper()
	value := tenant.NewSecret(32)
	now := time.Now()
	s := session{ID: tenant.HashSecret(value), Sub: "sub-boss", CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}
	err := c.Service.Store.Update(t.Context(), func(tx tenant.Tx) error {
		if err := tenant.PutTenant(tx, tenant.Tenant{Slug: "acme", Name: "Acme"}); err != nil {
			return err
		}
		return tenant.PutExpiring(tx, tenant.CollSessions, "acme", prefixSession+s.ID, s, s.ExpiresAt)
	})
	if err != nil {
		t.Fatal(err)
	}
	return value
}
