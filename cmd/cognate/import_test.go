package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// importCLI runs the cognate command line against s, with its connection
// flags added for the commands that talk to the server.
func (s *server) importCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	if len(args) > 1 && args[1] == "cognito" && !slices.Contains(args, "-h") {
		args = append(args, "--server", s.url, "--token-file", s.tokenFile)
	}
	return s.cli(t, stdin, args...)
}

func writeInDir(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportCommandAgainstServer(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	if code, _, stderr := s.cli(t, "", "tenant", "create", "acme", "--server", s.url, "--token-file", s.tokenFile); code != exitOK {
		t.Fatalf("tenant create: %s", stderr)
	}
	users := writeInDir(t, dir, "users.csv", "cognito:username,email,email_verified,given_name,address,cognito:mfa_enabled\n"+
		"ann,ann@example.com,TRUE,Ann,1 Main St\\, Springfield,FALSE\n"+
		"bob,bob@example.com,FALSE,Bob,,FALSE\n"+
		"carol,carol@example.com,TRUE,Carol,,TRUE\n")
	dump := writeInDir(t, dir, "dump.export", `{"Users":[{"Username":"dave","Attributes":[{"Name":"sub","Value":"d0000000-0000-4000-8000-000000000004"},`+
		`{"Name":"email","Value":"dave@example.com"}],"UserStatus":"CONFIRMED","Enabled":false,"Groups":[{"GroupName":"staff"}]}]}`)
	broken := writeInDir(t, dir, "broken.json", `{"Users":[{"Username":"erin"},`)
	// A name with an escape sequence that would turn the terminal red,
	// and one in an attribute's name, which a reason repeats.
	escapes := writeInDir(t, dir, "escapes.json", `{"Username":"esc\u001b[31m3","Attributes":[{"Name":"email","Value":"esc@example.com"}]}`+"\n"+
		`{"Username":"ok","Attributes":[{"Name":"custom:a\u001b[2J","Value":"1"},{"Name":"custom:a\u001b[2J","Value":"2"}]}`)

	steps := []cliStep{
		{name: "usage", args: []string{"import"}, code: exitUsage, stderr: []string{"Usage: cognate import SOURCE", "cognito FILE", `Run "cognate import cognito -h"`}},
		{name: "help", args: []string{"import", "--help"}, stdout: []string{"Usage: cognate import SOURCE", "cognito FILE"}},
		{name: "flags", args: []string{"import", "cognito", "-h"}, stdout: []string{"Usage: cognate import cognito --tenant SLUG FILE [flags]", "-dry-run", "-tenant", "-format"}},
		{name: "unknown source", args: []string{"import", "okta", "x.csv"}, code: exitUsage, stderr: []string{`cognate import: unknown source "okta"; cognito is the one there is`}},
		{name: "no tenant", args: []string{"import", "cognito", users}, code: exitUsage, stderr: []string{"--tenant is required"}},
		{name: "no file", args: []string{"import", "cognito", "--tenant", "acme"}, code: exitUsage,
			stderr: []string{"cognate import cognito needs FILE (a Cognito export, or - for standard input)\n"}},
		{name: "two files", args: []string{"import", "cognito", "--tenant", "acme", users, "more users.csv"}, code: exitUsage,
			stderr: []string{"cognate import cognito takes only FILE (a Cognito export, or - for standard input); got 2: " + users + " 'more users.csv'"}},
		{name: "unknown extension", args: []string{"import", "cognito", "--tenant", "acme", dump}, code: exitUsage,
			stderr: []string{"add --format csv or --format json"}},
		{name: "dry run", args: []string{"import", "cognito", "--tenant", "acme", "--dry-run", users}, code: exitError,
			stdout: []string{`Line 3 ("bob"): The User Record does not set any of the auto verified attributes to true`,
				"Created 2, updated 0, unchanged 0, failed 1.", "Dry run: nothing was written."}},
		{name: "nothing written by the dry run", args: []string{"user", "list", "--tenant", "acme"},
			stdout: []string{"No users"}},
		{name: "import", args: []string{"import", "cognito", users, "--tenant", "acme"}, code: exitError,
			stdout: []string{`Line 3 ("bob"):`, "Created 2, updated 0, unchanged 0, failed 1.", "1 imported users have notes"}},
		{name: "the users are there", args: []string{"user", "list", "--tenant", "acme"},
			stdout: []string{"ann", "carol", "RESET_REQUIRED"}},
		{name: "the escaped comma came over", args: []string{"user", "get", "--tenant", "acme", "ann"},
			stdout: []string{"1 Main St, Springfield"}},
		{name: "again: nothing changes", args: []string{"import", "cognito", "--tenant", "acme", users}, code: exitError,
			stdout: []string{"Created 0, updated 0, unchanged 2, failed 1."}},
		{name: "JSON with --format, as JSON", args: []string{"import", "cognito", "--tenant", "acme", "--format", "json", "--json", dump},
			check: func(t *testing.T, stdout string) {
				var res adminapi.ImportResult
				if err := json.Unmarshal([]byte(stdout), &res); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				if res.Summary != (adminapi.ImportSummary{Created: 1, GroupsCreated: 1}) || res.Lines[0].Sub != "d0000000-0000-4000-8000-000000000004" {
					t.Errorf("%+v", res)
				}
			}},
		{name: "the sub was kept", args: []string{"user", "get", "--tenant", "acme", "d0000000-0000-4000-8000-000000000004"},
			stdout: []string{"dave", "Enabled", "no"}},
		{name: "from standard input", args: []string{"import", "cognito", "--tenant", "acme", "--format", "csv", "-"},
			stdin:  "cognito:username,email,email_verified,cognito:mfa_enabled\nfred,fred@example.com,TRUE,FALSE\n",
			stdout: []string{"Created 1, updated 0, unchanged 0, failed 0."}},
		{name: "a file that breaks part-way", args: []string{"import", "cognito", "--tenant", "acme", broken}, code: exitError,
			stderr: []string{"the file cannot be imported: after user 1: the JSON ends in the middle of a value; the file may be incomplete. Nothing was written."}},
		{name: "control characters in a name", args: []string{"import", "cognito", "--tenant", "acme", "--dry-run", escapes}, code: exitError,
			stdout: []string{`User 1 ("esc\x1b[31m3"): username: `, `User 2 ("ok"): attribute custom:a\x1b[2J appears twice`},
			check: func(t *testing.T, stdout string) {
				if strings.ContainsFunc(stdout, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) {
					t.Errorf("a control character reached the terminal: %q", stdout)
				}
			}},
		{name: "a missing file", args: []string{"import", "cognito", "--tenant", "acme", filepath.Join(dir, "nope.csv")}, code: exitError,
			stderr: []string{"no such file"}},
		{name: "an unknown tenant", args: []string{"import", "cognito", "--tenant", "nope", users}, code: exitError,
			stderr: []string{`tenant "nope" does not exist`}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) { return s.importCLI(t, st.stdin, st.args...) })
}

func TestMigrateCommandAgainstServer(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	if code, _, stderr := s.cli(t, "", "tenant", "create", "acme", "--server", s.url, "--token-file", s.tokenFile); code != exitOK {
		t.Fatalf("tenant create: %s", stderr)
	}
	writeInDir(t, dir, "users-beta.csv", "cognito:username,email,email_verified,cognito:mfa_enabled\nbea,bea@example.com,TRUE,FALSE\n")
	writeInDir(t, dir, "all.json", strings.Join([]string{
		`{"Username":"ann","Attributes":[{"Name":"sub","Value":"a0000000-0000-4000-8000-000000000001"},{"Name":"custom:org","Value":"acme-id"}],"UserStatus":"CONFIRMED","Enabled":true}`,
		`{"Username":"gus","Attributes":[{"Name":"custom:org","Value":"gamma-id"}],"UserStatus":"CONFIRMED","Groups":["leads"]}`,
		`{"Username":"nobody","Attributes":[]}`,
		`{"Username":"stray","Attributes":[{"Name":"custom:org","Value":"unknown-id"}]}`,
		`{"Username":"amy","Attributes":[{"Name":"custom:org","Value":"acme-id"},{"Name":"email","Value":"not-an-address"}]}`,
		`{"Username":"bo","Attributes":[{"Name":"custom:org","Value":"acme-id"}],"UserStatus":"BOGUS"}`,
	}, "\n"))
	mapFile := writeInDir(t, dir, "map.yaml", `
pools:
  - file: users-beta.csv
    tenant: beta
    name: Beta BV
shared:
  file: all.json
  attribute: custom:org
  tenants:
    acme-id: acme
    gamma-id: gamma
  names:
    gamma: Gamma NV
`)
	badMap := writeInDir(t, dir, "bad.yaml", "pools:\n  - file: x.csv\n    tenant: x\n    tennant: y\n")

	code, stdout, stderr := s.importCLI(t, "", "migrate", "cognito", "--map", badMap)
	if code != exitError || !strings.Contains(stderr, badMap+` line 4: unknown key "tennant" in a pool: its keys are file, tenant, name and format`) {
		t.Errorf("bad map: %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, stderr = s.importCLI(t, "", "migrate", "cognito", "--map", mapFile, "--dry-run")
	if code != exitError || !strings.Contains(stdout, "tenant beta does not exist yet") ||
		!strings.Contains(stdout, "== tenant acme, from "+filepath.Join(dir, "all.json")+" (custom:org) ==") ||
		!strings.Contains(stdout, "Dry run: nothing was written.") {
		t.Errorf("dry run: %d\n%s%s", code, stdout, stderr)
	}
	if code, out, _ := s.importCLI(t, "", "tenant", "list", "--server", s.url, "--token-file", s.tokenFile); code != exitOK || strings.Contains(out, "beta") {
		t.Errorf("the dry run created a tenant:\n%s", out)
	}

	code, stdout, stderr = s.importCLI(t, "", "migrate", "cognito", "--map", mapFile)
	for _, want := range []string{
		`User 3 ("nobody"): the user has no custom:org`,
		`User 4 ("stray"): custom:org "unknown-id" is not in the map's tenants`,
		"== tenant beta, from " + filepath.Join(dir, "users-beta.csv") + " ==",
		// amy is the 5th user of all.json, the 2nd of acme's part: the
		// part carries the file's numbers to the server.
		`User 5 ("amy"): "not-an-address" is not an email address`,
		`User 6 ("bo"): UserStatus "BOGUS" is not one of Cognito's statuses`,
		"Tenants created: beta, gamma.",
	} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("migrate output lacks %q:\n%s%s", want, stdout, stderr)
		}
	}
	if code != exitError {
		t.Errorf("exit code %d, want 1: some users failed", code)
	}

	code, stdout, _ = s.importCLI(t, "", "migrate", "cognito", "--map", mapFile, "--json")
	var report migrationReport
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	if code != exitError || len(report.TenantsCreated) != 0 || len(report.Imports) != 3 || len(report.Unassigned) != 3 {
		t.Errorf("second run: %d %+v", code, report)
	}
	for _, imp := range report.Imports {
		if imp.Result == nil || imp.Result.Summary.Created != 0 || imp.Result.Summary.Skipped != 1 ||
			(imp.Tenant == "acme") != (imp.Result.Summary.Failed == 1) {
			t.Errorf("second run into %s: %+v", imp.Tenant, imp.Result)
		}
	}

	for slug, user := range map[string]string{"acme": "ann", "beta": "bea", "gamma": "gus"} {
		code, out, errOut := s.importCLI(t, "", "user", "get", "--tenant", slug, user, "--server", s.url, "--token-file", s.tokenFile)
		if code != exitOK {
			t.Errorf("%s in %s: %s", user, slug, errOut)
		}
		if slug == "gamma" && !strings.Contains(out, "leads") {
			t.Errorf("gus's group:\n%s", out)
		}
	}
	if code, out, _ := s.importCLI(t, "", "tenant", "get", "gamma", "--server", s.url, "--token-file", s.tokenFile); code != exitOK ||
		!strings.Contains(out, "Gamma NV") {
		t.Errorf("tenant gamma:\n%s", out)
	}
}

// A shared pool in CSV is sent to the server split, as JSON, yet what the
// migration reports is of the file the person has: CSV lines, labelled
// "Line", with the numbers of that file, also the earlier line a reason
// names. It is what `cognate import` says of the same file.
func TestMigrateSharedCSVReportsTheFilesLines(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	if code, _, stderr := s.cli(t, "", "tenant", "create", "acme", "--server", s.url, "--token-file", s.tokenFile); code != exitOK {
		t.Fatalf("tenant create: %s", stderr)
	}
	shared := writeInDir(t, dir, "shared.csv", "cognito:username,email,email_verified,custom:org,cognito:mfa_enabled\n"+
		"ann,ann@example.com,TRUE,acme-id,FALSE\n"+ // line 2
		"bea,bea@example.com,TRUE,beta-id,FALSE\n"+
		"cy,cy@example.com,TRUE,beta-id,FALSE\n"+
		"samE,same1@example.com,TRUE,acme-id,FALSE\n"+ // line 5, the 2nd of acme's part
		"dee,dee@example.com,TRUE,beta-id,FALSE\n"+
		"SAME,same2@example.com,TRUE,acme-id,FALSE\n") // line 7, the 3rd of acme's part
	mapFile := writeInDir(t, dir, "map.yaml", "shared:\n  file: shared.csv\n  attribute: custom:org\n  tenants:\n    acme-id: acme\n    beta-id: beta\n")
	const failure = `Line 7 ("SAME"): username "SAME" differs only in case from the one on line 5;`

	code, imported, stderr := s.importCLI(t, "", "import", "cognito", "--tenant", "acme", "--dry-run", shared)
	if code != exitError || !strings.Contains(imported, failure) {
		t.Errorf("import: %d, want the failure %q:\n%s%s", code, failure, imported, stderr)
	}
	code, migrated, stderr := s.importCLI(t, "", "migrate", "cognito", "--map", mapFile, "--dry-run")
	if code != exitError || !strings.Contains(migrated, failure) || strings.Contains(migrated, "User ") {
		t.Errorf("migrate: %d, want the failure %q as import says it:\n%s%s", code, failure, migrated, stderr)
	}

	code, stdout, _ := s.importCLI(t, "", "migrate", "cognito", "--map", mapFile, "--dry-run", "--json")
	var report migrationReport
	if err := json.Unmarshal([]byte(stdout), &report); err != nil || code != exitError {
		t.Fatalf("--json: %d %v\n%s", code, err, stdout)
	}
	var lines []adminapi.ImportLine
	for _, imp := range report.Imports {
		if imp.Tenant == "acme" && imp.Result != nil {
			lines = imp.Result.Lines
		}
	}
	want := []int{2, 5, 7}
	if len(lines) != len(want) {
		t.Fatalf("acme's lines %+v, want lines %v", lines, want)
	}
	for i, l := range lines {
		if l.Line != want[i] {
			t.Errorf("acme's result %d is line %d, want %d", i+1, l.Line, want[i])
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last.Reason, "from the one on line 5;") {
		t.Errorf("the reason of line 7 names another line: %q", last.Reason)
	}
}

// A map is checked whole before anything is made: its keys, each pool's
// format, and that each file opens and begins as its format does. Each
// problem is a sentence naming the map and the line.
func TestMigrateMapProblems(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	writeInDir(t, dir, "good.csv", "cognito:username,email,email_verified,cognito:mfa_enabled\nbea,bea@example.com,TRUE,FALSE\n")
	writeInDir(t, dir, "users.dat", "cognito:username,email,email_verified,cognito:mfa_enabled\n")
	writeInDir(t, dir, "notcsv.csv", "hello\n")
	maps := map[string]string{
		"empty.yaml":     "",
		"comments.yaml":  "# to do\n",
		"noformat.yaml":  "pools:\n  - file: users.dat\n    tenant: acme2\n",
		"badformat.yaml": "pools:\n  - file: good.csv\n    tenant: acme2\n    format: xml\n",
		"misspelt.yaml":  "pools:\n  - file: good.csv\n    tenant: acme2\n    tennant: acme3\n",
		"toplevel.yaml":  "pool:\n  - file: good.csv\n    tenant: acme2\n",
		"twodocs.yaml":   "pools:\n  - file: good.csv\n    tenant: acme2\n---\npools: []\n",
		"missing.yaml":   "pools:\n  - file: good.csv\n    tenant: acme2\n  - file: missing.csv\n    tenant: acme3\n",
		"notcsv.yaml":    "pools:\n  - file: good.csv\n    tenant: acme2\n  - file: notcsv.csv\n    tenant: acme3\n",
		"stdin.yaml":     "pools:\n  - file: \"-\"\n    tenant: acme2\n    format: csv\n",
		"shared.yaml":    "pools:\n  - file: good.csv\n    tenant: acme2\nshared:\n  file: all.json\n  attribute: custom:org\n  tenants:\n    a: acme3\n",
		"json.json":      `{"pools": [{"file": "good.csv", "tenant": "acme2", "tennant": "acme3"}]}`,
		"notalist.yaml":  "pools:\n  file: good.csv\n  tenant: acme2\n",
	}
	path := map[string]string{}
	for name, content := range maps {
		path[name] = writeInDir(t, dir, name, content)
	}
	noTenantMade := func(t *testing.T, _ string) {
		t.Helper()
		if _, stdout, _ := s.cli(t, "", "tenant", "list"); strings.Contains(stdout, "acme") {
			t.Errorf("a refused map created a tenant:\n%s", stdout)
		}
	}
	in := func(name string, line int, problem string) string {
		return fmt.Sprintf("cognate migrate cognito: map %s line %d: %s", path[name], line, problem)
	}
	steps := []cliStep{
		{name: "an empty map", args: []string{"migrate", "cognito", "--map", path["empty.yaml"]}, code: exitError,
			stderr: []string{"map " + path["empty.yaml"] + " is empty: it needs pools:, shared: or both"}},
		{name: "a map of comments", args: []string{"migrate", "cognito", "--map", path["comments.yaml"]}, code: exitError,
			stderr: []string{"map " + path["comments.yaml"] + " is empty"}},
		{name: "a format the name does not tell", args: []string{"migrate", "cognito", "--map", path["noformat.yaml"]}, code: exitError,
			stderr: []string{in("noformat.yaml", 2, fmt.Sprintf("cannot tell the format of %q from its name: add format: csv or format: json", filepath.Join(dir, "users.dat")))}},
		{name: "a format that is not one", args: []string{"migrate", "cognito", "--map", path["badformat.yaml"]}, code: exitError,
			stderr: []string{in("badformat.yaml", 2, `format: "xml": want csv or json`)}},
		{name: "a misspelt key", args: []string{"migrate", "cognito", "--map", path["misspelt.yaml"]}, code: exitError,
			stderr: []string{in("misspelt.yaml", 4, `unknown key "tennant" in a pool: its keys are file, tenant, name and format`)}},
		{name: "a misspelt key at the top", args: []string{"migrate", "cognito", "--map", path["toplevel.yaml"]}, code: exitError,
			stderr: []string{in("toplevel.yaml", 1, `unknown key "pool" in the map: its keys are pools and shared`)}},
		{name: "a misspelt key in JSON", args: []string{"migrate", "cognito", "--map", path["json.json"]}, code: exitError,
			stderr: []string{in("json.json", 1, `unknown key "tennant" in a pool: its keys are file, tenant, name and format`)}},
		{name: "pools that are not a list", args: []string{"migrate", "cognito", "--map", path["notalist.yaml"]}, code: exitError,
			stderr: []string{in("notalist.yaml", 2, "pools must be a list of pools, each with a file and a tenant")}},
		{name: "a second document", args: []string{"migrate", "cognito", "--map", path["twodocs.yaml"]}, code: exitError,
			stderr: []string{in("twodocs.yaml", 5, "a second YAML document begins here, after ---; the file must hold a single document")}},
		{name: "a pool's file missing", args: []string{"migrate", "cognito", "--map", path["missing.yaml"]}, code: exitError,
			stderr: []string{in("missing.yaml", 4, "cannot open "+filepath.Join(dir, "missing.csv")+": no such file or directory")},
			check:  noTenantMade},
		{name: "a pool's file not a Cognito CSV", args: []string{"migrate", "cognito", "--map", path["notcsv.yaml"]}, code: exitError,
			stderr: []string{in("notcsv.yaml", 4, filepath.Join(dir, "notcsv.csv")+" cannot be imported as CSV: the header row")},
			check:  noTenantMade},
		{name: "standard input", args: []string{"migrate", "cognito", "--map", path["stdin.yaml"]}, code: exitError,
			stderr: []string{in("stdin.yaml", 2, "a map cannot read standard input (file: -): name a file")}},
		{name: "the shared file missing", args: []string{"migrate", "cognito", "--map", path["shared.yaml"]}, code: exitError,
			stderr: []string{in("shared.yaml", 5, "cannot open "+filepath.Join(dir, "all.json")+": no such file or directory")}},
		{name: "an argument", args: []string{"migrate", "cognito", "--map", path["missing.yaml"], "more.yaml"}, code: exitUsage,
			stderr: []string{"cognate migrate cognito takes no arguments; got 1: more.yaml (the files are named in the map)"}},
		{name: "no tenant was created", args: []string{"tenant", "list"}, check: noTenantMade},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) {
		code, stdout, stderr := s.importCLI(t, st.stdin, st.args...)
		for _, bad := range []string{"--format", "field ", "main.migration", ": EOF"} {
			if strings.Contains(stderr, bad) {
				t.Errorf("stderr has %q:\n%s", bad, stderr)
			}
		}
		return code, stdout, stderr
	})
}

// The import FILE that the check opens is closed however the command
// ends. The run used to close it, so a command that failed between the
// check and the run (no operator token, a --ca-cert that holds no
// certificate) left it open: in the tests, and in whatever else calls run
// in-process.
func TestImportClosesItsFileWhateverFails(t *testing.T) {
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd to see the open files in")
	}
	dir := t.TempDir()
	file := writeInDir(t, dir, "users.csv", "cognito:username,email\nann,ann@example.com\n")
	notPEM := writeInDir(t, dir, "ca.pem", "kept")
	tokenFile := writeInDir(t, dir, "token", "not-a-real-token\n")
	tests := []struct {
		what string
		args []string
		want string
	}{
		{"no operator token", nil, "no operator token"},
		{"a --ca-cert with no certificate", []string{"--ca-cert", notPEM}, "holds no certificate"},
		{"a server that does not answer", []string{"--token-file", tokenFile}, "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			code, _, stderr := runOffline(t, append([]string{"import", "cognito", "--tenant", "acme", file}, tt.args...)...)
			if code != exitError || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr\n%s\nwant exit %d and %q", code, stderr, exitError, tt.want)
			}
			if n := openFilesNamed(t, file); n > 0 {
				t.Errorf("%s is open %d times after the command ended", file, n)
			}
		})
	}
}

// openFilesNamed is how many of this process's open files are path.
func openFilesNamed(t *testing.T, path string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == path {
			n++
		}
	}
	return n
}
