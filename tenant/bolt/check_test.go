package bolt_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// dataFile writes a store as Cognate uses one: a few tenants with users
// and indexes, some records deleted again so that the file has free pages,
// and returns its path and its layout as bbolt sees it.
func dataFile(t testing.TB, users int) (path string, l layout) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "cognate.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	value := bytes.Repeat([]byte("x"), 300)
	for _, slug := range []string{"acme", "globex", "initech"} {
		for start := 0; start < users; start += 500 {
			err := s.Update(t.Context(), func(tx tenant.Tx) error {
				if err := tx.Put(tenant.CollTenants, "", slug, []byte(slug)); err != nil {
					return err
				}
				for i := start; i < start+500 && i < users; i++ {
					sub := fmt.Sprintf("sub-%06d", i)
					if err := tx.Put(tenant.CollUsers, slug, sub, value); err != nil {
						return err
					}
					if err := tx.Put(tenant.CollUsersByName, slug, fmt.Sprintf("user%d", i), []byte(sub)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		err := s.Update(t.Context(), func(tx tenant.Tx) error {
			for i := 0; i < users; i += 3 {
				if err := tx.Delete(tenant.CollUsers, slug, fmt.Sprintf("sub-%06d", i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, readLayout(t, path)
}

// layout is where bbolt put things in a file.
type layout struct {
	pageSize, pages int64   // pages: the high water mark
	freelist        int64   // the freelist page
	roots           []int64 // root pages of the tree and of every bucket not inline
	kinds           map[int64]string
}

func readLayout(t testing.TB, path string) layout {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := layout{pageSize: int64(db.Info().PageSize), kinds: map[int64]string{}}
	err = db.View(func(tx *bbolt.Tx) error {
		l.pages = tx.Size() / l.pageSize
		for id := range l.pages {
			p, err := tx.Page(int(id))
			if err != nil {
				return err
			}
			if p != nil {
				l.kinds[id] = p.Type
				if p.Type == "freelist" {
					l.freelist = id
				}
			}
		}
		return tx.ForEach(func(_ []byte, tb *bbolt.Bucket) error {
			if r := int64(tb.RootPage()); r != 0 {
				l.roots = append(l.roots, r)
			}
			return tb.ForEachBucket(func(k []byte) error {
				if r := int64(tb.Bucket(k).RootPage()); r != 0 {
					l.roots = append(l.roots, r)
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.roots) < 4 || l.freelist == 0 {
		t.Fatalf("the test file has too few pages to damage: %+v", l)
	}
	return l
}

// damagedCopy writes a copy of the file at path, changed by damage, into
// a directory of its own.
func damagedCopy(t *testing.T, path string, damage func([]byte) []byte) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "cognate.db")
	if err := os.WriteFile(out, damage(bytes.Clone(raw)), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// openDamaged opens path, and checks that Open refused it with a
// *DamagedError whose problem contains want (when want is set) and left
// the file as it was; when mayOpen is set, opening it is allowed too.
func openDamaged(t *testing.T, path, want string, mayOpen bool) {
	t.Helper()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := bolt.Open(path)
	if err == nil {
		s.Close()
		if !mayOpen {
			t.Fatal("a damaged file opened")
		}
		return
	}
	var d *bolt.DamagedError
	if !errors.As(err, &d) {
		t.Fatalf("Open: %v, want a *bolt.DamagedError", err)
	}
	if !strings.Contains(d.Problem, want) {
		t.Errorf("problem %q, want it to say %q", d.Problem, want)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("Open refused the file but changed it")
	}
}

// A truncated file is refused before bbolt maps it: it would read past the
// end of its map (SIGBUS or SIGSEGV, which no recover catches) or load
// another page as its freelist and panic.
func TestOpenRefusesTruncatedFile(t *testing.T) {
	path, l := dataFile(t, 3000)
	whole := l.pages * l.pageSize
	for _, tc := range []struct {
		size int64
		want string
	}{
		{size: 40, want: "shorter than a database file's header"},
		{size: l.pageSize, want: "shorter than its two header pages"},
		{size: 2 * l.pageSize, want: "it is truncated"},
		{size: 4 * l.pageSize, want: "it is truncated"},
		{size: 16384, want: "it is truncated"},
		{size: whole / 2, want: "it is truncated"},
		{size: whole - l.pageSize, want: fmt.Sprintf("its %d pages of %d bytes take %d bytes", l.pages, l.pageSize, whole)},
		{size: whole - 1, want: "it is truncated"},
	} {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			openDamaged(t, damagedCopy(t, path, func(b []byte) []byte { return b[:tc.size] }), tc.want, false)
		})
	}
	t.Run("cut after its last page", func(t *testing.T) {
		s, err := bolt.Open(damagedCopy(t, path, func(b []byte) []byte { return b[:whole] }))
		if err != nil {
			t.Fatalf("a file with all its pages was refused: %v", err)
		}
		s.Close()
	})
}

// Pages overwritten with noise: those that opening reads (the header
// pages, the freelist, the roots of the tree, of each tenant and of each
// collection) are refused with a plain error; any other page may open,
// and is found when a request reads it. No page makes Open crash or panic.
func TestOpenRefusesOverwrittenPages(t *testing.T) {
	path, l := dataFile(t, 400)
	overwrite := func(ids ...int64) func([]byte) []byte {
		return func(b []byte) []byte {
			for _, id := range ids {
				rng := rand.New(rand.NewPCG(uint64(id), 2))
				for i := id * l.pageSize; i < (id+1)*l.pageSize; i++ {
					b[i] = byte(rng.Uint32())
				}
			}
			return b
		}
	}
	must := map[int64]string{l.freelist: "which its header names as its list of free pages, is not one"}
	for _, r := range l.roots {
		must[r] = "a page of its tree has been overwritten or lost"
	}
	t.Run("both header pages", func(t *testing.T) {
		openDamaged(t, damagedCopy(t, path, overwrite(0, 1)), "does not begin as a bbolt database file does", false)
	})
	t.Run("both header pages' checksums", func(t *testing.T) {
		openDamaged(t, damagedCopy(t, path, func(b []byte) []byte {
			b[16+56]++
			b[l.pageSize+16+56]++
			return b
		}), "both of its header pages fail their checksum", false)
	})
	for id := int64(2); id < l.pages; id++ {
		want, refused := must[id]
		t.Run(fmt.Sprintf("page %d (%s)", id, l.kinds[id]), func(t *testing.T) {
			t.Parallel()
			openDamaged(t, damagedCopy(t, path, overwrite(id)), want, !refused)
		})
	}
}

// The freelist names only pages of the file: one that names a page past
// the end would hand that page out to the next write.
func TestOpenRefusesFreelistPastTheEnd(t *testing.T) {
	path, l := dataFile(t, 3000)
	openDamaged(t, damagedCopy(t, path, func(b []byte) []byte {
		off := l.freelist*l.pageSize + 16
		for i := range 8 {
			b[off+int64(i)] = 0xEE
		}
		return b
	}), "its list of free pages names page", false)
}

// BenchmarkCheckTree and BenchmarkTxCheck compare what Open reads of a
// file with bbolt's full check (see checkTree).
func BenchmarkCheckTree(b *testing.B) {
	path, _ := dataFile(b, 20000)
	for b.Loop() {
		s, err := bolt.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkTxCheck(b *testing.B) {
	path, _ := dataFile(b, 20000)
	for b.Loop() {
		s, err := bolt.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		err = s.DB().View(func(tx *bbolt.Tx) error {
			for err := range tx.Check() {
				return err
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
