package provider

import (
	"context"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

// pausingStore holds the next View that is armed after it has read, until
// released: a load of the cache that has its data and has not stored it yet.
type pausingStore struct {
	tenant.Store
	armed   chan struct{} // one value arms one View
	read    chan struct{}
	release chan struct{}
}

func (s *pausingStore) View(ctx context.Context, fn func(tx tenant.Tx) error) error {
	err := s.Store.View(ctx, fn)
	select {
	case <-s.armed:
		s.read <- struct{}{}
		<-s.release
	default:
	}
	return err
}

// A change that commits while the cache is loading the tenant must not be
// hidden by that load: a deleted client (or a rotated secret) would be
// served from the cache until the tenant's next change.
func TestChangeDuringLoadIsNotHiddenByIt(t *testing.T) {
	paused := &pausingStore{armed: make(chan struct{}, 1), read: make(chan struct{}), release: make(chan struct{})}
	p, svc, cl := newInternal(t, func(s tenant.Store) tenant.Store { paused.Store = s; return paused })
	ctx := context.Background()

	paused.armed <- struct{}{}
	loaded := make(chan error)
	go func() {
		_, err := p.cache.get(ctx, "acme")
		loaded <- err
	}()
	<-paused.read // the load has read the client
	if err := svc.DeleteClient(ctx, "acme", cl.ID); err != nil {
		t.Fatal(err)
	}
	close(paused.release)
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}

	st, err := p.cache.get(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if st.clients[cl.ID] != nil {
		t.Error("the deleted client is still served from the cache")
	}
}
