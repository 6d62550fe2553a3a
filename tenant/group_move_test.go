package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// batchStore watches the transactions a group's rename or deletion makes:
// how many users the largest one wrote, and, after each commit, a hook
// that may read what others would see between two batches. From the
// Update numbered failFrom on it fails every Update, as a server that
// stopped would.
type batchStore struct {
	tenant.Store
	updates     int // Updates begun
	mostUsers   int // most user records one Update wrote
	failFrom    int // 0: none fails
	afterUpdate func()
}

var errStopped = errors.New("the server stopped")

func (s *batchStore) Update(ctx context.Context, fn func(tenant.Tx) error) error {
	s.updates++
	if s.failFrom > 0 && s.updates >= s.failFrom {
		return errStopped
	}
	users := 0
	err := s.Store.Update(ctx, func(tx tenant.Tx) error {
		users = 0 // the closure may run more than once
		return fn(&userCountingTx{Tx: tx, users: &users})
	})
	s.mostUsers = max(s.mostUsers, users)
	if err == nil && s.afterUpdate != nil {
		s.afterUpdate()
	}
	return err
}

type userCountingTx struct {
	tenant.Tx
	users *int
}

func (tx *userCountingTx) Put(c tenant.Collection, tenantID, key string, value []byte) error {
	if c == tenant.CollUsers {
		*tx.users++
	}
	return tx.Tx.Put(c, tenantID, key, value)
}

// moveBatch is the most users one transaction of a group's rename or
// deletion may write: like the import's batches, few enough that other
// writers wait milliseconds.
const moveBatch = 1000

const bigGroupSize = 2500 // members: two full batches and a half

