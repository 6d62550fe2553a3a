package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/password"
)

// hashCounter is a context that counts the hasher's computations: each
// (Hash, Verify, one per entry of NotReused) waits for a hasher slot in one
// select on Done (password.Hasher's withSlot), and nothing else in
// newPasswordHash reads the context. Should the hasher come to read Done
// more than once a computation, the counts below fail rather than pass.
type hashCounter struct {
	context.Context
	hashes int
}

func (c *hashCounter) Done() <-chan struct{} {
	c.hashes++
	return c.Context.Done()
}

// A password change verifies each stored hash once at most: the account
// page, which has the current password in hand, compares it as text and
// hashes nothing for it; the first sign-in, which has only the proven hash,
// verifies it once, not again as the history's first entry. The refusals
// and their order stay: the policy first, then unchanged, then reused.
func TestNewPasswordHashVerifiesEachHashOnce(t *testing.T) {
	ctx := context.Background()
	hasher, err := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	m := &Machine{Hasher: hasher}
	hash := func(pw string) string {
		h, err := hasher.Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	const current = "Pass-Three-3!"
	user := tenant.User{
		Status:          tenant.StatusConfirmed,
		PasswordHash:    hash(current),
		PasswordHistory: []string{hash("Pass-Zero-0!"), hash("Pass-One-1!"), hash("Pass-Two-2!")},
	}

	type shape struct {
		name    string
		current string // what the caller has in hand of the proven password
	}
	accountPage := shape{"account page", current}
	firstSignIn := shape{"first sign-in", ""}
	const (
		accepted  = "accepted"
		unchanged = "unchanged"
		reused    = "reused"
		weak      = "weak"
	)
	tests := []struct {
		shape       shape
		history     int
		newPassword string
		want        string
		hashes      int
	}{
		// The account page: the new one's hash, and the history's past
		// passwords (2 of the 3 with a history of 3, the current one being
		// the third).
		{accountPage, 0, "Brand-New-4!", accepted, 1},
		{accountPage, 3, "Brand-New-4!", accepted, 3},
		{accountPage, 0, current, unchanged, 0},
		{accountPage, 3, current, unchanged, 0},
		{accountPage, 3, "Pass-Two-2!", reused, 2},
		{accountPage, 3, "Pass-One-1!", reused, 1},
		{accountPage, 3, "Pass-Zero-0!", accepted, 3},
		{accountPage, 3, "weak", weak, 0},
		// The first sign-in: the proven hash once, then as above.
		{firstSignIn, 0, "Brand-New-4!", accepted, 2},
		{firstSignIn, 3, "Brand-New-4!", accepted, 4},
		{firstSignIn, 0, current, unchanged, 1},
		{firstSignIn, 3, current, unchanged, 1},
		{firstSignIn, 3, "Pass-Two-2!", reused, 3},
		{firstSignIn, 3, "weak", weak, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/history %d/%s", tt.shape.name, tt.history, tt.newPassword), func(t *testing.T) {
			policy := password.DefaultPolicy()
			policy.HistorySize = tt.history
			counter := &hashCounter{Context: ctx}
			_, err := m.newPasswordHash(counter, policy, user, user.PasswordHash, tt.shape.current, tt.newPassword)
			var policyErr *password.PolicyError
			got := accepted
			switch {
			case err == nil:
			case errors.Is(err, ErrPasswordUnchanged):
				got = unchanged
			case errors.As(err, &policyErr) && slices.Equal(policyErr.Rules, []password.Rule{password.RuleReused}):
				got = reused
			case errors.As(err, &policyErr):
				got = weak
			default:
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s, want %s", got, tt.want)
			}
			if counter.hashes != tt.hashes {
				t.Errorf("%d hashes, want %d", counter.hashes, tt.hashes)
			}
		})
	}
}
