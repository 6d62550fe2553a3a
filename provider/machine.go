package provider

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/cognate-idp/cognate/tenant"
)

// The client_credentials grant is served here rather than by the library.
// It is the hottest path a machine-to-machine deployment has, and the
// library's generic token code spends more than the ECDSA signature itself
// on claim maps, routing, CORS and tracing, and builds a new signer per
// token. Here a token is one cached-client lookup, one SHA-256 of the
// secret, one JSON encoding and one signature under a header encoded once
// per key. Machine tokens are stateless JWTs: nothing is written per token.
// The code and refresh grants go to the library once Cognate has checked
// them (tokenendpoint.go).

// machinePrefix marks the jti of machine tokens, so introspection knows
// there is no stored record to look up.
const machinePrefix = "cc-"

// machineClaims is a machine access token in Cognito's shape: no user, the
// client is the subject, and the scope claim says what it may do. Like
// Cognito's, it has no aud: the client is named by client_id, as in a
// user's access token (tokenshape.go).
type machineClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Expiry    int64  `json:"exp"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf"`
	JWTID     string `json:"jti"`
	ClientID  string `json:"client_id"`
	TokenUse  string `json:"token_use"`
	Scope     string `json:"scope"`
}

// appendJSON appends c as json.Marshal writes it (see jsonappend.go).
func (c machineClaims) appendJSON(dst []byte) []byte {
	o := startJSONObject(dst)
	o.string("iss", c.Issuer)
	o.string("sub", c.Subject)
	o.int("exp", c.Expiry)
	o.int("iat", c.IssuedAt)
	o.int("nbf", c.NotBefore)
	o.string("jti", c.JWTID)
	o.string("client_id", c.ClientID)
	o.string("token_use", c.TokenUse)
	o.string("scope", c.Scope)
	return o.end()
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// appendJSON appends t as json.Marshal writes it (see jsonappend.go).
func (t tokenResponse) appendJSON(dst []byte) []byte {
	o := startJSONObject(dst)
	o.string("access_token", t.AccessToken)
	o.string("token_type", t.TokenType)
	o.int("expires_in", t.ExpiresIn)
	if t.Scope != "" {
		o.string("scope", t.Scope)
	}
	return o.end()
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// issueMachineToken answers a client_credentials request whose form is
// parsed and checked (serveToken).
func (p *Provider) issueMachineToken(w http.ResponseWriter, r *http.Request, site Site, st *tenantState) {
	// Checked against st, the state the client is read from: a change
	// reloading the cache in between must not leave the two apart.
	cl, ok := p.authenticateRequest(w, r, st, policyTokenMachine)
	if !ok {
		return
	}
	if !cl.AllowsGrant(tenant.GrantClientCredentials) {
		writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", "client may not use client_credentials")
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	if len(scopes) == 0 {
		scopes = cl.Scopes
	}
	if err := cl.refuseScopes(scopes); err != nil {
		writeOAuthError(w, http.StatusBadRequest, string(err.ErrorType), err.Description)
		return
	}

	now := p.now()
	claims := machineClaims{
		Issuer: p.hosts.TenantURL(site.Slug), Subject: cl.ID,
		Expiry: now.Add(cl.AccessTokenTTL).Unix(), IssuedAt: now.Unix(), NotBefore: now.Unix(),
		JWTID: machinePrefix + tenant.NewSecret(16), ClientID: cl.ID, TokenUse: "access", Scope: strings.Join(scopes, " "),
	}
	token, err := st.signing.sign(claims.appendJSON(make([]byte, 0, 512)))
	if err != nil {
		p.logger.ErrorContext(r.Context(), "sign machine token", "tenant", site.Slug, "err", err)
		writeServerError(w)
		return
	}
	resp := tokenResponse{AccessToken: token, TokenType: "Bearer",
		ExpiresIn: int64(cl.AccessTokenTTL / time.Second), Scope: claims.Scope}
	body := resp.appendJSON(make([]byte, 0, len(token)+128))
	writeJSONBody(w, http.StatusOK, append(body, '\n'))
}

// requestTenant is the tenant of a request to the endpoint of realm
// (realmToken…) and its state. The Router has checked that the tenant
// exists and can be served; should that have changed since, the request is
// answered as the Router answers a tenant it cannot serve: deleted, as
// organizationGone; its key no longer opening, unavailable.
func (p *Provider) requestTenant(w http.ResponseWriter, r *http.Request, realm string) (Site, *tenantState, bool) {
	site, _ := SiteFromContext(r.Context())
	st, err := p.cache.get(r.Context(), site.Slug)
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		refusal := organizationGone(r.Context(), p.logger)
		status := http.StatusBadRequest
		if r.Header.Get("Authorization") != "" {
			// RFC 6749 §5.2: a client that authenticated in the header
			// is answered 401, with the endpoint's challenge.
			status = http.StatusUnauthorized
			challengeBasic(w, realm)
		}
		writeOAuthError(w, status, string(refusal.ErrorType), refusal.Description)
		return site, nil, false
	case err != nil:
		writeUnavailable(w)
		return site, nil, false
	}
	return site, st, true
}

// writeUnavailable answers a relying party's server for a tenant that
// cannot be served now, in JSON as its other errors are.
func writeUnavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "30")
	writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "this organization cannot be served right now")
}

