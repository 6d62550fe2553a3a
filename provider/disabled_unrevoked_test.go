package provider_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

// Disabling a user through the service revokes their tokens first
// (Service.RevokeUser), so a disabled user's token is normally refused as
// revoked. A user disabled in the store without that revocation (as a
// version before it did, or an import that writes users, might leave
// things) is refused too: the endpoints read the user's standing
// themselves, and their tokens describe no one. Userinfo answers 401
// invalid_token (RFC 6750 §3.1), introspection {"active":false}, and the
// refresh grant invalid_grant.
func TestDisabledUserWithUnrevokedTokensIsRefused(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	tok := h.signIn(f, h.oauthConfig(f))
	if resp := h.userinfo(f, tok.AccessToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo while the user is enabled: status %d", resp.StatusCode)
	}

	err := h.svc.Store.Update(h.ctx(), func(tx tenant.Tx) error {
		u, err := tenant.GetUser(tx, "acme", f.user.Sub)
		if err != nil {
			return err
		}
		u.Enabled = false
		return tenant.UpdateUser(tx, "acme", u)
	})
	if err != nil {
		t.Fatal(err)
	}

	if resp := h.userinfo(f, tok.AccessToken); resp.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("userinfo of a disabled user: status %d, WWW-Authenticate %q; want 401 invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	for name, token := range map[string]string{"access token": tok.AccessToken, "refresh token": tok.RefreshToken} {
		resp, intro := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/introspect", url.Values{"token": {token}}.Encode(), f.client.ID, f.secret)
		if want := map[string]any{"active": false}; resp.StatusCode != http.StatusOK || !reflect.DeepEqual(intro, want) {
			t.Errorf("introspection of a disabled user's %s: %d %v, want 200 %v", name, resp.StatusCode, intro, want)
		}
	}
	if body, status := h.refresh(f, tok.RefreshToken, ""); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("refresh for a disabled user: %d %v, want 400 invalid_grant", status, body)
	}
}
