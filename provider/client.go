package provider

import (
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cognate-idp/cognate/tenant"
)

// client adapts tenant.Client to op.Client.
type client struct {
	tenant.Client
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.ID }
func (c *client) RedirectURIs() []string           { return c.Client.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.Client.PostLogoutRedirectURIs }

// ApplicationType is never Native: native apps may use any loopback port,
// and Cognate matches redirect URIs exactly.
func (c *client) ApplicationType() op.ApplicationType {
	if c.Public() {
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.Public() {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

// ResponseTypes is the code flow only: no implicit flow, as recommended by
// OAuth 2.1 and as Cognito's secure default. A client without the
// authorization code grant has none, so the authorization endpoint refuses
// it before anyone signs in for a code it could not redeem.
func (c *client) ResponseTypes() []oidc.ResponseType {
	if !c.AllowsGrant(tenant.GrantAuthorizationCode) {
		return nil
	}
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, 0, len(c.Client.GrantTypes))
	for _, g := range c.Client.GrantTypes {
		switch g {
		case tenant.GrantAuthorizationCode:
			out = append(out, oidc.GrantTypeCode)
		case tenant.GrantRefreshToken:
			out = append(out, oidc.GrantTypeRefreshToken)
		case tenant.GrantClientCredentials:
			out = append(out, oidc.GrantTypeClientCredentials)
		}
	}
	return out
}

// LoginURL is relative, so the browser stays on the tenant's own host.
func (c *client) LoginURL(id string) string { return "/login?authRequestID=" + url.QueryEscape(id) }

// AccessTokenType is JWT, as Cognito's access tokens are.
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

func (c *client) IDTokenLifetime() time.Duration { return c.IDTokenTTL }

// DevMode only lifts the library's "no http redirect URIs" rule after an
// exact match; tenant.ValidateRedirectURI already allows http for loopback
// hosts alone.
func (c *client) DevMode() bool { return true }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed is tenant.Client.AllowsScope, for the library. The
// library lets the standard OIDC scopes through whatever it says
// (op.ValidateAuthReqScopes); Cognate does not (refuseScopes).
func (c *client) IsScopeAllowed(scope string) bool { return c.AllowsScope(scope) }

// refuseScopes returns the refusal of a request for scopes of which one is
// not among the client's, or nil when each is. It is the one rule for
// every request that names scopes: the authorization request's
// (authorizer.validate) and client_credentials' (issueMachineToken). The
// standard OIDC scopes (openid, email, profile, phone, address,
// offline_access) are no exception: in Cognito, a client's
// AllowedOAuthScopes bound what it may ask for, and a scope the client
// may not have is invalid_scope (RFC 6749 §4.1.2.1, §5.2). The scope is
// named when it is a scope-token (RFC 6749 §3.3), which are the characters
// error_description may carry; anything else is no scope a client can
// have.
func (c *client) refuseScopes(scopes []string) *oidc.Error {
	for _, scope := range scopes {
		if c.AllowsScope(scope) {
			continue
		}
		if !tenant.ValidScope(scope) {
			return oidc.ErrInvalidScope().WithDescription("a scope asked for is not allowed for this client")
		}
		return oidc.ErrInvalidScope().WithDescription("scope %s is not allowed for this client", scope)
	}
	return nil
}

// stillAllowed returns scopes granted earlier without those the client
// may no longer ask for, once the operator has narrowed the client's list:
// a code's at its exchange (redeeming), a refresh token's at its use and
// introspection, an access token's at userinfo and introspection.
func (c *client) stillAllowed(granted []string) []string {
	return slices.DeleteFunc(slices.Clone(granted), func(scope string) bool { return !c.AllowsScope(scope) })
}

// redeeming prepares ar, the request of a code being redeemed by c, for
// the exchange: its scopes are what c may still ask for (stillAllowed),
// since the operator may have narrowed c's list since the authorization
// request, and it gives a refresh token when c may refresh.
func (c *client) redeeming(ar *authRequest) {
	ar.Scopes = c.stillAllowed(ar.Scopes)
	ar.refreshable = c.AllowsGrant(tenant.GrantRefreshToken)
}

// IDTokenUserinfoClaimsAssertion puts profile and email claims in the ID
// token even when an access token is issued too: what Cognito does.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }

func (c *client) ClockSkew() time.Duration { return 0 }

// mayRetry reports whether rt, already used, may be used again: within the
// client's retry grace period, counted from its first use.
func (c *client) mayRetry(rt refreshToken, now time.Time) bool {
	return rt.Used && c.RefreshRetryGrace > 0 && !rt.UsedAt.IsZero() && now.Sub(rt.UsedAt) <= c.RefreshRetryGrace
}
