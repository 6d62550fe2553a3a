package provider

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cognate-idp/cognate/tenant"
)

// The refresh grant and introspection answer by one rule
// (refreshStandingOf): for each standing a refresh token can have, the
// grant takes it exactly when introspection calls it active, and each
// refusal says what it says.
func TestRefreshGrantAndIntrospectionAgree(t *testing.T) {
	const revokedOrExpired = "refresh token is revoked or expired"
	cases := []struct {
		name string
		// make brings a fresh token of ann's, issued to the client, into
		// the case's state, and returns the token to present.
		make        func(t *testing.T, env *standingEnv, token string) string
		want        refreshStanding
		refusal     string // the grant's error_description; "" when it takes the token
		notARefresh bool   // introspection leaves the token to the library
	}{
		{"fresh", func(_ *testing.T, _ *standingEnv, token string) string { return token }, refreshUsable, "", false},
		{"used, within the retry grace period", func(t *testing.T, env *standingEnv, token string) string {
			grace := time.Minute
			if _, err := env.svc.UpdateClient(env.ctx, "acme", env.client.ID, tenant.ClientChange{RefreshRetryGrace: &grace}); err != nil {
				t.Fatal(err)
			}
			env.rotate(t, token)
			env.clock.Add(int64(30 * time.Second))
			return token
		}, refreshUsable, "", false},
		{"unknown", func(_ *testing.T, _ *standingEnv, _ string) string { return "no-such-token" },
			refreshUnknown, "refresh token is invalid", true},
		{"used, with no retry grace period", func(t *testing.T, env *standingEnv, token string) string {
			env.rotate(t, token)
			return token
		}, refreshReused, "refresh token already used; the session is revoked", false},
		{"used, after the retry grace period", func(t *testing.T, env *standingEnv, token string) string {
			grace := time.Minute
			if _, err := env.svc.UpdateClient(env.ctx, "acme", env.client.ID, tenant.ClientChange{RefreshRetryGrace: &grace}); err != nil {
				t.Fatal(err)
			}
			env.rotate(t, token)
			env.clock.Add(int64(61 * time.Second))
			return token
		}, refreshReused, "refresh token already used; the session is revoked", false},
		{"family revoked", func(t *testing.T, env *standingEnv, token string) string {
			if err := env.svc.Store.Update(env.ctx, func(tx tenant.Tx) error { return revokeFamily(tx, "acme", "fam", env.now()) }); err != nil {
				t.Fatal(err)
			}
			return token
		}, refreshRevokedOrExpired, revokedOrExpired, false},
		{"expired", func(_ *testing.T, env *standingEnv, token string) string {
			env.clock.Add(int64(env.client.RefreshTokenTTL))
			return token
		}, refreshRevokedOrExpired, revokedOrExpired, false},
		{"user disabled", func(t *testing.T, env *standingEnv, token string) string {
			disabled := false
			if _, err := env.svc.UpdateUser(env.ctx, "acme", env.user.Sub, tenant.UserChange{Enabled: &disabled}); err != nil {
				t.Fatal(err)
			}
			return token
		}, refreshUserDisabled, revokedOrExpired, false},
		{"user deleted", func(t *testing.T, env *standingEnv, token string) string {
			if err := env.svc.DeleteUser(env.ctx, "acme", env.user.Sub); err != nil {
				t.Fatal(err)
			}
			return token
		}, refreshUserDisabled, revokedOrExpired, false},
		{"client deleted", func(t *testing.T, env *standingEnv, token string) string {
			if err := env.svc.DeleteClient(env.ctx, "acme", env.client.ID); err != nil {
				t.Fatal(err)
			}
			return token
		}, refreshNoClient, revokedOrExpired, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newStandingEnv(t)
			token := tc.make(t, env, env.issue(t))
			st, err := env.p.cache.get(env.ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}

			var standing refreshStanding
			err = env.svc.Store.View(env.ctx, func(tx tenant.Tx) (err error) {
				_, _, standing, err = refreshStandingOf(tx, st, token, env.now())
				return err
			})
			if err != nil || standing != tc.want {
				t.Fatalf("standing %v (err %v), want %v", standing, err, tc.want)
			}

			// Introspection first: the grant revokes a reused token's family.
			resp, isRefresh, err := env.p.storage.introspectRefreshToken(env.ctx, st, "https://issuer", token, env.client.ID)
			if err != nil {
				t.Fatal(err)
			}
			if isRefresh == tc.notARefresh {
				t.Fatalf("introspection took it for a refresh token: %v, want %v", isRefresh, !tc.notARefresh)
			}
			active := isRefresh && resp.Active

			_, err = env.p.storage.TokenRequestByRefreshToken(env.ctx, token)
			var refusal *oidc.Error
			switch {
			case err == nil && tc.refusal != "":
				t.Errorf("the grant took it, want %q", tc.refusal)
			case err != nil && (!errors.As(err, &refusal) || refusal.ErrorType != oidc.InvalidGrant || refusal.Description != tc.refusal):
				t.Errorf("the grant answered %v, want invalid_grant %q", err, tc.refusal)
			}
			if granted := err == nil; granted != active {
				t.Errorf("the grant took it: %v; introspection called it active: %v", granted, active)
			}
		})
	}
}

