package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// mailCommands show the mail outbox: what waits for the relay, and what was
// given up on and why (docs/mail.md).
func mailCommands() []adminCommand {
	return []adminCommand{{
		verb: "list",
		summary: "Show how many mails wait for delivery, and the mails given up on (refused by the relay, or out of attempts), " +
			"newest first, with who they were for and the relay's last answer; never a body.",
		setup: func(*flag.FlagSet, io.Reader) (checkFunc, runFunc) {
			return nil, func(ctx context.Context, c *apiClient, _ invocation) (output, error) {
				var st adminapi.MailStatus
				raw, err := c.call(ctx, http.MethodGet, "/admin/v1/mail", nil, &st)
				return output{raw: raw, text: func(w io.Writer) { showMailStatus(w, st) }}, err
			}
		},
	}}
}

func showMailStatus(w io.Writer, st adminapi.MailStatus) {
	switch st.Pending {
	case 0:
		fmt.Fprintln(w, "No mail waits for delivery.")
	case 1:
		fmt.Fprintln(w, "1 mail waits for delivery.")
	default:
		fmt.Fprintf(w, "%d mails wait for delivery.\n", st.Pending)
	}
	if len(st.Failed) == 0 {
		fmt.Fprintln(w, "No mail was given up on.")
		return
	}
	fmt.Fprintf(w, "\nGiven up on (kept for %d days, or the audit retention when that is shorter):\n",
		tenant.FailedMailRetention/(24*time.Hour))
	var rows [][]string
	for _, f := range st.Failed {
		rows = append(rows, []string{formatTime(f.FailedAt), f.Tenant, f.Sub, strings.Join(f.To, ", "), f.Subject,
			fmt.Sprint(f.Attempts), f.LastError})
	}
	printTable(w, []string{"GIVEN UP", "TENANT", "SUB", "TO", "SUBJECT", "ATTEMPTS", "LAST ERROR"}, rows)
	fmt.Fprintln(w, "\nA welcome mail goes again, with a new temporary password, with: cognate user resend --tenant SLUG USER")
}
