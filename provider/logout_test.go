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
	_, ok := h.prov.Session(req, slug)
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
		{"broken hint", func(hint string) url.Values { return url.Values{"id_token_hint": {hint + "x"}} }, "", false},
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
