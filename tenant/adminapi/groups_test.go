package adminapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// groupFixture is the API fixture with groups: in acme the admin group
// admins (no members) and ops (ann); beside it tenant globex, with group
// finance and user gus, which acme's paths must never reach.
type groupFixture struct {
	*fixture
	gus string
}

func newGroupFixture(t *testing.T) *groupFixture {
	t.Helper()
	g := &groupFixture{fixture: newFixture(t)}
	ctx, svc := t.Context(), g.svc
	es256 := "ES256"
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{
		Slug: "globex", Settings: tenant.SettingsChange{SigningAlg: &es256}.Apply(tenant.Settings{}),
	}); err != nil {
		t.Fatal(err)
	}
	// Each tenant has its admin group, "admins", from the start.
	for _, tg := range [][2]string{{"acme", "ops"}, {"globex", "finance"}} {
		if _, err := svc.CreateGroup(ctx, tg[0], tenant.Group{Name: tg[1]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.AddUserToGroup(ctx, "acme", "ops", g.sub); err != nil {
		t.Fatal(err)
	}
	gus, err := svc.CreateUser(ctx, "globex", tenant.NewUser{Username: "gus"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.AddUserToGroup(ctx, "globex", "finance", gus.Sub); err != nil {
		t.Fatal(err)
	}
	g.gus = gus.Sub
	return g
}

func (g *groupFixture) path(p string) string {
	return strings.ReplaceAll(g.fixture.path(p), "{gus}", g.gus)
}

// call makes a request with the operator's token.
func (g *groupFixture) call(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	rec := g.fixture.do(t, method, g.path(path), body, bearer)
	return rec.Code, rec.Body.String()
}

// groupsAre checks that a user's groups, read through the API, are
// exactly want (in any order).
func (g *groupFixture) groupsAre(t *testing.T, slug, sub string, want ...string) {
	t.Helper()
	code, body := g.call(t, "GET", "/admin/v1/tenants/"+slug+"/users/"+sub, "")
	var u adminapi.User
	if err := json.Unmarshal([]byte(body), &u); err != nil || code != http.StatusOK {
		t.Fatalf("GET user %s: %d %s", sub, code, body)
	}
	slices.Sort(u.Groups)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(u.Groups, want) {
		t.Errorf("%s/%s's groups %q, want %q", slug, sub, u.Groups, want)
	}
}

// annIn and gusIn are checks after a step: ann's groups in acme, or gus's
// in globex, are exactly want.
func annIn(want ...string) func(*testing.T, *groupFixture) {
	return func(t *testing.T, g *groupFixture) { t.Helper(); g.groupsAre(t, "acme", g.sub, want...) }
}

func gusIn(want ...string) func(*testing.T, *groupFixture) {
	return func(t *testing.T, g *groupFixture) { t.Helper(); g.groupsAre(t, "globex", g.gus, want...) }
}

// status asserts a GET answers with the status.
func (g *groupFixture) status(t *testing.T, path string, want int) {
	t.Helper()
	if code, body := g.call(t, "GET", path, ""); code != want {
		t.Errorf("GET %s: %d, want %d: %s", path, code, want, body)
	}
}

// TestGroupEndpoints drives each group endpoint through its success and
// its bad input, and checks that docs/openapi.yaml lists every status seen.
func TestGroupEndpoints(t *testing.T) {
	const (
		groups  = "/admin/v1/tenants/{slug}/groups"
		group   = groups + "/{name}"
		members = group + "/members"
		member  = members + "/{sub}"
		tenantR = "/admin/v1/tenants/{slug}"
	)
	documented := documentedStatuses(t)
	tests := []struct {
		name   string
		method string
		route  string // the operation in docs/openapi.yaml
		path   string
		body   string
		status int
		code   string   // the "error" field of an error response
		want   []string // substrings of the body
		reject []string // substrings the body must not have
		after  func(t *testing.T, g *groupFixture)
	}{
		// Creating.
		{name: "create", method: "POST", route: groups, path: "/admin/v1/tenants/acme/groups", body: `{"name":"Sales EMEA"}`,
			status: 201, want: []string{`"name":"Sales EMEA"`, `"created_at":`}, reject: []string{"description", "precedence"},
			after: func(t *testing.T, g *groupFixture) { g.status(t, "/admin/v1/tenants/acme/groups/Sales%20EMEA", 200) }},
		{name: "create duplicate", method: "POST", route: groups, path: "/admin/v1/tenants/acme/groups", body: `{"name":"ops"}`,
			status: 409, code: "already_exists", want: []string{`tenant \"acme\" already has a group with that name`}},
		{name: "create empty name", method: "POST", route: groups, path: "/admin/v1/tenants/acme/groups", body: `{"name":""}`,
			status: 400, code: "invalid_request", want: []string{"1 to 128 characters"}},
		{name: "create name too long", method: "POST", route: groups, path: "/admin/v1/tenants/acme/groups", body: `{"name":"` + strings.Repeat("g", 129) + `"}`,
			status: 400, code: "invalid_request", want: []string{"1 to 128 characters"}},
		{name: "create name with a space around", method: "POST", route: groups, path: "/admin/v1/tenants/acme/groups", body: `{"name":" ops"}`,
			status: 400, code: "invalid_request", want: []string{"may not start or end with a space"}},
		{name: "create name dot-dot", method: "POST", route: groups, path: "/admin/v1/tenants/acme/groups", body: `{"name":".."}`,
			status: 400, code: "invalid_request", want: []string{`may not be \".\" or \"..\"`}},
		{name: "create with description and precedence", method: "POST", route: groups, path: "/admin/v1/tenants/acme/groups",
			body:   `{"name":"night","description":"Night shift","precedence":0}`,
			status: 201, want: []string{`"description":"Night shift"`, `"precedence":0`},
			after: func(t *testing.T, g *groupFixture) {
				_, body := g.call(t, "GET", "/admin/v1/tenants/acme/groups/night", "")
				checkBody(t, body, "", []string{`"description":"Night shift"`, `"precedence":0`}, nil, g.path)
			}},
		{name: "create with a negative precedence", method: "POST", route: groups, path: "/admin/v1/tenants/acme/groups", body: `{"name":"x","precedence":-1}`,
			status: 400, code: "invalid_request", want: []string{"precedence must be a whole number from 0 to 2147483647"},
			after: func(t *testing.T, g *groupFixture) { g.status(t, "/admin/v1/tenants/acme/groups/x", 404) }},
		{name: "create with a fractional precedence", method: "POST", route: groups, path: "/admin/v1/tenants/acme/groups", body: `{"name":"x","precedence":1.5}`,
			status: 400, code: "invalid_request", want: []string{`field \"precedence\" must be a whole number`}},
		{name: "create with a long description", method: "POST", route: groups, path: "/admin/v1/tenants/acme/groups",
			body:   `{"name":"x","description":"` + strings.Repeat("d", 2049) + `"}`,
			status: 400, code: "invalid_request", want: []string{"at most 2048 characters; this one has 2049"}},
		{name: "create unknown field", method: "POST", route: groups, path: "/admin/v1/tenants/acme/groups", body: `{"name":"x","role_arn":"arn:aws:iam::1:role/r"}`,
			status: 400, code: "invalid_request", want: []string{`unknown field \"role_arn\"`}},
		{name: "create without body", method: "POST", route: groups, path: "/admin/v1/tenants/acme/groups",
			status: 400, code: "invalid_request", want: []string{"empty"}},
		{name: "create in unknown tenant", method: "POST", route: groups, path: "/admin/v1/tenants/nope/groups", body: `{"name":"ops"}`,
			status: 404, code: "not_found", want: []string{`tenant \"nope\" does not exist`}},

		// Reading.
		{name: "list", method: "GET", route: groups, path: "/admin/v1/tenants/acme/groups",
			status: 200, want: []string{`{"groups":[{"name":"admins"`, `{"name":"ops"`}, reject: []string{"finance"}},
		{name: "list other tenant", method: "GET", route: groups, path: "/admin/v1/tenants/globex/groups", // its own admins, not acme's
			status: 200, want: []string{`"name":"finance"`}, reject: []string{"ops"}},
		{name: "list unknown tenant", method: "GET", route: groups, path: "/admin/v1/tenants/nope/groups",
			status: 404, code: "not_found", want: []string{`tenant \"nope\" does not exist`}},
		{name: "get", method: "GET", route: group, path: "/admin/v1/tenants/acme/groups/ops", status: 200, want: []string{`"name":"ops"`}},
		{name: "get unknown", method: "GET", route: group, path: "/admin/v1/tenants/acme/groups/nope",
			status: 404, code: "not_found", want: []string{`tenant \"acme\" has no group \"nope\"`}},
		{name: "get other tenant's group", method: "GET", route: group, path: "/admin/v1/tenants/acme/groups/finance",
			status: 404, code: "not_found", want: []string{`tenant \"acme\" has no group \"finance\"`}},
		{name: "get in unknown tenant", method: "GET", route: group, path: "/admin/v1/tenants/nope/groups/ops", status: 404, code: "not_found"},

		// Renaming.
		{name: "rename", method: "PATCH", route: group, path: "/admin/v1/tenants/acme/groups/ops", body: `{"name":"Operations"}`,
			status: 200, want: []string{`"name":"Operations"`},
			after: func(t *testing.T, g *groupFixture) {
				g.groupsAre(t, "acme", g.sub, "Operations")
				g.status(t, "/admin/v1/tenants/acme/groups/ops", 404)
			}},
		{name: "rename the admin group", method: "PATCH", route: group, path: "/admin/v1/tenants/acme/groups/admins", body: `{"name":"owners"}`,
			status: 200, want: []string{`"name":"owners"`},
			after: func(t *testing.T, g *groupFixture) {
				if _, body := g.call(t, "GET", "/admin/v1/tenants/acme", ""); !strings.Contains(body, `"admin_group":"owners"`) {
					t.Errorf("the admin group did not follow the rename: %s", body)
				}
			}},
		{name: "change precedence spelt in another case", method: "PATCH", route: group, path: "/admin/v1/tenants/acme/groups/ops", body: `{"Precedence":null}`,
			status: 400, code: "invalid_request", want: []string{`unknown field \"Precedence\" in the request body: field names are case-sensitive (\"precedence\")`}},
		{name: "rename nothing", method: "PATCH", route: group, path: "/admin/v1/tenants/acme/groups/ops", body: `{}`,
			status: 200, want: []string{`"name":"ops"`}},
		{name: "rename to a taken name", method: "PATCH", route: group, path: "/admin/v1/tenants/acme/groups/ops", body: `{"name":"admins"}`,
			status: 409, code: "already_exists", want: []string{"already has a group with that name"}},
		{name: "rename to a bad name", method: "PATCH", route: group, path: "/admin/v1/tenants/acme/groups/ops", body: `{"name":"ops\n"}`,
			status: 400, code: "invalid_request", want: []string{"space"}},
		{name: "rename unknown", method: "PATCH", route: group, path: "/admin/v1/tenants/acme/groups/nope", body: `{"name":"x"}`,
			status: 404, code: "not_found", want: []string{`has no group \"nope\"`}},
		{name: "rename other tenant's group", method: "PATCH", route: group, path: "/admin/v1/tenants/acme/groups/finance", body: `{"name":"x"}`,
			status: 404, code: "not_found",
			after: func(t *testing.T, g *groupFixture) { g.status(t, "/admin/v1/tenants/globex/groups/finance", 200) }},
		{name: "set description and precedence", method: "PATCH", route: group, path: "/admin/v1/tenants/acme/groups/ops",
			body:   `{"description":"Operations team","precedence":3}`,
			status: 200, want: []string{`"name":"ops"`, `"description":"Operations team"`, `"precedence":3`},
			after: annIn("ops")},
		{name: "a wrong type of precedence", method: "PATCH", route: group, path: "/admin/v1/tenants/acme/groups/ops", body: `{"precedence":"3"}`,
			status: 400, code: "invalid_request", want: []string{`field \"precedence\" must be a whole number`}},
		{name: "a precedence past Cognito's highest", method: "PATCH", route: group, path: "/admin/v1/tenants/acme/groups/ops", body: `{"precedence":2147483648}`,
			status: 400, code: "invalid_request", want: []string{"from 0 to 2147483647"}},
		{name: "rename with a wrong type", method: "PATCH", route: group, path: "/admin/v1/tenants/acme/groups/ops", body: `{"name":5}`,
			status: 400, code: "invalid_request", want: []string{`field \"name\" must be a string`}},

		// Deleting.
		{name: "delete", method: "DELETE", route: group, path: "/admin/v1/tenants/acme/groups/ops", status: 204,
			after: func(t *testing.T, g *groupFixture) {
				g.groupsAre(t, "acme", g.sub)
				g.status(t, "/admin/v1/tenants/acme/groups/ops", 404)
			}},
		{name: "delete the admin group", method: "DELETE", route: group, path: "/admin/v1/tenants/acme/groups/admins",
			status: 400, code: "invalid_request", want: []string{`group \"admins\" is the admin group of tenant \"acme\"`, "settings.admin_group"},
			after: func(t *testing.T, g *groupFixture) { g.status(t, "/admin/v1/tenants/acme/groups/admins", 200) }},
		{name: "delete unknown", method: "DELETE", route: group, path: "/admin/v1/tenants/acme/groups/nope",
			status: 404, code: "not_found", want: []string{`has no group \"nope\"`}},
		{name: "delete other tenant's group", method: "DELETE", route: group, path: "/admin/v1/tenants/acme/groups/finance",
			status: 404, code: "not_found",
			after: gusIn("finance")},

		// Members.
		{name: "members", method: "GET", route: members, path: "/admin/v1/tenants/acme/groups/ops/members",
			status: 200, want: []string{`{"users":[{"sub":"{sub}","username":"ann"`}, reject: []string{`"next"`, "password_hash"}},
		{name: "members of an empty group", method: "GET", route: members, path: "/admin/v1/tenants/acme/groups/admins/members",
			status: 200, want: []string{`{"users":[]}`}},
		{name: "members limit too large", method: "GET", route: members, path: "/admin/v1/tenants/acme/groups/ops/members?limit=101",
			status: 400, code: "invalid_request", want: []string{"limit must be a whole number from 1 to 100"}},
		{name: "members of unknown group", method: "GET", route: members, path: "/admin/v1/tenants/acme/groups/nope/members",
			status: 404, code: "not_found", want: []string{`tenant \"acme\" has no group \"nope\"`}},
		{name: "members of other tenant's group", method: "GET", route: members, path: "/admin/v1/tenants/acme/groups/finance/members",
			status: 404, code: "not_found", reject: []string{"gus"}},

		// Adding and removing.
		{name: "add", method: "PUT", route: member, path: "/admin/v1/tenants/acme/groups/admins/members/{sub}", status: 204,
			after: annIn("admins", "ops")},
		{name: "add a member again", method: "PUT", route: member, path: "/admin/v1/tenants/acme/groups/ops/members/{sub}", status: 204,
			after: annIn("ops")},
		{name: "add unknown user", method: "PUT", route: member, path: "/admin/v1/tenants/acme/groups/ops/members/nope",
			status: 404, code: "not_found", want: []string{`tenant \"acme\" has no user \"nope\"`}},
		{name: "add to unknown group", method: "PUT", route: member, path: "/admin/v1/tenants/acme/groups/nope/members/{sub}",
			status: 404, code: "not_found", want: []string{`tenant \"acme\" has no group \"nope\"`}},
		{name: "add other tenant's user", method: "PUT", route: member, path: "/admin/v1/tenants/acme/groups/ops/members/{gus}",
			status: 404, code: "not_found", want: []string{`tenant \"acme\" has no user \"{gus}\"`}},
		{name: "add to other tenant's group", method: "PUT", route: member, path: "/admin/v1/tenants/acme/groups/finance/members/{sub}",
			status: 404, code: "not_found", want: []string{`tenant \"acme\" has no group \"finance\"`}},
		{name: "add in unknown tenant", method: "PUT", route: member, path: "/admin/v1/tenants/nope/groups/ops/members/{sub}",
			status: 404, code: "not_found", want: []string{`\"nope\" has no group \"ops\"`}},
		{name: "remove", method: "DELETE", route: member, path: "/admin/v1/tenants/acme/groups/ops/members/{sub}", status: 204,
			after: func(t *testing.T, g *groupFixture) {
				g.groupsAre(t, "acme", g.sub)
				if _, body := g.call(t, "GET", "/admin/v1/tenants/acme/groups/ops/members", ""); !strings.Contains(body, `{"users":[]}`) {
					t.Errorf("members after the removal: %s", body)
				}
			}},
		{name: "remove a non-member", method: "DELETE", route: member, path: "/admin/v1/tenants/acme/groups/admins/members/{sub}", status: 204,
			after: annIn("ops")},
		{name: "remove unknown user", method: "DELETE", route: member, path: "/admin/v1/tenants/acme/groups/ops/members/nope",
			status: 404, code: "not_found", want: []string{`has no user \"nope\"`}},
		{name: "remove from unknown group", method: "DELETE", route: member, path: "/admin/v1/tenants/acme/groups/nope/members/{sub}",
			status: 404, code: "not_found", want: []string{`has no group \"nope\"`}},
		{name: "remove other tenant's user", method: "DELETE", route: member, path: "/admin/v1/tenants/globex/groups/finance/members/{sub}",
			status: 404, code: "not_found", want: []string{`tenant \"globex\" has no user`},
			after: gusIn("finance")},

		// The admin group setting.
		{name: "tenant shows its admin group", method: "GET", route: tenantR, path: "/admin/v1/tenants/acme",
			status: 200, want: []string{`"admin_group":"admins"`}},
		{name: "choose another admin group", method: "PATCH", route: tenantR, path: "/admin/v1/tenants/acme", body: `{"settings":{"admin_group":"ops"}}`,
			status: 200, want: []string{`"admin_group":"ops"`, `"signing_alg":"ES256"`},
			after: func(t *testing.T, g *groupFixture) {
				// The old admin group is an ordinary group now, the new one is protected.
				if code, body := g.call(t, "DELETE", "/admin/v1/tenants/acme/groups/ops", ""); code != http.StatusBadRequest {
					t.Errorf("delete the new admin group: %d %s", code, body)
				}
				if code, body := g.call(t, "DELETE", "/admin/v1/tenants/acme/groups/admins", ""); code != http.StatusNoContent {
					t.Errorf("delete the old admin group: %d %s", code, body)
				}
			}},
		{name: "choose a missing admin group", method: "PATCH", route: tenantR, path: "/admin/v1/tenants/acme", body: `{"settings":{"admin_group":"nope"}}`,
			status: 400, code: "invalid_request", want: []string{`there is no group \"nope\"`}},
		{name: "choose a bad admin group name", method: "PATCH", route: tenantR, path: "/admin/v1/tenants/acme", body: `{"settings":{"admin_group":"ops "}}`,
			status: 400, code: "invalid_request", want: []string{"admin group: a group name may not start or end with a space"}},
		{name: "create tenant with an admin group", method: "POST", route: "/admin/v1/tenants", path: "/admin/v1/tenants",
			body:   `{"slug":"initech","settings":{"signing_alg":"ES256","admin_group":"owners"}}`,
			status: 201, want: []string{`"admin_group":"owners"`},
			after: func(t *testing.T, g *groupFixture) {
				// The admin group is made with the tenant, so that making someone
				// an administrator is adding them to it.
				if code, body := g.call(t, "GET", "/admin/v1/tenants/initech/groups", ""); code != http.StatusOK || !strings.Contains(body, `"name":"owners"`) {
					t.Errorf("the new tenant's groups: %d %s", code, body)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGroupFixture(t)
			code, body := g.call(t, tc.method, tc.path, tc.body)
			if code != tc.status {
				t.Fatalf("status %d, want %d; body %s", code, tc.status, body)
			}
			if !documented(strings.ToLower(tc.method), tc.route)[strconv.Itoa(code)] {
				t.Errorf("%s %s answers %d, which docs/openapi.yaml does not list", tc.method, tc.route, code)
			}
			checkBody(t, body, tc.code, tc.want, tc.reject, g.path)
			if tc.after != nil {
				tc.after(t, g)
			}
		})
	}
}

// A group is reached at the Location its creation answers, whatever its
// name holds; a rename answers the new path in Content-Location.
func TestGroupNamesInPaths(t *testing.T) {
	g := newGroupFixture(t)
	for _, name := range []string{"Sales EMEA", "a/b", "a/../b", "100%", "é?#&"} {
		rec := g.fixture.do(t, "POST", "/admin/v1/tenants/acme/groups", fmt.Sprintf(`{"name":%q}`, name), bearer)
		if rec.Code != http.StatusCreated {
			t.Fatalf("create %q: %d %s", name, rec.Code, rec.Body)
		}
		loc := rec.Header().Get("Location")
		if code, body := g.call(t, "PUT", loc+"/members/{sub}", ""); code != http.StatusNoContent {
			t.Errorf("add ann to %q at %s: %d %s", name, loc, code, body)
		}
		var got adminapi.Group
		code, body := g.call(t, "GET", loc, "")
		if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusOK || got.Name != name {
			t.Errorf("GET %s (Location of %q): %d %s", loc, name, code, body)
		}
		rec = g.fixture.do(t, "PATCH", loc, fmt.Sprintf(`{"name":%q}`, name+" 2"), bearer)
		if rec.Code != http.StatusOK {
			t.Fatalf("rename %q: %d %s", name, rec.Code, rec.Body)
		}
		if code, body := g.call(t, "GET", rec.Header().Get("Content-Location")+"/members", ""); code != http.StatusOK || !strings.Contains(body, g.sub) {
			t.Errorf("members at the Content-Location of renamed %q: %d %s", name, code, body)
		}
	}
	g.groupsAre(t, "acme", g.sub, "100% 2", "Sales EMEA 2", "a/../b 2", "a/b 2", "ops", "é?#& 2")
}

// A PATCH leaves out what it does not name: the precedence stays until
// null removes it, the description until "" does.
func TestGroupPatchKeepsWhatItLeavesOut(t *testing.T) {
	g := newGroupFixture(t)
	if code, body := g.call(t, "POST", "/admin/v1/tenants/acme/groups", `{"name":"night","description":"Night shift","precedence":2}`); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	for _, step := range []struct {
		body         string
		want, reject []string
	}{
		{`{}`, []string{`"description":"Night shift"`, `"precedence":2`}, nil},
		{`{"description":"Late shift"}`, []string{`"description":"Late shift"`, `"precedence":2`}, nil},
		{`{"precedence":null}`, []string{`"description":"Late shift"`}, []string{"precedence"}},
		{`{"precedence":9}`, []string{`"precedence":9`}, nil},
		{`{"description":""}`, []string{`"precedence":9`}, []string{"description"}},
		{`{"precedence":null,"description":""}`, []string{`"name":"night"`}, []string{"precedence", "description"}},
	} {
		code, body := g.call(t, "PATCH", "/admin/v1/tenants/acme/groups/night", step.body)
		if code != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", step.body, code, body)
		}
		checkBody(t, body, "", step.want, step.reject, g.path)
		// What the response says is what is stored.
		var got adminapi.Group
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("PATCH %s answered %s: %v", step.body, body, err)
		}
		if _, stored := g.call(t, "GET", "/admin/v1/tenants/acme/groups/"+got.Name, ""); stored != body {
			t.Errorf("after %s: stored %s, answered %s", step.body, stored, body)
		}
	}
}

func TestGroupMembersPages(t *testing.T) {
	g := newGroupFixture(t)
	want := []string{"ann"}
	for _, name := range []string{"bob", "carol", "dave", "erin"} {
		u, err := g.svc.CreateUser(t.Context(), "acme", tenant.NewUser{Username: name})
		if err != nil {
			t.Fatal(err)
		}
		if code, body := g.call(t, "PUT", "/admin/v1/tenants/acme/groups/ops/members/"+u.Sub, ""); code != http.StatusNoContent {
			t.Fatalf("add %s: %d %s", name, code, body)
		}
		want = append(want, name)
	}
	// One user who is not a member, who must not show up.
	if _, err := g.svc.CreateUser(t.Context(), "acme", tenant.NewUser{Username: "zed"}); err != nil {
		t.Fatal(err)
	}
	seen, pages := pageThrough(t, g.fixture, "/admin/v1/tenants/acme/groups/ops/members")
	if !slices.Equal(seen, want) || pages != 3 {
		t.Errorf("saw %v in %d pages, want %v in 3", seen, pages, want)
	}
}

// Membership changes reach the tenant's audit trail in the operator's name.
func TestGroupChangesAreAudited(t *testing.T) {
	g := newGroupFixture(t)
	for _, step := range []struct{ method, path, body string }{
		{"POST", "/admin/v1/tenants/acme/groups", `{"name":"sales"}`},
		{"PUT", "/admin/v1/tenants/acme/groups/sales/members/{sub}", ""},
		{"DELETE", "/admin/v1/tenants/acme/groups/sales/members/{sub}", ""},
	} {
		if code, body := g.call(t, step.method, step.path, step.body); code >= 300 {
			t.Fatalf("%s %s: %d %s", step.method, step.path, code, body)
		}
	}
	for _, action := range []tenant.AuditAction{tenant.AuditGroupCreate, tenant.AuditGroupMemberAdd, tenant.AuditGroupMemberRemove} {
		page, err := g.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: string(action)})
		if err != nil {
			t.Fatal(err)
		}
		// The fixture's own AddUserToGroup ran without an actor.
		var byOperator int
		for _, ev := range page.Events {
			if ev.Actor.Kind == tenant.ActorOperator {
				byOperator++
			}
		}
		if byOperator != 1 {
			t.Errorf("%s: %d events by the operator, want 1: %+v", action, byOperator, page.Events)
		}
	}
}

// A membership path answers other methods with 405 and an Allow header
// that names PUT, the one method no other path of the API uses.
func TestMembershipMethodNotAllowed(t *testing.T) {
	g := newGroupFixture(t)
	rec := g.fixture.do(t, "POST", "/admin/v1/tenants/acme/groups/ops/members/{sub}", "", bearer)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "PUT, DELETE" {
		t.Errorf("POST: %d, Allow %q: %s", rec.Code, rec.Header().Get("Allow"), rec.Body)
	}
}

// While the members of a large group renamed a moment ago still move, a
// second rename or a deletion of it, and a new group of its old name, are
// refused with 409 and words that say which and to wait.
func TestRenameGroupWhoseMembersStillMove(t *testing.T) {
	g := newGroupFixture(t)
	g.svc.GroupMoveQueued = func() {} // no mover: the move stays unfinished
	err := g.svc.Store.Update(t.Context(), func(tx tenant.Tx) error {
		for i := range 1000 { // with ann, more than one transaction moves
			u := tenant.User{Sub: fmt.Sprintf("sub-%04d", i), Username: fmt.Sprintf("u%04d", i), Groups: []string{"ops"}}
			if err := tenant.InsertUser(tx, "acme", u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := g.call(t, "PATCH", "/admin/v1/tenants/acme/groups/ops", `{"name":"team"}`); code != http.StatusOK {
		t.Fatalf("first rename: %d %s", code, body)
	}
	membersMoving := adminapi.Error{Code: "conflict",
		Message: `the members of group "team" of tenant "acme" are still being moved to it after its last rename; try again in a moment`}
	nameMoving := adminapi.Error{Code: "conflict",
		Message: `tenant "acme" had a group of that name until a moment ago, and its members are still being moved out of it; try again in a moment`}
	for _, c := range []struct {
		name, method, path, body string
		want                     adminapi.Error
	}{
		{"second rename", "PATCH", "/admin/v1/tenants/acme/groups/team", `{"name":"crew"}`, membersMoving},
		{"deletion", "DELETE", "/admin/v1/tenants/acme/groups/team", "", membersMoving},
		{"new group of the old name", "POST", "/admin/v1/tenants/acme/groups", `{"name":"ops"}`, nameMoving},
		{"another group renamed to the old name", "PATCH", "/admin/v1/tenants/acme/groups/admins", `{"name":"ops"}`, nameMoving},
	} {
		code, body := g.call(t, c.method, c.path, c.body)
		var got adminapi.Error
		if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusConflict || got != c.want {
			t.Errorf("%s: %d %s, want 409 %+v", c.name, code, body, c.want)
		}
	}
}
