package provider

import (
	"context"
	"net/http"
	"net/url"
	"slices"

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
//   - no scope means every scope the client is allowed (Cognito), and a
//     scope it is not allowed, a standard one too, is refused with
//     invalid_scope (client.refuseScopes), where the library lets
//     the standard ones through for any client and drops the others.
//
// Where a refusal goes follows RFC 6749 §4.1.2.1: while the client and the
// redirect URI are not known to be good (a repeated client_id or
// redirect_uri among them), the person gets a page (ServeHTTP's
// refusalCatcher); once they are, the error goes back to the redirect URI,
// as OAuth's error with the request's state.

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

// serveAuthorize answers /oauth2/authorize through the library, with
// Cognate's checks (authorizer.ValidateAuthRequest) in place of the
// library's own validation, which they call in the end.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	// ServeHTTP has parsed the form (missingFromAuthorize); this keeps
	// the handler whole on its own.
	_ = r.ParseForm()
	op.Authorize(w, r, &authorizer{Provider: p.op, form: r.Form})
}

// authorizer is the library's Authorizer for one authorization request:
// the provider, with the request's parameters as they were sent, which the
// library's decoded request no longer shows (a repeated parameter, one it
// does not know).
type authorizer struct {
	*op.Provider
	form url.Values
}

var _ op.AuthorizeValidator = (*authorizer)(nil)

// ValidateAuthRequest checks an authorization request before it is stored
// and returns the subject of its id_token_hint, if any.
func (a *authorizer) ValidateAuthRequest(ctx context.Context, req *oidc.AuthRequest, storage op.Storage, verifier *op.IDTokenHintVerifier) (string, error) {
	// Not redirected: nothing says yet where to.
	for _, param := range []string{"client_id", "redirect_uri"} {
		if len(a.form[param]) > 1 {
			return "", oidc.ErrInvalidRequestRedirectURI().WithDescription("%s is repeated", param)
		}
	}
	opClient, err := storage.GetClientByClientID(ctx, req.ClientID)
	if err != nil {
		return "", oidc.ErrInvalidRequestRedirectURI().WithDescription("unable to retrieve client by id").WithParent(err)
	}
	if err := op.ValidateAuthReqRedirectURI(opClient, req.RedirectURI, req.ResponseType); err != nil {
		return "", err
	}
	cl, ok := opClient.(*client)
	if !ok { // storage's clients are: there is no other
		return "", oidc.ErrInvalidRequestRedirectURI().WithDescription("client of an unknown type")
	}

	// Redirected to the client from here on.
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
	if req.ResponseMode != "" && !slices.Contains(responseModes, string(req.ResponseMode)) {
		return "", oidc.ErrInvalidRequest().WithDescription("response_mode is not one of query, fragment, form_post")
	}
	req.Scopes = slices.DeleteFunc(req.Scopes, func(s string) bool { return s == "" })
	if len(req.Scopes) == 0 {
		// Cognito: "If no scope is requested, all client-allowed scopes
		// are used."
		req.Scopes = slices.Clone(cl.Scopes)
	}
	req.Scopes = unique(req.Scopes)
	// Before the library's check, which lets the standard scopes through
	// for every client and drops the others it does not allow.
	if err := cl.refuseScopes(req.Scopes); err != nil {
		return "", err
	}
	return op.ValidateAuthRequestClient(ctx, req, opClient, verifier)
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
