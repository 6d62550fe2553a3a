package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/password"
)

// Every way a person sets a password of their own refuses the same ones:
// their last HistorySize passwords, the current one among them (Cognito's
// PasswordHistorySize), through tenant.PreviousPasswords. The user has had
// passwords 0 to 4, 4 the current one (for the first sign-in, the
// temporary one an administrator set); each is tried as the new password,
// by a user of its own, since a password accepted is set.
//
// Besides the history, a change must change: the account page and the
// first sign-in refuse the password being replaced as unchanged even
// without a history, and so does a reset after an administrator's reset
// (as reused: the password was reset for a reason). Only a person who
// forgot their password may set the same one again when no history is kept.
func TestPasswordHistoryAcrossPaths(t *testing.T) {
	passwords := []string{"Pass-Zero-0!", "Pass-One-1!", "Pass-Two-2!", "Pass-Three-3!", "Pass-Four-4!"}
	const current = 4
	type outcome string
	const (
		accepted  outcome = "accepted"
		reused    outcome = "refused as reused"
		unchanged outcome = "refused as unchanged"
	)

	type path struct {
		name string
		// temporary: password 4 is a temporary password an administrator
		// set, not one of the user's own.
		temporary bool
		// adminReset: an administrator reset the password before the code
		// was used.
		adminReset bool
		// sameWithoutHistory is the outcome of the current password when no
		// history is kept.
		sameWithoutHistory outcome
		// set tries pw as the new password of the user login (sub).
		set func(t *testing.T, e *mailEnv, login, sub, pw string) error
	}
	ctx := context.Background()
	resetByCode := func(t *testing.T, e *mailEnv, login, _, pw string) error {
		return e.svc.ConfirmPasswordReset(ctx, "acme", login, codeIn(t, e.lastMail(t)), pw)
	}
	paths := []path{
		{name: "account page", sameWithoutHistory: unchanged,
			set: func(t *testing.T, e *mailEnv, _, sub, pw string) error {
				return e.m.ChangePassword(ctx, "acme", sub, passwords[current], pw, "192.0.2.1")
			}},
		{name: "first sign-in", temporary: true, sameWithoutHistory: unchanged,
			set: func(t *testing.T, e *mailEnv, login, _, pw string) error {
				res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: passwords[current]})
				if err != nil || res.Challenge != auth.NewPasswordRequired {
					t.Fatalf("sign-in with the temporary password: %+v, %v", res, err)
				}
				_, err = e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: pw})
				return err
			}},
		{name: "reset by code, forgotten", sameWithoutHistory: accepted,
			set: func(t *testing.T, e *mailEnv, login, sub, pw string) error {
				if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: login}); err != nil {
					t.Fatal(err)
				}
				return resetByCode(t, e, login, sub, pw)
			}},
		{name: "reset by code, after an administrator's reset", adminReset: true, sameWithoutHistory: reused,
			set: resetByCode},
	}

	// refused lists, for each history size, the passwords of 0 to 3 (those
	// before the current one) that no path accepts.
	refused := map[int][]int{0: nil, 1: nil, 3: {2, 3}}
	for _, size := range []int{0, 1, 3} {
		for _, p := range paths {
			t.Run(fmt.Sprintf("history %d/%s", size, p.name), func(t *testing.T) {
				e := newMailEnv(t)
				if _, err := e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{
					PasswordPolicy: &tenant.PasswordPolicyChange{HistorySize: &size}}}); err != nil {
					t.Fatal(err)
				}
				for k, candidate := range passwords {
					want := accepted
					switch {
					case k == current && size == 0:
						want = p.sameWithoutHistory
					case k == current && p.sameWithoutHistory == unchanged:
						want = unchanged
					case k == current, slices.Contains(refused[size], k):
						want = reused
					}

					login := fmt.Sprintf("user%d", k)
					u := e.user(t, "acme", tenant.NewUser{Username: login, Email: login + "@example.com", EmailVerified: true, Password: passwords[0]})
					for i := 1; i <= current; i++ {
						// An administrator's passwords, which check no history:
						// each replaced one joins it.
						if err := e.svc.SetPassword(ctx, "acme", u.Sub, passwords[i], !(i == current && p.temporary)); err != nil {
							t.Fatal(err)
						}
					}
					if p.adminReset {
						if _, _, err := e.svc.AdminResetPassword(ctx, "acme", u.Sub); err != nil {
							t.Fatal(err)
						}
					}
					e.clk.Advance(time.Minute) // past the reset's limits of one name and address

					err := p.set(t, e, login, u.Sub, candidate)
					var got outcome
					var policyErr *password.PolicyError
					switch {
					case err == nil:
						got = accepted
					case errors.Is(err, auth.ErrPasswordUnchanged):
						got = unchanged
					case errors.As(err, &policyErr) && slices.Equal(policyErr.Rules, []password.Rule{password.RuleReused}):
						got = reused
					default:
						t.Fatalf("password %d: %v", k, err)
					}
					if got != want {
						t.Errorf("password %d: %s, want %s", k, got, want)
					}
				}
			})
		}
	}
}

