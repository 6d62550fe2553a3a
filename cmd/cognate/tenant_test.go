package main

import (
	"encoding/json"
	"testing"

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
			code: exitError, stderr: []string{"overlap_seconds must be from 0 to 604800"}},
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
		{name: "nothing to change", args: []string{"tenant", "update", "acme"},
			code: exitUsage, stderr: []string{"nothing to change"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) { return s.cli(t, st.stdin, st.args...) })
}