// newBigGroup opens a store with tenant "big", whose group "all" has
// bigGroupSize members, "u00000" to "u02499"; every tenth of them is in
// "staff" too. It returns the store's path, for a test that opens it
// again after a stop.
func newBigGroup(t *testing.T) (svc *tenant.Service, store *batchStore, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "cognate.db")
	svc, store = openBigGroup(t, path)
	ctx := t.Context()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "big"}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"all", "staff"} {
		if _, err := svc.CreateGroup(ctx, "big", tenant.Group{Name: g}); err != nil {
			t.Fatal(err)
		}
	}
	err := store.Store.Update(ctx, func(tx tenant.Tx) error {
		for i := range bigGroupSize {
			u := tenant.User{Sub: fmt.Sprintf("sub-%05d", i), Username: fmt.Sprintf("u%05d", i), Enabled: true,
				Status: tenant.StatusConfirmed, Groups: []string{"all"}}
			if i%10 == 0 {
				u.Groups = append(u.Groups, "staff")
			}
			if err := tenant.InsertUser(tx, "big", u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store, path
}

func openBigGroup(t *testing.T, path string) (*tenant.Service, *batchStore) {
	t.Helper()
	b, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	store := &batchStore{Store: b}
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	return &tenant.Service{Store: store, Now: now}, store
}

// groupMembers lists every member of a group, page by page.
func groupMembers(t *testing.T, svc *tenant.Service, group string) []string {
	t.Helper()
	var subs []string
	for after := ""; ; {
		page, err := svc.GroupMembers(t.Context(), "big", group, after, 100)
		if err != nil {
			t.Fatalf("members of %s: %v", group, err)
		}
		for _, u := range page.Users {
			subs = append(subs, u.Sub)
		}
		if after = page.Next; after == "" {
			return subs
		}
	}
}

// groupsByName reads every user's groups as ListUsers, SearchUsers and
// GetUser show them.
func groupsByName(t *testing.T, svc *tenant.Service) map[string][]string {
	t.Helper()
	ctx := t.Context()
	out := map[string][]string{}
	for after := ""; ; {
		page, err := svc.ListUsers(ctx, "big", after, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			out[u.Username] = u.Groups
		}
		if after = page.Next; after == "" {
			break
		}
	}
	for _, name := range []string{"u00000", "u02499"} {
		found, err := svc.SearchUsers(ctx, "big", tenant.UserSearch{Filter: tenant.UserFilter{By: tenant.SearchUsername, Prefix: name}})
		if err != nil || len(found.Users) != 1 || !slices.Equal(found.Users[0].Groups, out[name]) {
			t.Errorf("search for %s: %v, %v; the list says %v", name, found.Users, err, out[name])
		}
		var u tenant.User
		err = svc.Store.View(ctx, func(tx tenant.Tx) (err error) { u, err = tenant.FindUser(tx, "big", name); return err })
		if err != nil || !slices.Equal(u.Groups, out[name]) {
			t.Errorf("sign-in's read of %s: %v, %v; the list says %v", name, u.Groups, err, out[name])
		}
	}
	return out
}

// indexed counts the member index entries under a group's name, as stored.
func indexed(t *testing.T, store tenant.Store, group string) int {
	t.Helper()
	n := 0
	err := store.View(t.Context(), func(tx tenant.Tx) error {
		n = 0
		return tx.Scan(tenant.CollGroupMembers, "big", group+"\x00", "", func(string, []byte) bool { n++; return true })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func auditDetails(t *testing.T, svc *tenant.Service, action tenant.AuditAction) map[string]string {
	t.Helper()
	page, err := svc.AuditLog(t.Context(), "big", tenant.AuditQuery{Action: string(action)})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("%s events: %v, %v", action, page.Events, err)
	}
	return page.Events[0].Details
}

// Renaming and deleting a group of many members takes transactions of a
// batch each, not one that holds the store's only writer for seconds; the
// members end up as one transaction would leave them, and the audit
// trail counts them all.
func TestLargeGroupMovesInBatches(t *testing.T) {
	svc, store, _ := newBigGroup(t)
	ctx := t.Context()

	store.mostUsers = 0
	if _, err := svc.UpdateGroup(ctx, "big", "all", tenant.GroupChange{Name: new("everyone")}); err != nil {
		t.Fatal(err)
	}
	if store.mostUsers > moveBatch {
		t.Errorf("the rename wrote %d users in one transaction, want at most %d", store.mostUsers, moveBatch)
	}
	if got := len(groupMembers(t, svc, "everyone")); got != bigGroupSize {
		t.Errorf("everyone has %d members, want %d", got, bigGroupSize)
	}
	if n := indexed(t, svc.Store, "all"); n != 0 {
		t.Errorf("%d members left under the old name", n)
	}
	for name, groups := range groupsByName(t, svc) {
		if want := []string{"everyone"}; !slices.Equal(groups, want) && !slices.Equal(groups, append(want, "staff")) {
			t.Fatalf("%s is in %v", name, groups)
		}
	}
	if d := auditDetails(t, svc, tenant.AuditGroupRename); d["from"] != "all" || d["members"] != fmt.Sprint(bigGroupSize) {
		t.Errorf("rename recorded as %v", d)
	}
	// The move is over: the old name may be taken again.
	if _, err := svc.CreateGroup(ctx, "big", tenant.Group{Name: "all"}); err != nil {
		t.Errorf("create the old name after the move: %v", err)
	}

	store.mostUsers = 0
	if err := svc.DeleteGroup(ctx, "big", "everyone"); err != nil {
		t.Fatal(err)
	}
	if store.mostUsers > moveBatch {
		t.Errorf("the deletion wrote %d users in one transaction, want at most %d", store.mostUsers, moveBatch)
	}
	if n := indexed(t, svc.Store, "everyone"); n != 0 {
		t.Errorf("%d members left in the deleted group's index", n)
	}
	for name, groups := range groupsByName(t, svc) {
		if slices.Contains(groups, "everyone") {
			t.Fatalf("%s is still in %v", name, groups)
		}
	}
	if got := len(groupMembers(t, svc, "staff")); got != bigGroupSize/10 {
		t.Errorf("staff has %d members, want %d", got, bigGroupSize/10)
	}
	if d := auditDetails(t, svc, tenant.AuditGroupDelete); d["members"] != fmt.Sprint(bigGroupSize) {
		t.Errorf("deletion recorded as %v", d)
	}
}

// A Service with no clock set reads the system's (Service.Time), moves
// included: the move that the change runs itself, with no GroupMover, must
// not need Now.
func TestGroupMoveWithTheSystemClock(t *testing.T) {
	svc, _, _ := newBigGroup(t)
	svc.Now = nil
	before := time.Now().Add(-time.Second)
	if _, err := svc.UpdateGroup(t.Context(), "big", "all", tenant.GroupChange{Name: new("everyone")}); err != nil {
		t.Fatal(err)
	}
	if got := len(groupMembers(t, svc, "everyone")); got != bigGroupSize {
		t.Errorf("everyone has %d members, want %d", got, bigGroupSize)
	}
	members, err := svc.GroupMembers(t.Context(), "big", "everyone", "", 1)
	if err != nil || len(members.Users) != 1 {
		t.Fatal(members, err)
	}
	if at := members.Users[0].UpdatedAt; at.Before(before) {
		t.Errorf("a moved member's UpdatedAt is %v, want the system's time", at)
	}
}

// A group whose members fit in one batch changes in one transaction.
func TestSmallGroupMovesInOneTransaction(t *testing.T) {
	svc, store, _ := newBigGroup(t)
	ctx := t.Context()
	for _, change := range []func() error{
		func() error {
			_, err := svc.UpdateGroup(ctx, "big", "staff", tenant.GroupChange{Name: new("crew")})
			return err
		},
		func() error { return svc.DeleteGroup(ctx, "big", "crew") },
	} {
		before := store.updates
		if err := change(); err != nil {
			t.Fatal(err)
		}
		if n := store.updates - before; n != 1 {
			t.Errorf("%d transactions, want 1", n)
		}
	}
	if _, err := svc.CreateGroup(ctx, "big", tenant.Group{Name: "staff"}); err != nil {
		t.Errorf("the old name once the move is done: %v", err)
	}
	if got := len(groupMembers(t, svc, "all")); got != bigGroupSize {
		t.Errorf("all has %d members, want %d", got, bigGroupSize)
	}
}

// Between two batches every reader sees the rename whole: each user in
// the new group and never the old one, the new group with every member.
// Changes that would make the move wrong are refused until it is done;
// the others work, and the move does not undo them.
func TestGroupMoveReadsConsistentBetweenBatches(t *testing.T) {
	svc, store, _ := newBigGroup(t)
	ctx := t.Context()
	queued := 0
	svc.GroupMoveQueued = func() { queued++ } // no mover: the test runs the batches

	if _, err := svc.UpdateGroup(ctx, "big", "all", tenant.GroupChange{Name: new("everyone")}); err != nil {
		t.Fatal(err)
	}
	if queued != 1 {
		t.Fatalf("the mover was told %d times", queued)
	}
	if n := indexed(t, svc.Store, "all"); n != bigGroupSize-moveBatch {
		t.Fatalf("%d members left under the old name after the first batch, want %d", n, bigGroupSize-moveBatch)
	}

	// The old name asked for is ErrGroupNameMoving; the group itself,
	// ErrGroupMoving alone: the console words them apart.
	refusals := []struct {
		name       string
		nameMoving bool
		try        func() error
	}{
		{"create the old name", true, func() error {
			_, err := svc.CreateGroup(ctx, "big", tenant.Group{Name: "all"})
			return err
		}},
		{"rename another group to the old name", true, func() error {
			_, err := svc.UpdateGroup(ctx, "big", "staff", tenant.GroupChange{Name: new("all")})
			return err
		}},
		{"rename the group again", false, func() error {
			_, err := svc.UpdateGroup(ctx, "big", "everyone", tenant.GroupChange{Name: new("people")})
			return err
		}},
		{"delete the group", false, func() error { return svc.DeleteGroup(ctx, "big", "everyone") }},
	}
	for _, r := range refusals {
		err := r.try()
		if !errors.Is(err, tenant.ErrGroupMoving) || !errors.Is(err, tenant.ErrConflict) {
			t.Errorf("%s during the move: %v, want ErrGroupMoving", r.name, err)
		}
		if errors.Is(err, tenant.ErrGroupNameMoving) != r.nameMoving {
			t.Errorf("%s during the move: %v; is ErrGroupNameMoving: %v, want %v", r.name, err, !r.nameMoving, r.nameMoving)
		}
	}
	if _, err := svc.UpdateGroup(ctx, "big", "everyone", tenant.GroupChange{Description: new("Everybody")}); err != nil {
		t.Errorf("describe the group during the move: %v", err)
	}
	// u02499 is not moved yet: taken out of the group now, the move must
	// not put it back; a new member stays one.
	if err := svc.RemoveUserFromGroup(ctx, "big", "everyone", "sub-02499"); err != nil {
		t.Fatal(err)
	}
	newcomer, err := svc.CreateUser(ctx, "big", tenant.NewUser{Username: "newcomer", Groups: []string{"everyone"}})
	if err != nil {
		t.Fatal(err)
	}
	want := bigGroupSize // one left, one joined

	check := func(when string) {
		t.Helper()
		if got := len(groupMembers(t, svc, "everyone")); got != want {
			t.Errorf("%s: everyone has %d members, want %d", when, got, want)
		}
		for name, groups := range groupsByName(t, svc) {
			if slices.Contains(groups, "all") {
				t.Fatalf("%s: %s is in %v", when, name, groups)
			}
			if member := slices.Contains(groups, "everyone"); member != (name != "u02499") {
				t.Fatalf("%s: %s is in %v", when, name, groups)
			}
		}
		if _, err := svc.GroupMembers(ctx, "big", "all", "", 10); !errors.Is(err, tenant.ErrNotFound) {
			t.Errorf("%s: members of the old name: %v", when, err)
		}
	}
	check("after the first batch")
	batches := 0
	store.afterUpdate = func() { batches++; check(fmt.Sprintf("after batch %d", batches+1)) }
	if n, err := tenant.FinishGroupMoves(ctx, store, svc.Now); err != nil || n != 1 {
		t.Fatalf("finish: %d moves, %v", n, err)
	}
	store.afterUpdate = nil
	if batches != 2 {
		t.Errorf("%d more batches, want 2", batches)
	}
	if n := indexed(t, svc.Store, "all"); n != 0 {
		t.Errorf("%d members left under the old name", n)
	}
	check("when done")
	if u, _ := svc.User(ctx, "big", newcomer.Sub); !slices.Equal(u.Groups, []string{"everyone"}) {
		t.Errorf("newcomer in %v", u.Groups)
	}
	if _, err := svc.CreateGroup(ctx, "big", tenant.Group{Name: "all"}); err != nil {
		t.Errorf("create the old name once the move is done: %v", err)
	}
}

// A server that stops between two batches leaves a state every reader
// sees as the finished change, and the mover of the next start finishes
// it.
func TestGroupMoveResumesAfterAStop(t *testing.T) {
	for _, deletion := range []bool{false, true} {
		t.Run(fmt.Sprintf("deletion=%t", deletion), func(t *testing.T) {
			svc, store, path := newBigGroup(t)
			ctx := t.Context()
			store.failFrom = store.updates + 3 // the change and one more batch commit
			var err error
			if deletion {
				err = svc.DeleteGroup(ctx, "big", "all")
			} else {
				_, err = svc.UpdateGroup(ctx, "big", "all", tenant.GroupChange{Name: new("everyone")})
			}
			if err != nil {
				t.Fatalf("the change committed, so it succeeded: %v", err)
			}
			if n := indexed(t, store.Store, "all"); n != bigGroupSize-2*moveBatch {
				t.Fatalf("%d members left under the old name, want %d", n, bigGroupSize-2*moveBatch)
			}
			if err := store.Store.Close(); err != nil {
				t.Fatal(err)
			}

			svc, store = openBigGroup(t, path)
			want := []string{"everyone"}
			if deletion {
				want = nil
			}
			for name, groups := range groupsByName(t, svc) {
				if groups = slices.DeleteFunc(groups, func(g string) bool { return g == "staff" }); !slices.Equal(groups, want) {
					t.Fatalf("before the resumption %s is in %v", name, groups)
				}
			}
			// The mover of the next start: it finishes what it finds, then
			// waits to be woken.
			mover := &tenant.GroupMover{Store: store, Now: svc.Now, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
			finished := make(chan struct{})
			store.afterUpdate = func() {
				if indexed(t, store.Store, "all") == 0 {
					close(finished)
				}
			}
			runCtx, stop := context.WithCancel(ctx)
			ran := make(chan struct{})
			go func() { mover.Run(runCtx); close(ran) }()
			<-finished
			stop()
			<-ran
			store.afterUpdate = nil
			if _, err := svc.CreateGroup(ctx, "big", tenant.Group{Name: "all"}); err != nil {
				t.Errorf("the old name after the resumed move: %v", err)
			}
			if !deletion {
				if got := len(groupMembers(t, svc, "everyone")); got != bigGroupSize {
					t.Errorf("everyone has %d members, want %d", got, bigGroupSize)
				}
			}
		})
	}
}
