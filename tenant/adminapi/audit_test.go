package adminapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// The operator's changes reach the tenant's audit trail in the operator's
// name, recorded by the same service methods the console calls.
func TestOperatorChangesAreAudited(t *testing.T) {
	f := newFixture(t)
	if w := f.do(t, http.MethodPatch, "/admin/v1/tenants/acme/users/{sub}", `{"enabled": false}`, bearer); w.Code != http.StatusOK {
		t.Fatalf("disable: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, http.MethodDelete, "/admin/v1/tenants/acme/clients/"+tenant.ConsoleClientID, "", bearer); w.Code != http.StatusBadRequest {
		t.Errorf("deleting the console client: %d %s", w.Code, w.Body)
	}
	page, err := f.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: string(tenant.AuditUserDisable)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 {
		t.Fatalf("%d user.disable events", len(page.Events))
	}
	ev := page.Events[0]
	if ev.Actor.Kind != tenant.ActorOperator || ev.Actor.IP == "" || ev.Target.ID != f.sub || ev.Target.Name != "ann" {
		t.Errorf("event %+v", ev)
	}
}

func TestOperatorImportIsAudited(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/admin/v1/tenants/acme/import?format=csv",
		strings.NewReader("cognito:username,email,email_verified,cognito:mfa_enabled\nkim,kim@example.com,TRUE,FALSE\n"))
	req.Header.Set("Authorization", bearer)
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("import: %d %s", w.Code, w.Body)
	}
	page, _ := f.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: string(tenant.AuditUserImport)})
	if len(page.Events) != 1 || page.Events[0].Actor.Kind != tenant.ActorOperator || page.Events[0].Details["created"] != "1" {
		t.Errorf("user.import events %+v", page.Events)
	}
}

