package console_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// BenchmarkUsersPage serves the users list of a tenant of 100,000 users
// over HTTP, signed in: the first page, a prefix search and a status
// filter that matches one user in a thousand (which stops at the search
// budget). The cost of a page does not grow with the tenant. Run with
//
//	go test ./ui/console -run '^$' -bench UsersPage -benchtime 100x
func BenchmarkUsersPage(b *testing.B) {
	s := newStack(b)
	const n = 100_000
	start := time.Now()
	for first := 0; first < n; first += 10_000 {
		err := s.store.Update(context.Background(), func(tx tenant.Tx) error {
			for i := first; i < first+10_000; i++ {
				u := tenant.User{Sub: fmt.Sprintf("%08x-0000-4000-8000-%012x", i*2654435761%(1<<32), i),
					Username: fmt.Sprintf("user%06d", i), Email: fmt.Sprintf("person%06d@acme.example", i),
					Status: tenant.StatusConfirmed, Enabled: true, CreatedAt: start}
				if i%1000 == 0 {
					u.Status = tenant.StatusUnconfirmed
				}
				if err := tenant.InsertUser(tx, "acme", u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("inserted %d users in %s", n, time.Since(start).Round(time.Millisecond))
	br := newBrowser(b)
	br.signIn(s, "acme", "boss", adminPassword)
	for _, c := range []struct{ name, query string }{
		{"first-page", ""},
		{"username-prefix", "?q=user0999"},
		{"not-activated", "?status=not_activated"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if p := br.Get(s.url("acme", "/admin/users"+c.query)); p.Status != http.StatusOK {
					b.Fatalf("status %d", p.Status)
				}
			}
		})
	}
}
