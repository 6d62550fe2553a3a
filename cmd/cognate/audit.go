package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// auditCommands read the audit trail: a tenant's, or without --tenant the
// operator's own (the tenants deleted, the backups taken).
func auditCommands() []adminCommand {
	return []adminCommand{{
		verb: "list",
		summary: "Show a tenant's audit trail, newest first: every change by its administrators and the operator, " +
			"every change people make to their own account's security, every sign-in outcome. Without --tenant, " +
			"the operator's own trail: the tenants deleted and the backups taken.",
		setup: func(fs *flag.FlagSet, _ io.Reader) (checkFunc, runFunc) {
			slug := fs.String("tenant", "", "tenant slug (without it: the operator's own trail)")
			filters := map[string]*string{
				"action": fs.String("action", "", "an action (user.mfa.enrol) or a family of actions ending in a dot (signin., user.)"),
				"actor":  fs.String("actor", "", "who acted: a sub or a name"),
				"target": fs.String("target", "", "what it was about: a sub, client ID, group or slug, or a name"),
				"from":   fs.String("from", "", "from this date (2026-11-01, UTC) or time (RFC 3339)"),
				"to":     fs.String("to", "", "up to this date (the whole day, UTC) or time (RFC 3339)"),
				"after":  fs.String("after", "", "start after this event (the previous page's next)"),
			}
			limit := fs.Int("limit", 50, fmt.Sprintf("events per page, 1 to %d", tenant.MaxAuditPageSize))
			check := func(invocation) error {
				return checkAuditFilters(*limit, *filters["action"], *filters["from"], *filters["to"], *filters["after"])
			}
			return check, func(ctx context.Context, c *apiClient, _ invocation) (output, error) {
				q := url.Values{"limit": {strconv.Itoa(*limit)}}
				for name, v := range filters {
					if *v != "" {
						q.Set(name, *v)
					}
				}
				path := "/admin/v1/audit"
				if *slug != "" {
					tenant, err := tenantPath(*slug)
					if err != nil {
						return output{}, err
					}
					path = tenant + "/audit"
				}
				var page adminapi.AuditPage
				raw, err := c.call(ctx, http.MethodGet, path+"?"+q.Encode(), nil, &page)
				return output{raw: raw, text: func(w io.Writer) { showAuditPage(w, page, *slug, q) }}, err
			}
		},
	}}
}

// checkAuditFilters refuses, in the flags' names, what the admin API would
// refuse in its query parameters': the rules are the tenant package's.
func checkAuditFilters(limit int, action, from, to, after string) error {
	if err := checkLimit(limit, tenant.MaxAuditPageSize); err != nil {
		return err
	}
	if action != "" && !tenant.ValidAuditFilter(action) {
		return usageError{fmt.Sprintf("--action %q is not an action (such as user.create) nor a family of actions ending in a dot (such as user. or signin.)", action)}
	}
	bound := func(flag, value string, end bool) (time.Time, error) {
		if value == "" {
			return time.Time{}, nil
		}
		t, err := tenant.ParseAuditBound(value, end)
		if err != nil {
			return t, usageError{fmt.Sprintf("--%s %q is neither a date (2026-11-29, UTC) nor a time in RFC 3339 (2026-11-29T13:45:00Z)", flag, value)}
		}
		return t, nil
	}
	start, err := bound("from", from, false)
	if err != nil {
		return err
	}
	end, err := bound("to", to, true)
	if err != nil {
		return err
	}
	if !tenant.ValidAuditRange(start, end) {
		return usageError{fmt.Sprintf("--from %s is after --to %s, so no event could match", from, to)}
	}
	if after != "" && !tenant.ValidAuditCursor(after) {
		return usageError{fmt.Sprintf("--after %q is not a cursor of this trail: pass the --after of a page's \"More events\" line as it is", after)}
	}
	return nil
}

// showAuditPage prints a page of events as a table, and how to get the
// next page.
func showAuditPage(w io.Writer, page adminapi.AuditPage, slug string, q url.Values) {
	if len(page.Events) == 0 {
		fmt.Fprintln(w, "No events.")
	} else {
		var rows [][]string
		for _, ev := range page.Events {
			actor := ev.Actor.Kind
			if ev.Actor.Name != "" {
				actor += ": " + ev.Actor.Name
			}
			var target string
			if ev.Target != nil {
				target = cmp.Or(ev.Target.Name, ev.Target.ID)
			}
			var details []string
			for _, k := range slices.Sorted(maps.Keys(ev.Details)) {
				details = append(details, k+"="+ev.Details[k])
			}
			if ev.Reason != "" {
				details = append([]string{"reason=" + ev.Reason}, details...)
			}
			rows = append(rows, []string{formatTime(ev.Time), ev.Action, actor, ev.Actor.IP, target, strings.Join(details, " ")})
		}
		printTable(w, []string{"TIME", "ACTION", "ACTOR", "FROM", "TARGET", "DETAILS"}, rows)
	}
	if page.Partial {
		fmt.Fprintln(w, "\nThis page stopped at the server's bound on events looked at; more may match.")
	}
	if page.Next != "" {
		next := []string{"cognate audit list"}
		if slug != "" {
			next = append(next, "--tenant", slug)
		}
		for _, name := range []string{"action", "actor", "target", "from", "to", "limit"} {
			if v := q.Get(name); v != "" {
				next = append(next, "--"+name, shellArg(v))
			}
		}
		fmt.Fprintf(w, "\nMore events: %s --after %s\n", strings.Join(next, " "), shellArg(page.Next))
	}
}
