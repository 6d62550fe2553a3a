package tenant_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// signingKeys are the keys the service stored for a tenant.
func signingKeys(t *testing.T, svc *tenant.Service, slug string) []tenant.SigningKey {
	t.Helper()
	var ks []tenant.SigningKey
	if err := svc.Store.View(context.Background(), func(tx tenant.Tx) (err error) { ks, err = tenant.SigningKeys(tx, slug); return err }); err != nil {
		t.Fatal(err)
	}
	return ks
}

// keyIDs names keys in messages, which must not print their private halves.
func keyIDs(keys []tenant.SigningKey) []string {
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return ids
}

func TestRotateSigningKey(t *testing.T) {
	svc, clk := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	keys := func() []tenant.SigningKey { return signingKeys(t, svc, "acme") }
	first, _ := tenant.ActiveKey(keys(), clk.t)
	next, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{Overlap: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := tenant.ActiveKey(keys(), clk.t); a.ID != first.ID {
		t.Error("the new key signs before the overlap has passed")
	}
	if n := len(tenant.PublishedKeys(keys(), clk.t)); n != 2 {
		t.Errorf("published keys during overlap = %d, want 2", n)
	}
	clk.Advance(time.Hour)
	if a, _ := tenant.ActiveKey(keys(), clk.t); a.ID != next.ID {
		t.Error("the new key is not active after the overlap")
	}
	clk.Advance(25 * time.Hour)
	if pub := tenant.PublishedKeys(keys(), clk.t); len(pub) != 1 || pub[0].ID != next.ID {
		t.Errorf("old key still published a day after rotation: %v", keyIDs(pub))
	}
}

// A second rotation within the first one's overlap: the key the first one
// published may sign until the second one's key takes over, and must
// retire a day after that like any key that signed, not stay published.
func TestRotateSigningKeyTwiceWithinTheOverlap(t *testing.T) {
	svc, clk := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	keys := func() []tenant.SigningKey { return signingKeys(t, svc, "acme") }
	if _, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{Overlap: time.Hour}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Minute)
	last, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{Overlap: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tenant.PublishedKeys(keys(), clk.t)); n != 3 {
		t.Errorf("published keys during the overlaps = %d, want 3", n)
	}
	clk.Advance(2 * time.Hour) // the last key signs now
	if a, _ := tenant.ActiveKey(keys(), clk.t); a.ID != last.ID {
		t.Errorf("active key %s, want the last rotation's %s", a.ID, last.ID)
	}
	clk.Advance(25 * time.Hour)
	if pub := tenant.PublishedKeys(keys(), clk.t); len(pub) != 1 || pub[0].ID != last.ID {
		t.Errorf("keys published a day after the last one took over: %d, want only it", len(pub))
	}
}

// A rotation that takes effect sooner than the one before it: that one's
// key must never take over from it.
func TestRotateSigningKeySoonerThanThePendingOne(t *testing.T) {
	svc, clk := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	keys := func() []tenant.SigningKey { return signingKeys(t, svc, "acme") }
	if _, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{Overlap: 2 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	last, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{})
	if err != nil {
		t.Fatal(err)
	}
	for _, after := range []time.Duration{0, 3 * time.Hour} {
		if a, _ := tenant.ActiveKey(keys(), clk.t.Add(after)); a.ID != last.ID {
			t.Errorf("%s on: active key %s, want the last rotation's %s", after, a.ID, last.ID)
		}
	}
}

