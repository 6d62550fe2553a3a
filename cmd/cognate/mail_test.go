package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// The operator sees the outbox from the command line: the mail given up
// on, with who it was for and why, never its body.
func TestMailListCommand(t *testing.T) {
	dir := t.TempDir()
	const secret = "Xq7#pL2!vR9z"
	// A mail the relay refused, given up on before this start.
	store, err := bolt.Open(filepath.Join(dir, "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	err = store.Update(t.Context(), func(tx tenant.Tx) error {
		return tenant.EnqueueMail(tx, tenant.MailOwner{TenantID: "acme", Sub: "sub-of-ann"}, mail.Message{ID: "refused",
			To: []string{"ann@example.com"}, Subject: "Your account for Acme BV", Text: "Temporary password: " + secret, Sensitive: true}, time.Now())
	})
	if err == nil {
		err = tenant.MailQueue{Store: store}.Failed(t.Context(), "refused", 1, time.Time{}, "smtp rcpt to: 550 5.1.1 No such user", true)
	}
	if err != nil {
		t.Fatal(err)
	}
	store.Close()

	s := startServer(t, dir)
	steps := []cliStep{
		{name: "list", args: []string{"mail", "list"},
			stdout: []string{"No mail waits for delivery.", "GIVEN UP", "acme", "sub-of-ann", "ann@example.com", "Your account for Acme BV",
				"550 5.1.1 No such user", "cognate user resend"},
			check: func(t *testing.T, stdout string) {
				if strings.Contains(stdout, secret) {
					t.Errorf("the list shows a body:\n%s", stdout)
				}
			}},
		{name: "as JSON", args: []string{"mail", "list", "--json"},
			check: func(t *testing.T, stdout string) {
				var st adminapi.MailStatus
				if err := json.Unmarshal([]byte(stdout), &st); err != nil {
					t.Fatal(err)
				}
				if st.Pending != 0 || len(st.Failed) != 1 || st.Failed[0].ID != "refused" || st.Failed[0].Tenant != "acme" || st.Failed[0].Attempts != 1 {
					t.Errorf("mail list --json = %+v", st)
				}
			}},
		{name: "no arguments", args: []string{"mail", "list", "refused"}, code: exitUsage, stderr: []string{"takes no arguments"}},
		{name: "help", args: []string{"mail", "list", "-h"}, stdout: []string{"Usage: cognate mail list", "never a body"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) {
		return s.cli(t, st.stdin, st.args...)
	})
}
