package bolt_test

import (
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
