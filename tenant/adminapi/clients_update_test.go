package adminapi_test

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

// TestUpdateClient drives PATCH …/clients/{id} through each field and the
// values the rules refuse. Besides the answer, every case checks what was
// stored: a change that is made can be read back, a refused one (or one of
// nothing) leaves both seeded clients as they were and reloads nothing, and
// each status is one the document lists.
func TestUpdateClient(t *testing.T) {
	documented := documentedStatuses(t)
	const (
		route   = "/admin/v1/tenants/{slug}/clients/{id}"
		planner = "/admin/v1/tenants/acme/clients/{client}"
	)
	tests := []struct {
		name      string
		path      string // default planner, the confidential client
		body      string
		status    int
		code      string
		want      []string
		unchanged bool // a 200 that must change nothing
	}{
		{name: "rename", body: `{"name":" Planner 2 "}`, status: 200,
			want: []string{`"name":"Planner 2"`, `"redirect_uris":["https://planner.example.com/cb"]`}},
		{name: "replace redirect URIs", body: `{"redirect_uris":["https://planner.example.com/a","http://localhost:8080/b"]}`, status: 200,
			want: []string{`"redirect_uris":["https://planner.example.com/a","http://localhost:8080/b"]`, `"name":"planner"`}},
		{name: "set logout URIs", body: `{"post_logout_redirect_uris":["https://planner.example.com/bye"]}`, status: 200,
			want: []string{`"post_logout_redirect_uris":["https://planner.example.com/bye"]`}},
		{name: "access lifetime", body: `{"access_token_ttl_seconds":900}`, status: 200,
			want: []string{`"access_token_ttl_seconds":900`, `"id_token_ttl_seconds":3600`, `"refresh_token_ttl_seconds":2592000`}},
		{name: "ID lifetime", body: `{"id_token_ttl_seconds":300}`, status: 200,
			want: []string{`"access_token_ttl_seconds":3600`, `"id_token_ttl_seconds":300`}},
		{name: "refresh lifetime", body: `{"refresh_token_ttl_seconds":604800}`, status: 200,
			want: []string{`"refresh_token_ttl_seconds":604800`}},
		{name: "all lifetimes at their limits", body: `{"access_token_ttl_seconds":86400,"id_token_ttl_seconds":86400,"refresh_token_ttl_seconds":315360000}`,
			status: 200, want: []string{`"access_token_ttl_seconds":86400`, `"id_token_ttl_seconds":86400`, `"refresh_token_ttl_seconds":315360000`}},
		{name: "retry grace period", body: `{"refresh_token_retry_grace_seconds":60}`, status: 200,
			want: []string{`"refresh_token_retry_grace_seconds":60`, `"refresh_token_ttl_seconds":2592000`}},
		{name: "public client", path: "/admin/v1/tenants/acme/clients/{public}", body: `{"access_token_ttl_seconds":600}`, status: 200,
			want: []string{`"client_id":"{public}"`, `"public":true`, `"access_token_ttl_seconds":600`}},
		{name: "empty object", body: `{}`, status: 200, unchanged: true, want: []string{`"name":"planner"`}},
		{name: "nulls", body: `{"name":null,"redirect_uris":null,"access_token_ttl_seconds":null}`, status: 200, unchanged: true},
		{name: "the values it has", body: `{"name":"planner","access_token_ttl_seconds":3600}`, status: 200, unchanged: true},

		{name: "access lifetime too short", body: `{"access_token_ttl_seconds":60}`, status: 400, code: "invalid_request",
			want: []string{"access token lifetime must be between 5m0s and 24h0m0s"}},
		{name: "access lifetime zero", body: `{"access_token_ttl_seconds":0}`, status: 400, code: "invalid_request",
			want: []string{"access token lifetime must be between"}},
		{name: "ID lifetime too long", body: `{"id_token_ttl_seconds":86401}`, status: 400, code: "invalid_request",
			want: []string{"ID token lifetime must be between 5m0s and 24h0m0s"}},
		{name: "refresh lifetime too short", body: `{"refresh_token_ttl_seconds":1800}`, status: 400, code: "invalid_request",
			want: []string{"refresh token lifetime must be between 1h0m0s and 87600h0m0s"}},
		{name: "refresh lifetime beyond a duration", body: `{"refresh_token_ttl_seconds":9223372036854775807}`, status: 400, code: "invalid_request",
			want: []string{"refresh token lifetime must be between"}},
		{name: "negative lifetime", body: `{"access_token_ttl_seconds":-900}`, status: 400, code: "invalid_request",
			want: []string{"access token lifetime must be between"}},
		{name: "lifetime as a duration", body: `{"access_token_ttl_seconds":"15m"}`, status: 400, code: "invalid_request",
			want: []string{`field \"access_token_ttl_seconds\" must be a whole number`}},
		{name: "lifetime with a fraction", body: `{"access_token_ttl_seconds":900.5}`, status: 400, code: "invalid_request",
			want: []string{`field \"access_token_ttl_seconds\" must be a whole number`}},
		{name: "retry grace beyond a minute", body: `{"refresh_token_retry_grace_seconds":61}`, status: 400, code: "invalid_request",
			want: []string{"the refresh token retry grace period must be 0 to 60 whole seconds"}},
		{name: "negative retry grace", body: `{"refresh_token_retry_grace_seconds":-1}`, status: 400, code: "invalid_request",
			want: []string{"retry grace period must be 0 to 60"}},
		{name: "plain http redirect", body: `{"redirect_uris":["http://planner.example.com/cb"]}`, status: 400, code: "invalid_request",
			want: []string{"must use https"}},
		{name: "no redirect URI left", body: `{"redirect_uris":[]}`, status: 400, code: "invalid_request",
			want: []string{"at least one redirect URI"}},
		{name: "blank name", body: `{"name":"  "}`, status: 400, code: "invalid_request", want: []string{"needs a name"}},
		{name: "a good value with a bad one", body: `{"name":"Planner 2","access_token_ttl_seconds":60}`, status: 400, code: "invalid_request",
			want: []string{"access token lifetime"}},
		{name: "grant types", body: `{"grant_types":["authorization_code","client_credentials"]}`, status: 200,
			want: []string{`"grant_types":["authorization_code","client_credentials"]`}},
		{name: "scopes", body: `{"scopes":["openid","reports/read"]}`, status: 200,
			want: []string{`"scopes":["openid","reports/read"]`}},
		{name: "no scopes", body: `{"scopes":[]}`, status: 200, want: []string{`"scopes":[]`}},
		{name: "no grant type", body: `{"grant_types":[]}`, status: 400, code: "invalid_request",
			want: []string{"needs at least one grant type"}},
		{name: "an unknown grant type", body: `{"grant_types":["password"]}`, status: 400, code: "invalid_request",
			want: []string{`grant type \"password\" is not supported`}},
		{name: "client credentials for a public client", path: "/admin/v1/tenants/acme/clients/{public}", body: `{"grant_types":["client_credentials"]}`,
			status: 400, code: "invalid_request", want: []string{"a public client cannot use client_credentials"}},
		{name: "a scope with a space", body: `{"scopes":["reports read"]}`, status: 400, code: "invalid_request",
			want: []string{`scope \"reports read\" is refused: a scope is 1 to 256 characters of printable ASCII, without spaces, quotes or backslashes`}},
		{name: "a scope with a quote", body: `{"scopes":["openid","x\"y"]}`, status: 400, code: "invalid_request",
			want: []string{`scope \"x\\\"y\" is refused`}},
		{name: "a scope beyond ASCII", body: `{"scopes":["rapports/lécture"]}`, status: 400, code: "invalid_request",
			want: []string{`scope \"rapports/lécture\" is refused`}},
		{name: "a scope too long", body: `{"scopes":["` + strings.Repeat("s", 257) + `"]}`, status: 400, code: "invalid_request",
			want: []string{"a scope is 1 to 256 characters"}},
		{name: "a scope twice", body: `{"scopes":["openid","reports/read","openid"]}`, status: 400, code: "invalid_request",
			want: []string{`scope \"openid\" is given twice`}},
		{name: "a grant type twice", body: `{"grant_types":["authorization_code","refresh_token","authorization_code"]}`, status: 400, code: "invalid_request",
			want: []string{`grant type \"authorization_code\" is given twice`}},
		{name: "a redirect URI twice", body: `{"redirect_uris":["https://planner.example.com/a","https://planner.example.com/a"]}`, status: 400, code: "invalid_request",
			want: []string{`redirect URI \"https://planner.example.com/a\" is given twice`}},
		{name: "a logout URI twice", body: `{"post_logout_redirect_uris":["https://planner.example.com/bye","https://planner.example.com/bye"]}`,
			status: 400, code: "invalid_request", want: []string{`logout URI \"https://planner.example.com/bye\" is given twice`}},
		{name: "a redirect URI and a logout URI alike", body: `{"post_logout_redirect_uris":["https://planner.example.com/cb"]}`, status: 200,
			want: []string{`"post_logout_redirect_uris":["https://planner.example.com/cb"]`}},
		{name: "a field twice", body: `{"name":"a","name":"b"}`, status: 400, code: "invalid_request",
			want: []string{`field \"name\" is given twice`}},
		{name: "a scope that is not a string", body: `{"scopes":["openid",7]}`, status: 400, code: "invalid_request",
			want: []string{`the items of field \"scopes\" must be strings`}},
		{name: "public cannot change", body: `{"public":true}`, status: 400, code: "invalid_request",
			want: []string{`unknown field \"public\"`}},
		{name: "empty body", status: 400, code: "invalid_request", want: []string{"empty"}},
		{name: "built-in client", path: "/admin/v1/tenants/acme/clients/" + tenant.ConsoleClientID, body: `{"name":"mine"}`,
			status: 400, code: "invalid_request", want: []string{"built in"}},
		{name: "unknown client", path: "/admin/v1/tenants/acme/clients/nope", body: `{"name":"x"}`, status: 404, code: "not_found",
			want: []string{`tenant \"acme\" has no client \"nope\"`}},
		{name: "unknown tenant", path: "/admin/v1/tenants/nope/clients/{client}", body: `{"name":"x"}`, status: 404, code: "not_found",
			want: []string{`tenant \"nope\" has no client`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			before := f.storedClients(t)
			path := planner
			if tc.path != "" {
				path = tc.path
			}
			rec := f.do(t, http.MethodPatch, path, tc.body, bearer)
			body := rec.Body.String()
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, body)
			}
			if !documented("patch", route)[strconv.Itoa(rec.Code)] {
				t.Errorf("PATCH %s answers %d, which the document does not list", route, rec.Code)
			}
			checkBody(t, body, tc.code, tc.want, []string{"client_secret", "secret_hash"}, f.path)

			after := f.storedClients(t)
			if tc.status != http.StatusOK || tc.unchanged {
				if !reflect.DeepEqual(after, before) || len(f.changed) != 0 {
					t.Errorf("the clients were changed: %+v, was %+v (reloaded %v)", after, before, f.changed)
				}
				return
			}
			if reflect.DeepEqual(after, before) || !reflect.DeepEqual(f.changed, []string{"acme"}) {
				t.Errorf("nothing was stored (reloaded %v)", f.changed)
			}
			if read := f.do(t, http.MethodGet, path, "", bearer).Body.String(); read != body {
				t.Errorf("read back\n%s\nbut PATCH answered\n%s", read, body)
			}
		})
	}
}

