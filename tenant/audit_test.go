package tenant_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// auditTrail reads a tenant's whole trail, newest first.
func auditTrail(t *testing.T, svc *tenant.Service, tenantID string) []tenant.AuditEvent {
	t.Helper()
	page, err := svc.AuditLog(t.Context(), tenantID, tenant.AuditQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

func actions(events []tenant.AuditEvent) []string {
	var out []string
	for _, ev := range events {
		out = append(out, string(ev.Action))
	}
	return out
}

func TestAuditRecordsChangesWithTheActor(t *testing.T) {
	svc, clock := newService(t)
	op := tenant.WithActor(context.Background(), tenant.Actor{Kind: tenant.ActorOperator, Name: "operator", IP: "192.0.2.1"})
	if _, err := svc.CreateTenant(op, tenant.NewTenant{Slug: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if _, err := svc.CreateGroup(op, "acme", tenant.Group{Name: "staff"}); err != nil {
		t.Fatal(err)
	}
	admin := tenant.WithActor(context.Background(), tenant.Actor{Kind: tenant.ActorAdmin, Sub: "sub-of-ann", Name: "ann", IP: "198.51.100.7"})
	clock.Advance(time.Second)
	u, err := svc.CreateUser(admin, "acme", tenant.NewUser{Username: "bob", Email: "bob@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	name, off := "Bob", false
	if _, err := svc.UpdateUser(admin, "acme", u.Sub, tenant.UserChange{
		Attributes: map[string]*string{"name": &name}, Enabled: &off, Groups: &[]string{"staff"},
	}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if err := svc.SetPassword(admin, "acme", u.Sub, "Secret-Pass-1!", false); err != nil {
		t.Fatal(err)
	}
	// Without an actor in the context, the system acted.
	clock.Advance(time.Second)
	if err := svc.DeleteUser(context.Background(), "acme", u.Sub); err != nil {
		t.Fatal(err)
	}

	events := auditTrail(t, svc, "acme")
	// One change made both user.update and user.disable at the same
	// instant; events of one instant come in no particular order.
	if events[2].Action == tenant.AuditUserDisable {
		events[2], events[3] = events[3], events[2]
	}
	want := []string{"user.delete", "user.password.set", "user.update", "user.disable", "user.create", "group.create", "tenant.create"}
	if got := actions(events); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("actions, newest first:\n got %v\nwant %v", got, want)
	}
	if a := events[0].Actor; a.Kind != tenant.ActorSystem {
		t.Errorf("delete without an actor: %+v", a)
	}
	upd := events[2]
	if upd.Actor != (tenant.Actor{Kind: tenant.ActorAdmin, Sub: "sub-of-ann", Name: "ann", IP: "198.51.100.7"}) {
		t.Errorf("update actor %+v", upd.Actor)
	}
	if upd.Target != (tenant.AuditTarget{Kind: tenant.TargetUser, ID: u.Sub, Name: "bob"}) {
		t.Errorf("update target %+v", upd.Target)
	}
	if upd.Details["fields"] != "name,groups" || upd.Details["groups"] != "staff" {
		t.Errorf("update details %v", upd.Details)
	}
	if events[6].Actor.Kind != tenant.ActorOperator || !events[6].Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("tenant.create: %+v", events[6])
	}
	// Nothing secret ends up in the trail. The events' IDs are random
	// text, which can hold "Bob" by chance: they are left out.
	for i := range events {
		events[i].ID = ""
	}
	raw, _ := json.Marshal(events)
	if strings.Contains(string(raw), "Secret-Pass-1!") || strings.Contains(string(raw), "Bob") {
		t.Errorf("the trail holds a value it should only name: %s", raw)
	}
}

// Every change of a user's attributes is recorded with the names of the
// attributes changed, also when the user had attributes before (the event
// compares the user before and after the change).
func TestAuditNamesEveryAttributeChange(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Attributes: map[string]string{"given_name": "Ann"}})
	if err != nil {
		t.Fatal(err)
	}
	val := func(s string) *string { return &s }
	email := "ann@example.com"
	for _, change := range []tenant.UserChange{
		{Attributes: map[string]*string{"given_name": val("Anna")}},
		{Attributes: map[string]*string{"family_name": val("Smith")}},
		{Attributes: map[string]*string{"given_name": nil}},
		{Attributes: map[string]*string{"custom:team": val("ops")}, Email: &email},
		{Attributes: map[string]*string{"family_name": val("Smith")}}, // the value it has
	} {
		clock.Advance(time.Second)
		if _, err := svc.UpdateUser(ctx, "acme", u.Sub, change); err != nil {
			t.Fatal(err)
		}
	}
	page, err := svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: string(tenant.AuditUserUpdate)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range page.Events {
		got = append(got, ev.Details["fields"])
	}
	want := []string{"email,custom:team", "given_name", "family_name", "given_name"} // newest first
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("fields of the user.update events %q, want %q", got, want)
	}
}

// Settings sent again unchanged (a form saved twice) store and record
// nothing, and do not reload the tenant.
func TestUpdateTenantWithoutChange(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	created, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	var reloaded int
	svc.Changed = func(context.Context, string) { reloaded++ }
	same, locale := "Acme", "en"
	got, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Name: &same, Settings: tenant.SettingsChange{Locale: &locale}})
	if err != nil {
		t.Fatal(err)
	}
	if !got.UpdatedAt.Equal(created.UpdatedAt) || got.Name != "Acme" || reloaded != 0 {
		t.Errorf("an unchanged tenant was written: updated %v (was %v), reloaded %d", got.UpdatedAt, created.UpdatedAt, reloaded)
	}
	if n := len(auditTrail(t, svc, "acme")); n != 1 {
		t.Errorf("%d events, want only tenant.create", n)
	}
	for _, name := range []string{"", strings.Repeat("株", 129), "Bad\x00Name", "Line\nBreak", "Acme\xff"} {
		if _, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Name: &name}); !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("name %q: %v, want ErrInvalid", name, err)
		}
	}
	long := strings.Repeat("株", 128) // 384 bytes, 128 characters
	if _, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Name: &long}); err != nil {
		t.Errorf("a name of 128 characters: %v", err)
	}
}

