package cognitoimport

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cognate-idp/cognate/tenant/password"
)

// Every error of password.CheckHash fails the line: one it does not sort
// (none today) must not let a hash through that no sign-in could verify.
func TestHashProblem(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code string // "" for a hash that passes
	}{
		{"verifiable", nil, ""},
		{"unknown scheme", fmt.Errorf("wrapped: %w", password.ErrUnknownScheme), CodeHashUnknownScheme},
		{"malformed", password.CheckHash("$2b$99$abc"), CodeHashMalformed},
		{"another error", errors.New("password: something new"), CodeHashUnchecked},
		{"a sentinel it does not sort", password.ErrMalformedHash, CodeHashUnchecked},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			problem, bad := hashProblem(tc.err)
			if bad != (tc.code != "") || problem.Code != tc.code {
				t.Errorf("hashProblem(%v) = %+v, %v; want code %q", tc.err, problem, bad, tc.code)
			}
			if bad && problem.String() == "" {
				t.Error("no English")
			}
		})
	}
}