// standingEnv is a provider on a clock that a test moves, with user ann
// and a public client of acme's that may refresh.
type standingEnv struct {
	p      *Provider
	svc    *tenant.Service
	client tenant.Client
	user   tenant.User
	ctx    context.Context
	clock  *atomic.Int64 // how far the clock has moved from start
	start  time.Time
}

func newStandingEnv(t *testing.T) *standingEnv {
	env := &standingEnv{ctx: WithSite(context.Background(), Site{Slug: "acme"}), clock: new(atomic.Int64),
		start: time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)}
	env.p, env.svc, env.client = newInternalAt(t, nil, env.now)
	var err error
	if env.user, err = env.svc.CreateUser(env.ctx, "acme", tenant.NewUser{Username: "ann", Password: "Correct-Horse-9"}); err != nil {
		t.Fatal(err)
	}
	return env
}

func (env *standingEnv) now() time.Time { return env.start.Add(time.Duration(env.clock.Load())) }

// issue returns a refresh token of family fam, as a code exchange gives it.
func (env *standingEnv) issue(t *testing.T) string {
	t.Helper()
	ar := &authRequest{ID: "req", ClientID: env.client.ID, Subject: env.user.Sub, IsDone: true, FamilyID: "fam",
		ExpiresAt: env.now().Add(time.Minute)}
	_, rt, _, err := env.p.storage.CreateAccessAndRefreshTokens(env.ctx, ar, "")
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// rotate uses token once, as a refresh does.
func (env *standingEnv) rotate(t *testing.T, token string) {
	t.Helper()
	req, err := env.p.storage.TokenRequestByRefreshToken(env.ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := env.p.storage.CreateAccessAndRefreshTokens(env.ctx, req, token); err != nil {
		t.Fatal(err)
	}
}

// The revocation of a family that has no record yet (a code replayed
// before its first exchange wrote the tokens) is kept for a day by the
// provider's clock, not the wall clock's, as every other expiry is.
func TestRevokedFamilyExpiresByTheProvidersClock(t *testing.T) {
	env := newStandingEnv(t)
	st, err := env.p.cache.get(env.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	ar := &authRequest{ID: "req", ClientID: env.client.ID, Subject: env.user.Sub, IsDone: true, FamilyID: "fam",
		ExpiresAt: env.now().Add(time.Minute)}
	if err := env.p.storage.pending.addRequest(st.key(), ar, env.now()); err != nil {
		t.Fatal(err)
	}
	if err := env.p.storage.SaveAuthCode(env.ctx, "req", "the-code"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second is the replay
		_, _ = env.p.storage.AuthRequestByCode(env.ctx, "the-code")
	}
	var fam family
	err = env.svc.Store.View(env.ctx, func(tx tenant.Tx) (err error) {
		fam, err = tenant.GetJSON[family](tx, tenant.CollRefreshTokens, "acme", prefixFamily+"fam")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := env.now().Add(24 * time.Hour); !fam.Revoked || !fam.ExpiresAt.Equal(want) {
		t.Errorf("the family's record: revoked %v, expires %v; want revoked, expiring %v", fam.Revoked, fam.ExpiresAt, want)
	}
}

// The refresh grant reads the token, its family and its user in one
// transaction, so it judges them as they stood together.
func TestRefreshGrantReadsInOneTransaction(t *testing.T) {
	var store *txCountingStore
	p, svc, cl := newInternal(t, func(s tenant.Store) tenant.Store { store = &txCountingStore{Store: s}; return store })
	ctx, ar := annSignedIn(t, svc, cl)
	_, rt, _, err := p.storage.CreateAccessAndRefreshTokens(ctx, ar, "") // loads acme into the cache too
	if err != nil {
		t.Fatal(err)
	}
	before := store.views.Load()
	if _, err := p.storage.TokenRequestByRefreshToken(ctx, rt); err != nil {
		t.Fatal(err)
	}
	if n := store.views.Load() - before; n != 1 {
		t.Errorf("the grant read in %d transactions, want 1", n)
	}
}

// A read refreshStandingOf cannot make is an error that says which read
// failed, for the one log line of the grant or the introspection
// (oauthError), and wraps the store's error.
func TestRefreshStandingSaysWhichReadFailed(t *testing.T) {
	errDisk := errors.New("input/output error")
	cases := []struct {
		name string
		fail func(c tenant.Collection, key string) bool
		says string
	}{
		{"the token", func(c tenant.Collection, key string) bool {
			return c == tenant.CollRefreshTokens && !strings.HasPrefix(key, prefixFamily)
		}, "read the refresh token: "},
		{"its family", func(c tenant.Collection, key string) bool {
			return c == tenant.CollRefreshTokens && strings.HasPrefix(key, prefixFamily)
		}, "read the refresh token's family: "},
		{"its user", func(c tenant.Collection, _ string) bool { return c == tenant.CollUsers }, "read the refresh token's user: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newStandingEnv(t)
			token := env.issue(t)
			st, err := env.p.cache.get(env.ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			err = env.svc.Store.View(env.ctx, func(tx tenant.Tx) error {
				_, _, _, err := refreshStandingOf(readFailingTx{tx, tc.fail, errDisk}, st, token, env.now())
				return err
			})
			if !errors.Is(err, errDisk) || !strings.HasPrefix(err.Error(), tc.says) {
				t.Errorf("error %v, want %q wrapping the store's", err, tc.says+errDisk.Error())
			}
		})
	}
}

// readFailingTx is a transaction whose reads fail with err where fail says.
type readFailingTx struct {
	tenant.Tx
	fail func(c tenant.Collection, key string) bool
	err  error
}

func (tx readFailingTx) Get(c tenant.Collection, tenantID, key string) ([]byte, error) {
	if tx.fail(c, key) {
		return nil, tx.err
	}
	return tx.Tx.Get(c, tenantID, key)
}

// A refresh token's lookup, which the request's context carries to the
// library, names its client and standing in a log line, never the token or
// what its user keeps secret.
func TestRefreshLookupLogValue(t *testing.T) {
	var line strings.Builder
	l := &refreshLookup{token: "the-refresh-token", rt: refreshToken{ClientID: "app"}, standing: refreshReused,
		user: tenant.User{Username: "ann", PasswordHash: "the-password-hash"}}
	slog.New(slog.NewTextHandler(&line, nil)).Info("lookup", "refresh", l)
	for _, secret := range []string{"the-refresh-token", "the-password-hash"} {
		if strings.Contains(line.String(), secret) {
			t.Errorf("the line names %s: %s", secret, line.String())
		}
	}
	if !strings.Contains(line.String(), "refresh.client_id=app refresh.standing=reused") {
		t.Errorf("the line does not name the client and the standing: %s", line.String())
	}
}
