package auth

import (
	"context"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// Sign-in outcomes for the audit trail, and the changes people make to
// their own account through the machine (a new password, a factor
// enrolled, new recovery codes). The machine writes each through
// Machine.Audit (wired to tenant.RecordAudit): success, a failure with its
// reason code, a lockout, a change. The person signing in reads none of
// the reasons; only administrators reading the trail tell an unknown name
// from a wrong password.

// recordOutcome records an outcome that changes nothing else (a refusal)
// in a transaction of its own, which the store may share with other
// requests' (Store.Batch). A failure is logged, not returned: a sign-in's
// answer does not change because its record could not be written.
func (m *Machine) recordOutcome(ctx context.Context, tenantID string, action tenant.AuditAction, cr Credentials, user *tenant.User, reason string, details map[string]string) {
	if m.Audit == nil {
		return
	}
	ev := m.userEvent(m.now(), action, cr, user, reason, details)
	err := m.Store.Batch(ctx, func(tx tenant.Tx) error { return m.Audit(tx, tenantID, ev) })
	if err != nil {
		m.logger().ErrorContext(ctx, "record sign-in outcome", "tenant", tenantID, "action", string(action), "err", err)
	}
}

// userEvent is the audit event, at time at, of what the person signing in
// as cr did: a sign-in outcome, or a change to their own account.
func (m *Machine) userEvent(at time.Time, action tenant.AuditAction, cr Credentials, user *tenant.User, reason string, details map[string]string) tenant.AuditEvent {
	ev := tenant.AuditEvent{
		Time:    at,
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
	return ev
}

// record writes, inside tx, an event of the person cr names about their
// own account user: a sign-in, or a change they made (a new password, a
// factor enrolled, new recovery codes), which commits with the change.
func (m *Machine) record(tx tenant.Tx, tenantID string, at time.Time, action tenant.AuditAction, cr Credentials, user *tenant.User, details map[string]string) error {
	if m.Audit == nil {
		return nil
	}
	return m.Audit(tx, tenantID, m.userEvent(at, action, cr, user, "", details))
}

// signedIn does what every finished sign-in does, inside the transaction
// that finishes it, so that all of it commits at once (one fsync): it sets
// the user's last sign-in (the caller writes the user), forgets the login's
// failures, records the audit event and, for a browser, starts the SSO
// session named by session (from newSession; empty for none).
func (m *Machine) signedIn(tx tenant.Tx, tenantID string, cr Credentials, user *tenant.User, amr []string, now time.Time, session string) error {
	user.LastSignInAt = now
	if err := clearFailures(tx, tenantID, cr); err != nil {
		return err
	}
	if err := m.record(tx, tenantID, now, tenant.AuditSignIn, cr, user, map[string]string{"amr": strings.Join(amr, ",")}); err != nil {
		return err
	}
	if session == "" {
		return nil
	}
	return tenant.StartSession(tx, tenantID, session, user.Sub, amr, now, now, tenant.SessionTTL)
}

// newSession is the token of the SSO session a finished sign-in starts, or
// empty when this machine starts none.
func (m *Machine) newSession() string {
	if !m.SSOSessions {
		return ""
	}
	return tenant.NewSessionToken()
}

// refusal is what the trail says of a failed attempt: the user it named
// (nil for a name that belongs to no one), why it failed (a tenant.Reason…
// code) and any details.
type refusal struct {
	user    *tenant.User
	reason  string
	details map[string]string
}

// recordRefusal records a failed attempt, r, and a lockout when that
// failure was the one that locked the name, the address or the account
// (failure.locked).
func (m *Machine) recordRefusal(ctx context.Context, tenantID string, cr Credentials, r refusal, locked bool) {
	m.recordOutcome(ctx, tenantID, tenant.AuditSignInFailure, cr, r.user, r.reason, r.details)
	if locked {
		m.recordOutcome(ctx, tenantID, tenant.AuditSignInLockout, cr, r.user, "", nil)
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
