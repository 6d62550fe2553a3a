package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cognate-idp/cognate/tenant"
)

// tenantState is everything the hot paths need about one tenant, loaded and
// parsed once: signing keys are never read or parsed from disk per request.
type tenantState struct {
	tenant  tenant.Tenant
	clients map[string]*client
	signing *signingKey // the active key
	public  []op.Key    // published keys, for JWKS and verification
	algs    []jose.SignatureAlgorithm
	// keysChangeAt is the next moment the choice of keys changes: a key
	// becomes active or one retires from JWKS. The state is rebuilt then;
	// zero means no change is planned.
	keysChangeAt time.Time

	// Pre-serialised documents, built on first use after a change.
	once      sync.Once
	discovery []byte
	jwks      []byte
}

// tenantKey names one tenant for what is kept of it in memory: its slug and
// its incarnation (tenant.Tenant.Incarnation), which a tenant created later
// under the same slug does not share. Whatever the provider holds of a
// tenant outside the cache (sign-ins in progress, codes: pending) is kept
// under it, and looked up under the key of the tenant that has the slug now
// (the cache's state of it), so that what a deleted tenant left is simply
// absent at the next tenant with its slug, as another tenant's is.
type tenantKey struct{ slug, incarnation string }

func keyOf(t tenant.Tenant) tenantKey { return tenantKey{t.Slug, t.Incarnation} }

// key is the tenant's key, for what is kept of it in memory.
func (st *tenantState) key() tenantKey { return keyOf(st.tenant) }

// cache holds tenantState per slug. A change through tenant.Service calls
// Invalidate (Service.Changed), and the next request reloads the tenant.
type cache struct {
	store tenant.Store
	now   func() time.Time
	// keySealer opens the signing keys tenant.Service stored sealed.
	keySealer tenant.Sealer
	logger    *slog.Logger

	mu      sync.RWMutex
	tenants map[string]*tenantState
	// unloadable is, for each tenant that exists but cannot be loaded (a
	// signing key that does not open, a failing store), why and until when
	// that answer stands: its requests get it without loading again, and
	// the operator reads it once per change rather than once per request.
	unloadable map[string]unloadable
	// changes counts invalidations, of any tenant. A load stores what it
	// read only if none came meanwhile: a change that committed while the
	// load was reading would otherwise be hidden until the next one (a
	// deleted client, a rotated secret still accepted). One count for all
	// tenants keeps nothing per slug; a change to another tenant costs
	// only the next request a load.
	changes uint64
}

// unloadable is a failed load of a tenant, answered from for a while.
type unloadable struct {
	err   error
	until time.Time
}

// retryUnloadable is how long a tenant that failed to load is answered
// from that failure. A change through tenant.Service, such as the key
// rotation that mends a key which does not open, retries at once.
const retryUnloadable = 10 * time.Second

func newCache(store tenant.Store, now func() time.Time, keySealer tenant.Sealer, logger *slog.Logger) *cache {
	return &cache{store: store, now: now, keySealer: keySealer, logger: logger,
		tenants: make(map[string]*tenantState), unloadable: make(map[string]unloadable)}
}

// Invalidate drops what is cached of a tenant.
func (c *cache) Invalidate(slug string) {
	c.mu.Lock()
	delete(c.tenants, slug)
	delete(c.unloadable, slug)
	c.changes++
	c.mu.Unlock()
}

// get returns a tenant's state, loading it when absent. An unknown tenant is
// an error wrapping tenant.ErrNotFound; any other error means the tenant
// exists but cannot be served now.
func (c *cache) get(ctx context.Context, slug string) (*tenantState, error) {
	c.mu.RLock()
	st, ok := c.tenants[slug]
	failed, hasFailed := c.unloadable[slug]
	c.mu.RUnlock()
	if ok {
		if st.keysChangeAt.IsZero() || c.now().Before(st.keysChangeAt) {
			return st, nil
		}
		c.Invalidate(slug) // a scheduled key became active or retired
	} else if hasFailed && c.now().Before(failed.until) {
		return nil, failed.err
	}
	if tenant.IsReservedSlug(slug) {
		return nil, fmt.Errorf("tenant %q: %w", slug, tenant.ErrNotFound)
	}
	c.mu.RLock()
	before := c.changes
	c.mu.RUnlock()
	st, err := c.load(ctx, slug)
	if err != nil {
		// An unknown slug is not remembered: anyone can make up any number.
		if !errors.Is(err, tenant.ErrNotFound) && ctx.Err() == nil {
			c.unloadableNow(ctx, slug, err, before)
		}
		return nil, err
	}
	c.mu.Lock()
	if c.changes == before {
		c.tenants[slug] = st
		delete(c.unloadable, slug)
	}
	c.mu.Unlock()
	return st, nil
}

