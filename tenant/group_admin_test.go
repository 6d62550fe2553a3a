package tenant_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

func memberNames(t *testing.T, svc *tenant.Service, group string) []string {
	t.Helper()
	page, err := svc.GroupMembers(t.Context(), "acme", group, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range page.Users {
		names = append(names, u.Username)
	}
	slices.Sort(names)
	return names
}

func TestGroupMembersRenameDelete(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}) // with "admins"
	for _, g := range []string{"staff", "sales"} {
		if _, err := svc.CreateGroup(ctx, "acme", g); err != nil {
			t.Fatal(err)
		}
	}
	ann, _ := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Groups: []string{"admins", "staff"}})
	bob, _ := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "bob"})
	if err := svc.AddUserToGroup(ctx, "acme", "staff", bob.Sub); err != nil {
		t.Fatal(err)
	}
	if err := svc.AddUserToGroup(ctx, "acme", "staff", bob.Sub); err != nil {
		t.Errorf("adding a member again: %v", err)
	}
	if got := memberNames(t, svc, "staff"); !slices.Equal(got, []string{"ann", "bob"}) {
		t.Fatalf("staff = %v", got)
	}

	// Renaming moves the members; renaming the admin group moves the setting.
	if _, err := svc.RenameGroup(ctx, "acme", "staff", "sales"); !errors.Is(err, tenant.ErrAlreadyExists) {
		t.Errorf("rename onto an existing group: %v", err)
	}
	if _, err := svc.RenameGroup(ctx, "acme", "staff", "team"); err != nil {
		t.Fatal(err)
	}
	if got := memberNames(t, svc, "team"); !slices.Equal(got, []string{"ann", "bob"}) {
		t.Errorf("team = %v", got)
	}
	if _, err := svc.GroupMembers(ctx, "acme", "staff", "", 10); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("old name: %v", err)
	}
	u, _ := svc.User(ctx, "acme", ann.Sub)
	if !slices.Equal(u.Groups, []string{"admins", "team"}) {
		t.Errorf("ann's groups %v", u.Groups)
	}
	if _, err := svc.RenameGroup(ctx, "acme", "admins", "owners"); err != nil {
		t.Fatal(err)
	}
	tn, _ := svc.Tenant(ctx, "acme")
	if tn.Settings.AdminGroup != "owners" {
		t.Errorf("admin group setting %q after the rename", tn.Settings.AdminGroup)
	}

	// The admin group cannot be deleted; another can, and leaves no member.
	if err := svc.DeleteGroup(ctx, "acme", "owners"); !errors.Is(err, tenant.ErrAdminGroup) {
		t.Errorf("delete the admin group: %v", err)
	}
	if err := svc.DeleteGroup(ctx, "acme", "team"); err != nil {
		t.Fatal(err)
	}
	u, _ = svc.User(ctx, "acme", bob.Sub)
	if len(u.Groups) != 0 {
		t.Errorf("bob's groups after the delete: %v", u.Groups)
	}
	// A new group of the old name starts empty: the index went too.
	svc.CreateGroup(ctx, "acme", "team")
	if got := memberNames(t, svc, "team"); len(got) != 0 {
		t.Errorf("a new group inherited %v", got)
	}

	// Deleting a user leaves no membership behind.
	svc.AddUserToGroup(ctx, "acme", "sales", bob.Sub)
	if err := svc.DeleteUser(ctx, "acme", bob.Sub); err != nil {
		t.Fatal(err)
	}
	if got := memberNames(t, svc, "sales"); len(got) != 0 {
		t.Errorf("sales after deleting bob: %v", got)
	}
}

func TestGroupNames(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"admins", true},
		{"Team Rocket", true},
		{"a/b", true},
		{"...", true},
		{".", false},
		{"..", false},
		{"", false},
		{" padded", false},
		{"tab\there", false},
		{"nul\x00", false},
		{string(make([]rune, 129)), false},
	}
	for _, tt := range tests {
		if err := tenant.ValidateGroupName(tt.name); (err == nil) != tt.ok {
			t.Errorf("%q: %v", tt.name, err)
		}
	}
}

