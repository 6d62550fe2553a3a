package console

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cognate-idp/cognate/tenant"
)

// The audit trail: newest first, filtered by action, actor, target and a
// range of days (UTC), a page at a time with the service's bounded scan.

type auditPage struct {
	frame
	Actions          []option
	Actor, Target    string
	From, To         string // yyyy-mm-dd
	Events           []auditRow
	NextURL          string
	FirstURL         string
	BudgetSpent      bool
	Examined         int
	Filtered, Failed bool
	// Refused says the filter can match nothing as asked (Problem says
	// why): the trail is not shown, as it would read "no events".
	Refused bool
	// Invalid names the filter field Problem is about ("action", "from"
	// or "to"), for aria-invalid and the focus.
	Invalid string
}

type auditRow struct {
	tenant.AuditEvent
	ActionText string
	ActorText  string
	TargetText string
	ReasonText string
	Details    string
}

func (auditPage) template() string { return tmplAudit }

func (c *Console) auditLog(w http.ResponseWriter, r *http.Request, q *request) error {
	in := r.URL.Query()
	page := &auditPage{frame: c.frame(q, "audit"), Actor: strings.TrimSpace(in.Get("actor")),
		Target: strings.TrimSpace(in.Get("target")), From: in.Get("from"), To: in.Get("to")}
	query := tenant.AuditQuery{Actor: page.Actor, Target: page.Target, Limit: 50}

	action := in.Get("action")
	families := []string{"signin.", "console.", "user.", "group.", "client.", "tenant."}
	page.Actions = append(page.Actions, option{Value: "", Label: page.T("audit.action.all"), Selected: action == ""})
	for _, fam := range families {
		page.Actions = append(page.Actions, option{Value: fam, Label: page.T("audit.family." + strings.TrimSuffix(fam, ".")), Selected: action == fam})
	}
	for _, a := range tenant.AuditActions() {
		page.Actions = append(page.Actions, option{Value: string(a), Label: page.actionText(a), Selected: action == string(a)})
	}
	if tenant.ValidAuditFilter(action) {
		query.Action = action
	}
	if page.From != "" {
		t, err := tenant.ParseAuditBound(page.From, false)
		if err != nil {
			page.Problem, page.From, page.Invalid = page.T("problem.date"), "", "from"
		}
		query.From = t
	}
	if page.To != "" {
		t, err := tenant.ParseAuditBound(page.To, true)
		if err != nil {
			page.Problem, page.To = page.T("problem.date"), ""
			if page.Invalid == "" {
				page.Invalid = "to"
			}
		}
		query.To = t
	}
	// A filter that can match nothing as asked is refused, as the admin
	// API refuses it, rather than shown as an empty trail or, for an
	// action not in the list, dropped unseen to show every action.
	switch {
	case action != "" && query.Action == "":
		page.Problem, page.Refused, page.Invalid = page.Tf("problem.auditAction", action), true, "action"
	case !tenant.ValidAuditRange(query.From, query.To):
		page.Problem, page.Refused, page.Invalid = page.Tf("problem.auditRange", page.From, page.To), true, "from"
	}
	if page.Refused {
		return c.render(w, http.StatusBadRequest, page)
	}
	after, err := readCursor(in, tenant.ValidAuditCursor)
	if err != nil {
		return err
	}
	query.After = after
	page.Filtered = query.Action != "" || query.Actor != "" || query.Target != "" || page.From != "" || page.To != ""

	result, err := c.Service.AuditLog(r.Context(), q.slug(), query)
	if err != nil {
		return err
	}
	for _, ev := range result.Events {
		page.Events = append(page.Events, page.auditRow(ev))
	}
	page.BudgetSpent, page.Examined = result.BudgetSpent, result.Examined
	link := url.Values{}
	for k, v := range map[string]string{"action": query.Action, "actor": page.Actor, "target": page.Target, "from": page.From, "to": page.To} {
		if v != "" {
			link.Set(k, v)
		}
	}
	page.FirstURL, page.NextURL = pageLinks("/admin/audit", link, query.After, result.Next)
	return c.render(w, http.StatusOK, page)
}

// detailName names the fact of an event's details under key in the page's
// language; a key the catalogue does not name (one a newer Cognate wrote)
// is shown as it is.
func (f *frame) detailName(key string) string {
	if s, ok := lookup(f.Lang, "audit.detail."+key); ok {
		return s
	}
	return key
}

// actionText names an action in the page's language.
func (f *frame) actionText(a tenant.AuditAction) string { return f.T("audit." + string(a)) }

func (f *frame) auditRow(ev tenant.AuditEvent) auditRow {
	row := auditRow{AuditEvent: ev, ActionText: f.actionText(ev.Action)}
	row.ActorText = f.T("audit.actor." + string(ev.Actor.Kind))
	if ev.Actor.Name != "" {
		row.ActorText += ": " + ev.Actor.Name
	}
	row.TargetText = ev.Target.Name
	if row.TargetText == "" {
		row.TargetText = ev.Target.ID
	}
	if ev.Reason != "" {
		row.ReasonText = f.T("audit.reason." + ev.Reason)
	}
	var details []string
	for _, k := range slices.Sorted(maps.Keys(ev.Details)) {
		details = append(details, f.detailName(k)+": "+ev.Details[k])
	}
	row.Details = strings.Join(details, "; ")
	return row
}
