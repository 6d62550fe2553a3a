package cognitoimport

import (
	"fmt"
	"regexp"
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
		if !uuid7.MatchString(sub) || !validSub(sub) {
			t.Fatalf("%q is not a version 7 UUID", sub)
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
