package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newService(t *testing.T) (*tenant.Service, *clock) {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	hasher, err := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return &tenant.Service{Store: store, Hasher: hasher, Now: c.Now}, c
}

func TestCreateTenant(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	var changed []string
	svc.Changed = func(_ context.Context, slug string) { changed = append(changed, slug) }

	tn, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: "Acme BV"})
	if err != nil {
		t.Fatal(err)
	}
	if tn.Settings.PasswordPolicy != password.DefaultPolicy() || tn.Settings.TempPasswordValidityDays != 7 || tn.Settings.SigningAlg != "RS256" {
		t.Errorf("defaults not applied: %+v", tn.Settings)
	}
	if len(changed) != 1 || changed[0] != "acme" {
		t.Errorf("Changed calls = %v", changed)
	}
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); !errors.Is(err, tenant.ErrAlreadyExists) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "auth"}); !errors.Is(err, tenant.ErrSlugReserved) {
		t.Errorf("reserved: %v", err)
	}
	es, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "globex", Settings: tenant.Settings{SigningAlg: "ES256"}})
	if err != nil {
		t.Fatal(err)
	}
	var keys []tenant.SigningKey
	svc.Store.View(ctx, func(tx tenant.Tx) (err error) { keys, err = tenant.SigningKeys(tx, es.Slug); return err })
	if len(keys) != 1 || keys[0].Alg != "ES256" {
		t.Errorf("ES256 tenant keys = %v", keys)
	}
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "initech", Settings: tenant.Settings{SigningAlg: "HS256"}}); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("bad algorithm: %v", err)
	}
	// A name of white space alone is refused as UpdateTenant refuses it,
	// not taken for a name left out (which would be the slug).
	for _, blank := range []string{" ", "\t\n", "\u3000"} {
		_, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "blank", Name: blank})
		if _, err2 := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Name: &blank}); !errors.Is(err, tenant.ErrInvalid) || err2 == nil || err.Error() != err2.Error() {
			t.Errorf("name %+q: create says %v, update %v; want both ErrInvalid, alike", blank, err, err2)
		}
	}
	all, _ := svc.Tenants(ctx)
	if len(all) != 2 {
		t.Errorf("Tenants = %d, want 2 (failed creations leave nothing)", len(all))
	}
}

