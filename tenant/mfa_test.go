package tenant_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

// withFactors gives a user of acme a TOTP factor, a WebAuthn factor and its
// handle index, written as tenant/auth writes them.
func withFactors(t *testing.T, svc *tenant.Service, username string) tenant.User {
	t.Helper()
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: username, Password: "Correct-Horse-9"})
	if err != nil {
		t.Fatal(err)
	}
	err = svc.Store.Update(ctx, func(tx tenant.Tx) error {
		u, err = tenant.GetUser(tx, "acme", u.Sub)
		if err != nil {
			return err
		}
		u.MFA = tenant.MFAState{
			TOTP:          &tenant.TOTPFactor{Secret: "v1.sealed", Name: "Phone"},
			WebAuthn:      []tenant.WebAuthnFactor{{ID: []byte(username + "-credential"), RPID: "acme.localhost", Credential: json.RawMessage(`{}`)}},
			Handle:        []byte(username + "-handle"),
			RecoveryCodes: []string{"h1", "", "h3"},
			Preferred:     tenant.FactorTOTP,
		}
		if err := tenant.PutWebAuthnHandle(tx, "acme", u.MFA.Handle, u.Sub); err != nil {
			return err
		}
		return tenant.UpdateUser(tx, "acme", u)
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func byHandle(svc *tenant.Service, handle []byte) (tenant.User, error) {
	var u tenant.User
	err := svc.Store.View(context.Background(), func(tx tenant.Tx) (err error) {
		u, err = tenant.UserByWebAuthnHandle(tx, "acme", handle)
		return err
	})
	return u, err
}

func TestResetMFA(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	var revoked []string
	svc.RevokeUser = func(_ tenant.Tx, _, sub string) error { revoked = append(revoked, sub); return nil }
	ann := withFactors(t, svc, "ann")
	if got, err := byHandle(svc, ann.MFA.Handle); err != nil || got.Sub != ann.Sub {
		t.Fatalf("handle index: %v, %v", got.Sub, err)
	}
	if ann.MFA.RecoveryCodesLeft() != 2 {
		t.Errorf("recovery codes left %d, want 2", ann.MFA.RecoveryCodesLeft())
	}

	if err := svc.ResetMFA(ctx, "acme", ann.Sub); err != nil {
		t.Fatal(err)
	}
	after, _ := svc.User(ctx, "acme", ann.Sub)
	if after.MFA.HasFactor() || after.MFA.Handle != nil || after.MFA.RecoveryCodes != nil || after.MFA.Preferred != "" {
		t.Errorf("after reset: %+v", after.MFA)
	}
	if _, err := byHandle(svc, ann.MFA.Handle); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("handle index after reset: %v", err)
	}
	if len(revoked) != 1 || revoked[0] != ann.Sub {
		t.Errorf("sessions revoked for %v, want ann", revoked)
	}
	if err := svc.ResetMFA(ctx, "acme", "no-such-sub"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}

	// Deleting a user drops its handle too.
	bob := withFactors(t, svc, "bob")
	if err := svc.DeleteUser(ctx, "acme", bob.Sub); err != nil {
		t.Fatal(err)
	}
	if _, err := byHandle(svc, bob.MFA.Handle); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("handle index after delete: %v", err)
	}
}

