package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mfa/mfatest"
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

// What a person changes on their own account reaches the trail in their
// name, with their address, in the transaction of the change: a refused
// change leaves no event, and no event claims a change that was refused.
func TestAccountChangesAreAudited(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFARequired, Factors: []string{tenant.FactorTOTP, tenant.FactorWebAuthn}})
	e.m.Audit = tenant.RecordAudit
	const ip = "192.0.2.9"
	bob := e.user(t, tenant.NewUser{Username: "bob", Password: "Temp-Passw0rd!", Temporary: true})
	tick := func() { e.clk.t = e.clk.t.Add(time.Minute) }

	// The first sign-in replaces the temporary password, then sets up the
	// authenticator app the tenant requires.
	res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "bob", Password: "Temp-Passw0rd!", ClientIP: ip})
	if err != nil {
		t.Fatal(err)
	}
	if res, err = e.answer(res.Session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: annPassword}); err != nil {
		t.Fatal(err)
	}
	if res, err = e.m.Choose(ctx, "acme", res.Session, auth.SoftwareTokenMFA); err != nil {
		t.Fatal(err)
	}
	tick()
	wrong := auth.Answer{Challenge: auth.MFASetup, Code: "000000", FactorName: "Phone"}
	if wrong.Code == totpCode(res.MFA.TOTP.Secret, e.clk.t) {
		wrong.Code = "000001"
	}
	if _, err := e.answer(res.Session, wrong); err == nil {
		t.Fatal("a wrong code set up the app")
	}
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.MFASetup, Code: totpCode(res.MFA.TOTP.Secret, e.clk.t), FactorName: "Phone"}); err != nil {
		t.Fatal(err)
	}

	// Then, on the account page: a security key, new recovery codes, a new
	// password (after a wrong current one), and the app removed.
	tick()
	e.enrolKey(t, "acme", bob.Sub, mfatest.NewSecurityKey(t))
	tick()
	if _, err := e.m.NewRecoveryCodes(ctx, "acme", bob.Sub, ip); err != nil {
		t.Fatal(err)
	}
	tick()
	if err := e.m.ChangePassword(ctx, "acme", bob.Sub, "Wrong-Horse-9", "New-Horse-10", ip); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := e.m.ChangePassword(ctx, "acme", bob.Sub, annPassword, "New-Horse-10", ip); err != nil {
		t.Fatal(err)
	}
	tick()
	self := tenant.WithActor(ctx, tenant.Actor{Kind: tenant.ActorUser, IP: ip})
	if err := e.svc.RemoveMFAFactor(self, "acme", bob.Sub, tenant.TOTPFactorID); err != nil {
		t.Fatal(err)
	}
	u, err := e.svc.User(ctx, "acme", bob.Sub)
	if err != nil {
		t.Fatal(err)
	}
	key := u.MFA.WebAuthn[0].FactorID()
	if err := e.svc.RemoveMFAFactor(self, "acme", bob.Sub, key); !errors.Is(err, tenant.ErrLastFactor) {
		t.Fatalf("removing the last factor: %v", err)
	}

	page, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: "user.", Actor: bob.Sub})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range slices.Backward(page.Events) { // oldest first
		var details []string
		for _, k := range slices.Sorted(maps.Keys(ev.Details)) {
			details = append(details, k+"="+ev.Details[k])
		}
		got = append(got, string(ev.Action)+" "+strings.Join(details, ","))
		want := tenant.Actor{Kind: tenant.ActorUser, Sub: bob.Sub, Name: "bob", IP: ip}
		if ev.Actor != want || ev.Target.ID != bob.Sub || ev.Reason != "" {
			t.Errorf("%s: actor %+v, target %+v, reason %q", ev.Action, ev.Actor, ev.Target, ev.Reason)
		}
	}
	want := []string{
		"user.password.change temporary=replaced",
		"user.mfa.enrol kind=TOTP,name=Phone",
		"user.mfa.enrol kind=WEBAUTHN,name=Key",
		"user.mfa.recovery_codes ",
		"user.password.change ",
		"user.mfa.remove kind=TOTP,name=Phone",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// A refusal reaches the trail before its answer is held back, whatever
// becomes of the request: a guesser who leaves during the pause, which
// tells a wrong guess from a right one, stays in the trail. The pause here
// ends as when the client goes away; five wrong answers make five failures
// and the lockout the fifth causes.
func TestRefusalAuditedWhenTheClientLeavesDuringThePause(t *testing.T) {
	const ip = "192.0.2.4"
	tests := []struct {
		name   string
		reason string
		// wrong gives a wrong answer as ann, at the step the test is of.
		wrong func(t *testing.T, e env, ann tenant.User) func(context.Context)
	}{
		{"password", tenant.ReasonWrongPassword, func(t *testing.T, e env, ann tenant.User) func(context.Context) {
			return func(ctx context.Context) {
				e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "wrong", ClientIP: ip})
			}
		}},
		{"second factor", tenant.ReasonChallengeFailed, func(t *testing.T, e env, ann tenant.User) func(context.Context) {
			e.enrolTOTP(t, ann.Sub)
			res := e.signIn(t, "acme", "ann")
			return func(ctx context.Context) {
				e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: "000000", ClientIP: ip})
			}
		}},
		{"current password on the account page", tenant.ReasonWrongPassword, func(t *testing.T, e env, ann tenant.User) func(context.Context) {
			return func(ctx context.Context) {
				e.m.ChangePassword(ctx, "acme", ann.Sub, "wrong", "New-Horse-10", ip)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
			ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
			wrong := tt.wrong(t, e, ann)
			e.m.Audit = tenant.RecordAudit
			// The client leaves as soon as its failure is counted: the
			// request's context ends there, before the record and the
			// pause.
			store := &lockoutSeamStore{Store: e.m.Store, key: "login:ann"}
			e.m.Store = store
			e.m.Pause = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
			for range 5 {
				e.clk.t = e.clk.t.Add(time.Second)
				request, leave := context.WithCancel(ctx)
				store.arm(&store.afterWrite, leave)
				wrong(request)
				if request.Err() == nil {
					t.Fatal("the failure was never counted: the seam on login:ann did not fire")
				}
				leave()
			}

			page, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: "signin.", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range slices.Backward(page.Events) {
				got = append(got, string(ev.Action)+":"+ev.Actor.Name+":"+ev.Reason)
			}
			slices.Sort(got)
			want := []string{"signin.lockout:ann:"}
			for range 5 {
				want = append(want, "signin.failure:ann:"+tt.reason)
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("trail:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}