func TestCreateClientValidation(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	machine := func(scopes ...string) tenant.NewClient {
		return tenant.NewClient{Name: "x", GrantTypes: []string{"client_credentials"}, Scopes: scopes}
	}
	tests := []struct {
		name    string
		in      tenant.NewClient
		wantMsg string
	}{
		{"no name", tenant.NewClient{RedirectURIs: []string{"https://a.example/cb"}}, "needs a name"},
		{"no redirect", tenant.NewClient{Name: "x"}, "at least one redirect URI"},
		{"http redirect", tenant.NewClient{Name: "x", RedirectURIs: []string{"http://a.example/cb"}}, "must use https"},
		{"public machine", tenant.NewClient{Name: "x", Public: true, GrantTypes: []string{"client_credentials"}}, "public client cannot"},
		{"bad grant", tenant.NewClient{Name: "x", GrantTypes: []string{"password"}}, "not supported"},
		{"short ttl", tenant.NewClient{Name: "x", RedirectURIs: []string{"https://a.example/cb"}, AccessTokenTTL: time.Minute}, "access token lifetime"},
		{"long name", tenant.NewClient{Name: strings.Repeat("x", 129), RedirectURIs: []string{"https://a.example/cb"}}, "at most 128 characters"},
		{"control characters in the name", tenant.NewClient{Name: "ctl\x00\x1b", RedirectURIs: []string{"https://a.example/cb"}}, "without control characters"},
		// Scopes are RFC 6749 §3.3 scope-tokens, as Cognito's ScopeType.
		{"a scope with a quote", machine(`x"y`), `scope "x\"y" is refused: a scope is 1 to 256 characters of printable ASCII, without spaces, quotes or backslashes`},
		{"a scope with a control character", machine("a\x01"), `scope "a\x01" is refused`},
		{"a scope with a backslash", machine(`b\c`), `scope "b\\c" is refused`},
		{"a scope beyond ASCII", machine("é"), `scope "é" is refused`},
		{"a scope with a space", machine("reports read"), `scope "reports read" is refused`},
		{"a scope with a tab", machine("reports\tread"), `scope "reports\tread" is refused`},
		{"a scope with DEL", machine("a\x7f"), `scope "a\x7f" is refused`},
		{"an empty scope", machine(""), `scope "" is refused`},
		{"a scope too long", machine(strings.Repeat("s", 257)), "is refused: a scope is 1 to 256 characters"},
		// A value given twice is a mistake to point out, not to store.
		{"a scope twice", machine("reports/read", "reports/write", "reports/read"), `scope "reports/read" is given twice`},
		{"a grant type twice", tenant.NewClient{Name: "x", GrantTypes: []string{"client_credentials", "client_credentials"}}, `grant type "client_credentials" is given twice`},
		{"a redirect URI twice", tenant.NewClient{Name: "x", RedirectURIs: []string{"https://a.example/cb", "https://b.example/cb", "https://a.example/cb"}},
			`redirect URI "https://a.example/cb" is given twice`},
		{"a logout URI twice", tenant.NewClient{Name: "x", RedirectURIs: []string{"https://a.example/cb"},
			PostLogoutRedirectURIs: []string{"https://a.example/bye", "https://a.example/bye"}}, `logout URI "https://a.example/bye" is given twice`},
		// Cognito's limits, so that a client moves either way.
		{"51 scopes", machine(numbered("s", 51)...), "a client may have at most 50 scopes; this one has 51"},
		{"101 redirect URIs", tenant.NewClient{Name: "x", RedirectURIs: numbered("https://a.example/cb", 101)},
			"a client may have at most 100 redirect URIs; this one has 101"},
		{"101 logout URIs", tenant.NewClient{Name: "x", RedirectURIs: []string{"https://a.example/cb"}, PostLogoutRedirectURIs: numbered("https://a.example/bye", 101)},
			"a client may have at most 100 logout URIs; this one has 101"},
		// Named by its start, so that two too long read apart.
		{"a redirect URI too long", tenant.NewClient{Name: "x", RedirectURIs: []string{"https://a.example/" + strings.Repeat("p", 1007)}},
			`redirect URI "https://a.example/` + strings.Repeat("p", 62) + `…" must be at most 1024 characters; it has 1025`},
		{"two redirect URIs too long", tenant.NewClient{Name: "x", RedirectURIs: []string{"https://a.example/" + strings.Repeat("p", 1007),
			"https://b.example/" + strings.Repeat("q", 1009)}},
			`redirect URI "https://a.example/` + strings.Repeat("p", 62) + `…" must be at most 1024 characters; it has 1025; ` +
				`redirect URI "https://b.example/` + strings.Repeat("q", 62) + `…" must be at most 1024 characters; it has 1027`},
	}
	for _, tc := range tests {
		_, _, err := svc.CreateClient(ctx, "acme", tc.in)
		if !errors.Is(err, tenant.ErrInvalid) || !strings.Contains(err.Error(), tc.wantMsg) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", tc.name, err, tc.wantMsg)
		}
	}
	c, secret, err := svc.CreateClient(ctx, "acme", tenant.NewClient{Name: "planner", RedirectURIs: []string{"https://a.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) < 43 || c.SecretHash != tenant.HashSecret(secret) || c.AccessTokenTTL != time.Hour || c.RefreshTokenTTL != 30*24*time.Hour {
		t.Errorf("client = %+v (secret length %d)", c, len(secret))
	}
	// Every printable ASCII character but the space, the quote and the
	// backslash may be in a scope, up to 256 of them.
	var printable []byte
	for b := byte(0x21); b <= 0x7e; b++ {
		if b != '"' && b != '\\' {
			printable = append(printable, b)
		}
	}
	for _, sc := range [][]string{{string(printable)}, {strings.Repeat("s", 256)}, {"openid", "https://api.example.com/reports.read"}, numbered("s", 50)} {
		if _, _, err := svc.CreateClient(ctx, "acme", machine(sc...)); err != nil {
			t.Errorf("scopes %q: %v", sc, err)
		}
	}
	atLimits := tenant.NewClient{Name: "x", RedirectURIs: append(numbered("https://a.example/cb", 99), "https://a.example/"+strings.Repeat("p", 1006)),
		PostLogoutRedirectURIs: numbered("https://a.example/bye", 100)}
	if _, _, err := svc.CreateClient(ctx, "acme", atLimits); err != nil {
		t.Errorf("a client at Cognito's limits: %v", err)
	}
	if _, _, err := svc.CreateClient(ctx, "nope", tenant.NewClient{Name: "x", RedirectURIs: []string{"https://a.example/cb"}}); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
}

// numbered is n different values: prefix0, prefix1, …
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(prefix, i)
	}
	return out
}

