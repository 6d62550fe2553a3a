package auth_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// A user deactivated while at a sign-in's second step is refused there,
// and the trail says they were deactivated, not merely that their account
// changed: deactivation is the change an administrator looks for.
func TestUserDeactivatedAtTheStep(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	e.m.Audit = tenant.RecordAudit
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	secret := e.enrolTOTP(t, ann.Sub)
	res := e.signIn(t, "acme", "ann")
	off := false
	if _, err := e.svc.UpdateUser(ctx, "acme", ann.Sub, tenant.UserChange{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if done, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: totpCode(secret, e.clk.t)}); !errors.Is(err, auth.ErrNotAuthorized) || len(done.AMR) != 0 {
		t.Fatalf("answer after the deactivation: %+v, %v; want ErrNotAuthorized", done, err)
	}
	page, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: string(tenant.AuditSignInFailure), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].Reason != tenant.ReasonDisabled || page.Events[0].Target.ID != ann.Sub {
		t.Fatalf("trail: %+v; want one refusal of ann, %s", page.Events, tenant.ReasonDisabled)
	}
}

// A temporary password is replaced once, even through two forced-change
// steps stored before flows kept the standing of their user (an upgrade
// leaves them pending for a step's time): the second finds the password
// replaced and ends, instead of setting another one.
func TestTemporaryPasswordOnceForFlowsWithoutStanding(t *testing.T) {
	e := newEnv(t)
	bob := e.user(t, tenant.NewUser{Username: "bob", Password: "Temp-Passw0rd!", Temporary: true})
	var sessions []string
	for range 2 {
		res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "bob", Password: "Temp-Passw0rd!"})
		if err != nil || res.Challenge != auth.NewPasswordRequired {
			t.Fatalf("temporary password: %+v, %v", res, err)
		}
		sessions = append(sessions, res.Session)
		forgetStanding(t, e, res.Session)
	}
	answer := func(session, pw string) (auth.Result, error) {
		return e.m.Respond(ctx, "acme", session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: pw})
	}
	if done, err := answer(sessions[0], "Brand-New-Pass1"); err != nil || !done.Done() {
		t.Fatalf("first tab: %+v, %v", done, err)
	}
	if _, err := answer(sessions[1], "Other-New-Pass2"); !errors.Is(err, auth.ErrSessionExpired) {
		t.Fatalf("second tab: %v, want ErrSessionExpired", err)
	}
	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "bob", Password: "Brand-New-Pass1"}); err != nil || !res.Done() || res.Sub != bob.Sub {
		t.Fatalf("the first tab's password: %+v, %v", res, err)
	}
}

// forgetStanding makes the pending flow of session one stored before flows
// kept their user's standing: without the field.
func forgetStanding(t *testing.T, e env, session string) {
	t.Helper()
	err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
		id := tenant.HashSecret(session)
		raw, err := tx.Get(tenant.CollAuthFlows, "acme", id)
		if err != nil {
			return err
		}
		var f map[string]any
		if err := json.Unmarshal(raw, &f); err != nil {
			return err
		}
		if _, ok := f["standing"]; !ok {
			t.Fatalf("flow %s has no standing to forget", raw)
		}
		delete(f, "standing")
		if raw, err = json.Marshal(f); err != nil {
			return err
		}
		return tx.Put(tenant.CollAuthFlows, "acme", id, raw)
	})
	if err != nil {
		t.Fatal(err)
	}
}
