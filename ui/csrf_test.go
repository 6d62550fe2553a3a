package ui

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The form token's cookie is set as the provider's cookies are
// (provider.Hosts.Cookie): over https a __Host- cookie, Path=/, HttpOnly,
// Secure; SameSite=Lax (see the top of csrf.go) and no Max-Age, so it lasts
// as long as the browser session. A browser that holds it keeps its token.
func TestCSRFCookie(t *testing.T) {
	p := &Pages{Provider: proxiedProvider(t)}
	rec := httptest.NewRecorder()
	token := p.csrfToken(rec, httptest.NewRequest(http.MethodGet, "https://acme.example.com/login", nil))
	want := "__Host-cognate_csrf=" + token + "; Path=/; HttpOnly; Secure; SameSite=Lax"
	if got := rec.Result().Header.Values("Set-Cookie"); len(got) != 1 || got[0] != want {
		t.Errorf("Set-Cookie %q, want %q", got, want)
	}

	req := httptest.NewRequest(http.MethodGet, "https://acme.example.com/login", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-cognate_csrf", Value: token})
	rec = httptest.NewRecorder()
	if got := p.csrfToken(rec, req); got != token {
		t.Errorf("token %q, want the browser's %q", got, token)
	}
	if got := rec.Result().Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("a browser with a token is set %q", got)
	}
}
