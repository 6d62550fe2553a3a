package auth_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

type env struct {
	svc *tenant.Service
	m   *auth.Machine
	clk *clock
}

func newEnv(t *testing.T) env {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	hasher, err := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	e := env{
		svc: &tenant.Service{Store: store, Hasher: hasher, Now: c.Now},
		m:   &auth.Machine{Store: store, Hasher: hasher, Now: c.Now, Pause: noPause},
		clk: c,
	}
	if _, err := e.svc.CreateTenant(context.Background(), tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e env) user(t *testing.T, in tenant.NewUser) tenant.User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), "acme", in)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var ctx = context.Background()

func TestPasswordSignIn(t *testing.T) {
	e := newEnv(t)
	ann := e.user(t, tenant.NewUser{Username: "ann", Email: "ann@example.com", Password: "Correct-Horse-9"})
	e.user(t, tenant.NewUser{Username: "dora"}) // not activated

	res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "Correct-Horse-9"})
	if err != nil || !res.Done() || res.Sub != ann.Sub || len(res.AMR) != 1 || res.AMR[0] != "pwd" || !res.AuthTime.Equal(e.clk.t) {
		t.Fatalf("good password: %+v, %v", res, err)
	}
	res, err = e.m.Start(ctx, "acme", auth.Credentials{Login: "ANN@EXAMPLE.COM", Password: "Correct-Horse-9"})
	if err != nil || !res.Done() {
		t.Fatalf("sign-in by email: %+v, %v", res, err)
	}

	// Every way of failing reads the same.
	for name, cr := range map[string]auth.Credentials{
		"wrong password":  {Login: "ann", Password: "nope"},
		"unknown user":    {Login: "zed", Password: "Correct-Horse-9"},
		"not activated":   {Login: "dora", Password: ""},
		"empty":           {},
		"other tenant id": {Login: "ann@example.org", Password: "Correct-Horse-9"},
	} {
		if _, err := e.m.Start(ctx, "acme", cr); !errors.Is(err, auth.ErrNotAuthorized) {
			t.Errorf("%s: %v, want ErrNotAuthorized", name, err)
		}
	}

	// A disabled user cannot sign in, even with the right password.
	u, _ := e.svc.User(ctx, "acme", ann.Sub)
	u.Enabled = false
	e.svc.Store.Update(ctx, func(tx tenant.Tx) error { return tenant.UpdateUser(tx, "acme", u) })
	if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "Correct-Horse-9"}); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Errorf("disabled user: %v", err)
	}
}

func TestForcedPasswordChange(t *testing.T) {
	e := newEnv(t)
	e.user(t, tenant.NewUser{Username: "bob", Password: "Temp-Passw0rd!", Temporary: true})

	res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "bob", Password: "Temp-Passw0rd!"})
	if err != nil || res.Challenge != auth.NewPasswordRequired || res.Session == "" {
		t.Fatalf("temporary password: %+v, %v", res, err)
	}
	answer := func(pw string) (auth.Result, error) {
		return e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: pw})
	}
	var pe *password.PolicyError
	if _, err := answer("weak"); !errors.As(err, &pe) || len(pe.Rules) < 2 {
		t.Errorf("weak new password: %v, want a policy error listing the rules", err)
	}
	if _, err := answer("Temp-Passw0rd!"); !errors.Is(err, auth.ErrPasswordUnchanged) {
		t.Errorf("same as temporary: %v", err)
	}
	if _, err := e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA}); !errors.Is(err, auth.ErrWrongChallenge) {
		t.Errorf("answer to another challenge: %v", err)
	}
	done, err := answer("Brand-New-Pass1")
	if err != nil || !done.Done() {
		t.Fatalf("good new password: %+v, %v", done, err)
	}
	// A double submit of the same form finds the flow gone.
	if _, err := answer("Brand-New-Pass1"); !errors.Is(err, auth.ErrSessionExpired) {
		t.Errorf("second submit: %v, want ErrSessionExpired", err)
	}
	// The temporary password works once.
	if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "bob", Password: "Temp-Passw0rd!"}); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Errorf("temporary password after the change: %v", err)
	}
	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "bob", Password: "Brand-New-Pass1"}); err != nil || !res.Done() {
		t.Errorf("new password: %+v, %v", res, err)
	}
}