func TestUsers(t *testing.T) {
	svc, clk := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "globex"})

	u, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "Ann", Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != tenant.StatusUnconfirmed || u.PasswordHash != "" || len(u.Sub) != 36 {
		t.Errorf("new user without password = %+v; want not activated", u)
	}
	if _, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann"}); !errors.Is(err, tenant.ErrAlreadyExists) {
		t.Errorf("usernames are case-insensitive: %v", err)
	}
	if _, err := svc.CreateUser(ctx, "globex", tenant.NewUser{Username: "ann"}); err != nil {
		t.Errorf("the same username in another tenant: %v", err)
	}
	for name, in := range map[string]tenant.NewUser{
		"space in username": {Username: "a b"},
		"bad email":         {Username: "b", Email: "not-an-email"},
		"unknown attribute": {Username: "c", Attributes: map[string]string{"shoe_size": "9"}},
		"weak password":     {Username: "d", Password: "short"},
		"unknown group":     {Username: "e", Groups: []string{"ghosts"}},
		"sub of a dot pair": {Username: "g", Sub: ".."},
		"sub with a slash":  {Username: "h", Sub: "a/b"},
	} {
		if _, err := svc.CreateUser(ctx, "acme", in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A verified address that is not there is refused, as UpdateUser
	// refuses it, rather than quietly dropped.
	for _, email := range []string{"", "  "} {
		_, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "f", Email: email, EmailVerified: true})
		if !errors.Is(err, tenant.ErrInvalid) || (email == "" && !strings.Contains(err.Error(), "a user without an email address cannot have a verified one")) {
			t.Errorf("verified without an address %q: %v", email, err)
		}
	}
	if v, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "f", Email: "f@example.com", EmailVerified: true}); err != nil || !v.EmailVerified {
		t.Errorf("verified with an address: %+v, %v", v, err)
	}
	tmp, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "bob", Password: "Temp-Passw0rd!", Temporary: true})
	if err != nil {
		t.Fatal(err)
	}
	if tmp.Status != tenant.StatusForceChangePassword || !tmp.TempPasswordExpiresAt.Equal(clk.t.Add(7*24*time.Hour)) {
		t.Errorf("temporary password user = %+v", tmp)
	}

	// Paging walks every user once.
	for i := range 7 {
		if _, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "user" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	after := ""
	for pages := 0; ; pages++ {
		page, err := svc.ListUsers(ctx, "acme", after, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			if seen[u.Sub] {
				t.Fatalf("user %s listed twice", u.Username)
			}
			seen[u.Sub] = true
		}
		if page.Next == "" {
			break
		}
		after = page.Next
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 10 {
		t.Errorf("paging saw %d users, want 10", len(seen))
	}

	// Find by username or (unique) email.
	svc.Store.View(ctx, func(tx tenant.Tx) error {
		if got, err := tenant.FindUser(tx, "acme", "ANN@example.com"); err != nil || got.Sub != u.Sub {
			t.Errorf("FindUser by email = %v, %v", got.Username, err)
		}
		if _, err := tenant.FindUser(tx, "acme", "nobody"); !errors.Is(err, tenant.ErrNotFound) {
			t.Errorf("FindUser unknown = %v", err)
		}
		return nil
	})
}

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

// updateHookStore runs before once, at the start of the next Update: a
// change another request commits while the service is between its read
// and its write (hashing a password, say).
type updateHookStore struct {
	tenant.Store
	before func()
}

func (s *updateHookStore) Update(ctx context.Context, fn func(tenant.Tx) error) error {
	if h := s.before; h != nil {
		s.before = nil
		h()
	}
	return s.Store.Update(ctx, fn)
}

// A slug may be taken again once its tenant is deleted, by another
// organization. Nothing of the old tenant may surface in the new one: not
// a user created while the deletion committed, nor records a request in
// flight wrote for it afterwards (a sign-in's session and audit event).
func TestRecreatedTenantStartsEmpty(t *testing.T) {
	svc, clk := newService(t)
	ctx := context.Background()
	old, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	if err != nil {
		t.Fatal(err)
	}

	// The tenant goes while CreateUser hashes the password.
	other := *svc
	hooked := &updateHookStore{Store: svc.Store}
	hooked.before = func() {
		if err := other.DeleteTenant(ctx, "acme"); err != nil {
			t.Error(err)
		}
	}
	racing := *svc
	racing.Store = hooked
	if _, err := racing.CreateUser(ctx, "acme", tenant.NewUser{Username: "mallory", Password: "Correct-Horse-9!"}); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("CreateUser in a tenant deleted meanwhile: %v, want ErrNotFound", err)
	}

	// A sign-in in flight finishes after the deletion.
	const token = "session-token-of-the-old-tenant"
	err = svc.Store.Update(ctx, func(tx tenant.Tx) error {
		if err := tenant.StartSession(tx, "acme", token, "old-sub", []string{"pwd"}, clk.Now(), clk.Now(), time.Hour); err != nil {
			return err
		}
		return tenant.RecordAudit(tx, "acme", tenant.AuditEvent{Time: clk.Now(), Action: tenant.AuditSignIn,
			Target: tenant.AuditTarget{Kind: tenant.TargetUser, ID: "old-sub", Name: "old-user"}})
	})
	if err != nil {
		t.Fatal(err)
	}

	recreated, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: "New Acme"})
	if err != nil {
		t.Fatal(err)
	}
	// What is kept in memory of a tenant is kept under its incarnation,
	// which tells the two apart even when they were created at the same
	// moment, as by this clock.
	stored, err := svc.Tenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if old.Incarnation == "" || recreated.Incarnation == old.Incarnation || stored.Incarnation != recreated.Incarnation {
		t.Errorf("incarnations: deleted tenant %q, new one %q, stored %q; want two that differ, the new one stored",
			old.Incarnation, recreated.Incarnation, stored.Incarnation)
	}
	if users, err := svc.FindUsers(ctx, "acme", tenant.UserQuery{Username: "mallory"}); err != nil || len(users.Users) != 0 {
		t.Errorf("the new tenant has users %v, %v; want none", users, err)
	}
	err = svc.Store.View(ctx, func(tx tenant.Tx) error {
		_, err := tenant.SessionByToken(tx, "acme", token)
		return err
	})
	if !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("the old tenant's session in the new one: %v, want ErrNotFound", err)
	}
	page, err := svc.AuditLog(ctx, "acme", tenant.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range page.Events {
		if ev.Action != tenant.AuditTenantCreate {
			t.Errorf("the new tenant's trail has the old tenant's event %s on %s", ev.Action, ev.Target.Name)
		}
	}
}

