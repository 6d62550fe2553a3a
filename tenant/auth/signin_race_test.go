package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/mfa/mfatest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// laterStore is the real store with one seam: the function set in
// beforeLater runs once, right before the next write is queued with Later.
// It stands for another request that commits after a sign-in's last read
// of the user and before the commit of its records, deterministically.
type laterStore struct {
	tenant.Store
	beforeLater func()
}

func (s *laterStore) Later(write func(tx tenant.Tx) error, failed func(error)) {
	if f := s.beforeLater; f != nil {
		s.beforeLater = nil
		f()
	}
	s.Store.Later(write, failed)
}

// A change to the account that commits while a password sign-in is under
// way decides it, as if it had come first: the password proven must still
// be the user's, and the user may still sign in with it, in the
// transaction that commits the sign-in. An imported legacy hash is
// rehashed on its first sign-in, so a rehash of the old password would
// otherwise bring it back over the one an administrator just set, and a
// session started after a reset or a deactivation ended the user's
// sessions would outlive it.
func TestAccountChangedDuringSignIn(t *testing.T) {
	const (
		oldPassword = "Legacy-Pass1"
		newPassword = "Brand-New-Pass2"
	)
	type change struct {
		name string
		do   func(t *testing.T, e env, sub string) error
		// wantDuring is the sign-in's outcome when the change lands while
		// the password is checked: an error, or else the challenge.
		wantDuring          error
		wantChallenge       auth.Challenge
		oldStillSignsIn     bool // the old password signs in afterwards (to its challenge)
		newPasswordSignedIn bool // the change set newPassword, which signs in afterwards
	}
	changes := []change{
		{name: "administrator sets a password", newPasswordSignedIn: true, wantDuring: auth.ErrNotAuthorized,
			do: func(t *testing.T, e env, sub string) error {
				return e.svc.SetPassword(ctx, "acme", sub, newPassword, true)
			}},
		{name: "user changes the password elsewhere", newPasswordSignedIn: true, wantDuring: auth.ErrNotAuthorized,
			do: func(t *testing.T, e env, sub string) error {
				return e.m.ChangePassword(ctx, "acme", sub, oldPassword, newPassword, "192.0.2.7")
			}},
		// A reset keeps the old hash, which leads whoever types it to the
		// page saying a reset waits, as after the reset.
		{name: "administrator resets the password", wantChallenge: auth.PasswordResetRequired, oldStillSignsIn: true,
			do: func(t *testing.T, e env, sub string) error {
				_, _, err := e.svc.AdminResetPassword(ctx, "acme", sub)
				return err
			}},
		{name: "administrator deactivates the user", wantDuring: auth.ErrNotAuthorized,
			do: func(t *testing.T, e env, sub string) error {
				off := false
				_, err := e.svc.UpdateUser(ctx, "acme", sub, tenant.UserChange{Enabled: &off})
				return err
			}},
	}
	for _, legacy := range []bool{true, false} {
		for _, c := range changes {
			for _, when := range []string{"while the password is checked", "before the sign-in commits"} {
				name := c.name + " " + when
				if legacy {
					name = "imported bcrypt hash, " + name
				}
				t.Run(name, func(t *testing.T) {
					e := newEnv(t)
					e.m.SSOSessions = true
					templates, err := mail.NewTemplates(nil) // for the reset's mail
					if err != nil {
						t.Fatal(err)
					}
					e.svc.Templates, e.svc.TenantURL = templates, func(slug string) string { return "https://" + slug + ".example.com" }
					u := e.user(t, tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: oldPassword})
					if legacy {
						hash, err := bcrypt.GenerateFromPassword([]byte(oldPassword), bcrypt.MinCost)
						if err != nil {
							t.Fatal(err)
						}
						u.PasswordHash = string(hash)
						if err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error { return tenant.UpdateUser(tx, "acme", u) }); err != nil {
							t.Fatal(err)
						}
					}
					signIn := func(pw string) (auth.Result, error) {
						return e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: pw})
					}
					changeNow := func() {
						if err := c.do(t, e, u.Sub); err != nil {
							t.Fatalf("change: %v", err)
						}
					}

					if when == "while the password is checked" {
						// Right after the sign-in has read the user: the
						// password is checked against the hash it read.
						e.m.Store = &interleavedStore{Store: e.m.Store, between: changeNow}
						res, err := signIn(oldPassword)
						switch {
						case c.wantDuring != nil && !errors.Is(err, c.wantDuring):
							t.Fatalf("sign-in: %+v, %v; want %v", res, err, c.wantDuring)
						case c.wantDuring == nil && (err != nil || res.Challenge != c.wantChallenge):
							t.Fatalf("sign-in: %+v, %v; want the challenge %s", res, err, c.wantChallenge)
						}
					} else {
						// After the sign-in's last read, before its
						// records commit: it has answered already, and its
						// code would be issued, but its session is never
						// started, which the code's exchange requires
						// (provider).
						e.m.Store = &laterStore{Store: e.m.Store, beforeLater: changeNow}
						res, err := signIn(oldPassword)
						if err != nil || !res.Done() || res.SSOSession == "" {
							t.Fatalf("sign-in: %+v, %v", res, err)
						}
						noSessionStarted(t, e, res.SSOSession)
					}
					e.m.Store = e.svc.Store

					// Afterwards, the change holds.
					res, err := signIn(oldPassword)
					switch {
					case c.oldStillSignsIn && (err != nil || res.Challenge != c.wantChallenge):
						t.Errorf("old password afterwards: %+v, %v; want the challenge %s", res, err, c.wantChallenge)
					case !c.oldStillSignsIn && !errors.Is(err, auth.ErrNotAuthorized):
						t.Errorf("old password afterwards: %+v, %v; want ErrNotAuthorized", res, err)
					}
					if c.newPasswordSignedIn {
						if res, err := signIn(newPassword); err != nil || !res.Done() {
							t.Errorf("new password afterwards: %+v, %v", res, err)
						}
					}
				})
			}
		}
	}
}

