package cognitoimport

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// A dry run's Scan sees the store and the run's own writes as a real
// transaction's Scan sees them after the same writes: in order, a write in
// place of the stored value, no deleted key, other collections and
// tenants apart, and stopping when told.
func TestDryTxScanSeesItsWrites(t *testing.T) {
	ctx := context.Background()
	const coll = tenant.CollUsersByEmail
	stored := []string{"a1", "b1", "b3", "b5", "c1"}
	writes := func(tx tenant.Tx) error {
		for _, w := range []struct {
			c         tenant.Collection
			tenantID  string
			key, val  string
			deleteKey bool
		}{
			{coll, "acme", "b2", "new", false},
			{coll, "acme", "b3", "changed", false},
			{coll, "acme", "b5", "", true},
			{coll, "acme", "b6", "", false}, // an empty value is a value
			{coll, "acme", "d1", "new", false},
			{coll, "acme", "0", "new", false},
			{coll, "acme", "never-there", "", true},
			{coll, "globex", "b4", "other tenant", false},
			{tenant.CollUsers, "acme", "b4", "other collection", false},
		} {
			var err error
			if w.deleteKey {
				err = tx.Delete(w.c, w.tenantID, w.key)
			} else {
				err = tx.Put(w.c, w.tenantID, w.key, []byte(w.val))
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	open := func(t *testing.T) tenant.Store {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		err = s.Update(ctx, func(tx tenant.Tx) error {
			for _, k := range stored {
				if err := tx.Put(coll, "acme", k, []byte("stored "+k)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	scan := func(tx tenant.Tx, prefix, after string, limit int) (string, error) {
		var seen []string
		err := tx.Scan(coll, "acme", prefix, after, func(k string, v []byte) bool {
			seen = append(seen, k+"="+string(v))
			return limit == 0 || len(seen) < limit
		})
		return fmt.Sprintf("%q", seen), err
	}

	real, dry := open(t), open(t)
	if err := real.Update(ctx, writes); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefix, after string
		limit         int
	}{
		{"", "", 0}, {"b", "", 0}, {"b", "b2", 0}, {"b", "b3", 0}, {"", "b5", 0}, {"", "c1", 0},
		{"d", "", 0}, {"z", "", 0}, {"", "", 3}, {"b", "", 2}, {"b", "a", 0}, {"", "", 7},
	} {
		var want, got string
		err := real.View(ctx, func(tx tenant.Tx) (err error) {
			want, err = scan(tx, tc.prefix, tc.after, tc.limit)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = dry.View(ctx, func(tx tenant.Tx) error {
			d := &dryTx{Tx: tx, writes: map[dryCollection]map[string][]byte{}}
			if err := writes(d); err != nil {
				return err
			}
			got, err = scan(d, tc.prefix, tc.after, tc.limit)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Scan(prefix %q, after %q, limit %d) in a dry run = %s, want %s", tc.prefix, tc.after, tc.limit, got, want)
		}
	}
}