func TestTemporaryPasswordExpires(t *testing.T) {
	e := newEnv(t)
	e.user(t, tenant.NewUser{Username: "bob", Password: "Temp-Passw0rd!", Temporary: true})
	e.clk.t = e.clk.t.Add(7*24*time.Hour + time.Second)
	if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "bob", Password: "Temp-Passw0rd!"}); !errors.Is(err, auth.ErrTempPasswordExpired) {
		t.Fatalf("expired temporary password: %v", err)
	}
	// A wrong password still reads as wrong, not as expired.
	if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "bob", Password: "x"}); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Fatalf("wrong password after expiry: %v", err)
	}
}

func TestChallengeSessionExpires(t *testing.T) {
	e := newEnv(t)
	e.user(t, tenant.NewUser{Username: "bob", Password: "Temp-Passw0rd!", Temporary: true})
	res, _ := e.m.Start(ctx, "acme", auth.Credentials{Login: "bob", Password: "Temp-Passw0rd!"})
	e.clk.t = e.clk.t.Add(11 * time.Minute)
	if _, err := e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: "Brand-New-Pass1"}); !errors.Is(err, auth.ErrSessionExpired) {
		t.Fatalf("late answer: %v", err)
	}
	if _, err := e.m.Respond(ctx, "acme", "made-up", auth.Answer{Challenge: auth.NewPasswordRequired}); !errors.Is(err, auth.ErrSessionExpired) {
		t.Fatalf("unknown session: %v", err)
	}
}

// TestLockout measures the brute-force limit: N failures lock the name for
// the policy's duration, identically for existing and unknown names.
func TestLockout(t *testing.T) {
	e := newEnv(t)
	e.user(t, tenant.NewUser{Username: "ann", Password: "Correct-Horse-9"})
	const limit = 5 // tenant default
	for _, login := range []string{"ann", "ghost"} {
		for i := range limit {
			if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: "wrong", ClientIP: "192.0.2.1"}); !errors.Is(err, auth.ErrNotAuthorized) {
				t.Fatalf("%s attempt %d: %v", login, i+1, err)
			}
		}
		if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: "Correct-Horse-9", ClientIP: "192.0.2.2"}); !errors.Is(err, auth.ErrLocked) {
			t.Fatalf("%s after %d failures: %v, want ErrLocked even with the right password", login, limit, err)
		}
	}
	e.clk.t = e.clk.t.Add(15*time.Minute + time.Second)
	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "Correct-Horse-9", ClientIP: "192.0.2.2"}); err != nil || !res.Done() {
		t.Fatalf("after the lock expired: %+v, %v", res, err)
	}
	// An administrator can release a lock at once.
	for range limit {
		e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "wrong", ClientIP: "192.0.2.3"})
	}
	e.svc.Store.Update(ctx, func(tx tenant.Tx) error { return auth.Unlock(tx, "acme", "ANN") })
	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "Correct-Horse-9", ClientIP: "192.0.2.4"}); err != nil || !res.Done() {
		t.Fatalf("after unlock: %+v, %v", res, err)
	}
}

