package tenant_test

import (
	"context"
	"errors"
	"path/filepath"
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
	svc.Changed = func(slug string) { changed = append(changed, slug) }

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
	all, _ := svc.Tenants(ctx)
	if len(all) != 2 {
		t.Errorf("Tenants = %d, want 2 (failed creations leave nothing)", len(all))
	}
}

func TestCreateClientValidation(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
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
	if _, _, err := svc.CreateClient(ctx, "nope", tenant.NewClient{Name: "x", RedirectURIs: []string{"https://a.example/cb"}}); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
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
	} {
		if _, err := svc.CreateUser(ctx, "acme", in); err == nil {
			t.Errorf("%s: accepted", name)
		}
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
	if len(seen) != 9 {
		t.Errorf("paging saw %d users, want 9", len(seen))
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

func TestRotateSigningKey(t *testing.T) {
	svc, clk := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	keys := func() []tenant.SigningKey { return signingKeys(t, svc, "acme") }
	first, _ := tenant.ActiveKey(keys(), clk.t)
	next, err := svc.RotateSigningKey(ctx, "acme", time.Hour)
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
		t.Errorf("old key still published a day after rotation: %v", pub)
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
	if _, err := svc.RotateSigningKey(ctx, "acme", time.Hour); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Minute)
	last, err := svc.RotateSigningKey(ctx, "acme", 2*time.Hour)
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
	if _, err := svc.RotateSigningKey(ctx, "acme", 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	last, err := svc.RotateSigningKey(ctx, "acme", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, after := range []time.Duration{0, 3 * time.Hour} {
		if a, _ := tenant.ActiveKey(keys(), clk.t.Add(after)); a.ID != last.ID {
			t.Errorf("%s on: active key %s, want the last rotation's %s", after, a.ID, last.ID)
		}
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
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
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
	err := svc.Store.Update(ctx, func(tx tenant.Tx) error {
		if err := tenant.StartSession(tx, "acme", token, "old-sub", []string{"pwd"}, clk.Now(), clk.Now(), time.Hour); err != nil {
			return err
		}
		return tenant.RecordAudit(tx, "acme", tenant.AuditEvent{Time: clk.Now(), Action: tenant.AuditSignIn,
			Target: tenant.AuditTarget{Kind: tenant.TargetUser, ID: "old-sub", Name: "old-user"}})
	})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: "New Acme"}); err != nil {
		t.Fatal(err)
	}
	if users, err := svc.FindUsers(ctx, "acme", tenant.UserQuery{Username: "mallory"}); err != nil || len(users) != 0 {
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
