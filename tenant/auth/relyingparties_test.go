package auth_test

import (
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// A tenant's WebAuthn relying party is kept and made again only when it
// would differ: after a rename (browsers show the name), and for a tenant
// created again under a deleted one's slug, which gets nothing that was
// made for the one before.
func TestRelyingPartyIsOneIncarnations(t *testing.T) {
	rps := &auth.RelyingParties{Origin: func(slug string) string { return "http://" + slug + ".localhost:8080" }}
	acme := tenant.Tenant{Slug: "acme", Name: "Acme BV", Incarnation: "1"}
	renamed := acme
	renamed.Name = "Acme Holding"
	recreated := acme
	recreated.Incarnation = "2"
	tests := []struct {
		name string
		t    tenant.Tenant
		same bool
	}{
		{"the same tenant", acme, true},
		{"renamed", renamed, false},
		{"created again under the slug", recreated, false},
	}
	for _, tt := range tests {
		before, err := rps.For(acme)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rps.For(tt.t)
		if err != nil {
			t.Fatal(err)
		}
		if (got == before) != tt.same {
			t.Errorf("%s: the party made before is kept: %v, want %v", tt.name, got == before, tt.same)
		}
	}
}
