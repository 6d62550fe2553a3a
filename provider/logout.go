package provider

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cognate-idp/cognate/provider/buffered"
)

// PathLogoutConfirm is the page that asks a person whether to sign out, and
// whose form ends the session (the pages serve it; see serveLogout).
const PathLogoutConfirm = "/logout/confirm"

// PathLoggedOut is the signed-out page (the pages serve it), where a
// logout without an application to return to ends.
const PathLoggedOut = "/logged-out"

// serveLogout ends the browser's SSO session, for a request in one of
// these forms:
//   - a registered logout address: Cognito's client_id and logout_uri, or
//     OIDC's client_id and post_logout_redirect_uri (one of the client's
//     logout URIs). The browser goes there.
//   - an id_token_hint of the user who is signed in (OpenID Connect
//     RP-Initiated Logout §2): the browser goes to the
//     post_logout_redirect_uri, if one is registered, else to the
//     signed-out page.
//   - Cognito's sign-in-again form: client_id, redirect_uri (one of the
//     client's callback URLs) and response_type=code, with state and
//     scope (serveRelogin).
//
// The library checks the first two (the client, the address) and a
// refused request leaves the session as it was, as the page it shows the
// person says. Any other request (a bare /logout, a logout_uri without a
// client, a hint of somebody else, a hint that does not verify: signed by
// a key retired since, or by another organization) is what any page
// on the web can send a browser to, the session cookie going along; it
// does not end the session, but sends the browser to PathLogoutConfirm,
// where the person confirms with a form that another site cannot send.
// Without a session there is nothing to end, and any request the library
// accepts goes on to where it says.
func (p *Provider) serveLogout(w http.ResponseWriter, r *http.Request) {
	site, _ := SiteFromContext(r.Context())
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, http.StatusBadRequest, ProblemBadRequest)
		return
	}
	if r.Form.Get("logout_uri") == "" && r.Form.Get("redirect_uri") != "" {
		p.serveRelogin(w, r, site.Slug)
		return
	}
	if lu := r.Form.Get("logout_uri"); lu != "" && r.Form.Get("post_logout_redirect_uri") == "" {
		q := r.URL.Query()
		q.Set("post_logout_redirect_uri", lu)
		q.Del("logout_uri")
		r.URL.RawQuery = q.Encode()
		r.Form = nil
		_ = r.ParseForm()
	}
	hintSub, err := p.logoutHintSubject(r, site.Slug)
	if err != nil {
		// Not the library's refusal, which leaves the person signed in
		// with a page saying the link does not work: RP-Initiated Logout
		// §4 forbids only the redirect to post_logout_redirect_uri, and
		// §2 has the OP ask the person. Without a session the page says
		// they are signed out.
		p.logger.InfoContext(r.Context(), "logout sent to the confirmation page: its id_token_hint does not verify",
			"tenant", site.Slug, "client_id", r.Form.Get("client_id"), "reason", hintRefusal(err))
		http.Redirect(w, r, PathLogoutConfirm, http.StatusFound)
		return
	}
	// The library answers a logout it accepts with its redirect, sent only
	// after validating the request; its answer is held, with headers of
	// its own, until it is known. The session ends then, so that the
	// cookie's removal goes out with the redirect; or, for a logout that
	// needs the person's confirmation, the redirect is dropped, its
	// headers with it, for one to the confirmation page. Other answers
	// (refusals) pass through.
	confirm, unread := p.logoutNeedsConfirmation(r, site.Slug, hintSub)
	var held buffered.Response
	p.op.ServeHTTP(&held, r)
	if held.Status() == http.StatusFound {
		switch {
		case unread != nil:
			// Whether there is a session to end is not known: the
			// confirmation page, which reads it again, says what it finds.
			p.logger.ErrorContext(r.Context(), "logout sent to the confirmation page: the SSO session could not be read",
				"tenant", site.Slug, "err", unread)
		case confirm:
			p.logger.InfoContext(r.Context(), "logout sent to the confirmation page: it names no registered address and no hint of the signed-in user",
				"tenant", site.Slug)
		}
		if confirm {
			http.Redirect(w, r, PathLogoutConfirm, http.StatusFound)
			return
		}
		if !p.endSession(w, r, site.Slug) {
			return
		}
	}
	held.Send(w)
}

