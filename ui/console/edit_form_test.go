package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// A form sent back with a problem keeps what was typed, the new custom
// attribute too, and marks the field the problem is in.
func TestEditFormKeepsWhatWasTyped(t *testing.T) {
	s := newStack(t)
	ann := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example"})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	badName := "custom:" + strings.Repeat("x", 30)
	tests := []struct {
		name   string
		values url.Values
		want   []string
	}{
		{"bad new attribute", url.Values{"email": {"ann@acme.example"}, "new_name": {badName}, "new_value": {"north"}},
			[]string{`value="` + badName + `"`, `value="north"`, `maxlength="32" placeholder="custom:department" aria-invalid="true"`}},
		{"bad email beside a new attribute", url.Values{"email": {"not-an-address"}, "new_name": {"custom:team"}, "new_value": {"south"}},
			[]string{`value="not-an-address"`, `value="custom:team"`, `value="south"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.Submit(b.Get(s.url("acme", "/admin/users/"+ann.Sub+"/edit")), "/admin/users/"+ann.Sub+"/edit", tt.values)
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", p.Status)
			}
			uitest.MustContain(t, p, tt.want...)
		})
	}
	if u, _ := s.svc.User(t.Context(), "acme", ann.Sub); len(u.Attributes) != 0 {
		t.Errorf("a refused form changed the attributes: %v", u.Attributes)
	}
}

// Turning the status on while clearing the email address is refused as a
// whole: the activation needs the address, and the change and the
// activation are one transaction, so nothing is saved.
func TestActivationWithoutEmailSavesNothing(t *testing.T) {
	s := newStack(t)
	ann := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example"})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	p := b.Submit(b.Get(s.url("acme", "/admin/users/"+ann.Sub+"/edit")), "/admin/users/"+ann.Sub+"/edit",
		url.Values{"email": {""}, "active": {"on"}, "attr.given_name": {"Ann"}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422:\n%s", p.Status, p.Body)
	}
	uitest.MustContain(t, p, "The user needs an email address to receive the welcome mail.", `value="Ann"`)
	uitest.MustNotContain(t, p, "Your other changes were saved")
	u, err := s.svc.User(t.Context(), "acme", ann.Sub)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ann@acme.example" || u.Attributes["given_name"] != "" || u.Status != tenant.StatusUnconfirmed {
		t.Errorf("after the refused form: email %q, attributes %v, status %s", u.Email, u.Attributes, u.Status)
	}
	trail, _ := s.svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Target: ann.Sub, Action: string(tenant.AuditUserUpdate)})
	if len(trail.Events) != 0 {
		t.Errorf("a refused form left %d user.update events", len(trail.Events))
	}
}

// The "email verified" box means what it shows: on save, the address (new
// or not) is verified exactly when the box is ticked.
func TestEmailVerifiedMeansWhatTheBoxShows(t *testing.T) {
	s := newStack(t)
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	tests := []struct {
		name     string
		verified bool   // as stored
		email    string // as typed
		ticked   bool
		want     bool
	}{
		{"verified, new address, box stays ticked", true, "new@acme.example", true, true},
		{"verified, new address, box cleared", true, "new@acme.example", false, false},
		{"unverified, new address, box left clear", false, "new@acme.example", false, false},
		{"unverified, new address, box ticked", false, "new@acme.example", true, true},
		{"verified, same address, box stays ticked", true, "old@acme.example", true, true},
		{"verified, same address, box cleared", true, "old@acme.example", false, false},
		{"unverified, same address, box ticked", false, "old@acme.example", true, true},
		{"verified, new capitals, box stays ticked", true, "OLD@acme.example", true, true},
		{"verified, address removed, box left ticked", true, "", true, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := s.user(t, "acme", tenant.NewUser{Username: fmt.Sprintf("user%d", i), Email: "old@acme.example", EmailVerified: tt.verified})
			edit := b.Get(s.url("acme", "/admin/users/"+u.Sub+"/edit"))
			if shown := strings.Contains(edit.Body, `name="email_verified" value="on" checked`); shown != tt.verified {
				t.Fatalf("the box shows %v for a user whose address is verified: %v", shown, tt.verified)
			}
			values := url.Values{"email": {tt.email}}
			if tt.ticked {
				values.Set("email_verified", "on")
			}
			if p := b.Submit(edit, "/admin/users/"+u.Sub+"/edit", values); p.Status != http.StatusSeeOther {
				t.Fatalf("save: %d\n%s", p.Status, p.Body)
			}
			after, _ := s.svc.User(t.Context(), "acme", u.Sub)
			if after.Email != tt.email || after.EmailVerified != tt.want {
				t.Errorf("saved %q verified %v; want %q verified %v", after.Email, after.EmailVerified, tt.email, tt.want)
			}
		})
	}
}

// A value the service refuses is refused with the rule it broke, in the
// administrator's language, not "this change is not valid".
func TestEditFormSaysWhichRule(t *testing.T) {
	s := newStack(t)
	ann := s.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@acme.example"})
	b := newBrowser(t)
	b.signIn(s, "acme", "boss", adminPassword)
	tests := []struct {
		name   string
		values url.Values
		want   string
	}{
		{"phone number", url.Values{"attr.phone_number": {"not a phone"}},
			"phone_number &#34;not a phone&#34; is not in E.164 form"},
		{"phone verified", url.Values{"attr.phone_number_verified": {"maybe"}},
			"phone_number_verified must be true or false, not &#34;maybe&#34;"},
		{"updated_at", url.Values{"attr.updated_at": {"yesterday"}},
			"updated_at &#34;yesterday&#34; is not a time in seconds since 1970"},
		{"birthdate", url.Values{"attr.birthdate": {"31-31-9999"}},
			"birthdate &#34;31-31-9999&#34; is not a date written YYYY-MM-DD"},
		{"a value that is too long", url.Values{"attr.name": {strings.Repeat("é", 2049)}},
			"attribute &#34;name&#34; is longer than 2048 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.values.Set("email", "ann@acme.example")
			p := b.Submit(b.Get(s.url("acme", "/admin/users/"+ann.Sub+"/edit")), "/admin/users/"+ann.Sub+"/edit", tt.values)
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", p.Status)
			}
			uitest.MustContain(t, p, tt.want)
		})
	}
	if u, _ := s.svc.User(t.Context(), "acme", ann.Sub); len(u.Attributes) != 0 {
		t.Errorf("a refused form changed the attributes: %v", u.Attributes)
	}
}
