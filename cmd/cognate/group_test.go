package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// The group verbs and tenant update --admin-group against a running
// development server, step by step.
func TestGroupCommands(t *testing.T) {
	s := startServer(t, t.TempDir())
	must := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := s.cli(t, "", args...)
		if code != exitOK {
			t.Fatalf("cognate %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		return stdout
	}
	must("tenant", "create", "acme")
	must("user", "create", "--tenant", "acme", "--username", "ann", "--email", "ann@example.com")
	var bob adminapi.User
	if err := json.Unmarshal([]byte(must("user", "create", "--tenant", "acme", "--username", "bob", "--json")), &bob); err != nil {
		t.Fatal(err)
	}
	userGroups := func(t *testing.T, user string) []string {
		t.Helper()
		var u adminapi.User
		if err := json.Unmarshal([]byte(must("user", "get", "--tenant", "acme", user, "--json")), &u); err != nil {
			t.Fatal(err)
		}
		slices.Sort(u.Groups)
		return u.Groups
	}

	steps := []cliStep{
		// A tenant is made with its admin group.
		{name: "list the new tenant's", args: []string{"group", "list", "--tenant", "acme"},
			stdout: []string{"NAME", "ADMIN GROUP", "admins  yes"}},
		{name: "create with a space", args: []string{"group", "create", "Sales EMEA", "--tenant", "acme"},
			stdout: []string{"Group ", "Sales EMEA", "Created"}},
		{name: "create with description and precedence", args: []string{"group", "create", "--tenant", "acme", "--description", "Night shift", "--precedence", "7", "ops"},
			stdout: []string{"Description  Night shift", "Precedence   7"}},
		{name: "create with a negative precedence", args: []string{"group", "create", "--tenant", "acme", "--precedence", "-1", "ops2"},
			code: exitUsage, stderr: []string{"a group precedence must be a whole number from 0 to 2147483647"}},
		{name: "create with a word for precedence", args: []string{"group", "create", "--tenant", "acme", "--precedence", "high", "ops2"},
			code: exitUsage, stderr: []string{`--precedence "high": give a whole number`}},
		{name: "create with a long description", args: []string{"group", "create", "--tenant", "acme", "--description", strings.Repeat("é", 2049), "ops2"},
			code: exitUsage, stderr: []string{"at most 2048 characters; this one has 2049"}},
		{name: "the refused groups were not made", args: []string{"group", "get", "--tenant", "acme", "ops2"},
			code: exitError, stderr: []string{`has no group "ops2"`}},
		{name: "change the precedence only", args: []string{"group", "update", "--tenant", "acme", "--precedence", "3", "ops"},
			stdout: []string{"Description  Night shift", "Precedence   3"}},
		{name: "remove description and precedence", args: []string{"group", "update", "--tenant", "acme", "--precedence", "none", "--description", "", "ops"},
			check: func(t *testing.T, stdout string) {
				if strings.Contains(stdout, "Description") || strings.Contains(stdout, "Precedence") {
					t.Errorf("still shown:\n%s", stdout)
				}
			}},
		{name: "update without a change", args: []string{"group", "update", "--tenant", "acme", "ops"},
			code: exitUsage, stderr: []string{"nothing to change"}},
		{name: "delete ops", args: []string{"group", "delete", "--tenant", "acme", "ops"}},
		{name: "create duplicate", args: []string{"group", "create", "--tenant", "acme", "admins"},
			code: exitError, stderr: []string{`tenant "acme" already has a group with that name`}},
		{name: "create bad name", args: []string{"group", "create", "--tenant", "acme", "admins "},
			code: exitUsage, stderr: []string{"may not start or end with a space"}},
		{name: "create without tenant", args: []string{"group", "create", "ops"},
			code: exitUsage, stderr: []string{"--tenant is required"}},
		{name: "list", args: []string{"group", "list", "--tenant", "acme"},
			stdout: []string{"NAME", "ADMIN GROUP", "admins      yes", "Sales EMEA  no"}},
		{name: "list as JSON", args: []string{"group", "list", "--tenant", "acme", "--json"},
			check: func(t *testing.T, stdout string) {
				var list adminapi.GroupList
				if err := json.Unmarshal([]byte(stdout), &list); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				// In byte order: capitals first.
				if len(list.Groups) != 2 || list.Groups[0].Name != "Sales EMEA" || list.Groups[1].Name != "admins" {
					t.Errorf("groups %+v", list.Groups)
				}
			}},
		{name: "get", args: []string{"group", "get", "--tenant", "acme", "Sales EMEA"},
			stdout: []string{"Sales EMEA", "Admin group  no", "cognate group members --tenant acme 'Sales EMEA'"}},
		{name: "get unknown", args: []string{"group", "get", "--tenant", "acme", "nope"},
			code: exitError, stderr: []string{`tenant "acme" has no group "nope"`}},
		{name: "add by username", args: []string{"group", "add-user", "--tenant", "acme", "admins", "ann"},
			stdout: []string{"Added ann to group admins."},
			check: func(t *testing.T, _ string) {
				if got := userGroups(t, "ann"); !slices.Equal(got, []string{"admins"}) {
					t.Errorf("ann's groups: %v", got)
				}
			}},
		{name: "add again", args: []string{"group", "add-user", "--tenant", "acme", "admins", "ann"},
			stdout: []string{"Added ann to group admins."},
			check: func(t *testing.T, _ string) {
				if got := userGroups(t, "ann"); !slices.Equal(got, []string{"admins"}) {
					t.Errorf("ann's groups: %v", got)
				}
			}},
		{name: "add by sub", args: []string{"group", "add-user", "--tenant", "acme", "Sales EMEA", bob.Sub},
			check: func(t *testing.T, _ string) {
				if got := userGroups(t, "bob"); !slices.Equal(got, []string{"Sales EMEA"}) {
					t.Errorf("bob's groups: %v", got)
				}
			}},
		{name: "add bob to admins", args: []string{"group", "add-user", "--tenant", "acme", "admins", "bob"}},
		{name: "add unknown user", args: []string{"group", "add-user", "--tenant", "acme", "admins", "zed"},
			code: exitError, stderr: []string{`tenant "acme" has no user "zed"`}},
		{name: "add to unknown group", args: []string{"group", "add-user", "--tenant", "acme", "nope", "ann"},
			code: exitError, stderr: []string{`tenant "acme" has no group "nope"`}},
		{name: "add without user", args: []string{"group", "add-user", "--tenant", "acme", "admins"},
			code: exitUsage, stderr: []string{"cognate group add-user needs GROUP (a group's name) and USER (a username or a sub); got 1: admins\n"}},
		{name: "members", args: []string{"group", "members", "--tenant", "acme", "admins"},
			stdout: []string{"USERNAME", "ann", "bob", bob.Sub}, check: func(t *testing.T, stdout string) {
				if strings.Contains(stdout, "More members") {
					t.Errorf("a second page offered:\n%s", stdout)
				}
			}},
		{name: "members page", args: []string{"group", "members", "--tenant", "acme", "--limit", "1", "admins"},
			stdout: []string{"More members: cognate group members --tenant acme --limit 1 --after "},
			check: func(t *testing.T, stdout string) {
				if !strings.HasSuffix(stdout, " admins\n") {
					t.Errorf("the next page's command does not end with the group:\n%s", stdout)
				}
			}},
		{name: "members as JSON", args: []string{"group", "members", "--tenant", "acme", "Sales EMEA", "--json"},
			check: func(t *testing.T, stdout string) {
				var page adminapi.UserPage
				if err := json.Unmarshal([]byte(stdout), &page); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				if len(page.Users) != 1 || page.Users[0].Username != "bob" {
					t.Errorf("members %+v", page.Users)
				}
			}},
		{name: "members of unknown group", args: []string{"group", "members", "--tenant", "acme", "nope"},
			code: exitError, stderr: []string{`has no group "nope"`}},
		{name: "rename", args: []string{"group", "update", "--tenant", "acme", "--name", "Sales", "Sales EMEA"},
			stdout: []string{"Group ", "Sales\n"},
			check: func(t *testing.T, _ string) {
				if got := userGroups(t, "bob"); !slices.Equal(got, []string{"Sales", "admins"}) {
					t.Errorf("bob's groups: %v", got)
				}
			}},
		{name: "rename to a taken name", args: []string{"group", "update", "--tenant", "acme", "--name", "admins", "Sales"},
			code: exitError, stderr: []string{"already has a group with that name"}},
		{name: "update without a group", args: []string{"group", "update", "--tenant", "acme", "--name", "Sales"},
			code: exitUsage, stderr: []string{"cognate group update needs NAME (a group's name)\n"}},
		{name: "a group name of two words, unquoted", args: []string{"group", "get", "--tenant", "acme", "Sales", "EMEA"},
			code: exitUsage, stderr: []string{"cognate group get takes only NAME (a group's name); got 2: Sales EMEA (put a value with spaces in quotes)"}},
		{name: "delete the admin group", args: []string{"group", "delete", "--tenant", "acme", "admins"},
			code: exitError, stderr: []string{`group "admins" is the admin group of tenant "acme"`}},
		{name: "tenant shows its admin group", args: []string{"tenant", "get", "acme"},
			stdout: []string{"Admin group", "admins"}},
		{name: "tenant update needs a change", args: []string{"tenant", "update", "acme"},
			code: exitUsage, stderr: []string{"nothing to change"}},
		{name: "admin group that does not exist", args: []string{"tenant", "update", "acme", "--admin-group", "nope"},
			code: exitError, stderr: []string{`there is no group "nope"`}},
		{name: "choose another admin group", args: []string{"tenant", "update", "acme", "--admin-group", "Sales", "--name", "Acme BV"},
			stdout: []string{"Admin group", "Sales", "Acme BV"}},
		{name: "list after the change", args: []string{"group", "list", "--tenant", "acme"},
			stdout: []string{"admins  no", "Sales   yes"}},
		{name: "delete", args: []string{"group", "delete", "--tenant", "acme", "admins"},
			stdout: []string{"Deleted group admins of tenant acme."},
			check: func(t *testing.T, _ string) {
				if got := userGroups(t, "ann"); len(got) != 0 {
					t.Errorf("ann's groups: %v", got)
				}
			}},
		{name: "delete unknown", args: []string{"group", "delete", "--tenant", "acme", "admins"},
			code: exitError, stderr: []string{`has no group "admins"`}},
		{name: "remove", args: []string{"group", "remove-user", "--tenant", "acme", "Sales", "bob"},
			stdout: []string{"Removed bob from group Sales."},
			check: func(t *testing.T, _ string) {
				if got := userGroups(t, "bob"); len(got) != 0 {
					t.Errorf("bob's groups: %v", got)
				}
			}},
		{name: "remove again", args: []string{"group", "remove-user", "--tenant", "acme", "Sales", "bob"},
			stdout: []string{"Removed bob from group Sales."}},
		{name: "remove unknown user", args: []string{"group", "remove-user", "--tenant", "acme", "Sales", "zed"},
			code: exitError, stderr: []string{`has no user "zed"`}},
		{name: "members of an empty group", args: []string{"group", "members", "--tenant", "acme", "Sales"},
			stdout: []string{"Group Sales has no members. Add one with: cognate group add-user --tenant acme Sales USER"}},
		{name: "help", args: []string{"group", "--help"},
			stdout: []string{"Usage: cognate group VERB", "create NAME", "update NAME", "members NAME", "add-user GROUP USER", "remove-user GROUP USER"}},
		{name: "unknown verb", args: []string{"group", "join"}, code: exitUsage, stderr: []string{`unknown command "join"`}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) { return s.cli(t, st.stdin, st.args...) })
}

func TestShellArg(t *testing.T) {
	for in, want := range map[string]string{
		"admins":     "admins",
		"a/b":        "a/b",
		"Sales EMEA": "'Sales EMEA'",
		"ann's":      `'ann'\''s'`,
		"$HOME":      "'$HOME'",
		"":           "''",
	} {
		if got := shellArg(in); got != want {
			t.Errorf("shellArg(%q) = %s, want %s", in, got, want)
		}
	}
}
