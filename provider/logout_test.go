package provider_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/tenant"
)

// signedIn reports whether the harness's browser has a live SSO session at
// slug.
func (h *harness) signedIn(slug string) bool {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.issuer(slug)+"/", nil)
	for _, c := range h.http.Jar.Cookies(mustURL(h.issuer(slug))) {
		req.AddCookie(c)
	}
	_, _, ok := h.prov.Session(req, slug)
	return ok
}

// A logout ends the session only when the request says where it comes
// from: a logout address the client registered (Cognito's client_id and
// logout_uri, or OIDC's post_logout_redirect_uri), or an ID token of the
// user who is signed in (OpenID Connect RP-Initiated Logout §2). Anything
// else, which any web page can send a browser to, goes to the confirmation
// page and leaves the session as it was (item 9 of the tester's report: a
// bare GET /logout signed people out). Cognito's sign-in-again form ends
// the session and starts a sign-in at the authorization endpoint.
func TestLogoutForms(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", true)
	cfg := h.oauthConfig(f)
	const bye = "http://rp.localhost/bye"
	bob, err := h.svc.CreateUser(context.Background(), "acme", tenant.NewUser{Username: "bob", Email: "bob@example.com",
		EmailVerified: true, Password: f.password})
	if err != nil {
		t.Fatal(err)
	}
	asBob := f
	asBob.user = bob
	bobsHint := h.signIn(asBob, cfg).Extra("id_token").(string)
	other := h.fixture("other", false)
	othersHint := h.signIn(other, h.oauthConfig(other)).Extra("id_token").(string)

	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	relogin := url.Values{"client_id": {f.client.ID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"state": {"st"}, "scope": {"openid email"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	with := func(v url.Values, k, val string) url.Values {
		c := url.Values{}
		for key, vals := range v {
			c[key] = vals
		}
		c.Set(k, val)
		return c
	}
	const (
		confirm = "/logout/confirm"
		refused = "This sign-out link does not work here, so you have not been signed out."
	)
	tests := []struct {
		name string
		// query builds the request's parameters; hint is ann's ID token.
		query func(hint string) url.Values
		// location is where the browser goes; empty: a refusal page.
		location string
		ended    bool
	}{
		{"bare", func(string) url.Values { return nil }, confirm, false},
		{"logout_uri without a client", func(string) url.Values { return url.Values{"logout_uri": {bye}} }, confirm, false},
		{"post_logout_redirect_uri without a client or hint", func(string) url.Values {
			return url.Values{"post_logout_redirect_uri": {bye}}
		}, confirm, false},
		{"client_id alone", func(string) url.Values { return url.Values{"client_id": {f.client.ID}} }, confirm, false},
		{"state alone", func(string) url.Values { return url.Values{"state": {"s"}} }, confirm, false},
		{"hint of another user", func(string) url.Values { return url.Values{"id_token_hint": {bobsHint}} }, confirm, false},
		{"Cognito: registered logout_uri", func(string) url.Values {
			return url.Values{"client_id": {f.client.ID}, "logout_uri": {bye}}
		}, bye, true},
		{"OIDC: registered post_logout_redirect_uri", func(string) url.Values {
			return url.Values{"client_id": {f.client.ID}, "post_logout_redirect_uri": {bye}, "state": {"s"}}
		}, bye + "?state=s", true},
		{"OIDC: hint of the signed-in user", func(hint string) url.Values { return url.Values{"id_token_hint": {hint}} }, "/logged-out", true},
		{"OIDC: hint and registered address", func(hint string) url.Values {
			return url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {bye}}
		}, bye, true},
		{"unregistered logout_uri", func(string) url.Values {
			return url.Values{"client_id": {f.client.ID}, "logout_uri": {"http://evil.localhost/"}}
		}, "", false},
		// A hint that does not verify never leads to the address it came
		// with (RP-Initiated Logout §4), but the person is asked (§2).
		{"broken hint", func(hint string) url.Values { return url.Values{"id_token_hint": {hint + "x"}} }, confirm, false},
		{"broken hint and registered address", func(hint string) url.Values {
			return url.Values{"id_token_hint": {hint + "x"}, "client_id": {f.client.ID}, "post_logout_redirect_uri": {bye}}
		}, confirm, false},
		{"another organization's hint and a registered address", func(string) url.Values {
			return url.Values{"id_token_hint": {othersHint}, "client_id": {f.client.ID}, "post_logout_redirect_uri": {bye}}
		}, confirm, false},
		{"Cognito: sign in again", func(string) url.Values { return relogin }, "/oauth2/authorize?" + relogin.Encode(), true},
		{"sign in again, unregistered redirect_uri", func(string) url.Values {
			return with(relogin, "redirect_uri", "http://evil.localhost/cb")
		}, "", false},
		{"sign in again, a logout address as redirect_uri", func(string) url.Values {
			return with(relogin, "redirect_uri", bye)
		}, "", false},
		{"sign in again, response_type token", func(string) url.Values { return with(relogin, "response_type", "token") }, "", false},
		{"sign in again, no response_type", func(string) url.Values { return with(relogin, "response_type", "") }, "", false},
		{"sign in again, unknown client", func(string) url.Values { return with(relogin, "client_id", "nope") }, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hint := h.signIn(f, cfg).Extra("id_token").(string)
			if !h.signedIn("acme") {
				t.Fatal("not signed in before the logout")
			}
			u := h.issuer("acme") + "/logout"
			if q := tc.query(hint); q != nil {
				u += "?" + q.Encode()
			}
			resp := h.get(u)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.location == "" {
				if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(string(body), refused) {
					t.Errorf("status %d, body %q; want 400 and %q", resp.StatusCode, body, refused)
				}
			} else if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != tc.location {
				t.Errorf("status %d, Location %q; want 302 to %s", resp.StatusCode, loc, tc.location)
			}
			if ended := !h.signedIn("acme"); ended != tc.ended {
				t.Errorf("session ended: %t, want %t", ended, tc.ended)
			}
		})
	}

	t.Run("without a session", func(t *testing.T) {
		h.http.Jar.SetCookies(mustURL(h.issuer("acme")), []*http.Cookie{{Name: "cognate_session", Value: "", MaxAge: -1}})
		resp := h.get(h.issuer("acme") + "/logout")
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/logged-out" {
			t.Errorf("status %d, Location %q; want 302 to /logged-out: there is nothing to confirm", resp.StatusCode, loc)
		}
	})
	// The realistic case of a hint that no longer verifies: the key that
	// signed it was retired, as after a leak (docs/secrets.md). The person
	// is asked, and the confirmation page's form signs them out.
	t.Run("hint of a retired key", func(t *testing.T) {
		hint := h.signIn(f, cfg).Extra("id_token").(string)
		if _, err := h.svc.RotateSigningKey(h.ctx(), "acme", tenant.KeyRotation{RetirePrevious: true}); err != nil {
			t.Fatal(err)
		}
		start := len(h.logs.String())
		resp := h.get(h.issuer("acme") + "/logout?" + url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {bye}}.Encode())
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != confirm {
			t.Errorf("status %d, Location %q; want 302 to %s", resp.StatusCode, loc, confirm)
		}
		if !h.signedIn("acme") {
			t.Error("the session ended without the person's word")
		}
		if logged := h.logs.String()[start:]; !strings.Contains(logged, "id_token_hint does not verify") || !strings.Contains(logged, "retired") ||
			strings.Contains(logged, hint) {
			t.Errorf("want a line saying the hint does not verify, without the hint:\n%s", logged)
		}
		// Without a session there is nothing to ask: the confirmation
		// page says so. Still not the address.
		h.http.Jar.SetCookies(mustURL(h.issuer("acme")), []*http.Cookie{{Name: "cognate_session", Value: "", MaxAge: -1}})
		resp = h.get(h.issuer("acme") + "/logout?" + url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {bye}}.Encode())
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != confirm {
			t.Errorf("without a session: Location %q, want %s", loc, confirm)
		}
	})
	t.Run("sign in again arrives at the login page", func(t *testing.T) {
		h.signIn(f, cfg)
		resp := h.get(h.issuer("acme") + "/logout?" + relogin.Encode())
		resp.Body.Close()
		resp = h.get(h.issuer("acme") + resp.Header.Get("Location"))
		resp.Body.Close()
		if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc == nil || loc.Path != "/login" {
			t.Errorf("the new sign-in: status %d, Location %v; want the login page", resp.StatusCode, loc)
		}
	})
}
