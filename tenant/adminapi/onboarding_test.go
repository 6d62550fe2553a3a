package adminapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// The onboarding endpoints: what each answers, and that a refusal is a 400
// that says why rather than a 500.
func TestOnboardingEndpoints(t *testing.T) {
	f := newFixture(t)
	templates, err := mail.NewTemplates(nil)
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Templates, f.svc.ReleaseLockout = templates, auth.Unlock
	f.svc.TenantURL = func(slug string) string { return "https://" + slug + ".example.com" }
	bob, err := f.svc.CreateUser(t.Context(), "acme", tenant.NewUser{Username: "bob", Email: "bob@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	noMail, err := f.svc.CreateUser(t.Context(), "acme", tenant.NewUser{Username: "nomail"})
	if err != nil {
		t.Fatal(err)
	}
	users := "/admin/v1/tenants/acme/users/"

	steps := []struct {
		name   string
		path   string
		status int
		want   string // in the body: a status, or the error's words
	}{
		{"activate", users + bob.Sub + "/activate", 200, `"status":"FORCE_CHANGE_PASSWORD"`},
		{"activate again", users + bob.Sub + "/activate", 200, `"status":"FORCE_CHANGE_PASSWORD"`},
		{"resend", users + bob.Sub + "/resend-invitation", 200, `"status":"FORCE_CHANGE_PASSWORD"`},
		{"admin reset before the first sign-in", users + bob.Sub + "/reset-password", 400, "resend the invitation instead"},
		{"activate without email", users + noMail.Sub + "/activate", 400, "needs an email address"},
		{"activate an active user", users + "{sub}/activate", 400, "already active"},
		{"resend to an active user", users + "{sub}/resend-invitation", 400, "only for a user who has not signed in yet"},
		{"admin reset", users + "{sub}/reset-password", 200, `"status":"RESET_REQUIRED"`},
		{"admin reset again", users + "{sub}/reset-password", 200, `"status":"RESET_REQUIRED"`},
		{"unlock", users + "{sub}/unlock", 204, ""},
		{"unknown user", users + "nope/activate", 404, `tenant \"acme\" has no user \"nope\"`},
		{"unknown tenant", "/admin/v1/tenants/nope/users/{sub}/unlock", 404, "not_found"},
	}
	// What the mailing steps answer as repeated: the same mail again
	// within a minute sends nothing, and the answer says so, for the
	// client to tell its user the truth.
	repeats := map[string]bool{"activate": false, "activate again": true, "resend": true, "admin reset": false, "admin reset again": true}
	for _, s := range steps {
		rec := f.do(t, "POST", s.path, "", bearer)
		body := rec.Body.String()
		if rec.Code != s.status || !strings.Contains(body, s.want) {
			t.Errorf("%s: %d %s, want %d with %q", s.name, rec.Code, body, s.status, s.want)
		}
		if want, mails := repeats[s.name]; mails {
			var answer adminapi.MailedUser
			if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || answer.Repeated != want || !strings.Contains(body, `"repeated":`) {
				t.Errorf("%s: repeated %t (%v) in %s, want %t", s.name, answer.Repeated, err, body, want)
			}
		}
		if strings.Contains(body, "password_hash") {
			t.Errorf("%s: the answer shows a hash", s.name)
		}
		if s.status == 400 {
			var e adminapi.Error
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Code != "invalid_request" {
				t.Errorf("%s: error body %s", s.name, body)
			}
		}
	}
	if rec := f.do(t, "GET", "/admin/v1/tenants/acme/users/{sub}/activate", "", bearer); rec.Code != 405 {
		t.Errorf("GET on an action: %d", rec.Code)
	}

	// Created with an invitation: activated in the same request.
	creates := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"create with an invitation", `{"username":"cy","email":"cy@example.com","invite":true}`, 201, `"status":"FORCE_CHANGE_PASSWORD"`},
		{"invitation without email", `{"username":"dee","invite":true}`, 400, "needs an email address"},
		{"invitation with a password", `{"username":"dee","email":"dee@example.com","password":"Correct-Horse-9!","invite":true}`, 400, "give no password"},
	}
	for _, c := range creates {
		rec := f.do(t, "POST", "/admin/v1/tenants/acme/users", c.body, bearer)
		if body := rec.Body.String(); rec.Code != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, rec.Code, body, c.status, c.want)
		}
	}
}