// A change to the account that commits while the person is at a second
// factor's step (up to the step's time limit), or while their answer is
// checked, decides the sign-in as if it had come first: the step ends it,
// with no session, however right the answer. The first factor's flow keeps
// what it proved, and the transaction that would finish the sign-in
// compares it with the account as it is then.
func TestAccountChangedAtSecondFactor(t *testing.T) {
	const newPassword = "Brand-New-Pass2"
	changes := []struct {
		name string
		do   func(e env, sub string) error
	}{
		{"administrator sets a password", func(e env, sub string) error {
			return e.svc.SetPassword(ctx, "acme", sub, newPassword, true)
		}},
		{"user changes the password elsewhere", func(e env, sub string) error {
			return e.m.ChangePassword(ctx, "acme", sub, annPassword, newPassword, "192.0.2.7")
		}},
		{"administrator resets the password", func(e env, sub string) error {
			_, _, err := e.svc.AdminResetPassword(ctx, "acme", sub)
			return err
		}},
		{"administrator deactivates the user", func(e env, sub string) error {
			off := false
			_, err := e.svc.UpdateUser(ctx, "acme", sub, tenant.UserChange{Enabled: &off})
			return err
		}},
		{"administrator resets the MFA", func(e env, sub string) error {
			return e.svc.ResetMFA(ctx, "acme", sub)
		}},
	}
	steps := []struct {
		name   string
		answer func(e env, secret string, codes []string) auth.Answer
	}{
		{"TOTP code", func(e env, secret string, _ []string) auth.Answer {
			return auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: totpCode(secret, e.clk.t)}
		}},
		{"recovery code", func(e env, _ string, codes []string) auth.Answer {
			return auth.Answer{Challenge: auth.SoftwareTokenMFA, RecoveryCode: codes[0]}
		}},
	}
	for _, c := range changes {
		for _, step := range steps {
			for _, when := range []string{"at the step", "while the answer is checked"} {
				t.Run(c.name+", "+step.name+", "+when, func(t *testing.T) {
					e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFARequired, Factors: []string{tenant.FactorTOTP}})
					e.m.SSOSessions = true
					templates, err := mail.NewTemplates(nil) // for the reset's mail
					if err != nil {
						t.Fatal(err)
					}
					e.svc.Templates, e.svc.TenantURL = templates, func(slug string) string { return "https://" + slug + ".example.com" }
					ann := e.user(t, tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: annPassword})
					setup := e.signIn(t, "acme", "ann")
					key, err := e.m.Choose(ctx, "acme", setup.Session, auth.SoftwareTokenMFA)
					if err != nil {
						t.Fatal(err)
					}
					secret := key.MFA.TOTP.Secret
					enrolled, err := e.answer(setup.Session, auth.Answer{Challenge: auth.MFASetup, Code: totpCode(secret, e.clk.t)})
					if err != nil || !enrolled.Done() {
						t.Fatalf("set up TOTP: %+v, %v", enrolled, err)
					}
					e.clk.t = e.clk.t.Add(30 * time.Second)

					res := e.signIn(t, "acme", "ann")
					if res.Challenge != auth.SoftwareTokenMFA {
						t.Fatalf("sign-in: %+v; want the TOTP step", res)
					}
					changeNow := func() {
						if err := c.do(e, ann.Sub); err != nil {
							t.Fatalf("change: %v", err)
						}
					}
					if when == "at the step" {
						changeNow()
					} else {
						// Right after Respond has read the flow and the
						// user: the answer is checked against what it read.
						e.m.Store = &interleavedStore{Store: e.m.Store, between: changeNow}
					}
					done, err := e.answer(res.Session, step.answer(e, secret, enrolled.RecoveryCodes))
					e.m.Store = e.svc.Store
					if !errors.Is(err, auth.ErrNotAuthorized) || done.SSOSession != "" {
						t.Fatalf("answer after the change: %+v, %v; want ErrNotAuthorized", done, err)
					}
					// The sign-in is over, not waiting for another answer.
					if _, err := e.answer(res.Session, step.answer(e, secret, enrolled.RecoveryCodes)); !errors.Is(err, auth.ErrSessionExpired) {
						t.Errorf("answer again: %v; want ErrSessionExpired", err)
					}
				})
			}
		}
	}
}

