package console

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui"
)

// Console sessions. A host-only cookie (HttpOnly, SameSite=Strict, and over
// https Secure and named __Host-…, provider.Hosts.Cookie) holds a random
// value; the store keeps a record
// under its SHA-256 in the tenant's sessions, with an idle and an absolute
// expiry, which the sweeper deletes once passed. The record also holds the
// session's form token, so every form post proves it came from a console
// page of this session.

const (
	// Key prefixes in tenant.CollSessions, apart from the provider's own.
	prefixSession = tenant.ConsoleSessionPrefix // indexed by user: tenant.EndUserSessions ends them
	prefixLogin   = "console-login:"
	// loginTTL bounds the time from /admin/login to the callback.
	loginTTL = 15 * time.Minute
	// touchEvery is how stale LastSeen may get before a request writes it
	// again: an idle timeout needs no write on every page view.
	touchEvery = time.Minute
	// maxForm bounds a console form (the import upload has its own limit).
	maxForm   = 64 << 10
	csrfField = "csrf_token"
)

// session is a signed-in administrator's console session.
type session struct {
	ID        string    `json:"id"` // SHA-256 of the cookie value, hex
	Sub       string    `json:"sub"`
	AMR       []string  `json:"amr"`
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	// ExpiresAt is the idle expiry, never after CreatedAt+MaxAge; the
	// store's sweeper reads it.
	ExpiresAt time.Time `json:"expires_at"`
}

// pendingLogin is a sign-in the console has sent the browser off to.
type pendingLogin struct {
	Verifier  string    `json:"verifier"` // PKCE
	Nonce     string    `json:"nonce"`
	Next      string    `json:"next"`
	ExpiresAt time.Time `json:"expires_at"`
}

// The console's cookies are set as the provider's are
// (provider.Hosts.Cookie): named __Host-… over https, so that no sibling
// subdomain (another tenant's host, the apex) can plant a session or a
// sign-in state of its choosing. (__Secure-… would not stop that: a sibling
// may set such a cookie for the parent domain.) Their path is therefore /,
// not Base; they still reach only this host.
const (
	sessionCookie = "cognate_console"
	loginCookie   = "cognate_console_login"
)

func (c *Console) sessionCookieName() string { return c.Provider.Hosts().CookieName(sessionCookie) }

func (c *Console) loginCookieName() string { return c.Provider.Hosts().CookieName(loginCookie) }

// oldCookiePath is where the console's cookies were set before they moved
// to Path=/ (provider.Hosts.Cookie). Over plain http their names stayed the
// same, so a browser that still holds such a cookie sends it beside the new
// one, and first, as its path is longer, until it expires (up to MaxAge).
// So the console tries every cookie of a name (cookieValues), and expires
// the old ones at sign-in and sign-out (expireOldCookies). Over https the
// old ones were named __Secure-…, which nothing reads any more.
const oldCookiePath = Base

// maxSameNameCookies bounds the cookies of one name the console tries (a
// session cookie costs a store read): this host's and an old one
// (oldCookiePath) make two; the rest is room for any a sibling host set
// for the parent domain over plain http, which name no session here.
const maxSameNameCookies = 4

// cookieValues are the values of r's cookies named name, in the order the
// browser sent them, leaving out empty ones; at most maxSameNameCookies.
func cookieValues(r *http.Request, name string) []string {
	var values []string
	for _, ck := range r.CookiesNamed(name) {
		if ck.Value != "" && len(values) < maxSameNameCookies {
			values = append(values, ck.Value)
		}
	}
	return values
}

// expireOldCookies deletes the console's cookies at oldCookiePath. They are
// not cookies Hosts.Cookie builds: their path is not /.
func (c *Console) expireOldCookies(w http.ResponseWriter) {
	if c.Provider.Hosts().Secure() {
		return // their names were others (see oldCookiePath)
	}
	for _, name := range []string{sessionCookie, loginCookie} { // plain http: no prefix
		http.SetCookie(w, &http.Cookie{Name: name, Path: oldCookiePath, MaxAge: -1, HttpOnly: true})
	}
}

