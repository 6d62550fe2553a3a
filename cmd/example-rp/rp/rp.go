// Package rp is a small OpenID Connect relying party: it starts a sign-in
// with PKCE (S256), checks the ID token against the issuer's discovery
// document and keys, and shows the token's claims and the userinfo answer.
//
// The example-rp command serves it for newcomers, and the ui package's
// browser test signs in through it, so the example people read is the one
// the tests prove works. It uses only the standard library, golang.org/x/oauth2
// and github.com/coreos/go-oidc, as an application would.
package rp

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is what New needs.
type Config struct {
	Issuer       string // e.g. http://demo.localhost:8080
	ClientID     string
	ClientSecret string // empty for a public client
	// RedirectURL is this RP's /callback, as registered with the client.
	RedirectURL string
	Scopes      []string // default: openid email profile
	// HTTPClient talks to the issuer; nil means LoopbackClient().
	HTTPClient *http.Client
}

// RP is a relying party; it is an http.Handler serving /, /start and
// /callback.
type RP struct {
	oauth    oauth2.Config
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	client   *http.Client
	mux      *http.ServeMux

	mu      sync.Mutex
	pending map[string]pending // by state
}

// pending is a sign-in the browser has been sent off to.
type pending struct {
	verifier string // PKCE code verifier
	nonce    string
	expires  time.Time
}

const (
	stateCookie = "rp_state"
	pendingTTL  = 10 * time.Minute
)

// New reads the issuer's discovery document and returns the RP.
func New(ctx context.Context, cfg Config) (*RP, error) {
	client := cfg.HTTPClient
	if client == nil {
		client = LoopbackClient()
	}
	// go-oidc keeps this context for fetching keys later: no deadline on it.
	provider, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", cfg.Issuer, err)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	rp := &RP{
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			Endpoint: provider.Endpoint(), RedirectURL: cfg.RedirectURL, Scopes: scopes},
		provider: provider,
		verifier: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		client:   client,
		pending:  make(map[string]pending),
	}
	rp.mux = http.NewServeMux()
	rp.mux.HandleFunc("GET /{$}", rp.home)
	rp.mux.HandleFunc("GET /start", rp.start)
	rp.mux.HandleFunc("GET /callback", rp.callback)
	return rp, nil
}

func (rp *RP) ServeHTTP(w http.ResponseWriter, r *http.Request) { rp.mux.ServeHTTP(w, r) }

// LoopbackClient returns an HTTP client that, as browsers do (RFC 6761),
// sends localhost and *.localhost to the loopback address, so a tenant at
// http://acme.localhost:8080 needs no DNS set-up.
func LoopbackClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err == nil && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

func (rp *RP) home(w http.ResponseWriter, r *http.Request) {
	render(w, http.StatusOK, result{Title: "Example application"})
}

// start sends the browser to the issuer with a fresh state, nonce and PKCE
// verifier; the state also goes into a cookie, so the callback only
// accepts the browser that started. ?prompt=, ?max_age= and ?login_hint=
// are passed on.
func (rp *RP) start(w http.ResponseWriter, r *http.Request) {
	state, nonce, verifier := oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	now := time.Now()
	rp.mu.Lock()
	for s, p := range rp.pending {
		if now.After(p.expires) {
			delete(rp.pending, s)
		}
	}
	rp.pending[state] = pending{verifier: verifier, nonce: nonce, expires: now.Add(pendingTTL)}
	rp.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state, Path: "/", MaxAge: int(pendingTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	// prompt and max_age pass through, to try how the provider honours them.
	for _, param := range []string{"prompt", "max_age", "login_hint"} {
		if v := r.URL.Query().Get(param); v != "" {
			opts = append(opts, oauth2.SetAuthURLParam(param, v))
		}
	}
	http.Redirect(w, r, rp.oauth.AuthCodeURL(state, opts...), http.StatusFound)
}

// callback exchanges the code, verifies the ID token and shows its claims
// and the userinfo.
func (rp *RP) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		render(w, http.StatusBadRequest, result{Title: "Sign-in failed", Error: e + ": " + q.Get("error_description")})
		return
	}
	state := q.Get("state")
	c, err := r.Cookie(stateCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		render(w, http.StatusBadRequest, result{Title: "Sign-in failed", Error: "the state does not match this browser; start again"})
		return
	}
	rp.mu.Lock()
	p, ok := rp.pending[state]
	delete(rp.pending, state)
	rp.mu.Unlock()
	if !ok || time.Now().After(p.expires) {
		render(w, http.StatusBadRequest, result{Title: "Sign-in failed", Error: "unknown or expired state; start again"})
		return
	}

	claims, userinfo, err := rp.finish(r.Context(), q.Get("code"), p)
	if err != nil {
		render(w, http.StatusBadGateway, result{Title: "Sign-in failed", Error: err.Error()})
		return
	}
	render(w, http.StatusOK, result{Title: "Signed in", Claims: claims, UserInfo: userinfo})
}

var errNonce = errors.New("ID token nonce does not match")

func (rp *RP) finish(ctx context.Context, code string, p pending) (claims, userinfo string, err error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, rp.client)
	tok, err := rp.oauth.Exchange(ctx, code, oauth2.VerifierOption(p.verifier))
	if err != nil {
		return "", "", fmt.Errorf("exchange code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return "", "", errors.New("token response has no id_token")
	}
	idToken, err := rp.verifier.Verify(oidc.ClientContext(ctx, rp.client), raw)
	if err != nil {
		return "", "", fmt.Errorf("verify ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(p.nonce)) != 1 {
		return "", "", errNonce
	}
	var c map[string]any
	if err := idToken.Claims(&c); err != nil {
		return "", "", fmt.Errorf("read claims: %w", err)
	}
	info, err := rp.provider.UserInfo(oidc.ClientContext(ctx, rp.client), oauth2.StaticTokenSource(tok))
	if err != nil {
		return "", "", fmt.Errorf("userinfo: %w", err)
	}
	var u map[string]any
	if err := info.Claims(&u); err != nil {
		return "", "", fmt.Errorf("read userinfo: %w", err)
	}
	return indent(c), indent(u), nil
}

func indent(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

type result struct {
	Title    string
	Error    string
	Claims   string // JSON
	UserInfo string // JSON
}

var page = template.Must(template.New("rp").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
{{with .Error}}<p id="error">{{.}}</p>{{end}}
{{with .Claims}}<h2>ID token claims</h2><pre id="claims">{{.}}</pre>{{end}}
{{with .UserInfo}}<h2>Userinfo</h2><pre id="userinfo">{{.}}</pre>{{end}}
<p><a id="start" href="/start">Sign in</a></p>
</body></html>`))

func render(w http.ResponseWriter, status int, r result) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, r); err != nil {
		http.Error(w, "cannot render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
