package adminapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
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
