package adminapi_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// TestEveryOperationRefusesWhatItDoesNotTake sends every operation of
// docs/openapi.yaml (which lists every route, TestOpenAPIMatches) a query
// parameter it does not take, each parameter it takes twice and without a
// value, and each that has no request body a body: each is refused with 400 and the same sentence, a status the document
// lists, before anything is done. A misspelt parameter or an ignored body
// would otherwise pass for one that was taken into account.
func TestEveryOperationRefusesWhatItDoesNotTake(t *testing.T) {
	type parameter struct {
		Ref  string `yaml:"$ref"`
		Name string `yaml:"name"`
		In   string `yaml:"in"`
	}
	type operation struct {
		Parameters  []parameter    `yaml:"parameters"`
		RequestBody map[string]any `yaml:"requestBody"`
	}
	var doc struct {
		Paths      map[string]map[string]yaml.Node `yaml:"paths"`
		Components struct {
			Parameters map[string]parameter `yaml:"parameters"`
		} `yaml:"components"`
	}
	adminapi.ReadOpenAPI(t, &doc)
	documented := documentedStatuses(t)
	fill := strings.NewReplacer("{slug}", "acme", "{id}", "{client}", "{name}", "admins")

	type request struct {
		name, query, body, want string
	}
	for path, ops := range doc.Paths {
		for method, node := range ops {
			if method == "parameters" {
				continue
			}
			var op operation
			if err := node.Decode(&op); err != nil {
				t.Fatal(err)
			}
			requests := []request{{name: "an unknown query parameter", query: "?bogus=1", want: `unknown query parameter \"bogus\"; this operation takes `}}
			if op.RequestBody == nil {
				requests = append(requests,
					request{name: "a body", body: `{"permanent":true}`, want: "this operation takes no request body, and would ignore what was sent"},
					request{name: "an empty object", body: `{}`, want: "this operation takes no request body"})
			}
			for _, p := range op.Parameters {
				if p.Ref != "" {
					p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
				}
				if p.In == "query" {
					empty := "query parameter " + p.Name + " is empty; give it a value, or leave it out"
					requests = append(requests,
						request{name: p.Name + " twice", query: "?" + p.Name + "=1&" + p.Name + "=2",
							want: "query parameter " + p.Name + " is given 2 times; give it once"},
						request{name: p.Name + " empty", query: "?" + p.Name + "=", want: empty},
						request{name: p.Name + " without a value", query: "?" + p.Name, want: empty})
				}
			}
			for _, req := range requests {
				t.Run(strings.ToUpper(method)+" "+path+" with "+req.name, func(t *testing.T) {
					f := newFixture(t)
					rec := f.do(t, strings.ToUpper(method), fill.Replace(path)+req.query, req.body, bearer)
					if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), req.want) {
						t.Fatalf("status %d, want 400 saying %q: %s", rec.Code, req.want, rec.Body)
					}
					if !documented(method, path)[strconv.Itoa(rec.Code)] {
						t.Errorf("%s %s answers 400, which the document does not list", method, path)
					}
					if len(f.changed) > 0 {
						t.Errorf("refused, yet changed %v", f.changed)
					}
				})
			}
		}
	}
}

// An operation without a body still takes a request with none: empty,
// whitespace alone (as an optional JSON body may be), with or without a
// Content-Type, as the CLI sends it (no body, no Content-Type).
func TestOperationsWithoutBodyTakeAnEmptyOne(t *testing.T) {
	for _, tt := range []struct {
		name, path, body, contentType string
		status                        int
	}{
		{"reset-password, nothing", "/reset-password", "", "", http.StatusOK},
		{"reset-password, JSON of nothing", "/reset-password", "", "application/json", http.StatusOK},
		{"reset-password, a newline", "/reset-password", "\r\n", "application/json", http.StatusOK},
		{"unlock, nothing", "/unlock", "", "", http.StatusNoContent},
		{"reset-mfa, spaces", "/reset-mfa", "  ", "", http.StatusNoContent},
		{"unlock, a field", "/unlock", `{"x":1}`, "application/json", http.StatusBadRequest},
		{"reset-mfa, text", "/reset-mfa", "please", "text/plain", http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			templates, err := mail.NewTemplates(nil)
			if err != nil {
				t.Fatal(err)
			}
			f.svc.Templates, f.svc.ReleaseLockout = templates, auth.Unlock
			f.svc.TenantURL = func(slug string) string { return "https://" + slug + ".example.com" }
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.path("/admin/v1/tenants/acme/users/{sub}"+tt.path), strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", bearer)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			f.handler.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
		})
	}
}
