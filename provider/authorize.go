package provider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The authorization endpoint is the one anybody may call without
// credentials, and what it accepts is held in memory (pending) until the
// person signs in or half an hour has passed. So it checks more than the
// library does, before anything is held:
//   - no parameter twice (RFC 6749 §3.1); the library took the last value;
//   - none longer than authorizeLimits;
//   - request_uri refused (OIDC Core §6.2), response_type only "code" and
//     response_mode only what the library can answer with;
//   - PKCE with S256, required of public clients (checkPKCE);
//   - no scope means every scope the client is allowed (Cognito), and a
//     scope it is not allowed, a standard one too, is refused with
//     invalid_scope (client.refuseScopes), where the library lets
//     the standard ones through for any client and drops the others.
//
// Where a refusal goes follows RFC 6749 §4.1.2.1: while the client and the
// redirect URI are not known to be good (a repeated client_id or
// redirect_uri among them), the person gets a page (ServeHTTP's
// refusalCatcher); once they are, the error goes back to the redirect URI,
// as OAuth's error with the request's state, in the response mode the
// request asked for (authorizeError), a malformed max_age's too.

// authorizeLimits bounds, in bytes, the parameters an authorization request
// may carry: far above what applications send, far below what would let
// anonymous requests fill the memory (pending counts what is held, and
// refuses new requests when full; these keep one request from being worth
// many). A request over a limit is refused with invalid_request.
//   - state: 4 KiB. Applications put a return URL, or an encrypted blob of
//     their own, in it; a URL longer than that rarely survives the
//     browsers and proxies on its way anyway.
//   - nonce: 512. Libraries send 16 to 64 random characters, or a hash.
//   - login_hint: 512. An email address is at most 254.
//   - scope: 4 KiB. Room for dozens of custom scopes (resource-server/scope).
//   - code_challenge: 128. An S256 challenge is 43 characters.
//   - ui_locales, prompt, acr_values: a few language tags or keywords.
//   - id_token_hint: 16 KiB. A signed ID token with many groups; it is
//     verified, not held.
var authorizeLimits = []struct {
	param string
	max   int
}{
	{"state", 4096},
	{"nonce", 512},
	{"login_hint", 512},
	{"scope", 4096},
	{"code_challenge", 128},
	{"ui_locales", 256},
	{"prompt", 128},
	{"acr_values", 512},
	{"id_token_hint", 16 << 10},
}

// authorizeParams are the parameters the authorization endpoint reads,
// which therefore may appear once each. Others are ignored (RFC 6749 §3.1),
// repeated or not.
var authorizeParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "response_mode", "display", "prompt",
	"max_age", "ui_locales", "id_token_hint", "login_hint", "acr_values", "code_challenge", "code_challenge_method",
	"request", "request_uri",
}

// responseModes are the response modes the library answers a code request
// with (op.AuthResponseCode, op.AuthResponseURL); the discovery document
// lists them.
var responseModes = []string{string(oidc.ResponseModeQuery), string(oidc.ResponseModeFragment), string(oidc.ResponseModeFormPost)}

// OAuth error codes the library has no constructor for.
const (
	errorUnsupportedResponseType = "unsupported_response_type" // RFC 6749 §4.1.2.1
	errorRequestURINotSupported  = "request_uri_not_supported" // OIDC Core §3.1.2.6
)

