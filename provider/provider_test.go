package provider_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
)

// These tests drive the provider end to end with an independent relying
// party library (go-oidc + x/oauth2). The sign-in page is a minimal one in
// this file that calls the real state machine and the provider's login API;
// the real pages are tested in package ui.

const redirectURI = "http://rp.localhost/callback"

type harness struct {
	t       *testing.T
	srv     *httptest.Server
	base    string // http://localhost:PORT
	dbPath  string // the store's bbolt file
	svc     *tenant.Service
	prov    *provider.Provider
	machine *auth.Machine
	http    *http.Client // follows no redirects; every *.localhost dials the test server
	logger  *slog.Logger // what the provider, the service and the machine log through
	logs    logBuffer    // what logger wrote, besides the test's output
	// shift moves the clock of the provider, the service and the machine
	// (h.now) from the real one: a test that sets it back issues tokens
	// that have expired by the time it resets it and uses them. The
	// library checks a token's expiry against the real clock.
	shift atomic.Int64 // a time.Duration
}

func (h *harness) now() time.Time { return time.Now().Add(time.Duration(h.shift.Load())) }

// logBuffer keeps what a logger writes, for tests that read the lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessOver(t, "http", nil)
}

// newHarnessOver is newHarness served over scheme, http or https (with the
// test server's own certificate, which the harness's client trusts for
// every host), whose provider, service and machine work on the store wrap
// makes of the real one, a bbolt file at dbPath; with wrap nil, on the
// real one.
func newHarnessOver(t *testing.T, scheme string, wrap func(real tenant.Store, dbPath string) tenant.Store) *harness {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "cognate.db")
	bolted, err := bolt.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolted.Close() })
	var store tenant.Store = bolted
	if wrap != nil {
		store = wrap(bolted, dbPath)
	}
	h := &harness{t: t, dbPath: dbPath}
	h.logger = slog.New(provider.LogHandler(slog.NewTextHandler(io.MultiWriter(t.Output(), &h.logs), nil)))
	logger := h.logger
	hasher, err := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewUnstartedServer(nil)
	h.base = scheme + "://localhost:" + portOf(h.srv.Listener.Addr())
	base, _ := url.Parse(h.base)
	// Signing keys are stored sealed, as cmd/cognate stores them: every
	// token of these tests is signed with a key opened by the provider.
	keySealer, err := mfa.NewSealer(bytes.Repeat([]byte{4}, mfa.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	h.prov, err = provider.New(provider.Config{Hosts: provider.Hosts{Base: base}, Store: store, Logger: logger,
		Now: h.now, CryptoKey: [32]byte{1, 2, 3}, KeySealer: keySealer})
	if err != nil {
		t.Fatal(err)
	}
	h.svc = &tenant.Service{Store: store, Hasher: hasher, Logger: logger, Now: h.now, Changed: h.prov.Invalidate, RevokeUser: h.prov.RevokeUser,
		KeySealer: keySealer}
	h.machine = &auth.Machine{Store: store, Hasher: hasher, Logger: logger, Now: h.now, SSOSessions: true}
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such organization", http.StatusNotFound)
	})
	h.srv.Config.Handler = &provider.Router{Provider: h.prov, Apex: notFound, Tenant: http.HandlerFunc(h.loginPage), NotFound: notFound}
	transport := &http.Transport{}
	if scheme == "https" {
		h.srv.StartTLS()
		// The certificate names example.com, not *.localhost: trust
		// exactly it, whatever the host asked for.
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if !cs.PeerCertificates[0].Equal(h.srv.Certificate()) {
					return errors.New("not the test server's certificate")
				}
				return nil
			}}
	} else {
		h.srv.Start()
	}
	t.Cleanup(h.srv.Close)

	addr := h.srv.Listener.Addr().String()
	transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	jar, _ := cookiejar.New(nil)
	h.http = &http.Client{
		Jar:           jar,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return h
}

func portOf(a net.Addr) string { _, p, _ := net.SplitHostPort(a.String()); return p }

func (h *harness) issuer(slug string) string {
	return strings.Replace(h.base, "://", "://"+slug+".", 1)
}

func (h *harness) ctx() context.Context {
	return oidc.ClientContext(context.Background(), h.http)
}