// unloadableNow remembers why a tenant that exists cannot be served, and
// logs it when the reason is new: its requests only see that it is
// unavailable.
func (c *cache) unloadableNow(ctx context.Context, slug string, err error, before uint64) {
	c.mu.Lock()
	if c.changes != before {
		c.mu.Unlock() // a change came meanwhile, perhaps the one that mends it
		return
	}
	previous, had := c.unloadable[slug]
	c.unloadable[slug] = unloadable{err: err, until: c.now().Add(retryUnloadable)}
	c.mu.Unlock()
	if c.logger != nil && (!had || previous.err.Error() != err.Error()) {
		c.logger.ErrorContext(ctx, "tenant cannot be served", "tenant", slug, "err", err)
	}
}

func (c *cache) load(ctx context.Context, slug string) (*tenantState, error) {
	st := &tenantState{clients: make(map[string]*client)}
	var keys []tenant.SigningKey
	err := c.store.View(ctx, func(tx tenant.Tx) error {
		var err error
		if st.tenant, err = tenant.GetTenant(tx, slug); err != nil {
			return err
		}
		if keys, err = tenant.SigningKeys(tx, slug); err != nil {
			return err
		}
		return tenant.ScanJSON(tx, tenant.CollClients, slug, "", "", func(_ string, cl tenant.Client) bool {
			st.clients[cl.ID] = &client{Client: cl}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	now := c.now()
	active, ok := tenant.ActiveKey(keys, now)
	if !ok {
		return nil, fmt.Errorf("tenant %q has no active signing key", slug)
	}
	algSeen := map[jose.SignatureAlgorithm]bool{}
	for _, k := range tenant.PublishedKeys(keys, now) {
		sk, err := c.parseSigningKey(slug, k)
		if err != nil && k.ID == active.ID {
			// The operator's way out, in the line they read: a key that
			// signs at once takes over, and this one is left out below.
			return nil, fmt.Errorf("%w; to serve the tenant again, give it a new key that signs at once: cognate tenant rotate-key %s --overlap 0s", err, slug)
		}
		if err != nil {
			// A key that signs nothing now (retiring, or not active yet)
			// and does not open is left out of JWKS rather than keep the
			// tenant down: after the server key was lost, a rotation with
			// no overlap brings the tenant back at once. Nothing is signed
			// in its place; an upcoming one fails the tenant when it is due.
			if c.logger != nil {
				c.logger.ErrorContext(ctx, "signing key left out of the tenant's JWKS", "tenant", slug, "err", err)
			}
			continue
		}
		if k.ID == active.ID {
			st.signing = sk
		}
		st.public = append(st.public, publicKey{sk})
		if !algSeen[sk.alg] {
			algSeen[sk.alg] = true
			st.algs = append(st.algs, sk.alg)
		}
	}
	st.keysChangeAt = nextKeyChange(keys, now)
	return st, nil
}

// nextKeyChange is the first moment after now at which a key becomes
// active (and signs) or retires (and leaves JWKS, no longer verifying).
func nextKeyChange(keys []tenant.SigningKey, now time.Time) time.Time {
	var next time.Time
	for _, k := range keys {
		for _, at := range []time.Time{k.ActiveFrom, k.RetireAt} {
			if at.After(now) && (next.IsZero() || at.Before(next)) {
				next = at
			}
		}
	}
	return next
}

// signingKey is a parsed tenant.SigningKey; it implements op.SigningKey.
type signingKey struct {
	id   string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
	// jwsHeader is the encoded JWS header of machine tokens (machine.go).
	jwsHeader string
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.priv }
func (k *signingKey) ID() string                                  { return k.id }

// parseSigningKey opens (when sealed) and parses one of slug's keys. The
// error of a key that does not open names the tenant and the key; when it
// is the active key, the tenant is not served at all, and nothing is
// signed with any other key.
func (c *cache) parseSigningKey(slug string, k tenant.SigningKey) (*signingKey, error) {
	der, err := tenant.OpenSigningKey(c.keySealer, slug, k)
	if err != nil {
		return nil, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("tenant %q: signing key %s: %w", slug, k.ID, err)
	}
	sk := &signingKey{id: k.ID, alg: jose.SignatureAlgorithm(k.Alg)}
	switch p := parsed.(type) {
	case *rsa.PrivateKey:
		sk.priv = p
	case *ecdsa.PrivateKey:
		sk.priv = p
	default:
		return nil, fmt.Errorf("signing key %s: unsupported type %T", k.ID, parsed)
	}
	sk.jwsHeader = jwsHeader(sk)
	return sk, nil
}

// publicKey is the public half of a signing key; it implements op.Key.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.alg }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.priv.Public() }
