package provider_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

// Userinfo and introspection answer a user's access token by one rule
// (accessTokenStandingOf): it must be stored and live, its family not
// revoked, its client still there and its user enabled; each endpoint then
// answers in its own words. A token its user can no longer use is
// invalid_token at userinfo before it is one without the openid scope.
func TestAccessTokenStanding(t *testing.T) {
	h := newHarness(t)
	setEnabled := func(f fixture, enabled bool) {
		err := h.svc.Store.Update(h.ctx(), func(tx tenant.Tx) error {
			u, err := tenant.GetUser(tx, f.slug, f.user.Sub)
			if err != nil {
				return err
			}
			u.Enabled = enabled
			return tenant.UpdateUser(tx, f.slug, u)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name     string
		scopes   []string // the scopes asked for; nil: openid, email, profile
		after    func(f fixture, refreshToken string)
		status   int    // userinfo's
		error    string // userinfo's, "" for its claims
		says     string // userinfo's error_description
		active   bool   // introspection's
		noClient bool   // the client is gone and cannot introspect
	}{
		{name: "usable", status: http.StatusOK, active: true},
		{name: "family revoked", after: func(f fixture, rt string) {
			h.refresh(f, rt, "")
			h.refresh(f, rt, "") // reused: the family is revoked
		}, status: http.StatusUnauthorized, error: "invalid_token",
			says: "access token is revoked or expired, or is not a user's access token (an ID token, say)"},
		{name: "client deleted", after: func(f fixture, _ string) {
			if err := h.svc.DeleteClient(h.ctx(), f.slug, f.client.ID); err != nil {
				t.Fatal(err)
			}
		}, status: http.StatusUnauthorized, error: "invalid_token", says: "the client the token was issued to is deleted", noClient: true},
		{name: "user disabled", after: func(f fixture, _ string) { setEnabled(f, false) },
			status: http.StatusUnauthorized, error: "invalid_token", says: "token is no longer valid"},
		// In the store only: the service's DeleteUser revokes the user's
		// tokens first, which answers before the user is read.
		{name: "user deleted", after: func(f fixture, _ string) {
			err := h.svc.Store.Update(h.ctx(), func(tx tenant.Tx) error { return tenant.DeleteUser(tx, f.slug, f.user.Sub) })
			if err != nil {
				t.Fatal(err)
			}
		}, status: http.StatusUnauthorized, error: "invalid_token", says: "token is no longer valid"},
		{name: "without openid", scopes: []string{"planner/read"},
			status: http.StatusForbidden, error: "insufficient_scope", says: "the access token lacks the openid scope", active: true},
		{name: "without openid, user disabled", scopes: []string{"planner/read"}, after: func(f fixture, _ string) { setEnabled(f, false) },
			status: http.StatusUnauthorized, error: "invalid_token", says: "token is no longer valid"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := h.fixture(string(rune('a'+i))+"corp", false)
			cfg := h.oauthConfig(f)
			if tc.scopes != nil {
				cfg.Scopes = tc.scopes
			}
			tok := h.signIn(f, cfg)
			if tc.after != nil {
				tc.after(f, tok.RefreshToken)
			}

			resp, raw := h.userinfoRead(f, tok.AccessToken)
			var body map[string]any
			_ = json.Unmarshal(raw, &body)
			if resp.StatusCode != tc.status {
				t.Errorf("userinfo: %d %s, want %d", resp.StatusCode, raw, tc.status)
			}
			if tc.error == "" {
				if body["sub"] != f.user.Sub {
					t.Errorf("userinfo: %s, want the user's claims", raw)
				}
			} else if body["error"] != tc.error || body["error_description"] != tc.says {
				t.Errorf("userinfo: %s, want %s saying %q", raw, tc.error, tc.says)
			}

			if tc.noClient {
				return
			}
			resp, intro := h.send(http.MethodPost, h.issuer(f.slug)+"/oauth2/introspect",
				url.Values{"token": {tok.AccessToken}}.Encode(), f.client.ID, f.secret)
			if resp.StatusCode != http.StatusOK || intro["active"] != tc.active {
				t.Errorf("introspection: %d %v, want active %v", resp.StatusCode, intro, tc.active)
			}
		})
	}
}
