package console

import (
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
)

// The console keeps one ID token verifier per tenant, with the tenant's
// keys cached in it: a tenant created again under a deleted one's slug
// gets a verifier of its own, never the one that holds the deleted
// tenant's keys.
func TestVerifierIsOneIncarnations(t *testing.T) {
	base, _ := url.Parse("http://localhost:8080")
	p, err := provider.New(provider.Config{Hosts: provider.Hosts{Base: base}, Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	rp := newRelyingParty(p, time.Now)
	const origin = "http://acme.localhost:8080"
	deleted, current := tenant.Tenant{Slug: "acme", Incarnation: "1"}, tenant.Tenant{Slug: "acme", Incarnation: "2"}
	v := rp.verifier(deleted, origin)
	if rp.verifier(deleted, origin) != v {
		t.Fatal("a tenant's verifier is not kept")
	}
	fresh := rp.verifier(current, origin)
	if fresh == v {
		t.Fatal("the tenant created again under the slug got the deleted tenant's verifier")
	}
	if rp.verifier(current, origin) != fresh || len(rp.verifiers) != 1 {
		t.Fatalf("after the slug's new tenant: %d verifiers kept, want its one", len(rp.verifiers))
	}
}