// A passkey sign-in checks the account its passkey names; a change that
// commits after that check and before the sign-in does decides it.
func TestAccountChangedDuringPasskeySignIn(t *testing.T) {
	changes := []struct {
		name string
		do   func(e env, sub string) error
	}{
		{"administrator deactivates the user", func(e env, sub string) error {
			off := false
			_, err := e.svc.UpdateUser(ctx, "acme", sub, tenant.UserChange{Enabled: &off})
			return err
		}},
		{"administrator resets the password", func(e env, sub string) error {
			_, _, err := e.svc.AdminResetPassword(ctx, "acme", sub)
			return err
		}},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional, Passwordless: true})
			e.m.SSOSessions = true
			templates, err := mail.NewTemplates(nil)
			if err != nil {
				t.Fatal(err)
			}
			e.svc.Templates, e.svc.TenantURL = templates, func(slug string) string { return "https://" + slug + ".example.com" }
			ann := e.user(t, tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: annPassword})
			passkey := mfatest.NewPasskey(t)
			e.enrolKey(t, "acme", ann.Sub, passkey)
			begin, err := e.m.BeginPasskey(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			// Right after the passkey has named the user, who may sign in.
			e.m.Store = &interleavedStore{Store: e.m.Store, between: func() {
				if err := c.do(e, ann.Sub); err != nil {
					t.Fatalf("change: %v", err)
				}
			}}
			done, err := e.m.FinishPasskey(ctx, "acme", begin.Session, passkey.Assert(begin.MFA.WebAuthnOptions, "http://acme.localhost:8080"), "192.0.2.9")
			e.m.Store = e.svc.Store
			if !errors.Is(err, auth.ErrNotAuthorized) || done.SSOSession != "" {
				t.Fatalf("passkey sign-in after the change: %+v, %v; want ErrNotAuthorized", done, err)
			}
		})
	}
}

// Two first sign-ins of an imported user, under way at once, both count:
// the one that commits first rehashes the legacy hash, which changes the
// hash but not the password, so the other's password still holds.
func TestSignInsAtOnceOfALegacyHash(t *testing.T) {
	const pw = "Legacy-Pass1"
	for _, when := range []string{"while the password is checked", "before the sign-in commits"} {
		t.Run(when, func(t *testing.T) {
			e := newEnv(t)
			e.m.SSOSessions = true
			u := e.user(t, tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: pw})
			hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			u.PasswordHash = string(hash)
			if err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error { return tenant.UpdateUser(tx, "acme", u) }); err != nil {
				t.Fatal(err)
			}
			// The other browser's sign-in, on the store without seams.
			other := &auth.Machine{Store: e.svc.Store, Hasher: e.m.Hasher, Now: e.m.Now, Pause: e.m.Pause, SSOSessions: true}
			otherSignIn := func() {
				res, err := other.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: pw})
				if err != nil || !res.Done() {
					t.Fatalf("the other sign-in: %+v, %v", res, err)
				}
				if err := e.svc.Store.Flush(ctx); err != nil { // its rehash commits
					t.Fatal(err)
				}
			}
			if when == "while the password is checked" {
				e.m.Store = &interleavedStore{Store: e.m.Store, between: otherSignIn}
			} else {
				e.m.Store = &laterStore{Store: e.m.Store, beforeLater: otherSignIn}
			}
			res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: pw})
			if err != nil || !res.Done() || res.SSOSession == "" {
				t.Fatalf("sign-in: %+v, %v; want signed in", res, err)
			}
			if err := e.svc.Store.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			var now tenant.User
			err = e.svc.Store.View(ctx, func(tx tenant.Tx) error {
				if _, err := tenant.SessionByToken(tx, "acme", res.SSOSession); err != nil {
					return err
				}
				now, err = tenant.GetUser(tx, "acme", u.Sub)
				return err
			})
			if err != nil {
				t.Fatalf("the sign-in's session: %v; want it", err)
			}
			if now.PasswordHash == string(hash) {
				t.Error("the legacy hash was not rehashed")
			}
		})
	}
}

