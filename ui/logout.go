package ui

import (
	"errors"
	"net/http"

	"github.com/cognate-idp/cognate/provider"
)

// Signing out. The provider's /logout ends the session at once for an
// application that says where it comes from (a registered logout address,
// an ID token of the signed-in user); any other logout, which any web page
// could send a browser to, comes here, to the confirmation page, whose
// form (CSRF-checked, like every form of the pages) ends the session.

const tmplLogoutConfirm = "logout_confirm"

type logoutConfirmPage struct {
	frame
	// OrgName is the organization the person signs out of.
	OrgName string
	// Username is who is signed in.
	Username string
	// Action is where the form posts.
	Action string
}

func (logoutConfirmPage) template() string { return tmplLogoutConfirm }

// getLogoutConfirm asks the person whether to sign out. Without a session
// (or with one whose user is deleted or disabled) there is nothing to ask:
// the signed-out page says how things are. A store that cannot be read is
// the server's fault, not a signed-out person: the signed-out page would
// tell them so while their session lives on.
func (p *Pages) getLogoutConfirm(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	_, u, err := p.Provider.ReadSession(r, e.slug())
	if errors.Is(err, provider.ErrNoSession) {
		http.Redirect(w, r, provider.PathLoggedOut, http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err // the store's failure: the error page, and its one log line
	}
	name := e.tenant.Name
	if name == "" {
		name = e.slug()
	}
	return p.render(w, http.StatusOK, &logoutConfirmPage{frame: p.frame(e, p.csrfToken(w, r)), OrgName: name,
		Username: u.Username, Action: provider.PathLogoutConfirm})
}

// postLogoutConfirm ends the session the person confirmed to end, then
// shows the signed-out page; a session the store could not end is the
// error page, the person still signed in.
func (p *Pages) postLogoutConfirm(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	if err := p.parseForm(w, r, p.origin(e)); err != nil {
		return err
	}
	if err := p.Provider.EndSession(w, r, e.slug()); err != nil {
		// Still signed in, and told so; the error page's line logs why.
		return &pageError{status: http.StatusServiceUnavailable, msg: msgLogoutFailed, err: err}
	}
	http.Redirect(w, r, provider.PathLoggedOut, http.StatusSeeOther)
	return nil
}
