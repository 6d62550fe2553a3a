// Package storetest is the conformance suite every tenant.Store backend
// passes. Backends call Run from their own tests with a function that opens
// a fresh, empty store.
package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// Run runs the whole suite against stores made by open.
func Run(t *testing.T, open func(t *testing.T) tenant.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s tenant.Store)
	}{
		{"GetMissing", testGetMissing},
		{"PutGetDelete", testPutGetDelete},
		{"ScanOrderPrefixAfter", testScan},
		{"TenantsAreSeparate", testTenantsSeparate},
		{"RollbackOnError", testRollback},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"BatchIsDurable", testBatch},
		{"DeleteTenant", testDeleteTenant},
		{"ValuesAreCopies", testValuesAreCopies},
		{"LaterCommitsWithNextUpdate", testLaterCommitsWithNextUpdate},
		{"LaterCommitsByItself", testLaterCommitsByItself},
		{"LaterOutlivesFailedUpdate", testLaterOutlivesFailedUpdate},
		{"LaterFailureIsReported", testLaterFailureIsReported},
		{"LaterPanicIsReported", testLaterPanicIsReported},
		{"LaterKeepsOrder", testLaterKeepsOrder},
		{"FlushWaitsForWritesInFlight", testFlushWaitsForWritesInFlight},
		{"LaterAfterCloseFails", testLaterAfterCloseFails},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
}

func mustUpdate(t *testing.T, s tenant.Store, fn func(tx tenant.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func get(t *testing.T, s tenant.Store, c tenant.Collection, tid, key string) ([]byte, error) {
	t.Helper()
	var v []byte
	err := s.View(t.Context(), func(tx tenant.Tx) (err error) {
		v, err = tx.Get(c, tid, key)
		return err
	})
	return v, err
}

func testGetMissing(t *testing.T, s tenant.Store) {
	if _, err := get(t, s, tenant.CollUsers, "acme", "nobody"); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("Get of a missing key: got %v, want ErrNotFound", err)
	}
}

func testPutGetDelete(t *testing.T, s tenant.Store) {
	mustUpdate(t, s, func(tx tenant.Tx) error { return tx.Put(tenant.CollUsers, "acme", "k", []byte("v1")) })
	if v, err := get(t, s, tenant.CollUsers, "acme", "k"); err != nil || string(v) != "v1" {
		t.Fatalf("Get = %q, %v; want v1", v, err)
	}
	mustUpdate(t, s, func(tx tenant.Tx) error { return tx.Put(tenant.CollUsers, "acme", "k", []byte("v2")) })
	if v, _ := get(t, s, tenant.CollUsers, "acme", "k"); string(v) != "v2" {
		t.Fatalf("after overwrite Get = %q, want v2", v)
	}
	mustUpdate(t, s, func(tx tenant.Tx) error { return tx.Delete(tenant.CollUsers, "acme", "k") })
	if _, err := get(t, s, tenant.CollUsers, "acme", "k"); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("after Delete: %v, want ErrNotFound", err)
	}
	mustUpdate(t, s, func(tx tenant.Tx) error { return tx.Delete(tenant.CollUsers, "acme", "never-there") })
}

