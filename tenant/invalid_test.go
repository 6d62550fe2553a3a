package tenant_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

// The validators name the rule broken (code and values) for front ends
// that word it themselves, and stay ErrInvalid with the same text for
// everyone else: the texts below are the ones they had before the codes.
func TestValidatorsNameTheRule(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code string
		args []string
		text string
	}{
		{"empty username", tenant.ValidateUsername(""), tenant.CodeUsernameLength, nil,
			"invalid input: a username must be 1 to 128 characters"},
		{"long username", tenant.ValidateUsername(strings.Repeat("é", 129)), tenant.CodeUsernameLength, nil,
			"invalid input: a username must be 1 to 128 characters"},
		{"username with a space", tenant.ValidateUsername("ann smith"), tenant.CodeUsernameSpaces, nil,
			"invalid input: a username may not contain spaces"},
		{"username with a control character", tenant.ValidateUsername("ann\x00"), tenant.CodeUsernameSpaces, nil,
			"invalid input: a username may not contain spaces"},
		{"email without a domain", tenant.ValidateEmail("dave@example"), tenant.CodeEmailInvalid, []string{"dave@example"},
			`invalid input: "dave@example" is not an email address`},
		{"custom attribute without a name", tenant.ValidateAttributes(map[string]string{"custom:": "x"}),
			tenant.CodeAttributeCustomName, []string{"custom:"},
			`invalid input: attribute name "custom:" must be custom:<1 to 25 characters>`},
		{"unknown attribute", tenant.ValidateAttributes(map[string]string{"shoe_size": "44"}),
			tenant.CodeAttributeUnknown, []string{"shoe_size"},
			`invalid input: "shoe_size" is not a standard attribute (custom attributes start with "custom:")`},
		{"long value", tenant.ValidateAttributes(map[string]string{"name": strings.Repeat("x", 2049)}),
			tenant.CodeAttributeTooLong, []string{"name"},
			`invalid input: attribute "name" is longer than 2048 characters`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tenant.ErrInvalid) {
				t.Fatalf("%v is not ErrInvalid", tc.err)
			}
			var inv *tenant.InvalidError
			if !errors.As(tc.err, &inv) {
				t.Fatalf("%v is not an *InvalidError", tc.err)
			}
			if inv.Code != tc.code || !slices.Equal(inv.Args, tc.args) {
				t.Errorf("code %q args %q, want %q %q", inv.Code, inv.Args, tc.code, tc.args)
			}
			if got := tc.err.Error(); got != tc.text {
				t.Errorf("text %q, want %q", got, tc.text)
			}
			if got := inv.Reason(); "invalid input: "+got != tc.text {
				t.Errorf("reason %q", got)
			}
		})
	}
	for _, ok := range []error{tenant.ValidateUsername("ann"), tenant.ValidateEmail("ann@example.com"),
		tenant.ValidateAttributes(map[string]string{"custom:org": "acme", "name": "Ann"})} {
		if ok != nil {
			t.Errorf("a valid value refused: %v", ok)
		}
	}
}