// safeNext keeps a return path inside the console: a path under /admin,
// with its query, but not the console's own sign-in or callback. Its dot
// segments are resolved first, escaped or not, as a browser (and
// http.Redirect) would resolve them, so that /admin/../login is /login and
// refused; and a control character, which would reach the Location header,
// refuses it, raw or escaped. Anything else is the users list.
func safeNext(next string) string {
	const fallback = Base + "/users"
	control := func(r rune) bool { return r < 0x20 || r == 0x7f }
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return control(r) || r == '\\' }) {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || strings.ContainsFunc(u.Path, control) {
		return fallback
	}
	// The path as it will be sent, with its escapes (a group's name may
	// hold an escaped slash) and its escaped dots resolved; and decoded,
	// as a server may read it. Both must be a console page.
	sent := cleanPath(strings.NewReplacer("%2e", ".", "%2E", ".").Replace(u.EscapedPath()))
	for _, p := range []string{sent, cleanPath(u.Path)} {
		if (p != Base && !strings.HasPrefix(p, Base+"/")) || p == callbackPath || strings.HasPrefix(p, Base+"/login") {
			return fallback
		}
	}
	if u.RawQuery != "" {
		sent += "?" + u.RawQuery
	}
	return sent
}

// cleanPath resolves the dot segments of p and drops empty ones, as
// http.Redirect does, keeping a trailing slash.
func cleanPath(p string) string {
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean
}

