package provider_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/tenant"
)

// TestDiscoveryDescribesWhatIsIssued holds a tenant's discovery document to
// what its tokens carry, for both signing algorithms: the algorithm a
// relying party's library must accept, and claims_supported against the
// claims of an ID token and a userinfo answer with every scope and every
// standard attribute.
func TestDiscoveryDescribesWhatIsIssued(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			h := newHarness(t)
			ctx := h.ctx()
			attrs := map[string]string{"custom:team": "blue"}
			for _, name := range tenant.StandardAttributes() {
				attrs[name] = "x"
			}
			attrs["phone_number"], attrs["phone_number_verified"] = "+31612345678", "true"
			attrs["updated_at"], attrs["birthdate"] = "1682955829", "1990-02-28"
			f := h.fixtureWith(fixtureOptions{slug: "acme", signingAlg: alg, attributes: attrs,
				scopes: []string{"openid", "email", "profile", "phone"}})

			prov, err := oidc.NewProvider(ctx, h.issuer("acme"))
			if err != nil {
				t.Fatalf("discovery: %v", err)
			}
			var doc struct {
				Algs   []string `json:"id_token_signing_alg_values_supported"`
				Claims []string `json:"claims_supported"`
			}
			if err := prov.Claims(&doc); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(doc.Algs, []string{alg}) {
				t.Errorf("id_token_signing_alg_values_supported = %q, want [%s]", doc.Algs, alg)
			}

			cfg := h.oauthConfig(f)
			cfg.Scopes = []string{"openid", "email", "profile", "phone"}
			verifier := oauth2.GenerateVerifier()
			tok, err := cfg.Exchange(ctx, h.login(f, cfg, verifier), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			// A relying party that configures nothing but its client ID
			// takes the accepted algorithms from discovery.
			idt, err := prov.Verifier(&oidc.Config{ClientID: f.client.ID}).Verify(ctx, tok.Extra("id_token").(string))
			if err != nil {
				t.Fatalf("verify the ID token with discovery's algorithms: %v", err)
			}
			issued := map[string]bool{}
			var idClaims map[string]json.RawMessage
			if err := idt.Claims(&idClaims); err != nil {
				t.Fatal(err)
			}
			for name := range idClaims {
				issued[name] = true
			}
			info, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var infoClaims map[string]json.RawMessage
			if err := info.Claims(&infoClaims); err != nil {
				t.Fatal(err)
			}
			for name := range infoClaims {
				issued[name] = true
			}

			for name := range issued {
				if !strings.HasPrefix(name, "custom:") && !slices.Contains(doc.Claims, name) {
					t.Errorf("claim %q is issued but not in claims_supported", name)
				}
			}
			for _, name := range doc.Claims {
				if !issued[name] {
					t.Errorf("claims_supported lists %q, which neither the ID token nor userinfo carries", name)
				}
			}
		})
	}
}

