package ui_test

import (
	"net/http"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// A login page left open at a tenant that is then deleted and created
// again under its slug, perhaps for another organization, signs nobody in
// when it is sent, though the new tenant has a user with the name and the
// password typed: the page reads as any sign-in that is gone, and the new
// tenant's trail records no sign-in.
func TestRecreatedTenantRefusesOldLoginPage(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)
	b := newBrowser(t)
	login := s.startLogin(t, b)

	if err := s.svc.DeleteTenant(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.CreateTenant(t.Context(), tenant.NewTenant{Slug: "acme", Name: "New Org"}); err != nil {
		t.Fatal(err)
	}
	s.addUser(t, "ann", goodPassword, false)

	p := b.submit(login, map[string]string{"login": "ann", "password": goodPassword})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("the old login page, sent: status %d to %q, want 400:\n%s", p.Status, p.Location, p.Body)
	}
	uitest.MustContain(t, p, "This sign-in link has expired or has been used already.", `href="/sign-in"`)
	trail, err := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: string(tenant.AuditSignIn)})
	if err != nil {
		t.Fatal(err)
	}
	if len(trail.Events) != 0 {
		t.Errorf("the new tenant recorded %d sign-ins, want none", len(trail.Events))
	}
	if account := b.Get(s.tenantURL + "/account"); account.Status != http.StatusSeeOther {
		t.Errorf("the account page after the old form: status %d, want 303 to sign in (no session)", account.Status)
	}
	// The old page, opened again, says the same.
	again := b.Get(login.URL.String())
	if again.Status != http.StatusBadRequest {
		t.Errorf("the old login page, opened again: status %d, want 400", again.Status)
	}
}
