package tenant_test

import (
	"cmp"
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// Token lifetimes change through UpdateClient under the rules of creation:
// a refused change says what CreateClient would say and saves nothing, and
// a change that is made is audited and reloads the tenant.
func TestUpdateClientLifetimes(t *testing.T) {
	d := func(v time.Duration) *time.Duration { return &v }
	newName := "App 2"
	tests := []struct {
		name   string
		id     string // the client to change; empty means the one made here
		change tenant.ClientChange
		// What a change that is made leaves, and the audited fields.
		access, idToken, refresh, grace time.Duration
		fields                          string
		// What a refused change is: the error and, when it is about the
		// lifetimes, that CreateClient refuses the same values alike.
		err        error
		sameAsMade bool
	}{
		{name: "access lifetime", change: tenant.ClientChange{AccessTokenTTL: d(15 * time.Minute)},
			access: 15 * time.Minute, idToken: time.Hour, refresh: 30 * 24 * time.Hour, fields: "access_token_ttl"},
		{name: "all three at their limits", change: tenant.ClientChange{
			AccessTokenTTL: d(24 * time.Hour), IDTokenTTL: d(5 * time.Minute), RefreshTokenTTL: d(10 * 365 * 24 * time.Hour)},
			access: 24 * time.Hour, idToken: 5 * time.Minute, refresh: 10 * 365 * 24 * time.Hour,
			fields: "access_token_ttl,id_token_ttl,refresh_token_ttl"},
		{name: "with the name", change: tenant.ClientChange{Name: &newName, RefreshTokenTTL: d(time.Hour)},
			access: time.Hour, idToken: time.Hour, refresh: time.Hour, fields: "name,refresh_token_ttl"},
		{name: "the lifetime it has", change: tenant.ClientChange{IDTokenTTL: d(time.Hour)},
			access: time.Hour, idToken: time.Hour, refresh: 30 * 24 * time.Hour},
		{name: "retry grace period", change: tenant.ClientChange{RefreshRetryGrace: d(time.Minute)},
			access: time.Hour, idToken: time.Hour, refresh: 30 * 24 * time.Hour, grace: time.Minute, fields: "refresh_retry_grace"},
		{name: "no retry grace period, as it has", change: tenant.ClientChange{RefreshRetryGrace: d(0)},
			access: time.Hour, idToken: time.Hour, refresh: 30 * 24 * time.Hour},

		{name: "access too short", change: tenant.ClientChange{AccessTokenTTL: d(time.Minute)},
			err: tenant.ErrInvalid, sameAsMade: true},
		{name: "ID token too long", change: tenant.ClientChange{IDTokenTTL: d(25 * time.Hour)},
			err: tenant.ErrInvalid, sameAsMade: true},
		{name: "refresh too short", change: tenant.ClientChange{RefreshTokenTTL: d(30 * time.Minute)},
			err: tenant.ErrInvalid, sameAsMade: true},
		{name: "refresh too long", change: tenant.ClientChange{RefreshTokenTTL: d(11 * 365 * 24 * time.Hour)},
			err: tenant.ErrInvalid, sameAsMade: true},
		{name: "negative", change: tenant.ClientChange{AccessTokenTTL: d(-time.Hour)},
			err: tenant.ErrInvalid, sameAsMade: true},
		{name: "one good, one bad", change: tenant.ClientChange{AccessTokenTTL: d(15 * time.Minute), IDTokenTTL: d(time.Minute)},
			err: tenant.ErrInvalid, sameAsMade: true},
		{name: "retry grace beyond a minute", change: tenant.ClientChange{RefreshRetryGrace: d(61 * time.Second)},
			err: tenant.ErrInvalid, sameAsMade: true},
		{name: "negative retry grace", change: tenant.ClientChange{RefreshRetryGrace: d(-time.Second)},
			err: tenant.ErrInvalid, sameAsMade: true},
		{name: "retry grace with a fraction of a second", change: tenant.ClientChange{RefreshRetryGrace: d(1500 * time.Millisecond)},
			err: tenant.ErrInvalid, sameAsMade: true},
		{name: "built-in client", id: tenant.ConsoleClientID, change: tenant.ClientChange{AccessTokenTTL: d(15 * time.Minute)},
			err: tenant.ErrBuiltinClient},
		{name: "unknown client", id: "nope", change: tenant.ClientChange{AccessTokenTTL: d(15 * time.Minute)},
			err: tenant.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc, clk := newService(t)
			ctx := t.Context()
			if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.ConsoleClient(ctx, "acme", "https://acme.example.com/admin/callback", "https://acme.example.com/admin/signed-out"); err != nil {
				t.Fatal(err)
			}
			app := tenant.NewClient{Name: "App", RedirectURIs: []string{"https://app.example/cb"}}
			made, _, err := svc.CreateClient(ctx, "acme", app)
			if err != nil {
				t.Fatal(err)
			}
			id := cmp.Or(tc.id, made.ID)
			before, _ := svc.Client(ctx, "acme", id)
			var reloaded []string
			svc.Changed = func(_ context.Context, slug string) { reloaded = append(reloaded, slug) }
			clk.Advance(time.Minute)

			got, err := svc.UpdateClient(ctx, "acme", id, tc.change)
			stored, _ := svc.Client(ctx, "acme", id)
			audited := clientUpdates(t, svc)

			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				if tc.sameAsMade {
					app.AccessTokenTTL, app.IDTokenTTL, app.RefreshTokenTTL = orZero(tc.change.AccessTokenTTL), orZero(tc.change.IDTokenTTL), orZero(tc.change.RefreshTokenTTL)
					app.RefreshRetryGrace = orZero(tc.change.RefreshRetryGrace)
					if _, _, want := svc.CreateClient(ctx, "acme", app); want == nil || err.Error() != want.Error() {
						t.Errorf("UpdateClient says %q, CreateClient %q", err, want)
					}
				}
				if !reflect.DeepEqual(stored, before) || len(audited) != 0 || len(reloaded) != 0 {
					t.Errorf("a refused change left a trace: stored %+v (was %+v), audited %v, reloaded %v", stored, before, audited, reloaded)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, stored) {
				t.Errorf("returned %+v, stored %+v", got, stored)
			}
			if stored.AccessTokenTTL != tc.access || stored.IDTokenTTL != tc.idToken || stored.RefreshTokenTTL != tc.refresh || stored.RefreshRetryGrace != tc.grace {
				t.Errorf("lifetimes %v, %v, %v, grace %v; want %v, %v, %v, grace %v", stored.AccessTokenTTL, stored.IDTokenTTL,
					stored.RefreshTokenTTL, stored.RefreshRetryGrace, tc.access, tc.idToken, tc.refresh, tc.grace)
			}
			if tc.fields == "" {
				if !reflect.DeepEqual(stored, before) || len(audited) != 0 || len(reloaded) != 0 {
					t.Errorf("a change of nothing left a trace: stored %+v (was %+v), audited %v, reloaded %v", stored, before, audited, reloaded)
				}
				return
			}
			if !stored.UpdatedAt.Equal(clk.Now()) {
				t.Errorf("updated at %v, want %v", stored.UpdatedAt, clk.Now())
			}
			if !slices.Equal(audited, []string{tc.fields}) {
				t.Errorf("audited changes %q, want [%q]", audited, tc.fields)
			}
			if !slices.Equal(reloaded, []string{"acme"}) {
				t.Errorf("Changed called with %v, want [acme]", reloaded)
			}
		})
	}
}

