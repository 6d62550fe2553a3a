package provider_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

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
