package auth_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mfa/mfatest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// The refusals of FinishPasskey, each its own step: a flow that is not a
// passkey sign-in, a response of no size or too large, an account that may
// not sign in or is locked, a key whose counter went back, and a user
// deleted while the passkey was verified. The trail says why where the
// step records it.
func TestPasskeyRefusals(t *testing.T) {
	const origin = "http://acme.localhost:8080"
	tests := []struct {
		name string
		// prepare readies ann's account; it returns the session and
		// response to finish with. begin is a passkey sign-in begun.
		prepare    func(t *testing.T, e env, ann tenant.User, key *mfatest.Authenticator, begin auth.Result) (string, []byte)
		want       error
		wantReason string            // of the last failed sign-in in the trail; "" for none
		wantDetail map[string]string // among its details
	}{
		{"not a passkey sign-in", func(t *testing.T, e env, ann tenant.User, key *mfatest.Authenticator, _ auth.Result) (string, []byte) {
			res := e.signIn(t, "acme", "ann") // the key as a second factor
			return res.Session, key.Assert(res.MFA.WebAuthnOptions, origin)
		}, auth.ErrWrongChallenge, "", nil},
		{"no response", func(t *testing.T, e env, ann tenant.User, key *mfatest.Authenticator, begin auth.Result) (string, []byte) {
			return begin.Session, nil
		}, auth.ErrFactorRefused, "", nil},
		{"response too large", func(t *testing.T, e env, ann tenant.User, key *mfatest.Authenticator, begin auth.Result) (string, []byte) {
			return begin.Session, bytes.Repeat([]byte{' '}, 16<<10+1)
		}, auth.ErrFactorRefused, "", nil},
		{"disabled", func(t *testing.T, e env, ann tenant.User, key *mfatest.Authenticator, begin auth.Result) (string, []byte) {
			off := false
			if _, err := e.svc.UpdateUser(ctx, "acme", ann.Sub, tenant.UserChange{Enabled: &off}); err != nil {
				t.Fatal(err)
			}
			return begin.Session, key.Assert(begin.MFA.WebAuthnOptions, origin)
		}, auth.ErrNotAuthorized, tenant.ReasonDisabled, map[string]string{"status": string(tenant.StatusConfirmed)}},
		{"owing a password reset", func(t *testing.T, e env, ann tenant.User, key *mfatest.Authenticator, begin auth.Result) (string, []byte) {
			editUser(t, e, ann.Sub, func(u *tenant.User) { u.Status = tenant.StatusResetRequired })
			return begin.Session, key.Assert(begin.MFA.WebAuthnOptions, origin)
		}, auth.ErrNotAuthorized, tenant.ReasonChallengeFailed, map[string]string{"status": string(tenant.StatusResetRequired)}},
		{"locked", func(t *testing.T, e env, ann tenant.User, key *mfatest.Authenticator, begin auth.Result) (string, []byte) {
			for range 5 { // the default lockout
				if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "wrong", ClientIP: "192.0.2.9"}); !errors.Is(err, auth.ErrNotAuthorized) {
					t.Fatalf("wrong password: %v", err)
				}
			}
			return begin.Session, key.Assert(begin.MFA.WebAuthnOptions, origin)
		}, auth.ErrLocked, tenant.ReasonLocked, nil},
		{"counter went back", func(t *testing.T, e env, ann tenant.User, key *mfatest.Authenticator, begin auth.Result) (string, []byte) {
			key.Counter -= 2 // a copy of the key signs with an older count
			return begin.Session, key.Assert(begin.MFA.WebAuthnOptions, origin)
		}, auth.ErrFactorUnusable, tenant.ReasonChallengeFailed, map[string]string{"clone_warning": ""}},
		{"deleted meanwhile", func(t *testing.T, e env, ann tenant.User, key *mfatest.Authenticator, begin auth.Result) (string, []byte) {
			// Right after the passkey named ann, before the sign-in
			// commits.
			store := &interleavedStore{Store: e.m.Store}
			e.m.Store = store
			store.between = func() {
				if err := e.svc.DeleteUser(ctx, "acme", ann.Sub); err != nil {
					t.Fatal(err)
				}
			}
			return begin.Session, key.Assert(begin.MFA.WebAuthnOptions, origin)
		}, auth.ErrAccountChanged, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional, Passwordless: true})
			e.m.Audit = tenant.RecordAudit
			ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
			// A key that counts its signatures, made a passkey.
			key := mfatest.NewSecurityKey(t)
			key.Resident, key.Verifies = true, true
			e.enrolKey(t, "acme", ann.Sub, key)
			begin, err := e.m.BeginPasskey(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			session, response := tt.prepare(t, e, ann, key, begin)
			before := failedSignIns(t, e)
			done, err := e.m.FinishPasskey(ctx, "acme", session, response, "192.0.2.9")
			if !errors.Is(err, tt.want) || done.Sub != "" {
				t.Fatalf("finish: %+v, %v; want %v", done, err, tt.want)
			}
			// The flow is spent whatever the outcome.
			if _, err := e.m.Pending(ctx, "acme", session); !errors.Is(err, auth.ErrSessionExpired) {
				t.Errorf("the flow after the refusal: %v, want it gone", err)
			}
			var recorded []tenant.AuditEvent
			for _, ev := range failedSignIns(t, e) {
				if !slices.ContainsFunc(before, func(b tenant.AuditEvent) bool { return b.ID == ev.ID }) {
					recorded = append(recorded, ev)
				}
			}
			if tt.wantReason == "" {
				if len(recorded) != 0 {
					t.Fatalf("trail: %+v, want nothing recorded", recorded)
				}
				return
			}
			if len(recorded) != 1 || recorded[0].Reason != tt.wantReason || recorded[0].Target.ID != ann.Sub {
				t.Fatalf("trail: %+v, want one refusal of ann, %s", recorded, tt.wantReason)
			}
			for k, v := range tt.wantDetail {
				if got, ok := recorded[0].Details[k]; !ok || (v != "" && got != v) {
					t.Errorf("detail %s: %q, want %q", k, got, v)
				}
			}
		})
	}
}

