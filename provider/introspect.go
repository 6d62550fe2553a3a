package provider

import "net/http"

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
	p.op.ServeHTTP(w, r) // the parsed form stays on r for the library
}