// A user saved unchanged (an edit form saved untouched, a PATCH with {}, or
// values the user has already, groups in another order) stores and records
// nothing: updated_at stays.
func TestUpdateUserWithoutChange(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"staff", "ops"} {
		if _, err := svc.CreateGroup(ctx, "acme", tenant.Group{Name: g}); err != nil {
			t.Fatal(err)
		}
	}
	created, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true,
		Attributes: map[string]string{"given_name": "Ann"}, Groups: []string{"staff", "ops"}})
	if err != nil {
		t.Fatal(err)
	}
	events := len(auditTrail(t, svc, "acme"))
	val := func(s string) *string { return &s }
	on, verified, email := true, true, "ann@example.com"
	for name, change := range map[string]tenant.UserChange{
		"nothing":               {},
		"the values it has":     {Email: &email, EmailVerified: &verified, Enabled: &on, Attributes: map[string]*string{"given_name": val("Ann")}},
		"an attribute it lacks": {Attributes: map[string]*string{"family_name": nil}},
		"its groups, reordered": {Groups: &[]string{"ops", "staff"}},
	} {
		clock.Advance(time.Second)
		got, err := svc.UpdateUser(ctx, "acme", created.Sub, change)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		stored, err := svc.User(ctx, "acme", created.Sub)
		if err != nil {
			t.Fatal(err)
		}
		if !stored.UpdatedAt.Equal(created.UpdatedAt) || !got.UpdatedAt.Equal(created.UpdatedAt) || got.Attributes["given_name"] != "Ann" {
			t.Errorf("%s: the user was written: updated %v (was %v), returned %+v", name, stored.UpdatedAt, created.UpdatedAt, got)
		}
	}
	if n := len(auditTrail(t, svc, "acme")); n != events {
		t.Errorf("%d events, want the %d before", n, events)
	}
	// A real change is written and recorded as before.
	clock.Advance(time.Second)
	got, err := svc.UpdateUser(ctx, "acme", created.Sub, tenant.UserChange{Attributes: map[string]*string{"given_name": val("Anna")}})
	if err != nil || !got.UpdatedAt.After(created.UpdatedAt) {
		t.Errorf("a change: %v, updated %v (was %v)", err, got.UpdatedAt, created.UpdatedAt)
	}
	if n := len(auditTrail(t, svc, "acme")); n != events+1 {
		t.Errorf("%d events, want %d", n, events+1)
	}
}

