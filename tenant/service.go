package tenant

import (
	"context"
	"log/slog"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/tenant/password"
)

// Service is the one service layer over tenants, clients and users. The admin
// API, the admin console and the CLI (through the API) all call it, so every
// rule about what a valid change is lives here once.
type Service struct {
	Store  Store
	Hasher *password.Hasher
	Logger *slog.Logger
	// Now is the service's clock (nil: the system's); read it through
	// Time, which gives it in UTC.
	Now func() time.Time
	// Changed is told after a commit that changed a tenant's settings,
	// clients or keys, so caches elsewhere can drop what they hold. ctx is
	// the change's; the commit is done, so it may have been cancelled
	// since.
	Changed func(ctx context.Context, tenantID string)
	// RevokeUser ends a user's SSO sessions and token families inside tx;
	// the provider, which owns those records, supplies it. It runs when a
	// user is disabled or deleted, or an administrator sets the password.
	RevokeUser func(tx Tx, tenantID, sub string) error

	// Mail that activation and password resets queue (see onboarding.go):
	// Templates renders it; MailFrom is the address it comes from, with the
	// tenant's name put in front ("" leaves the sender's own From);
	// TenantURL is a tenant's origin, for the links in it; MailQueued is
	// told after a commit that queued mail, to wake the outbox.
	Templates *mail.Templates
	// TenantTemplates are the templates of tenants an operator gave their
	// own; the others use Templates.
	TenantTemplates map[string]*mail.Templates
	MailFrom        string
	TenantURL       func(slug string) string
	MailQueued      func()

	// GroupMoveQueued is told after a commit that renamed or deleted a
	// group with more members than one transaction moves, to wake the
	// GroupMover that moves the rest (group_move.go). Nil moves them
	// before the change returns.
	GroupMoveQueued func()

	// MailFromName is the sender's name on mail that comes from no tenant
	// (the apex's list of a person's organizations): the operator's own,
	// where tenants' mail has the tenant's name.
	MailFromName string

	// ReleaseLockout forgets a login name's failed sign-ins inside tx;
	// tenant/auth, which owns those counters, supplies it (auth.Unlock).
	ReleaseLockout func(tx Tx, tenantID, login string) error
	// Legacy reaches tenants' legacy pools, to bring over a user who
	// forgot a password before signing in here (legacyreset.go); nil
	// leaves such users unknown.
	Legacy LegacyDirectory
	// KeySealer seals tenants' signing keys, and LegacySealer their legacy
	// pools' secrets, before they are stored (seal.go): each under a key
	// of its own derived from the server key. Nil stores them in clear,
	// as versions before sealing did.
	KeySealer, LegacySealer Sealer
}

func (s *Service) revoke(tx Tx, tenantID, sub string) error {
	if s.RevokeUser == nil {
		return nil
	}
	return s.RevokeUser(tx, tenantID, sub)
}

func (s *Service) changed(ctx context.Context, tenantID string) {
	if s.Changed != nil {
		s.Changed(ctx, tenantID)
	}
}
