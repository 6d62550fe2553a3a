package adminapi_test

import (
	"net/http"
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