// A change that fails records nothing: the event is in its transaction.
func TestAuditFailedChangeRecordsNothing(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	before := len(auditTrail(t, svc, "acme"))
	if _, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Groups: []string{"nope"}}); err == nil {
		t.Fatal("a user in a missing group was created")
	}
	if got := len(auditTrail(t, svc, "acme")); got != before {
		t.Errorf("a failed change left %d events", got-before)
	}
}

func TestAuditQuery(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	start := clock.Now()
	ann := tenant.Actor{Kind: tenant.ActorUser, Sub: "s-ann", Name: "Ann"}
	for i := range 30 {
		clock.Advance(time.Minute)
		ev := tenant.AuditEvent{Action: tenant.AuditSignIn, Actor: ann, Target: tenant.AuditTarget{Kind: tenant.TargetUser, ID: "s-ann", Name: "ann"}}
		if i%3 == 0 {
			ev.Action, ev.Reason = tenant.AuditSignInFailure, tenant.ReasonWrongPassword
			ev.Actor = tenant.Actor{Kind: tenant.ActorUser, Name: "eve", IP: "203.0.113.9"}
		}
		svc.RecordEvent(ctx, "acme", ev)
	}
	minute := func(n int) time.Time { return start.Add(time.Duration(n) * time.Minute) }

	tests := []struct {
		name  string
		q     tenant.AuditQuery
		count int
	}{
		{"everything", tenant.AuditQuery{Limit: 200}, 31},
		{"one action", tenant.AuditQuery{Action: "signin.failure", Limit: 200}, 10},
		{"a family", tenant.AuditQuery{Action: "signin.", Limit: 200}, 30},
		{"actor by name, any case", tenant.AuditQuery{Actor: "EVE", Limit: 200}, 10},
		{"actor by sub", tenant.AuditQuery{Actor: "s-ann", Limit: 200}, 20},
		{"target", tenant.AuditQuery{Target: "ann", Limit: 200}, 30},
		{"from", tenant.AuditQuery{From: minute(21), Limit: 200}, 10},
		{"to", tenant.AuditQuery{To: minute(10), Limit: 200}, 11}, // with tenant.create
		{"between", tenant.AuditQuery{From: minute(5), To: minute(14), Limit: 200}, 10},
		{"from before UnixNano's range", tenant.AuditQuery{From: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), Limit: 200}, 31},
		{"to before UnixNano's range", tenant.AuditQuery{To: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), Limit: 200}, 0},
		{"from after UnixNano's range", tenant.AuditQuery{From: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), Limit: 200}, 0},
		{"to after UnixNano's range", tenant.AuditQuery{To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), Limit: 200}, 31},
		{"between, filtered", tenant.AuditQuery{From: minute(1), To: minute(10), Action: "signin.failure", Limit: 200}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := svc.AuditLog(ctx, "acme", tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) != tt.count || page.Next != "" {
				t.Errorf("%d events, next %q; want %d and no next", len(page.Events), page.Next, tt.count)
			}
			for i := 1; i < len(page.Events); i++ {
				if page.Events[i].Time.After(page.Events[i-1].Time) {
					t.Fatalf("not newest first at %d", i)
				}
			}
		})
	}

	// Paging visits every event once, newest first.
	var seen []tenant.AuditEvent
	q := tenant.AuditQuery{Limit: 7}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		page, err := svc.AuditLog(ctx, "acme", q)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, page.Events...)
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if len(seen) != 31 || seen[0].Time != minute(30) || seen[30].Action != tenant.AuditTenantCreate {
		t.Errorf("paged through %d events", len(seen))
	}

	// A rare filter stops at its budget and says so, with a cursor.
	page, err := svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: "tenant.create", Budget: 12})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 0 || !page.BudgetSpent || page.Examined != 12 || page.Next == "" {
		t.Fatalf("budgeted page: %d events, spent %v, examined %d, next %q", len(page.Events), page.BudgetSpent, page.Examined, page.Next)
	}
	page, err = svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: "tenant.create", Budget: 100, After: page.Next})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("after the budget: %v, %d events", err, len(page.Events))
	}

	if _, err := svc.AuditLog(ctx, "nope", tenant.AuditQuery{}); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
}

