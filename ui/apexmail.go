package ui

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/cognate-idp/cognate/tenant"
)

// "Find your organization" by email address: the links go to the address
// (tenant.OrganizationsForEmail), and the page says the same whatever was
// found, so it cannot be used to learn who has an account where.

const tmplFindOrgSent = "find_org_sent"

const (
	msgFindEmailInvalid msgKey = "find.emailInvalid"
	msgFindRateLimited  msgKey = "find.rateLimited"
)

// errNotAnEmail: what was typed has an @ but is no email address.
var errNotAnEmail = errors.New("not an email address")

type findOrgSentPage struct {
	frame
	Email string
}

func (findOrgSentPage) template() string { return tmplFindOrgSent }

// findOrgByEmail answers the apex form when what was typed is an address.
func (p *Pages) findOrgByEmail(w http.ResponseWriter, r *http.Request, e env, page *findOrgPage, email string) error {
	err := p.Service.OrganizationsForEmail(r.Context(), tenant.OrgLookup{Email: email, Locale: string(e.lang), ClientIP: p.clientIP(r)})
	switch {
	case errors.Is(err, tenant.ErrInvalid):
		// Not err: its text may hold the address.
		p.logRefusal(r, e, orgLookupRefused, errNotAnEmail)
		page.Error = e.lang.text(msgFindEmailInvalid, email)
		return p.render(w, http.StatusUnprocessableEntity, page)
	case errors.Is(err, tenant.ErrRateLimited):
		p.logRefusal(r, e, orgLookupRefused, err)
		page.Error = e.lang.text(msgFindRateLimited)
		return p.render(w, http.StatusTooManyRequests, page)
	case err != nil:
		return fmt.Errorf("look up organizations by email: %w", err)
	}
	return p.render(w, http.StatusOK, &findOrgSentPage{frame: p.frame(e, ""), Email: email})
}