// Guesses sent at once are held to the limit as well: each password check
// under way counts against the name until it is recorded, so they cannot
// all pass the lock check before the first failure is written.
func TestLockoutHoldsForGuessesSentAtOnce(t *testing.T) {
	e := newEnv(t)
	e.user(t, tenant.NewUser{Username: "ann", Password: "Correct-Horse-9"})
	bea := e.user(t, tenant.NewUser{Username: "bea", Password: "Correct-Horse-9"})
	const limit, guesses = 5, 40
	// A different address each, so only the name's count stops them.
	address := func(i int) string { return fmt.Sprintf("192.0.2.%d", i+1) }
	signIn := func(login string) func(i int) error {
		return func(i int) error {
			_, err := e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: "wrong", ClientIP: address(i)})
			return err
		}
	}
	tests := []struct {
		name  string
		login string // the name whose count the guesses use up
		guess func(i int) error
	}{
		{"sign-in of a user", "ann", signIn("ann")},
		{"sign-in of no one", "ghost", signIn("ghost")},
		// The account page asks for the current password to change it.
		{"password change", "bea", func(i int) error {
			return e.m.ChangePassword(ctx, "acme", bea.Sub, "wrong", "New-Horse-10", address(i))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := make(chan error, guesses)
			start := make(chan struct{})
			for i := range guesses {
				go func() {
					<-start
					results <- tt.guess(i)
				}()
			}
			close(start)
			checked := 0
			for range guesses {
				switch err := <-results; {
				case errors.Is(err, auth.ErrNotAuthorized):
					checked++
				case !errors.Is(err, auth.ErrLocked):
					t.Fatal(err)
				}
			}
			if checked != limit {
				t.Errorf("%d of %d guesses sent at once were checked, want %d", checked, guesses, limit)
			}
			if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: tt.login, Password: "Correct-Horse-9", ClientIP: "198.51.100.2"}); !errors.Is(err, auth.ErrLocked) {
				t.Errorf("%s after the burst: %v, want ErrLocked", tt.login, err)
			}
		})
	}
}

// Sign-ins of one account at once (a shared account on many desks, a load
// test) are not guesses: they wait their turn at the name's count of checks
// under way, and all of them go through.
func TestSignInsOfOneNameAtOnce(t *testing.T) {
	e := newEnv(t)
	e.user(t, tenant.NewUser{Username: "desk", Password: "Correct-Horse-9"})
	const signIns = 40
	results := make(chan error, signIns)
	start := make(chan struct{})
	for range signIns {
		go func() {
			<-start
			_, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "desk", Password: "Correct-Horse-9", ClientIP: "192.0.2.1"})
			results <- err
		}()
	}
	close(start)
	for range signIns {
		if err := <-results; err != nil {
			t.Errorf("one of %d sign-ins at once: %v", signIns, err)
		}
	}
}

func TestLockoutPerAddress(t *testing.T) {
	for _, tc := range []struct {
		name    string
		address func(i int) string // the address of the i-th attempt
		other   string             // an address of another client
	}{
		{"one IPv4 address", func(int) string { return "198.51.100.7" }, "198.51.100.8"},
		{"one IPv6 address", func(int) string { return "2001:db8:1::1" }, "2001:db8:2::1"},
		// An IPv6 client has its whole /64 and may take a new address for
		// every attempt: it counts as one.
		{"the addresses of one IPv6 /64", func(i int) string { return fmt.Sprintf("2001:db8:1::%x", i+1) }, "2001:db8:1:1::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.user(t, tenant.NewUser{Username: "ann", Password: "Correct-Horse-9"})
			// One client trying many names is stopped after 4× the per-name limit.
			for i := range 20 {
				e.m.Start(ctx, "acme", auth.Credentials{Login: "name" + string(rune('a'+i)), Password: "x", ClientIP: tc.address(i)})
			}
			if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "Correct-Horse-9", ClientIP: tc.address(20)}); !errors.Is(err, auth.ErrLocked) {
				t.Fatalf("spraying client: %v, want ErrLocked", err)
			}
			if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "Correct-Horse-9", ClientIP: tc.other}); err != nil || !res.Done() {
				t.Fatalf("another client: %+v, %v", res, err)
			}
		})
	}
}

