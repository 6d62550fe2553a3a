package provider_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

// The refresh grant is a hot path: it looks its refresh token up once,
// where it checks the token (that it is the client's, its scope, its
// standing), and reads it once more in the transaction that uses it up,
// where a second use of the same token at the same time must find it used.
// The library's lookup takes the first read rather than make its own, and
// the tokens' claims take the user read with it.
func TestRefreshLooksItsTokenUpOnce(t *testing.T) {
	var store *refreshReads
	h := newHarnessOver(t, "http", func(real tenant.Store, _ string) tenant.Store {
		store = &refreshReads{Store: real}
		return store
	})
	f := h.fixture("acme", false)
	tok := h.signIn(f, h.oauthConfig(f))
	if err := store.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	store.inView.Store(0)
	store.inUpdate.Store(0)
	store.users.Store(0)
	if body, status := h.refresh(f, tok.RefreshToken, ""); status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, body)
	}
	if v, u := store.inView.Load(), store.inUpdate.Load(); v != 1 || u != 1 {
		t.Errorf("the refresh token's record was read %d times to look it up and %d times to use it up, want once each", v, u)
	}
	if n := store.users.Load(); n != 1 {
		t.Errorf("the user was read %d times, want once, with the token", n)
	}
}

// refreshReads is a store that counts the reads of refresh tokens' records
// (not their families'), in read-only transactions and in updates, and the
// reads of users.
type refreshReads struct {
	tenant.Store
	inView, inUpdate, users atomic.Int32
}

func (s *refreshReads) View(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.View(ctx, func(tx tenant.Tx) error { return fn(refreshReadsTx{tx, &s.inView, &s.users}) })
}

func (s *refreshReads) Update(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.Update(ctx, func(tx tenant.Tx) error { return fn(refreshReadsTx{tx, &s.inUpdate, &s.users}) })
}

type refreshReadsTx struct {
	tenant.Tx
	reads, users *atomic.Int32
}

func (tx refreshReadsTx) Get(c tenant.Collection, tenantID, key string) ([]byte, error) {
	if c == tenant.CollRefreshTokens && strings.HasPrefix(key, "rt:") {
		tx.reads.Add(1)
	}
	if c == tenant.CollUsers {
		tx.users.Add(1)
	}
	return tx.Tx.Get(c, tenantID, key)
}
