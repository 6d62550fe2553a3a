package provider

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cognate-idp/cognate/tenant"
)

// serveRevoke answers /oauth2/revoke (RFC 7009). Cognate serves it rather
// than the library, whose revocation follows token_type_hint into guesses:
// given hint access_token, or a refresh token of another client, it tries
// to decrypt the token as an opaque access token, and its unauthenticated
// fallback cipher turns a refresh token into some other token ID often
// enough that it answered 200 and left the token working. Here the hint is
// ignored, as RFC 7009 §2.1 allows: the token is looked up as a refresh
// token, then verified as an access token; 200 means it no longer works,
// or was never a token of this tenant.
func (p *Provider) serveRevoke(w http.ResponseWriter, r *http.Request) {
	site, st, ok := p.backChannelRequest(w, r, realmRevoke)
	if !ok {
		return
	}
	cl, token, ok := p.clientToken(w, r, st, policyRevoke, "token")
	if !ok {
		return
	}
	ctx := r.Context()
	found, err := p.storage.revokeToken(ctx, site.Slug, prefixRefresh+tenant.HashSecret(token), cl.ID)
	if !found && err == nil {
		_, err = p.revokeAccessToken(ctx, site.Slug, token, cl.ID)
	}
	switch {
	case errors.Is(err, errTokenOfAnotherClient):
		// RFC 7009 §2.1: the token must have been issued to the client
		// revoking it; RFC 6749 §5.2 names the error.
		p.logger.WarnContext(ctx, "revocation refused", "reason", "the token was issued to another client; nothing revoked", "client_id", cl.ID)
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "the token was not issued to this client")
	case errors.Is(err, errMachineToken):
		writeOAuthError(w, http.StatusBadRequest, "unsupported_token_type",
			"a client_credentials access token cannot be revoked; it expires (RFC 7009 §2.2.1)")
	case err != nil:
		p.logger.ErrorContext(ctx, "revoke token", "err", err)
		writeServerError(w)
	default: // revoked, or unknown, which is no error (RFC 7009 §2.2)
		w.Header()["Cache-Control"] = headerNoStore
		w.WriteHeader(http.StatusOK)
	}
}

var (
	errTokenOfAnotherClient = errors.New("token was issued to another client")
	errMachineToken         = errors.New("machine access tokens are not revocable")
)

// revokeAccessToken revokes token when it is an access token of tenant slug
// that verifies: signature, issuer and expiry (an expired one is dead
// already). Machine tokens are stateless and cannot be revoked.
func (p *Provider) revokeAccessToken(ctx context.Context, slug, token, clientID string) (bool, error) {
	ctx = op.ContextWithIssuer(ctx, p.hosts.TenantURL(slug))
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](ctx, token, p.op.AccessTokenVerifier(ctx))
	if err != nil {
		return false, nil
	}
	if strings.HasPrefix(claims.JWTID, machinePrefix) {
		if claims.Subject != clientID {
			return true, errTokenOfAnotherClient
		}
		return true, errMachineToken
	}
	return p.storage.revokeToken(ctx, slug, prefixAccess+claims.JWTID, clientID)
}

// revokeToken revokes the token stored under key (a refresh token's, which
// revokes its family, or an access token's) when it was issued to
// clientID. It reports whether there is such a token; one issued to
// another client gives errTokenOfAnotherClient and is left alone.
func (s *storage) revokeToken(ctx context.Context, slug, key, clientID string) (found bool, err error) {
	err = s.store.Update(ctx, func(tx tenant.Tx) error {
		found = false
		switch {
		case strings.HasPrefix(key, prefixRefresh):
			rt, err := tenant.GetJSON[refreshToken](tx, tenant.CollRefreshTokens, slug, key)
			if errors.Is(err, tenant.ErrNotFound) {
				return nil
			} else if err != nil {
				return err
			}
			found = true
			if rt.ClientID != clientID {
				return errTokenOfAnotherClient
			}
			return revokeFamily(tx, slug, rt.FamilyID, s.now())
		case strings.HasPrefix(key, prefixAccess):
			at, err := tenant.GetJSON[accessToken](tx, tenant.CollAccessTokens, slug, key)
			if errors.Is(err, tenant.ErrNotFound) {
				return nil
			} else if err != nil {
				return err
			}
			found = true
			if at.ClientID != clientID {
				return errTokenOfAnotherClient
			}
			return tx.Delete(tenant.CollAccessTokens, slug, key)
		}
		return errors.New("revokeToken: key of no token")
	})
	return found, err
}