// A filter that could not match anything is one the front ends refuse,
// rather than answer with an empty trail: a range that ends before it
// starts, a cursor the trail never handed out. AuditLog itself refuses
// such a cursor.
func TestAuditFiltersThatCannotMatch(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	clock.Advance(time.Minute)
	svc.RecordEvent(ctx, "acme", tenant.AuditEvent{Action: tenant.AuditSignIn})
	page, err := svc.AuditLog(ctx, "acme", tenant.AuditQuery{Limit: 1})
	if err != nil || page.Next == "" {
		t.Fatalf("first page: %v, next %q", err, page.Next)
	}
	handedOut := page.Next

	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		from, to time.Time
		valid    bool
	}{
		{"open", time.Time{}, time.Time{}, true},
		{"from only", day, time.Time{}, true},
		{"to only", time.Time{}, day, true},
		{"one instant", day, day, true},
		{"a month", day, day.AddDate(0, 1, 0), true},
		{"ends a nanosecond before it starts", day, day.Add(-time.Nanosecond), false},
		{"the 30th to the 1st", day.AddDate(0, 0, 29), day, false},
	} {
		if got := tenant.ValidAuditRange(tc.from, tc.to); got != tc.valid {
			t.Errorf("range %s: valid %v, want %v", tc.name, got, tc.valid)
		}
	}
	for _, tc := range []struct {
		cursor string
		valid  bool
	}{
		{handedOut, true},
		{"0000000000000000-AZaz09_-", true},
		{"not-a-cursor", false},
		{"", false},
		{"7FFFFFFFFFFFFFFF-abcdefgh", false}, // the time part is lower-case hex
		{"7fffffffffffffff-abcdefg", false},
		{"7fffffffffffffff-abcdefghi", false},
		{"7fffffffffffff-abcdefgh", false},
		{"7fffffffffffffff_abcdefgh", false},
		{"7fffffffffffffff-abc=efgh", false},
		{"7fffffffffffffff-abcdefgh-", false},
		{"7fffffffffffffff-abc\x00efgh", false},
	} {
		if got := tenant.ValidAuditCursor(tc.cursor); got != tc.valid {
			t.Errorf("cursor %q: valid %v, want %v", tc.cursor, got, tc.valid)
		}
		_, err := svc.AuditLog(ctx, "acme", tenant.AuditQuery{After: tc.cursor})
		if want := tc.valid || tc.cursor == ""; (err == nil) != want {
			t.Errorf("AuditLog after %q: %v", tc.cursor, err)
		} else if err != nil && !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("AuditLog after %q: %v, want ErrInvalid", tc.cursor, err)
		}
	}
}

// Deleting a tenant deletes its trail; the operator's trail keeps the fact.
func TestAuditTenantDeletion(t *testing.T) {
	svc, _ := newService(t)
	ctx := tenant.WithActor(context.Background(), tenant.Actor{Kind: tenant.ActorOperator, Name: "operator"})
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	if err := svc.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	events := auditTrail(t, svc, "")
	if len(events) != 1 || events[0].Action != tenant.AuditTenantDelete || events[0].Target.ID != "acme" {
		t.Errorf("operator trail: %+v", events)
	}
}