// serveAuthorize answers /oauth2/authorize as the library's op.Authorize
// does, with Cognate's checks (authorizer.validate) in place of the
// library's own validation, which they call in the end, and with its
// refusals answered by authorizeError, in the response mode asked for.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	// ServeHTTP has parsed the form, and refused one that does not parse;
	// this keeps the handler whole on its own.
	_ = r.ParseForm()
	ctx := r.Context()
	req, undecodable := op.ParseAuthorizeRequest(r, p.op.Decoder())
	if undecodable != nil {
		// A parameter that is no number (max_age=abc), which the library
		// would answer with a page. validate finds it, and refuses it at
		// the redirect URI once the client and that are known to be
		// good, from the parameters as they were sent.
		req = &oidc.AuthRequest{ClientID: r.Form.Get("client_id"), RedirectURI: r.Form.Get("redirect_uri"),
			State: r.Form.Get("state"), ResponseType: oidc.ResponseType(r.Form.Get("response_type")),
			ResponseMode: oidc.ResponseMode(r.Form.Get("response_mode"))}
	}
	az := &authorizer{form: r.Form, logger: p.logger}
	sub, cl, err := az.validate(ctx, req, p.storage, p.op.IDTokenHintVerifier(ctx))
	switch {
	case err != nil:
	case undecodable != nil:
		// Not met: validate checks every parameter that can fail to
		// decode. A new one would be refused, not dropped.
		err = undecodable
	case req.RequestParam != "":
		err = oidc.ErrRequestNotSupported()
	}
	if err != nil {
		p.authorizeError(w, r, req, err)
		return
	}
	ar, err := p.storage.CreateAuthRequest(ctx, req, sub)
	if err != nil {
		p.authorizeError(w, r, req, oidc.DefaultToServerError(err, "unable to save auth request"))
		return
	}
	op.RedirectToLogin(ar.GetID(), cl, w, r)
}

// authorizeError answers an authorization request with err: a page
// (op.AuthRequestError, then ServeHTTP's refusalCatcher) while it may not
// go to the redirect URI, and otherwise OAuth's error with the request's
// state, sent back as a code would be (authorizeResponse). The library's
// op.AuthRequestError puts the error in the URL whatever the mode,
// form_post's too.
func (p *Provider) authorizeError(w http.ResponseWriter, r *http.Request, req op.ErrAuthRequest, err error) {
	e := oidc.DefaultToServerError(err, err.Error())
	if req == nil || req.GetRedirectURI() == "" || e.IsRedirectDisabled() {
		op.AuthRequestError(w, r, req, err, p.op)
		return
	}
	e.State = req.GetState()
	// The library's line, in its words (requestlog.go counts it so), and
	// as it logs the request: only what the request itself chose to show.
	args := []any{"oidc_error", e, "client_ip", p.hosts.ClientIP(r)}
	if logged, ok := req.(op.LogAuthRequest); ok {
		args = append(args, "auth_request", logged)
	}
	p.logger.Log(r.Context(), e.LogLevel(), "auth request", args...)
	p.authorizeResponse(w, r, req, e)
}

