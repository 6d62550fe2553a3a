package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mfa/mfatest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// interleavedStore is the real store with one seam: the function set in
// between runs once, right after the next View returns. It stands for
// another request that commits while this one is between reading the user
// and writing the sign-in, deterministically.
type interleavedStore struct {
	tenant.Store
	between func()
}

func (s *interleavedStore) View(ctx context.Context, fn func(tx tenant.Tx) error) error {
	err := s.Store.View(ctx, fn)
	if f := s.between; f != nil {
		s.between = nil
		f()
	}
	return err
}

// Two sign-ins with the same security key at once: each assertion was
// checked against the sign count both read, so the one that commits second
// must be checked again against what the first stored. Otherwise a copy of
// the key signing with the same count goes unnoticed, and a clone warning
// stored meanwhile is overwritten by a clean record.
func TestWebAuthnSignInsAtOnce(t *testing.T) {
	const origin = "http://acme.localhost:8080"
	tests := []struct {
		name         string
		passwordless bool
		// copyCount is the sign count the copy of the key signs its
		// sign-in with, given the one the key was registered with.
		copyCount func(registered uint32) uint32
		wantCopy  error // the copy's sign-in, which commits first
	}{
		// The copy counts as the key does: both sign with the next count.
		{"same count", false, func(n uint32) uint32 { return n + 1 }, nil},
		// The copy's count is behind: it is flagged, and the flag holds.
		{"flagged meanwhile", false, func(n uint32) uint32 { return n }, auth.ErrFactorUnusable},
		{"passkey, same count", true, func(n uint32) uint32 { return n + 1 }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional, Passwordless: tt.passwordless})
			ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
			key := mfatest.NewSecurityKey(t)
			key.Resident, key.Verifies = tt.passwordless, tt.passwordless
			e.enrolKey(t, "acme", ann.Sub, key)
			store := &interleavedStore{Store: e.m.Store}
			e.m.Store = store

			// begin and finish one sign-in with a, a second factor after
			// the password, or a passkey alone.
			type signIn struct {
				options []byte
				finish  func(response []byte) error
			}
			begin := func() signIn {
				if tt.passwordless {
					res, err := e.m.BeginPasskey(ctx, "acme")
					if err != nil {
						t.Fatal(err)
					}
					return signIn{res.MFA.WebAuthnOptions, func(response []byte) error {
						_, err := e.m.FinishPasskey(ctx, "acme", res.Session, response, "192.0.2.9")
						return err
					}}
				}
				res := e.signIn(t, "acme", "ann")
				return signIn{res.MFA.WebAuthnOptions, func(response []byte) error {
					_, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, Credential: response})
					return err
				}}
			}

			copied := *key // the same private key, with a counter of its own
			copied.Counter = tt.copyCount(key.Counter) - 1
			mine, theirs := begin(), begin()
			myAssertion := key.Assert(mine.options, origin)
			theirAssertion := copied.Assert(theirs.options, origin)

			var copyErr error
			store.between = func() { copyErr = theirs.finish(theirAssertion) }
			err := mine.finish(myAssertion)
			if !errors.Is(copyErr, tt.wantCopy) {
				t.Fatalf("the copy's sign-in: %v, want %v", copyErr, tt.wantCopy)
			}
			if !errors.Is(err, auth.ErrFactorUnusable) {
				t.Fatalf("the key's sign-in, second to commit: %v, want ErrFactorUnusable", err)
			}
			u, _ := e.svc.User(ctx, "acme", ann.Sub)
			if !u.MFA.WebAuthn[0].CloneWarning {
				t.Fatal("the credential is not flagged")
			}
		})
	}
}

// A passkey sign-in begun before an administrator turned passkey sign-in
// off does not finish after it.
func TestPasskeyTurnedOffMeanwhile(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional, Passwordless: true})
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	passkey := mfatest.NewPasskey(t)
	e.enrolKey(t, "acme", ann.Sub, passkey)
	tests := []struct {
		name   string
		policy tenant.MFAPolicy
	}{
		{"passwordless off", tenant.MFAPolicy{Mode: tenant.MFAOptional}},
		{"webauthn not counted", tenant.MFAPolicy{Mode: tenant.MFAOptional, Passwordless: true, Factors: []string{tenant.FactorTOTP}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			on := tenant.MFAPolicy{Mode: tenant.MFAOptional, Passwordless: true}
			if _, err := e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{MFA: &on}}); err != nil {
				t.Fatal(err)
			}
			begin, err := e.m.BeginPasskey(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{MFA: &tt.policy}}); err != nil {
				t.Fatal(err)
			}
			_, err = e.m.FinishPasskey(ctx, "acme", begin.Session, passkey.Assert(begin.MFA.WebAuthnOptions, "http://acme.localhost:8080"), "192.0.2.9")
			if !errors.Is(err, auth.ErrPasskeyNotAllowed) {
				t.Fatalf("finished after the policy changed: %v, want ErrPasskeyNotAllowed", err)
			}
		})
	}
}

// An authenticator app replaced while a sign-in waits for its code: the
// code of the old app, checked against the secret the sign-in read, must
// not finish it once the new app is stored.
func TestTOTPReplacedMeanwhile(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	old := e.enrolTOTP(t, ann.Sub)
	res := e.signIn(t, "acme", "ann")
	// The old app's clock runs a step ahead, which the skew allows: its
	// code's step is later than the one the new app's enrolment spends.
	code := totpCode(old, e.clk.t.Add(30*time.Second))
	store := &interleavedStore{Store: e.m.Store}
	e.m.Store = store
	store.between = func() {
		if err := e.svc.RemoveMFAFactor(ctx, "acme", ann.Sub, tenant.TOTPFactorID); err != nil {
			t.Fatal(err)
		}
		e.enrolTOTP(t, ann.Sub)
	}
	// The factors changed since the password was checked: the sign-in
	// ends as any whose account changed under it (TestAccountChangedAtSecondFactor).
	if done, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: code}); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Fatalf("code of the replaced app: %+v, %v; want ErrNotAuthorized", done, err)
	}
}