func testScan(t *testing.T, s tenant.Store) {
	mustUpdate(t, s, func(tx tenant.Tx) error {
		for _, k := range []string{"b2", "a1", "b1", "b3", "c1"} {
			if err := tx.Put(tenant.CollUsers, "acme", k, []byte("v-"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		prefix, after string
		limit         int
		want          string
	}{
		{"", "", 0, "[a1 b1 b2 b3 c1]"},
		{"b", "", 0, "[b1 b2 b3]"},
		{"b", "b1", 0, "[b2 b3]"},
		{"", "b2", 0, "[b3 c1]"},
		{"", "", 2, "[a1 b1]"},
		{"z", "", 0, "[]"},
		{"b", "b3", 0, "[]"},
	}
	for _, tc := range tests {
		var keys []string
		err := s.View(t.Context(), func(tx tenant.Tx) error {
			return tx.Scan(tenant.CollUsers, "acme", tc.prefix, tc.after, func(k string, v []byte) bool {
				if string(v) != "v-"+k {
					t.Errorf("value of %s = %q", k, v)
				}
				keys = append(keys, k)
				return tc.limit == 0 || len(keys) < tc.limit
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(keys); got != tc.want {
			t.Errorf("Scan(prefix %q, after %q) = %s, want %s", tc.prefix, tc.after, got, tc.want)
		}
	}
}

func testTenantsSeparate(t *testing.T, s tenant.Store) {
	mustUpdate(t, s, func(tx tenant.Tx) error { return tx.Put(tenant.CollUsers, "acme", "k", []byte("acme")) })
	if _, err := get(t, s, tenant.CollUsers, "globex", "k"); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("tenant globex sees acme's record: %v", err)
	}
	if _, err := get(t, s, tenant.CollClients, "acme", "k"); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("collection clients sees a users record: %v", err)
	}
}

func testRollback(t *testing.T, s tenant.Store) {
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(tx tenant.Tx) error {
		if err := tx.Put(tenant.CollUsers, "acme", "half", []byte("written")); err != nil {
			return err
		}
		return fmt.Errorf("later step: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the closure's error", err)
	}
	if _, err := get(t, s, tenant.CollUsers, "acme", "half"); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("a failed transaction left a record behind: %v", err)
	}
}

// testConcurrentUpdates increments one counter from many goroutines; a lost
// update would show as a smaller total.
func testConcurrentUpdates(t *testing.T, s tenant.Store) {
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				err := s.Update(t.Context(), func(tx tenant.Tx) error {
					v, err := tx.Get(tenant.CollLockouts, "acme", "n")
					n := 0
					if err == nil {
						fmt.Sscan(string(v), &n)
					} else if !errors.Is(err, tenant.ErrNotFound) {
						return err
					}
					return tx.Put(tenant.CollLockouts, "acme", "n", []byte(fmt.Sprint(n+1)))
				})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	v, err := get(t, s, tenant.CollLockouts, "acme", "n")
	if err != nil || string(v) != fmt.Sprint(workers*each) {
		t.Fatalf("counter = %q, %v; want %d", v, err, workers*each)
	}
}

func testBatch(t *testing.T, s tenant.Store) {
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			err := s.Batch(t.Context(), func(tx tenant.Tx) error {
				return tx.Put(tenant.CollAudit, "acme", fmt.Sprintf("e%02d", i), []byte("x"))
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	_ = s.View(t.Context(), func(tx tenant.Tx) error {
		return tx.Scan(tenant.CollAudit, "acme", "", "", func(string, []byte) bool { n++; return true })
	})
	if n != 20 {
		t.Fatalf("batched writes stored %d records, want 20", n)
	}
}

func testDeleteTenant(t *testing.T, s tenant.Store) {
	mustUpdate(t, s, func(tx tenant.Tx) error {
		for _, tid := range []string{"acme", "globex"} {
			for _, c := range []tenant.Collection{tenant.CollUsers, tenant.CollClients} {
				if err := tx.Put(c, tid, "k", []byte(tid)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	mustUpdate(t, s, func(tx tenant.Tx) error { return tx.DeleteTenant("acme") })
	for _, c := range []tenant.Collection{tenant.CollUsers, tenant.CollClients} {
		if _, err := get(t, s, c, "acme", "k"); !errors.Is(err, tenant.ErrNotFound) {
			t.Errorf("%s of a deleted tenant: %v", c, err)
		}
		if v, err := get(t, s, c, "globex", "k"); err != nil || string(v) != "globex" {
			t.Errorf("%s of another tenant after delete: %q, %v", c, v, err)
		}
	}
	mustUpdate(t, s, func(tx tenant.Tx) error { return tx.DeleteTenant("never-there") })
}

func testValuesAreCopies(t *testing.T, s tenant.Store) {
	buf := []byte("original")
	mustUpdate(t, s, func(tx tenant.Tx) error { return tx.Put(tenant.CollUsers, "acme", "k", buf) })
	copy(buf, "CHANGED!")
	v, _ := get(t, s, tenant.CollUsers, "acme", "k")
	if string(v) != "original" {
		t.Fatalf("the store kept the caller's buffer: %q", v)
	}
}

// putLater queues a write of value under key in the audit collection.
func putLater(s tenant.Store, key, value string, failed func(error)) {
	s.Later(func(tx tenant.Tx) error { return tx.Put(tenant.CollAudit, "acme", key, []byte(value)) }, failed)
}

// wantValue fails the test unless key holds want ("" for no record).
func wantValue(t *testing.T, s tenant.Store, key, want string) {
	t.Helper()
	v, err := get(t, s, tenant.CollAudit, "acme", key)
	if want == "" {
		if !errors.Is(err, tenant.ErrNotFound) {
			t.Fatalf("%s = %q, %v; want no record", key, v, err)
		}
		return
	}
	if err != nil || string(v) != want {
		t.Fatalf("%s = %q, %v; want %q", key, v, err, want)
	}
}

func failOnCall(t *testing.T) func(error) {
	return func(err error) { t.Errorf("failed called: %v", err) }
}

func testLaterCommitsWithNextUpdate(t *testing.T, s tenant.Store) {
	putLater(s, "queued", "1", failOnCall(t))
	mustUpdate(t, s, func(tx tenant.Tx) error { return tx.Put(tenant.CollAudit, "acme", "direct", []byte("2")) })
	wantValue(t, s, "queued", "1")
	wantValue(t, s, "direct", "2")
}

func testLaterCommitsByItself(t *testing.T, s tenant.Store) {
	putLater(s, "queued", "1", failOnCall(t))
	deadline := time.Now().Add(20 * tenant.LaterDelay)
	for {
		if _, err := get(t, s, tenant.CollAudit, "acme", "queued"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a queued write was not committed within %v with no Update to carry it", 20*tenant.LaterDelay)
		}
		time.Sleep(tenant.LaterDelay / 5)
	}
}

func testLaterOutlivesFailedUpdate(t *testing.T, s tenant.Store) {
	putLater(s, "queued", "1", failOnCall(t))
	errRefused := errors.New("refused")
	err := s.Update(t.Context(), func(tx tenant.Tx) error {
		if err := tx.Put(tenant.CollAudit, "acme", "direct", []byte("2")); err != nil {
			return err
		}
		return errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Fatalf("Update = %v, want its own error", err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "queued", "1")
	wantValue(t, s, "direct", "")
}

// reportedOnce waits for the one error a queued write's failed gets. It
// may come from the store's own goroutine (LaterDelay passed before the
// Update began), and after the Update that carried the other writes
// returned: failed is called once the transaction that ran the write has
// ended.
func reportedOnce(t *testing.T, s tenant.Store, reported <-chan error) error {
	t.Helper()
	select {
	case err := <-reported:
		// Whatever else was queued is done once Flush returns: a second
		// report, from the timer's goroutine too, has come by then.
		if err := s.Flush(t.Context()); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		select {
		case again := <-reported:
			t.Fatalf("failed called twice: %v, then %v", err, again)
		default:
		}
		return err
	case <-time.After(20 * tenant.LaterDelay):
		t.Fatalf("failed was not called within %v", 20*tenant.LaterDelay)
		return nil
	}
}

func testLaterFailureIsReported(t *testing.T, s tenant.Store) {
	errBroken := errors.New("broken write")
	reported := make(chan error, 2)
	putLater(s, "before", "1", failOnCall(t))
	s.Later(func(tx tenant.Tx) error {
		if err := tx.Put(tenant.CollAudit, "acme", "broken", []byte("x")); err != nil {
			return err
		}
		return errBroken
	}, func(err error) {
		select { // a third report must fail the test, not hang the store
		case reported <- err:
		default:
		}
	})
	putLater(s, "after", "3", failOnCall(t))
	mustUpdate(t, s, func(tx tenant.Tx) error { return tx.Put(tenant.CollAudit, "acme", "direct", []byte("4")) })
	if err := reportedOnce(t, s, reported); !errors.Is(err, errBroken) {
		t.Fatalf("failed got %v, want the broken write's error", err)
	}
	wantValue(t, s, "before", "1")
	wantValue(t, s, "broken", "")
	wantValue(t, s, "after", "3")
	wantValue(t, s, "direct", "4")
}

// testLaterPanicIsReported: a queued write that panics fails as one that
// returns an error does, and neither the writes queued with it nor the
// Update that carries them suffer.
func testLaterPanicIsReported(t *testing.T, s tenant.Store) {
	reported := make(chan error, 2)
	putLater(s, "before", "1", failOnCall(t))
	s.Later(func(tx tenant.Tx) error {
		if err := tx.Put(tenant.CollAudit, "acme", "broken", []byte("x")); err != nil {
			return err
		}
		panic("a bug in a queued write")
	}, func(err error) {
		select { // a third report must fail the test, not hang the store
		case reported <- err:
		default:
		}
	})
	putLater(s, "after", "3", failOnCall(t))
	mustUpdate(t, s, func(tx tenant.Tx) error { return tx.Put(tenant.CollAudit, "acme", "direct", []byte("4")) })
	if err := reportedOnce(t, s, reported); err == nil || !strings.Contains(err.Error(), "a bug in a queued write") {
		t.Fatalf("failed got %v, want the panic", err)
	}
	wantValue(t, s, "before", "1")
	wantValue(t, s, "broken", "")
	wantValue(t, s, "after", "3")
	wantValue(t, s, "direct", "4")
}

func testLaterKeepsOrder(t *testing.T, s tenant.Store) {
	for _, v := range []string{"a", "b", "c"} {
		putLater(s, "k", v, failOnCall(t))
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "k", "c")
}

// testFlushWaitsForWritesInFlight calls Flush while an Update holds queued
// writes it took and has not committed: Flush returns only once they are
// visible, or a reader that flushed (a session cookie not found) still
// misses them. That Update commits them, or, when fn fails or a queued
// write before them fails, gives them back to be committed without it.
func testFlushWaitsForWritesInFlight(t *testing.T, s tenant.Store) {
	errRefused := errors.New("refused")
	tests := []struct {
		name string
		// queue queues the writes, the last under key; hold is the
		// queued write or fn that blocks while Flush runs.
		queue func(key string, hold func())
		fn    func(hold func()) func(tenant.Tx) error
	}{
		{
			name:  "Update commits",
			queue: func(key string, _ func()) { putLater(s, key, "1", failOnCall(t)) },
			fn: func(hold func()) func(tenant.Tx) error {
				return func(tenant.Tx) error { hold(); return nil }
			},
		},
		{
			name:  "Update fails",
			queue: func(key string, _ func()) { putLater(s, key, "1", failOnCall(t)) },
			fn: func(hold func()) func(tenant.Tx) error {
				return func(tenant.Tx) error { hold(); return errRefused }
			},
		},
		{
			// The write before the broken one blocks when it runs again,
			// after the broken one was dropped.
			name: "a queued write fails",
			queue: func(key string, hold func()) {
				runs := 0
				s.Later(func(tx tenant.Tx) error {
					if runs++; runs > 1 {
						hold()
					}
					return tx.Put(tenant.CollAudit, "acme", key+"-first", []byte("1"))
				}, failOnCall(t))
				s.Later(func(tenant.Tx) error { return errRefused }, func(error) {})
				putLater(s, key, "1", failOnCall(t))
			},
			fn: func(func()) func(tenant.Tx) error { return func(tenant.Tx) error { return nil } },
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("in-flight-%d", i)
			held, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			hold := func() {
				once.Do(func() {
					close(held)
					<-release
				})
			}
			tc.queue(key, hold)
			updated := make(chan error, 1)
			go func() { updated <- s.Update(t.Context(), tc.fn(hold)) }()
			select {
			case <-held:
			case err := <-updated:
				t.Fatalf("Update returned %v before the write it holds ran", err)
			}
			flushed := make(chan error, 1)
			go func() {
				err := s.Flush(t.Context())
				if err == nil {
					_, err = get(t, s, tenant.CollAudit, "acme", key)
				}
				flushed <- err
			}()
			// Flush must wait for the Update; give it time to return early.
			select {
			case err := <-flushed:
				close(release)
				<-updated
				t.Fatalf("Flush returned while an Update held the queued writes; then reading one gave %v", err)
			case <-time.After(2 * tenant.LaterDelay):
			}
			close(release)
			<-updated
			if err := <-flushed; err != nil {
				t.Fatalf("after Flush the queued write reads %v", err)
			}
		})
	}
}

// testLaterAfterCloseFails queues a write once the store is closed: it can
// never commit, so its failed must hear of it rather than the write vanish.
func testLaterAfterCloseFails(t *testing.T, s tenant.Store) {
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	reported := make(chan error, 1)
	putLater(s, "too-late", "1", func(err error) { reported <- err })
	select {
	case err := <-reported:
		if err == nil {
			t.Fatal("failed was called with a nil error")
		}
	case <-time.After(20 * tenant.LaterDelay):
		t.Fatalf("a write queued after Close was neither committed nor reported failed within %v", 20*tenant.LaterDelay)
	}
}
