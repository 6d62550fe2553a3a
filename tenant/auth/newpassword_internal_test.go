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

// hasherRecord is the real hasher, with a record of the work asked of it:
// each stored hash handed over to be verified (to Verify, or in NotReused's
// history, all of it: that NotReused stops at the first match is its own
// affair), and how many passwords it hashed.
type hasherRecord struct {
	PasswordHasher
	verified []string
	hashed   int
}

func (h *hasherRecord) Verify(ctx context.Context, encoded, pw string) (bool, bool, error) {
	h.verified = append(h.verified, encoded)
	return h.PasswordHasher.Verify(ctx, encoded, pw)
}

func (h *hasherRecord) NotReused(ctx context.Context, history []string, pw string) error {
	h.verified = append(h.verified, history...)
	return h.PasswordHasher.NotReused(ctx, history, pw)
}

func (h *hasherRecord) Hash(ctx context.Context, pw string) (string, error) {
	h.hashed++
	return h.PasswordHasher.Hash(ctx, pw)
}

// A password change verifies each stored hash once at most: the account
// page, which has the current password in hand, compares it as text and
// hands its hash to no verification; the first sign-in, which has only the
// proven hash, verifies it once, not again as the history's first entry.
// The refusals and their order stay: the policy first, then unchanged,
// then reused; only an accepted password is hashed.
func TestNewPasswordHashVerifiesEachHashOnce(t *testing.T) {
	ctx := context.Background()
	hasher, err := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The stored hashes, by name: the current password's and the
	// history's, oldest first.
	passwords := map[string]string{"current": "Pass-Three-3!", "zero": "Pass-Zero-0!", "one": "Pass-One-1!", "two": "Pass-Two-2!"}
	named := make(map[string]string) // hash → name
	hash := func(name string) string {
		h, err := hasher.Hash(ctx, passwords[name])
		if err != nil {
			t.Fatal(err)
		}
		named[h] = name
		return h
	}
	user := tenant.User{
		Status:          tenant.StatusConfirmed,
		PasswordHash:    hash("current"),
		PasswordHistory: []string{hash("zero"), hash("one"), hash("two")},
	}
	current := passwords["current"]

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
		verified    []string // the stored hashes handed to be verified, by name
	}{
		// The account page: the history's past passwords (2 of the 3
		// with a history of 3, the current one being the third).
		{accountPage, 0, "Brand-New-4!", accepted, nil},
		{accountPage, 3, "Brand-New-4!", accepted, []string{"one", "two"}},
		{accountPage, 0, current, unchanged, nil},
		{accountPage, 3, current, unchanged, nil},
		{accountPage, 3, passwords["two"], reused, []string{"one", "two"}},
		{accountPage, 3, passwords["one"], reused, []string{"one", "two"}},
		{accountPage, 3, passwords["zero"], accepted, []string{"one", "two"}},
		{accountPage, 3, "weak", weak, nil},
		// The first sign-in: the proven hash once, then as above.
		{firstSignIn, 0, "Brand-New-4!", accepted, []string{"current"}},
		{firstSignIn, 3, "Brand-New-4!", accepted, []string{"current", "one", "two"}},
		{firstSignIn, 0, current, unchanged, []string{"current"}},
		{firstSignIn, 3, current, unchanged, []string{"current"}},
		{firstSignIn, 3, passwords["two"], reused, []string{"current", "one", "two"}},
		{firstSignIn, 3, "weak", weak, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/history %d/%s", tt.shape.name, tt.history, tt.newPassword), func(t *testing.T) {
			policy := password.DefaultPolicy()
			policy.HistorySize = tt.history
			record := &hasherRecord{PasswordHasher: hasher}
			m := &Machine{Hasher: record}
			_, err := m.newPasswordHash(ctx, policy, user, user.PasswordHash, tt.shape.current, tt.newPassword)
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
			var verified []string
			for _, h := range record.verified {
				verified = append(verified, named[h])
			}
			if !slices.Equal(verified, tt.verified) {
				t.Errorf("verified %q, want %q", verified, tt.verified)
			}
			wantHashed := 0 // the new password, once accepted
			if tt.want == accepted {
				wantHashed = 1
			}
			if record.hashed != wantHashed {
				t.Errorf("%d passwords hashed, want %d", record.hashed, wantHashed)
			}
		})
	}
}
