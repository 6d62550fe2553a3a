package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// A "." or ".." goes into an admin API URL escaped, as %2E or %2E%2E,
// which the server's router takes as a name. Sent plain, ServeMux would
// answer /tenants/victim/users/.. with a redirect to /tenants/victim, and a
// client that followed it with the same method deleted the tenant for
// "user delete". A user whose sub is ".." comes from a database written
// before imports refused such subs: the CLI reaches her as it reaches any
// other. The other values are typed, and name nothing.
func TestDotSegmentsAreSentEscaped(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	for _, args := range [][]string{
		{"tenant", "create", "victim"},
		{"group", "create", "--tenant", "victim", "staff"},
		{"user", "create", "--tenant", "victim", "--username", "ann"},
	} {
		if code, _, stderr := s.cli(t, "", args...); code != exitOK {
			t.Fatalf("cognate %s: %s", strings.Join(args, " "), stderr)
		}
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	insertDotUser(t, filepath.Join(dir, "cognate.db"))
	s = startServer(t, dir)

	steps := []cliStep{
		{name: "user get of a user whose sub is ..", args: []string{"user", "get", "--tenant", "victim", "dotdot"},
			stdout: []string{"dotdot", ".."}},
		{name: "user disable of that user", args: []string{"user", "disable", "--tenant", "victim", "dotdot"}},
		{name: "she is disabled", args: []string{"user", "get", "--tenant", "victim", "--json", "dotdot"},
			stdout: []string{`"enabled": false`}},
		{name: "group remove-user of that user", args: []string{"group", "remove-user", "--tenant", "victim", "staff", "dotdot"}},
		{name: "user reset-mfa of that user", args: []string{"user", "reset-mfa", "--tenant", "victim", "dotdot"}},
		{name: "user set-password of that user", args: []string{"user", "set-password", "--tenant", "victim", "dotdot", "--password", "Sup3r-secret!"}},
		{name: "user get of a typed ..", args: []string{"user", "get", "--tenant", "victim", ".."}, stdout: []string{"dotdot"}},
		{name: "user get of a typed .", args: []string{"user", "get", "--tenant", "victim", "."},
			code: exitError, stderr: []string{"has no"}},
		{name: "group delete ..", args: []string{"group", "delete", "--tenant", "victim", ".."},
			code: exitError, stderr: []string{"has no"}},
		{name: "group members of .", args: []string{"group", "members", "--tenant", "victim", "."},
			code: exitError, stderr: []string{"has no"}},
		{name: "client delete ..", args: []string{"client", "delete", "--tenant", "victim", ".."},
			code: exitError, stderr: []string{"has no"}},
		{name: "tenant get ..", args: []string{"tenant", "get", ".."},
			code: exitError, stderr: []string{`tenant ".." does not exist`}},
		{name: "user list in tenant .", args: []string{"user", "list", "--tenant", "."},
			code: exitError, stderr: []string{`tenant "." does not exist`}},
		{name: "an empty group name", args: []string{"group", "get", "--tenant", "victim", ""},
			code: exitError, stderr: []string{"the group name is empty"}},
		{name: "an empty USER", args: []string{"user", "delete", "--tenant", "victim", ""},
			code: exitError, stderr: []string{"USER is empty"}},
		{name: "the group is still there, without her", args: []string{"group", "members", "--tenant", "victim", "staff"},
			check: func(t *testing.T, stdout string) {
				if strings.Contains(stdout, "dotdot") {
					t.Errorf("dotdot is still a member:\n%s", stdout)
				}
			}},
		{name: "user delete of that user", args: []string{"user", "delete", "--tenant", "victim", "dotdot"}},
		{name: "she is gone", args: []string{"user", "get", "--tenant", "victim", "dotdot"},
			code: exitError, stderr: []string{"has no"}},
		{name: "the tenant is still there", args: []string{"tenant", "get", "victim"}, stdout: []string{"victim"}},
		{name: "and ann", args: []string{"user", "get", "--tenant", "victim", "ann"}, stdout: []string{"ann"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) { return s.cli(t, st.stdin, st.args...) })
}

// A proxy that resolves the escaped dot segment (decoding %2E%2E, then
// removing dot segments) would turn "user delete" of the user whose sub is
// ".." into a DELETE of her tenant. The CLI names the path it sent, and the
// server refuses a request whose path arrived changed: nothing is deleted.
func TestDotSegmentsResolvedOnTheWayAreRefused(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	if code, _, stderr := s.cli(t, "", "tenant", "create", "victim"); code != exitOK {
		t.Fatal(stderr)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	insertDotUser(t, filepath.Join(dir, "cognate.db"))
	s = startServer(t, dir)

	target, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	normalizing := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		decoded, err := url.PathUnescape(pr.In.URL.EscapedPath())
		if err != nil {
			decoded = pr.In.URL.Path
		}
		pr.Out.URL.Path, pr.Out.URL.RawPath = path.Clean(decoded), ""
	}})
	defer normalizing.Close()

	steps := []cliStep{
		{name: "user delete through the proxy", args: []string{"user", "delete", "--tenant", "victim", "dotdot"},
			code: exitError, stderr: []string{`sent as "/admin/v1/tenants/victim/users/%2E%2E" and arrived as "/admin/v1/tenants/victim"`,
				"nothing was done"}},
		{name: "user disable through the proxy", args: []string{"user", "disable", "--tenant", "victim", "dotdot"},
			code: exitError, stderr: []string{"nothing was done"}},
		{name: "a path without a dot segment passes", args: []string{"tenant", "get", "victim"}, stdout: []string{"victim"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) {
		var out, errOut strings.Builder
		args := append(st.args, "--server", normalizing.URL, "--token-file", s.tokenFile)
		code := run(t.Context(), args, map[string]string{}, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	})
	for _, args := range [][]string{{"tenant", "get", "victim"}, {"user", "get", "--tenant", "victim", "--json", "dotdot"}} {
		if code, stdout, stderr := s.cli(t, "", args...); code != exitOK || strings.Contains(stdout, `"enabled": false`) {
			t.Errorf("cognate %s after the refusals: %s%s", strings.Join(args, " "), stdout, stderr)
		}
	}
}

// insertDotUser adds to tenant victim of the stopped server's data file the
// user dotdot, whose sub is "..", as a version whose import took such subs
// stored her, and makes her a member of staff when that group exists.
func insertDotUser(t *testing.T, dbPath string) {
	t.Helper()
	store, err := bolt.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = store.Update(t.Context(), func(tx tenant.Tx) error {
		var groups []string
		if _, err := tx.Get(tenant.CollGroups, "victim", "staff"); err == nil {
			groups = []string{"staff"}
		}
		return tenant.InsertUser(tx, "victim", tenant.User{Sub: "..", Username: "dotdot", Status: tenant.StatusConfirmed,
			Enabled: true, Groups: groups, CreatedAt: now, UpdatedAt: now})
	})
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// A redirect from the admin API is an error: the client does not send the
// method, the body and the operator token on to where it points.
func TestAdminClientFollowsNoRedirect(t *testing.T) {
	var followed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/elsewhere/", func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere"+r.URL.Path, http.StatusTemporaryRedirect)
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	steps := []cliStep{
		{name: "delete", args: []string{"tenant", "delete", "acme", "--yes"}, code: exitError,
			stderr: []string{"answered DELETE /admin/v1/tenants/acme with a redirect to " + ts.URL + "/elsewhere/admin/v1/tenants/acme",
				"cognate follows no redirect", "give its new address with --server"}},
		{name: "create", args: []string{"tenant", "create", "acme"}, code: exitError,
			stderr: []string{"answered POST /admin/v1/tenants with a redirect"}},
		{name: "list as JSON", args: []string{"tenant", "list", "--json"}, code: exitError,
			stderr: []string{"answered GET /admin/v1/tenants with a redirect"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) {
		var out, errOut strings.Builder
		args := append(st.args, "--server", ts.URL, "--token", "operator-token-0123456789")
		code := run(t.Context(), args, map[string]string{}, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	})
	if n := followed.Load(); n != 0 {
		t.Errorf("the client followed %d redirects", n)
	}
}

// Every request of the CLI is made one way (newRequest), whichever command
// makes it: with the operator token, what the answer may be, and the path
// a "." or ".." was escaped in, for import and backup, which stream, as
// for the commands that call and decode. The test server records each
// request as it arrives and refuses it.
func TestAdminRequestsAreMadeOneWay(t *testing.T) {
	type request struct{ method, path, authorization, accept, pathHeader string }
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, request{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Accept"),
			r.Header.Get(adminapi.PathHeader)})
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body) // an upload is read as the server reads it
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		_ = json.NewEncoder(w).Encode(adminapi.Error{Code: "teapot", Message: "this server only records requests"})
	}))
	t.Cleanup(srv.Close)
	users := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(users, []byte("cognito:username,email\nann,ann@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		token   = "operator-token-0123456789"
		jsonAPI = "application/json"
	)
	tests := []struct {
		args []string
		want request
	}{
		{[]string{"tenant", "get", "acme"}, request{http.MethodGet, "/admin/v1/tenants/acme", "", jsonAPI, ""}},
		{[]string{"client", "delete", "--tenant", "acme", ".."},
			request{http.MethodDelete, "/admin/v1/tenants/acme/clients/%2E%2E", "", jsonAPI, "/admin/v1/tenants/acme/clients/%2E%2E"}},
		{[]string{"import", "cognito", "--tenant", "..", users},
			request{http.MethodPost, "/admin/v1/tenants/%2E%2E/import?format=csv", "", jsonAPI, "/admin/v1/tenants/%2E%2E/import"}},
		{[]string{"backup", "--out", filepath.Join(t.TempDir(), "cognate.backup")},
			request{http.MethodGet, "/admin/v1/backup", "", "application/octet-stream, application/json", ""}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:2], " "), func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			var out, errOut strings.Builder
			args := append(slices.Clone(tt.args), "--server", srv.URL, "--token", token)
			if code := run(t.Context(), args, map[string]string{}, strings.NewReader(""), &out, &errOut); code != exitError ||
				!strings.Contains(errOut.String(), "this server only records requests") {
				t.Errorf("exit %d, stderr:\n%s\nwant the server's refusal", code, errOut.String())
			}
			want := tt.want
			want.authorization = "Bearer " + token
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || got[0] != want {
				t.Errorf("requests %+v\nwant one, %+v", got, want)
			}
		})
	}
}

// The two commands that stream (import, backup) do it on a client without
// the time limit, a large import taking minutes; it stays on the client the
// others use. (The limit, a minute, is too long for a test to go past.)
func TestStreamingClientHasNoTimeLimit(t *testing.T) {
	c := &apiClient{server: "http://127.0.0.1:8080", token: "operator-token", http: &http.Client{Timeout: time.Minute}}
	if streaming := c.streamingClient(); streaming.Timeout != 0 || c.http.Timeout != time.Minute {
		t.Errorf("streaming client's limit %s, the other's %s; want none and a minute", streaming.Timeout, c.http.Timeout)
	}
}
