package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

func openStore(t testing.TB) tenant.Store {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

var sweepEpoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// The index entries that point at an expiring record go with it: a sweep
// that deletes the record and leaves them lets the file grow by one entry
// per sign-in for ever.
func TestSweepLeavesNoOrphanedIndexEntries(t *testing.T) {
	tests := []struct {
		name   string
		c      tenant.Collection
		write  func(tx tenant.Tx) error
		orphan string
	}{
		{
			name: "session's per-user entry",
			c:    tenant.CollSessions,
			write: func(tx tenant.Tx) error {
				return tenant.StartSession(tx, "acme", "cookie", "sub-1", nil, sweepEpoch, sweepEpoch, time.Hour)
			},
			orphan: "u:sub-1:" + tenant.HashSecret("cookie"),
		},
		{
			// The layout of provider/storage.go's token families.
			name: "token family's per-user entry",
			c:    tenant.CollRefreshTokens,
			write: func(tx tenant.Tx) error {
				fam := map[string]any{"sub": "sub-1", "client_id": "app", "expires_at": sweepEpoch.Add(time.Hour)}
				if err := tenant.PutExpiring(tx, tenant.CollRefreshTokens, "acme", "fam:F1", fam, sweepEpoch.Add(time.Hour)); err != nil {
					return err
				}
				return tx.Put(tenant.CollRefreshTokens, "acme", "usr:sub-1:F1", []byte{})
			},
			orphan: "usr:sub-1:F1",
		},
		{
			// The layout of ui/console's sessions.
			name: "console session's per-user entry",
			c:    tenant.CollSessions,
			write: func(tx tenant.Tx) error {
				sess := record("sub-1", sweepEpoch.Add(time.Hour))
				if err := tenant.PutExpiring(tx, tenant.CollSessions, "acme", tenant.ConsoleSessionPrefix+"C1", sess, sweepEpoch.Add(time.Hour)); err != nil {
					return err
				}
				return tx.Put(tenant.CollSessions, "acme", tenant.UserConsoleSessionPrefix+"sub-1:C1", []byte{})
			},
			orphan: tenant.UserConsoleSessionPrefix + "sub-1:C1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := openStore(t)
			ctx := t.Context()
			err := store.Update(ctx, func(tx tenant.Tx) error {
				if err := tenant.PutTenant(tx, tenant.Tenant{Slug: "acme"}); err != nil {
					return err
				}
				return tc.write(tx)
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tenant.SweepExpired(ctx, store, sweepEpoch.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			var left []string
			err = store.View(ctx, func(tx tenant.Tx) error {
				return tx.Scan(tc.c, "acme", "", "", func(key string, _ []byte) bool { left = append(left, key); return true })
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != 0 {
				t.Fatalf("after the sweep %s holds %q, want nothing (orphan %q)", tc.c, left, tc.orphan)
			}
		})
	}
}

// record is the shape of every expiring record, as far as the sweeps care.
func record(sub string, expiresAt time.Time) map[string]any {
	return map[string]any{"sub": sub, "expires_at": expiresAt}
}

// putFamily writes a token family the way provider/storage.go does: the
// family, its per-user entry, and one refresh token.
func putFamily(tx tenant.Tx, tenantID, sub, familyID string, expiresAt time.Time) error {
	if err := tenant.PutExpiring(tx, tenant.CollRefreshTokens, tenantID, "fam:"+familyID, record(sub, expiresAt), expiresAt); err != nil {
		return err
	}
	if err := tx.Put(tenant.CollRefreshTokens, tenantID, "usr:"+sub+":"+familyID, []byte{}); err != nil {
		return err
	}
	return tenant.PutExpiring(tx, tenant.CollRefreshTokens, tenantID, "rt:"+familyID+"-token", record(sub, expiresAt), expiresAt)
}

func mustUpdate(t testing.TB, store tenant.Store, fn func(tx tenant.Tx) error) {
	t.Helper()
	if err := store.Update(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

// contents lists the keys of the swept collections of a tenant, as
// "collection/key", and how many expiry entries it has.
func contents(t testing.TB, store tenant.Store, tenantID string) ([]string, int) {
	t.Helper()
	var keys []string
	entries := 0
	err := store.View(t.Context(), func(tx tenant.Tx) error {
		for _, c := range []tenant.Collection{tenant.CollAccessTokens, tenant.CollRefreshTokens, tenant.CollSessions, tenant.CollAuthFlows} {
			err := tx.Scan(c, tenantID, "", "", func(key string, _ []byte) bool {
				keys = append(keys, string(c)+"/"+key)
				return true
			})
			if err != nil {
				return err
			}
		}
		return tx.Scan(tenant.CollExpiry, tenantID, "", "", func(string, []byte) bool { entries++; return true })
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys, entries
}

// The minute's sweep deletes exactly what has expired, with the entries it
// owns, in every tenant, and keeps what is live and its index entries.
func TestSweepExpiredDeletesOnlyTheExpired(t *testing.T) {
	store := openStore(t)
	now := sweepEpoch.Add(2 * time.Hour)
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	mustUpdate(t, store, func(tx tenant.Tx) error {
		for _, id := range []string{"acme", "beta"} {
			steps := []func() error{
				func() error { return tenant.PutTenant(tx, tenant.Tenant{Slug: id}) },
				func() error {
					return tenant.StartSession(tx, id, "old-cookie", "sub-1", nil, sweepEpoch, sweepEpoch, time.Hour)
				},
				func() error {
					return tenant.StartSession(tx, id, "new-cookie", "sub-1", nil, now, now, tenant.SessionTTL)
				},
				func() error { return putFamily(tx, id, "sub-1", "OLD", past) },
				func() error { return putFamily(tx, id, "sub-1", "NEW", future) },
				func() error {
					return tenant.PutExpiring(tx, tenant.CollAccessTokens, id, "at:old", record("sub-1", past), past)
				},
				func() error {
					return tenant.PutExpiring(tx, tenant.CollAccessTokens, id, "at:new", record("sub-1", future), future)
				},
				// Expires this very moment: gone, as the full scan has it.
				func() error {
					return tenant.PutExpiring(tx, tenant.CollAuthFlows, id, "flow-now", record("sub-1", now), now)
				},
				func() error {
					return tenant.PutExpiring(tx, tenant.CollAuthFlows, id, "flow-soon", record("sub-1", now.Add(time.Nanosecond)), now.Add(time.Nanosecond))
				},
			}
			for _, step := range steps {
				if err := step(); err != nil {
					return err
				}
			}
		}
		return nil
	})

	n, err := tenant.SweepExpired(t.Context(), store, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2*5 { // a session, a family, its refresh token, an access token, a flow
		t.Errorf("SweepExpired deleted %d records, want 10", n)
	}
	newSession := tenant.HashSecret("new-cookie")
	want := []string{
		"access_tokens/at:new",
		"refresh_tokens/fam:NEW", "refresh_tokens/rt:NEW-token", "refresh_tokens/usr:sub-1:NEW",
		"sessions/s:" + newSession, "sessions/u:sub-1:" + newSession,
		"auth_flows/flow-soon",
	}
	for _, id := range []string{"acme", "beta"} {
		got, entries := contents(t, store, id)
		if !equalSets(got, want) {
			t.Errorf("%s keeps %q, want %q", id, got, want)
		}
		if entries != 5 { // one per live record with an expiry
			t.Errorf("%s keeps %d expiry entries, want 5", id, entries)
		}
	}
	if n, err := tenant.SweepExpired(t.Context(), store, now); err != nil || n != 0 {
		t.Errorf("second sweep = %d, %v; want nothing to do", n, err)
	}
}

func equalSets(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// The index is a hint: a record rewritten with a later expiry outlives the
// entry of its first expiry, and one deleted early leaves an entry that
// the sweep drops without complaint.
func TestSweepExpiredTreatsTheIndexAsAHint(t *testing.T) {
	store := openStore(t)
	ctx := t.Context()
	first, later := sweepEpoch.Add(time.Hour), sweepEpoch.Add(3*time.Hour)
	mustUpdate(t, store, func(tx tenant.Tx) error {
		if err := tenant.PutTenant(tx, tenant.Tenant{Slug: "acme"}); err != nil {
			return err
		}
		if err := tenant.StartSession(tx, "acme", "logged-out", "sub-1", nil, sweepEpoch, sweepEpoch, time.Hour); err != nil {
			return err
		}
		if err := tenant.PutExpiring(tx, tenant.CollRefreshTokens, "acme", "fam:F", record("sub-1", first), first); err != nil {
			return err
		}
		if err := tx.Put(tenant.CollRefreshTokens, "acme", "usr:sub-1:F", []byte{}); err != nil {
			return err
		}
		return tenant.PutExpiring(tx, tenant.CollRefreshTokens, "acme", "fam:F", record("sub-1", later), later)
	})
	mustUpdate(t, store, func(tx tenant.Tx) error { return tenant.EndSession(tx, "acme", "logged-out") })

	n, err := tenant.SweepExpired(ctx, store, sweepEpoch.Add(2*time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("sweep between the expiries = %d, %v; want nothing deleted", n, err)
	}
	keys, entries := contents(t, store, "acme")
	if want := []string{"refresh_tokens/fam:F", "refresh_tokens/usr:sub-1:F"}; !equalSets(keys, want) || entries != 1 {
		t.Fatalf("after the first sweep: %q and %d expiry entries; want %q and 1 (the later expiry's)", keys, entries, want)
	}
	if n, err := tenant.SweepExpired(ctx, store, later); err != nil || n != 1 {
		t.Fatalf("sweep at the later expiry = %d, %v; want the family deleted", n, err)
	}
	if keys, entries := contents(t, store, "acme"); len(keys) != 0 || entries != 0 {
		t.Fatalf("after the last sweep: %q and %d expiry entries; want nothing", keys, entries)
	}
}

// Records written before the expiry index existed have no entry: the
// minute's sweep does not see them, the full scan deletes the expired ones
// with what they own, removes per-user entries whose record is gone, and
// indexes the live ones for the minute's sweep to find later.
func TestSweepExpiredFullFindsUnindexedRecords(t *testing.T) {
	store := openStore(t)
	ctx := t.Context()
	now := sweepEpoch.Add(2 * time.Hour)
	live := now.Add(time.Hour)
	mustUpdate(t, store, func(tx tenant.Tx) error {
		steps := []struct {
			c     tenant.Collection
			key   string
			value any
		}{
			{tenant.CollSessions, "s:OLD", record("sub-1", sweepEpoch.Add(time.Hour))},
			{tenant.CollSessions, "u:sub-1:OLD", nil},
			{tenant.CollSessions, "u:sub-1:SWEPT-BY-AN-OLDER-VERSION", nil},
			{tenant.CollSessions, "s:LIVE", record("sub-1", live)},
			{tenant.CollSessions, "u:sub-1:LIVE", nil},
			{tenant.CollSessions, "console:X", map[string]any{"expires_at": live}},
			{tenant.CollRefreshTokens, "fam:OLD", record("sub-1", sweepEpoch.Add(time.Hour))},
			{tenant.CollRefreshTokens, "usr:sub-1:OLD", nil},
			{tenant.CollRefreshTokens, "usr:sub-2:GONE", nil},
			{tenant.CollAccessTokens, "at:OLD", record("sub-1", sweepEpoch)},
			{tenant.CollAuthFlows, "flow", record("", sweepEpoch)},
		}
		if err := tenant.PutTenant(tx, tenant.Tenant{Slug: "acme"}); err != nil {
			return err
		}
		for _, s := range steps {
			if s.value == nil {
				if err := tx.Put(s.c, "acme", s.key, []byte{}); err != nil {
					return err
				}
			} else if err := tenant.PutJSON(tx, s.c, "acme", s.key, s.value); err != nil {
				return err
			}
		}
		return nil
	})

	if n, err := tenant.SweepExpired(ctx, store, now); err != nil || n != 0 {
		t.Fatalf("SweepExpired = %d, %v; want nothing, as nothing is indexed", n, err)
	}
	n, err := tenant.SweepExpiredFull(ctx, store, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 { // s:OLD, fam:OLD, at:OLD, flow and two orphans
		t.Errorf("SweepExpiredFull deleted %d, want 6", n)
	}
	keys, entries := contents(t, store, "acme")
	if want := []string{"sessions/s:LIVE", "sessions/u:sub-1:LIVE", "sessions/console:X"}; !equalSets(keys, want) || entries != 2 {
		t.Fatalf("after the full scan: %q and %d expiry entries; want %q and 2", keys, entries, want)
	}
	if n, err := tenant.SweepExpired(ctx, store, live); err != nil || n != 2 {
		t.Fatalf("SweepExpired once the rest expired = %d, %v; want the two records it now knows of", n, err)
	}
	if keys, entries := contents(t, store, "acme"); len(keys) != 0 || entries != 0 {
		t.Fatalf("at the end: %q and %d expiry entries; want nothing", keys, entries)
	}
}

// Both sweeps work through more than one transaction's worth.
func TestSweepsPastOneBatch(t *testing.T) {
	const expired = 2500
	for _, full := range []bool{false, true} {
		t.Run(map[bool]string{false: "index", true: "full"}[full], func(t *testing.T) {
			store := openStore(t)
			mustUpdate(t, store, func(tx tenant.Tx) error {
				if err := tenant.PutTenant(tx, tenant.Tenant{Slug: "acme"}); err != nil {
					return err
				}
				for i := range expired {
					at := sweepEpoch.Add(time.Duration(i) * time.Second)
					if err := tenant.PutExpiring(tx, tenant.CollAccessTokens, "acme", fmt.Sprintf("at:%05d", i), record("sub", at), at); err != nil {
						return err
					}
				}
				return nil
			})
			sweep := tenant.SweepExpired
			if full {
				sweep = tenant.SweepExpiredFull
			}
			n, err := sweep(t.Context(), store, sweepEpoch.Add(24*time.Hour))
			if err != nil || n != expired {
				t.Fatalf("sweep = %d, %v; want %d", n, err, expired)
			}
			if keys, entries := contents(t, store, "acme"); len(keys) != 0 || entries != 0 {
				t.Fatalf("left %d records and %d expiry entries", len(keys), entries)
			}
		})
	}
}

// countingStore counts the write transactions that commit through it.
type countingStore struct {
	tenant.Store
	updates int
}

func (s *countingStore) Update(ctx context.Context, fn func(tenant.Tx) error) error {
	s.updates++
	return s.Store.Update(ctx, fn)
}

// The rate-limit windows of a flood from many addresses go in transactions
// of at most a thousand deletions, like the other sweeps, so the clean-up
// never holds the store's one writer for long.
func TestSweepOnboardingInBatches(t *testing.T) {
	store := &countingStore{Store: openStore(t)}
	ctx := context.Background()
	svc := &tenant.Service{Store: store, Now: func() time.Time { return sweepEpoch }}
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	const windows = 2500
	err := store.Update(ctx, func(tx tenant.Tx) error {
		for i := range windows {
			w := map[string]any{"hits": []time.Time{sweepEpoch}, "expires_at": sweepEpoch.Add(time.Hour)}
			if err := tenant.PutJSON(tx, tenant.CollRateLimits, "acme", fmt.Sprintf("reset-ip/198.51.%d.%d", i/256, i%256), w); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	store.updates = 0
	n, err := tenant.SweepOnboarding(ctx, store, sweepEpoch.Add(2*time.Hour))
	if err != nil || n != windows {
		t.Fatalf("swept %d, %v; want %d", n, err, windows)
	}
	if store.updates != 3 {
		t.Errorf("%d write transactions for %d windows, want 3 of at most 1000", store.updates, windows)
	}
}

// Lockout counters (tenant/auth's failureCounter: failures, first_at,
// locked_until, expires_at) go once they mean nothing: their window (the
// lock duration from first_at) and their lock have both ended. Counters
// written before they had an expires_at go too: the start-up upgrade
// gives them one from the tenant's lock duration (15 minutes here), and
// the sweeps delete them as any other.
func TestSweepLockoutCounters(t *testing.T) {
	now := sweepEpoch.Add(2 * time.Hour) // whole seconds, as is the index
	counter := func(firstAt, lockedUntil, expiresAt time.Time) map[string]any {
		c := map[string]any{"failures": 2, "first_at": firstAt}
		if !lockedUntil.IsZero() {
			c["failures"], c["locked_until"] = 0, lockedUntil
		}
		if !expiresAt.IsZero() {
			c["expires_at"] = expiresAt
		}
		return c
	}
	var none time.Time
	tests := []struct {
		name   string
		record map[string]any
		// endsAt is when the counter is to be gone: not a moment
		// before, from the sweep at now on.
		endsAt time.Time
	}{
		{"window ended", counter(now.Add(-20*time.Minute), none, now.Add(-5*time.Minute)), now.Add(-5 * time.Minute)},
		{"window ends now", counter(now.Add(-15*time.Minute), none, now), now},
		{"lock ended", counter(now.Add(-16*time.Minute), now.Add(-time.Minute), now.Add(-time.Minute)), now.Add(-time.Minute)},
		{"window live", counter(now.Add(-10*time.Minute), none, now.Add(5*time.Minute)), now.Add(5 * time.Minute)},
		{"lock live", counter(now.Add(-14*time.Minute), now.Add(time.Minute), now.Add(time.Minute)), now.Add(time.Minute)},
		// Locked for an hour, by the policy of the time; the lock
		// duration is 15 minutes now, and the lock holds all the same.
		{"lock live past today's lock duration", counter(now.Add(-30*time.Minute), now.Add(30*time.Minute), now.Add(30*time.Minute)), now.Add(30 * time.Minute)},
		{"old format, window ended", counter(now.Add(-20*time.Minute), none, none), now.Add(-5 * time.Minute)},
		{"old format, lock ended", counter(now.Add(-16*time.Minute), now.Add(-time.Minute), none), now.Add(-time.Minute)},
		{"old format, window live", counter(now.Add(-10*time.Minute), none, none), now.Add(5 * time.Minute)},
		{"old format, lock live past today's lock duration", counter(now.Add(-30*time.Minute), now.Add(30*time.Minute), none), now.Add(30 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := openStore(t)
			ctx := t.Context()
			mustUpdate(t, store, func(tx tenant.Tx) error {
				if err := tenant.PutTenant(tx, tenant.Tenant{Slug: "acme"}); err != nil {
					return err
				}
				if at, ok := tt.record["expires_at"].(time.Time); ok {
					return tenant.PutExpiring(tx, tenant.CollLockouts, "acme", "login:ghost", tt.record, at)
				}
				return tenant.PutJSON(tx, tenant.CollLockouts, "acme", "login:ghost", tt.record)
			})
			left := func() bool {
				t.Helper()
				var keys []string
				err := store.View(ctx, func(tx tenant.Tx) error {
					return tx.Scan(tenant.CollLockouts, "acme", "", "", func(key string, _ []byte) bool { keys = append(keys, key); return true })
				})
				if err != nil {
					t.Fatal(err)
				}
				return len(keys) > 0
			}
			// As at start-up: the upgrade, the full scan, then the
			// minute's sweep.
			_, hasExpiry := tt.record["expires_at"]
			for run, want := range []int{map[bool]int{false: 1, true: 0}[hasExpiry], 0} { // a second start finds nothing to do
				if n, err := tenant.UpgradeLockoutCounters(ctx, store); err != nil || n != want {
					t.Fatalf("upgrade %d: %d counters, %v; want %d", run+1, n, err, want)
				}
			}
			// The upgrade keeps what the counter had, and adds when it ends.
			type stored struct {
				Failures    int       `json:"failures"`
				FirstAt     time.Time `json:"first_at"`
				LockedUntil time.Time `json:"locked_until"`
				ExpiresAt   time.Time `json:"expires_at"`
			}
			var got stored
			err := store.View(ctx, func(tx tenant.Tx) (err error) {
				got, err = tenant.GetJSON[stored](tx, tenant.CollLockouts, "acme", "login:ghost")
				return err
			})
			if lockedUntil, _ := tt.record["locked_until"].(time.Time); err != nil || got.Failures != tt.record["failures"] ||
				!got.FirstAt.Equal(tt.record["first_at"].(time.Time)) || !got.LockedUntil.Equal(lockedUntil) || !got.ExpiresAt.Equal(tt.endsAt) {
				t.Fatalf("the counter after the upgrade: %+v, %v; want %v, expiring at %v", got, err, tt.record, tt.endsAt)
			}
			if _, err := tenant.SweepExpiredFull(ctx, store, now); err != nil {
				t.Fatal(err)
			}
			if _, err := tenant.SweepExpired(ctx, store, now); err != nil {
				t.Fatal(err)
			}
			if want := now.Before(tt.endsAt); left() != want {
				t.Fatalf("after the sweeps at now: counter left %v, want %v", !want, want)
			}
			if !now.Before(tt.endsAt) {
				return
			}
			// From then on only the minute's sweep runs.
			if _, err := tenant.SweepExpired(ctx, store, tt.endsAt.Add(-time.Nanosecond)); err != nil {
				t.Fatal(err)
			}
			if !left() {
				t.Fatal("the minute's sweep deleted the counter before it ended")
			}
			if _, err := tenant.SweepExpired(ctx, store, tt.endsAt); err != nil {
				t.Fatal(err)
			}
			if left() {
				t.Fatal("the minute's sweep left the counter once it ended")
			}
			if _, entries := contents(t, store, "acme"); entries != 0 {
				t.Errorf("%d expiry entries left, want none", entries)
			}
		})
	}
}

// The upgrade runs at every start, not once: an older build run on the
// same data file in between writes counters without an expiry again, and
// those must not stay for ever. The marker by which builds of 2026-11-30
// skipped it is dropped.
func TestLockoutUpgradeAfterAnOlderBuildRan(t *testing.T) {
	store := openStore(t)
	ctx := t.Context()
	firstAt := sweepEpoch.Add(time.Hour)
	mustUpdate(t, store, func(tx tenant.Tx) error {
		if err := tenant.PutTenant(tx, tenant.Tenant{Slug: "acme"}); err != nil {
			return err
		}
		return tx.Put(tenant.CollLockouts, "", "\x00expiry", []byte{}) // the old marker
	})
	// What an older build writes: a counter with no expires_at.
	writeOld := func(key string) {
		mustUpdate(t, store, func(tx tenant.Tx) error {
			return tenant.PutJSON(tx, tenant.CollLockouts, "acme", key, map[string]any{"failures": 1, "first_at": firstAt})
		})
	}
	writeOld("login:ghost")
	for start, want := range []int{1, 0} {
		if n, err := tenant.UpgradeLockoutCounters(ctx, store); err != nil || n != want {
			t.Fatalf("start %d: %d counters given an expiry, %v; want %d", start+1, n, err, want)
		}
	}
	err := store.View(ctx, func(tx tenant.Tx) error {
		if _, err := tx.Get(tenant.CollLockouts, "", "\x00expiry"); !errors.Is(err, tenant.ErrNotFound) {
			t.Errorf("the old marker after the upgrade: %v; want it gone", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The older build runs again and writes two counters.
	writeOld("login:ghost")
	writeOld("login:other")
	if n, err := tenant.UpgradeLockoutCounters(ctx, store); err != nil || n != 2 {
		t.Fatalf("the start after an older build ran: %d counters given an expiry, %v; want 2", n, err)
	}
	if _, err := tenant.SweepExpiredFull(ctx, store, firstAt.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var left []string
	err = store.View(ctx, func(tx tenant.Tx) error {
		return tx.Scan(tenant.CollLockouts, "acme", "", "", func(key string, _ []byte) bool { left = append(left, key); return true })
	})
	if err != nil || len(left) != 0 {
		t.Errorf("counters left after they ended: %q, %v; want none", left, err)
	}
}
