package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/cognate-idp/cognate/mfa/mfatest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// A cloned key is counted against the login and recorded for the trail
// once, whatever else fails: here the write of its clone warning, which
// fails as a disk might. The answer is that server fault, not the refusal,
// as the warning did not hold.
func TestCloneCountedWhenItsWarningCannotBeStored(t *testing.T) {
	const origin = "http://acme.localhost:8080"
	tests := []struct {
		name    string
		passkey bool
	}{
		{"second factor", false},
		{"passkey", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional, Passwordless: tt.passkey})
			e.m.Audit = tenant.RecordAudit
			ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
			key := mfatest.NewSecurityKey(t)
			key.Resident, key.Verifies = tt.passkey, tt.passkey
			e.enrolKey(t, "acme", ann.Sub, key)
			key.Counter -= 2 // a copy of the key signs with an older count

			var answer func() error
			if tt.passkey {
				begin, err := e.m.BeginPasskey(ctx, "acme")
				if err != nil {
					t.Fatal(err)
				}
				answer = func() error {
					_, err := e.m.FinishPasskey(ctx, "acme", begin.Session, key.Assert(begin.MFA.WebAuthnOptions, origin), "192.0.2.9")
					return err
				}
			} else {
				res := e.signIn(t, "acme", "ann")
				answer = func() error {
					_, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, Credential: key.Assert(res.MFA.WebAuthnOptions, origin), ClientIP: "192.0.2.9"})
					return err
				}
			}
			before := failedSignIns(t, e)
			e.m.Store = &failingWriteStore{Store: e.m.Store, coll: tenant.CollUsers, key: ann.Sub}
			if err := answer(); !errors.Is(err, errDiskFull) {
				t.Fatalf("cloned key whose warning cannot be stored: %v, want the store's error", err)
			}

			var recorded []tenant.AuditEvent
			for _, ev := range failedSignIns(t, e) {
				if !slices.ContainsFunc(before, func(b tenant.AuditEvent) bool { return b.ID == ev.ID }) {
					recorded = append(recorded, ev)
				}
			}
			if len(recorded) != 1 || recorded[0].Reason != tenant.ReasonChallengeFailed || recorded[0].Details["clone_warning"] == "" {
				t.Errorf("trail: %+v, want one refusal with the clone warning", recorded)
			}
			if n := accountFailures(t, e, ann.Sub); n != 1 {
				t.Errorf("the account's failures: %d, want the clone counted once", n)
			}
		})
	}
}

var errDiskFull = errors.New("disk full")

// failingWriteStore is the real store whose updates fail, with errDiskFull,
// when they write the record under key in coll.
type failingWriteStore struct {
	tenant.Store
	coll tenant.Collection
	key  string
}

func (s *failingWriteStore) Update(ctx context.Context, fn func(tx tenant.Tx) error) error {
	return s.Store.Update(ctx, func(tx tenant.Tx) error {
		return fn(&seamTx{Tx: tx, coll: s.coll, key: s.key, get: func() {}, put: func() error { return errDiskFull }})
	})
}

// accountFailures is the count of failures of the account sub in its
// lockout counter.
func accountFailures(t *testing.T, e env, sub string) int {
	t.Helper()
	var counter struct {
		Failures int `json:"failures"`
	}
	err := e.svc.Store.View(ctx, func(tx tenant.Tx) error {
		raw, err := tx.Get(tenant.CollLockouts, "acme", "account:"+sub)
		if errors.Is(err, tenant.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, &counter)
	})
	if err != nil {
		t.Fatal(err)
	}
	return counter.Failures
}