// The operator reads a tenant's trail, and its own, through the API: the
// filters of the console, paging, and a clear refusal of a filter that
// could match nothing or a bound that is not a time.
func TestAuditEndpoints(t *testing.T) {
	f := newFixture(t)
	documented := documentedStatuses(t)
	for _, step := range []struct{ method, path, body string }{
		{http.MethodPatch, "/admin/v1/tenants/acme/users/{sub}", `{"enabled": false}`},
		{http.MethodPost, "/admin/v1/tenants/acme/groups", `{"name": "planners"}`},
		{http.MethodPost, "/admin/v1/tenants", `{"slug": "beta"}`},
		{http.MethodDelete, "/admin/v1/tenants/beta", ""},
	} {
		if w := f.do(t, step.method, step.path, step.body, bearer); w.Code >= 300 {
			t.Fatalf("%s %s: %d %s", step.method, step.path, w.Code, w.Body)
		}
	}
	today := time.Now().UTC()
	day := func(d time.Time) string { return d.Format(time.DateOnly) }

	tests := []struct {
		name, query string
		tenant      string // empty: the operator's trail
		status      int
		actions     []string // of a 200, newest first
		want        string   // in a refusal's message
	}{
		{name: "everything", query: "", tenant: "acme", status: 200,
			actions: []string{"group.create", "user.disable", "user.create", "client.create", "client.create", "tenant.create"}},
		{name: "one action", query: "action=user.disable", tenant: "acme", status: 200, actions: []string{"user.disable"}},
		{name: "a family", query: "action=user.", tenant: "acme", status: 200, actions: []string{"user.disable", "user.create"}},
		{name: "by target name", query: "target=ANN", tenant: "acme", status: 200, actions: []string{"user.disable", "user.create"}},
		{name: "an actor who did nothing", query: "actor=nobody", tenant: "acme", status: 200, actions: nil},
		{name: "today, as dates", query: "from=" + day(today) + "&to=" + day(today), tenant: "acme", status: 200,
			actions: []string{"group.create", "user.disable", "user.create", "client.create", "client.create", "tenant.create"}},
		{name: "from tomorrow", query: "from=" + day(today.AddDate(0, 0, 1)), tenant: "acme", status: 200, actions: nil},
		{name: "to an hour ago", query: "to=" + today.Add(-time.Hour).Format(time.RFC3339), tenant: "acme", status: 200, actions: nil},
		{name: "the operator's own", query: "", status: 200, actions: []string{"tenant.delete"}},

		{name: "no such action", query: "action=user.frobnicate", tenant: "acme", status: 400, want: `\"user.frobnicate\" is not an action`},
		{name: "no such family", query: "action=users.", tenant: "acme", status: 400, want: "nor a family of actions"},
		{name: "a date written otherwise", query: "from=29-11-2026", tenant: "acme", status: 400,
			want: `query parameter from: \"29-11-2026\" is neither a date`},
		{name: "from after to", query: "from=2026-11-30&to=2026-11-01", tenant: "acme", status: 400,
			want: `query parameters from and to: from \"2026-11-30\" is after to \"2026-11-01\", so no event could match`},
		{name: "from after to, as times", query: "from=" + today.Format(time.RFC3339) + "&to=" + today.Add(-time.Second).Format(time.RFC3339),
			status: 400, want: "so no event could match"},
		{name: "from and to the same day", query: "from=" + day(today) + "&to=" + day(today) + "&action=tenant.", status: 200, actions: []string{"tenant.delete"}},
		{name: "a cursor never handed out", query: "after=not-a-cursor", tenant: "acme", status: 400,
			want: `query parameter after: \"not-a-cursor\" is not a cursor of this trail`},
		{name: "a cursor in capitals", query: "after=7FFFFFFFFFFFFFFF-abcdefgh", status: 400, want: "is not a cursor"},
		{name: "a cursor cut short", query: "after=7fffffffffffffff-abcdefg", tenant: "acme", status: 400, want: "is not a cursor"},
		{name: "a cursor of the right form", query: "after=0000000000000000-abc_EF-h", tenant: "acme", status: 200,
			actions: []string{"group.create", "user.disable", "user.create", "client.create", "client.create", "tenant.create"}},
		{name: "a limit of 0", query: "limit=0", tenant: "acme", status: 400, want: "limit must be a whole number from 1 to 200"},
		{name: "a limit beyond a page", query: "limit=201", tenant: "acme", status: 400, want: "limit must be a whole number from 1 to 200"},
		// A misspelt or repeated filter would otherwise answer the whole
		// trail as if it were the filtered one.
		{name: "a misspelt filter", query: "acton=signin.failure", tenant: "acme", status: 400,
			want: `unknown query parameter \"acton\"; this operation takes action, actor, target, from, to, after and limit`},
		{name: "a misspelt filter of the operator's", query: "targte=ann", status: 400, want: `unknown query parameter \"targte\"`},
		{name: "a filter given twice", query: "action=signin.failure&action=user.create", tenant: "acme", status: 400,
			want: "query parameter action is given 2 times; give it once"},
		{name: "a bound given twice", query: "from=2026-11-01&from=2026-11-02", status: 400, want: "query parameter from is given 2 times"},
		{name: "a query that does not parse", query: "action=%zz", tenant: "acme", status: 400,
			want: `the query string is malformed: \"%zz\" is not an escape`},
		{name: "an unknown tenant", query: "", tenant: "nope", status: 404, want: `tenant \"nope\" does not exist`},
		{name: "a deleted tenant", query: "", tenant: "beta", status: 404, want: `tenant \"beta\" does not exist`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			route, path := "/admin/v1/audit", "/admin/v1/audit"
			if tc.tenant != "" {
				route, path = "/admin/v1/tenants/{slug}/audit", "/admin/v1/tenants/"+tc.tenant+"/audit"
			}
			w := f.do(t, http.MethodGet, path+"?"+tc.query, "", bearer)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if !documented("get", route)[strconv.Itoa(w.Code)] {
				t.Errorf("GET %s answers %d, which the document does not list", route, w.Code)
			}
			if tc.status != http.StatusOK {
				if !strings.Contains(w.Body.String(), tc.want) {
					t.Errorf("body %s lacks %q", w.Body, tc.want)
				}
				return
			}
			var page adminapi.AuditPage
			if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range page.Events {
				got = append(got, ev.Action)
			}
			if !slices.Equal(got, tc.actions) || page.Next != "" {
				t.Errorf("actions %v (next %q), want %v", got, page.Next, tc.actions)
			}
		})
	}

	// Paging: two at a time, the pages together are the whole trail.
	var paged []string
	query := "?limit=2" // the first page is asked for without after
	for range 10 {
		w := f.do(t, http.MethodGet, "/admin/v1/tenants/acme/audit"+query, "", bearer)
		var page adminapi.AuditPage
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || len(page.Events) > 2 {
			t.Fatalf("page %s: %s (%v)", query, w.Body, err)
		}
		for _, ev := range page.Events {
			paged = append(paged, ev.Action)
		}
		if page.Next == "" {
			break
		}
		query = "?limit=2&after=" + url.QueryEscape(page.Next)
	}
	if want := tests[0].actions; !slices.Equal(paged, want) {
		t.Errorf("paged %v, want %v", paged, want)
	}

	// The operator's change is the operator's, with where it came from.
	w := f.do(t, http.MethodGet, "/admin/v1/tenants/acme/audit?action=user.disable", "", bearer)
	var page adminapi.AuditPage
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || len(page.Events) != 1 {
		t.Fatalf("%s (%v)", w.Body, err)
	}
	if ev := page.Events[0]; ev.Actor.Kind != "operator" || ev.Actor.IP == "" || ev.Target == nil || ev.Target.Name != "ann" {
		t.Errorf("event %+v", ev)
	}
}

// The document names every action there is, for whoever filters by them.
func TestOpenAPINamesEveryAuditAction(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				AuditEvent struct {
					Properties struct {
						Action struct{ Description string } `yaml:"action"`
					} `yaml:"properties"`
				} `yaml:"AuditEvent"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	adminapi.ReadOpenAPI(t, &doc)
	text := doc.Components.Schemas.AuditEvent.Properties.Action.Description
	for _, a := range tenant.AuditActions() {
		if !strings.Contains(text, "`"+string(a)+"`") {
			t.Errorf("AuditEvent.action does not name %s", a)
		}
	}
}