// PushHistory keeps the newest size passwords replaced; a user who had no
// password yet (one brought over from a legacy pool before the code that
// sets it) replaces none, and keeps the history they have.
func TestPushHistory(t *testing.T) {
	tests := []struct {
		name     string
		history  []string
		replaced string
		size     int
		want     []string
	}{
		{"first", nil, "a", 3, []string{"a"}},
		{"below the size", []string{"a"}, "b", 3, []string{"a", "b"}},
		{"the oldest goes", []string{"a", "b", "c"}, "d", 3, []string{"b", "c", "d"}},
		{"a smaller size keeps the newest", []string{"a", "b", "c"}, "d", 1, []string{"d"}},
		{"no history kept", []string{"a", "b"}, "c", 0, nil},
		{"no password replaced", []string{"a", "b"}, "", 3, []string{"a", "b"}},
		{"no password replaced, nothing kept", []string{"a", "b"}, "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tenant.PushHistory(slices.Clone(tt.history), tt.replaced, tt.size); !slices.Equal(got, tt.want) {
				t.Errorf("PushHistory(%q, %q, %d) = %q, want %q", tt.history, tt.replaced, tt.size, got, tt.want)
			}
		})
	}
}

// PreviousPasswords is a user's last size passwords, the current one among
// them; a user with no password has their last size in the history, and
// one whose password an administrator reset may not set it again, even
// with no history kept.
func TestPreviousPasswords(t *testing.T) {
	history := []string{"a", "b", "c"}
	tests := []struct {
		name    string
		current string
		status  tenant.UserStatus
		size    int
		want    []string
	}{
		{"no history kept", "d", tenant.StatusConfirmed, 0, nil},
		{"the current one", "d", tenant.StatusConfirmed, 1, []string{"d"}},
		{"and the ones before", "d", tenant.StatusConfirmed, 3, []string{"d", "b", "c"}},
		{"more than there are", "d", tenant.StatusConfirmed, 24, []string{"d", "a", "b", "c"}},
		{"no password", "", tenant.StatusResetRequired, 2, []string{"b", "c"}},
		{"reset by an administrator", "d", tenant.StatusResetRequired, 0, []string{"d"}},
		{"reset by an administrator, with a history", "d", tenant.StatusResetRequired, 2, []string{"d", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tenant.User{PasswordHash: tt.current, Status: tt.status, PasswordHistory: history}
			if got := tenant.PreviousPasswords(u, tt.size); !slices.Equal(got, tt.want) {
				t.Errorf("PreviousPasswords(%q + %q, %d) = %q, want %q", history, tt.current, tt.size, got, tt.want)
			}
		})
	}
}
