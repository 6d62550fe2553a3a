package ui

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
)

// Signing in at the tenant's own host, without an application: where the
// welcome mail, the organization-links mail and the start page lead.
//
// The pages play a relying party of their own tenant (the tenant's start-page
// client, tenant.StartPageClient) and send the browser through
// /oauth2/authorize like any application would. So the very same sign-in
// runs: lockout, the temporary password and its forced change, a reset that
// is due, and every second-factor step the tenant asks for. It ends on
// tenant.PathWelcome, which reads who signed in from the SSO session those
// pages started. The authorization code that comes along is never redeemed:
// nothing here needs a token, and the PKCE verifier it is bound to is thrown
// away at once, so nobody else can redeem it either; it expires unused.

const tmplWelcome = "welcome"

type welcomePage struct {
	frame
	// Username is who is signed in; empty when nobody is.
	Username  string
	SignInURL string
}

func (welcomePage) template() string { return tmplWelcome }

// startSignIn sends the browser to the tenant's authorization endpoint for
// the start-page client. login_hint prefills the username.
func (p *Pages) startSignIn(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	redirectURI := p.origin(e) + tenant.PathWelcome
	client, err := p.Service.StartPageClient(r.Context(), e.slug(), redirectURI)
	if err != nil {
		return fmt.Errorf("start-page client: %w", err)
	}
	challenge := sha256.Sum256([]byte(rand.Text() + rand.Text()))
	q := url.Values{
		"client_id":             {client.ID},
		"redirect_uri":          {redirectURI},
		"response_type":         {"code"},
		"scope":                 {"openid"},
		"state":                 {rand.Text()},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}
	if hint := formLogin(r.URL.Query().Get("login_hint")); hint != "" {
		q.Set("login_hint", hint)
		// The link names someone: whoever is signed in here already (a
		// shared computer, the colleague who forwarded the invitation)
		// is not taken for them.
		if _, u, ok := p.Provider.Session(r, e.slug()); ok && !names(hint, u) {
			q.Set("prompt", "login")
		}
	}
	http.Redirect(w, r, provider.PathAuthorize+"?"+q.Encode(), http.StatusFound)
	return nil
}

// names reports whether login, as typed at sign-in, names u.
func names(login string, u tenant.User) bool {
	return tenant.FoldKey(login) == tenant.FoldKey(u.Username) || u.Email != "" && tenant.FoldKey(login) == tenant.FoldKey(u.Email)
}

// welcome ends a sign-in at the tenant's own host: the account is ready, and
// applications are where the person goes next.
func (p *Pages) welcome(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	page := &welcomePage{frame: p.frame(e, ""), SignInURL: tenant.PathSignIn}
	// A user deleted or disabled reads as nobody signed in: the page
	// offers to sign in.
	if _, u, ok := p.Provider.Session(r, e.slug()); ok {
		page.Username = u.Username
	}
	return p.render(w, http.StatusOK, page)
}
