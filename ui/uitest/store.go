package uitest

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/cognate-idp/cognate/tenant"
)

// VanishingStore is a store in which, once Vanish names a user, that
// user reads as deleted (tenant.ErrNotFound) in a View: for a test of a
// user deleted between one part's read (the provider's, through the
// store itself) and another's (a page's, through this one). Until then it
// is the store itself.
type VanishingStore struct {
	tenant.Store
	gone atomic.Pointer[string] // a sub; nil for none
}

// Vanish makes the user sub read as deleted; "" brings every user back.
func (s *VanishingStore) Vanish(sub string) {
	if sub == "" {
		s.gone.Store(nil)
		return
	}
	s.gone.Store(&sub)
}

func (s *VanishingStore) View(ctx context.Context, fn func(tx tenant.Tx) error) error {
	gone := s.gone.Load()
	if gone == nil {
		return s.Store.View(ctx, fn)
	}
	return s.Store.View(ctx, func(tx tenant.Tx) error { return fn(vanishingTx{tx, *gone}) })
}

type vanishingTx struct {
	tenant.Tx
	gone string
}

func (tx vanishingTx) Get(c tenant.Collection, tenantID, key string) ([]byte, error) {
	if c == tenant.CollUsers && key == tx.gone {
		return nil, fmt.Errorf("user %s deleted a moment ago: %w", key, tenant.ErrNotFound)
	}
	return tx.Tx.Get(c, tenantID, key)
}

// InterposingStore is a store that, once told (BeforeUpdate), runs a
// change of the test's just before its next Update: another request's
// change landing between what a page read and what it writes. Until then,
// and after, it is the store itself.
type InterposingStore struct {
	tenant.Store
	next atomic.Pointer[func()]
}

// BeforeUpdate has change run once, before the next Update begins.
func (s *InterposingStore) BeforeUpdate(change func()) { s.next.Store(&change) }

func (s *InterposingStore) Update(ctx context.Context, fn func(tx tenant.Tx) error) error {
	if change := s.next.Swap(nil); change != nil {
		(*change)()
	}
	return s.Store.Update(ctx, fn)
}
