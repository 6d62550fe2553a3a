package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

// readCounter counts what transactions read, by kind of transaction
// ("view", "update", "batch"), operation ("get", or "scan" for each record
// a scan visits) and collection: how much a lookup costs, counted rather
// than timed.
type readCounter struct {
	tenant.Store
	mu     sync.Mutex
	counts map[string]int
}

func countReads(store tenant.Store) *readCounter {
	return &readCounter{Store: store, counts: map[string]int{}}
}

func (s *readCounter) add(kind, op string, c tenant.Collection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[kind+" "+op+" "+string(c)]++
}

// reads returns the counts since the last call, and starts again.
func (s *readCounter) reads() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := s.counts
	s.counts = map[string]int{}
	return counts
}

func (s *readCounter) View(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.View(ctx, func(tx tenant.Tx) error { return fn(countingTx{tx, s, "view"}) })
}

func (s *readCounter) Update(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.Update(ctx, func(tx tenant.Tx) error { return fn(countingTx{tx, s, "update"}) })
}

func (s *readCounter) Batch(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.Batch(ctx, func(tx tenant.Tx) error { return fn(countingTx{tx, s, "batch"}) })
}

type countingTx struct {
	tenant.Tx
	s    *readCounter
	kind string
}

func (t countingTx) Get(c tenant.Collection, tenantID, key string) ([]byte, error) {
	t.s.add(t.kind, "get", c)
	return t.Tx.Get(c, tenantID, key)
}

func (t countingTx) Scan(c tenant.Collection, tenantID, prefix, after string, visit func(string, []byte) bool) error {
	return t.Tx.Scan(c, tenantID, prefix, after, func(key string, value []byte) bool {
		t.s.add(t.kind, "scan", c)
		return visit(key, value)
	})
}

