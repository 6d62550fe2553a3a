package provider_test

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

// Introspection tells a token's details only to the client it was issued
// to: to any other client of the same organization a live token is
// exactly {"active":false} (RFC 7662 §2.2, and §4: the server decides who
// may learn what). The library checks a token's signature and expiry but
// not its audience, so storage makes the check, for a user's access token
// (the token's client) and for a machine token (its subject, the client).
// Each case asks first with the token's own client, so a refusal to the
// other client is not a token that is inactive to everyone.
func TestIntrospectionAnswersOnlyTheTokensClient(t *testing.T) {
	h := newHarness(t)
	c := h.tokenClients("acme")
	owner, other := c.conf, c.other

	userToken := h.signIn(owner, c.confCfg).AccessToken
	resp, body := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}.Encode(), owner.client.ID, owner.secret)
	machineToken, _ := body["access_token"].(string)
	if resp.StatusCode != http.StatusOK || machineToken == "" {
		t.Fatalf("client credentials: %d %v", resp.StatusCode, body)
	}

	introspect := func(t *testing.T, token, id, secret string) map[string]any {
		t.Helper()
		resp, intro := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/introspect", url.Values{"token": {token}}.Encode(), id, secret)
		if resp.StatusCode != http.StatusOK || intro == nil {
			t.Fatalf("introspection: status %d, %v", resp.StatusCode, intro)
		}
		return intro
	}
	for _, tc := range []struct{ name, token string }{
		{"user's access token", userToken},
		{"client_credentials token", machineToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if intro := introspect(t, tc.token, owner.client.ID, owner.secret); intro["active"] != true || intro["client_id"] != owner.client.ID {
				t.Fatalf("introspection by the token's own client: %v, want active with client_id %s", intro, owner.client.ID)
			}
			want := map[string]any{"active": false}
			if intro := introspect(t, tc.token, other.ID, c.otherSecret); !reflect.DeepEqual(intro, want) {
				t.Errorf("introspection by another client of the organization: %v, want exactly %v", intro, want)
			}
		})
	}
}
