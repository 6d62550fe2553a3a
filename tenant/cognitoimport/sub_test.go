package cognitoimport

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestNewSub(t *testing.T) {
	uuid7 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 1000 {
		// A new millisecond every ten subs: later subs sort after earlier
		// ones across milliseconds, which is what keeps inserts at the end.
		sub := newSub(t0.Add(time.Duration(i/10) * time.Millisecond))
		if !uuid7.MatchString(sub) {
			t.Fatalf("%q is not a version 7 UUID", sub)
		}
		if problem, bad := subProblem(sub); bad {
			t.Fatalf("%q: %s", sub, problem)
		}
		if seen[sub] {
			t.Fatalf("%q twice", sub)
		}
		seen[sub] = true
		if i%10 == 0 && sub < prev {
			t.Errorf("%q sorts before %q, made a millisecond earlier", sub, prev)
		}
		prev = sub
	}
	ms := fmt.Sprintf("%012x", t0.UnixMilli())
	if got, want := newSub(t0)[:13], ms[:8]+"-"+ms[8:]; got != want {
		t.Errorf("time prefix %q, want %q, the milliseconds since 1970", got, want)
	}
}

// A sub names its user in web addresses (/admin/v1/tenants/{slug}/users/{sub},
// the console's /admin/users/{sub}), so it must be one path segment that
// no router or browser resolves: with sub "..", deleting the user deleted
// the tenant.
func TestSubProblem(t *testing.T) {
	tests := []struct {
		sub  string
		code string // "" for a sub Cognate keeps
	}{
		{"eaad0219-2117-439f-8d46-4db20e59268f", ""},
		{"auth0|5f7c8ec7c33c6c004bbafe82", ""},
		{"a.b", ""},
		{"...", ""},
		{".hidden", ""},
		{`DOMAIN\user`, ""}, // escaped as %5C, which nothing resolves
		{"a?b#c%2F", ""},    // escaped by every front end
		{strings.Repeat("a", 128), ""},
		{".", CodeSubPathSegment},
		{"..", CodeSubPathSegment},
		{"a/b", CodeSubPathSegment},
		{"/", CodeSubPathSegment},
		{"../x", CodeSubPathSegment},
		{"", CodeSubInvalid},
		{strings.Repeat("a", 129), CodeSubInvalid},
		{"a b", CodeSubInvalid},
		{"a\x00b", CodeSubInvalid},
		{"a\nb", CodeSubInvalid},
		{"a\x7fb", CodeSubInvalid},
		{"j\u00f8rgen", CodeSubInvalid},
	}
	for _, tc := range tests {
		problem, bad := subProblem(tc.sub)
		if bad != (tc.code != "") || problem.Code != tc.code {
			t.Errorf("subProblem(%q) = %+v, %v; want code %q", tc.sub, problem, bad, tc.code)
		}
	}
}
