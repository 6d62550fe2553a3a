package tenant

import (
	"fmt"
	"strings"
)

// Errors of ValidateSub. Both are ErrInvalid.
var (
	ErrSubInvalid     = fmt.Errorf("%w: a sub must be 1 to 128 printable ASCII characters without spaces", ErrInvalid)
	ErrSubPathSegment = fmt.Errorf("%w: a sub must be one segment of a web address's path: not . or .., and no /", ErrInvalid)
)

// ValidateSub says whether Cognate can keep s, a sub that comes from
// elsewhere (an import file, a legacy pool's answer), as a user's sub. Subs
// made here are UUIDs, and so are Cognito's; one from elsewhere must still
// be something every front end can name the user by: 1 to 128 printable
// ASCII characters without spaces, and a single segment of a web address's
// path, because the admin API and the console name users so
// (/admin/v1/tenants/{slug}/users/{sub}). "." and ".." are no segment:
// /users/.. is the tenant itself. Escaped (%2E%2E) they reach the admin
// API's router as a name, which is how the CLI reaches such users that
// older versions imported, but browsers resolve the escaped form as well,
// so the console could not. A "/" splits the segment wherever the sub is
// not escaped.
//
// It returns nil, ErrSubInvalid, or ErrSubPathSegment naming the sub (which
// is then printable ASCII, safe to repeat in a log or a report).
func ValidateSub(s string) error {
	if s == "" || len(s) > 128 {
		return ErrSubInvalid
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e { // controls, spaces, DEL, non-ASCII
			return ErrSubInvalid
		}
	}
	if s == "." || s == ".." || strings.Contains(s, "/") {
		return fmt.Errorf("%w: %q", ErrSubPathSegment, s)
	}
	return nil
}
