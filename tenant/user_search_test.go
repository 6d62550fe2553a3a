package tenant_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// insertUsers writes n users of tenantID straight into the store, many per
// transaction, the way an import does: creating them one by one through the
// service would make a 100,000-user benchmark mostly about fsync.
func insertUsers(tb testing.TB, store tenant.Store, tenantID string, n int, mk func(i int) tenant.User) {
	tb.Helper()
	const perTx = 10_000
	for start := 0; start < n; start += perTx {
		err := store.Update(context.Background(), func(tx tenant.Tx) error {
			for i := start; i < min(start+perTx, n); i++ {
				if err := tenant.InsertUser(tx, tenantID, mk(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// syntheticUser is user i of a large tenant: one in 1,000 is not activated,
// one in 10 is disabled, and usernames and emails share prefixes by tens.
func syntheticUser(i int) tenant.User {
	u := tenant.User{
		Sub:      fmt.Sprintf("%08x-0000-4000-8000-%012x", i*2654435761%(1<<32), i),
		Username: fmt.Sprintf("user%06d", i),
		Email:    fmt.Sprintf("person%06d@example.com", i),
		Status:   tenant.StatusConfirmed,
		Enabled:  i%10 != 0,
		Groups:   []string{"staff"},
	}
	if i%1000 == 0 {
		u.Status = tenant.StatusUnconfirmed
	}
	return u
}

func TestSearchUsers(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	svc.CreateGroup(ctx, "acme", tenant.Group{Name: "staff"})
	insertUsers(t, svc.Store, "acme", 3000, syntheticUser)
	disabled := false

	tests := []struct {
		name   string
		in     tenant.UserSearch
		count  int
		first  string
		next   bool
		budget bool
	}{
		{"a page of everyone", tenant.UserSearch{Limit: 25}, 25, "", true, false},
		{"username prefix", tenant.UserSearch{Filter: tenant.UserFilter{Prefix: "USER00012"}}, 10, "user000120", false, false},
		{"email prefix", tenant.UserSearch{Filter: tenant.UserFilter{Prefix: "person0029", By: tenant.SearchEmail}, Limit: 100}, 100, "person002900@example.com", false, false},
		{"no match", tenant.UserSearch{Filter: tenant.UserFilter{Prefix: "zed"}}, 0, "", false, false},
		{"prefix and status", tenant.UserSearch{Filter: tenant.UserFilter{Prefix: "user001", Status: tenant.StatusUnconfirmed}}, 1, "user001000", false, false},
		{"status, everything examined", tenant.UserSearch{Filter: tenant.UserFilter{Status: tenant.StatusUnconfirmed}, Budget: 5000}, 3, "", false, false},
		{"status over budget", tenant.UserSearch{Filter: tenant.UserFilter{Status: tenant.StatusUnconfirmed}, Budget: 500}, -1, "", true, true},
		{"disabled, a full page", tenant.UserSearch{Filter: tenant.UserFilter{Enabled: &disabled}, Limit: 10}, 10, "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := svc.SearchUsers(ctx, "acme", tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if tt.count >= 0 && len(page.Users) != tt.count {
				t.Errorf("%d users, want %d", len(page.Users), tt.count)
			}
			if tt.first != "" && (len(page.Users) == 0 || (page.Users[0].Username != tt.first && page.Users[0].Email != tt.first)) {
				t.Errorf("first %v, want %s", page.Users, tt.first)
			}
			if (page.Next != "") != tt.next || page.BudgetSpent != tt.budget {
				t.Errorf("next %q, budget spent %v", page.Next, page.BudgetSpent)
			}
			if budget := tt.in.Budget; budget > 0 && page.Examined > budget {
				t.Errorf("examined %d, over the budget of %d", page.Examined, budget)
			}
		})
	}

	// Following the cursors finds every match exactly once.
	for _, in := range []tenant.UserSearch{
		{Filter: tenant.UserFilter{Status: tenant.StatusUnconfirmed}, Budget: 400},
		{Filter: tenant.UserFilter{Prefix: "user00", Enabled: &disabled}, Limit: 7},
		{Limit: 100},
	} {
		seen := map[string]bool{}
		for calls := 0; ; calls++ {
			if calls > 100 {
				t.Fatal("paging does not end")
			}
			page, err := svc.SearchUsers(ctx, "acme", in)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page.Users {
				if seen[u.Sub] {
					t.Fatalf("%+v: %s twice", in.Filter, u.Username)
				}
				seen[u.Sub] = true
			}
			if page.Next == "" {
				break
			}
			in.After = page.Next
		}
		want := map[string]int{"": 3000, "user00": 300}[in.Filter.Prefix] // user00…: all, one in 10 disabled
		if in.Filter.Status != "" {
			want = 3
		}
		if len(seen) != want {
			t.Errorf("%+v: %d users in all, want %d", in.Filter, len(seen), want)
		}
	}
}

// BenchmarkSearchUsers serves console pages from a tenant of 100,000 users:
// every kind of page reads at most a page or a budget of records, so its
// cost does not grow with the tenant. Run with
//
//	go test ./tenant -run '^$' -bench SearchUsers -benchtime 200x
func BenchmarkSearchUsers(b *testing.B) {
	const n = 100_000
	store, err := bolt.Open(filepath.Join(b.TempDir(), "cognate.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	svc := &tenant.Service{Store: store, Now: time.Now}
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateGroup(ctx, "acme", tenant.Group{Name: "staff"}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	insertUsers(b, store, "acme", n, syntheticUser)
	b.Logf("inserted %d users in %s", n, time.Since(start).Round(time.Millisecond))

	// A cursor deep into the tenant: page 3,000 of 25.
	deep, err := svc.SearchUsers(ctx, "acme", tenant.UserSearch{Limit: 100, Budget: n})
	if err != nil {
		b.Fatal(err)
	}
	for range 750 {
		if deep, err = svc.SearchUsers(ctx, "acme", tenant.UserSearch{Limit: 100, After: deep.Next}); err != nil {
			b.Fatal(err)
		}
	}
	disabled := false
	cases := []struct {
		name string
		in   tenant.UserSearch
	}{
		{"first-page", tenant.UserSearch{}},
		{"deep-page", tenant.UserSearch{After: deep.Next}},
		{"username-prefix", tenant.UserSearch{Filter: tenant.UserFilter{Prefix: "user0999"}}},
		{"email-prefix", tenant.UserSearch{Filter: tenant.UserFilter{Prefix: "person05", By: tenant.SearchEmail}}},
		{"disabled", tenant.UserSearch{Filter: tenant.UserFilter{Enabled: &disabled}}},
		// One user in 1,000 matches: the page stops at its budget.
		{"not-activated", tenant.UserSearch{Filter: tenant.UserFilter{Status: tenant.StatusUnconfirmed}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			examined := 0
			for b.Loop() {
				page, err := svc.SearchUsers(ctx, "acme", c.in)
				if err != nil {
					b.Fatal(err)
				}
				examined = page.Examined
			}
			b.ReportMetric(float64(examined), "users-examined/op")
		})
	}
}
