package console

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/provider/buffered"
	"github.com/cognate-idp/cognate/tenant"
)

// The console as a relying party of its tenant. It speaks plain OpenID
// Connect (golang.org/x/oauth2 for the code flow with PKCE, go-oidc for the
// ID token), exactly as an outside application would, but its HTTP client
// hands each request to the provider in this process instead of the
// network: the console works without *.localhost resolving, behind any
// proxy, and without a TLS round trip to itself.

const (
	callbackPath  = Base + "/callback"
	signedOutPath = Base + "/signed-out"
)

// relyingParty holds what the console needs to redeem codes: the loopback
// HTTP client and one ID token verifier per tenant (each caches its
// tenant's keys).
type relyingParty struct {
	hosts  provider.Hosts
	client *http.Client
	now    func() time.Time

	mu        sync.Mutex
	verifiers map[string]tenantVerifier // by slug
}

// tenantVerifier is the ID token verifier of one tenant, which caches that
// tenant's keys: it is of one incarnation (tenant.Tenant.Incarnation), and
// a tenant created again under the slug gets one of its own.
type tenantVerifier struct {
	incarnation string
	*oidc.IDTokenVerifier
}

func newRelyingParty(p *provider.Provider, now func() time.Time) *relyingParty {
	return &relyingParty{
		hosts:     p.Hosts(),
		client:    &http.Client{Transport: loopback{op: p, hosts: p.Hosts()}, Timeout: 30 * time.Second},
		now:       now,
		verifiers: make(map[string]tenantVerifier),
	}
}

// oauth is the console client's OAuth configuration at a tenant.
func (rp *relyingParty) oauth(origin string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: tenant.ConsoleClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:   origin + provider.PathAuthorize,
			TokenURL:  origin + provider.PathToken,
			AuthStyle: oauth2.AuthStyleInParams, // a public client: client_id in the form
		},
		RedirectURL: origin + callbackPath,
		Scopes:      []string{oidc.ScopeOpenID, "profile", "email"},
	}
}

// verifier returns the ID token verifier of a tenant.
func (rp *relyingParty) verifier(t tenant.Tenant, origin string) *oidc.IDTokenVerifier {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if v, ok := rp.verifiers[t.Slug]; ok && v.incarnation == t.Incarnation {
		return v.IDTokenVerifier
	}
	// The key set keeps this context for the fetches it makes later, when
	// it meets a key it does not know (after a rotation): no deadline.
	ctx := oidc.ClientContext(context.Background(), rp.client)
	keys := oidc.NewRemoteKeySet(ctx, origin+provider.PathJWKS)
	v := oidc.NewVerifier(origin, keys, &oidc.Config{
		ClientID:             tenant.ConsoleClientID,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256},
		Now:                  rp.now,
	})
	rp.verifiers[t.Slug] = tenantVerifier{incarnation: t.Incarnation, IDTokenVerifier: v}
	return v
}

// identity is what the console takes from a verified ID token.
type identity struct {
	Sub string
	AMR []string
}

var errNonce = errors.New("ID token nonce does not match the sign-in")

// redeem exchanges an authorization code for tokens, verifies the ID token
// (issuer, audience, expiry, signature with the tenant's keys, nonce) and
// returns who signed in.
func (rp *relyingParty) redeem(ctx context.Context, t tenant.Tenant, origin, code, verifier, nonce string) (identity, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, rp.client)
	tok, err := rp.oauth(origin).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return identity{}, fmt.Errorf("exchange code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return identity{}, errors.New("token response has no id_token")
	}
	idt, err := rp.verifier(t, origin).Verify(oidc.ClientContext(ctx, rp.client), raw)
	if err != nil {
		return identity{}, fmt.Errorf("verify ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return identity{}, errNonce
	}
	var claims struct {
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil {
		return identity{}, fmt.Errorf("read ID token claims: %w", err)
	}
	return identity{Sub: idt.Subject, AMR: slices.Clone(claims.AMR)}, nil
}

// loopback is an http.RoundTripper that serves a request to a tenant's
// OpenID endpoints with the provider in this process.
type loopback struct {
	op    http.Handler
	hosts provider.Hosts
}

func (l loopback) RoundTrip(req *http.Request) (*http.Response, error) {
	site, ok := l.hosts.Resolve(req.URL.Host)
	if !ok || site.Apex {
		return nil, fmt.Errorf("console: %s is not a tenant of this server", req.URL.Host)
	}
	// A RoundTripper must not change the request it was given.
	in := req.Clone(provider.WithSite(req.Context(), site))
	in.Host = req.URL.Host
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:0"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	var rec buffered.Response
	l.op.ServeHTTP(&rec, in)
	status := rec.Status()
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.Header(),
		Body:          io.NopCloser(bytes.NewReader(rec.Body())),
		ContentLength: int64(len(rec.Body())),
		Request:       req,
	}, nil
}