// A factor's name is kept without the spaces around it, at most 64
// characters and none a control character; "" may name a factor being
// enrolled, which stays unnamed.
func TestNormalFactorName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"YubiKey", "YubiKey", true},
		{"  Work phone\n", "Work phone", true},
		{"", "", true},
		{"   ", "", true},
		{strings.Repeat("é", 64), strings.Repeat("é", 64), true},
		{strings.Repeat("é", 65), "", false},
		{"Blue\x00key", "", false},
	} {
		got, ok := tenant.NormalFactorName(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("NormalFactorName(%q) = %q, %t; want %q, %t", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRemoveAndRenameFactors(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Settings: tenant.Settings{MFA: tenant.MFAPolicy{Mode: tenant.MFARequired}}}); err != nil {
		t.Fatal(err)
	}
	ann := withFactors(t, svc, "ann")
	key := ann.MFA.WebAuthn[0].FactorID()

	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"rename unknown", func() error { return svc.RenameMFAFactor(ctx, "acme", ann.Sub, "webauthn:AAAA", "x") }, tenant.ErrNotFound},
		{"rename empty", func() error { return svc.RenameMFAFactor(ctx, "acme", ann.Sub, key, "  ") }, tenant.ErrInvalid},
		{"rename too long", func() error { return svc.RenameMFAFactor(ctx, "acme", ann.Sub, key, strings.Repeat("k", 65)) }, tenant.ErrInvalid},
		{"rename with a control character", func() error { return svc.RenameMFAFactor(ctx, "acme", ann.Sub, key, "Blue\x07key") }, tenant.ErrInvalid},
		{"rename", func() error { return svc.RenameMFAFactor(ctx, "acme", ann.Sub, key, " Blue key\t") }, nil},
		{"prefer webauthn", func() error { return svc.SetPreferredMFA(ctx, "acme", ann.Sub, tenant.FactorWebAuthn) }, nil},
		{"remove totp", func() error { return svc.RemoveMFAFactor(ctx, "acme", ann.Sub, tenant.TOTPFactorID) }, nil},
		{"remove totp again", func() error { return svc.RemoveMFAFactor(ctx, "acme", ann.Sub, tenant.TOTPFactorID) }, tenant.ErrNotFound},
		{"prefer the removed", func() error { return svc.SetPreferredMFA(ctx, "acme", ann.Sub, tenant.FactorTOTP) }, tenant.ErrNotFound},
		{"remove the last", func() error { return svc.RemoveMFAFactor(ctx, "acme", ann.Sub, key) }, tenant.ErrLastFactor},
	}
	for _, tt := range tests {
		if err := tt.do(); !errors.Is(err, tt.want) {
			t.Fatalf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	u, _ := svc.User(ctx, "acme", ann.Sub)
	if u.MFA.TOTP != nil || len(u.MFA.WebAuthn) != 1 || u.MFA.WebAuthn[0].Name != "Blue key" || u.MFA.Preferred != tenant.FactorWebAuthn {
		t.Errorf("after the changes: %+v", u.MFA)
	}
}

// The last factor is the last one the tenant counts: a factor of a kind the
// policy no longer allows asks nothing at sign-in, so keeping it does not
// keep MFA. Removing the last counted factor is refused; removing the
// others, or a factor that never counted, is not.
func TestRemoveLastCountedFactor(t *testing.T) {
	tests := []struct {
		name    string
		factors []string // the policy's
		remove  string   // "totp" or "webauthn"
		want    error
	}{
		{"the only counted kind", []string{tenant.FactorTOTP}, tenant.FactorTOTP, tenant.ErrLastFactor},
		{"a kind not counted", []string{tenant.FactorTOTP}, tenant.FactorWebAuthn, nil},
		{"one of two counted", []string{tenant.FactorTOTP, tenant.FactorWebAuthn}, tenant.FactorTOTP, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _ := newService(t)
			ctx := context.Background()
			policy := tenant.MFAPolicy{Mode: tenant.MFARequired, Factors: tt.factors}
			if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Settings: tenant.Settings{MFA: policy}}); err != nil {
				t.Fatal(err)
			}
			ann := withFactors(t, svc, "ann")
			id := tenant.TOTPFactorID
			if tt.remove == tenant.FactorWebAuthn {
				id = ann.MFA.WebAuthn[0].FactorID()
			}
			if err := svc.RemoveMFAFactor(ctx, "acme", ann.Sub, id); !errors.Is(err, tt.want) {
				t.Fatalf("remove %s: %v, want %v", tt.remove, err, tt.want)
			}
		})
	}
}
