package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// CSRF protection is a double submit: a random token in a host-only,
// HttpOnly cookie and the same token in a hidden field of every form. A
// forged cross-site POST cannot read the token to put it in the field.
// Sec-Fetch-Site (and, from older browsers, Origin) rejects cross-site and
// same-site POSTs before the token is looked at. Over https the cookie is
// named __Host-…, which a sibling subdomain cannot set, so one tenant's
// host cannot plant a token for another.
//
// The cookie is SameSite=Lax, not Strict. Every sign-in an application
// starts, and every link in a mail, is a navigation from another site, on
// which a browser does not send a Strict cookie; the page then had to set a
// new token, and that replaced the one the forms open in the browser's
// other tabs hold: two applications signing in at once, or a sign-in
// started while the account page was open, ended the first form in a 403.
// A Lax cookie is sent on those top-level GET navigations, so the page
// reuses the token. It still is not sent with a cross-site POST, and
// checkSameOrigin refuses those anyway; what Strict added beyond that
// (keeping the cookie from cross-site GETs, which change nothing and whose
// pages another site cannot read) is not worth the broken tabs. A
// per-form token derived from a stable cookie would need that cookie sent
// on the same navigations, so it would be Lax too, for no more safety.

const (
	csrfField = "csrf_token"
	// maxFormBody bounds what a page's POST may send: the forms are a few
	// short fields (a password is at most 256 characters).
	maxFormBody = 16 << 10
)

var (
	errCSRFCrossSite = errors.New("cross-site form post")
	errCSRFToken     = errors.New("missing or wrong form token")
)

// The two refusals read differently: a form whose token the browser no
// longer holds (the browser was closed in between, cookies were cleared)
// is stale, and reloading its page mends it; a post from another site is
// not the person's doing on our page at all.
const (
	msgCSRFExpired   msgKey = "error.csrf.expired"
	msgCSRFCrossSite msgKey = "error.csrf.crossSite"
)

// csrfCookie is the form token's cookie, set through Hosts.Cookie and so
// named __Host-cognate_csrf over https (Hosts.CookieName), as the session's
// is: a sibling host cannot plant a token of its own.
const csrfCookie = "cognate_csrf"

func (p *Pages) csrfCookieName() string { return p.Provider.Hosts().CookieName(csrfCookie) }

// validToken reports whether s looks like a token csrfToken made
// (rand.Text: 26 base32 characters).
func validToken(s string) bool {
	return len(s) == 26 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == ""
}

// csrfToken returns the browser's form token, setting a new cookie when the
// browser sent none. The cookie lasts as long as the browser session, and
// is sent on navigations from other sites too (SameSite=Lax, see above), so
// a token is replaced only when the browser holds none.
func (p *Pages) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(p.csrfCookieName()); err == nil && validToken(c.Value) {
		return c.Value
	}
	token := rand.Text()
	http.SetCookie(w, p.Provider.Hosts().Cookie(csrfCookie, token, 0, http.SameSiteLaxMode))
	return token
}

// parseForm reads a page's POST body, bounded, and checks that the post came
// from our own page: same-site signals first, then the token. origin is the
// origin the page was served from.
func (p *Pages) parseForm(w http.ResponseWriter, r *http.Request, origin string) error {
	if status, err := ReadForm(w, r, maxFormBody); err != nil {
		msg := msgBadForm
		if status == http.StatusRequestEntityTooLarge {
			msg = msgTooLarge
		}
		return &pageError{status: status, msg: msg, err: err}
	}
	if err := checkSameOrigin(r, origin); err != nil {
		return &pageError{status: http.StatusForbidden, msg: msgCSRFCrossSite, err: err}
	}
	c, err := r.Cookie(p.csrfCookieName())
	field := r.PostForm.Get(csrfField)
	if err != nil || !validToken(c.Value) || subtle.ConstantTimeCompare([]byte(c.Value), []byte(field)) != 1 {
		return &pageError{status: http.StatusForbidden, msg: msgCSRFExpired, err: errCSRFToken}
	}
	return nil
}

// checkSameOrigin rejects a request a browser marks as coming from another
// site. "same-site" is refused too: tenants are sibling subdomains, and one
// tenant's page must not post to another's. Without Sec-Fetch-Site, Origin
// must be ours; "null" (what a browser sends under Referrer-Policy:
// no-referrer) proves nothing either way and is left to the token.
func checkSameOrigin(r *http.Request, want string) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		if site == "same-origin" || site == "none" {
			return nil
		}
		return errCSRFCrossSite
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" && !strings.EqualFold(o, want) {
		return errCSRFCrossSite
	}
	return nil
}
