package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// server is a real `cognate serve` in dev mode on a free port.
type server struct {
	url       string
	addr      string // where it listens, host:port
	tokenFile string
	stop      func() error // cancels the server and waits for runServe
	log       *uitest.Log  // what the server logged, also in the test's output
	stdout    *uitest.Log  // what it printed (the demo), also in the test's output
}

func startServer(t *testing.T, dir string) *server {
	t.Helper()
	return startServerWith(t, dir)
}

// startServerWith starts a server with more settings than startServer's
// (a base URL, say, for a server outside dev mode); it is asked whether
// it is ready at its address, whatever its base URL. An argument may name
// the free port it listens on as {port} (--listen :{port}).
func startServerWith(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	// Ask the kernel for a free port, then let runServe listen on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	args = slices.Clone(args)
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "{port}", port)
	}

	cfg, err := LoadConfig(append([]string{"--listen", addr, "--data", filepath.Join(dir, "cognate.db")}, args...), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log, stdout := &uitest.Log{}, &uitest.Log{}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), log), nil))
	go func() { done <- runServe(ctx, cfg, nil, logger, io.MultiWriter(t.Output(), stdout)) }()

	s := &server{url: cfg.BaseURL, addr: addr, tokenFile: filepath.Join(dir, devAdminTokenFile), log: log, stdout: stdout}
	stopped := false
	s.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(shutdownTimeout + 5*time.Second):
			return errors.New("runServe did not return after its context was cancelled")
		}
	}
	t.Cleanup(func() { _ = s.stop() })

	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case err := <-done:
			t.Fatalf("runServe returned before it was ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cli runs the cognate command line in-process.
func (s *server) cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if len(args) > 0 && slices.Contains([]string{"tenant", "client", "user", "group", "audit", "mail", "backup"}, args[0]) {
		args = append(args, "--server", s.url, "--token-file", s.tokenFile)
	}
	code = run(t.Context(), args, map[string]string{}, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// cliStep is one command of a test that runs commands against a server in
// turn.
type cliStep struct {
	name   string
	args   []string
	stdin  string
	code   int      // the exit code
	stdout []string // substrings
	stderr []string
	check  func(t *testing.T, stdout string)
}

// runSteps runs the steps in order through run and checks what each
// printed. Steps share the server and build on each other, so one failing
// stops the rest.
func runSteps(t *testing.T, steps []cliStep, run func(t *testing.T, st cliStep) (code int, stdout, stderr string)) {
	t.Helper()
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			code, stdout, stderr := run(t, st)
			if code != st.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, st.code, stdout, stderr)
			}
			for _, w := range st.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range st.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if st.check != nil {
				st.check(t, stdout)
			}
		})
		if !ok {
			return
		}
	}
}