// logoutHintSubject returns the subject of a logout request's
// id_token_hint, "" without one, or an error for a hint that does not
// verify (signed by a key retired since, or by another organization):
// that needs the person's word, session or not, and never leads to the
// address it came with.
func (p *Provider) logoutHintSubject(r *http.Request, slug string) (string, error) {
	hint := r.Form.Get("id_token_hint")
	if hint == "" {
		return "", nil
	}
	ctx := op.ContextWithIssuer(r.Context(), p.hosts.TenantURL(slug))
	return verifiedHintSubject(ctx, hint, p.op.IDTokenHintVerifier(ctx))
}

// logoutNeedsConfirmation reports whether a logout request would end a
// live session without saying where it came from: neither a logout
// address of a client nor an ID token of the user signed in (hintSub, the
// subject of its verified id_token_hint). A session the store could not
// read needs confirmation too; unread is why, for the caller to log once
// it knows the library accepts the request.
func (p *Provider) logoutNeedsConfirmation(r *http.Request, slug, hintSub string) (confirm bool, unread error) {
	if r.Form.Get("client_id") != "" && r.Form.Get("post_logout_redirect_uri") != "" {
		return false, nil // the library checks that the address is the client's
	}
	sess, _, err := p.ReadSession(r, slug)
	switch {
	case errors.Is(err, ErrNoSession):
		return false, nil // nothing to end
	case err != nil:
		return true, err
	}
	return hintSub == "" || hintSub != sess.Sub, nil
}

// endSession ends the browser's session at slug for a logout (EndSession).
// One the store could not end is answered with the page that says the
// person has not been signed out (ProblemSignOutFailed), and logged; false
// then, and the caller answers nothing more.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request, slug string) bool {
	if err := p.EndSession(w, r, slug); err != nil {
		p.logger.ErrorContext(r.Context(), "logout", "tenant", slug, "err", err)
		p.fail(w, r, http.StatusServiceUnavailable, ProblemSignOutFailed)
		return false
	}
	return true
}

// serveRelogin answers Cognito's /logout?client_id&redirect_uri&response_type
// form: the session ends and a new sign-in starts at the authorization
// endpoint, with the request's parameters. redirect_uri must be one of the
// client's callback URLs and response_type code; otherwise the session
// stays and the person reads that the link does not work. Besides state
// and scope, the parameters of PKCE, which every authorization request
// here needs, and nonce go along.
func (p *Provider) serveRelogin(w http.ResponseWriter, r *http.Request, slug string) {
	f := r.Form
	reason := ""
	st, err := p.cache.get(r.Context(), slug)
	if err != nil {
		p.logger.ErrorContext(r.Context(), "logout: load the organization", "tenant", slug, "err", err)
		p.fail(w, r, http.StatusServiceUnavailable, ProblemSignOutFailed)
		return
	}
	cl := st.clients[f.Get("client_id")]
	switch {
	case cl == nil:
		reason = "unknown client"
	case !slices.Contains(cl.Client.RedirectURIs, f.Get("redirect_uri")):
		reason = "redirect_uri is not one of the client's callback URLs"
	case f.Get("response_type") != string(oidc.ResponseTypeCode):
		reason = "response_type is not code"
	}
	if reason != "" {
		p.logger.InfoContext(r.Context(), "logout refused", "tenant", slug, "reason", reason, "client_id", f.Get("client_id"))
		p.fail(w, r, http.StatusBadRequest, ProblemSignOutLinkRefused)
		return
	}
	if !p.endSession(w, r, slug) {
		return
	}
	q := url.Values{}
	for _, param := range []string{"client_id", "redirect_uri", "response_type", "state", "scope", "nonce", "code_challenge", "code_challenge_method"} {
		if v := f.Get(param); v != "" {
			q.Set(param, v)
		}
	}
	http.Redirect(w, r, PathAuthorize+"?"+q.Encode(), http.StatusFound)
}
