package tenant

import (
	"slices"
	"testing"
)

// movedGroups replaces each old name by the new one, drops a deleted
// group's, keeps each group once and the order otherwise, and gives back
// the slice itself when no move concerns it.
func TestMovedGroups(t *testing.T) {
	moves := []groupMove{{From: "ops", To: "team"}, {From: "gone"}}
	for _, c := range []struct {
		groups, want []string
	}{
		{nil, nil},
		{[]string{"a", "b"}, []string{"a", "b"}},
		{[]string{"a", "ops", "b"}, []string{"a", "team", "b"}},
		{[]string{"a", "gone", "b"}, []string{"a", "b"}},
		{[]string{"gone"}, []string{}},
		{[]string{"team", "ops"}, []string{"team"}},
		{[]string{"ops", "team", "gone", "x"}, []string{"team", "x"}},
	} {
		got := movedGroups(c.groups, moves)
		if !slices.Equal(got, c.want) {
			t.Errorf("movedGroups(%q) = %q, want %q", c.groups, got, c.want)
		}
	}
	groups := []string{"a", "b"}
	if got := movedGroups(groups, moves); &got[0] != &groups[0] {
		t.Error("groups no move concerns were copied")
	}
	groups = []string{"a", "ops"}
	if movedGroups(groups, moves); !slices.Equal(groups, []string{"a", "ops"}) {
		t.Errorf("the user's groups were changed in place: %q", groups)
	}
}
