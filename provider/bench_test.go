package provider_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
)

// Benchmarks of the provider's hot paths, served in-process (no network),
// beside the raw cost of their bottleneck, so the ratio tells how much the
// server adds. The load test over real HTTP is cmd/cognate-bench.

type benchEnv struct {
	router http.Handler
	host   string
	id     string
	secret string
}

func newBenchEnv(b *testing.B, alg string) benchEnv {
	b.Helper()
	store, err := bolt.Open(filepath.Join(b.TempDir(), "cognate.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	base, _ := url.Parse("http://localhost:8080")
	prov, err := provider.New(provider.Config{Hosts: provider.Hosts{Base: base}, Store: store, Logger: logger, Now: time.Now})
	if err != nil {
		b.Fatal(err)
	}
	hasher, _ := password.NewHasher(password.Params{}, 2)
	svc := &tenant.Service{Store: store, Hasher: hasher, Now: time.Now, Changed: prov.Invalidate}
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "bench", Settings: tenant.Settings{SigningAlg: alg}}); err != nil {
		b.Fatal(err)
	}
	cl, secret, err := svc.CreateClient(ctx, "bench", tenant.NewClient{Name: "m2m", GrantTypes: []string{tenant.GrantClientCredentials}, Scopes: []string{"api/read"}})
	if err != nil {
		b.Fatal(err)
	}
	nf := http.NotFoundHandler()
	return benchEnv{router: &provider.Router{Provider: prov, Apex: nf, Tenant: nf, NotFound: nf}, host: "bench.localhost:8080", id: cl.ID, secret: secret}
}

func (e benchEnv) serve(b *testing.B, req func() *http.Request, want int) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			e.router.ServeHTTP(rec, req())
			if rec.Code != want {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

func (e benchEnv) tokenRequest() *http.Request {
	r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader("grant_type=client_credentials&scope=api%2Fread"))
	r.Host = e.host
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(e.id, e.secret)
	return r
}

func BenchmarkClientCredentialsES256(b *testing.B) {
	e := newBenchEnv(b, "ES256")
	e.serve(b, e.tokenRequest, http.StatusOK)
}

func BenchmarkClientCredentialsRS256(b *testing.B) {
	e := newBenchEnv(b, "RS256")
	e.serve(b, e.tokenRequest, http.StatusOK)
}

func BenchmarkDiscovery(b *testing.B) {
	e := newBenchEnv(b, "RS256")
	e.serve(b, func() *http.Request {
		r := httptest.NewRequest("GET", "/.well-known/openid-configuration", nil)
		r.Host = e.host
		return r
	}, http.StatusOK)
}

func BenchmarkJWKS(b *testing.B) {
	e := newBenchEnv(b, "RS256")
	e.serve(b, func() *http.Request {
		r := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
		r.Host = e.host
		return r
	}, http.StatusOK)
}

// The raw signing cost: what a token endpoint can at best approach.
func BenchmarkRawSignRS256(b *testing.B) {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	benchSign(b, k, crypto.SHA256)
}

func BenchmarkRawSignES256(b *testing.B) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	benchSign(b, k, crypto.SHA256)
}

func benchSign(b *testing.B, k crypto.Signer, h crypto.Hash) {
	digest := sha256.Sum256([]byte("header.payload"))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var opts crypto.SignerOpts = h
			if _, err := k.Sign(rand.Reader, digest[:], opts); err != nil {
				b.Fatal(err)
			}
		}
	})
}
