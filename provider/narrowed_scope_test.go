package provider_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/tenant"
)

// When the operator takes a scope from a client, what the client was
// given before loses it at once, not only at the next refresh: a code
// issued before the change gives tokens without it (the token response's
// scope, the access token's, the ID token's claims), and userinfo and
// introspection of an access token issued before no longer release it.
func TestNarrowedScopesReachCodesAndAccessTokens(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	cfg.Scopes = []string{"openid", "email"}
	issued := h.signIn(f, cfg) // before the change
	verifier := oauth2.GenerateVerifier()
	code := h.login(f, cfg, verifier, oauth2.SetAuthURLParam("prompt", "login")) // redeemed after it

	if _, err := h.svc.UpdateClient(h.ctx(), "acme", f.client.ID, tenant.ClientChange{Scopes: &[]string{"openid", "profile", "planner/read"}}); err != nil {
		t.Fatal(err)
	}

	tok, err := cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange after the change: %v", err)
	}
	if sc, _ := tok.Extra("scope").(string); sc != "openid" {
		t.Errorf("token response's scope %q, want openid", sc)
	}
	if sc, _ := jwtClaims(t, tok.AccessToken)["scope"].(string); sc != "openid" {
		t.Errorf("access token's scope %q, want openid", sc)
	}
	idToken, _ := tok.Extra("id_token").(string)
	if _, ok := jwtClaims(t, idToken)["email"]; ok {
		t.Errorf("the ID token carries email, which the client may no longer read: %v", jwtClaims(t, idToken))
	}

	for name, at := range map[string]string{"issued before the change": issued.AccessToken, "from the code": tok.AccessToken} {
		resp, body := h.userinfoRead(f, at)
		var claims map[string]any
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &claims) != nil {
			t.Fatalf("userinfo, access token %s: %d %s", name, resp.StatusCode, body)
		}
		if _, ok := claims["email"]; ok {
			t.Errorf("userinfo, access token %s, releases email: %s", name, body)
		}
		resp, intro := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/introspect", url.Values{"token": {at}}.Encode(), f.client.ID, f.secret)
		if resp.StatusCode != http.StatusOK || intro["active"] != true {
			t.Fatalf("introspection, access token %s: %d %v", name, resp.StatusCode, intro)
		}
		sc, _ := intro["scope"].(string)
		if _, ok := intro["email"]; ok || slices.Contains(strings.Fields(sc), "email") {
			t.Errorf("introspection, access token %s, names email: %v", name, intro)
		}
	}
}
