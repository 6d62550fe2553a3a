package provider

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cognate-idp/cognate/provider/buffered"
)

// serveUserinfo lets the library answer /oauth2/userInfo and corrects its
// refusals to what RFC 6750 §3 (and Cognito's documentation) say: the
// library answers a missing token, or one it cannot verify, with 401, a
// line of plain text and no WWW-Authenticate, and a token the storage
// refuses (revoked, its user deactivated) with 403 whatever the reason. A
// relying party reads 401 and invalid_token as "refresh or sign in again";
// a 403 tells it that the token is good but may not do this. Every refusal
// is OAuth's JSON error, as the other endpoints answer, beside the
// WWW-Authenticate challenge that RFC 6750 asks for. A store that cannot
// be read is no refusal: server_error (500).
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("access_token") {
		// RFC 6750 §2.3 lets a server take the token from the URL but
		// advises against it, as a URL is kept by access logs; Cognito
		// takes it from the Authorization header only. The body of a POST
		// (§2.2) is fine.
		refuseUserinfoRequest(w, "send the access token in the Authorization header, not in the URL")
		return
	}
	inHeader := isBearer(r.Header.Get("Authorization"))
	inBody := r.ParseForm() == nil && r.PostForm.Get("access_token") != ""
	if inHeader && inBody {
		// RFC 6750 §2: "Clients MUST NOT use more than one method to
		// transmit the token in each request."
		refuseUserinfoRequest(w, "send the access token once: in the Authorization header or in the body, not in both")
		return
	}
	tokenSent := r.Header.Get("Authorization") != "" || inBody
	ctx, failed := watchServerFailure(r.Context())
	// The library's answer is held for correcting a refusal (401 or 403);
	// its headers go to the real response's.
	held := buffered.NewResponse(w.Header())
	p.op.ServeHTTP(held, r.WithContext(ctx))
	switch status := held.Status(); {
	case status != http.StatusUnauthorized && status != http.StatusForbidden:
		held.Send(w)
		return
	case failed.Load():
		// The store could not be read (storage.oauthError logged why),
		// which the library answers as a refusal: not invalid_token,
		// which would have the relying party drop a token that may be
		// good.
		writeServerError(w)
		return
	case status == http.StatusUnauthorized:
		// No token, or one that does not verify (signature, issuer,
		// expiry). RFC 6750 §3.1 names no error in the challenge when
		// there was no token.
		challenge, description := "Bearer", "the request carries no access token"
		if tokenSent {
			challenge, description = `Bearer error="invalid_token"`, "the access token is invalid or has expired"
		}
		w.Header().Set("WWW-Authenticate", challenge)
		writeOAuthError(w, http.StatusUnauthorized, errorInvalidToken, description)
		return
	}
	var refusal struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(held.Body(), &refusal)
	status := http.StatusForbidden
	if refusal.Error != errorInsufficientScope {
		status, refusal.Error = http.StatusUnauthorized, errorInvalidToken
	}
	w.Header().Set("WWW-Authenticate", `Bearer error="`+refusal.Error+`"`)
	writeOAuthError(w, status, refusal.Error, refusal.Description)
}

// refuseUserinfoRequest answers a malformed userinfo request (RFC 6750
// §3.1, invalid_request).
func refuseUserinfoRequest(w http.ResponseWriter, description string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
	writeOAuthError(w, http.StatusBadRequest, "invalid_request", description)
}

// isBearer reports whether an Authorization header carries a bearer token,
// as the library reads it.
func isBearer(header string) bool {
	return len(header) >= len(oidc.PrefixBearer) && strings.EqualFold(header[:len(oidc.PrefixBearer)], oidc.PrefixBearer)
}
