package bolt_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
