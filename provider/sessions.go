package provider

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// SSO sessions are records of tenant (tenant/session.go), started by
// tenant/auth with the records that finish a sign-in; here the browser gets
// its cookie, and later requests find their session through it.

// The cookies' names before Hosts.CookieName: every cookie is set through
// cookie and read through requestCookie, which both apply it.
const (
	sessionCookie = "cognate_session"
	bindingCookie = "cognate_login"
)

// SetSessionCookie gives the browser the token of the SSO session that its
// sign-in at slug started. The session the browser had there before, if
// any, ends: a sign-in again (prompt=login, max_age, the account page's
// step-up) replaces it rather than leave it valid beside the new one for
// whoever else holds its cookie. It leaves a note that it was replaced
// (replacedSession), so that a code its sign-in gave, not yet redeemed,
// still holds (signInHolds). Its end is queued (tenant.Store.Later), so it
// commits with the sign-in's own records.
func (p *Provider) SetSessionCookie(w http.ResponseWriter, r *http.Request, slug, token string) {
	if c, err := p.requestCookie(r, sessionCookie); err == nil && c.Value != "" && c.Value != token {
		previous, now := c.Value, p.now()
		p.store.Later(func(tx tenant.Tx) error { return replaceSession(tx, slug, previous, token, now) }, func(err error) {
			p.logger.Error("end the session a new sign-in replaced", "tenant", slug, "err", err)
		})
	}
	http.SetCookie(w, p.cookie(sessionCookie, token, tenant.SessionTTL))
}

// prefixReplacedSession is the key prefix, in tenant.CollSessions, of a
// replacedSession, after the ID of the session replaced.
const prefixReplacedSession = "replaced:"

// replacedSession is the note a session leaves when a newer sign-in in the
// same browser replaces it. It answers no request; it only lets a code of
// the replaced session's sign-in be redeemed while the browser's newer
// session, the one that replaced it, lives: logging out, or anything that
// ends the user's sessions (RevokeUser), ends that one, and with it what
// the note vouches for.
type replacedSession struct {
	Sub        string    `json:"sub"`
	ReplacedBy string    `json:"replaced_by"` // the Session.ID of the newer sign-in's session
	ExpiresAt  time.Time `json:"expires_at"`
}

// replacedSessionTTL is how long a replacedSession is kept: the longest a
// code can come from the replaced session, through an authorization
// request that it answered just before, and wait to be redeemed.
const replacedSessionTTL = authRequestTTL + codeTTL

// replaceSession ends the session of token previous, replaced by the
// session of token next, and notes the replacement (replacedSession). An
// unknown previous session (ended already) leaves no note.
func replaceSession(tx tenant.Tx, slug, previous, next string, now time.Time) error {
	old, err := tenant.SessionByToken(tx, slug, previous)
	if errors.Is(err, tenant.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := tenant.EndSession(tx, slug, previous); err != nil {
		return err
	}
	note := replacedSession{Sub: old.Sub, ReplacedBy: tenant.SessionID(next), ExpiresAt: now.Add(replacedSessionTTL)}
	return tenant.PutExpiring(tx, tenant.CollSessions, slug, prefixReplacedSession+old.ID, note, note.ExpiresAt)
}

// cookie builds one of the provider's cookies (Hosts.Cookie), SameSite=Lax
// so it still comes along when a relying party sends the browser to
// /oauth2/authorize.
func (p *Provider) cookie(name, value string, ttl time.Duration) *http.Cookie {
	return p.hosts.Cookie(name, value, ttl, http.SameSiteLaxMode)
}

// requestCookie is the request's cookie called name, as cookie names it: a
// cookie under the plain name is ignored over https, where only another
// host could have set it.
func (p *Provider) requestCookie(r *http.Request, name string) (*http.Cookie, error) {
	return r.Cookie(p.hosts.CookieName(name))
}

// ErrNoSession is ReadSession's answer for a browser without a live SSO
// session: no session cookie, a session unknown or expired, or one whose
// user is disabled or deleted.
var ErrNoSession = errors.New("no SSO session")

// ReadSession returns the live SSO session of the request's browser at
// slug, with its user as read with it: the pages need no second read,
// which could find the user deleted since. A session whose user is
// disabled or deleted is none (ErrNoSession). Any other error is a store
// that could not be read, which is not logged here: whether the browser
// has a session is not known, and the caller says so, or goes on as
// Session does.
func (p *Provider) ReadSession(r *http.Request, slug string) (tenant.Session, tenant.User, error) {
	c, err := p.requestCookie(r, sessionCookie)
	if err != nil || c.Value == "" {
		return tenant.Session{}, tenant.User{}, ErrNoSession
	}
	var sess tenant.Session
	var user tenant.User
	lookup := func(tx tenant.Tx) error {
		var err error
		if sess, err = tenant.SessionByToken(tx, slug, c.Value); err != nil {
			return err
		}
		user, err = tenant.GetUser(tx, slug, sess.Sub)
		return err
	}
	err = p.store.View(r.Context(), lookup)
	if errors.Is(err, tenant.ErrNotFound) {
		// A session started a moment ago may still wait in the store's
		// queue (tenant.Store.Later): commit the queue and look again.
		if err = p.store.Flush(r.Context()); err == nil {
			err = p.store.View(r.Context(), lookup)
		}
	}
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		return tenant.Session{}, tenant.User{}, ErrNoSession
	case err != nil:
		return tenant.Session{}, tenant.User{}, fmt.Errorf("read the SSO session: %w", err)
	case !p.now().Before(sess.ExpiresAt) || !user.Enabled:
		return tenant.Session{}, tenant.User{}, ErrNoSession
	}
	return sess, user, nil
}

// Session is ReadSession for the pages that go on whether the browser has
// a session or not (the person signs in, or is told they are signed out):
// a store that cannot be read reads as no session (ok false), and is
// logged here, at ERROR, since the caller cannot tell it from a browser
// without a session.
func (p *Provider) Session(r *http.Request, slug string) (tenant.Session, tenant.User, bool) {
	sess, user, err := p.ReadSession(r, slug)
	// A request the browser gave up on (the store refuses a cancelled
	// context) is no fault of the server's.
	if err != nil && !errors.Is(err, ErrNoSession) && r.Context().Err() == nil {
		p.logger.ErrorContext(r.Context(), "SSO session unreadable; taken as none", "tenant", slug, "err", err)
	}
	return sess, user, err == nil
}

// EndSession deletes the browser's session at slug and clears its cookie.
// A session the store could not delete is the error, and its cookie stays:
// the person is still signed in, and must be told so rather than that they
// are signed out. The caller logs the error.
func (p *Provider) EndSession(w http.ResponseWriter, r *http.Request, slug string) error {
	if c, err := p.requestCookie(r, sessionCookie); err == nil && c.Value != "" {
		err := p.store.Update(r.Context(), func(tx tenant.Tx) error { return tenant.EndSession(tx, slug, c.Value) })
		if err != nil {
			return fmt.Errorf("end the SSO session: %w", err)
		}
	}
	http.SetCookie(w, p.cookie(sessionCookie, "", -time.Second))
	return nil
}
