package bolt_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
	bbolt "go.etcd.io/bbolt"
)

// A data file says which data format wrote it. Open marks a new file, and
// a file of a version from before format versions, with this build's; it
// leaves a file of this build's format as it is; and it refuses, unchanged,
// a file a newer version wrote, which this one could misread and damage.
func TestOpenChecksTheDataFormat(t *testing.T) {
	current := strconv.Itoa(tenant.DataFormat)
	for _, tc := range []struct {
		name string
		// format is the marker the file holds; "-" makes no file, "" a
		// file without a marker, as versions before format versions left.
		format      string
		wantFormat  string // the marker after Open
		wantWrite   bool   // whether Open commits a transaction
		wantNewer   bool
		wantDamaged bool
	}{
		{name: "a new file", format: "-", wantFormat: current, wantWrite: true},
		{name: "a file without a format", format: "", wantFormat: current, wantWrite: true},
		{name: "a file of this build's format", format: current, wantFormat: current},
		{name: "a file of a newer format", format: strconv.Itoa(tenant.DataFormat + 1), wantNewer: true},
		{name: "a marker that is no number", format: "two", wantDamaged: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cognate.db")
			if tc.format != "-" {
				writeRawFile(t, path, tc.format)
			}
			before, _ := os.ReadFile(path)
			txBefore := lastTxID(t, path)

			s, err := bolt.Open(path)
			var newer *bolt.NewerFormatError
			var damaged *bolt.DamagedError
			switch {
			case tc.wantNewer || tc.wantDamaged:
				if err == nil {
					s.Close()
					t.Fatal("Open succeeded")
				}
				if tc.wantNewer && (!errors.As(err, &newer) || newer.Format != tenant.DataFormat+1) {
					t.Fatalf("Open: %v, want a NewerFormatError of format %d", err, tenant.DataFormat+1)
				}
				if tc.wantDamaged && !errors.As(err, &damaged) {
					t.Fatalf("Open: %v, want a DamagedError", err)
				}
				if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
					t.Error("the refused file was changed")
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if wrote := lastTxID(t, path) != txBefore; wrote != tc.wantWrite {
				t.Errorf("Open committed a transaction: %v, want %v", wrote, tc.wantWrite)
			}
			if got := rawFormat(t, path); got != tc.wantFormat {
				t.Errorf("data format %q, want %q", got, tc.wantFormat)
			}
		})
	}
}

// writeRawFile makes a data file with a tenant list, as any version writes
// one, and the data format marker format ("" for none).
func writeRawFile(t *testing.T, path, format string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(btx *bbolt.Tx) error {
		global, err := btx.CreateBucket([]byte("_"))
		if err != nil {
			return err
		}
		tenants, err := global.CreateBucket([]byte(tenant.CollTenants))
		if err != nil {
			return err
		}
		if err := tenants.Put([]byte("acme"), []byte(`{"slug":"acme"}`)); err != nil {
			return err
		}
		if format == "" {
			return nil
		}
		meta, err := btx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return meta.Put([]byte("data_format"), []byte(format))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rawFormat reads the data format marker as bbolt stores it.
func rawFormat(t *testing.T, path string) string {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var format string
	_ = db.View(func(btx *bbolt.Tx) error {
		if b := btx.Bucket([]byte("meta")); b != nil {
			format = string(b.Get([]byte("data_format")))
		}
		return nil
	})
	return format
}

// lastTxID is the ID of the file's last committed transaction; 0 when
// there is no file.
func lastTxID(t *testing.T, path string) int {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return 0
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id int
	_ = db.View(func(btx *bbolt.Tx) error { id = btx.ID(); return nil })
	return id
}
