package adminapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// documentedStatuses reads docs/openapi.yaml once and returns a lookup of
// the statuses it lists for an operation (method in lower case, route as in
// the document).
func documentedStatuses(t *testing.T) func(method, route string) map[string]bool {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	adminapi.ReadOpenAPI(t, &doc)
	return func(method, route string) map[string]bool {
		t.Helper()
		var op struct {
			Responses map[string]yaml.Node `yaml:"responses"`
		}
		node, ok := doc.Paths[route][method]
		if !ok {
			t.Fatalf("%s %s is not documented", method, route)
		}
		if err := node.Decode(&op); err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for code := range op.Responses {
			out[code] = true
		}
		return out
	}
}

// TestOpenAPIDocumentsStatuses keeps the responses of docs/openapi.yaml
// honest: each request here gets a status the document lists for its
// operation, so a client written from the document knows every answer.
func TestOpenAPIDocumentsStatuses(t *testing.T) {
	documented := documentedStatuses(t)

	const (
		users  = "/admin/v1/tenants/{slug}/users"
		user   = users + "/{sub}"
		client = "/admin/v1/tenants/{slug}/clients/{id}"
	)
	tests := []struct {
		name          string
		method, route string // the operation in the document
		path, body    string
		status        int
	}{
		{"delete a built-in client", "delete", client, "/admin/v1/tenants/acme/clients/" + tenant.ConsoleClientID, "", 400},
		{"delete a client", "delete", client, "/admin/v1/tenants/acme/clients/{client}", "", 204},
		{"rotate a public client's secret", "post", client + "/secret", "/admin/v1/tenants/acme/clients/{public}/secret", "", 400},
		{"activate an active user", "post", user + "/activate", "/admin/v1/tenants/acme/users/{sub}/activate", "", 400},
		{"resend to an active user", "post", user + "/resend-invitation", "/admin/v1/tenants/acme/users/{sub}/resend-invitation", "", 400},
		{"find by neither", "get", users, "/admin/v1/tenants/acme/users?username=", "", 400},
		{"verified without an address", "patch", user, "/admin/v1/tenants/acme/users/{sub}", `{"email":"","email_verified":true}`, 400},
		{"reset MFA of an unknown user", "post", user + "/reset-mfa", "/admin/v1/tenants/acme/users/nope/reset-mfa", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.do(t, strings.ToUpper(tt.method), tt.path, tt.body, bearer)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if !documented(tt.method, tt.route)[strconv.Itoa(rec.Code)] {
				t.Errorf("%s %s answers %d, which the document does not list", tt.method, tt.route, rec.Code)
			}
		})
	}
}

// A rename to another tenant's name is refused with 409, which the
// document lists (for the operation, and among the causes of
// already_exists in its table of errors), and the message names the
// tenant that has it.
func TestRenameToAnotherTenantsName(t *testing.T) {
	documented := documentedStatuses(t)
	f := newFixture(t)
	if _, err := f.svc.CreateTenant(t.Context(), tenant.NewTenant{Slug: "globex", Name: "Globex Corporation",
		Settings: tenant.Settings{SigningAlg: "ES256"}}); err != nil {
		t.Fatal(err)
	}
	rec := f.do(t, "PATCH", "/admin/v1/tenants/acme", `{"name":"globex  CORPORATION"}`, bearer)
	if rec.Code != http.StatusConflict {
		t.Fatalf("status %d, want 409: %s", rec.Code, rec.Body)
	}
	checkBody(t, rec.Body.String(), "already_exists", []string{`tenant \"globex\" is called \"Globex Corporation\"`}, nil, f.path)
	if !documented("patch", "/admin/v1/tenants/{slug}")["409"] {
		t.Error("PATCH /admin/v1/tenants/{slug} answers 409, which the document does not list")
	}
	var doc struct {
		Info struct {
			Description string `yaml:"description"`
		} `yaml:"info"`
	}
	adminapi.ReadOpenAPI(t, &doc)
	row := ""
	for line := range strings.Lines(doc.Info.Description) {
		if strings.HasPrefix(line, "| 409 | `already_exists` |") {
			row = line
		}
	}
	if !strings.Contains(row, "an organization name another tenant has") {
		t.Errorf("the table of errors does not list an organization name among the causes of already_exists: %q", row)
	}
}