// startSignIn sends the browser to the tenant's authorization endpoint as
// the console client, with state, nonce and a PKCE challenge; the state
// also goes into a cookie, so only this browser can finish.
func (c *Console) startSignIn(w http.ResponseWriter, r *http.Request, q *request) error {
	if _, err := c.Service.ConsoleClient(r.Context(), q.slug(), q.origin+callbackPath, q.origin+signedOutPath); err != nil {
		return fmt.Errorf("console client: %w", err)
	}
	state, nonce, verifier := tenant.NewSecret(32), tenant.NewSecret(32), oauth2.GenerateVerifier()
	p := pendingLogin{Verifier: verifier, Nonce: nonce, Next: safeNext(r.URL.Query().Get("next")),
		ExpiresAt: c.now().Add(loginTTL)}
	err := c.Service.Store.Update(r.Context(), func(tx tenant.Tx) error {
		return tenant.PutExpiring(tx, tenant.CollSessions, q.slug(), prefixLogin+tenant.HashSecret(state), p, p.ExpiresAt)
	})
	if err != nil {
		return fmt.Errorf("store pending console sign-in: %w", err)
	}
	// Lax, not Strict: the callback arrives at the end of a redirect
	// chain, and this cookie only binds the state to the browser.
	http.SetCookie(w, c.Provider.Hosts().Cookie(loginCookie, state, loginTTL, http.SameSiteLaxMode))
	target := c.rp.oauth(q.origin).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// finishSignIn is the console client's redirect URI: it redeems the code,
// checks that the person may use the console, and starts a session.
func (c *Console) finishSignIn(w http.ResponseWriter, r *http.Request, q *request) error {
	query := r.URL.Query()
	if query.Get("error") != "" {
		// The provider refused (the person cancelled, say); the detail is
		// the provider's, for the log.
		return signInFailed("signin.failed", fmt.Errorf("authorization error %q", query.Get("error")))
	}
	p, err := c.consumePendingLogin(w, r, q, query.Get("state"))
	if err != nil {
		return err
	}
	id, err := c.rp.redeem(r.Context(), q.tenant, q.origin, query.Get("code"), p.Verifier, p.Nonce)
	if err != nil {
		return signInFailed("signin.failed", err)
	}
	user, err := c.Service.User(r.Context(), q.slug(), id.Sub)
	if errors.Is(err, tenant.ErrNotFound) {
		// Deleted since the sign-in: refused below like any
		// non-administrator, as authorize refuses a session's.
		user = tenant.User{Sub: id.Sub}
	} else if err != nil {
		return fmt.Errorf("read the administrator: %w", err)
	}
	ip := c.Provider.Hosts().ClientIP(r)
	actor := tenant.Actor{Kind: tenant.ActorUser, Sub: user.Sub, Name: user.Username, IP: ip}
	target := tenant.AuditTarget{Kind: tenant.TargetUser, ID: user.Sub, Name: user.Username}
	if refusal := c.refuse(q.tenant, user, id.AMR); refusal != nil {
		c.Service.RecordEvent(r.Context(), q.slug(), tenant.AuditEvent{Action: tenant.AuditConsoleDenied,
			Actor: actor, Target: target, Reason: refusal.reason})
		return refusal.page
	}
	if err := c.startSession(w, r, q.slug(), user.Sub, id.AMR); err != nil {
		return err
	}
	c.Service.RecordEvent(r.Context(), q.slug(), tenant.AuditEvent{Action: tenant.AuditConsoleSignIn,
		Actor: actor, Target: target, Details: map[string]string{"amr": strings.Join(id.AMR, ",")}})
	http.Redirect(w, r, p.Next, http.StatusSeeOther)
	return nil
}

// signInFailed is the page of a console sign-in that did not finish: msg
// says why, err is the detail for the log, and the way on is to sign in
// again.
func signInFailed(msg string, err error) error {
	return &pageError{status: http.StatusBadRequest, heading: "signin.failed.heading", msg: msg,
		link: &link{Base + "/login", "signin.again"}, err: err}
}

// consumePendingLogin takes the sign-in the callback's state names, once:
// only in the browser whose login cookie holds the state (which it
// expires), and only while the sign-in has not expired.
func (c *Console) consumePendingLogin(w http.ResponseWriter, r *http.Request, q *request, state string) (pendingLogin, error) {
	ours := func(value string) bool { return subtle.ConstantTimeCompare([]byte(value), []byte(state)) == 1 }
	if state == "" || !slices.ContainsFunc(cookieValues(r, c.loginCookieName()), ours) {
		return pendingLogin{}, signInFailed("signin.otherBrowser", errors.New("console callback without this browser's state"))
	}
	http.SetCookie(w, c.Provider.Hosts().Cookie(loginCookie, "", -time.Second, http.SameSiteLaxMode))
	c.expireOldCookies(w)
	var p pendingLogin
	key := prefixLogin + tenant.HashSecret(state)
	err := c.Service.Store.Update(r.Context(), func(tx tenant.Tx) (err error) {
		if p, err = tenant.GetJSON[pendingLogin](tx, tenant.CollSessions, q.slug(), key); err != nil {
			return err
		}
		return tx.Delete(tenant.CollSessions, q.slug(), key) // a state is good once
	})
	if errors.Is(err, tenant.ErrNotFound) || (err == nil && !c.now().Before(p.ExpiresAt)) {
		return pendingLogin{}, signInFailed("signin.expired", errors.New("console sign-in state unknown or expired"))
	}
	if err != nil {
		return pendingLogin{}, err
	}
	return p, nil
}

// startSession stores a new console session of sub, signed in with amr,
// indexed by user (tenant.EndUserSessions ends it), and gives the browser
// its cookie.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, slug, sub string, amr []string) error {
	value := tenant.NewSecret(32)
	now := c.now()
	s := session{ID: tenant.HashSecret(value), Sub: sub, AMR: amr,
		CSRF: tenant.NewSecret(24), CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(c.IdleTimeout)}
	err := c.Service.Store.Update(r.Context(), func(tx tenant.Tx) error {
		if err := tenant.PutExpiring(tx, tenant.CollSessions, slug, prefixSession+s.ID, s, s.ExpiresAt); err != nil {
			return err
		}
		return tx.Put(tenant.CollSessions, slug, userSessionKey(s.Sub, s.ID), []byte{})
	})
	if err != nil {
		return fmt.Errorf("store console session: %w", err)
	}
	http.SetCookie(w, c.Provider.Hosts().Cookie(sessionCookie, value, c.MaxAge, http.SameSiteStrictMode))
	return nil
}

// refusal is why someone who signed in may not use the console.
type refusal struct {
	reason string // audit reason code
	page   error
}

