package tenant

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"slices"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/tenant/password"
)

// Onboarding: an administrator activates a user, which sets a temporary
// password and mails it, in one transaction with the change (the durable
// outbox, outbox.go). What "activated" means: the user has a way to a
// password of their own (any status but UNCONFIRMED) and is enabled.
// Deactivating is UpdateUser with Enabled false, which revokes sessions and
// tokens at once.
//
// The welcome mail's link cannot name an application: a mail has no
// relying party to return to. It opens PathSignIn on the tenant's own host,
// which signs the person in through the same OIDC authorization flow every
// application uses, with a client of the tenant's own (StartPageClient), and
// ends on the tenant's welcome page. So the temporary password, the forced
// change, lockout and whatever second factor the tenant asks for all run
// through the one sign-in path, and the person is then told their account is
// ready and to open their application. (The alternative, a per-tenant
// "default application URL" setting, would leave tenants without one with
// a dead end, and a mail link would still not carry the application's state.)

// Errors of onboarding. All match ErrInvalid as well, so a front end that
// only knows ErrInvalid still answers "bad request" with the message.
var (
	// ErrUserState: the user's status does not allow the operation, as
	// Cognito's UnsupportedUserStateException.
	ErrUserState = fmt.Errorf("%w: the user's status does not allow this", ErrInvalid)
	// ErrNoEmail: the operation mails the user, who has no address.
	ErrNoEmail = fmt.Errorf("%w: the user has no email address", ErrInvalid)
	// ErrEmailUnverified: the operation mails a code to the user, whose
	// address is not verified (a code goes only to a proved address).
	ErrEmailUnverified = fmt.Errorf("%w: the user's email address is not verified", ErrInvalid)
)

// Paths on a tenant's host that mails link to; the pages serve them.
const (
	// PathSignIn starts a sign-in at the tenant itself, without an
	// application; login_hint prefills the username.
	PathSignIn = "/sign-in"
	// PathWelcome is where such a sign-in ends: StartPageClient's redirect URI.
	PathWelcome = "/welcome"
	// PathResetPassword takes a reset code and a new password; login
	// prefills the username.
	PathResetPassword = "/reset-password"
)

// StartPageClientID is the client through which a tenant's own pages sign
// people in (see PathSignIn): an ordinary public client with PKCE, listed
// with the others, made on demand (StartPageClient).
const StartPageClientID = "cognate-start-page"

// ActivateUser gives a user a fresh temporary password and queues the
// welcome mail that carries it, in one transaction; the user is enabled and
// FORCE_CHANGE_PASSWORD until the first sign-in. It works for a user who is
// not activated (UNCONFIRMED), still waiting for the first sign-in
// (FORCE_CHANGE_PASSWORD: the old temporary password stops working), or
// waiting for a reset (RESET_REQUIRED, e.g. imported without a password).
//
// A CONFIRMED user has a password of their own, which activating would
// destroy: if the user is deactivated, activating only enables them again
// (no mail); if they are active, it is refused with ErrUserState, and an
// administrator who wants them to choose a new password resets it
// (AdminResetPassword) or sets one.
//
// repeated reports an invitation taken for the one of a moment ago sent
// again (see inviteRepeat): nothing changed and no mail was queued, so the
// temporary password mailed then stays good. The front end says so: its
// usual "a new temporary password is on its way" would not be true.
func (s *Service) ActivateUser(ctx context.Context, tenantID, sub string) (u User, repeated bool, err error) {
	return s.invite(ctx, tenantID, sub, false)
}

// ResendInvitation is Cognito's AdminCreateUser with MessageAction RESEND:
// for a user still in FORCE_CHANGE_PASSWORD, a new temporary password (the
// old one stops working, the validity period starts again) and a new welcome
// mail. Any other status, or a deactivated user, is ErrUserState. Within
// inviteRepeat of the invitation it is repeated, as ActivateUser.
func (s *Service) ResendInvitation(ctx context.Context, tenantID, sub string) (u User, repeated bool, err error) {
	return s.invite(ctx, tenantID, sub, true)
}