// Sign-in takes a username or an email address and looks for a username
// first (FindUser), so the two kinds of name may not cross between users:
// the one place that writes users (InsertUser, UpdateUser) refuses a
// username that is another user's email address and an email address that
// is another user's username, for every front end, the import and lazy
// migration included.
func TestSignInNamesStayApart(t *testing.T) {
	svc, clk := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "globex"})
	ann, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Email: "Ann@Example.com"})
	if err != nil {
		t.Fatal(err)
	}
	mail, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "bob@example.com", Email: "bob@example.com"})
	if err != nil {
		t.Fatalf("a username that is the user's own address: %v", err)
	}
	email := func(s string) *string { return &s }
	insert := func(u tenant.User) error {
		return svc.Store.Update(ctx, func(tx tenant.Tx) error { return tenant.InsertUser(tx, "acme", u) })
	}
	update := func(sub string, change func(*tenant.User)) error {
		return svc.Store.Update(ctx, func(tx tenant.Tx) error {
			u, err := tenant.GetUser(tx, "acme", sub)
			if err != nil {
				return err
			}
			change(&u)
			return tenant.UpdateUser(tx, "acme", u)
		})
	}

	tests := []struct {
		name string
		do   func() error
		code string // of the refusal; "" for none
	}{
		{"create a user named as ann's address", func() error {
			_, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ANN@example.COM"})
			return err
		}, tenant.CodeUsernameIsEmail},
		{"create a user whose address is bob's username", func() error {
			_, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "carol", Email: "BOB@example.com"})
			return err
		}, tenant.CodeEmailIsUsername},
		{"change ann's address to bob's username", func() error {
			_, err := svc.UpdateUser(ctx, "acme", ann.Sub, tenant.UserChange{Email: email("bob@EXAMPLE.com")})
			return err
		}, tenant.CodeEmailIsUsername},
		{"insert a user named as ann's address (the import)", func() error {
			return insert(tenant.User{Sub: tenant.NewUUID(), Username: "ann@example.com", Status: tenant.StatusResetRequired})
		}, tenant.CodeUsernameIsEmail},
		{"insert a user whose address is bob's username (the import)", func() error {
			return insert(tenant.User{Sub: tenant.NewUUID(), Username: "dave", Email: "bob@example.com"})
		}, tenant.CodeEmailIsUsername},
		{"update ann's address to bob's username (the import)", func() error {
			return update(ann.Sub, func(u *tenant.User) { u.Email = "Bob@Example.com" })
		}, tenant.CodeEmailIsUsername},
		{"bring over a legacy user whose address is bob's username", func() error {
			return svc.Store.Update(ctx, func(tx tenant.Tx) error {
				_, err := tenant.PutLegacyUser(tx, "acme", "erin", tenant.LegacyAccount{Username: "erin", Email: "bob@example.com"}, clk.t,
					func(u *tenant.User) { u.Status = tenant.StatusConfirmed })
				return err
			})
		}, tenant.CodeEmailIsUsername},

		{"the same names in another tenant", func() error {
			_, err := svc.CreateUser(ctx, "globex", tenant.NewUser{Username: "ann@example.com", Email: "bob@example.com"})
			return err
		}, ""},
		{"ann's address in other capitals", func() error {
			_, err := svc.UpdateUser(ctx, "acme", ann.Sub, tenant.UserChange{Email: email("ANN@example.com")})
			return err
		}, ""},
		{"bob's address in other capitals, his own username", func() error {
			_, err := svc.UpdateUser(ctx, "acme", mail.Sub, tenant.UserChange{Email: email("Bob@Example.com")})
			return err
		}, ""},
		{"a second user with ann's address", func() error {
			_, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann2", Email: "ann@example.com"})
			return err
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := usersOf(t, svc, "acme")
			err := tc.do()
			if tc.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var inv *tenant.InvalidError
			if !errors.Is(err, tenant.ErrSignInNameTaken) || !errors.Is(err, tenant.ErrInvalid) || !errors.As(err, &inv) || inv.Code != tc.code {
				t.Fatalf("%v, want an ErrSignInNameTaken with code %s", err, tc.code)
			}
			if strings.Contains(err.Error(), ann.Sub) || strings.Contains(err.Error(), mail.Sub) {
				t.Errorf("the refusal names another user: %v", err)
			}
			if after := usersOf(t, svc, "acme"); !slices.Equal(after, before) {
				t.Errorf("a refusal wrote: %v, was %v", after, before)
			}
		})
	}

	// Names that crossed before the rule stay writable until they change:
	// a sign-in records itself through UpdateUser.
	err = svc.Store.Update(ctx, func(tx tenant.Tx) error {
		old := tenant.User{Sub: tenant.NewUUID(), Username: "frank", Email: "bob@example.com", Enabled: true}
		if err := tx.Put(tenant.CollUsersByName, "acme", "frank", []byte(old.Sub)); err != nil {
			return err
		}
		if err := tx.Put(tenant.CollUsersByEmail, "acme", "bob@example.com\x00"+old.Sub, []byte(old.Sub)); err != nil {
			return err
		}
		if err := tenant.PutJSON(tx, tenant.CollUsers, "acme", old.Sub, old); err != nil {
			return err
		}
		old.LastSignInAt = clk.t
		return tenant.UpdateUser(tx, "acme", old)
	})
	if err != nil {
		t.Errorf("a user written before the rule cannot sign in: %v", err)
	}
}

