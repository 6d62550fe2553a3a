package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// `cognate backup --out FILE` takes a copy of a running server's data file
// while the admin API is writing to it: the copy opens as `cognate serve`
// opens its data file, and, with the server key beside it, a server
// started on it serves what was there before the backup began. An
// existing file is refused unless --force; a wrong token, or a token that
// a tenant issued, gets nothing, and leaves no file behind.
func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	if code, _, stderr := s.cli(t, "", "tenant", "create", "acme"); code != exitOK {
		t.Fatalf("tenant create: %s", stderr)
	}
	var machine adminapi.ClientWithSecret
	code, stdout, stderr := s.cli(t, "", "client", "create", "--tenant", "acme", "--name", "batch", "--grant", "client_credentials", "--json")
	if code != exitOK || json.Unmarshal([]byte(stdout), &machine) != nil {
		t.Fatalf("client create: %s%s", stdout, stderr)
	}
	token, err := os.ReadFile(s.tokenFile)
	if err != nil {
		t.Fatal(err)
	}

	// Writers through the admin API, for the whole of the test: each
	// makes groups, one after another.
	stop := make(chan struct{})
	var writers sync.WaitGroup
	var made atomic.Int64
	for w := range 4 {
		writers.Go(func() {
			hc := &http.Client{}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				status, err := adminCall(hc, s.url, strings.TrimSpace(string(token)), http.MethodPost, "/tenants/acme/groups",
					adminapi.CreateGroupRequest{Name: fmt.Sprintf("w%d-%05d", w, i)}, nil)
				if err != nil || status != http.StatusCreated {
					t.Errorf("writer %d: status %d, %v", w, status, err)
					return
				}
				made.Add(1)
			}
		})
	}
	defer func() {
		close(stop)
		writers.Wait()
	}()
	waitFor(t, "making groups", func() bool { return made.Load() >= 20 || t.Failed() })
	if code, _, stderr := s.cli(t, "", "group", "create", "--tenant", "acme", "before-the-backup"); code != exitOK {
		t.Fatalf("group create: %s", stderr)
	}

	backups := t.TempDir()
	out := filepath.Join(backups, "acme.db")
	steps := []cliStep{
		{name: "backup", args: []string{"backup", "--out", out},
			stdout: []string{"Wrote a backup of", "bytes", out, "every page of it checked", "server key"},
			check: func(t *testing.T, _ string) {
				info, err := os.Stat(out)
				if err != nil {
					t.Fatal(err)
				}
				if info.Mode().Perm() != 0o600 {
					t.Errorf("the backup has mode %v, want 0600", info.Mode().Perm())
				}
			}},
		{name: "an existing file is kept", args: []string{"backup", "--out", out},
			code: exitError, stderr: []string{out + " exists, and was left as it is", "--force"}},
		{name: "replaced with --force", args: []string{"backup", "--out", out, "--force", "--json"},
			check: func(t *testing.T, stdout string) {
				var res struct {
					File  string `json:"file"`
					Bytes int64  `json:"bytes"`
				}
				if err := json.Unmarshal([]byte(stdout), &res); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				info, err := os.Stat(out)
				if err != nil || res.File != out || res.Bytes != info.Size() {
					t.Errorf("--json says %+v; the file is %v (%v)", res, info, err)
				}
			}},
		{name: "a directory", args: []string{"backup", "--out", backups, "--force"},
			code: exitError, stderr: []string{"is a directory"}},
		{name: "without --out", args: []string{"backup"}, code: exitUsage, stderr: []string{"cognate backup: --out FILE is required"}},
		{name: "a wrong token", args: []string{"backup", "--out", filepath.Join(backups, "wrong.db"), "--token", "wrong-token"},
			code: exitError, stderr: []string{"the server refused the operator token"}},
		{name: "a token a tenant issued", args: []string{"backup", "--out", filepath.Join(backups, "tenant.db"), "--token", "{tenant token}"},
			code: exitError, stderr: []string{"the server refused the operator token"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) {
		args := make([]string, len(st.args))
		for i, a := range st.args {
			if a == "{tenant token}" {
				a, _ = s.machineToken(t, "acme", machine.ClientID, machine.ClientSecret)
			}
			args[i] = a
		}
		return s.cli(t, st.stdin, args...)
	})
	if t.Failed() {
		return
	}
	entries, err := os.ReadDir(backups)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "acme.db" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the backup directory holds %v, want acme.db alone (no partial copies)", names)
	}
	if n := strings.Count(s.log.String(), "backup sent"); n != 2 {
		t.Errorf("the server logged %d backups, want 2:\n%s", n, s.log)
	}

	// Restore: the copy in a data file's place, with the server key.
	restored := t.TempDir()
	for from, to := range map[string]string{out: "cognate.db", filepath.Join(dir, devSecretKeyFile): devSecretKeyFile} {
		raw, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(restored, to), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// First as `cognate serve` opens its file, which refuses a damaged one.
	store, err := openStore(filepath.Join(restored, "cognate.db"), slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatalf("the backup does not open as a data file: %v", err)
	}
	err = store.View(t.Context(), func(tx tenant.Tx) error {
		_, err := tx.Get(tenant.CollGroups, "acme", "before-the-backup")
		return err
	})
	if cerr := store.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatalf("the backup lacks a group made before it: %v", err)
	}
	if err := bolt.CheckCopy(filepath.Join(restored, "cognate.db")); err != nil {
		t.Fatalf("the backup fails the check: %v", err)
	}
	r := startServer(t, restored)
	if code, stdout, stderr := r.cli(t, "", "group", "get", "--tenant", "acme", "before-the-backup"); code != exitOK {
		t.Errorf("a server started on the backup: group get: %s%s", stdout, stderr)
	}
}

// A copy that fails the check, or that arrives cut short, is reported and
// not kept: neither FILE nor a partial copy is left. The server here is a
// stand-in that answers as a server with a damaged data file, or one
// that stops halfway, would.
func TestBackupCommandKeepsNoBadCopy(t *testing.T) {
	good, err := os.ReadFile(func() string {
		path := filepath.Join(t.TempDir(), "cognate.db")
		store, err := bolt.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}())
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(good)
	clear(damaged[2*4096:]) // every page after the headers zeroed

	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		want   string
	}{
		{"damaged", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(damaged)
		}, "does not pass the check of every page, and was not kept"},
		{"cut short", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", fmt.Sprint(len(good)))
			_, _ = w.Write(good[:len(good)/2])
		}, "broke off after"},
		{"not a backup", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>a proxy's page</html>"))
		}, `with "text/html", not a backup`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != backupPath || r.Header.Get("Authorization") != "Bearer the-token" {
					http.NotFound(w, r)
					return
				}
				tc.answer(w)
			}))
			defer srv.Close()
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), []string{"backup", "--out", filepath.Join(dir, "copy.db"), "--server", srv.URL, "--token", "the-token"},
				map[string]string{}, strings.NewReader(""), &stdout, &stderr)
			if code != exitError || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit code %d, stderr %q; want %d and %q", code, stderr.String(), exitError, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a refused copy left %v behind", entries)
			}
		})
	}
}