func TestImportedBcryptIsRehashed(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, tenant.NewUser{Username: "old"})
	hash, _ := bcrypt.GenerateFromPassword([]byte("Legacy-Pass1"), 10)
	u.PasswordHash, u.Status = string(hash), tenant.StatusConfirmed
	e.svc.Store.Update(ctx, func(tx tenant.Tx) error { return tenant.UpdateUser(tx, "acme", u) })

	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "old", Password: "Legacy-Pass1"}); err != nil || !res.Done() {
		t.Fatalf("bcrypt sign-in: %+v, %v", res, err)
	}
	// The new hash is one of the sign-in's records, queued for the next
	// commit (Store.Later).
	if err := e.svc.Store.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := e.svc.User(ctx, "acme", u.Sub)
	if !strings.HasPrefix(after.PasswordHash, "$argon2id$") {
		t.Fatalf("hash after sign-in = %.10s…, want argon2id", after.PasswordHash)
	}
	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "old", Password: "Legacy-Pass1"}); err != nil || !res.Done() {
		t.Fatalf("sign-in with the rehashed password: %+v, %v", res, err)
	}
}

// An EXTERNAL_PROVIDER user signs in through another identity provider and
// has no password, as in Cognito, even when imported with a hash: a
// password sign-in is refused as any other, after the time an unknown name
// takes rather than that of the imported hash, whether the password is the
// hash's or not. An administrator's password confirms the user, and then it
// counts (Cognito's AdminSetUserPassword).
func TestExternalProviderUserHasNoPassword(t *testing.T) {
	e := newEnv(t)
	e.m.Audit = tenant.RecordAudit
	u := e.user(t, tenant.NewUser{Username: "Facebook_99", Email: "fb@example.com", EmailVerified: true})
	// bcrypt at cost 12 takes far longer than the tests' argon2id, so the
	// time of a sign-in tells which was computed.
	hash, _ := bcrypt.GenerateFromPassword([]byte("Legacy-Pass1"), 12)
	u.PasswordHash, u.Status = string(hash), tenant.StatusExternalProvider
	if err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error { return tenant.UpdateUser(tx, "acme", u) }); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if _, _, err := e.m.Hasher.Verify(ctx, u.PasswordHash, "Legacy-Pass1"); err != nil {
		t.Fatal(err)
	}
	hashTime := time.Since(began)

	for _, pw := range []string{"Legacy-Pass1", "wrong"} {
		began := time.Now()
		_, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "Facebook_99", Password: pw, ClientIP: "192.0.2.4"})
		took := time.Since(began)
		if !errors.Is(err, auth.ErrNotAuthorized) {
			t.Fatalf("password %q: %v, want ErrNotAuthorized", pw, err)
		}
		if took > hashTime/2 {
			t.Errorf("password %q: refused after %v; checking the imported hash takes %v: it was checked", pw, took, hashTime)
		}
	}
	page, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: "signin.failure", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range page.Events {
		if ev.Reason != tenant.ReasonWrongPassword || ev.Target.ID != u.Sub {
			t.Errorf("trail: %+v, want wrong_password for %s", ev, u.Sub)
		}
	}

	if err := e.svc.SetPassword(ctx, "acme", u.Sub, "Admin-Set-Pass1", true); err != nil {
		t.Fatal(err)
	}
	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "Facebook_99", Password: "Admin-Set-Pass1"}); err != nil || !res.Done() {
		t.Fatalf("after an administrator set a password: %+v, %v", res, err)
	}
}

// TestFailuresSlowDown: the third and later failures of a name are held
// back, growing, until the lock; unknown names alike.
func TestFailuresSlowDown(t *testing.T) {
	e := newEnv(t)
	e.user(t, tenant.NewUser{Username: "ann", Password: "Correct-Horse-9"})
	for _, login := range []string{"ann", "ghost"} {
		var pauses []time.Duration
		e.m.Pause = func(_ context.Context, d time.Duration) error { pauses = append(pauses, d); return nil }
		for range 5 {
			e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: "wrong", ClientIP: "192.0.2.9"})
		}
		want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}
		if len(pauses) != len(want) || pauses[0] != want[0] || pauses[1] != want[1] {
			t.Errorf("%s: pauses %v, want %v (failures 3 and 4; the 5th locks)", login, pauses, want)
		}
	}
}