// shareAddress stores n users of the tenant with the address email, subs
// prefix0000 onwards in order, the way an import would: without hashing
// passwords. The first is disabled.
func shareAddress(t *testing.T, store tenant.Store, slug, prefix, email string, n int) []string {
	t.Helper()
	var subs []string
	err := store.Update(context.Background(), func(tx tenant.Tx) error {
		subs = nil
		for i := range n {
			u := tenant.User{Sub: fmt.Sprintf("%s%04d", prefix, i), Username: fmt.Sprintf("%s%04d", prefix, i), Email: email,
				EmailVerified: true, Status: tenant.StatusConfirmed, Enabled: i > 0}
			if err := tenant.InsertUser(tx, slug, u); err != nil {
				return err
			}
			subs = append(subs, u.Sub)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

// An address that many users share (Cognito allows it unless email is a
// sign-in alias) names no one to sign in, to a password reset, or to the
// apex's lookup by email: each finds that out from the email index alone,
// stopping at its second entry, so refusing it costs what refusing an
// unknown address costs, and the store's one writer reads no user at all.
func TestSharedAddressReadsNoUsers(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	const shared, many = "shared@example.com", 300
	shareAddress(t, e.svc.Store, "acme", "s", shared, many)
	ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: "Correct-Horse-9!"})
	counter := countReads(e.svc.Store)
	e.svc.Store = counter

	t.Run("FindUser", func(t *testing.T) {
		for _, tt := range []struct {
			login      string
			want       string // the sub found; "" for ErrNotFound
			usersRead  int
			indexReads int
		}{
			{shared, "", 0, 2},
			{"SHARED@example.com ", "", 0, 2},
			{"ann@example.com", ann.Sub, 1, 1},
			{"nobody@example.com", "", 0, 0},
		} {
			counter.reads()
			var u tenant.User
			err := counter.View(ctx, func(tx tenant.Tx) (err error) {
				u, err = tenant.FindUser(tx, "acme", tt.login)
				return err
			})
			switch {
			case tt.want == "" && !errors.Is(err, tenant.ErrNotFound):
				t.Errorf("%q: %+v, %v; want ErrNotFound", tt.login, u, err)
			case tt.want != "" && (err != nil || u.Sub != tt.want):
				t.Errorf("%q: %q, %v; want %q", tt.login, u.Sub, err, tt.want)
			}
			reads := counter.reads()
			if got := reads["view get users"]; got != tt.usersRead {
				t.Errorf("%q: %d users read, want %d", tt.login, got, tt.usersRead)
			}
			if got := reads["view scan users_by_email"]; got != tt.indexReads {
				t.Errorf("%q: %d email index entries read, want %d", tt.login, got, tt.indexReads)
			}
		}
	})

	t.Run("StartPasswordReset", func(t *testing.T) {
		counter.reads()
		before := len(e.queued(t))
		if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: shared, ClientIP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
		if n := len(e.queued(t)); n != before {
			t.Errorf("%d mails queued for a shared address", n-before)
		}
		reads := counter.reads()
		for _, kind := range []string{"view", "update"} {
			if n := reads[kind+" get users"]; n != 0 {
				t.Errorf("%d users read in %s transactions", n, kind)
			}
			if n := reads[kind+" scan users_by_email"]; n > 2 {
				t.Errorf("%d email index entries read in %s transactions, want 2 at most", n, kind)
			}
		}
	})

	t.Run("OrganizationsForEmail", func(t *testing.T) {
		// The address is shared in acme too, where the first user (by sub)
		// is disabled; in globex one user has it, in initech none.
		if _, err := e.svc.CreateTenant(ctx, tenant.NewTenant{Slug: "initech", Name: "Initech"}); err != nil {
			t.Fatal(err)
		}
		shareAddress(t, e.svc.Store, "globex", "g", shared, 2)
		counter.reads()
		if err := e.svc.OrganizationsForEmail(ctx, tenant.OrgLookup{Email: shared, ClientIP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
		m := e.lastMail(t)
		if !strings.Contains(m.Text, "https://acme.example.com/") || !strings.Contains(m.Text, "https://globex.example.com/") || strings.Contains(m.Text, "initech") {
			t.Errorf("mail:\n%s", m.Text)
		}
		reads := counter.reads()
		// acme: its disabled first user, then the next, who can sign in;
		// globex the same. The records of those two tenants only.
		if n := reads["view get users"]; n != 4 {
			t.Errorf("%d users read, want 4: two of acme, two of globex", n)
		}
		if n := reads["view get tenants"]; n != 2 {
			t.Errorf("%d tenant records read, want those of acme and globex", n)
		}
		for what, n := range reads {
			if strings.HasPrefix(what, "update ") && !strings.HasSuffix(what, " rate_limits") {
				t.Errorf("the write transaction read %d of %q; want only the rate limits", n, what)
			}
		}
	})

	// However many accounts share an address without one that can sign
	// in, the lookup reads a bounded number of them; and an address
	// asked about again within the minute (its mail already on the way)
	// costs no search at all.
	t.Run("OrganizationsForEmail bounded", func(t *testing.T) {
		const crowd = "crowd@example.com"
		err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
			for i := range 50 {
				u := tenant.User{Sub: fmt.Sprintf("c%04d", i), Username: fmt.Sprintf("c%04d", i), Email: crowd,
					EmailVerified: true, Status: tenant.StatusConfirmed}
				if err := tenant.InsertUser(tx, "globex", u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []int{20, 0} {
			counter.reads()
			if err := e.svc.OrganizationsForEmail(ctx, tenant.OrgLookup{Email: crowd, ClientIP: "192.0.2.7"}); err != nil {
				t.Fatal(err)
			}
			if n := counter.reads()["view get users"]; n != want {
				t.Errorf("lookup %d: %d users read, want %d", i+1, n, want)
			}
		}
	})
}

// A search by email is paged as the user listing is: Limit users in sub
// order (50 when left out or over 100), Next for the following page; a
// page reads its own users and no others.
func TestFindUsersByEmailPaged(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	const shared = "shared@example.com"
	subs := shareAddress(t, svc.Store, "acme", "s", shared, 230)
	counter := countReads(svc.Store)
	svc.Store = counter

	for _, tt := range []struct {
		limit int
		pages []int
	}{
		{0, []int{50, 50, 50, 50, 30}},
		{100, []int{100, 100, 30}},
		{500, []int{50, 50, 50, 50, 30}},
		{77, []int{77, 77, 76}},
		{230, []int{50, 50, 50, 50, 30}},
	} {
		t.Run(fmt.Sprintf("limit %d", tt.limit), func(t *testing.T) {
			var got []string
			var sizes []int
			after := ""
			for range 10 {
				counter.reads()
				page, err := svc.FindUsers(ctx, "acme", tenant.UserQuery{Email: "Shared@Example.com", After: after, Limit: tt.limit})
				if err != nil {
					t.Fatal(err)
				}
				if n := counter.reads()["view get users"]; n != len(page.Users) {
					t.Errorf("a page of %d users read %d", len(page.Users), n)
				}
				sizes = append(sizes, len(page.Users))
				for _, u := range page.Users {
					got = append(got, u.Sub)
				}
				if page.Next == "" {
					break
				}
				if last := page.Users[len(page.Users)-1].Sub; page.Next != last {
					t.Errorf("next %q, want the page's last sub %q", page.Next, last)
				}
				after = page.Next
			}
			if !slices.Equal(sizes, tt.pages) || !slices.Equal(got, subs) {
				t.Errorf("pages of %v, %d users; want %v, the %d in sub order", sizes, len(got), tt.pages, len(subs))
			}
		})
	}

	// A search by username or sub finds one user at most: nothing to page.
	for _, q := range []tenant.UserQuery{
		{Username: "s0001", Limit: 5},
		{Sub: "s0001", After: "s0000"},
	} {
		if _, err := svc.FindUsers(ctx, "acme", q); !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", q, err)
		}
	}
	if page, err := svc.FindUsers(ctx, "acme", tenant.UserQuery{Username: "S0001"}); err != nil || len(page.Users) != 1 || page.Next != "" {
		t.Errorf("by username: %+v, %v", page, err)
	}
}

// The apex's lookup by email asks of each user with the address only
// whether they can sign in: it reads their records, and not a tenant's
// unfinished group moves once per user, which only say what groups a
// user is in.
func TestLookupByEmailReadsNoGroupMoves(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	const shared = "shared@example.com"
	shareAddress(t, e.svc.Store, "acme", "s", shared, 3)
	// A rename of acme's group "old" whose members have not all moved
	// (group_move.go): one record beside the membership index.
	err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
		return tenant.PutJSON(tx, tenant.CollGroupMembers, "acme", "\x00move\x00old", map[string]any{"from": "old", "to": "new"})
	})
	if err != nil {
		t.Fatal(err)
	}
	counter := countReads(e.svc.Store)
	e.svc.Store = counter
	if err := e.svc.OrganizationsForEmail(ctx, tenant.OrgLookup{Email: shared, ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if m := e.lastMail(t); !strings.Contains(m.Text, "https://acme.example.com/") {
		t.Errorf("mail:\n%s", m.Text)
	}
	reads := counter.reads()
	if n := reads["view get users"]; n != 2 {
		t.Errorf("%d users read, want 2: acme's disabled first one and the next", n)
	}
	if n := reads["view scan group_members"]; n != 0 {
		t.Errorf("%d group moves read, want none", n)
	}
}

// Renaming or deleting a group reads its members from the member index
// (countGroupMembers, moveMemberBatch), however many other users the
// tenant has: no user is scanned, and only the group's members are read.
func TestGroupRenameReadsOnlyMembers(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	shareAddress(t, svc.Store, "acme", "s", "shared@example.com", 50)
	if _, err := svc.CreateGroup(ctx, "acme", tenant.Group{Name: "ops"}); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"s0007", "s0031"} {
		if err := svc.AddUserToGroup(ctx, "acme", "ops", sub); err != nil {
			t.Fatal(err)
		}
	}
	real := svc.Store
	counter := countReads(real)
	svc.Store = counter
	// members are the groups of the two members, as the real store has them.
	members := func() [][]string {
		var groups [][]string
		err := real.View(ctx, func(tx tenant.Tx) error {
			for _, sub := range []string{"s0007", "s0031"} {
				u, err := tenant.GetUser(tx, "acme", sub)
				if err != nil {
					return err
				}
				groups = append(groups, u.Groups)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return groups
	}
	renamed := "operations"
	if _, err := svc.UpdateGroup(ctx, "acme", "ops", tenant.GroupChange{Name: &renamed}); err != nil {
		t.Fatal(err)
	}
	if got := members(); !slices.EqualFunc(got, [][]string{{renamed}, {renamed}}, slices.Equal) {
		t.Fatalf("the members' groups after the rename: %q, want both in %q", got, renamed)
	}
	if err := svc.DeleteGroup(ctx, "acme", renamed); err != nil {
		t.Fatal(err)
	}
	if got := members(); len(got[0])+len(got[1]) != 0 {
		t.Fatalf("the members' groups after the deletion: %q, want none", got)
	}
	users := 0
	for what, n := range counter.reads() {
		if strings.HasSuffix(what, " scan users") {
			t.Errorf("%s: %d, want no scan of the users", what, n)
		}
		if strings.HasSuffix(what, " get users") {
			users += n
		}
	}
	// Each member is read to be changed, and again by UpdateUser to keep
	// the indexes in step: twice in the rename and twice in the deletion.
	if users > 2*2*2 {
		t.Errorf("%d users read, want at most 8: the 2 members, twice for the rename and twice for the deletion", users)
	}
}