// inviteCheck says whether u may be invited, and whether activating only
// enables a deactivated CONFIRMED user again.
func inviteCheck(u User, resend bool) (reenableOnly bool, err error) {
	switch {
	case resend && u.Status != StatusForceChangePassword:
		return false, fmt.Errorf("%w: resend is only for a user who has not signed in yet (FORCE_CHANGE_PASSWORD); %s is %s",
			ErrUserState, u.Username, u.Status)
	case resend && !u.Enabled:
		return false, fmt.Errorf("%w: %s is deactivated; activate the user instead, which sends a fresh invitation",
			ErrUserState, u.Username)
	case u.Status == StatusConfirmed && !u.Enabled:
		return true, nil
	case u.Status == StatusConfirmed:
		return false, fmt.Errorf("%w: %s is already active with a password of their own; to make them choose a new one, reset the password or set one",
			ErrUserState, u.Username)
	case !slices.Contains([]UserStatus{StatusUnconfirmed, StatusForceChangePassword, StatusResetRequired}, u.Status):
		return false, fmt.Errorf("%w: %s is %s and cannot be activated with a password", ErrUserState, u.Username, u.Status)
	case u.Email == "":
		return false, fmt.Errorf("%w: %s needs an email address to receive the invitation; add one, or set a temporary password and hand it over yourself",
			ErrNoEmail, u.Username)
	}
	// An address stored before ValidateEmail asked what it asks now (that
	// mail can be sent to it) would take a welcome mail the outbox gives
	// up on at once, the administrator told it is on its way.
	if err := ValidateEmail(u.Email); err != nil {
		return false, err
	}
	return false, nil
}

func (s *Service) invite(ctx context.Context, tenantID, sub string, resend bool) (u User, repeated bool, err error) {
	t, u, err := s.tenantAndUser(ctx, tenantID, sub)
	if err != nil {
		return User{}, false, err
	}
	inv, err := s.prepareInvitation(ctx, t, u, resend)
	if err != nil {
		return User{}, false, err
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		if u, err = GetUser(tx, tenantID, sub); err != nil {
			return err
		}
		repeated, err = s.writeInvitation(ctx, tx, t, &u, inv)
		return err
	})
	if err != nil {
		return User{}, false, err
	}
	if inv.mails() && !repeated {
		s.mailQueued()
	}
	return u, repeated, nil
}

// invitation is an activation prepared before the transaction that writes
// it (writeInvitation): the temporary password is made and hashed outside.
type invitation struct {
	resend       bool
	reenableOnly bool // a CONFIRMED user is only enabled again: no password, no mail
	temp, hash   string
	now          time.Time
}

// mails reports whether writing inv queues the welcome mail.
func (inv invitation) mails() bool { return !inv.reenableOnly }

// prepareInvitation checks that u, as read, may be invited, and makes the
// temporary password when one is due.
func (s *Service) prepareInvitation(ctx context.Context, t Tenant, u User, resend bool) (invitation, error) {
	reenableOnly, err := inviteCheck(u, resend)
	if err != nil {
		return invitation{}, err
	}
	inv := invitation{resend: resend, reenableOnly: reenableOnly}
	if !reenableOnly {
		if inv.temp, inv.hash, err = s.temporaryPassword(ctx, t.Settings.PasswordPolicy); err != nil {
			return invitation{}, err
		}
	}
	inv.now = s.Time()
	return inv, nil
}

// writeInvitation activates u, as read in tx, inside tx: enabled and, unless
// only enabled again, given the temporary password, its sessions and tokens
// revoked, and the welcome mail queued, all with the one commit. repeated
// reports the same invitation again, which writes nothing.
func (s *Service) writeInvitation(ctx context.Context, tx Tx, t Tenant, u *User, inv invitation) (repeated bool, err error) {
	// Checked again: the user may have changed since it was prepared.
	again, err := inviteCheck(*u, inv.resend)
	if err != nil {
		return false, err
	}
	if again != inv.reenableOnly {
		return false, fmt.Errorf("user %s: %w", u.Username, ErrConflict)
	}
	// The same invitation again within a minute, to a user unchanged
	// since (a form sent twice, two tabs, two administrators): nothing to
	// do. A second temporary password would make the mail just sent
	// useless. A user changed since (a new address) is invited anew.
	if u.Status == StatusForceChangePassword && u.Enabled && u.UpdatedAt.Equal(u.PasswordChangedAt) &&
		inv.now.Sub(u.PasswordChangedAt) < inviteRepeat {
		return true, nil
	}
	u.Enabled, u.UpdatedAt = true, inv.now
	action := AuditUserActivate
	if inv.resend {
		action = AuditUserInviteResend
	}
	if inv.reenableOnly {
		action = AuditUserEnable
	}
	if err := s.audit(ctx, tx, t.Slug, action, userTarget(*u), nil); err != nil {
		return false, err
	}
	if inv.reenableOnly {
		return false, UpdateUser(tx, t.Slug, *u)
	}
	if u.Status == StatusResetRequired {
		// A password of the user's own is replaced: it joins the
		// history, so the forced change cannot bring it back.
		u.PasswordHistory = PushHistory(u.PasswordHistory, u.PasswordHash, t.Settings.PasswordPolicy.HistorySize)
	}
	setTemporaryPassword(u, t, inv.hash, inv.now)
	u.TempPasswordMailedTo = u.Email
	// Nothing the user held before survives a new invitation.
	if err := s.revoke(tx, t.Slug, u.Sub); err != nil {
		return false, err
	}
	if err := UpdateUser(tx, t.Slug, *u); err != nil {
		return false, err
	}
	return false, s.queueWelcome(tx, t, *u, inv.temp, inv.now)
}