// noPause skips the slow-down's waits in tests that count failures;
// TestFailuresSlowDown checks them.
func noPause(context.Context, time.Duration) error { return nil }

// A machine that serves browsers starts the SSO session with the sign-in
// itself: the same commit holds the user's last sign-in, the audit record
// and the session. One that does not (an API) starts none.
func TestSignInStartsSSOSession(t *testing.T) {
	e := newEnv(t)
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: "Correct-Horse-9"})
	e.m.Audit = tenant.RecordAudit

	res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "Correct-Horse-9"})
	if err != nil || !res.Done() || res.SSOSession != "" {
		t.Fatalf("without SSOSessions: %+v, %v; want done and no session", res, err)
	}

	e.m.SSOSessions = true
	res, err = e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "Correct-Horse-9"})
	if err != nil || !res.Done() || res.SSOSession == "" {
		t.Fatalf("with SSOSessions: %+v, %v; want done with a session token", res, err)
	}
	// A password sign-in's records wait for the next commit (Store.Later).
	if err := e.svc.Store.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var sess tenant.Session
	err = e.svc.Store.View(ctx, func(tx tenant.Tx) (err error) {
		sess, err = tenant.SessionByToken(tx, "acme", res.SSOSession)
		return err
	})
	if err != nil {
		t.Fatalf("session of the returned token: %v", err)
	}
	if sess.Sub != ann.Sub || len(sess.AMR) != 1 || sess.AMR[0] != "pwd" || !sess.AuthTime.Equal(e.clk.t) ||
		!sess.ExpiresAt.Equal(e.clk.t.Add(tenant.SessionTTL)) {
		t.Fatalf("session %+v; want ann's, amr [pwd], from now for %v", sess, tenant.SessionTTL)
	}
	page, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: string(tenant.AuditSignIn)})
	if err != nil || len(page.Events) != 2 {
		t.Fatalf("audit: %+v, %v; want both sign-ins", page, err)
	}

	// Ending the user's sessions (deactivation, reset) ends this one.
	err = e.svc.Store.Update(ctx, func(tx tenant.Tx) error { return tenant.EndUserSessions(tx, "acme", ann.Sub) })
	if err != nil {
		t.Fatal(err)
	}
	err = e.svc.Store.View(ctx, func(tx tenant.Tx) error {
		_, err := tenant.SessionByToken(tx, "acme", res.SSOSession)
		return err
	})
	if !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("after EndUserSessions: %v, want ErrNotFound", err)
	}
}

// A stored hash this server cannot read is a wrong password, not a fault,
// at sign-in and on the account page alike: the person is refused, and
// the failure counts.
func TestUnreadableHashIsAWrongPassword(t *testing.T) {
	for name, hash := range map[string]string{
		"malformed":      "$2a$99$not-a-bcrypt-hash",
		"unknown scheme": "{SSHA}c29tZXRoaW5n",
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			ann := e.user(t, tenant.NewUser{Username: "ann", Password: "Correct-Horse-9"})
			ann.PasswordHash = hash
			if err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error { return tenant.UpdateUser(tx, "acme", ann) }); err != nil {
				t.Fatal(err)
			}
			if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "Correct-Horse-9"}); !errors.Is(err, auth.ErrNotAuthorized) {
				t.Errorf("sign-in: %v, want ErrNotAuthorized", err)
			}
			if err := e.m.ChangePassword(ctx, "acme", ann.Sub, "Correct-Horse-9", "New-Horse-10", ""); !errors.Is(err, auth.ErrNotAuthorized) {
				t.Errorf("password change: %v, want ErrNotAuthorized", err)
			}
		})
	}
}