func TestCommandLineAgainstServer(t *testing.T) {
	s := startServer(t, t.TempDir())

	steps := []cliStep{
		{name: "create tenant", args: []string{"tenant", "create", "acme", "--name", "Acme BV"},
			stdout: []string{"Tenant ", "acme", "Acme BV", "at least 8 characters"}},
		{name: "reserved slug", args: []string{"tenant", "create", "auth"},
			code: exitUsage, stderr: []string{"reserved"}},
		{name: "duplicate tenant", args: []string{"tenant", "create", "acme"},
			code: exitError, stderr: []string{"already exists"}},
		{name: "list tenants", args: []string{"tenant", "list"},
			stdout: []string{"SLUG", "acme  Acme BV"}},
		{name: "get tenant as JSON", args: []string{"tenant", "get", "--json", "acme"},
			check: func(t *testing.T, stdout string) {
				var got adminapi.Tenant
				if err := json.Unmarshal([]byte(stdout), &got); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				if got.Slug != "acme" || got.Name != "Acme BV" || got.Settings.MFA.Mode != "OFF" {
					t.Errorf("tenant %+v", got)
				}
			}},
		{name: "get unknown tenant", args: []string{"tenant", "get", "nope"},
			code: exitError, stderr: []string{`tenant "nope" does not exist`}},
		{name: "create client", args: []string{"client", "create", "--tenant", "acme", "--name", "planner",
			"--redirect-uri", "https://planner.example.com/callback", "--scope", "openid", "--scope", "email"},
			stdout: []string{"Client secret", "confidential", "https://planner.example.com/callback", "openid email", "shown only this once"}},
		{name: "create public client as JSON", args: []string{"client", "create", "--tenant", "acme", "--name", "spa",
			"--public", "--redirect-uri", "http://localhost:3000/cb", "--json"},
			check: func(t *testing.T, stdout string) {
				var got map[string]any
				if err := json.Unmarshal([]byte(stdout), &got); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				if got["public"] != true || got["client_secret"] != nil {
					t.Errorf("public client %v", got)
				}
			}},
		{name: "create client without name", args: []string{"client", "create", "--tenant", "acme"},
			code: exitUsage, stderr: []string{"--name is required"}},
		{name: "create client with bad redirect", args: []string{"client", "create", "--tenant", "acme", "--name", "x",
			"--redirect-uri", "http://planner.example.com/cb"},
			code: exitUsage, stderr: []string{"must use https"}},
		{name: "list clients", args: []string{"client", "list", "--tenant", "acme"},
			stdout: []string{"CLIENT ID", "planner", "spa", "public"}},
		{name: "create user", args: []string{"user", "create", "--tenant", "acme", "--username", "ann",
			"--email", "ann@example.com", "--password", "Sup3r-secret!", "--attribute", "given_name=Ann"},
			stdout: []string{"Username", "ann", "CONFIRMED", "given_name", "Ann"}},
		{name: "create user with temporary password from stdin", args: []string{"user", "create", "--tenant", "acme",
			"--username", "bob", "--password", "-", "--temporary"}, stdin: "Temp-passw0rd\n",
			stdout: []string{"FORCE_CHANGE_PASSWORD", "Temporary password expires"}},
		{name: "create user with weak password", args: []string{"user", "create", "--tenant", "acme", "--username", "carol", "--password", "weak"},
			code: exitError, stderr: []string{"does not meet the policy"}},
		{name: "list users", args: []string{"user", "list", "--tenant", "acme"},
			stdout: []string{"USERNAME", "ann", "bob", "FORCE_CHANGE_PASSWORD"}},
		{name: "list users as JSON", args: []string{"user", "list", "--tenant", "acme", "--json"},
			check: func(t *testing.T, stdout string) {
				var page adminapi.UserPage
				if err := json.Unmarshal([]byte(stdout), &page); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				if len(page.Users) != 2 {
					t.Errorf("%d users, want 2", len(page.Users))
				}
			}},
		{name: "list users page", args: []string{"user", "list", "--tenant", "acme", "--limit", "1"},
			stdout: []string{"More users: cognate user list --tenant acme --limit 1 --after "}},
		{name: "list users past the last", args: []string{"user", "list", "--tenant", "acme", "--after", "zzzz"},
			stdout: []string{"No more users after zzzz.\n"}, check: func(t *testing.T, stdout string) {
				if strings.Contains(stdout, "No users") {
					t.Errorf("a tenant with users is said to have none:\n%s", stdout)
				}
			}},
		{name: "list users in pages of none", args: []string{"user", "list", "--tenant", "acme", "--limit", "0"},
			code: exitUsage, stderr: []string{"--limit 0: give a whole number from 1 to 100\n"}},
		{name: "disable user", args: []string{"user", "disable", "--tenant", "acme", "ann"},
			stdout: []string{"Enabled", "no"}},
		{name: "enable user", args: []string{"user", "enable", "ann", "--tenant", "acme"},
			stdout: []string{"Enabled", "yes"}},
		{name: "set password", args: []string{"user", "set-password", "--tenant", "acme", "bob", "--password", "N3w-passw0rd", "--permanent"},
			stdout: []string{"Password of bob set."}},
		{name: "get user", args: []string{"user", "get", "--tenant", "acme", "bob"},
			stdout: []string{"CONFIRMED"}},
		{name: "get unknown user", args: []string{"user", "get", "--tenant", "acme", "zed"},
			code: exitError, stderr: []string{`tenant "acme" has no user "zed"`}},
		{name: "delete tenant needs confirmation", args: []string{"tenant", "delete", "acme"},
			code: exitUsage, stderr: []string{"--yes"}},
		{name: "wrong token", args: []string{"tenant", "list", "--token", "wrong-token"},
			code: exitError, stderr: []string{"refused the operator token"}},
		{name: "delete tenant", args: []string{"tenant", "delete", "acme", "--yes"},
			stdout: []string{"Deleted tenant acme."}},
		{name: "unknown verb", args: []string{"tenant", "rename"}, code: exitUsage, stderr: []string{`unknown command "rename"`}},
		{name: "missing argument", args: []string{"tenant", "get"}, code: exitUsage,
			stderr: []string{"cognate tenant get needs SLUG (a tenant's slug)\n"}},
		{name: "an argument too many", args: []string{"tenant", "list", "extra"}, code: exitUsage,
			stderr: []string{"cognate tenant list takes no arguments; got 1: extra\n"}},
		{name: "a USER missing", args: []string{"user", "get", "--tenant", "acme"}, code: exitUsage,
			stderr: []string{"cognate user get needs USER (a username or a sub)\n"}},
		{name: "two USERs", args: []string{"user", "get", "--tenant", "acme", "ann", "bob"}, code: exitUsage,
			stderr: []string{"cognate user get takes only USER (a username or a sub); got 2: ann bob"}},
		{name: "command help", args: []string{"user", "create", "-h"}, stdout: []string{"Usage: cognate user create", "-temporary", "-username"}},
		{name: "group help", args: []string{"client", "--help"}, stdout: []string{"rotate-secret"}},
		{name: "version", args: []string{"version"}, stdout: []string{"cognate "}},
		{name: "version with an argument", args: []string{"version", "extra"}, code: exitUsage,
			stderr: []string{"cognate version takes no arguments or flags; got extra\n"}},
		{name: "version with a flag", args: []string{"--version", "--bogus"}, code: exitUsage,
			stderr: []string{"cognate --version takes no arguments or flags; got --bogus\n"}},
		{name: "help on a group", args: []string{"help", "user"}, stdout: []string{"Usage: cognate user", "reset-mfa"}},
		{name: "help on a command without verbs", args: []string{"help", "backup"}, stdout: []string{"Usage: cognate backup"}},
		{name: "help on nothing there is", args: []string{"help", "frobnicate"}, code: exitUsage,
			stderr: []string{"cognate help: no help on \"frobnicate\"", "Usage:"}},
		{name: "no command", args: nil, code: exitUsage, stderr: []string{"Usage:"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) { return s.cli(t, st.stdin, st.args...) })

	if err := s.stop(); err != nil {
		t.Errorf("runServe after cancel: %v", err)
	}
}

// --json prints JSON also for the commands whose API answer has no body
// (204 No Content): an object that says it went well, in the text output's
// words. Without --json the text is what it was.
func TestJSONOfAnswersWithoutBody(t *testing.T) {
	s := startServer(t, t.TempDir())
	isOK := func(message string) func(t *testing.T, stdout string) {
		return func(t *testing.T, stdout string) {
			var got struct {
				OK      bool   `json:"ok"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("not JSON: %v\n%q", err, stdout)
			}
			if !got.OK || got.Message != message {
				t.Errorf("got %+v, want ok and %q", got, message)
			}
		}
	}
	steps := []cliStep{
		{name: "tenant", args: []string{"tenant", "create", "acme"}},
		{name: "ann", args: []string{"user", "create", "--tenant", "acme", "--username", "ann", "--password", "Correct-Horse-9!"}},
		{name: "bob", args: []string{"user", "create", "--tenant", "acme", "--username", "bob"}},
		{name: "group", args: []string{"group", "create", "--tenant", "acme", "ops"}},
		{name: "user unlock", args: []string{"user", "unlock", "--tenant", "acme", "ann", "--json"},
			check: isOK("Unlocked ann: they can sign in again at once.")},
		{name: "user reset-mfa", args: []string{"user", "reset-mfa", "--tenant", "acme", "ann", "--json"},
			check: isOK("Second factors of ann removed and their sessions ended. Where the tenant requires MFA, their next sign-in sets up a new one.")},
		{name: "user set-password", args: []string{"user", "set-password", "--tenant", "acme", "ann", "--password", "Correct-Horse-10!", "--permanent", "--json"},
			check: isOK("Password of ann set.")},
		{name: "group add-user", args: []string{"group", "add-user", "--tenant", "acme", "ops", "bob", "--json"},
			check: isOK("Added bob to group ops.")},
		{name: "group delete", args: []string{"group", "delete", "--tenant", "acme", "ops", "--json"},
			check: isOK("Deleted group ops of tenant acme.")},
		{name: "user delete", args: []string{"user", "delete", "--tenant", "acme", "bob", "--json"},
			check: isOK("Deleted user bob.")},
		{name: "text output unchanged", args: []string{"user", "delete", "--tenant", "acme", "ann"},
			check: func(t *testing.T, stdout string) {
				if stdout != "Deleted user ann.\n" {
					t.Errorf("stdout %q", stdout)
				}
			}},
		{name: "a failure prints no JSON", args: []string{"user", "delete", "--tenant", "acme", "ann", "--json"},
			code: exitError, stderr: []string{`has no user "ann"`},
			check: func(t *testing.T, stdout string) {
				if stdout != "" {
					t.Errorf("stdout %q", stdout)
				}
			}},
		{name: "tenant delete", args: []string{"tenant", "delete", "acme", "--yes", "--json"},
			check: isOK("Deleted tenant acme.")},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) { return s.cli(t, st.stdin, st.args...) })
}

// A USER that is one user's username and another's sub is refused, not
// guessed at: a delete or reset must not reach the wrong person.
func TestUserNamedLikeAnotherUsersSub(t *testing.T) {
	s := startServer(t, t.TempDir())
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return s.cli(t, "", args...)
	}
	if code, _, stderr := run("tenant", "create", "acme"); code != 0 {
		t.Fatal(stderr)
	}
	subOf := func(username string) string {
		t.Helper()
		code, stdout, stderr := run("user", "create", "--tenant", "acme", "--username", username, "--json")
		if code != 0 {
			t.Fatal(stderr)
		}
		var u adminapi.User
		if err := json.Unmarshal([]byte(stdout), &u); err != nil {
			t.Fatal(err)
		}
		return u.Sub
	}
	ann := subOf("ann")
	shadow := subOf(ann) // a username that is ann's sub

	code, _, stderr := run("user", "delete", "--tenant", "acme", ann)
	if code != exitError || !strings.Contains(stderr, "name the user you mean by their sub") {
		t.Errorf("delete of an ambiguous USER: exit %d, stderr %q", code, stderr)
	}
	// Named unambiguously, both are reached: shadow by its own sub, which
	// no one has as a username.
	if code, stdout, stderr := run("user", "get", "--tenant", "acme", shadow); code != 0 || !strings.Contains(stdout, ann) {
		t.Errorf("get by the sub %s: exit %d\n%s%s", shadow, code, stdout, stderr)
	}
	if code, stdout, stderr := run("user", "get", "--tenant", "acme", "ann"); code != 0 || !strings.Contains(stdout, ann) {
		t.Errorf("get ann: exit %d\n%s%s", code, stdout, stderr)
	}
	// Finding out that "ann" is nobody's sub is no refused request.
	before := strings.Count(s.log.String(), "refused")
	if code, _, stderr := run("user", "get", "--tenant", "acme", "ann"); code != 0 {
		t.Errorf("get ann: exit %d: %s", code, stderr)
	}
	if after := strings.Count(s.log.String(), "refused"); after != before {
		t.Errorf("looking up a username logged %d refusals:\n%s", after-before, s.log.String())
	}
}

// In dev mode the operator token is made once, readable only by its owner,
// and kept across restarts.
func TestServeDevToken(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(s.tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("token file mode %v, want 0600", perm)
	}
	first, _ := os.ReadFile(s.tokenFile)

	s = startServer(t, dir)
	if code, _, stderr := s.cli(t, "", "tenant", "list"); code != exitOK {
		t.Errorf("after restart: exit %d: %s", code, stderr)
	}
	if second, _ := os.ReadFile(s.tokenFile); !bytes.Equal(first, second) {
		t.Error("the token changed across a restart")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		name string
	}{
		{[]string{"acme", "--name", "Acme BV"}, []string{"acme"}, "Acme BV"},
		{[]string{"--name", "Acme BV", "acme"}, []string{"acme"}, "Acme BV"},
		{[]string{"a", "--name=x", "b"}, []string{"a", "b"}, "x"},
		{[]string{"--name", "x", "--", "--not-a-flag"}, []string{"--not-a-flag"}, "x"},
		{nil, nil, ""},
	}
	for _, tc := range tests {
		fs := newTestFlagSet()
		name := fs.String("name", "", "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if strings.Join(pos, "|") != strings.Join(tc.pos, "|") || *name != tc.name {
			t.Errorf("%q: positional %q, name %q; want %q, %q", tc.args, pos, *name, tc.pos, tc.name)
		}
	}
}

func newTestFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// The command line finds a dev-mode server's operator token where the
// server writes it, next to its data file, given the same --data or
// COGNATE_DATA; and when there is none, it says where it looked.
func TestCLIFindsTheDevTokenNextToTheDataFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dir)
	data := filepath.Join(dir, "cognate.db")
	elsewhere := filepath.Join(t.TempDir(), "other.db")
	cli := func(env map[string]string, args ...string) (int, string, string) {
		var out, errOut strings.Builder
		code := run(t.Context(), append(args, "--server", s.url), env, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	steps := []cliStep{
		{name: "--data", args: []string{"tenant", "list", "--data", data}, stdout: []string{"demo"}},
		{name: "COGNATE_DATA", args: []string{"tenant", "list"}, stdout: []string{"demo"}},
		{name: "another data file", args: []string{"tenant", "list", "--data", elsewhere}, code: exitError,
			stderr: []string{"a dev-mode server writes cognate-admin.token next to its data file, but there is no " +
				filepath.Join(filepath.Dir(elsewhere), devAdminTokenFile), "give the server's data file with --data or COGNATE_DATA"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) {
		env := map[string]string{}
		if st.name == "COGNATE_DATA" {
			env["COGNATE_DATA"] = data
		}
		return cli(env, st.args...)
	})
}