// refuse checks, on sign-in and on every request, that user may use the
// console: enabled, a member of the admin group and, unless the tenant's
// MFA policy is off, signed in with a second factor.
func (c *Console) refuse(t tenant.Tenant, user tenant.User, amr []string) *refusal {
	if !user.Enabled || !slices.Contains(user.Groups, t.Settings.AdminGroup) {
		return &refusal{tenant.ReasonNotAdmin, &pageError{status: http.StatusForbidden, heading: "noAccess.heading",
			msg: "noAccess.text", link: &link{"/", "noAccess.link"}, err: errors.New("not an administrator")}}
	}
	if t.Settings.MFA.Mode != tenant.MFAOff && !slices.Contains(amr, "mfa") {
		return &refusal{tenant.ReasonMFARequired, &pageError{status: http.StatusForbidden, heading: "mfa.heading",
			msg: "mfa.text", link: &link{"/account", "mfa.link"}, err: errors.New("administrator without MFA")}}
	}
	return nil
}

// admin serves a page behind a console session: the session must be live,
// the person still an administrator (read again now), and a form post
// must come from a console page of this session.
func (c *Console) admin(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := c.resolve(r)
		if err == nil {
			err = c.authorize(w, r, q)
		}
		if err == nil {
			actor := tenant.Actor{Kind: tenant.ActorAdmin, Sub: q.admin.Sub, Name: q.admin.Username, IP: c.Provider.Hosts().ClientIP(r)}
			r = r.WithContext(tenant.WithActor(r.Context(), actor))
			err = fn(w, r, q)
		}
		if errors.Is(err, errSignIn) {
			return
		}
		if err != nil {
			c.fail(w, r, q, err)
		}
	})
}

// errSignIn means authorize sent the browser to sign in.
var errSignIn = errors.New("console: signing in")

// authorize loads the session and the administrator into q.
func (c *Console) authorize(w http.ResponseWriter, r *http.Request, q *request) error {
	s, ok, err := c.loadSession(r, q.slug())
	if err != nil {
		return err
	}
	if !ok {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// A form sent after the session ended: say so rather than
			// lose the form in a redirect.
			return &pageError{status: http.StatusForbidden, heading: "expired.heading", msg: "expired.text",
				link: &link{Base + "/login", "signin.again"}}
		}
		http.Redirect(w, r, Base+"/login?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusFound)
		return errSignIn
	}
	user, err := c.Service.User(r.Context(), q.slug(), s.Sub)
	if errors.Is(err, tenant.ErrNotFound) {
		user = tenant.User{} // deleted: refused below like any non-administrator
	} else if err != nil {
		return fmt.Errorf("read the administrator: %w", err)
	}
	if refusal := c.refuse(q.tenant, user, s.AMR); refusal != nil {
		if refusal.reason == tenant.ReasonNotAdmin {
			c.endSession(w, r, q.slug())
		}
		return refusal.page
	}
	q.sess, q.admin = &s, user
	if r.Method == http.MethodPost {
		return c.checkForm(w, r, q)
	}
	return nil
}

// loadSession returns the request's live console session at slug,
// refreshing its idle expiry now and then: that of the first of its
// session cookies (cookieValues) that names one.
func (c *Console) loadSession(r *http.Request, slug string) (session, bool, error) {
	for _, value := range cookieValues(r, c.sessionCookieName()) {
		if s, ok, err := c.sessionOf(r, slug, value); ok || err != nil {
			return s, ok, err
		}
	}
	return session{}, false, nil
}

