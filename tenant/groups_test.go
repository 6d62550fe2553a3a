package tenant_test

import (
	"context"
	"errors"
	"slices"
	"strings"
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
		if _, err := svc.CreateGroup(ctx, "acme", tenant.Group{Name: g}); err != nil {
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
	if _, err := svc.UpdateGroup(ctx, "acme", "staff", tenant.GroupChange{Name: new("sales")}); !errors.Is(err, tenant.ErrAlreadyExists) {
		t.Errorf("rename onto an existing group: %v", err)
	}
	if _, err := svc.UpdateGroup(ctx, "acme", "staff", tenant.GroupChange{Name: new("team")}); err != nil {
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
	if _, err := svc.UpdateGroup(ctx, "acme", "admins", tenant.GroupChange{Name: new("owners")}); err != nil {
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
	svc.CreateGroup(ctx, "acme", tenant.Group{Name: "team"})
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
		{"bad\xffgrp", false}, // stored as is, shown as U+FFFD: nobody could name it again
		{"groep ü", true},
		{"two\u2029lines", false},          // a paragraph separator: a line break that is not a control character
		{"two\u2028lines", false},          // a line separator
		{"admins\u200b", false},            // a zero-width space: looks like "admins"
		{"\u202eadmins", false},            // a right-to-left override
		{"ops\u00a0team", true},            // a no-break space is seen as a space
		{"\u0915\u094d\u200d\u0937", true}, // a joiner inside a Devanagari conjunct is part of the word
		{"\u0645\u06cc\u200c\u062e\u0648\u0627\u0645", true}, // a non-joiner inside a Persian word
		{"\U0001F469\u200d\U0001F4BB", true},                 // an emoji sequence
		{"\u2764\ufe0f\u200d\U0001F525", true},               // one with a variation selector before its joiner
		{"\u2800", false},                                    // the blank Braille pattern: nothing to see
		{"\u200c", false},                                    // a non-joiner alone
		{"\u200d\u200d", false},                              // joiners alone
		{"\u200dadmins", false},                              // a joiner at an end
		{"admins\u200c", false},                              // a non-joiner at an end
		{"admin\u200ds", false},                              // joiners between Latin letters: drawn as "admins"
		{"adm\u200cins", false},
		{"ab\u200c\u200dcd", false},          // joiners side by side
		{"\u0915\u094d\u200d \u0937", false}, // a joiner beside a space
		{string(make([]rune, 129)), false},
	}
	for _, tt := range tests {
		if err := tenant.ValidateGroupName(tt.name); (err == nil) != tt.ok {
			t.Errorf("%q: %v", tt.name, err)
		}
	}
}

// A group name that breaks several rules is refused for the first of
// them, in the order ValidateGroupName gives: its length, "." or "..",
// surrounding spaces, then its text. Each row's name breaks more than one;
// like is a name that breaks only the rule it is refused for.
func TestGroupNameRuleOrder(t *testing.T) {
	tests := []struct {
		name, like string
	}{
		{" " + strings.Repeat("a", 128), strings.Repeat("a", 129)}, // too long, with a space around it
		{strings.Repeat("\u200b", 129), strings.Repeat("a", 129)},  // too long, nothing to see
		{strings.Repeat("a\x00", 65), strings.Repeat("a", 129)},    // too long, with control characters
		{" ops\x00", " ops"}, // a space around it and a control character
		{" \u2800", " ops"},  // a space around it and nothing to see
		{"\u200b ", " ops"},  // a space around it and a hidden character
	}
	for _, tt := range tests {
		got, want := tenant.ValidateGroupName(tt.name), tenant.ValidateGroupName(tt.like)
		if got == nil || want == nil || got.Error() != want.Error() {
			t.Errorf("ValidateGroupName(%+q) = %v, want %v, as for %+q", tt.name, got, want, tt.like)
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
	// Their other memberships are theirs to change, and are kept as
	// every list of groups is: sorted.
	for _, g := range []string{"planners", "editors"} {
		svc.CreateGroup(ctx, "acme", tenant.Group{Name: g})
		if err := svc.AddUserToGroup(self, "acme", g, ann.Sub); err != nil {
			t.Errorf("joining %s: %v", g, err)
		}
	}
	if got, _ := svc.User(ctx, "acme", ann.Sub); !slices.Equal(got.Groups, []string{"admins", "editors", "planners"}) {
		t.Errorf("groups after joining two = %q", got.Groups)
	}
	if err := svc.RemoveUserFromGroup(self, "acme", "planners", ann.Sub); err != nil {
		t.Errorf("leaving a group other than the admin group: %v", err)
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
		svc.CreateGroup(ctx, "acme", tenant.Group{Name: g})
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

// A store written before the member index existed gets it at start-up.
func TestIndexGroupMembers(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	svc.CreateGroup(ctx, "acme", tenant.Group{Name: "staff"})
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

// A group's description and precedence: set on creation, changed, removed,
// checked against Cognito's limits, and audited only when something
// changed.
func TestGroupDescriptionAndPrecedence(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"})
	g, err := svc.CreateGroup(ctx, "acme", tenant.Group{Name: "ops", Description: "Night shift", Precedence: new(4)})
	if err != nil {
		t.Fatal(err)
	}
	if g.CreatedAt.IsZero() {
		t.Error("created without a creation time")
	}
	long := strings.Repeat("é", tenant.MaxGroupDescription+1)
	for _, bad := range []tenant.Group{
		{Name: "a", Description: long},
		{Name: "b", Precedence: new(-1)},
		{Name: "c", Precedence: new(tenant.MaxGroupPrecedence + 1)},
		{Name: " d"},
	} {
		if _, err := svc.CreateGroup(ctx, "acme", bad); !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("create %+v: %v", bad, err)
		}
	}
	if _, err := svc.CreateGroup(ctx, "acme", tenant.Group{Name: "e", Description: strings.Repeat("é", tenant.MaxGroupDescription), Precedence: new(tenant.MaxGroupPrecedence)}); err != nil {
		t.Errorf("the longest description and highest precedence: %v", err)
	}

	tests := []struct {
		name       string
		change     tenant.GroupChange
		want       tenant.Group // Name, Description, Precedence
		wantErr    error
		wantAction tenant.AuditAction // "" when nothing may be recorded
	}{
		{"nothing", tenant.GroupChange{}, tenant.Group{Name: "ops", Description: "Night shift", Precedence: new(4)}, nil, ""},
		{"same values", tenant.GroupChange{Description: new("Night shift"), SetPrecedence: true, Precedence: new(4)},
			tenant.Group{Name: "ops", Description: "Night shift", Precedence: new(4)}, nil, ""},
		{"precedence", tenant.GroupChange{SetPrecedence: true, Precedence: new(0)},
			tenant.Group{Name: "ops", Description: "Night shift", Precedence: new(0)}, nil, tenant.AuditGroupUpdate},
		{"remove both", tenant.GroupChange{Description: new(""), SetPrecedence: true},
			tenant.Group{Name: "ops"}, nil, tenant.AuditGroupUpdate},
		{"too long", tenant.GroupChange{Description: &long}, tenant.Group{Name: "ops"}, tenant.ErrInvalid, ""},
		{"negative", tenant.GroupChange{SetPrecedence: true, Precedence: new(-5)}, tenant.Group{Name: "ops"}, tenant.ErrInvalid, ""},
		{"rename to a bad name, with a change", tenant.GroupChange{Name: new(" ops2"), Description: new("lost")}, tenant.Group{Name: "ops"}, tenant.ErrInvalid, ""},
		{"rename to the same name, with a change", tenant.GroupChange{Name: new("ops"), Description: new("Ops")},
			tenant.Group{Name: "ops", Description: "Ops"}, nil, tenant.AuditGroupUpdate},
		{"rename with a change", tenant.GroupChange{Name: new("day"), Description: new("Day shift")},
			tenant.Group{Name: "day", Description: "Day shift"}, nil, tenant.AuditGroupRename},
		{"rename onto another, with a change", tenant.GroupChange{Name: new("e"), Description: new("lost")},
			tenant.Group{Name: "day", Description: "Day shift"}, tenant.ErrAlreadyExists, ""},
	}
	current := "ops"
	for _, tt := range tests {
		before := actions(auditTrail(t, svc, "acme"))
		got, err := svc.UpdateGroup(ctx, "acme", current, tt.change)
		if !errors.Is(err, tt.wantErr) {
			t.Fatalf("%s: error %v, want %v", tt.name, err, tt.wantErr)
		}
		if err == nil {
			current = got.Name
		}
		stored, err := svc.Group(ctx, "acme", current)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if stored.Name != tt.want.Name || stored.Description != tt.want.Description || !slices.Equal(ptrSlice(stored.Precedence), ptrSlice(tt.want.Precedence)) {
			t.Errorf("%s: stored %s %q %v, want %s %q %v", tt.name, stored.Name, stored.Description, ptrSlice(stored.Precedence),
				tt.want.Name, tt.want.Description, ptrSlice(tt.want.Precedence))
		}
		// The test clock stands still, so events are counted, not ordered.
		trail := actions(auditTrail(t, svc, "acme"))
		switch {
		case tt.wantAction == "" && len(trail) != len(before):
			t.Errorf("%s: recorded something: %v", tt.name, trail)
		case tt.wantAction != "" && (len(trail) != len(before)+1 || count(trail, tt.wantAction) != count(before, tt.wantAction)+1):
			t.Errorf("%s: trail %v, want one %s more than %v", tt.name, trail, tt.wantAction, before)
		}
	}
	if _, err := svc.UpdateGroup(ctx, "acme", "nope", tenant.GroupChange{Description: new("x")}); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("an unknown group: %v", err)
	}
	if _, err := svc.UpdateGroup(ctx, "nosuch", current, tenant.GroupChange{Name: new("x")}); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("an unknown tenant: %v", err)
	}
}

func count(actions []string, action tenant.AuditAction) int {
	n := 0
	for _, a := range actions {
		if a == string(action) {
			n++
		}
	}
	return n
}

// ptrSlice shows an optional number as an empty or one-element slice, so
// that slices.Equal compares two of them.
func ptrSlice(p *int) []int {
	if p == nil {
		return nil
	}
	return []int{*p}
}

// A user is created in each group once, however often the form names it,
// and a group that is gone by then is a refusal that says so.
func TestCreateUserGroups(t *testing.T) {
	svc, _ := newService(t)
	ctx := t.Context()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"staff", "ops"} {
		if _, err := svc.CreateGroup(ctx, "acme", tenant.Group{Name: g}); err != nil {
			t.Fatal(err)
		}
	}
	u, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Groups: []string{"staff", "ops", "staff"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Groups, []string{"ops", "staff"}) {
		t.Errorf("groups %q, want each once", u.Groups)
	}
	_, err = svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "bob", Groups: []string{"staff", "gone"}})
	if !errors.Is(err, tenant.ErrInvalid) || !strings.Contains(err.Error(), `there is no group "gone"`) {
		t.Errorf("a group that is gone: %v", err)
	}
}
