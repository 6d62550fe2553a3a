package tenant_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// ConfirmPasswordReset judges the code once before it hashes the password
// and again in the transaction that sets it: what another request does
// in between (while the password hashes) decides. The same form sent at
// once sets the password once, and both read as success; the code spent
// with another password, a new code asked for, or the user disabled
// meanwhile refuse it.
func TestPasswordResetRacedWhileHashing(t *testing.T) {
	const old, next = "Correct-Horse-9!", "Battery-Staple-7?"
	disabled := false
	for _, tc := range []struct {
		name      string
		meanwhile func(e *mailEnv, sub, code string) error
		want      error
		password  string // the password ann has afterwards
	}{
		{"the same form", func(e *mailEnv, _, code string) error {
			return e.svc.ConfirmPasswordReset(context.Background(), "acme", "ann", code, next)
		}, nil, next},
		{"the code with another password", func(e *mailEnv, _, code string) error {
			return e.svc.ConfirmPasswordReset(context.Background(), "acme", "ann", code, "Other-Pass-3!")
		}, tenant.ErrCodeMismatch, "Other-Pass-3!"},
		{"a new code", func(e *mailEnv, _, _ string) error {
			e.clk.Advance(2 * time.Minute)
			return e.svc.StartPasswordReset(context.Background(), "acme", tenant.ResetRequest{Login: "ann", ClientIP: "192.0.2.1"})
		}, tenant.ErrCodeExpired, old},
		{"the user disabled", func(e *mailEnv, sub, _ string) error {
			_, err := e.svc.UpdateUser(context.Background(), "acme", sub, tenant.UserChange{Enabled: &disabled})
			return err
		}, tenant.ErrCodeMismatch, old},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMailEnv(t)
			ctx := context.Background()
			ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: old})
			if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "ann", ClientIP: "192.0.2.1"}); err != nil {
				t.Fatal(err)
			}
			code := codeIn(t, e.lastMail(t))

			hooked := &updateHookStore{Store: e.svc.Store, before: func() {
				if err := tc.meanwhile(e, ann.Sub, code); err != nil {
					t.Errorf("meanwhile: %v", err)
				}
			}}
			racing := *e.svc
			racing.Store = hooked
			if err := racing.ConfirmPasswordReset(ctx, "acme", "ann", code, next); !errors.Is(err, tc.want) {
				t.Errorf("ConfirmPasswordReset: %v, want %v", err, tc.want)
			}
			u := e.get(t, "acme", ann.Sub)
			if ok, _, err := e.svc.Hasher.Verify(ctx, u.PasswordHash, tc.password); err != nil || !ok {
				t.Errorf("afterwards ann's password is not %q (%v)", tc.password, err)
			}
		})
	}
}
