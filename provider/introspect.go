package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cognate-idp/cognate/provider/buffered"
)

// serveIntrospect authenticates the client before the library answers. The
// library refuses a client it cannot authenticate with 401 and its error in
// plain text ("ErrorType=invalid_client Parent=…"), where RFC 7662 §2.3
// asks for the JSON error of RFC 6749 §5.2, which relying parties' OAuth
// libraries read. A refresh token is answered here: the library knows
// access tokens only, and says of a live refresh token that it is
// inactive. A store that cannot be read is answered with server_error,
// never as an inactive token.
func (p *Provider) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	site, st, ok := p.backChannelRequest(w, r, realmIntrospect)
	if !ok {
		return
	}
	// HTTP Basic or client_secret_post, as the discovery document says
	// (the library, which reads HTTP Basic only, is handed the latter as
	// the former: policyIntrospect). The token is required (RFC 7662 §2.1).
	cl, token, ok := p.clientToken(w, r, st, policyIntrospect, "token")
	if !ok {
		return
	}
	resp, isRefresh, err := p.storage.introspectRefreshToken(r.Context(), st, p.hosts.TenantURL(site.Slug), token, cl.ID)
	switch {
	case err != nil:
		writeServerError(w) // logged by introspectRefreshToken
		return
	case isRefresh:
		writeJSON(w, http.StatusOK, resp)
		return
	}
	// The library hands storage only a token's ID and subject. A machine
	// token has no stored record to fill in the rest from, so its text
	// travels along for machineIntrospection.
	// The library answers active false whatever storage met; a store that
	// could not be read is server_error, not a token to drop.
	ctx, failed := watchServerFailure(context.WithValue(r.Context(), introspectedKey{}, token))
	r = r.WithContext(ctx)
	held := buffered.NewResponse(w.Header())
	p.op.ServeHTTP(held, r) // the parsed form stays on r for the library
	if failed.Load() {
		writeServerError(w) // logged by storage.oauthError
		return
	}
	held.Send(w)
}

type introspectedKey struct{}

// machineIntrospection reads the claims of the machine token being
// introspected. It is called only after the library has verified the
// token's signature and expiry against this tenant's keys, so the payload
// is decoded, not verified again; the jti must be the one the library
// verified, which ties the two together.
func machineIntrospection(ctx context.Context, tokenID string) (machineClaims, bool) {
	token, _ := ctx.Value(introspectedKey{}).(string)
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return machineClaims{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return machineClaims{}, false
	}
	var claims machineClaims
	if json.Unmarshal(payload, &claims) != nil || claims.JWTID != tokenID {
		return machineClaims{}, false
	}
	return claims, true
}

// introspectRefreshToken answers the introspection of token when it is a
// refresh token of tenant st (isRefresh). It is active when the client
// asking is the one it was issued to (to any other it is inactive, as an
// access token is) and the refresh grant would take it now
// (refreshStandingOf). An error is a store that could not be read, logged
// here: whether the token is active is not known, and the client is to be
// told server_error, as the refresh grant tells it, not inactive, which
// would have it drop a token that may be good.
func (s *storage) introspectRefreshToken(ctx context.Context, st *tenantState, issuer, token, clientID string) (resp *oidc.IntrospectionResponse, isRefresh bool, err error) {
	if token == "" {
		return nil, false, nil
	}
	l, err := s.lookUpRefreshToken(ctx, st, token)
	switch {
	case err != nil:
		return nil, true, s.oauthError(ctx, "introspect refresh token", err)
	case l.standing == refreshUnknown:
		return nil, false, nil // not a refresh token: the library's to answer
	case l.standing != refreshUsable || l.rt.ClientID != clientID:
		return &oidc.IntrospectionResponse{}, true, nil // inactive
	}
	rt, user := l.rt, l.user
	cl := st.clients[rt.ClientID]
	resp = &oidc.IntrospectionResponse{
		Active:     true,
		TokenType:  "refresh_token",
		ClientID:   rt.ClientID,
		Subject:    rt.Sub,
		Username:   user.Username,
		Scope:      cl.stillAllowed(rt.Scopes),
		Expiration: oidc.FromTime(rt.ExpiresAt),
		Issuer:     issuer,
	}
	if !rt.AuthTime.IsZero() {
		resp.AuthTime = oidc.FromTime(rt.AuthTime)
	}
	return resp, true, nil
}