// Unlock releases the sign-in lockout of a user, under both names they
// sign in with (username and email address). The lock of a client address
// stays: it protects against whoever is guessing, not one account.
func (s *Service) Unlock(ctx context.Context, tenantID, sub string) error {
	if s.ReleaseLockout == nil {
		return errors.New("tenant: Service.ReleaseLockout is not set")
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		u, err := GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditUserUnlock, userTarget(u), nil); err != nil {
			return err
		}
		return s.releaseLockout(tx, tenantID, u)
	})
}

func (s *Service) releaseLockout(tx Tx, tenantID string, u User) error {
	if s.ReleaseLockout == nil {
		return nil
	}
	for _, login := range []string{u.Username, u.Email} {
		if login == "" {
			continue
		}
		if err := s.ReleaseLockout(tx, tenantID, login); err != nil {
			return err
		}
	}
	return nil
}

// StartPageClient returns the tenant's own public client (StartPageClientID)
// with redirectURI, creating or correcting it first when needed. The pages
// call it when someone signs in at the tenant's host rather than through an
// application.
func (s *Service) StartPageClient(ctx context.Context, tenantID, redirectURI string) (Client, error) {
	if err := ValidateRedirectURI(redirectURI); err != nil {
		return Client{}, err // an *InvalidError
	}
	return s.builtinClient(ctx, tenantID, StartPageClientID,
		func(t Tenant, c Client) bool {
			return c.Name == t.Name && slices.Equal(c.RedirectURIs, []string{redirectURI}) && c.Public()
		},
		func(t Tenant) Client {
			// The name is the organization's, since the sign-in page shows
			// it as the application the person continues to.
			return Client{
				Name:         t.Name,
				RedirectURIs: []string{redirectURI},
				GrantTypes:   []string{GrantAuthorizationCode},
				Scopes:       []string{"openid"},
				// Its codes are never redeemed (see PathSignIn), so the
				// lifetimes only need to be valid.
				AccessTokenTTL:  DefaultAccessTokenTTL,
				IDTokenTTL:      DefaultIDTokenTTL,
				RefreshTokenTTL: DefaultRefreshTokenTTL,
			}
		})
}

// --- helpers shared by the mails of onboarding and resets ---

func (s *Service) tenantAndUser(ctx context.Context, tenantID, sub string) (Tenant, User, error) {
	var t Tenant
	var u User
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		if t, err = GetTenant(tx, tenantID); err != nil {
			return err
		}
		u, err = GetUser(tx, tenantID, sub)
		return err
	})
	return t, u, err
}

// temporaryPassword makes a temporary password under policy, and its hash.
// Callers make it before their transaction: hashing takes tens of
// milliseconds, which the store's single writer should not wait for.
func (s *Service) temporaryPassword(ctx context.Context, policy password.Policy) (temp, hash string, err error) {
	if temp, err = password.GenerateTemporary(policy, nil); err != nil {
		return "", "", err
	}
	if hash, err = s.Hasher.Hash(ctx, temp); err != nil {
		return "", "", err
	}
	return temp, hash, nil
}

