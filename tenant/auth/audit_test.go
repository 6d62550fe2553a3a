package auth_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// Every outcome reaches the audit trail with its reason; what was typed as
// a password never does, nor the name of an account that does not exist.
func TestSignInOutcomesAreAudited(t *testing.T) {
	e := newEnv(t)
	e.m.Audit = tenant.RecordAudit
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: "Correct-Horse-9"})
	bob := e.user(t, tenant.NewUser{Username: "bob", Password: "Correct-Horse-9"})
	off := false
	e.svc.UpdateUser(ctx, "acme", bob.Sub, tenant.UserChange{Enabled: &off})
	e.user(t, tenant.NewUser{Username: "dora"})

	attempts := []struct {
		login, password string
		err             error
	}{
		{"ann", "Correct-Horse-9", nil},
		{"Correct-Horse-9", "typed-in-the-wrong-field", auth.ErrNotAuthorized},
		{"bob", "Correct-Horse-9", auth.ErrNotAuthorized},
		{"dora", "anything", auth.ErrNotAuthorized},
		{"ann", "wrong-1", auth.ErrNotAuthorized},
		{"ann", "wrong-2", auth.ErrNotAuthorized},
		{"ann", "wrong-3", auth.ErrNotAuthorized},
		{"ann", "wrong-4", auth.ErrNotAuthorized},
		{"ann", "wrong-5", auth.ErrNotAuthorized}, // the fifth failure of ann locks her name
		{"ann", "Correct-Horse-9", auth.ErrLocked},
	}
	for _, a := range attempts {
		e.clk.t = e.clk.t.Add(time.Second)
		_, err := e.m.Start(ctx, "acme", auth.Credentials{Login: a.login, Password: a.password, ClientIP: "192.0.2.4"})
		if !errors.Is(err, a.err) && (a.err != nil || err != nil) {
			t.Fatalf("%s/%s: %v, want %v", a.login, a.password, err, a.err)
		}
	}

	page, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: "signin.", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	// Oldest first, as attempted. A failure and the lockout it caused share
	// an instant, and events of one instant come in no defined order, so
	// those two are put in the order that reads naturally.
	events := slices.Clone(page.Events)
	slices.SortStableFunc(events, func(a, b tenant.AuditEvent) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(string(a.Action), string(b.Action))
	})
	var got []string
	for _, ev := range events {
		got = append(got, string(ev.Action)+":"+ev.Actor.Name+":"+ev.Reason)
		if ev.Actor.IP != "192.0.2.4" {
			t.Errorf("%s without the client address: %+v", ev.Action, ev.Actor)
		}
	}
	want := []string{
		"signin.success:ann:",
		"signin.failure::unknown_user",
		"signin.failure:bob:disabled",
		"signin.failure:dora:not_activated",
		"signin.failure:ann:wrong_password",
		"signin.failure:ann:wrong_password",
		"signin.failure:ann:wrong_password",
		"signin.failure:ann:wrong_password",
		"signin.failure:ann:wrong_password",
		"signin.lockout:ann:",
		"signin.failure:ann:locked",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	raw, _ := json.Marshal(page.Events)
	for _, secret := range []string{"Correct-Horse-9", "typed-in-the-wrong-field", "wrong-1"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the trail holds %q", secret)
		}
	}
	if page.Events[len(page.Events)-1].Details["amr"] != "pwd" || page.Events[len(page.Events)-1].Target.ID != ann.Sub {
		t.Errorf("success event %+v", page.Events[len(page.Events)-1])
	}
}
