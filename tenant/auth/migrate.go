package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// Lazy migration (see tenant/legacypool.go). When a tenant has a legacy
// pool, a sign-in by someone unknown here, or by a user imported without a
// password, is a question for that pool: the password it accepts becomes
// the user's password here, and Start goes on exactly as for a user whose
// password it checked itself (the forced change, a reset, MFA, tokens).

// ErrTemporarilyUnavailable means the sign-in could not be decided now: the
// legacy pool that must check this password did not answer, or answered
// something that cannot be used (a sub no user can have here, an account
// that conflicts with a user here), which an operator must put right. It
// is not a wrong password, and nothing was counted or created; the machine
// has logged why; try again later.
var ErrTemporarilyUnavailable = errors.New("sign-in is temporarily unavailable; try again in a few minutes")

// legacyApplies reports whether the password of this sign-in is the legacy
// pool's to check: the tenant has one and the name is unknown here, or
// belongs to an enabled user imported without a password. Names locked out
// never get here, so a guesser cannot use Cognate to hammer the old pool.
func (m *Machine) legacyApplies(t tenant.Tenant, user tenant.User, findErr error) bool {
	if m.Legacy == nil || !t.Settings.Legacy.Enabled() {
		return false
	}
	if errors.Is(findErr, tenant.ErrNotFound) {
		return true
	}
	return findErr == nil && user.Enabled && user.Status == tenant.StatusResetRequired && user.PasswordHash == ""
}

// migrate asks the tenant's legacy pool whether cr's password is right and,
// when it is, writes the user here in one transaction: the argon2id hash of
// that password, the pool's attributes, groups and sub, and the status the
// pool's answer calls for. It returns the user as stored and whether the
// password was right. A refusal is (user, false, nil), so Start counts it
// like any wrong password; a pool that did not answer is
// ErrTemporarilyUnavailable, with nothing counted and nothing written.
func (m *Machine) migrate(ctx context.Context, t tenant.Tenant, cr Credentials, user tenant.User) (tenant.User, bool, error) {
	if cr.Password == "" {
		return user, false, nil
	}
	acct, err := m.Legacy.Authenticate(ctx, t.Slug, t.Settings.Legacy, cr.Login, cr.Password)
	switch {
	case errors.Is(err, tenant.ErrLegacyRefused):
		m.logger().DebugContext(ctx, "legacy pool refused a sign-in", "tenant", t.Slug, "err", err)
		return user, false, nil
	case err != nil:
		if ctx.Err() != nil {
			return tenant.User{}, false, ctx.Err() // the person went away
		}
		m.logger().WarnContext(ctx, "legacy pool unavailable: sign-in refused as temporarily unavailable",
			"tenant", t.Slug, "pool", t.Settings.Legacy, "err", err)
		return tenant.User{}, false, fmt.Errorf("%w: %w", ErrTemporarilyUnavailable, err)
	}

	hash, err := m.Hasher.Hash(ctx, cr.Password)
	if err != nil {
		return tenant.User{}, false, err
	}
	now := m.now()
	var stored tenant.User
	err = m.Store.Update(ctx, func(tx tenant.Tx) error {
		var err error
		stored, err = tenant.PutLegacyUser(tx, t.Slug, cr.Login, acct, now, func(u *tenant.User) {
			u.SetPassword(hash, now)
			u.Status, u.TempPasswordExpiresAt = acct.Status, time.Time{}
			switch acct.Status {
			case tenant.StatusForceChangePassword:
				// The pool wanted a new password: the one just proved
				// is a temporary one here, and Start asks for the change.
				u.TempPasswordExpiresAt = now.Add(t.Settings.TempPasswordValidity())
			case tenant.StatusResetRequired:
				// Kept, as after an administrator's reset, so that the
				// sign-in page tells this person that a reset waits.
			default:
				u.Status = tenant.StatusConfirmed
			}
		})
		return err
	})
	switch {
	case errors.Is(err, tenant.ErrLegacyConflict):
		// First: a conflict may wrap ErrAlreadyExists (a name or sub
		// taken). The password was right, but the account cannot come
		// over as it is: an operator must look. Not a wrong password;
		// the person reads that signing in is unavailable for now (one
		// line here, none at the front end), and nothing is written.
		m.logger().ErrorContext(ctx, "legacy pool accepted a sign-in, but the user cannot be migrated: sign-in refused as temporarily unavailable",
			"tenant", t.Slug, "err", err)
		return tenant.User{}, false, fmt.Errorf("%w: %w", ErrTemporarilyUnavailable, err)
	case errors.Is(err, tenant.ErrLegacyUnavailable):
		// An answer PutLegacyUser cannot use (a sub no user can have
		// here), as one the directory could not read.
		m.logger().WarnContext(ctx, "legacy pool unavailable: sign-in refused as temporarily unavailable",
			"tenant", t.Slug, "pool", t.Settings.Legacy, "err", err)
		return tenant.User{}, false, fmt.Errorf("%w: %w", ErrTemporarilyUnavailable, err)
	case errors.Is(err, tenant.ErrAlreadyExists):
		// Migrated meanwhile by another sign-in (or the name is a user's
		// here who has a password): from now on the password here is the
		// one that counts, checked by the sign-in's own rule
		// (verifyPassword, which says why a hash it cannot read is a
		// wrong password). A read that failed is PutLegacyUser's error,
		// the last case.
		ok, _, err := m.verifyPassword(ctx, stored.PasswordHash, cr.Password)
		if err != nil {
			return tenant.User{}, false, err
		}
		return stored, ok, nil
	case errors.Is(err, tenant.ErrLegacyIncomplete):
		// Right password, but the pool said too little to create the
		// user without losing their sub. The operator must add the
		// pool's administrator keys or import the users; until then the
		// person reads that sign-in is unavailable, not a wrong password.
		m.logger().ErrorContext(ctx, "legacy pool accepted a sign-in, but did not tell the user's sub: configure its administrator keys or import its users first",
			"tenant", t.Slug, "pool", t.Settings.Legacy, "err", err)
		return tenant.User{}, false, fmt.Errorf("%w: %w", ErrTemporarilyUnavailable, err)
	case err != nil:
		return tenant.User{}, false, err
	}
	// One line for the migration. What the pool told that Cognate cannot
	// hold (an email that is not one, an unknown attribute) did not stop
	// it, but is data that did not come over: the line then names it, by
	// attribute and rule, and is a warning, for the operator to put right
	// in the pool or here.
	if unkept := acct.Unkept(); len(unkept) > 0 {
		m.logger().WarnContext(ctx, "user migrated from the legacy pool, without attributes Cognate cannot hold",
			"tenant", t.Slug, "user", stored, "status", string(stored.Status), "not_kept", unkept)
	} else {
		m.logger().InfoContext(ctx, "user migrated from the legacy pool", "tenant", t.Slug, "user", stored, "status", string(stored.Status))
	}
	return stored, true, nil
}