// scopes_supported names the scopes a client may be given, Cognito's
// aws.cognito.signin.user.admin among them, which every client has by
// default (as in Cognito); a client that has it and asks for it gets it.
func TestDiscoveryListsTheScopesServed(t *testing.T) {
	h := newHarness(t)
	ctx := h.ctx()
	f := h.fixtureWith(fixtureOptions{slug: "acme", scopes: []string{"openid", "email", "profile", "phone", "aws.cognito.signin.user.admin"}})
	prov, err := oidc.NewProvider(ctx, h.issuer("acme"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Scopes []string `json:"scopes_supported"`
	}
	if err := prov.Claims(&doc); err != nil {
		t.Fatal(err)
	}
	for _, scope := range []string{"openid", "email", "profile", "phone", "address", "offline_access", "aws.cognito.signin.user.admin"} {
		if !slices.Contains(doc.Scopes, scope) {
			t.Errorf("scopes_supported = %q, without %s", doc.Scopes, scope)
		}
	}
	cfg := h.oauthConfig(f)
	cfg.Scopes = []string{"openid", "aws.cognito.signin.user.admin"}
	tok := h.signIn(f, cfg)
	if scope, _ := jwtClaims(t, tok.AccessToken)["scope"].(string); !slices.Contains(strings.Fields(scope), "aws.cognito.signin.user.admin") {
		t.Errorf("access token scope %q, want aws.cognito.signin.user.admin granted", scope)
	}
}

// TestJWKSFollowsKeyRotation holds the published keys to the rotation's
// schedule without any other change to the tenant: a new key appears at
// once and signs when its overlap ends, and the key it replaced leaves
// JWKS, and stops verifying, a day after that. A replaced key that stayed
// would be trusted for ever on a quiet tenant, even one rotated out
// because it leaked.
func TestJWKSFollowsKeyRotation(t *testing.T) {
	h := newHarness(t)
	ctx := h.ctx()
	f := h.fixtureWith(fixtureOptions{slug: "acme", signingAlg: "ES256"})
	kids := func() []string { return h.jwksKeyIDs("acme") }
	first := kids()
	if len(first) != 1 {
		t.Fatalf("JWKS of a new tenant: %v, want one key", first)
	}
	next, err := h.svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{Overlap: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	signedBy := func() string { return signingKeyID(t, h.signIn(f, h.oauthConfig(f)).Extra("id_token").(string)) }
	for _, step := range []struct {
		after     time.Duration // since the rotation
		published []string
		signing   string
	}{
		{0, []string{first[0], next.ID}, first[0]},                      // the new key is published ahead
		{time.Hour + time.Minute, []string{first[0], next.ID}, next.ID}, // it signs; the old one still verifies
		{25*time.Hour + time.Minute, []string{next.ID}, next.ID},        // the old one has retired
	} {
		h.shift.Store(int64(step.after))
		slices.Sort(step.published)
		if got := kids(); !slices.Equal(got, step.published) {
			t.Errorf("JWKS %v after the rotation: %v, want %v", step.after, got, step.published)
		}
		if got := signedBy(); got != step.signing {
			t.Errorf("%v after the rotation, tokens are signed by %s, want %s", step.after, got, step.signing)
		}
	}
}

// A rotation that retires the previous keys, as after a leak, takes effect
// at once, with nothing else changed: the keys it retires leave the JWKS,
// and a token one of them signed is refused at userinfo, introspection and
// revocation, where a token of the new key is answered. The refresh token,
// which is not signed, gets new tokens of the new key.
func TestRetiredKeyIsRefusedAtOnce(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	old := h.signIn(f, h.oauthConfig(f))
	oldKey := signingKeyID(t, old.AccessToken)
	if _, err := h.svc.RotateSigningKey(h.ctx(), "acme", tenant.KeyRotation{Overlap: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	h.shift.Store(int64(20 * time.Minute)) // the old key stopped signing, and verifies for a day
	if got := h.jwksKeyIDs("acme"); len(got) != 2 || !slices.Contains(got, oldKey) {
		t.Fatalf("JWKS after an ordinary rotation: %v, want the old key %s beside the new one", got, oldKey)
	}
	userinfo := func(accessToken string) int {
		t.Helper()
		resp, _ := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/userInfo", url.Values{"access_token": {accessToken}}.Encode(), "", "")
		return resp.StatusCode
	}
	introspect := func(accessToken string) any {
		t.Helper()
		resp, body := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/introspect", url.Values{"token": {accessToken}}.Encode(), f.client.ID, f.secret)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("introspection: %d %v", resp.StatusCode, body)
		}
		return body["active"]
	}
	if status := userinfo(old.AccessToken); status != http.StatusOK {
		t.Fatalf("userinfo with the old key's token, before it retired: %d", status)
	}

	next, err := h.svc.RotateSigningKey(h.ctx(), "acme", tenant.KeyRotation{RetirePrevious: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.jwksKeyIDs("acme"); !slices.Equal(got, []string{next.ID}) {
		t.Errorf("JWKS after retiring the previous keys: %v, want only %s", got, next.ID)
	}
	if status := userinfo(old.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("userinfo with a token of the retired key: %d, want 401", status)
	}
	if active := introspect(old.AccessToken); active != false {
		t.Errorf("introspection of a token of the retired key: active %v, want false", active)
	}
	resp, body := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/revoke", url.Values{"token": {old.AccessToken}}.Encode(), f.client.ID, f.secret)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("revocation of a token of the retired key: %d %v, want 200 (it no longer works)", resp.StatusCode, body)
	}

	refreshed, err := h.oauthConfig(f).TokenSource(h.ctx(), &oauth2.Token{RefreshToken: old.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh after the retirement: %v", err)
	}
	if got := signingKeyID(t, refreshed.AccessToken); got != next.ID {
		t.Errorf("the refreshed token is signed by %s, want the new key %s", got, next.ID)
	}
	if status := userinfo(refreshed.AccessToken); status != http.StatusOK {
		t.Errorf("userinfo with a token of the new key: %d, want 200", status)
	}
	if active := introspect(refreshed.AccessToken); active != true {
		t.Errorf("introspection of a token of the new key: active %v, want true", active)
	}
}

// jwksKeyIDs are the key IDs a tenant's JWKS publishes, sorted.
func (h *harness) jwksKeyIDs(slug string) []string {
	h.t.Helper()
	resp := h.get(h.issuer(slug) + "/.well-known/jwks.json")
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		h.t.Fatal(err)
	}
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.Kid)
	}
	slices.Sort(ids)
	return ids
}

// signingKeyID is the kid in a signed token's header.
func signingKeyID(t *testing.T, raw string) string {
	t.Helper()
	header, err := base64URLDecode(strings.Split(raw, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var jws struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(header, &jws); err != nil {
		t.Fatal(err)
	}
	return jws.Kid
}

// The discovery document says what the endpoints do: each endpoint's
// client authentication methods are the ones it takes (clientauth.go), and
// every authorization response carries iss (RFC 9207 §3), which go-oidc
// and x/oauth2 relying parties ignore (the code flow of every test here
// checks it arrives).
func TestDiscoveryAdvertisesWhatEndpointsDo(t *testing.T) {
	h := newHarness(t)
	h.fixture("acme", false)
	prov, err := oidc.NewProvider(h.ctx(), h.issuer("acme"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Token           []string `json:"token_endpoint_auth_methods_supported"`
		Revocation      []string `json:"revocation_endpoint_auth_methods_supported"`
		Introspection   []string `json:"introspection_endpoint_auth_methods_supported"`
		IssParameter    *bool    `json:"authorization_response_iss_parameter_supported"`
		ResponseModes   []string `json:"response_modes_supported"`
		AuthorizationEP string   `json:"authorization_endpoint"`
	}
	if err := prov.Claims(&doc); err != nil {
		t.Fatal(err)
	}
	withPublic := []string{"client_secret_basic", "client_secret_post", "none"}
	if !slices.Equal(doc.Token, withPublic) || !slices.Equal(doc.Revocation, withPublic) {
		t.Errorf("token %v, revocation %v; want %v at both", doc.Token, doc.Revocation, withPublic)
	}
	if want := []string{"client_secret_basic", "client_secret_post"}; !slices.Equal(doc.Introspection, want) {
		t.Errorf("introspection %v, want %v", doc.Introspection, want)
	}
	if doc.IssParameter == nil || !*doc.IssParameter {
		t.Errorf("authorization_response_iss_parameter_supported = %v, want true", doc.IssParameter)
	}
	// What the library fills in stays.
	if doc.AuthorizationEP != h.issuer("acme")+"/oauth2/authorize" || len(doc.ResponseModes) != 3 {
		t.Errorf("authorization_endpoint %q, response_modes_supported %v", doc.AuthorizationEP, doc.ResponseModes)
	}
}
