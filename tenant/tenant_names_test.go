package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

// slugsOf lists the slugs of tenants, in order.
func slugsOf(tenants []tenant.Tenant) []string {
	var slugs []string
	for _, t := range tenants {
		slugs = append(slugs, t.Slug)
	}
	return slugs
}

// The apex finds an organization by its slug or its name, and a new name is
// checked free, with a key read or two, however many organizations there
// are: no transaction reads the list of tenants.
func TestFindTenantsReadsOnlyWhatItFinds(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	for i := range 40 {
		// ES256: a key quick to make.
		_, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: fmt.Sprintf("org%02d", i), Name: fmt.Sprintf("Organization %d", i),
			Settings: tenant.Settings{SigningAlg: "ES256"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	counter := countReads(svc.Store)
	svc.Store = counter

	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"org17", []string{"org17"}},
		{"ORG17", []string{"org17"}},
		{"organization  17", []string{"org17"}},
		{"Ｏｒｇａｎｉｚａｔｉｏｎ 3", []string{"org03"}},
		{"Organization 40", nil},
		{"\u200b", nil},
	} {
		counter.reads()
		found, err := svc.FindTenants(ctx, tt.query)
		if err != nil || !slices.Equal(slugsOf(found), tt.want) {
			t.Errorf("%q: %v, %v; want %v", tt.query, slugsOf(found), err, tt.want)
		}
		reads := counter.reads()
		// The slug's key, and the tenant found under the name.
		if n := reads["view get tenants"]; n > 2 {
			t.Errorf("%q: %d tenant records read", tt.query, n)
		}
		if n := reads["view scan tenants"]; n != 0 {
			t.Errorf("%q: the tenant list was read (%d tenants)", tt.query, n)
		}
	}

	counter.reads()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "copy", Name: "ORGANIZATION 5"}); !errors.Is(err, tenant.ErrTenantNameTaken) {
		t.Errorf("a taken name: %v", err)
	}
	name := "Organization 41"
	if _, err := svc.UpdateTenant(ctx, "org01", tenant.TenantChange{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if n := counter.reads()["update scan tenants"]; n != 0 {
		t.Errorf("checking names free read the tenant list (%d tenants)", n)
	}
}

// The index of names follows every change of a tenant: a new name is
// found and the old one is free, a deleted tenant's name is free, and a
// name two tenants shared before names were kept apart finds both.
func TestTenantNameIndexKeptInStep(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	mustCreateTenant(t, svc, "acme", "Acme")
	mustCreateTenant(t, svc, "globex", "Globex")
	find := func(query string) []string {
		t.Helper()
		found, err := svc.FindTenants(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		return slugsOf(found)
	}

	renamed := "Acme Holding"
	if _, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Name: &renamed}); err != nil {
		t.Fatal(err)
	}
	if got := find("acme holding"); !slices.Equal(got, []string{"acme"}) {
		t.Errorf("the new name finds %v", got)
	}
	if got := find("Acme"); !slices.Equal(got, []string{"acme"}) {
		t.Errorf("the slug finds %v", got) // a slug is found as before
	}
	mustCreateTenant(t, svc, "acme2", "ACME") // the old name is free
	if got := find("Acme"); !slices.Equal(got, []string{"acme"}) {
		t.Errorf("the slug before the name: %v", got)
	}

	if err := svc.DeleteTenant(ctx, "globex"); err != nil {
		t.Fatal(err)
	}
	if got := find("Globex"); got != nil {
		t.Errorf("a deleted tenant's name finds %v", got)
	}
	mustCreateTenant(t, svc, "initech", "Globex") // its name is free

	// As stored by a version that did not keep names apart.
	err := svc.Store.Update(ctx, func(tx tenant.Tx) error {
		tn, err := tenant.GetTenant(tx, "acme2")
		if err != nil {
			return err
		}
		tn.Name = "acme  HOLDING"
		return tenant.PutTenant(tx, tn)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := find("Acme Holding"); !slices.Equal(got, []string{"acme", "acme2"}) {
		t.Errorf("a shared name finds %v, want both", got)
	}
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "third", Name: "Acme Holding"}); !errors.Is(err, tenant.ErrTenantNameTaken) {
		t.Errorf("a third tenant with the shared name: %v", err)
	}
}

// A data file of an older version has tenants and no index of their names:
// the start-up pass builds it, once, from the tenants alone (entries a pass
// cut short left behind go).
func TestIndexTenantNames(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	mustCreateTenant(t, svc, "acme", "Acme")
	mustCreateTenant(t, svc, "globex", "Globex Corporation")
	// The older version's file: no index; and an entry left by a pass cut
	// short, naming a tenant since renamed.
	err := svc.Store.Update(ctx, func(tx tenant.Tx) error {
		var keys []string
		if err := tx.Scan(tenant.CollTenantNames, "", "", "", func(key string, _ []byte) bool { keys = append(keys, key); return true }); err != nil {
			return err
		}
		for _, key := range keys {
			if err := tx.Delete(tenant.CollTenantNames, "", key); err != nil {
				return err
			}
		}
		return tx.Put(tenant.CollTenantNames, "", "old name\x00acme", []byte("acme"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if found, _ := svc.FindTenants(ctx, "Globex Corporation"); len(found) != 0 {
		t.Fatalf("found %v without an index", slugsOf(found))
	}

	if n, err := tenant.IndexTenantNames(ctx, svc.Store); err != nil || n != 2 {
		t.Fatalf("IndexTenantNames = %d, %v; want 2 tenants", n, err)
	}
	for query, want := range map[string]string{"globex corporation": "globex", "ACME": "acme"} {
		if found, err := svc.FindTenants(ctx, query); err != nil || !slices.Equal(slugsOf(found), []string{want}) {
			t.Errorf("%q: %v, %v; want %s", query, slugsOf(found), err, want)
		}
	}
	if found, _ := svc.FindTenants(ctx, "Old Name"); len(found) != 0 {
		t.Errorf("a stale entry finds %v", slugsOf(found))
	}
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "copy", Name: "Globex  corporation"}); !errors.Is(err, tenant.ErrTenantNameTaken) {
		t.Errorf("a taken name after the pass: %v", err)
	}
	// Once built, it is not built again.
	if n, err := tenant.IndexTenantNames(ctx, svc.Store); err != nil || n != 0 {
		t.Errorf("IndexTenantNames again = %d, %v; want 0", n, err)
	}
}
