package tenant_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

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
