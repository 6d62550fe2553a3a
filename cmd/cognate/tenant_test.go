package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// A tenant's settings from the command line: the flags for the common
// choices, --settings for the rest, and a key of the chosen algorithm.
func TestTenantSettingsCommands(t *testing.T) {
	s := startServer(t, t.TempDir())
	steps := []cliStep{
		{name: "create with settings", args: []string{"tenant", "create", "globex", "--signing-alg", "ES256",
			"--settings", `{"locale":"nl","mfa":{"mode":"OPTIONAL","factors":["TOTP"]}}`, "--json"},
			check: func(t *testing.T, stdout string) {
				var tn adminapi.Tenant
				if err := json.Unmarshal([]byte(stdout), &tn); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				if st := tn.Settings; st.SigningAlg != "ES256" || st.Locale != "nl" || st.MFA.Mode != "OPTIONAL" || st.AdminGroup != "admins" {
					t.Errorf("settings %+v", st)
				}
			}},
		{name: "a key of the tenant's algorithm", args: []string{"tenant", "rotate-key", "globex", "--overlap", "0s"},
			stdout: []string{"Key", "Algorithm", "ES256", "Signs from"}},
		{name: "settings that are not JSON", args: []string{"tenant", "create", "initech", "--settings", `{"mfa":`},
			code: exitUsage, stderr: []string{"--settings is not a settings object"}},
		{name: "a setting that does not exist", args: []string{"tenant", "create", "initech", "--settings", `{"colour":"red"}`},
			code: exitUsage, stderr: []string{"--settings is not a settings object", `unknown field "colour"`}},
		{name: "two JSON values", args: []string{"tenant", "create", "initech", "--settings", `{} {}`},
			code: exitUsage, stderr: []string{"more than one JSON value"}},
		{name: "a value the rules refuse", args: []string{"tenant", "create", "initech", "--settings", `{"locale":"fr"}`},
			code: exitError, stderr: []string{`language "fr" must be en or nl`}},
		{name: "nothing was made of the refused ones", args: []string{"tenant", "get", "initech"},
			code: exitError, stderr: []string{`tenant "initech" does not exist`}},
		{name: "create plain", args: []string{"tenant", "create", "acme"}, stdout: []string{"RS256"}},
		{name: "change the algorithm", args: []string{"tenant", "update", "acme", "--signing-alg", "ES256"},
			stdout: []string{"Signing", "ES256"}},
		{name: "the next key has it", args: []string{"tenant", "rotate-key", "acme"}, stdout: []string{"ES256"}},
		{name: "an overlap too long", args: []string{"tenant", "rotate-key", "acme", "--overlap", "200h"},
			code: exitUsage, stderr: []string{`invalid value "200h" for flag -overlap: --overlap must be from 0s to 168h (7 days), in whole seconds`}},
		{name: "an overlap a second too long", args: []string{"tenant", "rotate-key", "acme", "--overlap", "168h0m1s"},
			code: exitUsage, stderr: []string{"--overlap must be from 0s to 168h"}},
		{name: "a negative overlap", args: []string{"tenant", "rotate-key", "acme", "--overlap", "-1s"},
			code: exitUsage, stderr: []string{"--overlap must be from 0s to 168h"}},
		// A fraction of a second would be cut off: 500ms would be no
		// overlap at all, the new key signing at once.
		{name: "an overlap of half a second", args: []string{"tenant", "rotate-key", "acme", "--overlap", "500ms"},
			code: exitUsage, stderr: []string{`invalid value "500ms" for flag -overlap: --overlap must be from 0s to 168h (7 days), in whole seconds`}},
		{name: "an overlap with a fraction", args: []string{"tenant", "rotate-key", "acme", "--overlap", "1.9s"},
			code: exitUsage, stderr: []string{"in whole seconds"}},
		{name: "an overlap of a week", args: []string{"tenant", "rotate-key", "acme", "--overlap", "168h", "--json"},
			check: func(t *testing.T, stdout string) {
				var k adminapi.SigningKey
				if err := json.Unmarshal([]byte(stdout), &k); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				if d := k.ActiveFrom.Sub(k.CreatedAt); d != 168*time.Hour {
					t.Errorf("the key signs %s after it is made, want 168h", d)
				}
			}},
		{name: "retire the previous keys", args: []string{"tenant", "rotate-key", "acme", "--retire-previous", "--json"},
			check: func(t *testing.T, stdout string) {
				var k adminapi.SigningKey
				if err := json.Unmarshal([]byte(stdout), &k); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				if !k.ActiveFrom.Equal(k.CreatedAt) {
					t.Errorf("the key signs %s after it is made, want at once", k.ActiveFrom.Sub(k.CreatedAt))
				}
			}},
		{name: "retire the previous keys, saying so", args: []string{"tenant", "rotate-key", "acme", "--retire-previous", "--overlap", "0s"},
			stdout: []string{"Signs from", "Every other key of the tenant is retired"}},
		{name: "retire the previous keys after an overlap", args: []string{"tenant", "rotate-key", "acme", "--retire-previous", "--overlap", "1h"},
			code: exitUsage, stderr: []string{"--retire-previous makes a key that signs at once: leave out --overlap, or give 0s"}},
		{name: "an overlap in years", args: []string{"tenant", "rotate-key", "acme", "--overlap", "10y"},
			code: exitUsage, stderr: []string{`invalid value "10y" for flag -overlap: not a duration: write it as 30m, 1h or 168h`}},
		{name: "an overlap without a unit", args: []string{"tenant", "rotate-key", "acme", "--overlap", "5"},
			code: exitUsage, stderr: []string{`invalid value "5" for flag -overlap: not a duration`}},
		{name: "a setting flag wins over the JSON", args: []string{"tenant", "update", "acme", "--signing-alg", "RS256",
			"--settings", `{"signing_alg":"ES256","lockout":{"max_failures":3,"lock_duration_seconds":600}}`, "--json"},
			check: func(t *testing.T, stdout string) {
				var tn adminapi.Tenant
				if err := json.Unmarshal([]byte(stdout), &tn); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				if st := tn.Settings; st.SigningAlg != "RS256" || st.Lockout.MaxFailures != 3 {
					t.Errorf("settings %+v", st)
				}
			}},
		// --settings goes the API's way: a password policy changes only
		// the fields it names.
		{name: "a password policy in part", args: []string{"tenant", "update", "acme", "--settings", `{"password_policy":{"require_symbols":false}}`}},
		{name: "the history alone", args: []string{"tenant", "update", "acme", "--settings", `{"password_policy":{"history_size":3}}`, "--json"},
			check: func(t *testing.T, stdout string) {
				var tn adminapi.Tenant
				if err := json.Unmarshal([]byte(stdout), &tn); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				want := adminapi.PasswordPolicy{MinimumLength: 8, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, HistorySize: 3}
				if p := tn.Settings.PasswordPolicy; p != want {
					t.Errorf("password policy %+v, want %+v", p, want)
				}
			}},
		{name: "create with part of a policy", args: []string{"tenant", "create", "initech", "--settings", `{"password_policy":{"minimum_length":12}}`, "--json"},
			check: func(t *testing.T, stdout string) {
				var tn adminapi.Tenant
				if err := json.Unmarshal([]byte(stdout), &tn); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				want := adminapi.PasswordPolicy{MinimumLength: 12, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true}
				if p := tn.Settings.PasswordPolicy; p != want {
					t.Errorf("password policy %+v, want %+v", p, want)
				}
			}},
		{name: "nothing to change", args: []string{"tenant", "update", "acme"},
			code: exitUsage, stderr: []string{"nothing to change"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) { return s.cli(t, st.stdin, st.args...) })
}

// --settings - and --settings @FILE read the JSON from standard input and
// from a file, so that a legacy pool's secrets stay off the command line
// (the process list, the shell's history).
func TestTenantSettingsFromStdinOrFile(t *testing.T) {
	s := startServer(t, t.TempDir())
	const secret = "stdin-secret-of-at-least-24-characters"
	legacy := func(secret string) string {
		return `{"legacy":{"kind":"webhook","webhook_url":"https://legacy.example.com/hook","webhook_secret":"` + secret + `"}}`
	}
	file := writeFile(t, "settings.json", `{"locale":"nl"}`)
	missing := filepath.Join(t.TempDir(), "nope.json")
	kept := func(t *testing.T, stdout string) {
		if strings.Contains(stdout, secret) || !strings.Contains(stdout, `"webhook_secret": "********"`) {
			t.Errorf("the secret was not set, or is shown:\n%s", stdout)
		}
	}
	steps := []cliStep{
		{name: "create", args: []string{"tenant", "create", "acme"}},
		{name: "a secret from standard input", args: []string{"tenant", "update", "acme", "--settings", "-", "--json"},
			stdin: legacy(secret) + "\n", check: kept},
		{name: "settings from a file", args: []string{"tenant", "update", "acme", "--settings", "@" + file},
			stdout: []string{"Language", "nl"}},
		{name: "the secret is still set", args: []string{"tenant", "get", "acme", "--json"}, check: kept},
		{name: "nothing on standard input", args: []string{"tenant", "update", "acme", "--settings", "-"},
			code: exitError, stderr: []string{"--settings -: standard input is empty"}},
		{name: "no such file", args: []string{"tenant", "update", "acme", "--settings", "@" + missing},
			code: exitError, stderr: []string{"--settings @" + missing + ": no such file or directory"}},
		{name: "a file that is not JSON", args: []string{"tenant", "update", "acme", "--settings", "@" + writeFile(t, "bad.json", "{")},
			code: exitError, stderr: []string{"--settings is not a settings object"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) { return s.cli(t, st.stdin, st.args...) })
}