// failedSignIns are the failed sign-ins in acme's trail.
func failedSignIns(t *testing.T, e env) []tenant.AuditEvent {
	t.Helper()
	page, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: string(tenant.AuditSignInFailure), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

// editUser changes a user's record as a database writer could.
func editUser(t *testing.T, e env, sub string, edit func(*tenant.User)) {
	t.Helper()
	err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
		u, err := tenant.GetUser(tx, "acme", sub)
		if err != nil {
			return err
		}
		edit(&u)
		return tenant.UpdateUser(tx, "acme", u)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The refusals of confirming a factor being set up (answerSetup) that only
// a second request can cause, and those that count against the flow but
// not against the login's lockout: a factor set up meanwhile by another
// enrolment, a registration refused or too large. A WebAuthn answer too
// large to a sign-in's challenge, by contrast, counts against the login.
func TestSetupRefusals(t *testing.T) {
	const origin = "http://acme.localhost:8080"
	tests := []struct {
		name string
		// answer begins what it answers for ann and answers it.
		answer     func(t *testing.T, e env, ann tenant.User) error
		want       error
		wantLocked bool // the login locked after it (a lockout of one failure)
	}{
		{"authenticator app set up meanwhile", func(t *testing.T, e env, ann tenant.User) error {
			first, _ := e.m.BeginEnrolment(ctx, "acme", ann.Sub, auth.SoftwareTokenMFA)
			second, err := e.m.BeginEnrolment(ctx, "acme", ann.Sub, auth.SoftwareTokenMFA)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.m.FinishEnrolment(ctx, "acme", ann.Sub, first.Session, auth.Answer{Code: totpCode(first.MFA.TOTP.Secret, e.clk.t)}); err != nil {
				t.Fatal(err)
			}
			_, err = e.m.FinishEnrolment(ctx, "acme", ann.Sub, second.Session, auth.Answer{Code: totpCode(second.MFA.TOTP.Secret, e.clk.t)})
			return err
		}, tenant.ErrConflict, false},
		{"user handle made meanwhile", func(t *testing.T, e env, ann tenant.User) error {
			first, _ := e.m.BeginEnrolment(ctx, "acme", ann.Sub, auth.WebAuthn)
			second, err := e.m.BeginEnrolment(ctx, "acme", ann.Sub, auth.WebAuthn)
			if err != nil {
				t.Fatal(err)
			}
			// The first registration, with a handle of its own, commits
			// once the second has read ann without one.
			store := &interleavedStore{Store: e.m.Store}
			e.m.Store = store
			store.between = func() {
				if _, err := e.m.FinishEnrolment(ctx, "acme", ann.Sub, first.Session, auth.Answer{Credential: mfatest.NewSecurityKey(t).Register(first.MFA.WebAuthnOptions, origin)}); err != nil {
					t.Fatal(err)
				}
			}
			_, err = e.m.FinishEnrolment(ctx, "acme", ann.Sub, second.Session, auth.Answer{Credential: mfatest.NewSecurityKey(t).Register(second.MFA.WebAuthnOptions, origin)})
			return err
		}, tenant.ErrConflict, false},
		{"registration at another origin", func(t *testing.T, e env, ann tenant.User) error {
			res, _ := e.m.BeginEnrolment(ctx, "acme", ann.Sub, auth.WebAuthn)
			_, err := e.m.FinishEnrolment(ctx, "acme", ann.Sub, res.Session, auth.Answer{Credential: mfatest.NewSecurityKey(t).Register(res.MFA.WebAuthnOptions, "http://beta.localhost:8080")})
			return err
		}, auth.ErrFactorRefused, false},
		{"registration too large", func(t *testing.T, e env, ann tenant.User) error {
			res, _ := e.m.BeginEnrolment(ctx, "acme", ann.Sub, auth.WebAuthn)
			_, err := e.m.FinishEnrolment(ctx, "acme", ann.Sub, res.Session, auth.Answer{Credential: bytes.Repeat([]byte{' '}, 16<<10+1)})
			return err
		}, auth.ErrFactorRefused, false},
		{"assertion too large", func(t *testing.T, e env, ann tenant.User) error {
			e.enrolKey(t, "acme", ann.Sub, mfatest.NewSecurityKey(t))
			res := e.signIn(t, "acme", "ann")
			_, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, Credential: bytes.Repeat([]byte{' '}, 16<<10+1)})
			return err
		}, auth.ErrFactorRefused, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
			lockout := tenant.LockoutPolicy{MaxFailures: 1, LockDuration: 15 * time.Minute}
			if _, err := e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Lockout: &lockout}}); err != nil {
				t.Fatal(err)
			}
			ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
			if err := tt.answer(t, e, ann); !errors.Is(err, tt.want) {
				t.Fatalf("answer: %v, want %v", err, tt.want)
			}
			_, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: annPassword, ClientIP: "192.0.2.9"})
			if locked := errors.Is(err, auth.ErrLocked); locked != tt.wantLocked || (!locked && err != nil) {
				t.Fatalf("signing in afterwards: %v; want locked %v", err, tt.wantLocked)
			}
		})
	}
}
