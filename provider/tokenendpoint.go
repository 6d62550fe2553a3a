package provider

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cognate-idp/cognate/provider/buffered"
	"github.com/cognate-idp/cognate/tenant"
)

// The token endpoint. Cognate checks every request before anything is done
// with it, and hands a code or refresh-token request to the library only
// once the library can do nothing but honour it (or find a replay): the
// library consumes a code before it authenticates the client, and looks a
// refresh token up, revoking its family if it was used, before it checks
// that the token is the client's. A request refused here has changed
// nothing: no code is consumed, no family revoked. The client_credentials
// grant is Cognate's own (machine.go).

// serveToken answers a token request. Its CORS headers, and the answer to
// a preflight, are p.cors's (New).
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	// No answer of the token endpoint, tokens or error, whoever writes it,
	// is to be cached (RFC 6749 §5.1, §5.2).
	h := w.Header()
	h["Cache-Control"] = headerNoStore
	h["Pragma"] = headerNoCache
	// The grant chooses the policy (machine or user); both have the
	// token endpoint's realm.
	site, st, ok := p.backChannelRequest(w, r, realmToken)
	if !ok {
		return
	}
	switch grant := r.PostForm.Get("grant_type"); grant {
	case string(oidc.GrantTypeClientCredentials):
		p.issueMachineToken(w, r, site, st)
	case string(oidc.GrantTypeCode):
		p.exchangeCode(w, r, st)
	case string(oidc.GrantTypeRefreshToken):
		p.exchangeRefreshToken(w, r, st)
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "grant_type missing")
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type",
			"the grant types served are authorization_code, refresh_token and client_credentials")
	}
}

// exchangeCode checks an authorization_code request as the library would,
// and more (the verifier's form), while holding the code's lock, without
// consuming the code, and lets the library answer only a request that
// passes: the client is the one the code was issued to, authenticated, and
// the redirect URI and PKCE verifier match the authorization request. A
// used code passes only so: then the library's replay handling
// (storage.AuthRequestByCode) revokes what the code gave.
func (p *Provider) exchangeCode(w http.ResponseWriter, r *http.Request, st *tenantState) {
	cl, ok := p.authenticateRequest(w, r, st, policyTokenUser)
	if !ok {
		return
	}
	form := r.PostForm
	if !cl.AllowsGrant(tenant.GrantAuthorizationCode) {
		writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", "client may not use the authorization_code grant")
		return
	}
	code, verifier := form.Get("code"), form.Get("code_verifier")
	switch {
	case code == "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "code missing")
		return
	case verifier != "" && !wellFormedVerifier(verifier):
		writeOAuthError(w, http.StatusBadRequest, "invalid_request",
			"code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~' (RFC 7636 §4.1)")
		return
	}

	codeHash := tenant.HashSecret(code)
	lock := &p.codeLocks[codeLockIndex(codeHash)]
	lock.Lock()
	defer lock.Unlock()
	now := p.now()
	// A live code is redeemed by the library, a used one refused there,
	// revoking its tokens, once the request matches its binding.
	ar, binding, outcome := p.storage.pending.peekCode(st.key(), codeHash, now)
	if outcome == codeUnknown {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "authorization code is invalid or expired")
		return
	}
	reason, errCode, description := binding.check(cl.ID, form.Get("redirect_uri"), verifier)
	if reason != "" {
		if outcome == codeReplayed {
			reason += "; the code was used before, and nothing is revoked"
		}
		p.refuseToken(w, r, cl, reason, errCode, description)
		return
	}
	cl.redeeming(&ar)
	p.libraryToken(w, r, cl, func(resp *oidc.AccessTokenResponse) { resp.Scope = ar.granted() })
}

// check compares a token request with a code's binding. It returns why the
// request is refused, for the log, with the OAuth error and description to
// answer; reason is empty when the request matches. The client that names
// a code it was not given is told no more than of an unknown code.
//
// PKCE follows the authorization request (checkPKCE): a code asked for
// with a challenge needs its verifier; one asked for without (by a
// confidential client) is refused a verifier, as RFC 9700 §2.1.1 has it,
// since a verifier there means someone removed the challenge on the way
// (a downgrade), and the client expects a check that would not be made.
func (b codeBinding) check(clientID, redirectURI, verifier string) (reason, code, description string) {
	switch {
	case b.clientID != clientID:
		return "the authorization code was issued to another client", "invalid_grant", "authorization code is invalid or expired"
	case b.redirectURI != redirectURI:
		return "redirect_uri differs from the authorization request's", "invalid_grant", "redirect_uri does not match the authorization request"
	case b.challenge == nil && verifier != "":
		return "a PKCE verifier for a code asked for without a challenge", "invalid_grant",
			"code_verifier sent, but the authorization request had no code_challenge"
	case b.challenge == nil:
		return "", "", ""
	case b.challenge.Method != oidc.CodeChallengeMethodS256:
		return "the authorization request had no S256 PKCE challenge", "invalid_grant", "authorization code is invalid or expired"
	case verifier == "":
		return "no PKCE verifier", "invalid_request", "code_verifier required: the authorization request had a code_challenge"
	case !oidc.VerifyCodeChallenge(b.challenge, verifier):
		return "wrong PKCE verifier", "invalid_grant", "code_verifier does not match the code_challenge"
	}
	return "", "", ""
}

