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
	// Spaces around an address are dropped on creation as on a change, so
	// that the same typed address gives the same user either way.
	spaced := " spaced@example.com\t"
	created, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "spaced", Email: spaced})
	if err != nil || created.Email != "spaced@example.com" {
		t.Errorf("created with %q: email %q, %v; want it trimmed", spaced, created.Email, err)
	}
	respaced := " respaced@example.com "
	changed, err := svc.UpdateUser(ctx, "acme", created.Sub, tenant.UserChange{Email: &respaced})
	if err != nil || changed.Email != "respaced@example.com" {
		t.Errorf("changed to %q: email %q, %v; want it trimmed", respaced, changed.Email, err)
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
	if len(seen) != 11 {
		t.Errorf("paging saw %d users, want 11", len(seen))
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
