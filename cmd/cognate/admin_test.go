package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// tableCommand is one command of the table, with the command line that
// names it: "user get", or "backup".
type tableCommand struct {
	line []string
	cmd  adminCommand
}

func tableCommands() []tableCommand {
	var all []tableCommand
	for name, group := range adminGroups() {
		for _, cmd := range group.commands {
			line := []string{name}
			if cmd.verb != "" {
				line = append(line, cmd.verb)
			}
			all = append(all, tableCommand{line, cmd})
		}
	}
	slices.SortFunc(all, func(a, b tableCommand) int { return slices.Compare(a.line, b.line) })
	return all
}

// runOffline runs the command line with no server and no operator token:
// what it says comes from the command line alone.
func runOffline(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	env := map[string]string{"COGNATE_DATA": filepath.Join(t.TempDir(), "cognate.db"), "COGNATE_SERVER": "http://127.0.0.1:1"}
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, env, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// Every command that needs a tenant refuses to run without --tenant, in the
// same words, before it looks for a token or a server; its usage line and
// its flags say so the same way too.
func TestEveryCommandNeedingATenantRefusesWithoutOne(t *testing.T) {
	var tenantCommands int
	for _, tc := range tableCommands() {
		name := "cognate " + strings.Join(tc.line, " ")
		t.Run(strings.Join(tc.line, "_"), func(t *testing.T) {
			if !tc.cmd.needsTenant {
				return
			}
			tenantCommands++
			args := slices.Clone(tc.line)
			for _, f := range tc.cmd.required {
				args = append(args, "--"+f, "x")
			}
			for range tc.cmd.args {
				args = append(args, "x")
			}
			code, stdout, stderr := runOffline(t, args...)
			want := name + ": --tenant is required\nRun \"" + name + " -h\" for its flags.\n"
			if code != exitUsage || stderr != want || stdout != "" {
				t.Errorf("%s without --tenant: exit %d, stderr\n%s\nwant exit %d and\n%s", strings.Join(args, " "), code, stderr, exitUsage, want)
			}

			code, stdout, _ = runOffline(t, append(slices.Clone(tc.line), "-h")...)
			if code != exitOK || !strings.HasPrefix(stdout, "Usage: "+name+" --tenant SLUG ") ||
				!strings.Contains(stdout, "  -tenant string\n    \ttenant slug (required)\n") {
				t.Errorf("%s -h: exit %d, help\n%s", name, code, stdout)
			}
		})
	}
	if tenantCommands < 20 {
		t.Errorf("%d commands need a tenant; the user, client and group commands, and import, are more", tenantCommands)
	}
}

// Every command of the table shows its usage in the same way: help that
// was asked for on stdout, a flag it does not know and an argument too many
// on stderr with exit code 2.
func TestEveryCommandShowsItsUsageInOneWay(t *testing.T) {
	for _, tc := range tableCommands() {
		name := "cognate " + strings.Join(tc.line, " ")
		t.Run(strings.Join(tc.line, "_"), func(t *testing.T) {
			code, stdout, stderr := runOffline(t, append(slices.Clone(tc.line), "--help")...)
			if code != exitOK || !strings.HasPrefix(stdout, "Usage: "+name+" ") || !strings.Contains(stdout, tc.cmd.summary) ||
				!strings.Contains(stdout, "  -server string\n") || stderr != "" {
				t.Errorf("--help: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}

			code, stdout, stderr = runOffline(t, append(slices.Clone(tc.line), "--no-such-flag")...)
			if code != exitUsage || !strings.HasPrefix(stderr, "flag provided but not defined: -no-such-flag\nUsage: "+name+" ") || stdout != "" {
				t.Errorf("an unknown flag: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}

			args := slices.Clone(tc.line)
			for range len(tc.cmd.args) + 1 {
				args = append(args, "x")
			}
			code, _, stderr = runOffline(t, args...)
			if problem := name + " takes "; code != exitUsage || !strings.HasPrefix(stderr, problem) || !strings.Contains(stderr, "\nUsage: "+name+" ") {
				t.Errorf("an argument too many: exit %d, stderr\n%s\nwant it to begin %q, then the usage", code, stderr, problem)
			}
		})
	}
}

// The value of a flag that needs no server to judge is checked before the
// operator token is looked up, through every command's checkFunc and the
// connection's flags: with no token configured, the wrong value is what is
// said, and the missing token is not. The exit code follows checkFunc's
// one rule (the README's): 2 for a value wrong as typed, 1 for a file or
// standard input it names that cannot be read, is empty, holds what it
// must not or would be overwritten.
func TestFlagValuesAreCheckedBeforeTheToken(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	notJSON := filepath.Join(dir, "settings.json")
	notPEM := filepath.Join(dir, "ca.pem")
	for _, f := range []string{existing, notJSON, notPEM} {
		if err := os.WriteFile(f, []byte("kept"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	missing := filepath.Join(dir, "nope.json")
	tests := []struct {
		args []string
		code int
		want string
	}{
		// Wrong as typed: exit code 2.
		{[]string{"audit", "list", "--limit", "0"}, exitUsage, "cognate audit list: --limit 0: give a whole number from 1 to "},
		{[]string{"audit", "list", "--from", "yesterday"}, exitUsage, `--from "yesterday" is neither a date`},
		{[]string{"user", "list", "--tenant", "acme", "--limit", "0"}, exitUsage, "cognate user list: --limit 0: give a whole number from 1 to "},
		{[]string{"group", "members", "--tenant", "acme", "admins", "--limit", "100000"}, exitUsage, "--limit 100000: give a whole number"},
		{[]string{"tenant", "rotate-key", "acme", "--retire-previous", "--overlap", "1h"}, exitUsage, "--retire-previous makes a key that signs at once"},
		{[]string{"tenant", "delete", "acme"}, exitUsage, "add --yes to confirm"},
		{[]string{"tenant", "create", "acme", "--settings", `{"colour":"red"}`}, exitUsage, "--settings is not a settings object"},
		{[]string{"tenant", "update", "acme"}, exitUsage, "nothing to change: give --name"},
		{[]string{"client", "update", "--tenant", "acme", "CLIENT"}, exitUsage, "nothing to change: give --name"},
		{[]string{"user", "create", "--tenant", "acme", "--username", "ann", "--temporary"}, exitUsage, "--temporary needs --password"},
		{[]string{"user", "create", "--tenant", "acme", "--username", "ann", "--attribute", "team"}, exitUsage, `--attribute "team": want NAME=VALUE`},
		{[]string{"group", "create", "--tenant", "acme", "ops", "--precedence", "high"}, exitUsage, `--precedence "high": give a whole number`},
		{[]string{"group", "update", "--tenant", "acme", "ops"}, exitUsage, "nothing to change: give --name, --description or --precedence"},
		{[]string{"import", "cognito", "--tenant", "acme", "users.txt"}, exitUsage, `cannot tell the format of "users.txt"`},
		{[]string{"tenant", "list", "--base-url", "ftp://example.com"}, exitUsage, "--base-url (or COGNATE_BASE_URL)"},
		{[]string{"tenant", "list", "--server", "example.com"}, exitUsage, `--server "example.com": want a URL`},
		// A file or standard input a value names: exit code 1.
		{[]string{"user", "set-password", "--tenant", "acme", "ann", "--password", "-"}, exitError, "no password on standard input"},
		{[]string{"tenant", "update", "acme", "--settings", "-"}, exitError, "--settings -: standard input is empty"},
		{[]string{"tenant", "update", "acme", "--settings", "@" + missing}, exitError, "--settings @" + missing + ": no such file or directory"},
		{[]string{"tenant", "update", "acme", "--settings", "@" + notJSON}, exitError, "--settings is not a settings object: invalid character 'k' looking for beginning of value (read from " + notJSON + ")"},
		{[]string{"import", "cognito", "--tenant", "acme", filepath.Join(dir, "nope.csv")}, exitError, "cognate import cognito: import file " + filepath.Join(dir, "nope.csv") + ": no such file or directory\n"},
		{[]string{"import", "cognito", "--tenant", "acme", "--format", "csv", dir}, exitError, "import file " + dir + " is a directory"},
		{[]string{"migrate", "cognito", "--map", filepath.Join(dir, "nope.yaml")}, exitError, "map " + filepath.Join(dir, "nope.yaml") + ": no such file"},
		{[]string{"backup", "--out", existing}, exitError, existing + " exists, and was left as it is"},
		{[]string{"tenant", "list", "--ca-cert", missing}, exitError, "--ca-cert " + missing + ": no such file or directory"},
		{[]string{"tenant", "list", "--ca-cert", notPEM}, exitError, "--ca-cert " + notPEM + " holds no certificate in PEM"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runOffline(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "operator token") || stdout != "" {
				t.Errorf("exit %d, stderr\n%s\nwant exit %d and %q, before the token is looked up", code, stderr, tt.code, tt.want)
			}
			// What says to read the usage comes with exit code 2 only.
			if usage := strings.Contains(stderr, " -h\" for its flags."); usage != (tt.code == exitUsage) {
				t.Errorf("exit %d, and the usage pointed to: %v\n%s", code, usage, stderr)
			}
		})
	}
}

// A value that a rule of the tenant package judges alone is refused by
// that rule before anything is sent and before the operator token is
// read: exit code 2, in the words the server answers with (the rule's own
// error, as the admin API writes it). What depends on what the server
// holds is sent, for the server to judge.
func TestTenantRulesAreCheckedBeforeAnythingIsSent(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "this server only counts requests", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	withToken := func(t *testing.T, args ...string) (code int, stderr string) {
		t.Helper()
		env := map[string]string{"COGNATE_DATA": filepath.Join(t.TempDir(), "cognate.db"), "COGNATE_SERVER": srv.URL,
			"COGNATE_ADMIN_TOKEN": "operator-token"}
		var out, errOut bytes.Buffer
		code = run(t.Context(), args, env, strings.NewReader(""), &out, &errOut)
		return code, errOut.String()
	}

	refusal := func(err error) string {
		t.Helper()
		if err == nil {
			t.Fatal("the rule accepts the value")
		}
		return err.Error()
	}
	settingsRefusal := func(change tenant.SettingsChange) string {
		t.Helper()
		return refusal(tenant.ValidateSettings(change.Apply(tenant.Settings{})))
	}
	// clientRefusal is what the server's tenant.ValidateClient says of a
	// client that breaks only the rule change makes it break.
	clientRefusal := func(change func(c *tenant.Client)) string {
		t.Helper()
		c := tenant.Client{Name: "batch", GrantTypes: []string{tenant.GrantClientCredentials}, SecretHash: "set",
			AccessTokenTTL: tenant.DefaultAccessTokenTTL, IDTokenTTL: tenant.DefaultIDTokenTTL, RefreshTokenTTL: tenant.DefaultRefreshTokenTTL}
		if err := tenant.ValidateClient(c); err != nil {
			t.Fatalf("the base client is refused: %v", err)
		}
		change(&c)
		return refusal(tenant.ValidateClient(c))
	}
	strPtr := func(s string) *string { return &s }
	precedence := 3000000000
	client := []string{"client", "create", "--tenant", "acme", "--name", "batch"}
	update := []string{"client", "update", "--tenant", "acme", "CLIENT_ID"}
	user := []string{"user", "create", "--tenant", "acme", "--username", "ann"}

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"tenant", "create", "ab"}, refusal(tenant.ValidateSlug("ab"))},
		{[]string{"tenant", "create", "auth"}, refusal(tenant.ValidateSlug("auth"))},
		{[]string{"tenant", "create", "Acme"}, refusal(tenant.ValidateSlug("Acme"))},
		{[]string{"tenant", "create", "acme", "--name", "   "}, refusal(tenant.ValidateTenantName(""))},
		{[]string{"tenant", "create", "acme", "--signing-alg", "HS256"}, settingsRefusal(tenant.SettingsChange{SigningAlg: strPtr("HS256")})},
		{[]string{"tenant", "update", "demo", "--signing-alg", "HS256"}, settingsRefusal(tenant.SettingsChange{SigningAlg: strPtr("HS256")})},
		{[]string{"tenant", "create", "acme", "--admin-group", " x"}, settingsRefusal(tenant.SettingsChange{AdminGroup: strPtr(" x")})},
		{[]string{"tenant", "create", "acme", "--admin-group", "\u2800"}, settingsRefusal(tenant.SettingsChange{AdminGroup: strPtr("\u2800")})},
		{[]string{"tenant", "update", "demo", "--name", "Ac\u200bme"}, refusal(tenant.ValidateTenantName("Ac\u200bme"))},

		{append(slices.Clone(client), "--grant", "bogus"), clientRefusal(func(c *tenant.Client) { c.GrantTypes = []string{"bogus"} })},
		{append(slices.Clone(client), "--redirect-uri", "notauri"), clientRefusal(func(c *tenant.Client) { c.RedirectURIs = []string{"notauri"} })},
		{append(slices.Clone(client), "--redirect-uri", "https://a.example/cb", "--redirect-uri", "https://a.example/cb"),
			clientRefusal(func(c *tenant.Client) { c.RedirectURIs = []string{"https://a.example/cb", "https://a.example/cb"} })},
		{append(slices.Clone(client), "--logout-uri", "http://a.example/bye"),
			clientRefusal(func(c *tenant.Client) { c.PostLogoutRedirectURIs = []string{"http://a.example/bye"} })},
		{append(slices.Clone(client), "--grant", "client_credentials", "--scope", "a b"),
			clientRefusal(func(c *tenant.Client) { c.Scopes = []string{"a b"} })},
		{append(slices.Clone(client), "--public", "--grant", "client_credentials"), clientRefusal(func(c *tenant.Client) { c.SecretHash = "" })},
		{append(slices.Clone(client), "--grant", "authorization_code"),
			clientRefusal(func(c *tenant.Client) { c.GrantTypes = []string{tenant.GrantAuthorizationCode} })},
		{append(slices.Clone(client), "--access-token-ttl", "1m"), clientRefusal(func(c *tenant.Client) { c.AccessTokenTTL = time.Minute })},
		{[]string{"client", "create", "--tenant", "acme", "--name", "  ", "--grant", "client_credentials"},
			clientRefusal(func(c *tenant.Client) { c.Name = "" })},
		{append(slices.Clone(update), "--grant", ""), clientRefusal(func(c *tenant.Client) { c.GrantTypes = nil })},
		{append(slices.Clone(update), "--redirect-uri", "https://a.example/#top"),
			clientRefusal(func(c *tenant.Client) { c.RedirectURIs = []string{"https://a.example/#top"} })},
		{append(slices.Clone(update), "--refresh-token-ttl", "100000h"),
			clientRefusal(func(c *tenant.Client) { c.RefreshTokenTTL = 100000 * time.Hour })},
		{append(slices.Clone(update), "--refresh-retry-grace", "90s"),
			clientRefusal(func(c *tenant.Client) { c.RefreshRetryGrace = 90 * time.Second })},
		{append(slices.Clone(update), "--name", strings.Repeat("n", tenant.MaxClientNameLength+1)),
			clientRefusal(func(c *tenant.Client) { c.Name = strings.Repeat("n", tenant.MaxClientNameLength+1) })},

		{[]string{"user", "create", "--tenant", "acme", "--username", "a b"}, refusal(tenant.ValidateUsername("a b"))},
		{append(slices.Clone(user), "--email", "notanemail"), refusal(tenant.ValidateEmail("notanemail"))},
		{append(slices.Clone(user), "--email", " ann@example "), refusal(tenant.ValidateEmail("ann@example"))},
		{append(slices.Clone(user), "--attribute", "team=ops"), refusal(tenant.ValidateAttributes(map[string]string{"team": "ops"}))},
		{append(slices.Clone(user), "--email-verified"), refusal((&tenant.NewUser{Username: "ann", EmailVerified: true}).Validate())},
		{append(slices.Clone(user), "--attribute", "phone_number=0612345678"),
			refusal(tenant.ValidateAttributes(map[string]string{"phone_number": "0612345678"}))},

		{[]string{"group", "create", "--tenant", "acme", " x"}, refusal(tenant.ValidateGroupName(" x"))},
		{[]string{"group", "create", "--tenant", "acme", ".."}, refusal(tenant.ValidateGroupName(".."))},
		{[]string{"group", "create", "--tenant", "acme", "ops", "--description", "a\x01b"}, refusal(tenant.ValidateGroupDescription("a\x01b"))},
		{[]string{"group", "create", "--tenant", "acme", "ops", "--precedence", "3000000000"}, refusal(tenant.ValidateGroupPrecedence(&precedence))},
		{[]string{"group", "update", "--tenant", "acme", "ops", "--name", "a\nb"}, refusal(tenant.ValidateGroupName("a\nb"))},
		{[]string{"group", "update", "--tenant", "acme", "ops", "--description", strings.Repeat("d", 2049)},
			refusal(tenant.ValidateGroupDescription(strings.Repeat("d", 2049)))},
	}
	label := func(args []string) string {
		s := strings.Join(args, " ")
		if len(s) > 100 {
			s = s[:100] + "…"
		}
		return s
	}
	for _, tt := range tests {
		t.Run(label(tt.args), func(t *testing.T) {
			name := "cognate " + strings.Join(tt.args[:2], " ")
			want := name + ": " + tt.want + "\nRun \"" + name + " -h\" for its flags.\n"
			before := requests.Load()
			code, stderr := withToken(t, tt.args...)
			if code != exitUsage || stderr != want {
				t.Errorf("with a token: exit %d, stderr\n%s\nwant exit %d and\n%s", code, stderr, exitUsage, want)
			}
			if sent := requests.Load() - before; sent != 0 {
				t.Errorf("%d requests sent", sent)
			}
			code, _, stderr = runOffline(t, tt.args...)
			if code != exitUsage || stderr != want {
				t.Errorf("without a token: exit %d, stderr\n%s\nwant exit %d and\n%s", code, stderr, exitUsage, want)
			}
		})
	}

	// What depends on what the server holds goes to it: a tenant, group
	// or user named as it is (one made before a rule was tightened stays
	// reachable), the admin group a change names (the tenant's own, named
	// before a rule was tightened, stays its admin group), a client's
	// stored settings, the default grant types, a tenant's password policy.
	sent := [][]string{
		{"tenant", "update", "demo", "--admin-group", " x"},
		{"tenant", "update", "demo", "--admin-group", "\u2800", "--settings", `{"locale":"nl"}`},
		{"tenant", "get", "auth"},
		{"tenant", "update", "auth", "--name", "Auth BV"},
		{"group", "get", "--tenant", "acme", " x"},
		{"group", "update", "--tenant", "acme", " x", "--name", "x"},
		{"user", "list", "--tenant", "ab"},
		{"client", "create", "--tenant", "acme", "--name", "planner"},
		{"client", "update", "--tenant", "acme", "CLIENT_ID", "--grant", "authorization_code"},
		{"client", "update", "--tenant", "acme", "CLIENT_ID", "--grant", "client_credentials"},
		{"user", "create", "--tenant", "acme", "--username", "ann", "--email", " ann@example.com ", "--password", "weak"},
		{"tenant", "create", "acme", "--settings", `{"locale":"fr"}`},
	}
	for _, args := range sent {
		t.Run(label(args), func(t *testing.T) {
			before := requests.Load()
			code, stderr := withToken(t, args...)
			if code != exitError || requests.Load() == before || !strings.Contains(stderr, "answered 418") {
				t.Errorf("exit %d, %d requests, stderr\n%s\nwant it sent, and the server's answer (exit 1)", code, requests.Load()-before, stderr)
			}
		})
	}
}

// The serve command's usage goes where every command's does: asked for,
// to standard output; after a wrong flag, to standard error with the
// flag's problem.
func TestServeUsageGoesToStandardOutputWhenAskedFor(t *testing.T) {
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string // a part of each; "" for nothing there
	}{
		{[]string{"serve", "-h"}, exitOK, "Usage: cognate serve", ""},
		{[]string{"help", "serve"}, exitOK, "Usage: cognate serve", ""},
		{[]string{"serve", "--bogus"}, exitUsage, "", "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runOffline(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			for _, out := range []struct{ name, got, want string }{{"stdout", stdout, tt.stdout}, {"stderr", stderr, tt.stderr}} {
				if (out.want == "") != (out.got == "") || !strings.Contains(out.got, out.want) {
					t.Errorf("%s %q, want it to hold %q", out.name, out.got, out.want)
				}
			}
		})
	}
}
