package provider

import (
	"log/slog"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cognate-idp/cognate/tenant"
)

// authRequest is a validated /oauth2/authorize request waiting for the user
// to sign in. It implements op.AuthRequest. It is held in memory only
// (pending.go), never stored, so its fields need no JSON names; requestSize
// and detached each list its string fields, and change with them.
type authRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	Scopes              []string
	State               string
	Nonce               string
	ResponseType        oidc.ResponseType
	ResponseMode        oidc.ResponseMode
	Prompt              []string
	MaxAge              *uint
	LoginHint           string
	HintSubject         string
	UILocales           []string // LoginRequest.UILocales
	CodeChallenge       string
	CodeChallengeMethod oidc.CodeChallengeMethod

	// BrowserBinding is the hash of a cookie set when the login page first
	// opened: the callback only hands out a code to that browser.
	BrowserBinding string

	Subject  string
	AMR      []string
	AuthTime time.Time
	IsDone   bool
	// SessionID is the SSO session the sign-in started or was answered
	// from (tenant.Session.ID); empty when it started none. The code's
	// exchange requires it still to exist (signInHolds).
	SessionID string
	// FamilyID groups every token issued from this request, so a replayed
	// code or refresh token can revoke them all.
	FamilyID  string
	ExpiresAt time.Time

	// refreshable is set on the copy a code's exchange works with
	// (client.redeeming), from the client's grants: whether the exchange
	// gives a refresh token. The request held in pending never has it.
	refreshable bool
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string                      { return a.ID }
func (a *authRequest) GetACR() string                     { return "" }
func (a *authRequest) GetAMR() []string                   { return a.AMR }
func (a *authRequest) GetAudience() []string              { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.AuthTime }
func (a *authRequest) GetClientID() string                { return a.ClientID }
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.ResponseMode }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.Subject }
func (a *authRequest) Done() bool                         { return a.IsDone }

// LogValue is what a refusal's line tells of a held request: the fields
// the library logs of a request it has just parsed, so that a refusal
// after the login page (prompt=none's login_required) reads like one at
// the authorization endpoint.
func (a *authRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("scopes", a.Scopes),
		slog.String("response_type", string(a.ResponseType)),
		slog.String("client_id", a.ClientID),
		slog.String("redirect_uri", a.RedirectURI),
	)
}

// Scopes holds what the relying party asked for (and the library
// validated). Cognito hands out a refresh token to every client with the
// refresh grant, asked for or not; the library only when offline_access is
// among the request's scopes. So GetScopes, which the library reads to
// decide, adds offline_access for such a client, while granted, which is
// what the client is told and what the tokens carry, keeps it only when the
// client asked for it and may refresh.

// GetScopes is for the library: granted, plus offline_access when the
// exchange is to give a refresh token.
func (a *authRequest) GetScopes() []string {
	granted := a.granted()
	if a.refreshable && !slices.Contains(granted, oidc.ScopeOfflineAccess) {
		return append(granted, oidc.ScopeOfflineAccess)
	}
	return granted
}

// granted is the scope the tokens of this request carry and the token
// response names: what was asked for, without offline_access unless the
// client may refresh.
func (a *authRequest) granted() []string {
	if a.refreshable || !slices.Contains(a.Scopes, oidc.ScopeOfflineAccess) {
		return slices.Clone(a.Scopes)
	}
	return slices.DeleteFunc(slices.Clone(a.Scopes), func(s string) bool { return s == oidc.ScopeOfflineAccess })
}

func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: a.CodeChallengeMethod}
}

// family is one chain of tokens issued from one sign-in at one client.
type family struct {
	Sub       string    `json:"sub"`
	ClientID  string    `json:"client_id"`
	Revoked   bool      `json:"revoked"`
	ExpiresAt time.Time `json:"expires_at"`
}

// refreshToken is stored under the SHA-256 of the token. It implements
// op.RefreshTokenRequest.
type refreshToken struct {
	Hash      string    `json:"hash"`
	FamilyID  string    `json:"family_id"`
	Sub       string    `json:"sub"`
	ClientID  string    `json:"client_id"`
	Scopes    []string  `json:"scopes"`
	AMR       []string  `json:"amr,omitempty"`
	AuthTime  time.Time `json:"auth_time"`
	Used      bool      `json:"used"`
	ExpiresAt time.Time `json:"expires_at"`
	// UsedAt is when the token was first used: the client's retry grace
	// period counts from it.
	UsedAt time.Time `json:"used_at,omitzero"`

	// current narrows Scopes for the tokens of one refresh that asked for
	// fewer (SetCurrentScopes). It is never stored: the rotated refresh
	// token keeps the whole grant (RFC 6749 §6).
	current []string
}

var _ op.RefreshTokenRequest = (*refreshToken)(nil)

// getRefreshToken reads the record of refresh token token of tenant slug in
// tx; it returns tenant.ErrNotFound for a token it does not know.
func getRefreshToken(tx tenant.Tx, slug, token string) (refreshToken, error) {
	return tenant.GetJSON[refreshToken](tx, tenant.CollRefreshTokens, slug, prefixRefresh+tenant.HashSecret(token))
}

func (r *refreshToken) GetAMR() []string            { return r.AMR }
func (r *refreshToken) GetAudience() []string       { return []string{r.ClientID} }
func (r *refreshToken) GetAuthTime() time.Time      { return r.AuthTime }
func (r *refreshToken) GetClientID() string         { return r.ClientID }
func (r *refreshToken) GetSubject() string          { return r.Sub }
func (r *refreshToken) SetCurrentScopes(s []string) { r.current = s }

// GetScopes is what the tokens of this refresh carry: the scopes it asked
// for, or the whole grant.
func (r *refreshToken) GetScopes() []string {
	if r.current != nil {
		return r.current
	}
	return r.Scopes
}

// accessToken records a user's access token so userinfo and introspection
// can refuse it once revoked or once the user is deactivated.
type accessToken struct {
	ID        string    `json:"id"`
	FamilyID  string    `json:"family_id,omitempty"`
	Sub       string    `json:"sub"`
	ClientID  string    `json:"client_id"`
	Scopes    []string  `json:"scopes"`
	AuthTime  time.Time `json:"auth_time,omitzero"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Key prefixes inside the token collections.
const (
	prefixFamily     = tenant.TokenFamilyPrefix
	prefixUserFamily = tenant.UserFamilyPrefix // usr:<sub>:<family> → "" (revoke all of a user's tokens)
	prefixRefresh    = "rt:"
	prefixAccess     = "at:"
)
