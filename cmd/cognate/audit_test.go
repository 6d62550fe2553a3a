package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// The audit trail from the command line: a tenant's, filtered and a page
// at a time, the operator's own, and refusals that say what to write.
func TestAuditListCommand(t *testing.T) {
	s := startServer(t, t.TempDir())
	var after string // the cursor the paging steps pass along
	steps := []cliStep{
		{name: "create tenant", args: []string{"tenant", "create", "acme"}},
		{name: "create user", args: []string{"user", "create", "--tenant", "acme", "--username", "ann", "--email", "ann@example.com"}},
		{name: "create and delete a tenant", args: []string{"tenant", "create", "beta"}},
		{name: "delete it", args: []string{"tenant", "delete", "beta", "--yes"}},

		{name: "the tenant's trail", args: []string{"audit", "list", "--tenant", "acme"},
			stdout: []string{"TIME", "ACTION", "ACTOR", "FROM", "TARGET", "user.create", "operator", "127.0.0.1", "ann", "tenant.create"}},
		{name: "a family", args: []string{"audit", "list", "--tenant", "acme", "--action", "user.", "--json"},
			check: func(t *testing.T, stdout string) {
				var page adminapi.AuditPage
				if err := json.Unmarshal([]byte(stdout), &page); err != nil {
					t.Fatal(err)
				}
				if len(page.Events) != 1 || page.Events[0].Action != "user.create" || page.Events[0].Target.Name != "ann" {
					t.Errorf("events %+v", page.Events)
				}
			}},
		{name: "one a page", args: []string{"audit", "list", "--tenant", "acme", "--limit", "1"},
			stdout: []string{"user.create", "More events: cognate audit list --tenant acme --limit 1 --after "},
			check: func(t *testing.T, stdout string) {
				_, after, _ = strings.Cut(stdout, "--after ")
				after = strings.TrimSpace(after)
				if strings.Contains(stdout, "tenant.create") {
					t.Error("the first page holds the second event")
				}
			}},
		{name: "the next page", args: []string{"audit", "list", "--tenant", "acme", "--limit", "1", "--after", "{after}"},
			stdout: []string{"tenant.create"}},
		{name: "the operator's own trail", args: []string{"audit", "list"}, stdout: []string{"tenant.delete", "beta"}},
		{name: "nothing from tomorrow on", args: []string{"audit", "list", "--tenant", "acme", "--from", "2999-01-01"},
			stdout: []string{"No events."}},
		// What the command line can check is refused before anything is
		// sent, in the flags' names, as a command line problem (exit 2).
		{name: "an unknown action", args: []string{"audit", "list", "--tenant", "acme", "--action", "user.frobnicate"},
			code: exitUsage, stderr: []string{`--action "user.frobnicate" is not an action`}},
		{name: "a date written otherwise", args: []string{"audit", "list", "--tenant", "acme", "--to", "1/2/2026"},
			code: exitUsage, stderr: []string{`--to "1/2/2026" is neither a date (2026-11-29, UTC) nor a time`}},
		{name: "a word for a date", args: []string{"audit", "list", "--tenant", "acme", "--from", "yesterday"},
			code: exitUsage, stderr: []string{`--from "yesterday" is neither a date`}},
		{name: "a range that ends before it starts", args: []string{"audit", "list", "--tenant", "acme", "--from", "2026-11-30", "--to", "2026-11-01"},
			code: exitUsage, stderr: []string{`--from 2026-11-30 is after --to 2026-11-01, so no event could match`}},
		{name: "a cursor never handed out", args: []string{"audit", "list", "--tenant", "acme", "--after", "not-a-cursor"},
			code: exitUsage, stderr: []string{`--after "not-a-cursor" is not a cursor of this trail`}},
		{name: "a page of none", args: []string{"audit", "list", "--tenant", "acme", "--limit", "0"},
			code: exitUsage, stderr: []string{"--limit 0: give a whole number from 1 to 200"}},
		{name: "a page too long", args: []string{"audit", "list", "--limit", "201"},
			code: exitUsage, stderr: []string{"--limit 201: give a whole number from 1 to 200"}},
		{name: "a deleted tenant", args: []string{"audit", "list", "--tenant", "beta"},
			code: exitError, stderr: []string{`tenant "beta" does not exist`}},
		{name: "help", args: []string{"audit", "list", "-h"}, stdout: []string{"Usage: cognate audit list", "-action", "-from"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) {
		args := make([]string, len(st.args))
		for i, a := range st.args {
			args[i] = strings.ReplaceAll(a, "{after}", after)
		}
		return s.cli(t, st.stdin, args...)
	})
}