// wellFormedVerifier reports whether v is a PKCE code verifier: 43 to 128
// unreserved characters (RFC 7636 §4.1).
func wellFormedVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// codeLockIndex picks a code's lock by its hash (hex SHA-256).
func codeLockIndex(codeHash string) int {
	b, _ := strconv.ParseUint(codeHash[:2], 16, 8)
	return int(b) % codeLockCount
}

// codeLockCount is how many locks the codes share: exchanges of different
// codes rarely wait for one another, and when they do, briefly (their
// writes are serialised by the store anyway).
const codeLockCount = 64

// exchangeRefreshToken checks that a refresh token is the client's before
// the library's lookup, which revokes the family of a used one, runs. The
// token is looked up here, once (lookUpRefreshToken), and the library's
// lookup takes what was read (TokenRequestByRefreshToken).
func (p *Provider) exchangeRefreshToken(w http.ResponseWriter, r *http.Request, st *tenantState) {
	cl, token, ok := p.clientToken(w, r, st, policyTokenUser, "refresh_token")
	if !ok {
		return
	}
	requested := normaliseRefreshScope(r)
	l, err := p.storage.lookUpRefreshToken(r.Context(), st, token)
	switch {
	case err != nil:
		p.logger.ErrorContext(r.Context(), "read refresh token", "err", err)
		writeServerError(w)
		return
	case l.standing == refreshUnknown:
		// The library refuses it too, with nothing to revoke.
	case l.rt.ClientID != cl.ID:
		p.refuseToken(w, r, cl, "the refresh token was issued to another client; nothing revoked",
			"invalid_grant", "refresh token is invalid or expired")
		return
	case l.rt.Used:
		// The library's replay handling decides first: a used token
		// outside its grace period revokes its family, whatever the
		// scope asked for.
	default:
		// As the library decides it (op.ValidateRefreshTokenScopes, over
		// what storage leaves of the grant), but in words: the library
		// answers a bare invalid_scope, and logs no client.
		if notGranted := scopesBeyond(requested, cl.stillAllowed(l.rt.Scopes)); len(notGranted) > 0 {
			p.refuseToken(w, r, cl, "scope wider than the refresh token's grant", "invalid_scope", notGrantedDescription(notGranted))
			return
		}
	}
	p.libraryToken(w, r.WithContext(context.WithValue(r.Context(), refreshLookupKey{}, l)), cl, nil)
}

// scopesBeyond returns the scopes of requested (normaliseRefreshScope's)
// that granted does not hold.
func scopesBeyond(requested, granted []string) []string {
	var beyond []string
	for _, s := range requested {
		if !slices.Contains(granted, s) {
			beyond = append(beyond, s)
		}
	}
	return beyond
}

// notGrantedDescription says which scopes a refresh asked for beyond its
// grant (RFC 6749 §6), naming them only when they read as scopes, as
// client.refuseScopes does.
func notGrantedDescription(scopes []string) string {
	for _, s := range scopes {
		if !tenant.ValidScope(s) {
			return "a scope asked for is not in this refresh token's grant"
		}
	}
	if len(scopes) == 1 {
		return "scope " + scopes[0] + " is not in this refresh token's grant"
	}
	return "scopes " + strings.Join(scopes, ", ") + " are not in this refresh token's grant"
}

// normaliseRefreshScope reads a refresh request's scope as an
// authorization request's is read (requestedScopes), for the library,
// which would name a scope sent twice twice in its answer and refuse an
// empty one with invalid_scope: each scope counts once, and a scope
// parameter that names none is taken as absent, which RFC 6749 §6 makes
// the scope of the grant (what an empty scope is at authorize too: all
// that may be had). It returns the scopes asked for, none when absent.
// The parameter is split on spaces only, as the library splits it (RFC
// 6749 §3.3): a tab is part of a scope, which no grant holds.
func normaliseRefreshScope(r *http.Request) []string {
	if !r.PostForm.Has("scope") {
		return nil
	}
	scopes := requestedScopes(strings.Split(r.PostForm.Get("scope"), " "))
	for _, form := range []url.Values{r.PostForm, r.Form} {
		if len(scopes) == 0 {
			form.Del("scope")
		} else {
			form.Set("scope", strings.Join(scopes, " "))
		}
	}
	return scopes
}

// refuseToken answers a token request with an OAuth error whose
// description may hide what the log line says.
func (p *Provider) refuseToken(w http.ResponseWriter, r *http.Request, cl *client, reason, code, description string) {
	p.logger.WarnContext(r.Context(), "token request refused", "reason", reason, "client_id", cl.ID,
		"grant_type", r.PostForm.Get("grant_type"))
	writeOAuthError(w, http.StatusBadRequest, code, description)
}

