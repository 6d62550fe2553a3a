package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// A "." or ".." never goes into an admin API URL. ServeMux answers
// /tenants/victim/users/.. with a redirect to /tenants/victim, and a client
// that followed it with the same method deleted the tenant for "user
// delete". The sub comes from a database written before imports refused
// such subs; the other values are typed.
func TestDotSegmentsNeverReachTheServer(t *testing.T) {
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
	store, err := bolt.Open(filepath.Join(dir, "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = store.Update(t.Context(), func(tx tenant.Tx) error {
		return tenant.InsertUser(tx, "victim", tenant.User{Sub: "..", Username: "dotdot", Status: tenant.StatusConfirmed,
			Enabled: true, Groups: []string{"staff"}, CreatedAt: now, UpdatedAt: now})
	})
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	s = startServer(t, dir)

	refused := func(what string) []string {
		return []string{what, "cannot go into an admin API URL", "cognate did not send it"}
	}
	steps := []cliStep{
		{name: "user delete of a user whose sub is ..", args: []string{"user", "delete", "--tenant", "victim", "dotdot"},
			code: exitError, stderr: refused(`the sub of user "dotdot" is ".."`)},
		{name: "group remove-user of that user", args: []string{"group", "remove-user", "--tenant", "victim", "staff", "dotdot"},
			code: exitError, stderr: refused(`the sub of user "dotdot" is ".."`)},
		{name: "user reset-mfa of that user", args: []string{"user", "reset-mfa", "--tenant", "victim", "dotdot"},
			code: exitError, stderr: refused(`the sub of user "dotdot" is ".."`)},
		{name: "user set-password of that user", args: []string{"user", "set-password", "--tenant", "victim", "dotdot", "--password", "Sup3r-secret!"},
			code: exitError, stderr: refused(`the sub of user "dotdot" is ".."`)},
		{name: "user delete of a typed ..", args: []string{"user", "delete", "--tenant", "victim", ".."},
			code: exitError, stderr: refused(`the sub is ".."`)},
		{name: "user get of a typed .", args: []string{"user", "get", "--tenant", "victim", "."},
			code: exitError, stderr: refused(`the sub is "."`)},
		{name: "group delete ..", args: []string{"group", "delete", "--tenant", "victim", ".."},
			code: exitError, stderr: refused(`the group name is ".."`)},
		{name: "group members of .", args: []string{"group", "members", "--tenant", "victim", "."},
			code: exitError, stderr: refused(`the group name is "."`)},
		{name: "client delete ..", args: []string{"client", "delete", "--tenant", "victim", ".."},
			code: exitError, stderr: refused(`the client ID is ".."`)},
		{name: "tenant get ..", args: []string{"tenant", "get", ".."},
			code: exitError, stderr: refused(`the tenant slug is ".."`)},
		{name: "user list in tenant .", args: []string{"user", "list", "--tenant", "."},
			code: exitError, stderr: refused(`the tenant slug is "."`)},
		{name: "an empty group name", args: []string{"group", "get", "--tenant", "victim", ""},
			code: exitError, stderr: []string{"the group name is empty"}},
		{name: "an empty USER", args: []string{"user", "delete", "--tenant", "victim", ""},
			code: exitError, stderr: []string{"USER is empty"}},
		{name: "the tenant is still there", args: []string{"tenant", "get", "victim"}, stdout: []string{"victim"}},
		{name: "so is its group, with its member", args: []string{"group", "members", "--tenant", "victim", "staff"},
			stdout: []string{"dotdot"}},
		{name: "and ann", args: []string{"user", "get", "--tenant", "victim", "ann"}, stdout: []string{"ann"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) { return s.cli(t, st.stdin, st.args...) })
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
