package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// serveIntrospect authenticates the client before the library answers. The
// library refuses a client it cannot authenticate with 401 and its error in
// plain text ("ErrorType=invalid_client Parent=…"), where RFC 7662 §2.3
// asks for the JSON error of RFC 6749 §5.2, which relying parties' OAuth
// libraries read.
func (p *Provider) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	_, st, ok := p.requestTenant(w, r)
	if !ok {
		return
	}
	if _, _, basic := r.BasicAuth(); !basic {
		// The library authenticates an introspecting client by HTTP Basic
		// only, and the discovery document says so.
		w.Header().Set("WWW-Authenticate", `Basic realm="introspect"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "introspection takes HTTP Basic client authentication (client_secret_basic)")
		return
	}
	if _, ok := authenticateRequest(w, r, st, "introspect"); !ok {
		return
	}
	// The library hands storage only a token's ID and subject. A machine
	// token has no stored record to fill in the rest from, so its text
	// travels along for machineIntrospection.
	r = r.WithContext(context.WithValue(r.Context(), introspectedKey{}, r.PostForm.Get("token")))
	p.op.ServeHTTP(w, r) // the parsed form stays on r for the library
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
