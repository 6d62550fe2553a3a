package auth

import (
	"context"
	"fmt"
	"slices"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/tenant"
)

// What a signed-in person does to their own account that needs the
// machine's secrets and checks: enrol a factor, make new recovery codes,
// change the password. (Renaming and removing factors need neither and are
// tenant.Service methods.) The caller has established who the person is
// (an SSO session) and passes the sub.

// EnrolmentOptions are the kinds of factor user may add at t: those the
// tenant counts, where it asks for MFA or (WebAuthn) allows passkeys to
// sign in alone, and at most one authenticator app.
func EnrolmentOptions(t tenant.Tenant, user tenant.User) []Challenge {
	p := t.Settings.MFA
	var out []Challenge
	if p.Allows(tenant.FactorTOTP) && p.Mode != tenant.MFAOff && user.MFA.TOTP == nil {
		out = append(out, SoftwareTokenMFA)
	}
	if p.PasskeySignIn() || p.Allows(tenant.FactorWebAuthn) && p.Mode != tenant.MFAOff {
		out = append(out, WebAuthn)
	}
	return out
}

// BeginEnrolment starts adding a factor of kind for the user sub. It is an
// MFA_SETUP flow that signs nobody in: show its Result as for a sign-in's
// MFA_SETUP, answer it with FinishEnrolment.
func (m *Machine) BeginEnrolment(ctx context.Context, tenantID, sub string, kind Challenge) (Result, error) {
	var res Result
	err := m.Store.Update(ctx, func(tx tenant.Tx) error {
		t, err := tenant.GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		user, err := tenant.GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		options := EnrolmentOptions(t, user)
		if !slices.Contains(options, kind) {
			return fmt.Errorf("%w: %s cannot be added", ErrWrongChallenge, kind)
		}
		f := flow{Sub: sub, Challenge: MFASetup, MFA: mfaFlow{Options: options, Setup: kind, Account: true}}
		c, err := m.prepare(t, user, &f)
		if err != nil {
			return err
		}
		session, err := m.putNewFlow(tx, tenantID, &f)
		res = Result{Challenge: MFASetup, Session: session, Sub: sub, Username: user.Username, MFA: c}
		return err
	})
	return res, err
}

// Enrolment shows an enrolment of sub again (after a wrong code, or a
// failed browser prompt), as Pending does for a sign-in.
func (m *Machine) Enrolment(ctx context.Context, tenantID, sub, session string) (Result, error) {
	var res Result
	err := m.updateFlow(ctx, tenantID, session, func(f *flow, t tenant.Tenant, user tenant.User) error {
		if !f.MFA.Account || f.Sub != sub {
			return ErrSessionExpired
		}
		c, err := m.prepare(t, user, f)
		res = Result{Challenge: f.Challenge, Session: session, Sub: sub, Username: user.Username, MFA: c}
		return err
	})
	return res, err
}

// FinishEnrolment confirms the factor being added (a.Code, or
// a.Credential, and a.FactorName). Result.RecoveryCodes holds ten new
// codes when this was the user's first factor; show them once. The SSO
// session a.SSOSessionID, the one the person is signed in with, is marked
// as having set up a factor (enrol).
func (m *Machine) FinishEnrolment(ctx context.Context, tenantID, sub, session string, a Answer) (Result, error) {
	f, t, user, err := m.loadFlow(ctx, tenantID, session)
	if err != nil {
		return Result{}, err
	}
	if !f.MFA.Account || f.Sub != sub {
		return Result{}, ErrSessionExpired
	}
	return m.answerSetup(ctx, tenantID, session, userCredentials(user, a.ClientIP), t, user, f, a)
}