// parseForm parses an endpoint's form, and answers a body too large (see
// Router) or malformed.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	err := r.ParseForm()
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooLarge):
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "request body too large")
	default:
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed request body")
	}
	return false
}

// sign makes a compact JWS (RFC 7515) of payload, the token's claims in
// JSON: the header is fixed per key and encoded once, so a token costs one
// encoding of the claims and one signature.
func (k *signingKey) sign(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(k.jwsHeader)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(512))
	buf = append(buf, k.jwsHeader...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	digest := sha256.Sum256(buf)
	var sig []byte
	var err error
	switch priv := k.priv.(type) {
	case *ecdsa.PrivateKey:
		der, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
		if err != nil {
			return "", err
		}
		if sig, err = joseECDSASignature(der, (priv.Curve.Params().BitSize+7)/8); err != nil {
			return "", err
		}
	case *rsa.PrivateKey:
		if sig, err = rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:]); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("signing key %s: unsupported type %T", k.id, k.priv)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// joseECDSASignature turns an ECDSA signature in ASN.1 DER, as Go makes
// it, into JWS's form (RFC 7518 §3.4): r and s as unsigned big-endian
// integers of size bytes each, one after the other. ecdsa.Sign would give
// r and s as big.Ints, but only by parsing the same DER into them.
func joseECDSASignature(der []byte, size int) ([]byte, error) {
	var r, s []byte
	var inner cryptobyte.String
	input := cryptobyte.String(der)
	if !input.ReadASN1(&inner, asn1.SEQUENCE) || !input.Empty() ||
		!inner.ReadASN1Integer(&r) || !inner.ReadASN1Integer(&s) || !inner.Empty() ||
		len(r) > size || len(s) > size {
		return nil, errors.New("ECDSA signature is not the DER of two integers that fit the curve")
	}
	sig := make([]byte, 2*size)
	copy(sig[size-len(r):size], r)
	copy(sig[2*size-len(s):], s)
	return sig, nil
}

// jwsHeader is the encoded protected header of tokens signed with k.
func jwsHeader(k *signingKey) string {
	h, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{string(k.alg), k.id, "JWT"})
	return base64.RawURLEncoding.EncodeToString(h)
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, oauthError{Error: code, Description: description})
}

// writeServerError answers a request that failed on the server's side,
// whose cause the caller has logged.
func writeServerError(w http.ResponseWriter) {
	writeOAuthError(w, http.StatusInternalServerError, "server_error", serverErrorDescription)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a value JSON cannot hold (a NaN, a channel) fails here,
		// which no answer of ours is: the client gets a server error
		// rather than half an answer.
		status = http.StatusInternalServerError
		body, _ = json.Marshal(oauthError{Error: "server_error", Description: serverErrorDescription})
	}
	writeJSONBody(w, status, append(body, '\n'))
}

// writeJSONBody answers with body, a JSON document.
func writeJSONBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = headerJSON
	// Tokens and errors about them are never to be cached (RFC 6749 §5.1).
	h["Cache-Control"] = headerNoStore
	h["Pragma"] = headerNoCache
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