// The sweep deletes what is older than the retention, in every tenant and
// past one transaction's batch, and keeps the rest; a retention of 0 keeps
// everything.
func TestSweepAudit(t *testing.T) {
	svc, clk := newService(t)
	ctx := t.Context()
	for _, slug := range []string{"acme", "beta"} {
		if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: slug}); err != nil {
			t.Fatal(err)
		}
	}
	now := clk.Now()
	const old = 1005 // more than one sweep transaction deletes
	err := svc.Store.Update(ctx, func(tx tenant.Tx) error {
		for i := range old {
			ev := tenant.AuditEvent{Time: now.Add(-400*24*time.Hour - time.Duration(i)*time.Second), Action: tenant.AuditSignIn}
			if err := tenant.RecordAudit(tx, "acme", ev); err != nil {
				return err
			}
		}
		for _, age := range []time.Duration{364 * 24 * time.Hour, time.Hour} {
			if err := tenant.RecordAudit(tx, "acme", tenant.AuditEvent{Time: now.Add(-age), Action: tenant.AuditSignInFailure}); err != nil {
				return err
			}
		}
		return tenant.RecordAudit(tx, "beta", tenant.AuditEvent{Time: now.Add(-366 * 24 * time.Hour), Action: tenant.AuditSignIn})
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func(slug string) int {
		n := 0
		err := svc.Store.View(ctx, func(tx tenant.Tx) error {
			return tx.Scan(tenant.CollAudit, slug, "", "", func(string, []byte) bool { n++; return true })
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before, betaBefore := count("acme"), count("beta")

	if n, err := tenant.SweepAudit(ctx, svc.Store, now, 0); err != nil || n != 0 || count("acme") != before {
		t.Fatalf("retention 0: deleted %d, %v; want nothing deleted", n, err)
	}
	n, err := tenant.SweepAudit(ctx, svc.Store, now, tenant.DefaultAuditRetention)
	if err != nil || n != old+1 {
		t.Fatalf("SweepAudit = %d, %v; want %d (acme's old events and beta's one)", n, err, old+1)
	}
	if got := count("acme"); got != before-old {
		t.Fatalf("acme keeps %d events, want %d", got, before-old)
	}
	for _, ev := range auditTrail(t, svc, "acme") {
		if now.Sub(ev.Time) >= tenant.DefaultAuditRetention {
			t.Errorf("kept an event of %v ago", now.Sub(ev.Time))
		}
	}
	if count("beta") != betaBefore-1 {
		t.Fatal("beta's old event was kept")
	}
}

// The operator's own trail (deleted tenants) keeps to the retention too.
func TestSweepAuditOperatorTrail(t *testing.T) {
	svc, clk := newService(t)
	ctx := tenant.WithActor(t.Context(), tenant.Actor{Kind: tenant.ActorOperator, Name: "operator"})
	for _, slug := range []string{"acme", "beta"} {
		if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: slug}); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(400 * 24 * time.Hour)
	if err := svc.DeleteTenant(ctx, "beta"); err != nil {
		t.Fatal(err)
	}
	n, err := tenant.SweepAudit(ctx, svc.Store, clk.Now(), tenant.DefaultAuditRetention)
	if err != nil {
		t.Fatal(err)
	}
	events := auditTrail(t, svc, "")
	if n != 1 || len(events) != 1 || events[0].Target.ID != "beta" {
		t.Errorf("swept %d; the operator's trail keeps %+v, want only beta's deletion", n, events)
	}
}

// A filter of the trail is an action or a family of actions, a prefix
// ending in "."; a family's name without the dot, or a prefix cut
// elsewhere, is neither.
func TestValidAuditFilter(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{string(tenant.AuditUserUpdate), true},
		{"user.", true},
		{"signin.", true},
		{"user", false},
		{"us", false},
		{"nosuch.", false},
		{"", false},
	} {
		if got := tenant.ValidAuditFilter(tc.filter); got != tc.want {
			t.Errorf("ValidAuditFilter(%q) = %t, want %t", tc.filter, got, tc.want)
		}
	}
}