// Administrators cannot lock themselves out; others may do it to them.
func TestSelfLockout(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}) // with its admin group, "admins"
	ann, _ := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Groups: []string{"admins"}})
	self := tenant.WithActor(ctx, tenant.Actor{Kind: tenant.ActorAdmin, Sub: ann.Sub, Name: "ann"})
	off := false
	for name, err := range map[string]error{
		"disable": func() error {
			_, err := svc.UpdateUser(self, "acme", ann.Sub, tenant.UserChange{Enabled: &off})
			return err
		}(),
		"groups": func() error {
			_, err := svc.UpdateUser(self, "acme", ann.Sub, tenant.UserChange{Groups: &[]string{}})
			return err
		}(),
		"remove": svc.RemoveUserFromGroup(self, "acme", "admins", ann.Sub),
		"delete": svc.DeleteUser(self, "acme", ann.Sub),
	} {
		if !errors.Is(err, tenant.ErrSelfLockout) {
			t.Errorf("%s: %v", name, err)
		}
	}
	other := tenant.WithActor(ctx, tenant.Actor{Kind: tenant.ActorAdmin, Sub: "someone-else"})
	if err := svc.RemoveUserFromGroup(other, "acme", "admins", ann.Sub); err != nil {
		t.Errorf("another admin: %v", err)
	}
}

// An administrator may move the admin group only to a group they are in;
// the operator (no administrator in the context) may move it anywhere.
func TestChooseAdminGroup(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	for _, g := range []string{"admins", "owners", "planners"} {
		svc.CreateGroup(ctx, "acme", g)
	}
	ann, _ := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Groups: []string{"admins", "owners"}})
	self := tenant.WithActor(ctx, tenant.Actor{Kind: tenant.ActorAdmin, Sub: ann.Sub, Name: "ann"})
	choose := func(ctx context.Context, group string) error {
		_, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{AdminGroup: &group}})
		return err
	}
	adminGroup := func() string {
		tn, _ := svc.Tenant(ctx, "acme")
		return tn.Settings.AdminGroup
	}

	if err := choose(self, "planners"); !errors.Is(err, tenant.ErrAdminGroupWithoutActor) || !errors.Is(err, tenant.ErrSelfLockout) {
		t.Errorf("a group ann is not in: %v", err)
	}
	if got := adminGroup(); got != "admins" {
		t.Errorf("after the refusal the admin group is %q", got)
	}
	if err := choose(self, "no-such-group"); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("a group that does not exist: %v", err)
	}
	if err := choose(self, "owners"); err != nil {
		t.Errorf("a group ann is in: %v", err)
	}
	if err := choose(ctx, "planners"); err != nil || adminGroup() != "planners" {
		t.Errorf("the operator: %v, admin group %q", err, adminGroup())
	}
}

func TestUpdateClientAndTheConsoleClient(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	c, err := svc.ConsoleClient(ctx, "acme", "https://acme.example.com/admin/callback", "https://acme.example.com/admin/signed-out")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != tenant.ConsoleClientID || !c.Public() || !tenant.IsBuiltinClient(c.ID) {
		t.Errorf("console client %+v", c)
	}
	again, err := svc.ConsoleClient(ctx, "acme", "https://acme.example.com/admin/callback", "https://acme.example.com/admin/signed-out")
	if err != nil || !again.UpdatedAt.Equal(c.UpdatedAt) {
		t.Errorf("asking again changed it: %v", err)
	}
	if err := svc.DeleteClient(ctx, "acme", c.ID); !errors.Is(err, tenant.ErrBuiltinClient) {
		t.Errorf("delete the console client: %v", err)
	}
	uris := []string{"https://evil.example/cb"}
	if _, err := svc.UpdateClient(ctx, "acme", c.ID, tenant.ClientChange{RedirectURIs: &uris}); !errors.Is(err, tenant.ErrBuiltinClient) {
		t.Errorf("change the console client: %v", err)
	}

	app, _, err := svc.CreateClient(ctx, "acme", tenant.NewClient{Name: "App", RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	uris = []string{"https://app.example/cb", "https://app.example/cb2"}
	logout := []string{"https://app.example/"}
	got, err := svc.UpdateClient(ctx, "acme", app.ID, tenant.ClientChange{RedirectURIs: &uris, PostLogoutRedirectURIs: &logout})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.RedirectURIs, uris) || !slices.Equal(got.PostLogoutRedirectURIs, logout) {
		t.Errorf("updated %+v", got)
	}
	bad := []string{"http://app.example/cb"}
	if _, err := svc.UpdateClient(ctx, "acme", app.ID, tenant.ClientChange{RedirectURIs: &bad}); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("plain http: %v", err)
	}
	if _, err := svc.UpdateClient(ctx, "acme", "nope", tenant.ClientChange{RedirectURIs: &uris}); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("unknown client: %v", err)
	}
}

