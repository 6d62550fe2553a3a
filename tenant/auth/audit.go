package auth

import (
	"context"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// Sign-in outcomes for the audit trail. The machine tells Machine.Audit
// (wired to tenant.Service.RecordEvent) after each outcome: success, a
// failure with its reason code, and a lockout. The person signing in reads
// none of the reasons; only administrators reading the trail tell an
// unknown name from a wrong password.

// recordOutcome tells the audit hook of one outcome.
func (m *Machine) recordOutcome(ctx context.Context, tenantID string, action tenant.AuditAction, cr Credentials, user *tenant.User, reason string, details map[string]string) {
	if m.Audit == nil {
		return
	}
	ev := tenant.AuditEvent{
		Time:    m.now(),
		Action:  action,
		Actor:   tenant.Actor{Kind: tenant.ActorUser, IP: cr.ClientIP},
		Reason:  reason,
		Details: details,
	}
	// An unknown name is left out: people type their password into the
	// username field often enough that the trail must not keep what was
	// typed there unless it named a real account.
	if user != nil {
		ev.Actor.Sub, ev.Actor.Name = user.Sub, user.Username
		ev.Target = tenant.AuditTarget{Kind: tenant.TargetUser, ID: user.Sub, Name: user.Username}
	}
	m.Audit(ctx, tenantID, ev)
}

// recordSuccess records a finished sign-in and how it was proved.
func (m *Machine) recordSuccess(ctx context.Context, tenantID string, cr Credentials, user tenant.User, amr []string) {
	m.recordOutcome(ctx, tenantID, tenant.AuditSignIn, cr, &user, "", map[string]string{"amr": strings.Join(amr, ",")})
}

// recordRefusal records a failed password check, and a lockout when that
// failure was the one that locked the name or the address.
func (m *Machine) recordRefusal(ctx context.Context, tenantID string, cr Credentials, user *tenant.User, reason string, now time.Time) {
	if m.Audit == nil {
		return
	}
	m.recordOutcome(ctx, tenantID, tenant.AuditSignInFailure, cr, user, reason, nil)
	var locked bool
	err := m.Store.View(ctx, func(tx tenant.Tx) (err error) {
		locked, err = isLocked(tx, tenantID, lockKeys(cr), now)
		return err
	})
	if err == nil && locked {
		m.recordOutcome(ctx, tenantID, tenant.AuditSignInLockout, cr, user, "", nil)
	}
}

// refusalReason names why a password check failed, for the trail only.
func refusalReason(found bool, user tenant.User, passwordOK bool) string {
	switch {
	case !found:
		return tenant.ReasonUnknownUser
	case user.Status == tenant.StatusUnconfirmed:
		return tenant.ReasonNotActivated
	case !passwordOK:
		return tenant.ReasonWrongPassword
	case !user.Enabled:
		return tenant.ReasonDisabled
	}
	return tenant.ReasonWrongPassword
}

// foundUser is the user a sign-in named, or nil when there was none.
func foundUser(u tenant.User, findErr error) *tenant.User {
	if findErr != nil {
		return nil
	}
	return &u
}
