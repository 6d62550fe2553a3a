package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/cognate-idp/cognate/tenant"
)

// A data file that is truncated or has a page overwritten stops `cognate
// serve` with one plain message that names the file and says to restore it
// from a backup: no SIGSEGV, no panic trace, and nothing written before
// (dev mode's token and key files). The real binary runs in a child
// process, because without the check bbolt's faults kill the process.
func TestServeRefusesDamagedDataFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	s := startServer(t, dir)
	for i := range 40 {
		if code, _, stderr := s.cli(t, "", "user", "create", "--tenant", "demo", "--username", fmt.Sprintf("user%d", i),
			"--email", fmt.Sprintf("user%d@example.test", i)); code != exitOK {
			t.Fatalf("user create: %s", stderr)
		}
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	pageSize, pages, roots := treeRoots(t, filepath.Join(dir, "cognate.db"))

	overwrite := func(id int64) func([]byte) []byte {
		return func(b []byte) []byte {
			rng := rand.New(rand.NewPCG(uint64(id), 7))
			for i := id * pageSize; i < (id+1)*pageSize; i++ {
				b[i] = byte(rng.Uint32())
			}
			return b
		}
	}
	cases := []struct {
		name   string
		damage func([]byte) []byte
		want   string
	}{
		{"cut to 16 KiB", func(b []byte) []byte { return b[:16384] }, "it is truncated: it is 16384 bytes long, but its header says"},
		{"cut to 8 KiB", func(b []byte) []byte { return b[:8192] }, "it is truncated"},
		{"cut to one page", func(b []byte) []byte { return b[:pageSize] }, "it is truncated"},
		{"cut in half", func(b []byte) []byte { return b[:pages*pageSize/2] }, "it is truncated"},
		{"header pages overwritten", func(b []byte) []byte { return overwrite(1)(overwrite(0)(b)) }, "it does not begin as a bbolt database file does"},
	}
	for _, r := range roots {
		cases = append(cases, struct {
			name   string
			damage func([]byte) []byte
			want   string
		}{fmt.Sprintf("page %d overwritten", r), overwrite(r), "it is damaged: a page of its tree has been overwritten or lost"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "cognate.db")
			damaged := tc.damage(bytes.Clone(raw))
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			// A safety net for a server that starts after all; a refusal
			// takes milliseconds.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "serve", "--listen", "127.0.0.1:0", "--data", path)
			cmd.Env = append(os.Environ(), "COGNATE_TEST_CHILD=serve")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != exitError {
				t.Fatalf("cognate serve: %v, want exit code %d\n%s", err, exitError, out.String())
			}
			for _, want := range []string{"the database file " + path + " cannot be used: " + tc.want,
				"Cognate has not changed it and cannot repair it: move it aside and restore the file from a backup"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			for _, crash := range []string{"panic", "goroutine ", "SIGSEGV", "SIGBUS", "fatal error"} {
				if strings.Contains(out.String(), crash) {
					t.Errorf("output has %q:\n%s", crash, out.String())
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, []string{"cognate.db"}) {
				t.Errorf("the directory holds %v after the refusal, want only cognate.db", names)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, damaged) {
				t.Error("the refused file was changed")
			}
		})
	}
}

// treeRoots is the page size and count of a bbolt file and the root pages
// of its tree and of each bucket that has a page of its own.
func treeRoots(t *testing.T, path string) (pageSize, pages int64, roots []int64) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pageSize = int64(db.Info().PageSize)
	err = db.View(func(tx *bbolt.Tx) error {
		pages = tx.Size() / pageSize
		roots = append(roots, int64(tx.Cursor().Bucket().RootPage()))
		return tx.ForEach(func(_ []byte, tb *bbolt.Bucket) error {
			if r := int64(tb.RootPage()); r != 0 {
				roots = append(roots, r)
			}
			return tb.ForEachBucket(func(k []byte) error {
				if r := int64(tb.Bucket(k).RootPage()); r != 0 {
					roots = append(roots, r)
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return pageSize, pages, roots
}

// A new database is made in a missing or an empty data file, and the log
// says which: an empty file where a database was expected may be a restore
// that failed, so that one is a warning. Opening a database says nothing.
func TestOpenStoreSaysWhenItMadeANewDatabase(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	if s, err := openStore(existing, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	} else if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "missing.db"), "level=INFO msg=\"a new database file was made\""},
		{"empty", empty, "level=WARN msg=\"the database file was empty: a new database was made in it; if it should have held data, stop the server and restore it from a backup\""},
		{"a database", existing, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			s, err := openStore(tt.path, slog.New(slog.NewTextHandler(&log, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			lines := strings.Count(log.String(), "\n")
			if tt.want == "" && lines != 0 || tt.want != "" && (lines != 1 || !strings.Contains(log.String(), tt.want)) {
				t.Errorf("log:\n%s\nwant one line with %s", log.String(), tt.want)
			}
		})
	}
}

// A data file that a newer version wrote (a higher data format) stops the
// start with one message that says so and how to go back, and is left as
// it was.
func TestOpenStoreRefusesANewerDataFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cognate.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(btx *bbolt.Tx) error {
		meta, err := btx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return meta.Put([]byte("data_format"), []byte(strconv.Itoa(tenant.DataFormat+1)))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)

	s, err := openStore(path, slog.New(slog.DiscardHandler))
	if err == nil {
		s.Close()
		t.Fatal("openStore opened a file of a newer data format")
	}
	for _, want := range []string{
		"the database file " + path + " cannot be used",
		fmt.Sprintf("data format %d, which a newer version of cognate wrote; this version knows data formats up to %d", tenant.DataFormat+1, tenant.DataFormat),
		"Cognate has not changed it",
		"restoring the copy of the data file made before the upgrade",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\ndoes not say %q", err, want)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the file was changed")
	}
}