// NewRecoveryCodes replaces the user's recovery codes with ten new ones and
// returns them, to show once. The old codes stop working.
func (m *Machine) NewRecoveryCodes(ctx context.Context, tenantID, sub, clientIP string) ([]string, error) {
	codes, hashes, err := mfa.NewRecoveryCodes(m.rand())
	if err != nil {
		return nil, err
	}
	now := m.now()
	err = m.Store.Update(ctx, func(tx tenant.Tx) error {
		u, err := tenant.GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		if !u.MFA.HasFactor() {
			// Without a factor no sign-in asks for one, nor for a code.
			return tenant.ErrNoFactor
		}
		u.MFA.RecoveryCodes, u.UpdatedAt = hashes, now
		cr := userCredentials(u, clientIP)
		if err := m.record(tx, tenantID, now, tenant.AuditUserRecoveryCodes, cr, &u, nil); err != nil {
			return err
		}
		return tenant.UpdateUser(tx, tenantID, u)
	})
	if err != nil {
		return nil, err
	}
	m.logger().InfoContext(ctx, "new recovery codes made", "tenant", tenantID, "sub", sub)
	return codes, nil
}

// ChangePassword sets a new password for a signed-in user who proves the
// current one. A wrong current password counts against the login's lockout
// like a failed sign-in, and goes to the trail as one (ErrNotAuthorized,
// then ErrLocked); the new one must be acceptable (newPasswordHash).
func (m *Machine) ChangePassword(ctx context.Context, tenantID, sub, current, newPassword, clientIP string) error {
	now := m.now()
	var (
		t      tenant.Tenant
		user   tenant.User
		locked bool
	)
	err := m.Store.View(ctx, func(tx tenant.Tx) error {
		var err error
		if t, err = tenant.GetTenant(tx, tenantID); err != nil {
			return err
		}
		if user, err = tenant.GetUser(tx, tenantID, sub); err != nil {
			return err
		}
		locked, err = isLocked(tx, tenantID, lockKeys(userCredentials(user, clientIP)), now)
		return err
	})
	if err != nil {
		return err
	}
	cr := userCredentials(user, clientIP)
	var checks passwordCheck
	if !locked {
		// As at sign-in: guesses sent at once are held to the limit, the
		// username's and the account's. The account's lock is told here,
		// to a person who is signed in.
		var accountLocked bool
		if checks, locked, accountLocked, err = m.beginPasswordCheck(ctx, tenantID, user.Username, user.Sub, t.Settings.Lockout, now); err != nil {
			return err
		}
		locked = locked || accountLocked
	}
	defer checks.end()
	if locked {
		return ErrLocked
	}
	ok, _, err := m.verifyPassword(ctx, user.PasswordHash, current)
	if err != nil {
		return err
	}
	if !ok {
		// Counted and recorded as a sign-in's wrong password: a guess
		// here is one at the password, which the trail must show
		// beside the lockout it may lead to. The page logs the refusal.
		refused := refusal{user: &user, reason: tenant.ReasonWrongPassword}
		if err := m.failCheck(ctx, tenantID, t.Settings.Lockout, cr, refused, now, checks); err != nil {
			return err
		}
		return ErrNotAuthorized
	}
	checks.end() // the current password is proven; the rest is the new one's
	policy := t.Settings.PasswordPolicy
	hash, err := m.newPasswordHash(ctx, policy, user, user.PasswordHash, current, newPassword)
	if err != nil {
		return err
	}
	return m.Store.Update(ctx, func(tx tenant.Tx) error {
		u, err := tenant.GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		if u.PasswordHash != user.PasswordHash {
			// Changed by another request since it was checked.
			return fmt.Errorf("%w: the password changed meanwhile", tenant.ErrConflict)
		}
		if u.Status != tenant.StatusConfirmed {
			// Reset by an administrator since (which keeps the hash): the
			// password proven no longer counts, and the reset stands.
			return fmt.Errorf("%w: the account is %s", tenant.ErrConflict, u.Status)
		}
		u.SetPermanentPassword(hash, policy.HistorySize, now)
		u.UpdatedAt = now
		if err := clearFailures(tx, tenantID, cr); err != nil {
			return err
		}
		if err := m.record(tx, tenantID, now, tenant.AuditUserPasswordChange, cr, &u, nil); err != nil {
			return err
		}
		return tenant.UpdateUser(tx, tenantID, u)
	})
}