// clientUpdates lists the fields of each client.update event of acme.
func clientUpdates(t *testing.T, svc *tenant.Service) []string {
	t.Helper()
	page, err := svc.AuditLog(t.Context(), "acme", tenant.AuditQuery{Action: string(tenant.AuditClientUpdate)})
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, ev := range page.Events {
		fields = append(fields, ev.Details["fields"])
	}
	return fields
}

// orZero is a lifetime of a change as NewClient takes it.
func orZero(d *time.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return *d
}

// A change with IfUnchanged (an edit form's: "the record still shows what
// the form showed") is made only while the test holds for the record as
// stored, in the change's own transaction; otherwise it is refused with
// ErrStale, saves nothing, and leaves the newer change in place. For a
// client, a user and a tenant alike.
func TestChangesIfUnchanged(t *testing.T) {
	svc, _ := newService(t)
	ctx := t.Context()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	made, _, err := svc.CreateClient(ctx, "acme", tenant.NewClient{Name: "App", RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	ann, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	tests := []struct {
		name string
		// change makes a change named to, made only if the record is
		// still named from; stored is the record's name now.
		change func(from, to string) error
		stored func() string
		first  string
	}{
		{"client", func(from, to string) error {
			_, err := svc.UpdateClient(ctx, "acme", made.ID, tenant.ClientChange{Name: str(to),
				IfUnchanged: func(c tenant.Client) bool { return c.Name == from }})
			return err
		}, func() string { c, _ := svc.Client(ctx, "acme", made.ID); return c.Name }, "App"},
		{"user", func(from, to string) error {
			_, err := svc.UpdateUser(ctx, "acme", ann.Sub, tenant.UserChange{Attributes: map[string]*string{"nickname": str(to)},
				IfUnchanged: func(u tenant.User) bool { return u.Attributes["nickname"] == from }})
			return err
		}, func() string { u, _ := svc.User(ctx, "acme", ann.Sub); return u.Attributes["nickname"] }, ""},
		{"tenant", func(from, to string) error {
			_, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Name: str(to),
				IfUnchanged: func(t tenant.Tenant) bool { return t.Name == from }})
			return err
		}, func() string { t, _ := svc.Tenant(ctx, "acme"); return t.Name }, "Acme"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Two forms shown the same record: the first save is made...
			if err := tc.change(tc.first, "Second"); err != nil {
				t.Fatalf("a change from the record as stored: %v", err)
			}
			// ...and the second, from the same record, is stale.
			err := tc.change(tc.first, "Third")
			if !errors.Is(err, tenant.ErrStale) || !errors.Is(err, tenant.ErrConflict) {
				t.Fatalf("a change from the record as it was before another change: %v, want ErrStale", err)
			}
			if got := tc.stored(); got != "Second" {
				t.Errorf("after the stale change the record is %q, want the newer change kept", got)
			}
		})
	}
}
