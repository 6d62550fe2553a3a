package tenant_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/password"
)

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
	svc.CreateGroup(ctx, "acme", tenant.Group{Name: "staff"})
	if tn, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{AdminGroup: &staff}}); err != nil || tn.Settings.AdminGroup != "staff" {
		t.Errorf("admin group staff: %v", err)
	}
}

// An admin group whose name an older version accepted and today's rules
// refuse (the blank Braille pattern, which draws as nothing) stays the
// admin group while the tenant's other settings change; only an admin
// group chosen anew is held to the rules.
func TestAdminGroupNamedByOlderRules(t *testing.T) {
	svc, _ := newService(t)
	ctx := t.Context()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	const blank = "\u2800"
	if tenant.ValidateGroupName(blank) == nil {
		t.Fatalf("the group name %+q is accepted: the test needs one refused", blank)
	}
	// A new tenant's admin group is chosen with it.
	_, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "globex", Settings: tenant.Settings{AdminGroup: blank}})
	if !errors.Is(err, tenant.ErrInvalid) || !strings.Contains(err.Error(), "admin group: a group name may not contain") {
		t.Errorf("a new tenant with the admin group %+q: %v, want it refused for its name", blank, err)
	}
	// What an older version stored.
	err = svc.Store.Update(ctx, func(tx tenant.Tx) error {
		tn, err := tenant.GetTenant(tx, "acme")
		if err != nil {
			return err
		}
		if err := tenant.PutJSON(tx, tenant.CollGroups, "acme", blank, tenant.Group{Name: blank}); err != nil {
			return err
		}
		tn.Settings.AdminGroup = blank
		return tenant.PutTenant(tx, tn)
	})
	if err != nil {
		t.Fatal(err)
	}

	lockout := tenant.LockoutPolicy{MaxFailures: 7, LockDuration: 30 * time.Minute}
	tn, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Lockout: &lockout}})
	if err != nil || tn.Settings.Lockout != lockout || tn.Settings.AdminGroup != blank {
		t.Fatalf("a lockout change beside the stored admin group: %v; %+v", err, tn.Settings)
	}
	// The form sends the admin group it shows, unchanged, with the rest.
	group, days := blank, 3
	tn, err = svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{AdminGroup: &group, TempPasswordValidityDays: &days}})
	if err != nil || tn.Settings.TempPasswordValidityDays != days || tn.Settings.AdminGroup != blank {
		t.Fatalf("a change that sends the stored admin group again: %v; %+v", err, tn.Settings)
	}

	admins := tenant.DefaultAdminGroup
	if _, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{AdminGroup: &admins}}); err != nil {
		t.Fatalf("moving to %q: %v", admins, err)
	}
	// Refused by the group name's rule, which names the setting: a front
	// end says the rule at the admin group.
	_, err = svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{AdminGroup: &group}})
	var inv *tenant.InvalidError
	if !errors.As(err, &inv) || inv.Code != tenant.CodeGroupNameText || inv.Field != tenant.FieldAdminGroup ||
		!strings.HasPrefix(err.Error(), "invalid input: admin group: a group name may not contain") {
		t.Errorf("choosing %+q anew: %v, want it refused for its name", blank, err)
	}
	if tn, _ := svc.Tenant(ctx, "acme"); tn.Settings.AdminGroup != admins {
		t.Errorf("admin group %+q after the refusal, want %q", tn.Settings.AdminGroup, admins)
	}
}

// A logo refused says what a logo may be: https, or plain http to this
// machine, which is accepted (ValidLogoURL), as a redirect URI's refusal
// says (CodeURINotHTTPS).
func TestLogoRefusalSaysWhatIsAllowed(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	local := tenant.Branding{LogoURL: "http://localhost:8080/logo.svg"}
	if _, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Branding: &local}}); err != nil {
		t.Errorf("a logo on this machine: %v", err)
	}
	remote := tenant.Branding{LogoURL: "http://cdn.acme.example/logo.svg"}
	_, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Branding: &remote}})
	if !errors.Is(err, tenant.ErrInvalid) || !strings.Contains(err.Error(), "https address (http only for localhost)") {
		t.Errorf("a logo over plain http elsewhere: %v", err)
	}
}

// A settings change with several problems says them all at once, the admin
// group's name among them, in one line.
func TestSettingsProblemsAreSaidAtOnce(t *testing.T) {
	svc, _ := newService(t)
	ctx := t.Context()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	group, days := "\u2800", tenant.MaxTempPasswordValidityDays+1
	_, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{AdminGroup: &group, TempPasswordValidityDays: &days}})
	var inv *tenant.InvalidError
	if !errors.Is(err, tenant.ErrInvalid) || !errors.As(err, &inv) || inv.Field != tenant.FieldAdminGroup {
		t.Fatalf("%v: want ErrInvalid with the admin group's refusal", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "temporary password") || !strings.Contains(msg, "admin group: ") ||
		strings.Contains(msg, "\n") || strings.Count(msg, tenant.ErrInvalid.Error()) != 1 {
		t.Errorf("%q: want both problems in one line, after one %q", msg, tenant.ErrInvalid)
	}
}
