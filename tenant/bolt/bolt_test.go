package bolt_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) tenant.Store {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cognate.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := bolt.Open(path); err == nil {
		t.Fatal("a second Open of a file in use succeeded; bbolt allows one process per file")
	}
}

// A write queued with Later is in the file (not only in memory) once an
// Update that began after it returns: a copy of the file taken then, as a
// crash would leave it, holds both. And Close commits what is queued.
func TestLaterIsOnDiskWithTheNextUpdate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "cognate.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	put := func(key string) func(tenant.Tx) error {
		return func(tx tenant.Tx) error { return tx.Put(tenant.CollSessions, "acme", key, []byte("x")) }
	}
	failed := func(err error) { t.Errorf("queued write failed: %v", err) }

	s.Later(put("session"), failed)
	if err := s.Update(ctx, put("token")); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	snapshot := filepath.Join(dir, "snapshot.db")
	if err := os.WriteFile(snapshot, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s.Later(put("at-close"), failed)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		file string
		keys []string
	}{
		{snapshot, []string{"session", "token"}},
		{path, []string{"session", "token", "at-close"}},
	} {
		db, err := bolt.Open(c.file)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range c.keys {
			err := db.View(ctx, func(tx tenant.Tx) error {
				_, err := tx.Get(tenant.CollSessions, "acme", key)
				return err
			})
			if err != nil {
				t.Errorf("%s: %s: %v", filepath.Base(c.file), key, err)
			}
		}
		db.Close()
	}
}

// Close while an Update holds a queued write it will give back (its fn
// fails): Close commits the write once the Update has put it back, rather
// than close the file under it and leave it to a timer that can no longer
// commit.
func TestCloseCommitsWritesAFailedUpdateGaveBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cognate.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	reported := make(chan error, 1)
	s.Later(func(tx tenant.Tx) error { return tx.Put(tenant.CollSessions, "acme", "queued", []byte("x")) },
		func(err error) { reported <- err })

	held, release := make(chan struct{}), make(chan struct{})
	errRefused := errors.New("refused")
	updated := make(chan error, 1)
	go func() {
		updated <- s.Update(ctx, func(tenant.Tx) error {
			close(held)
			<-release
			return errRefused
		})
	}()
	<-held
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	time.Sleep(2 * tenant.LaterDelay) // let Close reach the file's lock
	close(release)
	if err := <-updated; !errors.Is(err, errRefused) {
		t.Fatalf("Update = %v, want its own error", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	// A timer left armed would fire within LaterDelay.
	time.Sleep(2 * tenant.LaterDelay)
	select {
	case err := <-reported:
		t.Fatalf("the queued write failed: %v", err)
	default:
	}

	s, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(ctx, func(tx tenant.Tx) error {
		_, err := tx.Get(tenant.CollSessions, "acme", "queued")
		return err
	})
	if err != nil {
		t.Fatalf("a write queued before Close is not in the file: %v", err)
	}
}
