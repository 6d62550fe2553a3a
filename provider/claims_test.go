package provider_test

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"
)

// claimsUser's attributes have a claim of every kind: text, a boolean, a
// number of seconds, an address.
func claimsUser(address string) map[string]string {
	return map[string]string{"custom:team": "blue", "given_name": "Ann", "locale": "nl-NL", "updated_at": "1471453471",
		"phone_number": "+31612345678", "phone_number_verified": "true", "address": address}
}

// The ID token and userinfo type their claims as OpenID Connect does
// (Core §5.1), so that relying parties' libraries read them into their
// typed claims: updated_at a number, the address an object (§5.1.1):
// {"formatted": …} of Cognito's free text, or the members of an address
// stored as a JSON object of them. Read here with zitadel/oidc's
// IDTokenClaims and UserInfo and with go-oidc.
func TestClaimsHaveOIDCTypes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		address string
		want    zoidc.UserInfoAddress
	}{
		{"text", "Main St 1, Apt 2\nUtrecht", zoidc.UserInfoAddress{Formatted: "Main St 1, Apt 2\nUtrecht"}},
		{"JSON object of §5.1.1's members", `{"street_address":"Main St 1, Apt 2","locality":"Utrecht","country":"NL"}`,
			zoidc.UserInfoAddress{StreetAddress: "Main St 1, Apt 2", Locality: "Utrecht", Country: "NL"}},
		{"JSON object with another member: text", `{"street":"Main St 1"}`, zoidc.UserInfoAddress{Formatted: `{"street":"Main St 1"}`}},
		{"JSON object with a number: text", `{"postal_code":3511}`, zoidc.UserInfoAddress{Formatted: `{"postal_code":3511}`}},
		{"JSON object and more: text", `{"locality":"Utrecht"}}`, zoidc.UserInfoAddress{Formatted: `{"locality":"Utrecht"}}`}},
		{"JSON string: text", `"Main St 1"`, zoidc.UserInfoAddress{Formatted: `"Main St 1"`}},
		{"empty JSON object: text", `{}`, zoidc.UserInfoAddress{Formatted: `{}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := h.ctx()
			f := h.fixtureWith(fixtureOptions{slug: "acme", attributes: claimsUser(tc.address),
				scopes: []string{"openid", "email", "profile", "phone"}})
			cfg := h.oauthConfig(f)
			cfg.Scopes = []string{"openid", "email", "profile", "phone"}
			tok := h.signIn(f, cfg)
			rawID := tok.Extra("id_token").(string)

			// zitadel/oidc, the ID token's payload and the userinfo body.
			var idClaims zoidc.IDTokenClaims
			if err := json.Unmarshal(jwtPayload(t, rawID), &idClaims); err != nil {
				t.Fatalf("zitadel/oidc IDTokenClaims: %v", err)
			}
			var info zoidc.UserInfo
			if err := json.Unmarshal(h.userinfoBody(f, tok.AccessToken), &info); err != nil {
				t.Fatalf("zitadel/oidc UserInfo: %v", err)
			}
			for where, got := range map[string]zoidc.UserInfo{"ID token": *idClaims.GetUserInfo(), "userinfo": info} {
				if got.UpdatedAt != 1471453471 || got.Address == nil || *got.Address != tc.want ||
					!got.PhoneNumberVerified || got.GivenName != "Ann" || got.Locale.String() != "nl-NL" {
					t.Errorf("%s: updated_at %d, address %+v, phone_number_verified %t, given_name %q, locale %s; want 1471453471, %+v, true, Ann, nl-NL",
						where, got.UpdatedAt, got.Address, got.PhoneNumberVerified, got.GivenName, got.Locale, tc.want)
				}
			}

			// go-oidc, into a relying party's own typed claims.
			prov, err := oidc.NewProvider(ctx, h.issuer("acme"))
			if err != nil {
				t.Fatal(err)
			}
			idt, err := prov.Verifier(&oidc.Config{ClientID: f.client.ID}).Verify(ctx, rawID)
			if err != nil {
				t.Fatal(err)
			}
			ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatal(err)
			}
			type rpClaims struct {
				UpdatedAt int64                 `json:"updated_at"`
				Address   zoidc.UserInfoAddress `json:"address"`
			}
			var fromID, fromInfo rpClaims
			if err := idt.Claims(&fromID); err != nil {
				t.Fatalf("go-oidc ID token claims: %v", err)
			}
			if err := ui.Claims(&fromInfo); err != nil {
				t.Fatalf("go-oidc userinfo claims: %v", err)
			}
			for where, got := range map[string]rpClaims{"ID token": fromID, "userinfo": fromInfo} {
				if got.UpdatedAt != 1471453471 || got.Address != tc.want {
					t.Errorf("go-oidc, %s: %+v, want updated_at 1471453471 and address %+v", where, got, tc.want)
				}
			}
		})
	}
}

// The claims released follow Cognito's rule (its userinfo endpoint's
// documentation), in the ID token and userinfo alike: openid alone
// releases every attribute the client may read, which here is what the
// scopes in its list release (a client allowed only openid gets none:
// TestAuthorizeRefusesScopesTheClientMayNotHave), and scopes that select no claims
// (aws.cognito.signin.user.admin, offline_access, an API's) change nothing
// to that. With profile, email, phone or address, each claim comes with
// the scope OIDC Core §5.4 gives it: email and email_verified with email;
// phone_number and phone_number_verified with phone; the address with
// address, and with profile as in Cognito, which has no address scope;
// the other standard attributes with profile. custom:* attributes and
// Cognito's own claims come always.
func TestClaimsFollowScopes(t *testing.T) {
	h := newHarness(t)
	f := h.fixtureWith(fixtureOptions{slug: "acme", attributes: claimsUser("Main St 1"),
		scopes: []string{"openid", "email", "profile", "phone", "address", "aws.cognito.signin.user.admin", "offline_access", "planner/read"}})
	always := []string{"sub", "cognito:username", "cognito:groups", "custom:team"}
	everything := []string{"email", "email_verified", "phone_number", "phone_number_verified",
		"given_name", "locale", "updated_at", "address"}
	for _, tc := range []struct {
		scope string
		want  []string // besides always
	}{
		{"openid", everything},
		{"openid aws.cognito.signin.user.admin offline_access planner/read", everything},
		{"openid email", []string{"email", "email_verified"}},
		{"openid phone", []string{"phone_number", "phone_number_verified"}},
		{"openid address", []string{"address"}},
		{"openid profile", []string{"given_name", "locale", "updated_at", "address"}},
		{"openid email aws.cognito.signin.user.admin", []string{"email", "email_verified"}},
		{"openid email profile phone address", everything},
	} {
		t.Run(tc.scope, func(t *testing.T) {
			cfg := h.oauthConfig(f)
			cfg.Scopes = strings.Fields(tc.scope)
			tok := h.signIn(f, cfg)
			want := append(slices.Clone(always), tc.want...)
			slices.Sort(want)

			var idClaims map[string]json.RawMessage
			if err := json.Unmarshal(jwtPayload(t, tok.Extra("id_token").(string)), &idClaims); err != nil {
				t.Fatal(err)
			}
			var info map[string]json.RawMessage
			if err := json.Unmarshal(h.userinfoBody(f, tok.AccessToken), &info); err != nil {
				t.Fatal(err)
			}
			for where, claims := range map[string]map[string]json.RawMessage{"ID token": idClaims, "userinfo": info} {
				var got []string
				for name := range claims {
					if slices.Contains(want, name) || isUserClaim(name) {
						got = append(got, name)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s with scope %q: user claims %v, want %v", where, tc.scope, got, want)
				}
			}
		})
	}
}

// phone_number_verified comes with phone_number, as email_verified comes
// with email: a boolean, false when the flag was never stored, as Cognito
// sends it; and never without the number.
func TestPhoneNumberVerifiedComesWithTheNumber(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		slug       string
		attributes map[string]string
		want       string // the claim's JSON; "" for none
	}{
		{"unflagged", map[string]string{"phone_number": "+31612345678"}, "false"},
		{"unverified", map[string]string{"phone_number": "+31612345678", "phone_number_verified": "false"}, "false"},
		{"verified", map[string]string{"phone_number": "+31612345678", "phone_number_verified": "true"}, "true"},
		{"flag-alone", map[string]string{"phone_number_verified": "true"}, ""},
	} {
		t.Run(tc.slug, func(t *testing.T) {
			f := h.fixtureWith(fixtureOptions{slug: tc.slug, attributes: tc.attributes, scopes: []string{"openid", "phone"}})
			for _, scope := range []string{"openid phone", "openid"} {
				cfg := h.oauthConfig(f)
				cfg.Scopes = strings.Fields(scope)
				tok := h.signIn(f, cfg)
				var idClaims, info map[string]json.RawMessage
				if err := json.Unmarshal(jwtPayload(t, tok.Extra("id_token").(string)), &idClaims); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(h.userinfoBody(f, tok.AccessToken), &info); err != nil {
					t.Fatal(err)
				}
				for where, claims := range map[string]map[string]json.RawMessage{"ID token": idClaims, "userinfo": info} {
					if got := string(claims["phone_number_verified"]); got != tc.want {
						t.Errorf("%s with scope %q: phone_number_verified = %s, want %s", where, scope, got, cmp.Or(tc.want, "none"))
					}
				}
			}
		})
	}
}

// isUserClaim reports whether name is a claim about the user, as against
// one about the token (iss, exp, at_hash…).
func isUserClaim(name string) bool {
	return strings.HasPrefix(name, "custom:") || strings.HasPrefix(name, "cognito:") ||
		slices.Contains([]string{"sub", "email", "email_verified", "given_name", "locale", "updated_at", "address",
			"phone_number", "phone_number_verified"}, name)
}

// jwtPayload is the decoded payload of a JWT.
func jwtPayload(t *testing.T, raw string) []byte {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	payload, err := base64URLDecode(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return payload
}

// userinfoBody is the body of a successful userinfo answer to access token at.
func (h *harness) userinfoBody(f fixture, at string) []byte {
	h.t.Helper()
	resp, body := h.userinfoRead(f, at)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("userinfo: status %d: %s", resp.StatusCode, body)
	}
	return body
}
