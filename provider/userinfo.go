package provider

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// serveUserinfo lets the library answer /oauth2/userInfo and corrects its
// refusals to what RFC 6750 §3 (and Cognito's documentation) say: the
// library answers a token it cannot verify with 401 and no
// WWW-Authenticate, and a token the storage refuses (revoked, its user
// deactivated) with 403 whatever the reason. A relying party reads 401 and
// invalid_token as "refresh or sign in again"; a 403 tells it that the
// token is good but may not do this.
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("access_token") {
		// RFC 6750 §2.3 lets a server take the token from the URL but
		// advises against it, as a URL is kept by access logs; Cognito
		// takes it from the Authorization header only. The body of a POST
		// (§2.2) is fine.
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "send the access token in the Authorization header, not in the URL")
		return
	}
	tokenSent := r.Header.Get("Authorization") != ""
	if !tokenSent && r.ParseForm() == nil {
		tokenSent = r.Form.Get("access_token") != ""
	}
	uw := &userinfoWriter{ResponseWriter: w, tokenSent: tokenSent}
	p.op.ServeHTTP(uw, r)
	if uw.held == 0 {
		return
	}
	var refusal struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(uw.body.Bytes(), &refusal)
	status := http.StatusForbidden
	if refusal.Error != errorInsufficientScope {
		status, refusal.Error = http.StatusUnauthorized, errorInvalidToken
	}
	w.Header().Set("WWW-Authenticate", `Bearer error="`+refusal.Error+`"`)
	writeOAuthError(w, status, refusal.Error, refusal.Description)
}

// userinfoWriter passes the library's answer through, except a 403, which
// it holds back for serveUserinfo to rewrite, and a 401, to which it adds
// the WWW-Authenticate header.
type userinfoWriter struct {
	http.ResponseWriter
	tokenSent bool
	held      int
	body      bytes.Buffer
}

func (uw *userinfoWriter) WriteHeader(status int) {
	switch status {
	case http.StatusForbidden:
		uw.held = status
		return
	case http.StatusUnauthorized:
		// No token, or one that does not verify (signature, issuer,
		// expiry): RFC 6750 names no error when there was no token.
		challenge := "Bearer"
		if uw.tokenSent {
			challenge = `Bearer error="invalid_token"`
		}
		uw.Header().Set("WWW-Authenticate", challenge)
	}
	uw.ResponseWriter.WriteHeader(status)
}

func (uw *userinfoWriter) Write(b []byte) (int, error) {
	if uw.held != 0 {
		return uw.body.Write(b)
	}
	return uw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (uw *userinfoWriter) Unwrap() http.ResponseWriter { return uw.ResponseWriter }