// loginPage is the minimal sign-in page of these tests.
func (h *harness) loginPage(w http.ResponseWriter, r *http.Request) {
	site, _ := provider.SiteFromContext(r.Context())
	if r.URL.Path != "/login" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	id := r.FormValue("authRequestID")
	// As the real pages do (ui's signInForm), the sign-in request is read
	// before anyone is signed in.
	if _, err := h.prov.LoginRequest(r.Context(), site.Slug, id); err != nil {
		http.Error(w, "unknown sign-in request", http.StatusBadRequest)
		return
	}
	res, err := h.machine.Start(r.Context(), site.Slug, auth.Credentials{Login: r.FormValue("username"), Password: r.FormValue("password")})
	if err != nil || !res.Done() {
		http.Error(w, "sign-in failed", http.StatusUnauthorized)
		return
	}
	h.prov.SetSessionCookie(w, r, site.Slug, res.SSOSession)
	next, err := h.prov.CompleteLogin(w, r, site.Slug, id, res.SignedIn())
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

type fixture struct {
	slug     string
	client   tenant.Client
	secret   string
	user     tenant.User
	password string
}

func (h *harness) fixture(slug string, public bool) fixture {
	h.t.Helper()
	return h.fixtureWith(fixtureOptions{slug: slug, public: public})
}

// fixtureOptions are what tests vary of a fixture; the zero values give an
// RS256 tenant, a confidential client with scopes openid, email, profile and
// planner/read, and ann with a given name and a custom attribute.
type fixtureOptions struct {
	slug       string
	public     bool
	signingAlg string
	scopes     []string
	attributes map[string]string
	noRefresh  bool // a client without the refresh_token grant
}

func (h *harness) fixtureWith(o fixtureOptions) fixture {
	h.t.Helper()
	ctx := context.Background()
	if _, err := h.svc.CreateTenant(ctx, tenant.NewTenant{Slug: o.slug, Name: strings.ToUpper(o.slug) + " BV",
		Settings: tenant.Settings{SigningAlg: o.signingAlg}}); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.svc.CreateGroup(ctx, o.slug, tenant.Group{Name: "planners"}); err != nil {
		h.t.Fatal(err)
	}
	grants := []string{tenant.GrantAuthorizationCode}
	if !o.noRefresh {
		grants = append(grants, tenant.GrantRefreshToken)
	}
	if !o.public {
		grants = append(grants, tenant.GrantClientCredentials)
	}
	if o.scopes == nil {
		o.scopes = []string{"openid", "email", "profile", "planner/read"}
	}
	if o.attributes == nil {
		o.attributes = map[string]string{"custom:team": "blue", "given_name": "Ann"}
	}
	cl, secret, err := h.svc.CreateClient(ctx, o.slug, tenant.NewClient{Name: "planner", Public: o.public, RedirectURIs: []string{redirectURI},
		PostLogoutRedirectURIs: []string{"http://rp.localhost/bye"}, GrantTypes: grants, Scopes: o.scopes})
	if err != nil {
		h.t.Fatal(err)
	}
	pw := "Correct-Horse-9"
	u, err := h.svc.CreateUser(ctx, o.slug, tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true,
		Attributes: o.attributes, Groups: []string{"planners"}, Password: pw})
	if err != nil {
		h.t.Fatal(err)
	}
	return fixture{slug: o.slug, client: cl, secret: secret, user: u, password: pw}
}

func (h *harness) oauthConfig(f fixture) *oauth2.Config {
	iss := h.issuer(f.slug)
	return &oauth2.Config{ClientID: f.client.ID, ClientSecret: f.secret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: iss + "/oauth2/authorize", TokenURL: iss + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{oidc.ScopeOpenID, "email", "profile"}}
}

// login runs the browser part of the code flow and returns the code. An
// empty verifier sends no PKCE challenge.
func (h *harness) login(f fixture, cfg *oauth2.Config, verifier string, extra ...oauth2.AuthCodeOption) string {
	h.t.Helper()
	opts := []oauth2.AuthCodeOption{oidc.Nonce("n-0S6_WzA2Mj")}
	if verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	opts = append(opts, extra...)
	resp := h.get(cfg.AuthCodeURL("st4te", opts...))
	loc := h.location(resp, http.StatusFound)
	if !strings.HasPrefix(loc.Path, "/login") {
		h.t.Fatalf("authorize sent the browser to %s, want the login page", loc)
	}
	id := loc.Query().Get("authRequestID")
	resp, err := h.http.PostForm(h.issuer(f.slug)+"/login", url.Values{"authRequestID": {id}, "username": {f.user.Username}, "password": {f.password}})
	if err != nil {
		h.t.Fatal(err)
	}
	cb := h.location(resp, http.StatusSeeOther)
	back := h.location(h.get(cb.String()), http.StatusFound)
	if got := back.Scheme + "://" + back.Host + back.Path; got != redirectURI {
		h.t.Fatalf("callback redirected to %s, want %s", back, redirectURI)
	}
	// One sign-in gives one code: the callback visited again (the back
	// button) gives none.
	again := h.get(cb.String())
	again.Body.Close()
	if again.StatusCode != http.StatusBadRequest {
		h.t.Fatalf("second visit to the callback: status %d, want 400", again.StatusCode)
	}
	if back.Query().Get("state") != "st4te" {
		h.t.Fatalf("state = %q", back.Query().Get("state"))
	}
	// RFC 9207: the response names the organization that sent it, exactly
	// as its discovery document does.
	if iss := back.Query().Get("iss"); iss != h.issuer(f.slug) {
		h.t.Fatalf("iss = %q, want the issuer %s", iss, h.issuer(f.slug))
	}
	return back.Query().Get("code")
}

