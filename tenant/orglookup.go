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

// Apex lookups: a few mails per address, so the page cannot be used to
// flood someone's mailbox, and a bound per client address on the work.
var (
	orgLookupEmailLimits = []rateLimit{{1, time.Minute}, {3, time.Hour}}
	orgLookupIPLimits    = []rateLimit{{10, time.Hour}}
)

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
	now := s.now()
	queued := false
	err := s.Store.Update(ctx, func(tx Tx) error {
		queued = false
		if in.ClientIP != "" {
			ok, err := takeRate(tx, CollRateLimits, "", "apex-ip/"+AddressKey(in.ClientIP), now, orgLookupIPLimits...)
			if err != nil {
				return err
			}
			if !ok {
				return ErrRateLimited
			}
		}
		ok, err := takeRate(tx, CollRateLimits, "", emailKey, now, orgLookupEmailLimits...)
		if err != nil || !ok {
			return err
		}
		var tenants []Tenant
		err = ScanJSON(tx, CollTenants, "", "", "", func(_ string, t Tenant) bool {
			tenants = append(tenants, t)
			return true
		})
		if err != nil {
			return err
		}
		var orgs []mail.OrgLink
		for _, t := range tenants {
			users, err := UsersByEmail(tx, t.Slug, email)
			if err != nil {
				return err
			}
			for _, u := range users {
				if u.Enabled && u.Status != StatusUnconfirmed {
					orgs = append(orgs, mail.OrgLink{Name: t.Name, LoginURL: s.tenantURL(t.Slug) + "/"})
					break
				}
			}
		}
		msg, err := renderTo(s.Templates, s.MailFrom, email, s.MailFromName, in.Locale, mail.KindOrganizationLinks,
			mail.OrganizationLinks{Email: email, Organizations: orgs}, mail.Branding{})
		if err != nil {
			return err
		}
		queued = true
		return EnqueueMail(tx, MailOwner{}, msg, now)
	})
	if err != nil {
		return err
	}
	if queued {
		s.mailQueued()
	}
	return nil
}
