package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// The crash test runs the real server as a child process (this test binary,
// re-executed as `cognate serve`), kills it with SIGKILL in the middle of a
// write load, restarts it on the same file, and checks that every write the
// server acknowledged is there and that the file is consistent.

func TestMain(m *testing.M) {
	if os.Getenv("COGNATE_TEST_CHILD") == "serve" {
		os.Exit(run(context.Background(), os.Args[1:], map[string]string{}, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

type child struct {
	cmd  *exec.Cmd
	base string
	out  *bytes.Buffer
}

func startChild(t *testing.T, dir string) *child { return startChildLimited(t, dir, 0) }

// startChildLimited starts the child with at most openFiles file
// descriptors (ulimit -n), or as many as the test has when it is 0.
func startChildLimited(t *testing.T, dir string, openFiles int) *child {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := &child{out: new(bytes.Buffer)}
	c.cmd = exec.Command(os.Args[0], "serve", "--listen", addr, "--data", filepath.Join(dir, "cognate.db"))
	if openFiles > 0 {
		c.cmd = exec.Command("/bin/sh", append([]string{"-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, openFiles)}, c.cmd.Args...)...)
	}
	c.cmd.Env = append(os.Environ(), "COGNATE_TEST_CHILD=serve")
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.base = "http://localhost:" + strings.Split(addr, ":")[1]
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(c.base + "/readyz")
		if err == nil && resp.StatusCode == http.StatusOK {
			resp.Body.Close()
			return c
		}
		if time.Now().After(deadline) {
			c.cmd.Process.Kill()
			t.Fatalf("server did not become ready: %v\n%s", err, c.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func adminCall(hc *http.Client, base, token, method, path string, in, out any) (int, error) {
	var body io.Reader // none without in: the API refuses a body where it takes none
	if in != nil {
		raw, _ := json.Marshal(in)
		body = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, base+"/admin/v1"+path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil {
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, nil
}

func TestCrashLosesNothingCommitted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	c := startChild(t, dir)
	raw, err := os.ReadFile(filepath.Join(dir, devAdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))
	if code, err := adminCall(http.DefaultClient, c.base, token, "POST", "/tenants", adminapi.CreateTenantRequest{Slug: "crash"}, nil); err != nil || code != http.StatusCreated {
		t.Fatalf("create tenant: %d %v", code, err)
	}

	// Eight writers create users until the server dies under them.
	var acked sync.Map
	var n atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				name := fmt.Sprintf("w%d-u%d", w, i)
				code, err := adminCall(http.DefaultClient, c.base, token, "POST", "/tenants/crash/users", map[string]any{"username": name}, nil)
				if err != nil {
					return // the server is gone
				}
				if code == http.StatusCreated {
					acked.Store(name, true)
					n.Add(1)
				}
			}
		})
	}
	for n.Load() < 200 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
	wg.Wait()
	t.Logf("killed the server after %d acknowledged creations", n.Load())

	// Restart on the same file: it opens, and every acknowledged user is there.
	c = startChild(t, dir)
	found := map[string]bool{}
	query := "?limit=100" // the first page is asked for without after
	for {
		var page adminapi.UserPage
		code, err := adminCall(http.DefaultClient, c.base, token, "GET", "/tenants/crash/users"+query, nil, &page)
		if err != nil || code != http.StatusOK {
			t.Fatalf("list users after restart: %d %v", code, err)
		}
		for _, u := range page.Users {
			found[u.Username] = true
		}
		if page.Next == "" {
			break
		}
		query = "?limit=100&after=" + url.QueryEscape(page.Next)
	}
	missing := 0
	acked.Range(func(k, _ any) bool {
		if !found[k.(string)] {
			missing++
		}
		return true
	})
	if missing > 0 {
		t.Fatalf("%d acknowledged users lost in the crash", missing)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.cmd.Wait()

	// bbolt's own consistency check over every page of the file.
	db, err := bbolt.Open(filepath.Join(dir, "cognate.db"), 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("file inconsistent after crash: %v", err)
	}
}

// SIGHUP stops the server as SIGTERM does: requests drain, queued writes
// commit, exit code 0. Go's default for SIGHUP would kill it on the spot.
func TestSIGHUPStopsGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGHUP to send on Windows")
	}
	c := startChild(t, t.TempDir())
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("after SIGHUP: %v, want exit code 0\n%s", err, c.out)
	}
	for _, want := range []string{"shutting down: finishing requests in flight", "msg=stopped"} {
		if !strings.Contains(c.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, c.out)
		}
	}
}
