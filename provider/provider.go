package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cognate-idp/cognate/tenant"
)

// Cognito's endpoint paths, so apps written for its hosted UI only change
// the domain.
const (
	PathAuthorize  = "/oauth2/authorize"
	PathToken      = "/oauth2/token"
	PathUserinfo   = "/oauth2/userInfo"
	PathRevoke     = "/oauth2/revoke"
	PathIntrospect = "/oauth2/introspect"
	PathLogout     = "/logout"
	PathJWKS       = "/.well-known/jwks.json"
	PathDiscovery  = "/.well-known/openid-configuration"
	PathCallback   = PathAuthorize + "/callback"
)

// Config is what New needs.
type Config struct {
	Hosts  Hosts
	Store  tenant.Store
	Logger *slog.Logger
	Now    func() time.Time
	// CryptoKey encrypts authorization codes (32 bytes).
	CryptoKey [32]byte
	// KeySealer opens tenants' sealed signing keys: the one given to
	// tenant.Service as KeySealer. Nil reads only keys stored in clear.
	KeySealer tenant.Sealer
}

// Provider serves the OpenID Provider endpoints of every tenant.
type Provider struct {
	hosts   Hosts
	store   tenant.Store
	logger  *slog.Logger
	now     func() time.Time
	cache   *cache
	storage *storage
	op      *op.Provider
	// ops is op's router wrapped with what the library does not do itself.
	ops http.Handler
	// cors is the CORS policy of the endpoints that browsers call (token,
	// userinfo, revocation). It wraps each of them whole, so that every
	// answer carries its headers, the ones Cognate writes itself as well as
	// the library's; the library applies none of its own.
	cors *cors.Cors
	// varyForwardedHost is the Vary every answer of the Router starts
	// with: X-Forwarded-Host when a trusted proxy may name the host with
	// it, nil otherwise. Chosen once, shared by every request; its length
	// is its capacity, so that whoever appends to it gets a copy.
	varyForwardedHost []string
	// codeLocks serialise the exchanges of one authorization code (a
	// code's lock is picked by its hash: codeLockIndex): the checks made
	// before the library consumes a code are then still true when it
	// does, and of concurrent uses of one code the first completes before
	// the others are seen as replays.
	codeLocks [codeLockCount]sync.Mutex

	// ErrorPage shows a person a problem the provider met outside the OAuth
	// protocol (a sign-in link used in another browser, say). The pages set
	// it, so the message is translated and styled; without it, plain text.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, problem Problem)
}

// Problem names a person-facing problem for ErrorPage.
type Problem string

const (
	// ProblemLoginLinkInvalid: the sign-in request is unknown, expired, or
	// belongs to another browser.
	ProblemLoginLinkInvalid Problem = "login_link_invalid"
	// ProblemBadRequest: the request was malformed.
	ProblemBadRequest Problem = "bad_request"
	// ProblemSignInLinkRefused: an authorization request that cannot be
	// answered at the application, because it names no client, an unknown
	// one, or a redirect URI the client did not register.
	ProblemSignInLinkRefused Problem = "sign_in_link_refused"
	// ProblemSignOutLinkRefused: a logout request the library refuses (an
	// unknown client, an unregistered post-logout redirect URI, a broken
	// ID token hint); the session is left as it was.
	ProblemSignOutLinkRefused Problem = "sign_out_link_refused"
	// ProblemSignOutFailed: a logout the server could not carry out (the
	// store could not end the session); the person is still signed in,
	// and the server has logged why.
	ProblemSignOutFailed Problem = "sign_out_failed"
)

var problemText = map[Problem]string{
	ProblemLoginLinkInvalid:   "This sign-in link is not valid in this browser. Go back to the application and start again.",
	ProblemBadRequest:         "The request was malformed.",
	ProblemSignInLinkRefused:  "This sign-in link is incomplete, or the application is not set up to sign in here. Go back to the application and start again; if it happens again, tell the application's administrator.",
	ProblemSignOutLinkRefused: "This sign-out link does not work here, so you have not been signed out. Go back to the application and sign out again; if it happens again, tell the application's administrator.",
	ProblemSignOutFailed:      "Something went wrong on our side, so you have not been signed out. Try again in a moment.",
}