// sessionOf is loadSession for the cookie value.
func (c *Console) sessionOf(r *http.Request, slug, value string) (session, bool, error) {
	key := prefixSession + tenant.HashSecret(value)
	var s session
	err := c.Service.Store.View(r.Context(), func(tx tenant.Tx) (err error) {
		s, err = tenant.GetJSON[session](tx, tenant.CollSessions, slug, key)
		return err
	})
	if errors.Is(err, tenant.ErrNotFound) {
		return session{}, false, nil
	}
	if err != nil {
		return session{}, false, fmt.Errorf("read console session: %w", err)
	}
	now := c.now()
	if !now.Before(s.ExpiresAt) {
		return session{}, false, nil
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		s.LastSeen = now
		s.ExpiresAt = now.Add(c.IdleTimeout)
		if limit := s.CreatedAt.Add(c.MaxAge); s.ExpiresAt.After(limit) {
			s.ExpiresAt = limit
		}
		touched := s
		err := c.Service.Store.Batch(r.Context(), func(tx tenant.Tx) error {
			if _, err := tx.Get(tenant.CollSessions, slug, key); err != nil {
				return nil // ended meanwhile: do not bring it back
			}
			return tenant.PutExpiring(tx, tenant.CollSessions, slug, key, touched, touched.ExpiresAt)
		})
		if err != nil {
			return session{}, false, fmt.Errorf("refresh console session: %w", err)
		}
	}
	return s, true, nil
}

// userSessionKey is the index entry of a user's console session.
func userSessionKey(sub, id string) string {
	return tenant.UserConsoleSessionPrefix + sub + ":" + id
}

// endSession deletes the browser's console session and its cookie: every
// session its cookies name (cookieValues), and the old cookies too.
func (c *Console) endSession(w http.ResponseWriter, r *http.Request, slug string) {
	for _, value := range cookieValues(r, c.sessionCookieName()) {
		id := tenant.HashSecret(value)
		err := c.Service.Store.Update(r.Context(), func(tx tenant.Tx) error {
			s, err := tenant.GetJSON[session](tx, tenant.CollSessions, slug, prefixSession+id)
			if errors.Is(err, tenant.ErrNotFound) {
				return nil // ended already
			}
			if err != nil {
				return err
			}
			if err := tx.Delete(tenant.CollSessions, slug, userSessionKey(s.Sub, id)); err != nil {
				return err
			}
			return tx.Delete(tenant.CollSessions, slug, prefixSession+id)
		})
		if err != nil {
			c.Logger.ErrorContext(r.Context(), "end console session", "tenant", slug, "err", err)
		}
	}
	http.SetCookie(w, c.Provider.Hosts().Cookie(sessionCookie, "", -time.Second, http.SameSiteStrictMode))
	c.expireOldCookies(w)
}

// checkForm reads a console form post, bounded, and checks that it came
// from a console page of this session: same-origin signals first, then
// the session's form token.
func (c *Console) checkForm(w http.ResponseWriter, r *http.Request, q *request) error {
	if err := ui.CheckSameOrigin(r, q.origin); err != nil {
		return &pageError{status: http.StatusForbidden, msg: "error.csrf", err: err}
	}
	if r.Pattern == importRoute {
		// The import reads its upload as a stream and checks the token
		// first (importFields). No other form is multipart: there
		// ParseForm reads no fields, so the token is missing and refused.
		return nil
	}
	if status, err := ui.ReadForm(w, r, maxForm); err != nil {
		msg := "error.badForm"
		if status == http.StatusRequestEntityTooLarge {
			msg = "error.tooLarge"
		}
		return &pageError{status: status, msg: msg, err: err}
	}
	return c.checkToken(q, r.PostForm.Get(csrfField))
}

func (c *Console) checkToken(q *request, token string) error {
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(q.sess.CSRF)) != 1 {
		return &pageError{status: http.StatusForbidden, msg: "error.csrf", err: errors.New("missing or wrong console form token")}
	}
	return nil
}

// logout ends the console session and then the tenant's SSO session, by
// way of the provider's logout endpoint, which sends the browser back to
// the console's signed-out page.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, q *request) error {
	c.endSession(w, r, q.slug())
	target := provider.PathLogout + "?" + url.Values{
		"client_id":  {tenant.ConsoleClientID},
		"logout_uri": {q.origin + signedOutPath},
	}.Encode()
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// signedOut is where logout ends.
func (c *Console) signedOut(w http.ResponseWriter, r *http.Request, q *request) error {
	f := c.frame(q, "")
	return c.render(w, http.StatusOK, &messagePage{frame: f, Heading: f.T("signedOut.heading"),
		Message: f.T("signedOut.text"), Link: &link{Base + "/login", f.T("signin.again")}})
}
