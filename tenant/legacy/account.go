package legacy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
)

// Turning what a pool says about a user (attributes, ID token claims) into
// a tenant.LegacyAccount. Attributes Cognate cannot hold are left for
// tenant.PutLegacyUser to drop, and for the migration's log to name
// (LegacyAccount.Unkept); this file only sorts out the ones with a place
// of their own.

// accountFromAttributes reads Cognito user attributes: sub, email and
// email_verified have fields of their own; the rest stay attributes. A sub
// no user can have here (tenant.ValidateSub) makes the answer one Cognate
// cannot use: ErrLegacyUnavailable, as for an answer it cannot read.
func accountFromAttributes(username string, attrs map[string]string) (tenant.LegacyAccount, error) {
	acct := tenant.LegacyAccount{Username: username, Attributes: make(map[string]string, len(attrs))}
	for name, value := range attrs {
		switch name {
		case "sub":
			if err := tenant.ValidateSub(value); err != nil {
				return tenant.LegacyAccount{}, fmt.Errorf("%w: the pool's sub: %w", tenant.ErrLegacyUnavailable, err)
			}
			acct.Sub = value
		case "email":
			acct.Email = value
		case "email_verified":
			acct.EmailVerified = value == "true"
		default:
			acct.Attributes[name] = value
		}
	}
	return acct, nil
}

// markMFA records that the user had a second factor in the legacy pool.
// It does not come over (Cognito never hands out TOTP secrets), so the
// user enrols again here; the mark is the bulk import's, so the console
// and the MFA code treat both kinds of migrated user alike.
func markMFA(acct *tenant.LegacyAccount) {
	if acct.Attributes == nil {
		acct.Attributes = map[string]string{}
	}
	acct.Attributes[cognitoimport.AttrMFAReenroll] = "true"
}

// errMalformedToken: an ID token that cannot be read.
var errMalformedToken = errors.New("malformed ID token")

// idTokenClaims reads the claims of a JWT without checking its signature:
// the token comes straight from the pool's own endpoint, over TLS, in
// answer to this very request, so the channel vouches for it.
func idTokenClaims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errMalformedToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", errMalformedToken, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", errMalformedToken, err)
	}
	return claims, nil
}

// accountFromClaims reads a Cognito ID token's claims: cognito:username,
// sub, email, email_verified, cognito:groups, custom:* and whatever other
// standard attributes the app client may read (see accountFromAttributes).
func accountFromClaims(claims map[string]any) (tenant.LegacyAccount, error) {
	attrs := make(map[string]string, len(claims))
	for name, v := range claims {
		if tokenClaims[name] {
			continue
		}
		if s, ok := claimString(v); ok {
			attrs[name] = s
		}
	}
	username := attrs["cognito:username"]
	delete(attrs, "cognito:username")
	acct, err := accountFromAttributes(username, attrs)
	if err != nil {
		return tenant.LegacyAccount{}, err
	}
	// The claim is left out when the user is in no group.
	acct.GroupsKnown = true
	if groups, ok := claims["cognito:groups"].([]any); ok {
		for _, g := range groups {
			if name, ok := g.(string); ok {
				acct.Groups = append(acct.Groups, name)
			}
		}
	}
	return acct, nil
}

// tokenClaims are the claims of a Cognito ID token that are about the
// token, the sign-in or AWS, not attributes of the user (COGNITO.md §6.2).
var tokenClaims = map[string]bool{
	"iss": true, "aud": true, "exp": true, "iat": true, "nbf": true, "auth_time": true, "jti": true,
	"origin_jti": true, "event_id": true, "token_use": true, "nonce": true, "at_hash": true, "c_hash": true,
	"acr": true, "amr": true, "azp": true, "cognito:roles": true, "cognito:preferred_role": true,
}

// claimString is a claim's value as a Cognito attribute value: strings as
// they are, booleans and numbers (email_verified, updated_at) as Cognito
// writes them, and an address by its formatted form.
func claimString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case map[string]any:
		f, ok := v["formatted"].(string)
		return f, ok
	}
	return "", false
}