func (p *Provider) fail(w http.ResponseWriter, r *http.Request, status int, problem Problem) {
	if p.ErrorPage != nil {
		p.ErrorPage(w, r, status, problem)
		return
	}
	http.Error(w, problemText[problem], status)
}

// New builds the provider.
func New(cfg Config) (*Provider, error) {
	now := func() time.Time { return cfg.Now().UTC() }
	p := &Provider{hosts: cfg.Hosts, store: cfg.Store, logger: cfg.Logger, now: now}
	if len(cfg.Hosts.TrustedProxies) > 0 {
		p.varyForwardedHost = []string{"X-Forwarded-Host"}
	}
	p.cache = newCache(cfg.Store, now, cfg.KeySealer, cfg.Logger)
	p.storage = &storage{store: cfg.Store, cache: p.cache, pending: newPending(), now: now, logger: cfg.Logger}

	opConfig := &op.Config{
		CryptoKey:                cfg.CryptoKey,
		CryptoKeyId:              "code-1",
		DefaultLogoutRedirectURI: PathLoggedOut,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
	}
	issuer := func(bool) (op.IssuerFromRequest, error) {
		return func(r *http.Request) string {
			if site, ok := SiteFromContext(r.Context()); ok && !site.Apex {
				return p.hosts.TenantURL(site.Slug)
			}
			return ""
		}, nil
	}
	corsOptions := cors.Options{
		// Only the origins of this tenant's registered redirect URIs may
		// call the token endpoints from a browser.
		AllowOriginVaryRequestFunc: p.corsAllowed,
		AllowedMethods:             []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:             []string{"Authorization", "Content-Type", "Accept"},
	}
	p.cors = cors.New(corsOptions)
	opts := []op.Option{
		op.WithCustomEndpoints(op.NewEndpoint(PathAuthorize), op.NewEndpoint(PathToken), op.NewEndpoint(PathUserinfo),
			op.NewEndpoint(PathRevoke), op.NewEndpoint(PathLogout), op.NewEndpoint(PathJWKS)),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(PathIntrospect)),
		// No CORS in the library's router: Cognate answers part of each
		// endpoint's requests itself, before or instead of the library,
		// and wraps the endpoints browsers call in p.cors (below), once;
		// the library's would set the headers a second time on the answers
		// it writes, and on those alone.
		op.WithCORSOptions(nil),
		// AES-256-GCM alone. The library's default adds an AES-CFB
		// decrypter, which is unauthenticated: it "decrypts" any base64url
		// string into garbage, and the library then takes that garbage for
		// an opaque access token's ID wherever it reads a token (userinfo,
		// introspection, revocation). Cognate never issues opaque tokens
		// (its access tokens are JWTs; client.AccessTokenType), so the
		// crypto only encrypts authorization codes, which nothing decrypts.
		op.WithCrypto(op.NewAES256GCMCrypto(cfg.CryptoKey, opConfig.CryptoKeyId)),
	}
	if !p.hosts.Secure() {
		opts = append(opts, op.WithAllowInsecure())
	}
	o, err := op.NewProvider(opConfig, p.storage, issuer, opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc provider: %w", err)
	}
	p.op = o

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathDiscovery, p.serveDocumentOfSite)
	mux.HandleFunc("GET "+PathJWKS, p.serveDocumentOfSite)
	mux.HandleFunc(PathCallback, p.serveCallback)
	mux.HandleFunc(PathLogout, p.serveLogout)
	mux.Handle(PathToken, p.cors.Handler(inBodyOnly(p.serveToken)))
	mux.Handle(PathUserinfo, p.cors.Handler(http.HandlerFunc(p.serveUserinfo)))
	mux.Handle(PathRevoke, p.cors.Handler(inBodyOnly(p.serveRevoke)))
	// Introspection is for resource servers, not browsers: no CORS.
	mux.Handle(PathIntrospect, inBodyOnly(p.serveIntrospect))
	mux.HandleFunc(PathAuthorize, op.NewIssuerInterceptor(o.IssuerFromRequest).HandlerFunc(p.serveAuthorize))
	p.ops = mux
	return p, nil
}