func TestBrandingAndAdminGroupSettings(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	tests := []struct {
		name string
		b    tenant.Branding
		ok   bool
	}{
		{"empty", tenant.Branding{}, true},
		{"short colour", tenant.Branding{PrimaryColor: "#FC0"}, true},
		{"logo", tenant.Branding{PrimaryColor: "#0a7d4f", LogoURL: "https://cdn.acme.example/logo.svg"}, true},
		{"named colour", tenant.Branding{PrimaryColor: "red"}, false},
		{"css injection", tenant.Branding{PrimaryColor: "#fff;}"}, false},
		{"http logo", tenant.Branding{LogoURL: "http://cdn.acme.example/logo.svg"}, false},
		{"csp injection", tenant.Branding{LogoURL: "https://a.example/x; script-src *"}, false},
		{"javascript", tenant.Branding{LogoURL: "javascript:alert(1)"}, false},
	}
	for _, tt := range tests {
		b := tt.b
		_, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Branding: &b}})
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, tenant.ErrInvalid)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	tn, _ := svc.Tenant(ctx, "acme")
	if tn.Settings.AdminGroup != tenant.DefaultAdminGroup {
		t.Errorf("admin group %q", tn.Settings.AdminGroup)
	}
	staff := "staff"
	if _, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{AdminGroup: &staff}}); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("an admin group that does not exist: %v", err)
	}
	svc.CreateGroup(ctx, "acme", "staff")
	if tn, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{AdminGroup: &staff}}); err != nil || tn.Settings.AdminGroup != "staff" {
		t.Errorf("admin group staff: %v", err)
	}
}

// A store written before the member index existed gets it at start-up.
func TestIndexGroupMembers(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	svc.CreateGroup(ctx, "acme", "staff")
	// Users as an older version wrote them: on the record, not in the index.
	insertUsers(t, svc.Store, "acme", 4500, syntheticUser)
	err := svc.Store.Update(ctx, func(tx tenant.Tx) error {
		var keys []string
		err := tx.Scan(tenant.CollGroupMembers, "acme", "", "", func(key string, _ []byte) bool {
			keys = append(keys, key)
			return true
		})
		for _, k := range keys {
			if err := tx.Delete(tenant.CollGroupMembers, "acme", k); err != nil {
				return err
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		n := 0
		for after := ""; ; {
			page, err := svc.GroupMembers(ctx, "acme", "staff", after, 100)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Users)
			if page.Next == "" {
				return n
			}
			after = page.Next
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("%d members before indexing", n)
	}
	if n, err := tenant.IndexGroupMembers(ctx, svc.Store); err != nil || n != 1 {
		t.Fatalf("indexed %d tenants, %v", n, err)
	}
	if n := count(); n != 4500 {
		t.Errorf("%d members after indexing, want 4500", n)
	}
	if n, err := tenant.IndexGroupMembers(ctx, svc.Store); err != nil || n != 0 {
		t.Errorf("second run indexed %d tenants, %v", n, err)
	}
}

// Neither built-in client can be deleted through the service: the start
// page's carries the sign-ins that welcome mails start, as the console's
// carries the administrators'.
func TestBuiltinClientsCannotBeDeleted(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	if _, err := svc.ConsoleClient(ctx, "acme", "https://acme.example.com/admin/callback", "https://acme.example.com/admin/signed-out"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.StartPageClient(ctx, "acme", "https://acme.example.com/welcome"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{tenant.ConsoleClientID, tenant.StartPageClientID} {
		t.Run(id, func(t *testing.T) {
			if err := svc.DeleteClient(ctx, "acme", id); !errors.Is(err, tenant.ErrBuiltinClient) {
				t.Errorf("DeleteClient = %v, want ErrBuiltinClient", err)
			}
			if _, err := svc.Client(ctx, "acme", id); err != nil {
				t.Errorf("the client is gone: %v", err)
			}
		})
	}
}
