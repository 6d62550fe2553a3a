package provider

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Client authentication at the token, revocation and introspection
// endpoints. Cognate does it before anything else is done with a request,
// the same way at every endpoint, rather than leave it to the library,
// which authenticates the client of a code exchange only after it has
// consumed the code, and of a refresh only after it has looked the token
// up (and revoked its family if it was used), and which answers a client
// assertion with a server error.

// clientAuthPolicy is what an endpoint accepts as client authentication.
type clientAuthPolicy struct {
	// realm names the endpoint in WWW-Authenticate.
	realm string
	// public admits a public client, which has no secret and names itself
	// by client_id (RFC 6749 §2.3, §3.2.1): at the code and refresh grants
	// and at revocation.
	public bool
	// libraryReadsBasic: the library answers the request next and
	// authenticates the client again, by HTTP Basic only
	// (introspection); a client authenticated by client_secret_post is
	// handed on to it as HTTP Basic. Relying parties' libraries use one
	// method at every endpoint (openid-client: the one set for the
	// token endpoint), so every endpoint takes both.
	libraryReadsBasic bool
}

// The realms of the endpoints that authenticate clients: each names its
// endpoint in its Basic challenge (challengeBasic) and in its log lines.
const (
	realmToken      = "token"
	realmRevoke     = "revoke"
	realmIntrospect = "introspect"
)

var (
	policyTokenMachine = clientAuthPolicy{realm: realmToken}
	policyTokenUser    = clientAuthPolicy{realm: realmToken, public: true}
	policyRevoke       = clientAuthPolicy{realm: realmRevoke, public: true}
	policyIntrospect   = clientAuthPolicy{realm: realmIntrospect, libraryReadsBasic: true}
)

// challengeBasic is the challenge of a 401 at the endpoint of realm: HTTP
// Basic, the client authentication every such endpoint takes in the
// header (RFC 6749 §5.2). RFC 7617 §2 makes the realm required.
func challengeBasic(w http.ResponseWriter, realm string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
}

// The client authentication methods each endpoint takes, as the discovery
// document lists them (documents): what authenticateRequest accepts under
// the endpoint's policy. Public clients (none) at the token and
// revocation endpoints only.
var (
	authMethodsToken      = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	authMethodsRevoke     = authMethodsToken
	authMethodsIntrospect = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
)

// Descriptions of client authentication refusals. One sentence for every
// client that cannot be authenticated: an unknown client reads like a wrong
// secret. The log line says which it was.
const (
	descClientAuthFailed = "client authentication failed"
	descTwoMethods       = "use either HTTP Basic or client_secret_post, not both"
)

// clientToken authenticates the client of a request that names a token in
// param (revocation, introspection, a refresh), and returns the token; the
// request is answered when either is missing or wrong.
func (p *Provider) clientToken(w http.ResponseWriter, r *http.Request, st *tenantState, pol clientAuthPolicy, param string) (*client, string, bool) {
	cl, ok := p.authenticateRequest(w, r, st, pol)
	if !ok {
		return nil, "", false
	}
	token := r.PostForm.Get(param)
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", param+" missing")
		return nil, "", false
	}
	return cl, token, true
}

// authenticateRequest authenticates the client of a request whose form is
// parsed, and answers the request when that fails, logging one line that
// says why. Accepted: HTTP Basic (client_secret_basic), the form's
// client_id and client_secret (client_secret_post), and where the policy
// admits it a public client's client_id alone, in the form or as HTTP
// Basic with an empty password (what golang.org/x/oauth2 sends for a
// public client set to AuthStyleInHeader). HTTP Basic may come with the
// form's client_id when both name the same client: client_id alone is no
// second method (RFC 6749 §2.3.1). Refused: two methods at once, a client
// assertion (private_key_jwt, which Cognate does not support), an unknown
// client, a wrong secret, a confidential client without its secret, and a
// public client where the policy wants a secret.
func (p *Provider) authenticateRequest(w http.ResponseWriter, r *http.Request, st *tenantState, pol clientAuthPolicy) (*client, bool) {
	form := r.PostForm
	log := func(level slog.Level, reason, clientID string) {
		attrs := []slog.Attr{slog.String("endpoint", pol.realm), slog.String("reason", reason)}
		if clientID != "" {
			attrs = append(attrs, slog.String("client_id", clientID))
		}
		p.logger.LogAttrs(r.Context(), level, "client authentication refused", attrs...)
	}
	unauthorized := func(reason, clientID, description string) (*client, bool) {
		log(slog.LevelWarn, reason, clientID)
		challengeBasic(w, pol.realm)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", description)
		return nil, false
	}
	refuse := func(reason, clientID string) (*client, bool) {
		return unauthorized(reason, clientID, descClientAuthFailed)
	}
	badRequest := func(reason, clientID, description string) (*client, bool) {
		log(slog.LevelInfo, reason, clientID)
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", description)
		return nil, false
	}
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		return unauthorized("client assertion (private_key_jwt), which is not supported", "",
			"client authentication by client assertion (private_key_jwt) is not supported")
	}
	id, secret, basic := r.BasicAuth()
	secretSent := basic
	if basic {
		// RFC 6749 §2.3.1: both are form-encoded before HTTP Basic's
		// encoding, as the library reads them too.
		var errID, errSecret error
		id, errID = url.QueryUnescape(id)
		secret, errSecret = url.QueryUnescape(secret)
		if errID != nil || errSecret != nil {
			return refuse("malformed HTTP Basic credentials", "")
		}
		if form.Has("client_secret") {
			return badRequest("HTTP Basic and client_secret at once", id, descTwoMethods)
		}
		if formID := form.Get("client_id"); formID != "" && formID != id {
			return badRequest("client_id differs from HTTP Basic's", id, "client_id names another client than HTTP Basic does")
		}
	} else {
		id, secret, secretSent = form.Get("client_id"), form.Get("client_secret"), form.Has("client_secret")
	}
	if id == "" {
		return refuse("no client named", "")
	}
	cl := st.clients[id]
	// Checked whatever the client, so that an unknown client takes as
	// long as a wrong secret.
	secretWrong := !secretMatches(cl, secret)
	switch {
	case cl == nil:
		return refuse("unknown client", id)
	case cl.Public() && !pol.public:
		return refuse("public client, which has no secret to authenticate with", id)
	case cl.Public() && secret != "":
		return refuse("a secret sent for a public client", id)
	case cl.Public():
		return cl, true
	case !secretSent:
		return refuse("confidential client without its secret", id)
	case secretWrong:
		return refuse("wrong client secret", id)
	}
	if pol.libraryReadsBasic && !basic {
		// Encoded as RFC 6749 §2.3.1 has it, as the library decodes it.
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return cl, true
}
