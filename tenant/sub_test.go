package tenant

import (
	"errors"
	"strings"
	"testing"
)

// A sub names its user in web addresses (/admin/v1/tenants/{slug}/users/{sub},
// the console's /admin/users/{sub}), so it must be one path segment that
// no router or browser resolves: with sub "..", deleting the user deleted
// the tenant. The bulk import and lazy migration apply this one rule.
func TestValidateSub(t *testing.T) {
	tests := []struct {
		sub  string
		want error // nil for a sub Cognate keeps
	}{
		{"eaad0219-2117-439f-8d46-4db20e59268f", nil},
		{"auth0|5f7c8ec7c33c6c004bbafe82", nil},
		{"a.b", nil},
		{"...", nil},
		{".hidden", nil},
		{`DOMAIN\user`, nil}, // escaped as %5C, which nothing resolves
		{"a?b#c%2F", nil},    // escaped by every front end
		{strings.Repeat("a", 128), nil},
		{".", ErrSubPathSegment},
		{"..", ErrSubPathSegment},
		{"a/b", ErrSubPathSegment},
		{"/", ErrSubPathSegment},
		{"../x", ErrSubPathSegment},
		{"", ErrSubInvalid},
		{strings.Repeat("a", 129), ErrSubInvalid},
		{"a b", ErrSubInvalid},
		{"a\x00b", ErrSubInvalid},
		{"a\nb", ErrSubInvalid},
		{"a\x7fb", ErrSubInvalid},
		{"j\u00f8rgen", ErrSubInvalid},
	}
	for _, tc := range tests {
		err := ValidateSub(tc.sub)
		if tc.want == nil && err != nil || tc.want != nil && (!errors.Is(err, tc.want) || !errors.Is(err, ErrInvalid)) {
			t.Errorf("ValidateSub(%q) = %v, want %v", tc.sub, err, tc.want)
		}
	}
}
