package auth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
// complete, and from then on the password here decides, by the sign-in's
// rule: a hash here that this server cannot read is a wrong password, as
// at any sign-in (TestUnreadableHashIsAWrongPassword).
func TestMigrateRace(t *testing.T) {
	for _, tc := range []struct {
		name, theirs string
		hash         string // stored over theirs' hash, when set
		want         error
	}{
		{"same password", "Legacy-Pass-1!", "", nil},
		{"password changed meanwhile", "Other-Pass-2!", "", auth.ErrNotAuthorized},
		{"unreadable hash here", "Legacy-Pass-1!", "{SSHA}c29tZXRoaW5n", auth.ErrNotAuthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			pool := &legacyPool{password: "Legacy-Pass-1!", acct: tenant.LegacyAccount{Username: "mo", Sub: "sub-mo", Status: tenant.StatusConfirmed}}
			pool.meanwhile = func() {
				pool.meanwhile = nil
				mo := e.user(t, tenant.NewUser{Username: "mo", Sub: "sub-mo", Password: tc.theirs})
				if tc.hash != "" {
					mo.PasswordHash = tc.hash
					if err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error { return tenant.UpdateUser(tx, "acme", mo) }); err != nil {
						t.Fatal(err)
					}
				}
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

// A legacy pool that accepts the password but describes an account that
// cannot come over (its sub is another user's here, or no user could have
// it) makes signing in temporarily unavailable, as a pool that does not
// answer: nothing is written or counted, and the log has one line for the
// operator, who must put it right.
func TestMigrateUnusableAnswer(t *testing.T) {
	tests := []struct {
		name      string
		acct      tenant.LegacyAccount
		wantLevel string
	}{
		{"sub of another user here", tenant.LegacyAccount{Username: "temp", Sub: "sub-conf", Status: tenant.StatusConfirmed}, "ERROR"},
		{"username of another user, who cannot be completed", tenant.LegacyAccount{Username: "conf", Status: tenant.StatusConfirmed}, "ERROR"},
		// A directory that let such a sub through (tenant/legacy refuses
		// it already): PutLegacyUser holds the rule too.
		{"sub .. ", tenant.LegacyAccount{Username: "temp", Sub: "..", Status: tenant.StatusConfirmed}, "WARN"},
		{"sub with a slash", tenant.LegacyAccount{Username: "temp", Sub: "a/b", Status: tenant.StatusConfirmed}, "WARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			var log bytes.Buffer
			e.m.Logger = slog.New(slog.NewTextHandler(&log, nil))
			e.user(t, tenant.NewUser{Username: "conf", Sub: "sub-conf"}) // not activated
			withLegacy(t, e, &legacyPool{password: "Legacy-Pass-1!", acct: tt.acct})
			for range 6 { // beyond the lockout: nothing is counted
				log.Reset()
				_, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "temp", Password: "Legacy-Pass-1!", ClientIP: "192.0.2.5"})
				if !errors.Is(err, auth.ErrTemporarilyUnavailable) {
					t.Fatalf("%v, want ErrTemporarilyUnavailable", err)
				}
				lines := strings.Split(strings.TrimSpace(log.String()), "\n")
				if len(lines) != 1 || !strings.Contains(lines[0], "level="+tt.wantLevel) || strings.Contains(lines[0], "Legacy-Pass-1!") {
					t.Fatalf("log, want one %s line without the password:\n%s", tt.wantLevel, log.String())
				}
			}
			page, err := e.svc.ListUsers(ctx, "acme", "", 10)
			if err != nil || len(page.Users) != 1 || page.Users[0].Sub != "sub-conf" || page.Users[0].Status != tenant.StatusUnconfirmed {
				t.Errorf("users after the refusals: %+v, %v", page.Users, err)
			}
		})
	}
}
