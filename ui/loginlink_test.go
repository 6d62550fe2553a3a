package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// Cognito's hosted-UI link, /login with the authorization endpoint's
// parameters (the Cognito console's "View hosted UI"), is an authorization
// request: the application gets its code, and a link the authorization
// endpoint refuses is refused the same way.
func TestCognitoLoginLink(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)

	// asLoginLink is the relying party's authorization request as a
	// /login link, with its parameters changed by change.
	asLoginLink := func(b *browser, change func(url.Values)) (login, authorize string) {
		t.Helper()
		start := b.Get(s.rpURL + "/start")
		u, err := url.Parse(start.Location)
		if err != nil || u.Path != provider.PathAuthorize {
			t.Fatalf("the relying party started at %q, want its authorization request", start.Location)
		}
		q := u.Query()
		change(q)
		u.RawQuery = q.Encode()
		authorize = u.String()
		u.Path = "/login"
		return u.String(), authorize
	}

	t.Run("signs in and returns to the application", func(t *testing.T) {
		b := newBrowser(t)
		login, authorize := asLoginLink(b, func(url.Values) {})
		to := b.Get(login)
		if to.Status != http.StatusFound || to.Location != authorize {
			t.Fatalf("/login with an authorization request: %d to %q, want 302 to %s", to.Status, to.Location, authorize)
		}
		page := b.Follow(to)
		if page.Status != http.StatusOK || page.URL.Path != "/login" || uitest.HiddenFields(page.Body).Get("authRequestID") == "" {
			t.Fatalf("want the login page of the request, got %d at %s:\n%s", page.Status, page.URL, page.Body)
		}
		if claims := rpClaims(t, b.Follow(b.submit(page, map[string]string{"login": "ann", "password": goodPassword}))); claims["cognito:username"] != "ann" {
			t.Errorf("the application signed in %v, want ann", claims["cognito:username"])
		}
	})

	refused := []struct {
		name   string
		change func(url.Values)
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "no-such-client") }},
		{"empty client", func(q url.Values) { q.Set("client_id", "") }},
		{"redirect URI not registered", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }},
		{"no client, a response type", func(q url.Values) { q.Del("client_id") }},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge") }}, // refused at the application
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			login, authorize := asLoginLink(b, tt.change)
			viaLogin, direct := b.Follow(b.Get(login)), b.Follow(b.Get(authorize))
			if viaLogin.Status != http.StatusBadRequest {
				t.Errorf("through /login: status %d at %s, want the refusal's 400", viaLogin.Status, viaLogin.URL)
			}
			if viaLogin.Status != direct.Status || viaLogin.URL.String() != direct.URL.String() || sansToken(viaLogin.Body) != sansToken(direct.Body) {
				t.Errorf("through /login: %d at %s; the authorization endpoint: %d at %s\n%s\n----\n%s",
					viaLogin.Status, viaLogin.URL, direct.Status, direct.URL, viaLogin.Body, direct.Body)
			}
		})
	}

	t.Run("without an authorization request", func(t *testing.T) {
		p := newBrowser(t).Get(s.tenantURL + "/login?lang=nl")
		if p.Status != http.StatusSeeOther || !strings.HasSuffix(p.Location, "/sign-in") {
			t.Errorf("status %d to %q, want 303 to the organization's own sign-in", p.Status, p.Location)
		}
	})
}

// sansToken is a page without what differs on every render of it: the
// form token, and the ID of the sign-in request.
func sansToken(body string) string {
	for _, name := range []string{"csrf_token", "authRequestID"} {
		if v := uitest.HiddenFields(body).Get(name); v != "" {
			body = strings.ReplaceAll(body, v, "")
		}
	}
	return body
}