// setTemporaryPassword gives u the temporary password of hash, valid for
// the tenant's number of days, to be changed at the first sign-in. It is
// not mailed yet: the invitation that mails it says so afterwards.
func setTemporaryPassword(u *User, t Tenant, hash string, now time.Time) {
	u.SetPassword(hash, now)
	u.Status = StatusForceChangePassword
	u.TempPasswordExpiresAt = now.Add(t.Settings.TempPasswordValidity())
	u.TempPasswordMailedTo = ""
}

// ProveMailedAddress is called as u's temporary password is replaced by
// one of their own, at the forced change after signing in with it. When the
// welcome mail carried that temporary password to the address u still has,
// whoever signed in read that mailbox: the address is proved, and marked
// verified, so that the user can reset a forgotten password by code later
// (codes go only to verified addresses). A temporary password an
// administrator set and handed over proves nothing about the address. It
// reports whether it marked the address verified.
func ProveMailedAddress(u *User) bool {
	mailedTo := u.TempPasswordMailedTo
	u.TempPasswordMailedTo = ""
	if mailedTo == "" || u.Email == "" || FoldKey(mailedTo) != FoldKey(u.Email) || u.EmailVerified {
		return false
	}
	u.EmailVerified = true
	return true
}

// inviteRepeat is how soon an invitation of an unchanged user counts as
// the same invitation sent again, not a new one (ActivateUser's repeated).
// docs/console.md and the CLI's help tell administrators of it.
const inviteRepeat = time.Minute

// queueWelcome queues the welcome mail that carries u's temporary
// password, inside the transaction that set it.
func (s *Service) queueWelcome(tx Tx, t Tenant, u User, temp string, now time.Time) error {
	// An administrator's action (an activation, an invitation) sends it,
	// not a page the user is on: no language was asked, so it speaks the
	// user's own or the organization's.
	msg, err := s.render(t, u, "", mail.KindWelcome, mail.Welcome{
		TenantName:        t.Name,
		Username:          u.Username,
		TemporaryPassword: temp,
		LoginURL:          s.signInURL(t.Slug, u.Username),
		ValidDays:         t.Settings.TempPasswordValidityDays,
	})
	if err != nil {
		return err
	}
	msg.Sensitive = true
	return EnqueueMail(tx, MailOwner{TenantID: t.Slug, Sub: u.Sub}, msg, now)
}

func (s *Service) mailQueued() {
	if s.MailQueued != nil {
		s.MailQueued()
	}
}

// tenantURL is the tenant's origin for links in mail.
func (s *Service) tenantURL(slug string) string {
	if s.TenantURL == nil {
		return ""
	}
	return s.TenantURL(slug)
}

func (s *Service) signInURL(slug, username string) string {
	return s.tenantURL(slug) + PathSignIn + "?" + url.Values{"login_hint": {username}}.Encode()
}

// render renders a mail to user u of tenant t, with the tenant's branding
// and name as sender, in the first of these languages the mails speak:
// asked, the language the person asked the pages in where they asked for
// the mail ("" for none, and for a mail an administrator's action sends);
// the user's own (Cognito's standard attribute locale, which a user's
// import or an administrator may have set); the tenant's.
func (s *Service) render(t Tenant, u User, asked, kind string, data any) (mail.Message, error) {
	locale := t.Settings.Locale
	for _, l := range []string{asked, u.Attributes["locale"]} {
		if mail.Speaks(l) {
			locale = l
			break
		}
	}
	templates := s.Templates
	if own, ok := s.TenantTemplates[t.Slug]; ok {
		templates = own
	}
	return renderTo(templates, s.MailFrom, u.Email, t.Name, locale, kind, data, mail.Branding{
		PrimaryColor: t.Settings.Branding.PrimaryColor,
		LogoURL:      t.Settings.Branding.LogoURL,
	})
}

// renderTo renders a mail to one address; senderName goes in front of
// mailFrom.
func renderTo(templates *mail.Templates, mailFrom, to, senderName, locale, kind string, data any, branding mail.Branding) (mail.Message, error) {
	if templates == nil {
		return mail.Message{}, errors.New("tenant: Service.Templates is not set; mail cannot be rendered")
	}
	subject, text, html, err := templates.Render(kind, locale, data, branding)
	if err != nil {
		return mail.Message{}, err
	}
	m := mail.Message{To: []string{to}, Subject: subject, Text: text, HTML: html}
	if mailFrom != "" {
		from := netmail.Address{Name: senderName, Address: mailFrom}
		m.From = from.String()
	}
	return m, nil
}
