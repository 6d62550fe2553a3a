package provider

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
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
	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	paused := &pausingStore{Store: store, armed: make(chan struct{}, 1), read: make(chan struct{}), release: make(chan struct{})}
	base, _ := url.Parse("http://localhost:8080")
	p, err := New(Config{Hosts: Hosts{Base: base}, Store: paused, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	hasher, _ := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 1)
	svc := &tenant.Service{Store: store, Hasher: hasher, Now: time.Now, Changed: p.Invalidate}
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	cl, _, err := svc.CreateClient(ctx, "acme", tenant.NewClient{Name: "app", Public: true,
		GrantTypes: []string{tenant.GrantAuthorizationCode}, RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}

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