// authorizeResponse sends an authorization response, a code
// (op.CodeResponseType) or an error (*oidc.Error), to the request's
// redirect URI in the response mode it asked for: in the query or the
// fragment of a redirect, or posted by the browser (form_post). Every
// response carries the issuer, whose context r must carry, as iss (RFC
// 9207): an application that talks to several organizations (several
// issuers) can tell which one answered, and so will not send a code to
// the wrong one's token endpoint (the mix-up attack, RFC 9700 §2.1).
func (p *Provider) authorizeResponse(w http.ResponseWriter, r *http.Request, req op.ErrAuthRequest, response any) {
	encoder := issuerEncoder{Encoder: p.op.Encoder(), issuer: op.IssuerFromContext(r.Context())}
	if responseMode(req) == oidc.ResponseModeFormPost {
		params := url.Values{}
		err := encoder.Encode(response, params)
		if err == nil {
			err = writeFormPost(w, req.GetRedirectURI(), params)
		}
		if err != nil {
			p.logger.ErrorContext(r.Context(), "write the form_post page", "err", err)
			writeServerError(w)
		}
		return
	}
	u, err := op.AuthResponseURL(req.GetRedirectURI(), req.GetResponseType(), responseMode(req), response, encoder)
	if err != nil {
		// Not met: the redirect URI is one the client registered, and
		// was parsed to be matched.
		p.logger.ErrorContext(r.Context(), "build the authorization response's URL", "err", err)
		writeServerError(w)
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}

// issuerEncoder is the library's encoder of an authorization response
// that adds the issuer as iss (RFC 9207 §2).
type issuerEncoder struct {
	httphelper.Encoder
	issuer string
}

func (e issuerEncoder) Encode(src any, dst map[string][]string) error {
	if err := e.Encoder.Encode(src, dst); err != nil {
		return err
	}
	dst["iss"] = []string{e.issuer}
	return nil
}

// formPostPage is the Form Post Response Mode's page (§2, §5): it posts
// the authorization response's parameters to the redirect URI as soon as
// it loads. The library's own (op.AuthResponseFormPost) posts a code or
// tokens, but drops error and error_description.
var formPostPage = template.Must(template.New("form_post").Parse(`<!doctype html>
<html>
<head><meta charset="utf-8"></head>
<body onload="javascript:document.forms[0].submit()">
<form method="post" action="{{.RedirectURI}}">
{{- range $name, $values := .Params}}
<input type="hidden" name="{{$name}}" value="{{index $values 0}}">
{{- end}}
</form>
</body>
</html>
`))

// writeFormPost answers with formPostPage, rendered to a buffer first, for
// redirectURI and params (one value each).
func writeFormPost(w http.ResponseWriter, redirectURI string, params url.Values) error {
	var page bytes.Buffer
	if err := formPostPage.Execute(&page, struct {
		RedirectURI string
		Params      url.Values
	}{redirectURI, params}); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	_, err := page.WriteTo(w)
	return err
}

// responseMode is the response mode of an authorization request, or "".
func responseMode(req op.ErrAuthRequest) oidc.ResponseMode {
	if rm, ok := req.(interface{ GetResponseMode() oidc.ResponseMode }); ok {
		return rm.GetResponseMode()
	}
	return ""
}

// authorizer checks one authorization request with the request's
// parameters as they were sent, which the library's decoded request no
// longer shows (a repeated parameter, one it does not know).
type authorizer struct {
	form   url.Values
	logger *slog.Logger
}

// validate checks an authorization request before it is stored, in place
// of the library's op.AuthorizeValidator, and returns the subject of its
// id_token_hint, if any, and its client, for serveAuthorize to send the
// person on with. It checks in two steps: the client and redirect URI
// (clientOf), whose refusals are a page, since nothing says yet where
// the browser may be sent; then the other parameters (checkParams), whose
// refusals go to that redirect URI.
func (a *authorizer) validate(ctx context.Context, req *oidc.AuthRequest, storage op.Storage, verifier *op.IDTokenHintVerifier) (sub string, cl *client, err error) {
	if cl, err = a.clientOf(ctx, req, storage); err != nil {
		return "", nil, err
	}
	if sub, err = a.checkParams(ctx, req, cl, verifier); err != nil {
		return "", nil, err
	}
	return sub, cl, nil
}

// clientOf returns the client of an authorization request once its client
// and redirect URI are known to be good. Its refusals are not redirected
// (oidc.ErrInvalidRequestRedirectURI): nothing says yet where to.
func (a *authorizer) clientOf(ctx context.Context, req *oidc.AuthRequest, storage op.Storage) (*client, error) {
	for _, param := range []string{"client_id", "redirect_uri"} {
		if len(a.form[param]) > 1 {
			return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("%s is repeated", param)
		}
	}
	opClient, err := storage.GetClientByClientID(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("unable to retrieve client by id").WithParent(err)
	}
	if err := op.ValidateAuthReqRedirectURI(opClient, req.RedirectURI, req.ResponseType); err != nil {
		return nil, err
	}
	cl, ok := opClient.(*client)
	if !ok { // storage's clients are: there is no other
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("client of an unknown type")
	}
	return cl, nil
}

// checkParams checks the parameters of an authorization request of client
// cl other than its client and redirect URI (clientOf's), and returns the
// subject of its id_token_hint, if any. Its refusals are redirected to the
// client.
func (a *authorizer) checkParams(ctx context.Context, req *oidc.AuthRequest, cl *client, verifier *op.IDTokenHintVerifier) (string, error) {
	for _, param := range authorizeParams {
		if len(a.form[param]) > 1 {
			return "", oidc.ErrInvalidRequest().WithDescription("%s is repeated", param)
		}
	}
	for _, limit := range authorizeLimits {
		if len(a.form.Get(limit.param)) > limit.max {
			if limit.param == "state" {
				// Not sent back, nor logged: that is what the
				// limit keeps from happening.
				req.State = ""
			}
			return "", oidc.ErrInvalidRequest().WithDescription("%s is longer than %d bytes", limit.param, limit.max)
		}
	}
	// max_age is the one parameter the library decodes as a number (with
	// strconv.ParseUint, as here); for one it cannot read, serveAuthorize
	// has only the parameters as they were sent.
	if maxAge := a.form.Get("max_age"); maxAge != "" {
		if _, err := strconv.ParseUint(maxAge, 10, 0); err != nil {
			return "", oidc.ErrInvalidRequest().WithDescription("max_age must be a whole number of seconds")
		}
	}
	if a.form.Get("request_uri") != "" {
		return "", &oidc.Error{ErrorType: errorRequestURINotSupported, Description: "request_uri is not supported"}
	}
	switch req.ResponseType {
	case "":
		return "", oidc.ErrInvalidRequest().WithDescription("response_type is missing")
	case oidc.ResponseTypeCode:
	default:
		return "", &oidc.Error{ErrorType: errorUnsupportedResponseType, Description: "only response_type=code is supported"}
	}
	if err := checkPKCE(cl.AuthMethod() == oidc.AuthMethodNone, req.CodeChallenge, req.CodeChallengeMethod); err != nil {
		return "", err
	}
	if req.ResponseMode != "" && !slices.Contains(responseModes, string(req.ResponseMode)) {
		return "", oidc.ErrInvalidRequest().WithDescription("response_mode is not one of query, fragment, form_post")
	}
	req.Scopes = requestedScopes(req.Scopes)
	if len(req.Scopes) == 0 {
		// Cognito: "If no scope is requested, all client-allowed scopes
		// are used."
		req.Scopes = unique(cl.Scopes)
	}
	// Before the library's check, which lets the standard scopes through
	// for every client and drops the others it does not allow.
	if err := cl.refuseScopes(req.Scopes); err != nil {
		return "", err
	}
	// The library's check answers a hint it cannot verify with
	// login_required, prompt=none or not, so that the login page never
	// shows: hintSubject checks it instead.
	hint := req.IDTokenHint
	req.IDTokenHint = ""
	if _, err := op.ValidateAuthRequestClient(ctx, req, cl, verifier); err != nil {
		return "", err
	}
	req.IDTokenHint = hint
	return a.hintSubject(ctx, req, verifier)
}

// hintSubject returns the subject of an authorization request's
// id_token_hint, the user the relying party expects (LoginRequest's
// HintSubject), or "" without one. A hint that does not verify (signed by
// a key retired since, by another organization, or no ID token at all)
// says nothing of whom to expect: with prompt=none the request is refused
// with login_required, the one answer OpenID Connect Core §3.1.2.6 has
// for a request that cannot be answered without the login page, and
// otherwise it is ignored and the person signs in, as without a hint.
func (a *authorizer) hintSubject(ctx context.Context, req *oidc.AuthRequest, verifier *op.IDTokenHintVerifier) (string, error) {
	if req.IDTokenHint == "" {
		return "", nil
	}
	sub, err := verifiedHintSubject(ctx, req.IDTokenHint, verifier)
	if err == nil {
		return sub, nil
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		return "", oidc.ErrLoginRequired().WithDescription("the id_token_hint does not verify (%s), and prompt=none allows no login page to sign the person in",
			hintRefusal(err)).WithParent(err)
	}
	a.logger.InfoContext(ctx, "id_token_hint ignored: the person is asked to sign in", "client_id", req.ClientID, "reason", hintRefusal(err))
	req.IDTokenHint = ""
	return "", nil
}

// verifiedHintSubject returns the subject of an id_token_hint, verified as
// the library verifies one: signed by a key of the organization whose
// issuer ctx carries. An expired hint still says whom it was for (as the
// library holds).
func verifiedHintSubject(ctx context.Context, hint string, verifier *op.IDTokenHintVerifier) (string, error) {
	claims, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, hint, verifier)
	if err != nil && !errors.As(err, &op.IDTokenHintExpiredError{}) {
		return "", fmt.Errorf("%w: %w", errHintUnverifiable, err)
	}
	return claims.GetSubject(), nil
}

