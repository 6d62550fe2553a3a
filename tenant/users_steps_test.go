package tenant_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

// The branches of CreateUser and UpdateUser that no other test would
// notice breaking.

// deleteBeforeWrite is a store whose first write deletes a tenant just
// before it runs: as if the tenant went while the new user's password was
// hashed.
type deleteBeforeWrite struct {
	tenant.Store
	svc  *tenant.Service
	slug string
}

func (s *deleteBeforeWrite) Update(ctx context.Context, fn func(tx tenant.Tx) error) error {
	if slug := s.slug; slug != "" {
		s.slug = ""
		if err := s.svc.DeleteTenant(ctx, slug); err != nil {
			return err
		}
	}
	return s.Store.Update(ctx, fn)
}

func TestCreateUserInATenantDeletedMeanwhile(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	store := svc.Store
	svc.Store = &deleteBeforeWrite{Store: store, svc: &tenant.Service{Store: store, Now: svc.Now}, slug: "acme"}
	if _, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Password: "Correct-Horse-9!"}); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("a user created in a tenant deleted meanwhile: %v, want ErrNotFound", err)
	}
	svc.Store = store
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	if found, err := svc.FindUsers(ctx, "acme", tenant.UserQuery{Username: "ann"}); err != nil || len(found.Users) != 0 {
		t.Errorf("the tenant that took the slug next has %d users named ann (%v)", len(found.Users), err)
	}
}

func TestUpdateUserFields(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateGroup(ctx, "acme", tenant.Group{Name: "staff"}); err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	yes := true
	tests := []struct {
		name    string
		in      tenant.UserChange
		want    func(tenant.User) bool
		wantErr error
	}{
		{"address trimmed", tenant.UserChange{Email: str("  ann@example.net ")},
			func(u tenant.User) bool { return u.Email == "ann@example.net" && !u.EmailVerified }, nil},
		{"new capitals keep the address verified", tenant.UserChange{Email: str("Ann@Example.com")},
			func(u tenant.User) bool { return u.Email == "Ann@Example.com" && u.EmailVerified }, nil},
		{"a new address is unverified", tenant.UserChange{Email: str("ann@example.org")},
			func(u tenant.User) bool { return u.Email == "ann@example.org" && !u.EmailVerified }, nil},
		{"groups as stored: sorted, each once", tenant.UserChange{Groups: &[]string{"staff", "admins", "staff"}},
			func(u tenant.User) bool { return slices.Equal(u.Groups, []string{"admins", "staff"}) }, nil},
		{"bad address", tenant.UserChange{Email: str("not-an-email")}, nil, tenant.ErrInvalid},
		{"verified without an address", tenant.UserChange{Email: str(""), EmailVerified: &yes}, nil, tenant.ErrInvalid},
		{"unknown attribute", tenant.UserChange{Attributes: map[string]*string{"shoe_size": str("9")}}, nil, tenant.ErrInvalid},
		{"unknown group", tenant.UserChange{Groups: &[]string{"ghosts"}}, nil, tenant.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: tenant.NewUUID(), Email: "ann@example.com", EmailVerified: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := svc.UpdateUser(ctx, "acme", u.Sub, tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if stored, _ := svc.User(ctx, "acme", u.Sub); stored.Email != u.Email || !stored.EmailVerified || len(stored.Groups) != 0 || len(stored.Attributes) != 0 {
					t.Errorf("a refused change was stored: %+v", stored)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, err := svc.User(ctx, "acme", u.Sub)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(got) || !tt.want(stored) {
				t.Errorf("returned %+v\nstored %+v", got, stored)
			}
		})
	}
}

// Deactivating ends the user's sessions and tokens with the change; a
// change that leaves the user enabled ends nothing.
func TestDeactivationRevokes(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Password: "Correct-Horse-9!"})
	on, off := true, false
	if _, err := e.svc.UpdateUser(ctx, "acme", ann.Sub, tenant.UserChange{Enabled: &on}); err != nil || len(e.revoked) != 0 {
		t.Fatalf("enabling an enabled user: revoked %v (%v)", e.revoked, err)
	}
	if _, err := e.svc.UpdateUser(ctx, "acme", ann.Sub, tenant.UserChange{Enabled: &off}); err != nil || !slices.Equal(e.revoked, []string{ann.Sub}) {
		t.Errorf("deactivated: revoked %v (%v)", e.revoked, err)
	}
}

// Activate alone is a change: it invites even when nothing else changes,
// and the outbox is woken for the welcome mail, but not for enabling a
// CONFIRMED user again, which mails nothing.
func TestUpdateUserActivateAlone(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com"})
	u, err := e.svc.UpdateUser(ctx, "acme", ann.Sub, tenant.UserChange{Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != tenant.StatusForceChangePassword || e.woken != 1 {
		t.Fatalf("activated alone: status %s, outbox woken %d times, want once", u.Status, e.woken)
	}
	e.lastMail(t)

	bob := e.user(t, "acme", tenant.NewUser{Username: "bob", Email: "bob@example.com", Password: "Correct-Horse-9!"})
	off := false
	if _, err := e.svc.UpdateUser(ctx, "acme", bob.Sub, tenant.UserChange{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if u, err := e.svc.UpdateUser(ctx, "acme", bob.Sub, tenant.UserChange{Activate: true}); err != nil || !u.Enabled || u.Status != tenant.StatusConfirmed {
		t.Fatalf("a deactivated CONFIRMED user activated: %+v (%v)", u, err)
	}
	if n := len(e.queued(t)); e.woken != 1 || n != 1 {
		t.Errorf("enabled again: outbox woken %d times, %d mails queued; want ann's alone", e.woken, n)
	}
}
