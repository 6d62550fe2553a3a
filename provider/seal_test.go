package provider_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
)

// The provider serves a tenant whose signing key is sealed with the server
// key it has, or stored in clear by an older version. A key that does not
// open (another server key, or none) leaves the tenant unserved with an
// error that names the tenant and the key, logged once; nothing is signed
// or published in its place.
func TestProviderOpensSealedSigningKeys(t *testing.T) {
	h := newHarness(t) // seals with key 4, as its provider opens
	ctx := context.Background()
	if _, err := h.svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	// globex as a version before sealing wrote it.
	old := *h.svc
	old.KeySealer = nil
	if _, err := old.CreateTenant(ctx, tenant.NewTenant{Slug: "globex"}); err != nil {
		t.Fatal(err)
	}
	var acmeKey tenant.SigningKey
	err := h.svc.Store.View(ctx, func(tx tenant.Tx) error {
		keys, err := tenant.SigningKeys(tx, "acme")
		if len(keys) == 1 {
			acmeKey = keys[0]
		}
		return err
	})
	if err != nil || acmeKey.SealedPrivate == "" || len(acmeKey.PrivateDER) != 0 {
		t.Fatalf("acme's key is not stored sealed (%v)", err)
	}

	sealer := func(n byte) tenant.Sealer {
		s, err := mfa.NewSealer(bytes.Repeat([]byte{n}, mfa.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name      string
		sealer    tenant.Sealer
		slug      string
		wantOK    bool
		wantInLog string
	}{
		{"sealed, the server key that sealed it", sealer(4), "acme", true, ""},
		{"clear, from an older version", sealer(4), "globex", true, ""},
		{"sealed, another server key", sealer(5), "acme", false, "does not open with the server key"},
		{"sealed, no sealer", nil, "acme", false, "no sealer is configured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			base, _ := url.Parse(h.base)
			prov, err := provider.New(provider.Config{Hosts: provider.Hosts{Base: base}, Store: h.svc.Store,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: time.Now, CryptoKey: [32]byte{1, 2, 3}, KeySealer: tc.sealer})
			if err != nil {
				t.Fatal(err)
			}
			notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
			router := &provider.Router{Provider: prov, Apex: notFound, Tenant: notFound, NotFound: notFound}
			jwks := func() *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, h.issuer(tc.slug)+provider.PathJWKS, nil))
				return rec
			}
			rec := jwks()
			if (rec.Code == http.StatusOK) != tc.wantOK {
				t.Fatalf("JWKS: %d %s", rec.Code, rec.Body)
			}
			if !tc.wantOK {
				jwks() // a second request does not log again
				if got := logs.String(); !strings.Contains(got, tc.wantInLog) || !strings.Contains(got, `tenant \"acme\"`) ||
					!strings.Contains(got, acmeKey.ID) || strings.Count(got, "tenant cannot be served") != 1 {
					t.Errorf("log:\n%s", got)
				}
				return
			}
			var set struct {
				Keys []struct {
					Kid string `json:"kid"`
				} `json:"keys"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil || len(set.Keys) != 1 {
				t.Fatalf("JWKS %s: %v", rec.Body, err)
			}
			if tc.slug == "acme" && set.Keys[0].Kid != acmeKey.ID {
				t.Errorf("kid %s, want %s", set.Keys[0].Kid, acmeKey.ID)
			}
		})
	}
	// The sealed key is the one the harness's provider signs with.
	der, err := tenant.OpenSigningKey(h.svc.KeySealer, "acme", acmeKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
		t.Fatal(err)
	}
}

// After the server key was lost, the tenant is unavailable (503), not
// unknown (404): its requests are answered from the failed load for a while
// rather than each loading it again, and the log says why once. A signing
// key rotation with no overlap brings it back at once: the new key signs,
// and the old one, which no longer opens, is left out of JWKS with an error
// that names it.
func TestProviderAfterServerKeyLost(t *testing.T) {
	h := newHarness(t) // seals with key 4
	ctx := context.Background()
	if _, err := h.svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	newKey, err := mfa.NewSealer(bytes.Repeat([]byte{5}, mfa.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	base, _ := url.Parse(h.base)
	store := &viewCountingStore{Store: h.svc.Store}
	now := time.Now()
	prov, err := provider.New(provider.Config{Hosts: provider.Hosts{Base: base}, Store: store,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now },
		CryptoKey: [32]byte{1, 2, 3}, KeySealer: newKey})
	if err != nil {
		t.Fatal(err)
	}
	svc := *h.svc
	svc.KeySealer, svc.Changed = newKey, prov.Invalidate
	answer := func(status int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })
	}
	router := &provider.Router{Provider: prov, Apex: answer(http.StatusTeapot), Tenant: answer(http.StatusTeapot),
		NotFound: answer(http.StatusNotFound), Unavailable: answer(http.StatusBadGateway)} // 502: the page, to tell it apart
	get := func(slug, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, h.issuer(slug)+path, nil))
		return rec
	}
	jwksOf := func(slug string) *httptest.ResponseRecorder { return get(slug, provider.PathJWKS) }

	// A relying party's server reads an OAuth error; a browser gets the page.
	rec := jwksOf("acme")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Content-Type") != "application/json" ||
		rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), `"error":"temporarily_unavailable"`) {
		t.Fatalf("JWKS of acme, whose key does not open: %d %v %s, want 503 with temporarily_unavailable in JSON", rec.Code, rec.Header(), rec.Body)
	}
	for _, path := range []string{"/login", provider.PathAuthorize + "?client_id=x", "/"} {
		if rec := get("acme", path); rec.Code != http.StatusBadGateway {
			t.Errorf("%s of acme: %d, want the Unavailable page", path, rec.Code)
		}
	}
	if rec := jwksOf("nosuch"); rec.Code != http.StatusNotFound {
		t.Fatalf("an unknown organization: %d, want 404", rec.Code)
	}
	loads := store.views.Load()
	for range 3 {
		if rec := jwksOf("acme"); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("acme again: %d", rec.Code)
		}
	}
	if got := store.views.Load(); got != loads {
		t.Errorf("acme was loaded %d more times within the retry interval, want 0", got-loads)
	}
	now = now.Add(time.Minute)
	if rec := jwksOf("acme"); rec.Code != http.StatusServiceUnavailable || store.views.Load() == loads {
		t.Errorf("after the retry interval: %d, loaded again: %v", rec.Code, store.views.Load() != loads)
	}
	if n := strings.Count(logs.String(), "tenant cannot be served"); n != 1 {
		t.Errorf("the cause was logged %d times, want once:\n%s", n, logs.String())
	}

	next, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{})
	if err != nil {
		t.Fatal(err)
	}
	rec = jwksOf("acme")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), next.ID) || strings.Count(rec.Body.String(), `"kid"`) != 1 {
		t.Fatalf("JWKS after the rotation: %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "signing key left out of the tenant's JWKS") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// viewCountingStore counts read transactions: a tenant loaded from the
// store is one.
type viewCountingStore struct {
	tenant.Store
	views atomic.Int32
}

func (s *viewCountingStore) View(ctx context.Context, fn func(tx tenant.Tx) error) error {
	s.views.Add(1)
	return s.Store.View(ctx, fn)
}

// A version from before sealing that rotates a tenant's key rewrites the
// active key without its sealed private key, which is then lost: the tenant
// is not served, and the log line says how to serve it again. That way out,
// a rotation with no overlap, serves it at once; a rotation with the default
// overlap serves it once its new key signs, not only when the lost key
// retires.
func TestProviderAfterAVersionBeforeSealingRotated(t *testing.T) {
	for _, tc := range []struct {
		name    string
		overlap time.Duration
	}{
		{"no overlap, as the log says", 0},
		{"the default overlap", time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t) // seals with key 4
			ctx := context.Background()
			if _, err := h.svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			var lost tenant.SigningKey
			err := h.svc.Store.Update(ctx, func(tx tenant.Tx) error {
				keys, err := tenant.SigningKeys(tx, "acme")
				if err != nil || len(keys) != 1 {
					return fmt.Errorf("%d keys: %w", len(keys), err)
				}
				lost = keys[0]
				lost.SealedPrivate, lost.PrivateDER = "", nil
				return tenant.PutJSON(tx, tenant.CollKeys, "acme", lost.ID, lost)
			})
			if err != nil {
				t.Fatal(err)
			}

			var logs bytes.Buffer
			base, _ := url.Parse(h.base)
			prov, err := provider.New(provider.Config{Hosts: provider.Hosts{Base: base}, Store: h.svc.Store,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now },
				CryptoKey: [32]byte{1, 2, 3}, KeySealer: h.svc.KeySealer})
			if err != nil {
				t.Fatal(err)
			}
			svc := *h.svc
			svc.Now, svc.Changed = func() time.Time { return now }, prov.Invalidate
			notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
			router := &provider.Router{Provider: prov, Apex: notFound, Tenant: notFound, NotFound: notFound}
			jwks := func() *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, h.issuer("acme")+provider.PathJWKS, nil))
				return rec
			}

			if rec := jwks(); rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("JWKS with the active key's private key lost: %d, want 503", rec.Code)
			}
			for _, want := range []string{"tenant cannot be served", lost.ID, "has no private key",
				"a version of cognate from before sealing rewrote it", "cognate tenant rotate-key acme --overlap 0s"} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the log does not say %q:\n%s", want, logs.String())
				}
			}

			next, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{Overlap: tc.overlap})
			if err != nil {
				t.Fatal(err)
			}
			if tc.overlap > 0 {
				if rec := jwks(); rec.Code != http.StatusServiceUnavailable {
					t.Fatalf("JWKS before the new key signs: %d, want 503", rec.Code)
				}
				now = now.Add(tc.overlap + time.Second)
			}
			rec := jwks()
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), next.ID) || strings.Contains(rec.Body.String(), lost.ID) {
				t.Fatalf("JWKS once the new key signs: %d %s", rec.Code, rec.Body)
			}
		})
	}
}