// errHintUnverifiable marks an id_token_hint that does not verify.
var errHintUnverifiable = errors.New("id_token_hint does not verify")

// hintRefusal says why an id_token_hint does not verify (the error of
// verifiedHintSubject), in words for a log line and an error_description,
// which must not show the token: the library's errors may quote parts.
func hintRefusal(err error) string {
	switch {
	case errors.Is(err, oidc.ErrIssuerInvalid):
		return "issued by another organization or provider"
	case errors.Is(err, oidc.ErrSignatureInvalid), errors.Is(err, oidc.ErrSignatureInvalidPayload),
		errors.Is(err, oidc.ErrSignatureMissing), errors.Is(err, oidc.ErrSignatureMultiple),
		errors.Is(err, oidc.ErrSignatureUnsupportedAlg):
		return "not signed by a current key of this organization; the key may have been retired"
	default:
		return "not an ID token"
	}
}

// checkPKCE applies Cognate's rule for PKCE (RFC 7636) to an authorization
// request: a public client, which has no secret to prove at the token
// endpoint that a code is its own, must send an S256 challenge (issue 2);
// a confidential client may send none, as Cognito allows and server-side
// applications built for it do, but a challenge it sends is held to the
// same rule, and its verifier checked. "plain" is never taken: it shows
// the verifier to whoever sees the request.
func checkPKCE(public bool, challenge string, method oidc.CodeChallengeMethod) error {
	switch {
	case challenge == "" && method == "" && !public:
		return nil
	case challenge == "" && public:
		return oidc.ErrInvalidRequest().WithDescription("PKCE is required: send code_challenge with code_challenge_method=S256")
	case challenge == "":
		return oidc.ErrInvalidRequest().WithDescription("code_challenge_method without code_challenge")
	case method != oidc.CodeChallengeMethodS256:
		return oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case !wellFormedChallenge(challenge):
		// Refused here, where the developer sees it at once, rather
		// than after the person has signed in for a code that no
		// verifier can redeem.
		return oidc.ErrInvalidRequest().WithDescription(
			"code_challenge must be the SHA-256 of the verifier in base64url, 43 characters without padding (RFC 7636 §4.2)")
	}
	return nil
}

// wellFormedChallenge reports whether challenge is an S256 code challenge:
// a SHA-256 digest in base64url without padding (RFC 7636 §4.2), which is
// 43 characters whose last one carries no stray bits (Strict). Go's
// decoder skips line breaks, even a strict one, but 43 characters with one
// among them decode to fewer than 32 bytes.
func wellFormedChallenge(challenge string) bool {
	if len(challenge) != 43 {
		return false
	}
	digest, err := base64.RawURLEncoding.Strict().DecodeString(challenge)
	return err == nil && len(digest) == sha256.Size
}

// requestedScopes returns the scopes of a scope parameter split at its
// spaces, as the library splits it, without the empty ones (of a
// doubled, leading or trailing space) and each once.
func requestedScopes(split []string) []string {
	return unique(slices.DeleteFunc(slices.Clone(split), func(s string) bool { return s == "" }))
}

// unique returns s without its repeated elements, in the order of their
// first appearance.
func unique(s []string) []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