// usersOf lists a tenant's users as username/email pairs, in sub order.
func usersOf(t *testing.T, svc *tenant.Service, slug string) []string {
	t.Helper()
	var out []string
	err := svc.Store.View(context.Background(), func(tx tenant.Tx) error {
		return tenant.ScanJSON(tx, tenant.CollUsers, slug, "", "", func(_ string, u tenant.User) bool {
			out = append(out, u.Username+"/"+u.Email)
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A password policy changes field by field: what a change leaves out
// keeps its value, which on a new tenant is Cognito's default. The rest of
// the settings change section by section, as before.
func TestSettingsChangePasswordPolicy(t *testing.T) {
	n := func(i int) *int { return &i }
	no := func() *bool { b := false; return &b }
	custom := password.Policy{MinimumLength: 12, RequireLowercase: true, HistorySize: 2}
	def := password.DefaultPolicy()
	tests := []struct {
		name   string
		from   password.Policy // the tenant's; zero for a new tenant
		change *tenant.PasswordPolicyChange
		want   password.Policy
	}{
		{"no change", custom, nil, custom},
		{"an empty change", custom, &tenant.PasswordPolicyChange{}, custom},
		{"the history alone", custom, &tenant.PasswordPolicyChange{HistorySize: n(5)},
			password.Policy{MinimumLength: 12, RequireLowercase: true, HistorySize: 5}},
		{"one class off", def, &tenant.PasswordPolicyChange{RequireSymbols: no()},
			password.Policy{MinimumLength: 8, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true}},
		{"a new tenant's history", password.Policy{}, &tenant.PasswordPolicyChange{HistorySize: n(3)},
			password.Policy{MinimumLength: 8, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true, HistorySize: 3}},
		{"a new tenant, nothing named", password.Policy{}, &tenant.PasswordPolicyChange{}, def},
		{"everything", custom, tenant.SetPasswordPolicy(def), def},
		{"everything zero", custom, tenant.SetPasswordPolicy(password.Policy{}), password.Policy{}}, // refused, not defaulted
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tenant.SettingsChange{PasswordPolicy: tc.change}.Apply(tenant.Settings{PasswordPolicy: tc.from}).PasswordPolicy
			if got != tc.want {
				t.Errorf("policy %+v, want %+v", got, tc.want)
			}
		})
	}

	// Through the service, a change of one field keeps the others.
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme",
		Settings: tenant.SettingsChange{PasswordPolicy: &tenant.PasswordPolicyChange{MinimumLength: n(10), RequireSymbols: no()}}.Apply(tenant.Settings{})}); err != nil {
		t.Fatal(err)
	}
	tn, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{PasswordPolicy: &tenant.PasswordPolicyChange{HistorySize: n(4)}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (password.Policy{MinimumLength: 10, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, HistorySize: 4}); tn.Settings.PasswordPolicy != want {
		t.Errorf("policy %+v, want %+v", tn.Settings.PasswordPolicy, want)
	}
	for _, change := range []tenant.PasswordPolicyChange{{MinimumLength: n(0)}, {MinimumLength: n(100)}, {HistorySize: n(25)}, {HistorySize: n(-1)}} {
		_, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{PasswordPolicy: &change}})
		if !errors.Is(err, tenant.ErrInvalid) || !strings.Contains(err.Error(), "invalid policy") {
			t.Errorf("%+v: %v, want ErrInvalid for the policy", change, err)
		}
	}
	if _, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{PasswordPolicy: tenant.SetPasswordPolicy(password.Policy{})}}); err == nil || !strings.Contains(err.Error(), "minimum length 0 is outside 6..99") {
		t.Errorf("a policy of zeros: %v, want it refused", err)
	}
}
