package tenant

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/mail"
)

// "Find your organization" by email address, on the apex: the answer goes to
// the address, never to the screen, which says the same whatever was found.

// OrgLookup is the input of OrganizationsForEmail.
type OrgLookup struct {
	Email string
	// Locale is the language of the mail: the page's, since the apex
	// belongs to no tenant.
	Locale   string
	ClientIP string
}

// orgLookupEmailLimits bound the apex's lookups of one address to a few
// mails, so the page cannot be used to flood someone's mailbox.
func orgLookupEmailLimits() []rateLimit { return []rateLimit{{1, time.Minute}, {3, time.Hour}} }

// orgLookupIPLimits bound the apex's lookups per client address, and so
// the work one client can make.
func orgLookupIPLimits() []rateLimit { return []rateLimit{{10, time.Hour}} }

// maxSharersRead is how many of the accounts sharing an address the apex
// lookup reads per organization before it takes the address for one
// without an account that can sign in. Cognito lets many users share an
// address; an organization where the first 20 cannot sign in and a later
// one can is not worth a lookup that costs as much as its users.
const maxSharersRead = 20

// OrganizationsForEmail mails in.Email the sign-in link of every organization
// where the address belongs to an account that can sign in (enabled and
// activated), or, when there is none, a mail that says so. It returns nil
// whatever it found; ErrInvalid for something that is not an email address;
// ErrRateLimited when the client address asked too often. An address asked
// about again within a minute, or more than three times an hour, is not
// mailed again (and nothing says so: the first mail is on its way).
func (s *Service) OrganizationsForEmail(ctx context.Context, in OrgLookup) error {
	email := strings.TrimSpace(in.Email)
	if err := ValidateEmail(email); err != nil {
		return err
	}
	// The rate-limit key is a hash: the store need not collect every
	// address anyone ever typed.
	sum := sha256.Sum256([]byte(FoldKey(email)))
	emailKey := "apex-email/" + hex.EncodeToString(sum[:])
	now := s.Time()
	// The limits come first, so that a client refused or an address
	// mailed a moment ago costs one small write and no search. The search
	// only reads, so it runs beside other requests; the one writer of the
	// store is held only to count the request and to queue the mail,
	// however many organizations and users there are.
	mailAllowed := false
	err := s.Store.Update(ctx, func(tx Tx) error {
		mailAllowed = false
		if in.ClientIP != "" {
			ok, err := takeRate(tx, CollRateLimits, "", "apex-ip/"+AddressKey(in.ClientIP), now, orgLookupIPLimits()...)
			if err != nil {
				return err
			}
			if !ok {
				return ErrRateLimited
			}
		}
		ok, err := takeRate(tx, CollRateLimits, "", emailKey, now, orgLookupEmailLimits()...)
		mailAllowed = ok
		return err
	})
	if err != nil || !mailAllowed {
		return err
	}
	var orgs []mail.OrgLink
	err = s.Store.View(ctx, func(tx Tx) (err error) {
		orgs, err = s.organizationsOf(tx, email)
		return err
	})
	if err != nil {
		return err
	}
	msg, err := renderTo(s.Templates, s.MailFrom, email, s.MailFromName, in.Locale, mail.KindOrganizationLinks,
		mail.OrganizationLinks{Email: email, Organizations: orgs}, mail.Branding{})
	if err != nil {
		return err
	}
	if err := s.Store.Update(ctx, func(tx Tx) error { return EnqueueMail(tx, MailOwner{}, msg, now) }); err != nil {
		return err
	}
	s.mailQueued()
	return nil
}

// organizationsOf lists the organizations, in slug order, where email is
// the address of an account that can sign in (enabled and activated). Of
// each organization it reads the users with the address only until one
// can sign in, and the organization's record only when one can: many
// users of an organization may share an address, and there may be
// thousands of organizations.
func (s *Service) organizationsOf(tx Tx, email string) ([]mail.OrgLink, error) {
	slugs, err := tenantSlugs(tx)
	if err != nil {
		return nil, err
	}
	var orgs []mail.OrgLink
	for _, slug := range slugs {
		found, err := canSignInWithEmail(tx, slug, email)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		t, err := GetTenant(tx, slug)
		if err != nil {
			return nil, err
		}
		orgs = append(orgs, mail.OrgLink{Name: t.Name, LoginURL: s.tenantURL(slug) + "/"})
	}
	return orgs, nil
}

// canSignInWithEmail reports whether email is the address of a user of
// the tenant who can sign in, reading the users with the address until
// one can, and at most maxSharersRead of them: the work of one lookup
// must not grow with the accounts that share an address, which anyone
// who can import users can make many of, disabled or unconfirmed.
func canSignInWithEmail(tx Tx, tenantID, email string) (bool, error) {
	found := false
	read := 0
	var readErr error
	err := emailSubs(tx, tenantID, email, "", func(sub string) bool {
		// The record as stored: whether the user can sign in does not
		// depend on groups, which GetUser would bring up to date with
		// the tenant's group moves, read again for every user.
		u, err := getStoredUser(tx, tenantID, sub)
		if err != nil {
			readErr = err
			return false
		}
		read++
		found = u.Enabled && u.Status != StatusUnconfirmed
		return !found && read < maxSharersRead
	})
	if err == nil {
		err = readErr
	}
	return found, err
}