// libraryToken lets the library answer a checked code or refresh request
// of client cl, and corrects its answer: the library issues an ID token
// whatever the scope, where OpenID Connect Core §3.1.2.1 and Cognito issue
// one only for openid, and it names the scope the library decided by (with
// the offline_access Cognate adds; records.go), which scope, when not nil,
// replaces. Its tokens are shaped as Cognito's and signed here
// (tokenshape.go), and expires_in is the client's access-token lifetime,
// as Cognito says it, where the library counts the seconds left after its
// own work and says 3599 for an hour. A refusal gets WWW-Authenticate
// when it is a 401 (RFC 6749 §5.2), which the library does not send.
//
// A failure on the server's side is answered with server_error in general
// words (writeServerError), whatever the library would say: it puts the
// text of an error it is given in error_description, and not every error
// it meets comes through storage.oauthError (a user's claims, a signing
// key); and it answers invalid_grant to any error of the refresh token's
// lookup, which tells the client to drop a token that is good. Its log
// line, or storage's, has said what failed.
func (p *Provider) libraryToken(w http.ResponseWriter, r *http.Request, cl *client, scope func(*oidc.AccessTokenResponse)) {
	// The library's answer is held for correcting; its headers go to the
	// real response's.
	held := buffered.NewResponse(w.Header())
	ctx, failed := watchServerFailure(r.Context())
	signing := new(deferredSigning)
	r = r.WithContext(withDeferredSigning(ctx, signing))
	p.op.ServeHTTP(held, r)
	status := held.Status()
	if status == http.StatusOK {
		var resp oidc.AccessTokenResponse
		err := json.Unmarshal(held.Body(), &resp)
		if err == nil {
			if scope != nil {
				scope(&resp)
			}
			if !slices.Contains(resp.Scope, oidc.ScopeOpenID) {
				resp.IDToken = ""
			}
			resp.ExpiresIn = uint64(cl.AccessTokenTTL / time.Second)
			err = signing.finish(&resp)
		}
		if err != nil {
			p.logger.ErrorContext(r.Context(), "finish the library's tokens", "err", err)
			writeServerError(w)
			return
		}
		writeJSON(w, http.StatusOK, &resp)
		return
	}
	if status >= http.StatusInternalServerError || failed.Load() {
		writeServerError(w)
		return
	}
	if status == http.StatusUnauthorized {
		challengeBasic(w, realmToken) // the code's and refresh grant's
	}
	held.Send(w)
}

// serverFailureKey is the context key of an *atomic.Bool that
// storage.oauthError sets when it meets a failure of the server's while
// the library answers a request whose failure it would answer as a
// refusal: a token request (libraryToken), userinfo (serveUserinfo) or
// introspection (serveIntrospect).
type serverFailureKey struct{}

// watchServerFailure returns ctx with the flag in which oauthError records
// a failure of the server's, and the flag; the caller makes the one copy
// of its request with everything its context needs.
func watchServerFailure(ctx context.Context) (context.Context, *atomic.Bool) {
	failed := new(atomic.Bool)
	return context.WithValue(ctx, serverFailureKey{}, failed), failed
}

// backChannelRequest reads a request to the token, revocation or
// introspection endpoint, named by realm in a challenge: a form body, each
// parameter once, addressed to a tenant that can be served. Its refusals
// are answered.
func (p *Provider) backChannelRequest(w http.ResponseWriter, r *http.Request, realm string) (Site, *tenantState, bool) {
	if !formBody(w, r) || !parseForm(w, r) || !singleValued(w, r) {
		return Site{}, nil, false
	}
	return p.requestTenant(w, r, realm)
}

// formBody refuses a POST to the token, revocation or introspection
// endpoint whose body is not a form (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662
// §2.1). Media types are case-insensitive and may carry parameters (RFC
// 9110 §8.3.1).
func formBody(w http.ResponseWriter, r *http.Request) bool {
	const form = "application/x-www-form-urlencoded"
	contentType := r.Header.Get("Content-Type")
	if contentType == form {
		return true // as nearly every client sends it; parsing allocates
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil && mt == form {
		return true
	}
	writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the request body must be application/x-www-form-urlencoded")
	return false
}

// singleValued refuses a request with a parameter given more than once,
// which RFC 6749 §3.2 forbids: which of the values counts would be up to
// whoever reads the form.
func singleValued(w http.ResponseWriter, r *http.Request) bool {
	for name, values := range r.PostForm {
		if len(values) > 1 {
			description := "a parameter is repeated"
			if len(name) <= 32 && isParamName(name) {
				description = "parameter " + name + " is repeated"
			}
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", description)
			return false
		}
	}
	return true
}

// isParamName reports whether name looks like an OAuth parameter's name,
// so that it may be repeated in an answer and in the log.
func isParamName(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; !('a' <= c && c <= 'z') && c != '_' {
			return false
		}
	}
	return name != ""
}