func (h *harness) get(u string) *http.Response {
	h.t.Helper()
	resp, err := h.http.Get(u)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

// send sends a request to u with form, an encoded form, as its body (none
// when empty) and HTTP Basic when id is not empty. It returns the response,
// its body closed, and the body decoded as JSON: nil when it is not JSON.
// The form is a string so that a test can send one that does not parse.
func (h *harness) send(method, u, form, id, secret string) (*http.Response, map[string]any) {
	h.t.Helper()
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var decoded map[string]any
	if json.Unmarshal(raw, &decoded) != nil {
		decoded = nil
	}
	return resp, decoded
}

func (h *harness) location(resp *http.Response, status int) *url.URL {
	h.t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != status {
		body, _ := io.ReadAll(resp.Body)
		h.t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, status, body)
	}
	loc, err := resp.Location()
	if err != nil {
		h.t.Fatal(err)
	}
	return loc
}

func TestCodeFlowEndToEnd(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	ctx := h.ctx()

	prov, err := oidc.NewProvider(ctx, h.issuer("acme"))
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cfg := h.oauthConfig(f)
	verifier := oauth2.GenerateVerifier()
	code := h.login(f, cfg, verifier)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := prov.Verifier(&oidc.Config{ClientID: f.client.ID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"sub": f.user.Sub, "cognito:username": "ann", "email": "ann@example.com", "email_verified": true,
		"custom:team": "blue", "given_name": "Ann", "token_use": "id", "nonce": "n-0S6_WzA2Mj",
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("ID token %s = %#v, want %#v", k, claims[k], v)
		}
	}
	if g, _ := claims["cognito:groups"].([]any); len(g) != 1 || g[0] != "planners" {
		t.Errorf("cognito:groups = %#v", claims["cognito:groups"])
	}
	if amr, _ := claims["amr"].([]any); !slices.Contains(amr, any("pwd")) {
		t.Errorf("amr = %#v, want pwd", claims["amr"])
	}
	if at, _ := claims["auth_time"].(float64); time.Since(time.Unix(int64(at), 0)) > time.Minute {
		t.Errorf("auth_time = %v", claims["auth_time"])
	}

	// The access token is a JWT in Cognito's shape.
	atClaims := jwtClaims(t, tok.AccessToken)
	for k, v := range map[string]any{"token_use": "access", "client_id": f.client.ID, "username": "ann", "sub": f.user.Sub} {
		if atClaims[k] != v {
			t.Errorf("access token %s = %#v, want %#v", k, atClaims[k], v)
		}
	}
	if sc, _ := atClaims["scope"].(string); !strings.Contains(sc, "openid") {
		t.Errorf("access token scope = %q", sc)
	}

	// Userinfo.
	ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if ui.Subject != f.user.Sub || ui.Email != "ann@example.com" {
		t.Errorf("userinfo = %+v", ui)
	}

	// Refresh: rotated on every use.
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token; Cognito issues one without offline_access")
	}
	first := tok.RefreshToken
	tok2, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: first}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == first {
		t.Fatalf("refresh token was not rotated")
	}
	idt2, err := prov.Verifier(&oidc.Config{ClientID: f.client.ID}).Verify(ctx, tok2.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	if !idt2.IssuedAt.After(idt.IssuedAt.Add(-time.Second)) || idt2.Subject != f.user.Sub {
		t.Errorf("refreshed ID token: %+v", idt2)
	}

	// Reuse of the first refresh token revokes the family: the second one
	// stops working too.
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: first}).Token(); err == nil {
		t.Fatal("a used refresh token was accepted")
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token(); err == nil {
		t.Fatal("the family of a reused refresh token still works")
	}
	if _, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err == nil {
		t.Fatal("userinfo accepted an access token of a revoked family")
	}
}

func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(jwtPayload(t, raw), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
