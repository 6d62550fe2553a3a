package provider

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// What the token endpoint checks of a code before the library consumes it
// (Provider.exchangeCode): a code is bound to the client it was issued to,
// the redirect URI of its authorization request and that request's PKCE
// challenge. The binding stays with the code (pendingCode) until the code
// expires, after its request has gone at the first exchange, so that a
// replay revokes the code's tokens only when it comes from that client
// with that redirect URI and verifier: anyone else holding a used code
// (copied from a log, a browser history, a referrer) is simply refused.

// codeBinding is what a token request must match to use a code.
type codeBinding struct {
	clientID, redirectURI string
	challenge             *oidc.CodeChallenge
}

func bindingOf(ar *authRequest) codeBinding {
	return codeBinding{clientID: ar.ClientID, redirectURI: ar.RedirectURI, challenge: ar.GetCodeChallenge()}
}

// peekCode reports what redeemCode would find for a code, without
// redeeming it, and the code's binding: the request of a live code, or
// only the family of a redeemed one.
func (p *pending) peekCode(tk tenantKey, codeHash string, now time.Time) (authRequest, codeBinding, codeOutcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.codes[pendingKey{tk, codeHash}]
	switch {
	case !ok || !now.Before(c.expiresAt):
		return authRequest{}, codeBinding{}, codeUnknown
	case c.request == nil:
		return authRequest{FamilyID: c.familyID}, c.binding, codeReplayed
	}
	return *c.request, c.binding, codeRedeemed
}