// storedClients reads the two seeded clients from the service.
func (f *fixture) storedClients(t *testing.T) []tenant.Client {
	t.Helper()
	var out []tenant.Client
	for _, id := range []string{f.clientID, f.publicID} {
		c, err := f.svc.Client(t.Context(), "acme", id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// A client is reached only under its own tenant's path.
func TestUpdateClientOfAnotherTenant(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	es256 := "ES256"
	if _, err := f.svc.CreateTenant(ctx, tenant.NewTenant{
		Slug: "globex", Settings: tenant.SettingsChange{SigningAlg: &es256}.Apply(tenant.Settings{}),
	}); err != nil {
		t.Fatal(err)
	}
	other, _, err := f.svc.CreateClient(ctx, "globex", tenant.NewClient{Name: "globex app", RedirectURIs: []string{"https://globex.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	f.changed = nil
	before := f.storedClients(t)
	for _, path := range []string{
		"/admin/v1/tenants/acme/clients/" + other.ID,
		"/admin/v1/tenants/globex/clients/{client}",
	} {
		rec := f.do(t, http.MethodPatch, path, `{"access_token_ttl_seconds":900}`, bearer)
		if rec.Code != http.StatusNotFound {
			t.Errorf("PATCH %s: %d %s, want 404", f.path(path), rec.Code, rec.Body)
		}
	}
	got, err := f.svc.Client(ctx, "globex", other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, other) || !reflect.DeepEqual(f.storedClients(t), before) || len(f.changed) != 0 {
		t.Errorf("a client was changed through another tenant's path (reloaded %v)", f.changed)
	}
}

// A change of a client is recorded in the tenant's audit trail in the
// operator's name, with the fields that changed.
func TestUpdateClientIsAudited(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, http.MethodPatch, "/admin/v1/tenants/acme/clients/{client}",
		`{"name":"planner","access_token_ttl_seconds":900,"refresh_token_ttl_seconds":7200,"grant_types":["authorization_code"],"scopes":["openid"]}`, bearer)
	if rec.Code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
	}
	page, err := f.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: string(tenant.AuditClientUpdate)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 {
		t.Fatalf("%d client.update events, want 1", len(page.Events))
	}
	ev := page.Events[0]
	if ev.Actor.Kind != tenant.ActorOperator || ev.Target.ID != f.clientID || ev.Details["fields"] != "grant_types,scopes,access_token_ttl,refresh_token_ttl" {
		t.Errorf("event %+v", ev)
	}
}