// Invalidate drops what is cached of a tenant, and what is held in memory
// for tenants that had its slug before (tenantKey); wire it to
// tenant.Service.Changed, which every deletion and creation of a tenant
// calls. ctx is the change's, for the read that follows and its log line:
// the change has committed by then, so a request cancelled since (its
// client gone) must not leave what it changed held here, and its
// cancellation is not passed on.
func (p *Provider) Invalidate(ctx context.Context, slug string) {
	p.cache.Invalidate(slug)
	p.forgetEarlierTenants(context.WithoutCancel(ctx), slug)
}

// forgetEarlierTenants drops the sign-ins in progress and the codes held
// for tenants that had slug before the one that has it now: a tenant
// deleted, perhaps created again since. None of them can be used (each is
// kept under its own tenant's key, which no later tenant has); this gives
// their memory, and their place under the limits, back at once rather
// than when they expire.
func (p *Provider) forgetEarlierTenants(ctx context.Context, slug string) {
	var current tenant.Tenant
	err := p.store.View(ctx, func(tx tenant.Tx) (err error) {
		current, err = tenant.GetTenant(tx, slug)
		return err
	})
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		p.storage.pending.forgetEarlier(slug, nil)
	case err != nil:
		// They stay until they expire, unused.
		p.logger.WarnContext(ctx, "read the organization to forget the sign-ins of an earlier one", "tenant", slug, "err", err)
	default:
		key := keyOf(current)
		p.storage.pending.forgetEarlier(slug, &key)
	}
}

// Hosts returns the host mapping the provider was built with.
func (p *Provider) Hosts() Hosts { return p.hosts }

// SweepPending drops the authorization requests and codes held in memory
// that have expired. The server calls it once a minute: otherwise an idle
// server would keep them until the next authorization request.
func (p *Provider) SweepPending() {
	p.storage.pending.sweep(p.now())
}

// IsEndpoint reports whether path belongs to the OpenID Provider rather
// than to the pages.
func IsEndpoint(path string) bool {
	switch path {
	case PathAuthorize, PathCallback, PathToken, PathUserinfo, PathRevoke, PathIntrospect, PathLogout, PathJWKS, PathDiscovery:
		return true
	}
	return false
}

// ServeHTTP serves a tenant's OIDC endpoints. The request's context must
// carry the tenant's Site (see Router).
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	problem, personFacing := refusalProblem(r.URL.Path)
	if !personFacing {
		p.ops.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == PathAuthorize {
		if err := r.ParseForm(); err != nil {
			// A parameter whose percent-encoding is broken (state=%zz)
			// would be dropped, the rest kept (url.ParseQuery): the
			// sign-in would go ahead without the state, or with every
			// scope for a scope that did not decode. It is refused on the
			// page, never at the redirect URI: what did decode of a query
			// that did not is not known to be what the client sent.
			p.logger.InfoContext(r.Context(), "authorization request refused", "reason", "malformed parameters", "err", err)
			p.fail(w, r, http.StatusBadRequest, problem)
			return
		}
		if missing := missingFromAuthorize(r); missing != "" {
			// zitadel/oidc refuses these too, but reports them as server
			// errors: every scanner that probes the path would raise an
			// operator's alarm.
			p.logger.InfoContext(r.Context(), "authorization request refused", "reason", "no "+missing)
			p.fail(w, r, http.StatusBadRequest, problem)
			return
		}
	}
	catcher := &refusalCatcher{ResponseWriter: w}
	p.ops.ServeHTTP(catcher, r)
	if catcher.refused { // the library has logged it, with the OAuth error
		p.fail(w, r, http.StatusBadRequest, problem)
	}
}