// An administrator's reset that lands while the account page checks the
// current password decides the change, as if it had come first: the
// change is refused (to try again, which sends the person to sign in, as
// the reset ended their sessions), and the reset waits as the
// administrator left it. The reset keeps the old hash, so the password
// checked is still the current one; without looking at the status, the
// change went through and left the account RESET_REQUIRED under the new
// password, which the page said was changed but which then led only to
// the page saying a reset waits.
func TestPasswordChangeWhileAdministratorResets(t *testing.T) {
	const newPassword = "Brand-New-Pass2"
	e := newEnv(t)
	templates, err := mail.NewTemplates(nil) // for the reset's mail
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Templates, e.svc.TenantURL = templates, func(slug string) string { return "https://" + slug + ".example.com" }
	u := e.user(t, tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: annPassword})

	// Right after ChangePassword has read the user.
	e.m.Store = &interleavedStore{Store: e.m.Store, between: func() {
		if _, _, err := e.svc.AdminResetPassword(ctx, "acme", u.Sub); err != nil {
			t.Fatalf("reset: %v", err)
		}
	}}
	if err := e.m.ChangePassword(ctx, "acme", u.Sub, annPassword, newPassword, "192.0.2.7"); !errors.Is(err, tenant.ErrConflict) {
		t.Fatalf("password change during the reset: %v; want ErrConflict", err)
	}
	e.m.Store = e.svc.Store

	after, err := e.svc.User(ctx, "acme", u.Sub)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != tenant.StatusResetRequired || after.PasswordVersion != u.PasswordVersion {
		t.Errorf("afterwards: status %s, password version %d; want RESET_REQUIRED and version %d (unchanged)",
			after.Status, after.PasswordVersion, u.PasswordVersion)
	}
	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: newPassword}); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Errorf("new password afterwards: %+v, %v; want ErrNotAuthorized", res, err)
	}
}

// requestKey marks a request's context, as the server's request id does.
type requestKey struct{}

// requestLog keeps the lines logged with the request's context (requestKey)
// and those logged without it.
type requestLog struct {
	mu              sync.Mutex
	request, others []string
}

func (l *requestLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *requestLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *requestLog) WithGroup(string) slog.Handler            { return l }
func (l *requestLog) Handle(ctx context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ctx.Value(requestKey{}) != nil {
		l.request = append(l.request, r.Message)
	} else {
		l.others = append(l.others, r.Message)
	}
	return nil
}

// A password sign-in whose account changes after its last read and before
// its records commit is voided, the user deleted as at every other step:
// no session, and the line saying so carries the request's attributes,
// though the request had its answer by then.
func TestSignInVoidedBeforeItCommits(t *testing.T) {
	for name, change := range map[string]func(e env, sub string) error{
		"user deleted": func(e env, sub string) error { return e.svc.DeleteUser(ctx, "acme", sub) },
		"password set": func(e env, sub string) error {
			return e.svc.SetPassword(ctx, "acme", sub, "Brand-New-Pass2", true)
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.m.SSOSessions = true
			log := &requestLog{}
			e.m.Logger = slog.New(log)
			ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
			e.m.Store = &laterStore{Store: e.m.Store, beforeLater: func() {
				if err := change(e, ann.Sub); err != nil {
					t.Fatal(err)
				}
			}}
			reqCtx, cancel := context.WithCancel(context.WithValue(ctx, requestKey{}, "req-1"))
			res, err := e.m.Start(reqCtx, "acme", auth.Credentials{Login: "ann", Password: annPassword})
			cancel() // the request is over; its records are not
			if err != nil || !res.Done() {
				t.Fatalf("sign-in: %+v, %v", res, err)
			}
			noSessionStarted(t, e, res.SSOSession)
			log.mu.Lock()
			defer log.mu.Unlock()
			if !slices.Equal(log.request, []string{"sign-in voided: the account changed while it was checked"}) || len(log.others) != 0 {
				t.Errorf("lines with the request's attributes %q, without %q; want the voided sign-in's, with", log.request, log.others)
			}
		})
	}
}

// noSessionStarted fails t when the sign-in's SSO session exists once
// the records the sign-in queued have committed.
func noSessionStarted(t *testing.T, e env, session string) {
	t.Helper()
	if err := e.svc.Store.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	err := e.svc.Store.View(ctx, func(tx tenant.Tx) error {
		_, err := tenant.SessionByToken(tx, "acme", session)
		return err
	})
	if !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("the sign-in's session: %v; want none", err)
	}
}
