package adminapi

import (
	"net/http"
	"net/url"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// The audit trail, for the operator: a tenant's, and the operator's own,
// which keeps what outlives a tenant (its deletion).

func (a *API) tenantAudit(w http.ResponseWriter, r *http.Request) error {
	return a.auditPage(w, r, r.PathValue("slug"))
}

func (a *API) operatorAudit(w http.ResponseWriter, r *http.Request) error {
	return a.auditPage(w, r, "")
}

// auditPage answers a page of the trail of tenantID ("" for the
// operator's), filtered as the query asks.
func (a *API) auditPage(w http.ResponseWriter, r *http.Request, tenantID string) error {
	q, err := auditQuery(r)
	if err != nil {
		return err
	}
	page, err := a.Service.AuditLog(r.Context(), tenantID, q)
	if err != nil {
		return err
	}
	out := AuditPage{Events: make([]AuditEvent, 0, len(page.Events)), Next: page.Next, Partial: page.BudgetSpent}
	for _, ev := range page.Events {
		out.Events = append(out.Events, auditEventOut(ev))
	}
	return writeJSON(w, http.StatusOK, out)
}

// auditQuery reads the filters of a page of the trail; a filter that
// could not match anything, or a bound that is not a time, is refused
// rather than ignored, so an empty page always means no such events. (A
// filter misspelt or given twice never gets here: checkInput refuses it.)
func auditQuery(r *http.Request) (tenant.AuditQuery, error) {
	in := r.URL.Query()
	q := tenant.AuditQuery{Action: in.Get("action"), Actor: in.Get("actor"), Target: in.Get("target"), After: in.Get("after")}
	if q.Action != "" && !tenant.ValidAuditFilter(q.Action) {
		return q, badRequest("query parameter action: %q is not an action (such as user.create) nor a family of actions (such as user.)", q.Action)
	}
	var err error
	if q.From, err = auditBound(in, "from", false); err != nil {
		return q, err
	}
	if q.To, err = auditBound(in, "to", true); err != nil {
		return q, err
	}
	if !tenant.ValidAuditRange(q.From, q.To) {
		return q, badRequest("query parameters from and to: from %q is after to %q, so no event could match", in.Get("from"), in.Get("to"))
	}
	if q.After != "" && !tenant.ValidAuditCursor(q.After) {
		return q, badRequest("query parameter after: %q is not a cursor of this trail; pass a page's next as it is", q.After)
	}
	q.Limit, err = pageLimit(r, tenant.MaxAuditPageSize)
	return q, err
}

// auditBound reads the query parameter name as a bound of the time range:
// zero when it is not given.
func auditBound(in url.Values, name string, end bool) (time.Time, error) {
	raw := in.Get(name)
	if raw == "" {
		return time.Time{}, nil
	}
	t, err := tenant.ParseAuditBound(raw, end)
	if err != nil {
		return time.Time{}, badRequest("query parameter %s: %q is neither a date (2026-11-29) nor a time in RFC 3339 (2026-11-29T13:45:00Z)", name, raw)
	}
	return t, nil
}

func auditEventOut(ev tenant.AuditEvent) AuditEvent {
	out := AuditEvent{
		ID:      ev.ID,
		Time:    ev.Time,
		Action:  string(ev.Action),
		Actor:   AuditActor{Kind: string(ev.Actor.Kind), Sub: ev.Actor.Sub, Name: ev.Actor.Name, IP: ev.Actor.IP},
		Reason:  ev.Reason,
		Details: ev.Details,
	}
	if ev.Target != (tenant.AuditTarget{}) {
		out.Target = &AuditTarget{Kind: ev.Target.Kind, ID: ev.Target.ID, Name: ev.Target.Name}
	}
	return out
}
