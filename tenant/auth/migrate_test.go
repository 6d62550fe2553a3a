package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// legacyPool stands in for a tenant's legacy pool (tenant/legacy's tests
// run the real ones): it accepts one password, and before answering runs
// meanwhile, as another request would.
type legacyPool struct {
	password  string
	acct      tenant.LegacyAccount
	err       error
	meanwhile func()
	calls     int
}

func (l *legacyPool) Authenticate(_ context.Context, _ string, _ tenant.LegacyPool, _, pw string) (tenant.LegacyAccount, error) {
	l.calls++
	if l.meanwhile != nil {
		l.meanwhile()
	}
	if l.err != nil {
		return tenant.LegacyAccount{}, l.err
	}
	if pw != l.password {
		return tenant.LegacyAccount{}, fmt.Errorf("%w: wrong password", tenant.ErrLegacyRefused)
	}
	return l.acct, nil
}

func (l *legacyPool) Lookup(context.Context, string, tenant.LegacyPool, string) (tenant.LegacyAccount, error) {
	return tenant.LegacyAccount{}, tenant.ErrLegacyRefused
}

func withLegacy(t *testing.T, e env, pool *legacyPool) {
	t.Helper()
	e.m.Legacy = pool
	_, err := e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Legacy: &tenant.LegacyPoolChange{
		Pool: tenant.LegacyPool{Kind: tenant.LegacyWebhook, WebhookURL: "https://legacy.example.com/", WebhookSecret: "0123456789abcdef0123456789"}}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrateOnFirstSignIn(t *testing.T) {
	e := newEnv(t)
	pool := &legacyPool{password: "Legacy-Pass-1!", acct: tenant.LegacyAccount{Username: "lou", Sub: "sub-lou", Status: tenant.StatusConfirmed}}
	withLegacy(t, e, pool)

	if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "lou", Password: ""}); !errors.Is(err, auth.ErrNotAuthorized) || pool.calls != 0 {
		t.Errorf("empty password: %v, %d calls", err, pool.calls)
	}
	res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "lou", Password: "Legacy-Pass-1!"})
	if err != nil || !res.Done() || res.Sub != "sub-lou" {
		t.Fatalf("first sign-in: %+v, %v", res, err)
	}
	if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "lou", Password: "Legacy-Pass-1!"}); err != nil || pool.calls != 1 {
		t.Errorf("second sign-in: %v, %d calls", err, pool.calls)
	}

	// Without a directory the setting does nothing.
	e.m.Legacy = nil
	if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "nobody", Password: "x"}); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Errorf("no directory: %v", err)
	}
}

// Two sign-ins of one new user at once: the second to write finds the user
// complete, and from then on the password here decides.
func TestMigrateRace(t *testing.T) {
	for _, tc := range []struct {
		name, theirs string
		want         error
	}{
		{"same password", "Legacy-Pass-1!", nil},
		{"password changed meanwhile", "Other-Pass-2!", auth.ErrNotAuthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			pool := &legacyPool{password: "Legacy-Pass-1!", acct: tenant.LegacyAccount{Username: "mo", Sub: "sub-mo", Status: tenant.StatusConfirmed}}
			pool.meanwhile = func() {
				pool.meanwhile = nil
				e.user(t, tenant.NewUser{Username: "mo", Sub: "sub-mo", Password: tc.theirs})
			}
			withLegacy(t, e, pool)
			res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "mo", Password: "Legacy-Pass-1!"})
			if !errors.Is(err, tc.want) || (tc.want == nil && res.Sub != "sub-mo") {
				t.Errorf("%+v, %v; want %v", res, err, tc.want)
			}
		})
	}
}

func TestMigrateUnavailable(t *testing.T) {
	e := newEnv(t)
	pool := &legacyPool{err: fmt.Errorf("%w: connection refused", tenant.ErrLegacyUnavailable)}
	withLegacy(t, e, pool)
	for range 8 { // beyond the lockout: nothing is counted
		if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ned", Password: "Legacy-Pass-1!"}); !errors.Is(err, auth.ErrTemporarilyUnavailable) {
			t.Fatalf("%v, want ErrTemporarilyUnavailable", err)
		}
	}
	// A cancelled request is the caller's error, not the pool's.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	pool.err = context.Canceled
	if _, err := e.m.Start(cancelled, "acme", auth.Credentials{Login: "ned", Password: "x"}); errors.Is(err, auth.ErrTemporarilyUnavailable) || err == nil {
		t.Errorf("cancelled: %v", err)
	}
}