// inBodyOnly serves the token, revocation or introspection endpoint with
// h, and refuses a request that is not a POST or that carries parameters
// in its URL. These endpoints' parameters are client secrets, codes and
// tokens, which belong in a POST body (RFC 6749 §2.3.1 and §3.2, RFC 7009
// §2.1, RFC 7662 §2.1); zitadel/oidc reads them from the URL as well, and
// a URL is kept by proxies' and servers' access logs. A CORS preflight
// (OPTIONS) is answered before, by p.cors, where browsers may call.
func inBodyOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method != http.MethodPost:
			w.Header().Set("Allow", "POST")
			writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "this endpoint takes POST requests only")
		case r.URL.RawQuery != "":
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "send the parameters in the request body, not in the URL")
		default:
			h(w, r)
		}
	})
}

// refusalProblem names the page for a refusal at an endpoint that a
// person's browser is sent to, rather than one an application calls.
func refusalProblem(path string) (Problem, bool) {
	switch path {
	case PathAuthorize:
		return ProblemSignInLinkRefused, true
	case PathLogout:
		return ProblemSignOutLinkRefused, true
	}
	return "", false
}

// missingFromAuthorize names the parameter an authorization request lacks
// to be answered at all, or returns "".
func missingFromAuthorize(r *http.Request) string {
	switch {
	case r.FormValue("client_id") == "":
		return "client_id"
	case r.FormValue("redirect_uri") == "":
		return "redirect_uri"
	}
	return ""
}

// refusalCatcher stands between zitadel/oidc and the browser at the
// endpoints a person is sent to. A request the library cannot send back to
// the application (an unknown client, a redirect URI the client did not
// register) it refuses with status 4xx and a line of English plain text, or
// OAuth's JSON error, which is for programs; the catcher keeps that answer
// from the browser, so that the person gets the organization's own page in
// their language instead. Every other answer passes through.
type refusalCatcher struct {
	http.ResponseWriter
	refused bool
}

func (c *refusalCatcher) WriteHeader(status int) {
	contentType := c.Header().Get("Content-Type")
	if status >= 400 && status < 500 &&
		(strings.HasPrefix(contentType, "text/plain") || strings.HasPrefix(contentType, "application/json")) {
		c.refused = true
		return
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *refusalCatcher) Write(b []byte) (int, error) {
	if c.refused {
		return len(b), nil
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *refusalCatcher) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// corsAllowed decides by the tenant, which the Host names: the answer
// varies with Host, so caches must key on it. A request without Origin is
// no cross-origin request, and there is nothing to decide (nor to
// allocate, on the token endpoint's every request).
func (p *Provider) corsAllowed(r *http.Request, origin string) (bool, []string) {
	if origin == "" {
		return false, nil
	}
	return p.originOfClient(r, origin), varyHost
}

// varyHost is corsAllowed's Vary, shared: rs/cors only reads it.
var varyHost = []string{"Host"}

func (p *Provider) originOfClient(r *http.Request, origin string) bool {
	site, ok := SiteFromContext(r.Context())
	if !ok || site.Apex {
		return false
	}
	st, err := p.cache.get(r.Context(), site.Slug)
	if err != nil {
		return false
	}
	for _, cl := range st.clients {
		for _, ru := range cl.Client.RedirectURIs {
			if u, err := url.Parse(ru); err == nil && u.Scheme+"://"+u.Host == origin {
				return true
			}
		}
	}
	return false
}

// documents builds a tenant's discovery and JWKS documents once per cache
// generation: both are the same bytes for every request until a change.
func (p *Provider) documents(ctx context.Context, slug string, st *tenantState) {
	st.once.Do(func() {
		// The Router serves documents without copying the request for a
		// context that names the tenant; the library's storage calls need it.
		ctx := op.ContextWithIssuer(WithSite(ctx, Site{Slug: slug}), p.hosts.TenantURL(slug))
		d := op.CreateDiscoveryConfig(ctx, p.op, p.storage)
		// The library lists every grant it knows; say what Cognate serves.
		d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
		d.ResponseModesSupported = responseModes
		d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials}
		d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
		d.TokenEndpointAuthMethodsSupported = authMethodsToken
		d.RevocationEndpointAuthMethodsSupported = authMethodsRevoke
		d.IntrospectionEndpointAuthMethodsSupported = authMethodsIntrospect
		d.ScopesSupported = []string{oidc.ScopeOpenID, oidc.ScopeEmail, oidc.ScopeProfile, oidc.ScopePhone, oidc.ScopeAddress, oidc.ScopeOfflineAccess,
			scopeCognitoAdmin}
		d.ClaimsSupported = claimsSupported()
		// Nor does it serve the device flow, or client authentication by
		// signed JWT, which the library's defaults advertise.
		d.DeviceAuthorizationEndpoint = ""
		d.RevocationEndpointAuthSigningAlgValuesSupported = nil
		d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
		d.TokenEndpointAuthSigningAlgValuesSupported = nil
		st.discovery, _ = json.Marshal(discoveryDocument{DiscoveryConfiguration: d,
			// Every authorization response carries iss (authorizeResponse).
			AuthorizationResponseIssParameterSupported: true})
		set := jose.JSONWebKeySet{}
		for _, k := range st.public {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Key(), KeyID: k.ID(), Algorithm: string(k.Algorithm()), Use: k.Use()})
		}
		st.jwks, _ = json.Marshal(set)
	})
}

