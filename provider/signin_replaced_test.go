package provider_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/tenant"
)

// A second sign-in in the same browser (prompt=login, max_age, another
// app) replaces the browser's session, but a code the first sign-in gave,
// not yet redeemed, still gives tokens: nothing about the account changed
// and nobody signed out. What ends the newer session ends the code too: a
// logout, or a change that ends the user's sessions (RevokeUser). So does
// another account's sign-in in that browser, after which the first user's
// revocation could no longer be seen. Before, any second sign-in made the
// code invalid_grant, logged as "account changed, or signed out".
func TestSecondSignInKeepsAnEarlierCode(t *testing.T) {
	prompt := oauth2.SetAuthURLParam("prompt", "login")
	tests := []struct {
		name   string
		after  func(t *testing.T, h *harness, f fixture, cfg *oauth2.Config) // after the second sign-in
		other  bool                                                          // the second sign-in is another account's
		reason string                                                        // of the refusal; "" when the code gives tokens
	}{
		{name: "replaced by a new sign-in"},
		{name: "replaced twice", after: func(t *testing.T, h *harness, f fixture, cfg *oauth2.Config) {
			h.login(f, cfg, "", prompt)
		}},
		{name: "replaced, then signed out", after: func(t *testing.T, h *harness, f fixture, _ *oauth2.Config) {
			resp := h.get(h.issuer(f.slug) + "/logout?" + url.Values{"client_id": {f.client.ID}, "logout_uri": {"http://rp.localhost/bye"}}.Encode())
			resp.Body.Close()
			if h.signedIn(f.slug) {
				t.Fatal("still signed in after the logout")
			}
		}, reason: "its sign-in has ended (account changed, or signed out)"},
		{name: "replaced, then password set", after: func(t *testing.T, h *harness, f fixture, _ *oauth2.Config) {
			if err := h.svc.SetPassword(context.Background(), f.slug, f.user.Sub, "Another-Horse-7", true); err != nil {
				t.Fatal(err)
			}
		}, reason: "its sign-in has ended (account changed, or signed out)"},
		{name: "replaced, then deactivated", after: func(t *testing.T, h *harness, f fixture, _ *oauth2.Config) {
			off := false
			if _, err := h.svc.UpdateUser(context.Background(), f.slug, f.user.Sub, tenant.UserChange{Enabled: &off}); err != nil {
				t.Fatal(err)
			}
		}, reason: "the user is disabled"},
		{name: "replaced by another account", other: true, reason: "another account signed in in the same browser"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			f := h.fixture("acme", false)
			cfg := h.oauthConfig(f)
			verifier := oauth2.GenerateVerifier()
			code := h.login(f, cfg, verifier)

			second := f
			if tc.other {
				bob, err := h.svc.CreateUser(context.Background(), f.slug, tenant.NewUser{Username: "bob", Email: "bob@example.com",
					EmailVerified: true, Password: f.password})
				if err != nil {
					t.Fatal(err)
				}
				second.user = bob
			}
			v2 := oauth2.GenerateVerifier()
			code2 := h.login(second, cfg, v2, prompt)
			if tc.after != nil {
				tc.after(t, h, f, cfg)
			}
			if tc.reason == "" {
				if _, err := cfg.Exchange(h.ctx(), code2, oauth2.VerifierOption(v2)); err != nil {
					t.Fatalf("the second sign-in's code: %v", err)
				}
			}

			_, err := cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("the first sign-in's code after the second sign-in: %v; want tokens", err)
				}
				if logs := h.logs.String(); strings.Contains(logs, "code refused") {
					t.Errorf("a code was refused:\n%s", logs)
				}
				return
			}
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Fatalf("the first sign-in's code: %v; want invalid_grant", err)
			}
			if logs := h.logs.String(); !strings.Contains(logs, tc.reason) ||
				!strings.Contains(logs, "client_id="+cfg.ClientID+" grant_type=authorization_code") {
				t.Errorf("the refusal's log line does not say %q of client %s:\n%s", tc.reason, cfg.ClientID, logs)
			}
		})
	}
}
