package provider

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
)

// A code replayed while its first exchange is still under way (after the
// code was redeemed, before the tokens were written) revokes the family
// before it exists; the first exchange must then be refused, not issue
// tokens that overwrite the revocation.
func TestReplayDuringExchangeRevokesWhatItWouldIssue(t *testing.T) {
	p, _, cl := newInternal(t, nil)
	ctx := WithSite(context.Background(), Site{Slug: "acme"})

	now := time.Now()
	ar := &authRequest{ID: "req", ClientID: cl.ID, Subject: "sub-1", IsDone: true, FamilyID: "fam", ExpiresAt: now.Add(time.Minute)}
	st, err := p.cache.get(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.storage.pending.addRequest(st.key(), ar, now); err != nil {
		t.Fatal(err)
	}
	if err := p.storage.SaveAuthCode(ctx, "req", "the-code"); err != nil {
		t.Fatal(err)
	}
	first, err := p.storage.AuthRequestByCode(ctx, "the-code")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.storage.AuthRequestByCode(ctx, "the-code"); err == nil {
		t.Fatal("the replay was accepted")
	}
	if _, rt, _, err := p.storage.CreateAccessAndRefreshTokens(ctx, first, ""); err == nil {
		t.Fatalf("tokens issued for a replayed code's family (refresh token %q)", rt)
	}
}

// A family revoked while a refresh is under way (after the refresh token
// was looked up, before it was rotated: an administrator deactivating the
// user, a revocation, a reuse in parallel) must not get new tokens from
// that refresh.
func TestRefreshRefusedWhenTheFamilyIsRevokedMeanwhile(t *testing.T) {
	p, svc, cl := newInternal(t, nil)
	ctx, ar := annSignedIn(t, svc, cl)

	_, rt, _, err := p.storage.CreateAccessAndRefreshTokens(ctx, ar, "")
	if err != nil {
		t.Fatal(err)
	}
	req, err := p.storage.TokenRequestByRefreshToken(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Store.Update(ctx, func(tx tenant.Tx) error { return revokeFamily(tx, "acme", "fam", time.Now()) }); err != nil {
		t.Fatal(err)
	}
	if _, next, _, err := p.storage.CreateAccessAndRefreshTokens(ctx, req, rt); err == nil {
		t.Fatalf("a revoked family was rotated (new refresh token %q)", next)
	}
}

// newInternal is a Provider on a fresh data file, its store wrapped by wrap
// if that is not nil, with a tenant.Service whose changes reach it, tenant
// acme, and a public client of acme's for the code and refresh grants. The
// service writes to the data file directly.
func newInternal(t *testing.T, wrap func(tenant.Store) tenant.Store) (*Provider, *tenant.Service, tenant.Client) {
	t.Helper()
	return newInternalAt(t, wrap, time.Now)
}

// newInternalAt is newInternal on the clock now, the provider's and the
// service's.
func newInternalAt(t *testing.T, wrap func(tenant.Store) tenant.Store, now func() time.Time) (*Provider, *tenant.Service, tenant.Client) {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var served tenant.Store = store
	if wrap != nil {
		served = wrap(store)
	}
	base, _ := url.Parse("http://localhost:8080")
	p, err := New(Config{Hosts: Hosts{Base: base}, Store: served, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	hasher, _ := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 1)
	svc := &tenant.Service{Store: store, Hasher: hasher, Now: now, Changed: p.Invalidate}
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	cl, _, err := svc.CreateClient(ctx, "acme", tenant.NewClient{Name: "app", Public: true,
		GrantTypes: []string{tenant.GrantAuthorizationCode, tenant.GrantRefreshToken}, RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	return p, svc, cl
}

// Two refreshes with one token, both looked up before either rotated it
// (two requests of a stolen copy's and the client's at once): the
// transaction that writes finds the token used by the first, refuses the
// second as a reuse and revokes the family, so the first's successor stops
// working too.
func TestRefreshesAtOnceRevokeTheFamily(t *testing.T) {
	p, svc, cl := newInternal(t, nil)
	ctx, ar := annSignedIn(t, svc, cl)
	_, rt, _, err := p.storage.CreateAccessAndRefreshTokens(ctx, ar, "")
	if err != nil {
		t.Fatal(err)
	}
	var reqs [2]op.RefreshTokenRequest
	for i := range reqs {
		if reqs[i], err = p.storage.TokenRequestByRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
	_, next, _, err := p.storage.CreateAccessAndRefreshTokens(ctx, reqs[0], rt)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = p.storage.CreateAccessAndRefreshTokens(ctx, reqs[1], rt)
	if oe := (*oidc.Error)(nil); !errors.As(err, &oe) || oe.ErrorType != oidc.InvalidGrant {
		t.Fatalf("the second refresh: %v, want invalid_grant", err)
	}
	if _, err := p.storage.TokenRequestByRefreshToken(ctx, next); err == nil {
		t.Error("the first refresh's successor still works after the reuse")
	}
}

// annSignedIn creates the user ann at acme and returns the finished
// authorization request of her sign-in at cl, ready for the code
// exchange, with a context at acme's site.
func annSignedIn(t *testing.T, svc *tenant.Service, cl tenant.Client) (context.Context, *authRequest) {
	t.Helper()
	ctx := WithSite(context.Background(), Site{Slug: "acme"})
	u, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Password: "Correct-Horse-9"})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, &authRequest{ID: "req", ClientID: cl.ID, Subject: u.Sub, IsDone: true, FamilyID: "fam", ExpiresAt: time.Now().Add(time.Minute)}
}

// txCountingStore counts the read and the write transactions begun on it.
type txCountingStore struct {
	tenant.Store
	views, updates atomic.Int64
}

func (s *txCountingStore) View(ctx context.Context, fn func(tenant.Tx) error) error {
	s.views.Add(1)
	return s.Store.View(ctx, fn)
}

func (s *txCountingStore) Update(ctx context.Context, fn func(tenant.Tx) error) error {
	s.updates.Add(1)
	return s.Store.Update(ctx, fn)
}

// A code exchange and a refresh each write their tokens in one
// transaction: the family's check, the family or the used-up token, and
// the new tokens commit together or not at all.
func TestTokensIssueInOneWrite(t *testing.T) {
	var store *txCountingStore
	p, svc, cl := newInternal(t, func(s tenant.Store) tenant.Store { store = &txCountingStore{Store: s}; return store })
	ctx, ar := annSignedIn(t, svc, cl)
	if _, err := p.cache.get(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	before := store.updates.Load()
	_, rt, _, err := p.storage.CreateAccessAndRefreshTokens(ctx, ar, "")
	if err != nil {
		t.Fatal(err)
	}
	if n := store.updates.Load() - before; n != 1 {
		t.Errorf("the code exchange wrote in %d transactions, want 1", n)
	}
	req, err := p.storage.TokenRequestByRefreshToken(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	before = store.updates.Load()
	if _, _, _, err := p.storage.CreateAccessAndRefreshTokens(ctx, req, rt); err != nil {
		t.Fatal(err)
	}
	if n := store.updates.Load() - before; n != 1 {
		t.Errorf("the refresh wrote in %d transactions, want 1", n)
	}
}
