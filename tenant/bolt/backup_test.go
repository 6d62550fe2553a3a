package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// slowWriter takes bytes as a slow network does: a pause for every 16
// KiB, so that writers commit many times while a backup is sent.
type slowWriter struct{ w io.Writer }

func (s slowWriter) Write(p []byte) (int, error) {
	time.Sleep(time.Duration(1+len(p)/(16<<10)) * 200 * time.Microsecond)
	return s.w.Write(p)
}

// backupTo writes s's backup to a new file, slowly, and returns its path.
func backupTo(t *testing.T, s *bolt.Store) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = s.Backup(t.Context(), func(size int64, file io.WriterTo) error {
		n, err := file.WriteTo(slowWriter{f})
		if err == nil && n != size {
			err = fmt.Errorf("wrote %d bytes, the size was %d", n, size)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A backup taken while many goroutines write (puts, deletes, grouped
// commits) is one commit's file: it opens as `cognate serve` opens its
// data file (bolt.Open), passes bbolt's check of every page, and holds
// everything committed before the backup began, and what Later queued
// before it. A plain copy of the file under the same load does not (the
// scale test's `cp` gave "invalid freelist page … page type is leaf").
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cognate.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Committed before: enough records for a tree several pages deep.
	value := bytes.Repeat([]byte("v"), 400)
	const before = 2000
	for start := 0; start < before; start += 500 {
		err := s.Update(ctx, func(tx tenant.Tx) error {
			for i := start; i < start+500; i++ {
				if err := tx.Put(tenant.CollUsers, "acme", fmt.Sprintf("before-%05d", i), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// Writers: each puts records of random sizes under random keys and
	// deletes some again, so that pages split, merge and are freed.
	stop := make(chan struct{})
	var writers sync.WaitGroup
	var commits atomic.Int64
	for w := range 16 {
		writers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%02d-%08x", w, rng.Uint32())
				write := s.Update
				if i%2 == 1 {
					write = s.Batch
				}
				err := write(ctx, func(tx tenant.Tx) error {
					if err := tx.Put(tenant.CollSessions, "acme", key, bytes.Repeat([]byte("s"), 50+rng.IntN(3000))); err != nil {
						return err
					}
					if i%3 == 0 {
						return tx.Delete(tenant.CollSessions, "acme", fmt.Sprintf("w%02d-%08x", w, rng.Uint32()))
					}
					return nil
				})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				commits.Add(1)
			}
		})
	}
	defer func() {
		close(stop)
		writers.Wait()
	}()
	waitForCommits := func(n int64) {
		for start := commits.Load(); commits.Load() < start+n; {
			if t.Failed() {
				t.FailNow()
			}
			time.Sleep(time.Millisecond)
		}
	}

	for round := range 3 {
		waitForCommits(200)
		// Committed, and queued, before the backup began.
		key := fmt.Sprintf("round-%d", round)
		if err := s.Update(ctx, func(tx tenant.Tx) error { return tx.Put(tenant.CollUsers, "acme", key, value) }); err != nil {
			t.Fatal(err)
		}
		s.Later(func(tx tenant.Tx) error { return tx.Put(tenant.CollSessions, "acme", key+"-later", value) },
			func(err error) { t.Errorf("queued write failed: %v", err) })

		copyPath := backupTo(t, s)
		if err := bolt.CheckCopy(copyPath); err != nil {
			t.Fatalf("round %d: the backup fails the check: %v", round, err)
		}
		c, err := bolt.Open(copyPath)
		if err != nil {
			t.Fatalf("round %d: the backup does not open as a data file: %v", round, err)
		}
		err = c.View(ctx, func(tx tenant.Tx) error {
			var missing []string
			for i := range before {
				if _, err := tx.Get(tenant.CollUsers, "acme", fmt.Sprintf("before-%05d", i)); err != nil {
					missing = append(missing, fmt.Sprint(i))
				}
			}
			if _, err := tx.Get(tenant.CollUsers, "acme", key); err != nil {
				missing = append(missing, key)
			}
			if _, err := tx.Get(tenant.CollSessions, "acme", key+"-later"); err != nil {
				missing = append(missing, key+"-later")
			}
			if len(missing) > 0 {
				return fmt.Errorf("the backup lacks %d records committed before it: %v", len(missing), missing[:min(len(missing), 10)])
			}
			return nil
		})
		if cerr := c.Close(); cerr != nil {
			t.Fatal(cerr)
		}
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}

// CheckCopy reads every page, so it finds a damaged page that opening
// does not read (a leaf in the middle of a collection), and says so in a
// *DamagedError; a whole copy passes, and a missing one is an error.
func TestCheckCopy(t *testing.T) {
	path, l := dataFile(t, 3000)
	if err := bolt.CheckCopy(path); err != nil {
		t.Fatalf("a whole file fails the check: %v", err)
	}
	// A leaf page that is no root: Open may not see it.
	var leaf int64
	roots := map[int64]bool{}
	for _, r := range l.roots {
		roots[r] = true
	}
	for id := int64(2); id < l.pages; id++ {
		if l.kinds[id] == "leaf" && !roots[id] {
			leaf = id
			break
		}
	}
	if leaf == 0 {
		t.Fatal("the test file has no leaf page to damage")
	}
	damagedPath := damagedCopy(t, path, func(b []byte) []byte {
		rng := rand.New(rand.NewPCG(uint64(leaf), 3))
		for i := leaf*l.pageSize + 16; i < (leaf+1)*l.pageSize; i++ {
			b[i] = byte(rng.Uint32())
		}
		return b
	})
	err := bolt.CheckCopy(damagedPath)
	var d *bolt.DamagedError
	if !errors.As(err, &d) {
		t.Fatalf("CheckCopy of a file with leaf page %d overwritten = %v, want a *bolt.DamagedError", leaf, err)
	}
	missing := filepath.Join(t.TempDir(), "missing.db")
	if err := bolt.CheckCopy(missing); err == nil {
		t.Error("CheckCopy of a missing file succeeded")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("CheckCopy made the missing file")
	}
}
