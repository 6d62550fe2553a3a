package provider_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cognate-idp/cognate/tenant"
)

// Tokens have Cognito's shape (COGNITO.md §6.2, §6.3), for every signing
// algorithm, from the code exchange and from a refresh alike: the ID
// token's aud is the client's ID as a JSON string, which AWS's sample
// verifier compares with ==; the access token has no aud, only client_id;
// and expires_in is the access token's lifetime, 3600 for an hour, as
// Cognito says it. go-oidc verifies the ID token (aud and at_hash), and
// the access token's signature against JWKS; userinfo, introspection and
// revocation take the access token.
func TestTokensHaveCognitosShape(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			h := newHarness(t)
			ctx := h.ctx()
			f := h.fixtureWith(fixtureOptions{slug: "acme", signingAlg: alg})
			prov, err := oidc.NewProvider(ctx, h.issuer("acme"))
			if err != nil {
				t.Fatal(err)
			}
			cfg := h.oauthConfig(f)
			v := oauth2.GenerateVerifier()
			form := url.Values{"grant_type": {"authorization_code"}, "code": {h.login(f, cfg, v)}, "code_verifier": {v},
				"redirect_uri": {redirectURI}}
			resp, body := h.send(http.MethodPost, cfg.Endpoint.TokenURL, form.Encode(), f.client.ID, f.secret)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("code exchange: %d %v", resp.StatusCode, body)
			}
			checkCognitoShape(t, h, f, prov, "code exchange", body)

			body, status := h.refresh(f, body["refresh_token"].(string), "")
			if status != http.StatusOK {
				t.Fatalf("refresh: %d %v", status, body)
			}
			checkCognitoShape(t, h, f, prov, "refresh", body)

			// Revoked, the access token is refused at userinfo.
			at := body["access_token"].(string)
			if resp, _ := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/revoke", url.Values{"token": {at}}.Encode(), f.client.ID, f.secret); resp.StatusCode != http.StatusOK {
				t.Fatalf("revoke the access token: %d", resp.StatusCode)
			}
			if resp := h.userinfo(f, at); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("userinfo with a revoked access token: %d, want 401", resp.StatusCode)
			}
		})
	}
}

// checkCognitoShape checks a token response of f's client for Cognito's
// shape (TestTokensHaveCognitosShape).
func checkCognitoShape(t *testing.T, h *harness, f fixture, prov *oidc.Provider, what string, body map[string]any) {
	t.Helper()
	ctx := h.ctx()
	if body["expires_in"] != float64(3600) {
		t.Errorf("%s: expires_in = %v, want 3600, the access token's lifetime", what, body["expires_in"])
	}
	rawID, _ := body["id_token"].(string)
	at, _ := body["access_token"].(string)

	var id map[string]json.RawMessage
	if err := json.Unmarshal(jwtPayload(t, rawID), &id); err != nil {
		t.Fatal(err)
	}
	if got, want := string(id["aud"]), `"`+f.client.ID+`"`; got != want {
		t.Errorf("%s: ID token aud = %s, want %s, a string", what, got, want)
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: f.client.ID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("%s: go-oidc refuses the ID token: %v", what, err)
	}
	if err := idt.VerifyAccessToken(at); err != nil {
		t.Errorf("%s: at_hash: %v", what, err)
	}

	claims := jwtClaims(t, at)
	if aud, ok := claims["aud"]; ok {
		t.Errorf("%s: access token aud = %#v; Cognito's have none", what, aud)
	}
	if claims["client_id"] != f.client.ID || claims["token_use"] != "access" {
		t.Errorf("%s: access token client_id %v, token_use %v", what, claims["client_id"], claims["token_use"])
	}
	// As a resource server verifies Cognito's access tokens: the
	// algorithms and keys from discovery, no audience.
	if _, err := prov.Verifier(&oidc.Config{SkipClientIDCheck: true}).Verify(ctx, at); err != nil {
		t.Errorf("%s: the access token does not verify against JWKS: %v", what, err)
	}
	if resp := h.userinfo(f, at); resp.StatusCode != http.StatusOK {
		t.Errorf("%s: userinfo: %d", what, resp.StatusCode)
	}
	resp, intro := h.send(http.MethodPost, h.issuer(f.slug)+"/oauth2/introspect", url.Values{"token": {at}}.Encode(), f.client.ID, f.secret)
	if resp.StatusCode != http.StatusOK || intro["active"] != true || intro["client_id"] != f.client.ID {
		t.Errorf("%s: introspection: %d %v", what, resp.StatusCode, intro)
	}
}

// An access token names no audience, so its tenant is what its issuer and
// signature say: tenant A's access tokens, a user's and a machine's, are
// refused at tenant B's userinfo, inactive at B's introspection, and left
// working by a revocation at B.
func TestAccessTokensWithoutAudienceStayInTheirTenant(t *testing.T) {
	h := newHarness(t)
	a := h.fixture("acme", false)
	b := h.fixture("globex", false)
	user := h.signIn(a, h.oauthConfig(a)).AccessToken
	cc := clientcredentials.Config{ClientID: a.client.ID, ClientSecret: a.secret, TokenURL: h.issuer("acme") + "/oauth2/token",
		Scopes: []string{"planner/read"}, AuthStyle: oauth2.AuthStyleInHeader}
	machine, err := cc.Token(h.ctx())
	if err != nil {
		t.Fatal(err)
	}
	// B's client with A's client's ID would be the one to fool: B's
	// introspection answers only about the asking client's tokens.
	api, apiSecret, err := h.svc.CreateClient(context.Background(), "globex", tenant.NewClient{Name: "api",
		GrantTypes: []string{tenant.GrantClientCredentials}, Scopes: []string{"api/read"}})
	if err != nil {
		t.Fatal(err)
	}
	for what, at := range map[string]string{"user's access token": user, "machine token": machine.AccessToken} {
		if resp := h.userinfo(b, at); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("A's %s at B's userinfo: %d, want 401", what, resp.StatusCode)
		}
		for _, asker := range []struct{ id, secret string }{{b.client.ID, b.secret}, {api.ID, apiSecret}} {
			resp, intro := h.send(http.MethodPost, h.issuer("globex")+"/oauth2/introspect", url.Values{"token": {at}}.Encode(), asker.id, asker.secret)
			if resp.StatusCode != http.StatusOK || intro["active"] != false || len(intro) != 1 {
				t.Errorf("A's %s at B's introspection: %d %v, want {\"active\":false}", what, resp.StatusCode, intro)
			}
		}
		resp, _ := h.send(http.MethodPost, h.issuer("globex")+"/oauth2/revoke", url.Values{"token": {at}}.Encode(), b.client.ID, b.secret)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("A's %s revoked at B: %d, want 200, as for a token B does not know", what, resp.StatusCode)
		}
	}
	if resp := h.userinfo(a, user); resp.StatusCode != http.StatusOK {
		t.Errorf("A's access token after a revocation at B: userinfo %d, want 200", resp.StatusCode)
	}
	resp, intro := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/introspect", url.Values{"token": {machine.AccessToken}}.Encode(), a.client.ID, a.secret)
	if resp.StatusCode != http.StatusOK || intro["active"] != true {
		t.Errorf("A's machine token at A's introspection: %d %v, want active", resp.StatusCode, intro)
	}
}