// discoveryDocument is the library's discovery document with the metadata
// it has no field for.
type discoveryDocument struct {
	*oidc.DiscoveryConfiguration
	// RFC 9207 §3.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}

// serveDocument answers a discovery or JWKS request (path is one of the
// two) from the tenant's pre-serialised bytes. These are the most frequent
// requests, from every relying party and API, so the Router sends them here
// directly, past the library's router.
func (p *Provider) serveDocument(w http.ResponseWriter, r *http.Request, slug string, st *tenantState) {
	p.documents(r.Context(), slug, st)
	body := st.jwks
	if r.URL.Path == PathDiscovery {
		body = st.discovery
	}
	h := w.Header()
	h["Content-Type"] = headerJSON
	// Short enough that a rotated key shows up well within the overlap.
	h["Cache-Control"] = headerCacheDocument
	h["Access-Control-Allow-Origin"] = headerAnyOrigin
	_, _ = w.Write(body)
}

// serveDocumentOfSite is serveDocument for a request that comes through
// ServeHTTP (the console's in-process relying party) rather than the Router.
func (p *Provider) serveDocumentOfSite(w http.ResponseWriter, r *http.Request) {
	site, _ := SiteFromContext(r.Context())
	st, err := p.cache.get(r.Context(), site.Slug)
	if err != nil {
		http.Error(w, "unknown tenant", http.StatusNotFound)
		return
	}
	p.serveDocument(w, r, site.Slug, st)
}

// serveCallback hands out the code only to the browser that signed in.
func (p *Provider) serveCallback(w http.ResponseWriter, r *http.Request) {
	site, _ := SiteFromContext(r.Context())
	r = r.WithContext(op.ContextWithIssuer(r.Context(), p.hosts.TenantURL(site.Slug))) // authorizeResponse's iss
	ar, err := p.storage.getAuthRequest(r.Context(), site.Slug, r.URL.Query().Get("id"))
	c, cookieErr := p.requestCookie(r, bindingCookie)
	if err != nil || cookieErr != nil || ar.BrowserBinding == "" || tenant.HashSecret(c.Value) != ar.BrowserBinding {
		p.logger.WarnContext(r.Context(), "login callback refused: unknown request or other browser", "tenant", site.Slug)
		p.fail(w, r, http.StatusBadRequest, ProblemLoginLinkInvalid)
		return
	}
	// What the library's op.AuthorizeCallback does from here, with the
	// answer, a code or an error, in the request's response mode
	// (authorizeResponse): the request is done, as its binding says.
	if _, err := p.storage.GetClientByClientID(r.Context(), ar.ClientID); err != nil {
		p.authorizeError(w, r, ar, err)
		return
	}
	code, err := op.BuildAuthResponseCodeResponsePayload(r.Context(), ar, p.op)
	if err != nil {
		p.authorizeError(w, r, ar, err)
		return
	}
	p.authorizeResponse(w, r, ar, code)
}

// LoginRequest is what the sign-in pages need to know of a pending
// authorization request.
type LoginRequest struct {
	ID         string
	ClientID   string
	ClientName string
	Prompt     []string
	// MaxAge, when set, is how old an SSO session may be; zero with
	// prompt=login means "sign in again".
	MaxAge    *time.Duration
	LoginHint string
	// HintSubject is the sub of the request's id_token_hint: the user the
	// relying party expects, or empty.
	HintSubject string
	Done        bool
	// UILocales are the languages the relying party asked the pages to
	// speak (ui_locales), BCP 47 tags in the order of preference.
	UILocales []string
}

// ErrUnknownLoginRequest means the auth request ID is unknown or expired.
var ErrUnknownLoginRequest = errors.New("unknown or expired sign-in request")

// ErrOtherBrowser means another browser completed the sign-in request
// (CompleteLogin), which logged the refusal already. It comes wrapped in
// ErrUnknownLoginRequest: to the person, the link is used.
var ErrOtherBrowser = errors.New("another browser completed this sign-in request")

// LoginRequest reads a pending authorization request of tenant slug.
func (p *Provider) LoginRequest(ctx context.Context, slug, id string) (LoginRequest, error) {
	ar, err := p.storage.getAuthRequest(ctx, slug, id)
	if errors.Is(err, tenant.ErrNotFound) {
		return LoginRequest{}, fmt.Errorf("%w: %w", ErrUnknownLoginRequest, err)
	}
	if err != nil {
		return LoginRequest{}, err
	}
	lr := LoginRequest{ID: ar.ID, ClientID: ar.ClientID, Prompt: ar.Prompt, LoginHint: ar.LoginHint,
		HintSubject: ar.HintSubject, UILocales: ar.UILocales, Done: ar.IsDone}
	if st, err := p.cache.get(ctx, slug); err == nil {
		if cl := st.clients[ar.ClientID]; cl != nil {
			lr.ClientName = cl.Name
		}
	}
	if ar.MaxAge != nil {
		d := time.Duration(*ar.MaxAge) * time.Second
		lr.MaxAge = &d
	}
	return lr, nil
}

// SessionSatisfies reports whether an SSO session may answer the request
// without asking the user again: not with prompt=login, not when the
// session is older than max_age, and not when the id_token_hint names
// someone else (OpenID Connect Core §3.1.2.1: prompt=none then gets
// login_required, not another person's code).
func (lr LoginRequest) SessionSatisfies(sess tenant.Session, now time.Time) bool {
	if slices.Contains(lr.Prompt, oidc.PromptLogin) {
		return false
	}
	if lr.HintSubject != "" && sess.Sub != lr.HintSubject {
		return false
	}
	if lr.MaxAge != nil && now.Sub(sess.AuthTime) > *lr.MaxAge {
		return false
	}
	return true
}

// PromptNone reports whether the relying party asked for no interaction.
func (lr LoginRequest) PromptNone() bool { return slices.Contains(lr.Prompt, oidc.PromptNone) }

// CompleteLogin marks the request authenticated by the sign-in of sess,
// the SSO session it started or was answered from (its Sub, AMR, AuthTime
// and ID; an empty ID for a sign-in that started none), and binds it to
// this browser (its cookie from BindBrowser, or a new one); it returns the
// callback URL to redirect to. A request another browser has completed
// stays that browser's: a second sign-in elsewhere with the same request
// ID (a copied link) would otherwise take it over, and the first browser's
// callback would fail. The same browser completing it again (the form sent
// twice) moves it to the later sign-in, whose answer the browser shows.
func (p *Provider) CompleteLogin(w http.ResponseWriter, r *http.Request, slug, id string, sess tenant.Session) (string, error) {
	// The request is looked up under the key of the tenant that has the
	// slug now: one a deleted tenant left is not found, though its ID is.
	st, err := p.cache.get(r.Context(), slug)
	if errors.Is(err, tenant.ErrNotFound) {
		return "", fmt.Errorf("%w: %w", ErrUnknownLoginRequest, err)
	}
	if err != nil {
		return "", fmt.Errorf("load the organization: %w", err)
	}
	binding, ok := p.browserBinding(r)
	if !ok { // the login page was not shown to this browser (an SSO answer)
		binding = tenant.NewSecret(32)
	}
	bindingHash := tenant.HashSecret(binding)
	takenByAnother := false
	found := p.storage.pending.updateRequest(st.key(), id, p.now(), func(ar *authRequest) {
		if ar.IsDone && ar.BrowserBinding != bindingHash {
			takenByAnother = true
			return
		}
		ar.Subject, ar.AMR, ar.AuthTime, ar.IsDone = sess.Sub, slices.Clone(sess.AMR), sess.AuthTime, true
		ar.SessionID = sess.ID
		ar.BrowserBinding = bindingHash
	})
	if takenByAnother {
		p.logger.WarnContext(r.Context(), "sign-in refused: another browser completed this request", "tenant", slug,
			"client_ip", p.hosts.ClientIP(r))
		return "", fmt.Errorf("%w: %w", ErrUnknownLoginRequest, ErrOtherBrowser)
	}
	if !found {
		return "", ErrUnknownLoginRequest
	}
	http.SetCookie(w, p.cookie(bindingCookie, binding, authRequestTTL))
	ctx := op.ContextWithIssuer(r.Context(), p.hosts.TenantURL(slug))
	return op.AuthCallbackURL(p.op)(ctx, id), nil
}

// BindBrowser gives the browser its binding cookie, which CompleteLogin
// binds a request to, when it has none yet; the login page calls it as it
// shows a sign-in. Every form the browser then sends carries the same
// value: a form sent twice (a double click, Enter and then a click) is
// the same browser completing the request twice, not a second browser
// taking it over, which CompleteLogin refuses.
func (p *Provider) BindBrowser(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.browserBinding(r); !ok {
		http.SetCookie(w, p.cookie(bindingCookie, tenant.NewSecret(32), authRequestTTL))
	}
}

// browserBinding is the value of the request's binding cookie, if it has
// one that can be a binding.
func (p *Provider) browserBinding(r *http.Request) (string, bool) {
	c, err := p.requestCookie(r, bindingCookie)
	if err != nil || len(c.Value) < 32 {
		return "", false
	}
	return c.Value, true
}

// LoginFailure is why a sign-in ends without a user, as told to the
// relying party.
type LoginFailure int

const (
	// LoginRequired: prompt=none, and the browser has no usable session.
	LoginRequired LoginFailure = iota
	// AccessDenied: the person declined, or may not use this application.
	AccessDenied
)

// FailLogin sends an OAuth error back to the relying party of request id.
func (p *Provider) FailLogin(w http.ResponseWriter, r *http.Request, slug, id string, why LoginFailure) {
	ar, err := p.storage.getAuthRequest(r.Context(), slug, id)
	if err != nil {
		p.fail(w, r, http.StatusBadRequest, ProblemLoginLinkInvalid)
		return
	}
	oerr := oidc.ErrLoginRequired()
	if why == AccessDenied {
		oerr = oidc.ErrAccessDenied()
	}
	r = r.WithContext(op.ContextWithIssuer(r.Context(), p.hosts.TenantURL(slug))) // authorizeResponse's iss
	p.authorizeError(w, r, ar, oerr)
}