// Rotations in a row leave each key that signed published for a day after
// it stopped signing, and no longer; a key that never signs leaves when the
// one that supersedes it takes over; and the last rotation's key signs from
// its time on, whatever earlier rotations had planned.
func TestRotateSigningKeyInARow(t *testing.T) {
	type rotation struct {
		after   time.Duration // since the previous rotation (the first: since the tenant was made)
		overlap time.Duration
	}
	type check struct {
		at        time.Duration // since the tenant was made
		active    int           // index of the key that signs: 0 is the tenant's first
		published []int
	}
	const day = 24 * time.Hour
	tests := []struct {
		name      string
		rotations []rotation
		checks    []check
	}{
		{
			name:      "three at once, with no overlap",
			rotations: []rotation{{time.Minute, 0}, {time.Minute, 0}, {time.Minute, 0}},
			checks: []check{
				{3 * time.Minute, 3, []int{0, 1, 2, 3}}, // each signed, each verifies
				{day + time.Minute, 3, []int{1, 2, 3}},  // the first stopped signing first
				{day + 2*time.Minute, 3, []int{2, 3}},   // then the second
				{day + 3*time.Minute, 3, []int{3}},      // and the third
			},
		},
		{
			name:      "a longer overlap does not keep the replaced key longer",
			rotations: []rotation{{0, time.Hour}, {10 * time.Minute, 2 * time.Hour}},
			checks: []check{
				{time.Hour, 1, []int{0, 1, 2}},                    // the first rotation's key took over
				{2*time.Hour + 10*time.Minute, 2, []int{0, 1, 2}}, // the second rotation's key takes over
				{time.Hour + day, 2, []int{1, 2}},                 // a day after the first key stopped signing, it is gone
				{2*time.Hour + 10*time.Minute + day, 2, []int{2}},
			},
		},
		{
			name:      "no overlap after two pending keys",
			rotations: []rotation{{0, time.Hour}, {10 * time.Minute, 2 * time.Hour}, {10 * time.Minute, 0}},
			checks: []check{
				{20 * time.Minute, 3, []int{0, 3}}, // neither pending key ever signs
				{time.Hour, 3, []int{0, 3}},
				{3 * time.Hour, 3, []int{0, 3}},
				{20*time.Minute + day, 3, []int{3}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc, clk := newService(t)
			ctx := context.Background()
			start := clk.t
			if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
				t.Fatal(err)
			}
			ids := []string{signingKeys(t, svc, "acme")[0].ID}
			for _, r := range tc.rotations {
				clk.Advance(r.after)
				k, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{Overlap: r.overlap})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, k.ID)
			}
			keys := signingKeys(t, svc, "acme")
			for _, c := range tc.checks {
				at := start.Add(c.at)
				if a, _ := tenant.ActiveKey(keys, at); a.ID != ids[c.active] {
					t.Errorf("%v on: key %d signs, want key %d", c.at, slices.Index(ids, a.ID), c.active)
				}
				var published []int
				for _, k := range tenant.PublishedKeys(keys, at) {
					published = append(published, slices.Index(ids, k.ID))
				}
				slices.Sort(published)
				if !slices.Equal(published, c.published) {
					t.Errorf("%v on: keys %v published, want %v", c.at, published, c.published)
				}
			}
		})
	}
}

// A rotation that retires the previous keys, as after a leak: the new key
// signs at once and is the only one published, whatever earlier rotations
// had planned, and the audit trail names the keys withdrawn. It cannot
// wait for an overlap: the keys it withdraws would leave nothing to sign.
func TestRotateSigningKeyRetiringThePrevious(t *testing.T) {
	svc, clk := newService(t)
	ctx := context.Background()
	var changed []string
	svc.Changed = func(_ context.Context, slug string) { changed = append(changed, slug) }
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	keys := func() []tenant.SigningKey { return signingKeys(t, svc, "acme") }
	if _, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{Overlap: time.Hour}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour) // the second key signs; the first one verifies
	if _, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{Overlap: time.Hour}); err != nil {
		t.Fatal(err)
	}
	previous := keys()
	if n := len(tenant.PublishedKeys(previous, clk.t)); n != 3 {
		t.Fatalf("published before: %d keys, want 3", n)
	}

	before := len(auditTrail(t, svc, "acme"))
	if _, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{Overlap: time.Hour, RetirePrevious: true}); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("retiring the previous keys after an overlap: %v, want ErrInvalid", err)
	}
	if got := keys(); !slices.EqualFunc(got, previous, func(a, b tenant.SigningKey) bool { return a.ID == b.ID && a.RetireAt.Equal(b.RetireAt) }) {
		t.Errorf("the refused rotation changed the keys: %v", keyIDs(got))
	}
	if n := len(auditTrail(t, svc, "acme")); n != before {
		t.Errorf("the refused rotation was audited")
	}

	changed = nil
	clk.Advance(time.Minute)
	next, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{RetirePrevious: true})
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := tenant.ActiveKey(keys(), clk.t); a.ID != next.ID {
		t.Errorf("key %s signs, want the new %s", a.ID, next.ID)
	}
	if pub := tenant.PublishedKeys(keys(), clk.t); len(pub) != 1 || pub[0].ID != next.ID {
		t.Errorf("published after retiring the previous keys: %v, want only the new one", keyIDs(pub))
	}
	if !slices.Equal(changed, []string{"acme"}) {
		t.Errorf("Changed calls = %v, want acme: the provider must rebuild the JWKS", changed)
	}
	retired := keyIDs(previous)
	ev := auditTrail(t, svc, "acme")[0]
	if ev.Action != tenant.AuditKeyRotate || ev.Details["kid"] != next.ID || ev.Details["retired"] != strings.Join(retired, ",") {
		t.Errorf("audit event %s %v, want key.rotate of %s retiring %v", ev.Action, ev.Details, next.ID, retired)
	}

	// Keys retired already are not retired again.
	clk.Advance(time.Minute)
	if _, err := svc.RotateSigningKey(ctx, "acme", tenant.KeyRotation{RetirePrevious: true}); err != nil {
		t.Fatal(err)
	}
	if ev := auditTrail(t, svc, "acme")[0]; ev.Details["retired"] != next.ID {
		t.Errorf("retired %q, want only %s", ev.Details["retired"], next.ID)
	}
}
