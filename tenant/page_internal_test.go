package tenant

import "testing"

// A page size asked for is kept from 1 to the most a listing gives; none,
// or one out of range, gets the listing's usual size.
func TestPageLimit(t *testing.T) {
	for _, tc := range []struct{ n, most, def, want int }{
		{0, 100, 50, 50},
		{-3, 100, 50, 50},
		{1, 100, 50, 1},
		{100, 100, 50, 100},
		{101, 100, 50, 50},
		{150, 200, 50, 150},
		{0, 100, 25, 25},
	} {
		if got := pageLimit(tc.n, tc.most, tc.def); got != tc.want {
			t.Errorf("pageLimit(%d, %d, %d) = %d, want %d", tc.n, tc.most, tc.def, got, tc.want)
		}
	}
}
