package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/password"
)

// The sign-in pages drive tenant/auth's state machine: the password form
// starts a sign-in, each challenge has a page that answers it, and advance
// is the one place that maps an outcome to the next page.

// errNoChallengePage marks a challenge the pages cannot answer yet.
var errNoChallengePage = errors.New("no page for this sign-in challenge")

type loginPage struct {
	frame
	AuthRequestID string
	ClientName    string
	Login         string
	Error         string
	// PasskeyStyleURL, when set, offers passkey sign-in (mfa.go).
	PasskeyStyleURL string
	// SignInAgain says why a person who is signed in is asked to sign in
	// again (account.go); empty on other sign-ins.
	SignInAgain string
}

func (loginPage) template() string { return tmplLogin }

// newLoginPage is the login form of the sign-in lr, with login typed in.
func (p *Pages) newLoginPage(w http.ResponseWriter, r *http.Request, e env, lr provider.LoginRequest, login string) *loginPage {
	page := &loginPage{frame: p.loginFrame(w, r, e, lr), AuthRequestID: lr.ID, ClientName: lr.ClientName, Login: login,
		PasskeyStyleURL: p.passkeyStyle(e)}
	if lr.ClientID == tenant.StartPageClientID {
		// The organization's own pages are named after it: "Sign in to
		// Acme to continue to Acme" would say one thing twice.
		page.ClientName = ""
	}
	if lr.ID == accountSignInAgain {
		page.SignInAgain = e.lang.text(msgAccountSignInAgain, int(RecentSignInWindow.Minutes()))
	}
	return page
}

type newPasswordPage struct {
	frame
	AuthRequestID string
	Session       string
	Username      string
	Policy        []string
	Error         string
	// Invalid names the field the error is about (invalidField).
	Invalid string
	// Failed lists the requirements the last attempt missed.
	Failed []string
	// StepMinutes is the step's time limit, said on the page.
	StepMinutes int
}

func (newPasswordPage) template() string { return tmplNewPassword }

type resetRequiredPage struct {
	frame
	ResetURL string
}

func (resetRequiredPage) template() string { return tmplResetRequired }

type loggedOutPage struct {
	frame
	// SignInURL leads to the organization's own sign-in: a way on for
	// whoever did not mean to leave.
	SignInURL string
}

func (loggedOutPage) template() string { return tmplLoggedOut }

type tenantHomePage struct {
	frame
	Dev bool
	// DevCommand starts the example RP against this tenant; empty when no
	// client has its redirect URI, and then DevRedirectURI says which to add.
	DevCommand     string
	DevRPURL       string
	DevRedirectURI string
}

func (tenantHomePage) template() string { return tmplTenantHome }

// getLogin shows the sign-in form of an authorization request, or answers
// it at once from a live SSO session.
func (p *Pages) getLogin(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	query := r.URL.Query()
	id := query.Get("authRequestID")
	switch {
	case id == "" && (query.Has("client_id") || query.Has("response_type")):
		// Cognito's hosted-UI link (/login?client_id=…&response_type=code
		// &redirect_uri=…, the console's "View hosted UI"): its login
		// endpoint takes the authorization endpoint's parameters. Sent on
		// to that endpoint as they came, the request meets every one of its
		// checks, and its refusals, there.
		http.Redirect(w, r, provider.PathAuthorize+"?"+r.URL.RawQuery, http.StatusFound)
		return nil
	case id == "":
		// A bookmarked sign-in page, or one typed: without an application's
		// request, the organization's own sign-in is the one to show.
		http.Redirect(w, r, tenant.PathSignIn, http.StatusSeeOther)
		return nil
	}
	lr, err := p.loginRequest(r.Context(), &e, id)
	if err != nil {
		return err
	}
	sess, _, ok, lacksMFA := p.session(r, e)
	if ok && lr.SessionSatisfies(sess, p.Now()) {
		return p.complete(w, r, e, id, sess, http.StatusFound)
	}
	if lr.PromptNone() {
		p.Provider.FailLogin(w, r, e.slug(), id, provider.LoginRequired)
		return nil
	}
	// The browser that is shown the form is the one the request is bound
	// to once signed in: every form it sends from here carries the binding.
	p.Provider.BindBrowser(w, r)
	page := p.newLoginPage(w, r, e, lr, formLogin(lr.LoginHint))
	if lacksMFA {
		page.SignInAgain = e.lang.text(msgLoginMFANowDue)
	}
	return p.render(w, http.StatusOK, page)
}

// msgLoginMFANowDue says why a person signed in is asked to sign in again:
// signing in now asks them for a second step (session), because the
// organization's policy changed or a first factor was added in another
// session. The sentence names neither: the page cannot tell which.
const msgLoginMFANowDue msgKey = "login.mfaNowDue"

// session returns the browser's SSO session at e's tenant, and its user,
// when it counts as a sign-in (ok). lacksMFA is true for a live session
// that does not: its sign-in proved no second factor, and the
// organization's MFA policy now asks its user for one
// (auth.SessionMeetsPolicy). Such a session answers no relying party and
// opens no account page; the person signs in again, with the second factor
// or its set-up.
func (p *Pages) session(r *http.Request, e env) (sess tenant.Session, user tenant.User, ok, lacksMFA bool) {
	sess, user, ok = p.Provider.Session(r, e.slug())
	if !ok {
		return tenant.Session{}, tenant.User{}, false, false
	}
	if !auth.SessionMeetsPolicy(e.tenant, user, sess.AMR) {
		return tenant.Session{}, tenant.User{}, false, true
	}
	return sess, user, true, false
}

// The events of the sign-in pages' refusal lines (logRefusal).
const (
	signInRefused      = "sign-in refused"
	newPasswordRefused = "new password refused"
)

// errImpossibleName: the name typed is one no user can have (too long, or
// with characters no name has).
var errImpossibleName = errors.New("not a possible name")

// postLogin checks a username and password.
func (p *Pages) postLogin(w http.ResponseWriter, r *http.Request) error {
	e, lr, err := p.signInForm(w, r)
	if err != nil {
		return err
	}
	typed := strings.TrimSpace(r.PostForm.Get("login"))
	login := formLogin(typed)
	pw := r.PostForm.Get("password")
	page := p.newLoginPage(w, r, e, lr, login)
	if login == "" || pw == "" {
		p.logRefusal(r, e, signInRefused, errFieldEmpty)
		page.Error = e.lang.text(msgLoginMissing)
		return p.render(w, http.StatusUnprocessableEntity, page)
	}
	if login != typed {
		// Too long, or with characters no name has: no user is called
		// that, and the state machine, which counts failures per name,
		// never sees it. It reads as any wrong password.
		p.logRefusal(r, e, signInRefused, errImpossibleName)
		page.Error = e.lang.text(msgLoginIncorrect)
		return p.render(w, http.StatusUnprocessableEntity, page)
	}

	res, err := p.Auth.Start(r.Context(), e.slug(), auth.Credentials{Login: login, Password: pw, ClientIP: p.clientIP(r)})
	// Every refusal reads the same whoever asks, whether or not the name
	// exists: the state machine already folds the causes together.
	switch {
	case errors.Is(err, auth.ErrNotAuthorized):
		if !errors.Is(err, auth.ErrAccountChanged) { // else the state machine logged it
			p.logRefusal(r, e, signInRefused, err)
		}
		page.Error = e.lang.text(msgLoginIncorrect)
		return p.render(w, http.StatusUnprocessableEntity, page)
	case errors.Is(err, auth.ErrLocked):
		p.logRefusal(r, e, signInRefused, err)
		page.Error = e.lang.text(msgLoginLocked)
		return p.render(w, http.StatusTooManyRequests, page)
	case errors.Is(err, auth.ErrTempPasswordExpired):
		p.logRefusal(r, e, signInRefused, err)
		page.Error = e.lang.text(msgLoginTempExpired)
		return p.render(w, http.StatusUnprocessableEntity, page)
	case errors.Is(err, auth.ErrTemporarilyUnavailable):
		// The tenant's legacy pool, which must check this password, did
		// not answer (tenant/auth, migrate.go logged why). Not a wrong
		// password: the form stays, to try again.
		w.Header().Set("Retry-After", "120")
		page.Error = e.lang.text(msgLoginUnavailable)
		return p.render(w, http.StatusServiceUnavailable, page)
	case err != nil:
		return fmt.Errorf("start sign-in: %w", err)
	}
	return p.advance(w, r, e, lr, res)
}

// postNewPassword answers NEW_PASSWORD_REQUIRED.
func (p *Pages) postNewPassword(w http.ResponseWriter, r *http.Request) error {
	e, lr, err := p.signInForm(w, r)
	if errors.Is(err, provider.ErrUnknownLoginRequest) && p.newPasswordSaved(r, e) {
		// The form sent again after it finished the sign-in, and the
		// application took its code: the sign-in is gone, the password
		// is not.
		return passwordAlreadySaved(tenant.PathSignIn, err)
	}
	if err != nil {
		return err
	}
	f, id := r.PostForm, lr.ID
	session := f.Get("session")
	if session == "" {
		return p.startAgain(id, fmt.Errorf("%w: new-password form without a challenge session", errFormMismatch))
	}
	page := p.newPasswordPage(w, r, e, lr, session, f.Get("username"))
	newPw, confirm := f.Get("new_password"), f.Get("confirm_password")
	refuse := func(status int, msg msgKey, cause error) error {
		p.logRefusal(r, e, newPasswordRefused, cause)
		page.Error, page.Invalid = e.lang.text(msg), invalidField(msg, f, "new_password", "confirm_password")
		return p.render(w, status, page)
	}
	switch {
	case newPw == "" || confirm == "":
		return refuse(http.StatusUnprocessableEntity, msgNewPwMissing, errFieldEmpty)
	case newPw != confirm:
		return refuse(http.StatusUnprocessableEntity, msgNewPwMismatch, errPasswordsDiffer)
	}

	res, err := p.Auth.Respond(r.Context(), e.slug(), session,
		auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: newPw, ClientIP: p.clientIP(r)})
	switch {
	case errors.Is(err, password.ErrPolicy):
		page.Failed = e.lang.failedRules(err, e.tenant.Settings.PasswordPolicy)
		return refuse(http.StatusUnprocessableEntity, msgNewPwPolicyFailed, err)
	case errors.Is(err, auth.ErrPasswordUnchanged):
		return refuse(http.StatusUnprocessableEntity, msgNewPwUnchanged, err)
	case errors.Is(err, auth.ErrSessionExpired) && p.newPasswordSaved(r, e):
		// Sent again while the application has not yet taken the code:
		// the sign-in goes on from its start, which the SSO session
		// answers at once.
		return passwordAlreadySaved(signInAgainLink(id).href, err)
	case errors.Is(err, auth.ErrSessionExpired), errors.Is(err, auth.ErrWrongChallenge), errors.Is(err, auth.ErrNotAuthorized):
		// A disabled account also lands here: starting again then ends
		// at the generic refusal, which tells nothing more.
		return p.startAgain(id, err)
	case err != nil:
		return fmt.Errorf("answer new-password challenge: %w", err)
	}
	return p.advance(w, r, e, lr, res)
}

// newPasswordSaved reports whether a new-password form was sent again
// after it succeeded (a double click, a reload, Back): the browser is
// signed in as the user the form names, who has no temporary password to
// change any more, and the form's password is the one stored. The sign-in
// that set the password started the session, so only the browser that sent
// the form first learns anything from this.
//
// The form sent again with another password (Back, retyped) is not what
// was saved: it reads as a sign-in that has ended, as any other late form,
// and says nothing of whether that password matched. The check costs a
// verification, bounded as every other by the hasher's limit; only a
// browser signed in as the form's user gets that far.
func (p *Pages) newPasswordSaved(r *http.Request, e env) bool {
	username, newPw := r.PostForm.Get("username"), r.PostForm.Get("new_password")
	if e.site.Apex || username == "" || newPw == "" || newPw != r.PostForm.Get("confirm_password") {
		return false
	}
	_, u, ok := p.Provider.Session(r, e.slug())
	if !ok || !names(username, u) || u.Status == tenant.StatusForceChangePassword || u.PasswordHash == "" {
		return false
	}
	// A hash that cannot be checked is no match: the refusal's log line
	// follows, and a sign-in with the password would meet it too.
	same, _, err := p.Service.Hasher.Verify(r.Context(), u.PasswordHash, newPw)
	return err == nil && same
}

// passwordAlreadySaved is the page of a new-password form sent again after
// it succeeded: it says so, rather than that the sign-in expired, and leads
// on (to href) with the session that sign-in started.
func passwordAlreadySaved(href string, err error) error {
	return &pageError{status: http.StatusConflict, heading: msgNewPwSavedHead, msg: msgNewPwSaved,
		next: &next{href, msgNewPwSavedLink}, err: err}
}

// advance shows the next step of a sign-in. Every outcome of the state
// machine passes through this one switch: a new challenge is one new case.
func (p *Pages) advance(w http.ResponseWriter, r *http.Request, e env, lr provider.LoginRequest, res auth.Result) error {
	switch res.Challenge {
	case "": // res.Done(): authenticated
		// The machine started the SSO session with the sign-in.
		if res.SSOSession != "" {
			p.Provider.SetSessionCookie(w, r, e.slug(), res.SSOSession)
		}
		if len(res.RecoveryCodes) > 0 { // a first factor was set up
			return p.showRecoveryCodes(w, r, e, lr, res)
		}
		return p.complete(w, r, e, lr.ID, res.SignedIn(), http.StatusSeeOther)
	case auth.NewPasswordRequired:
		return p.render(w, http.StatusOK, p.newPasswordPage(w, r, e, lr, res.Session, res.Username))
	case auth.PasswordResetRequired:
		// Only someone who typed this user's password gets here (see
		// tenant/auth); the way on is a code by mail, for this sign-in.
		page := &resetRequiredPage{frame: p.frame(e, ""),
			ResetURL: withParams("/forgot-password", "authRequestID", lr.ID, "login", res.Username)}
		return p.render(w, http.StatusOK, page)
	case auth.SoftwareTokenMFA, auth.WebAuthn, auth.SelectMFAType, auth.MFASetup:
		return p.mfaPage(w, r, e, lr, res)
	default:
		return &pageError{status: http.StatusNotImplemented, heading: msgStepUnavailableH, msg: msgStepUnavailable,
			err: fmt.Errorf("%w: %s", errNoChallengePage, res.Challenge)}
	}
}

// complete marks the authorization request signed in by the sign-in of
// sess, the SSO session it started or was answered from, and sends the
// browser on to the provider's callback, which hands the relying party its
// code.
func (p *Pages) complete(w http.ResponseWriter, r *http.Request, e env, id string, sess tenant.Session, status int) error {
	next, err := p.completionURL(w, r, e, id, sess)
	if err != nil {
		return err
	}
	http.Redirect(w, r, next, status)
	return nil
}

// completionURL completes the authorization request as complete does, but
// returns where to go instead of going there (the recovery codes page
// shows it as its way on).
func (p *Pages) completionURL(w http.ResponseWriter, r *http.Request, e env, id string, sess tenant.Session) (string, error) {
	if next, ok := accountReturn(id); ok { // a sign-in from the account page (account.go)
		return next, nil
	}
	next, err := p.Provider.CompleteLogin(w, r, e.slug(), id, sess)
	if errors.Is(err, provider.ErrUnknownLoginRequest) {
		return "", expiredLink(err)
	}
	if err != nil {
		return "", fmt.Errorf("complete login: %w", err)
	}
	return next, nil
}

// signInForm reads the posted form of a sign-in step: the tenant, the form
// itself (its CSRF token checked) and the authorization request it belongs
// to.
func (p *Pages) signInForm(w http.ResponseWriter, r *http.Request) (env, provider.LoginRequest, error) {
	e, err := p.env(r)
	if err != nil {
		return env{}, provider.LoginRequest{}, err
	}
	if err := p.parseForm(w, r, p.origin(e)); err != nil {
		return env{}, provider.LoginRequest{}, err
	}
	lr, err := p.loginRequest(r.Context(), &e, r.PostForm.Get("authRequestID"))
	return e, lr, err
}

// loginRequest reads the pending authorization request a page belongs to,
// and has the page speak the language the application asked for
// (speakAsAsked).
func (p *Pages) loginRequest(ctx context.Context, e *env, id string) (provider.LoginRequest, error) {
	if id == "" {
		return provider.LoginRequest{}, expiredLink(errors.New("no authRequestID"))
	}
	switch id { // sign-ins from the account page (account.go)
	case accountLogin:
		return provider.LoginRequest{ID: accountLogin, ClientName: e.lang.text(msgAccountClientName)}, nil
	case accountSignInAgain:
		// As a relying party's max_age: a session older than the window
		// does not answer this sign-in, the password form does.
		window := RecentSignInWindow
		return provider.LoginRequest{ID: accountSignInAgain, ClientName: e.lang.text(msgAccountClientName), MaxAge: &window}, nil
	}
	lr, err := p.Provider.LoginRequest(ctx, e.slug(), id)
	if errors.Is(err, provider.ErrUnknownLoginRequest) {
		return provider.LoginRequest{}, expiredLink(err)
	}
	if err != nil {
		return provider.LoginRequest{}, fmt.Errorf("read sign-in request: %w", err)
	}
	e.speakAsAsked(lr)
	return lr, nil
}

// speakAsAsked has the pages of a sign-in speak the first language of its
// ui_locales that they speak, before the browser's and the
// organization's (chooseLang); the pages offer no choice of their own.
func (e *env) speakAsAsked(lr provider.LoginRequest) {
	if l, ok := requestedLang(lr.UILocales); ok {
		e.lang, e.langAsked = l, true
	}
}

// speakAsSignIn is speakAsAsked for a page that comes from the sign-in
// authRequestID (forgot-password's), if it is still open.
func (p *Pages) speakAsSignIn(ctx context.Context, e *env, authRequestID string) {
	if authRequestID == "" {
		return
	}
	if lr, err := p.Provider.LoginRequest(ctx, e.slug(), authRequestID); err == nil {
		e.speakAsAsked(lr)
	}
}

// expiredLink is the page of a sign-in that is gone: the link expired, or
// the sign-in finished and the browser came Back to it. The way back is
// the application's; the way on from here is the organization's own
// sign-in, which a live SSO session answers at once.
func expiredLink(err error) error {
	return &pageError{status: http.StatusBadRequest, heading: msgLoginExpiredHead, msg: msgLoginExpired, err: err,
		next: ownSignInLink(), reported: errors.Is(err, provider.ErrOtherBrowser)}
}

// ownSignInLink leads to the organization's own sign-in (tenant.PathSignIn).
func ownSignInLink() *next { return &next{tenant.PathSignIn, msgLoginExpiredLink} }

// errFormMismatch marks a sign-in form that cannot belong to its step (a
// field missing that the page always sends).
var errFormMismatch = errors.New("form does not fit the sign-in step")

// startAgain ends a step of a sign-in that cannot go on, saying why in
// plain words: the request does not fit the step (a wrong challenge or
// kind, a tampered form), the flow has ended, or it is gone
// (auth.ErrSessionExpired). A flow is gone when its step took longer than
// the state machine waits (stepMinutes), or when it was finished already
// (the form sent again after it succeeded: a reload, two tabs); the state
// machine does not tell these two apart, so the sentence names the time
// limit and offers both, never claiming that the person was too slow. Any
// other end (a disabled account, a conflict) reads as the generic
// sentence, which tells nothing more.
func (p *Pages) startAgain(authRequestID string, err error) error {
	heading, msg := msgSignInEndedHead, msgSignInEnded
	switch {
	case errors.Is(err, auth.ErrWrongChallenge) || errors.Is(err, errFormMismatch):
		heading, msg = "", msgStepMismatch
	case errors.Is(err, auth.ErrSessionExpired):
		return p.stepGone(authRequestID, msgSignInExpired, err)
	}
	// A sign-in voided because its account changed was logged by the
	// state machine, which knows whose it was: one line per refusal.
	return &pageError{status: http.StatusBadRequest, heading: heading, msg: msg, err: err, next: signInAgainLink(authRequestID),
		reported: errors.Is(err, auth.ErrAccountChanged)}
}

// stepGone is startAgain's page for a flow that is gone: msg is a sentence
// with the time limit's minutes as its one %d.
func (p *Pages) stepGone(authRequestID string, msg msgKey, err error) error {
	return &pageError{status: http.StatusBadRequest, heading: msgSignInEndedHead, msg: msg, args: []any{p.stepMinutes()}, err: err,
		next: signInAgainLink(authRequestID)}
}

// stepMinutes is how long a step of a sign-in waits for its answer
// (auth.Machine.StepTime), in whole minutes, as the pages state it.
func (p *Pages) stepMinutes() int { return int(p.Auth.StepTime().Minutes()) }

// signInAgainLink starts the sign-in authRequestID from its login page.
func signInAgainLink(authRequestID string) *next {
	return &next{loginURL(authRequestID), msgNewPwStartAgain}
}

// loginURL is the login page of the sign-in authRequestID.
func loginURL(authRequestID string) string {
	return "/login?authRequestID=" + url.QueryEscape(authRequestID)
}

// loginFrame is the frame of a page whose form ends the sign-in: after the
// POST the browser is redirected to the relying party, and CSP form-action
// governs those redirects too, so the client's redirect origins are allowed.
func (p *Pages) loginFrame(w http.ResponseWriter, r *http.Request, e env, lr provider.LoginRequest) frame {
	f := p.frame(e, p.csrfToken(w, r))
	f.formAction = append(f.formAction, p.origin(e))
	if c, err := p.Service.Client(r.Context(), e.slug(), lr.ClientID); err == nil {
		for _, u := range c.RedirectURIs {
			if o := origin(u); o != "" && !slices.Contains(f.formAction, o) {
				f.formAction = append(f.formAction, o)
			}
		}
	}
	return f
}

func (p *Pages) newPasswordPage(w http.ResponseWriter, r *http.Request, e env, lr provider.LoginRequest, session, username string) *newPasswordPage {
	return &newPasswordPage{
		frame:         p.loginFrame(w, r, e, lr),
		AuthRequestID: lr.ID,
		Session:       session,
		Username:      username,
		Policy:        e.lang.policyText(e.tenant.Settings.PasswordPolicy),
		StepMinutes:   p.stepMinutes(),
	}
}

// clientIP is the address lockout counts failures against.
func (p *Pages) clientIP(r *http.Request) string { return p.Provider.Hosts().ClientIP(r) }

// loggedOut is where the provider's /logout ends without a relying party
// to return to.
func (p *Pages) loggedOut(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	return p.render(w, http.StatusOK, &loggedOutPage{frame: p.frame(e, ""), SignInURL: tenant.PathSignIn})
}

// tenantHome is a tenant's start page. It says that an application brings
// a person here to sign in, and offers a Sign in button to
// tenant.PathSignIn, the sign-in at the tenant itself (startpage.go), for
// a person with no application at hand (the first time, with an
// invitation's temporary password); in development mode it shows how to
// run the example application.
func (p *Pages) tenantHome(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	page := &tenantHomePage{frame: p.frame(e, ""), Dev: p.Dev}
	if p.Dev {
		callback := DevExampleRPURL + "/callback"
		page.DevRPURL = DevExampleRPURL + "/"
		page.DevRedirectURI = callback
		clients, err := p.Service.Clients(r.Context(), e.slug())
		if err != nil {
			return fmt.Errorf("list clients: %w", err)
		}
		for _, c := range clients {
			if slices.Contains(c.RedirectURIs, callback) {
				page.DevCommand = "go run ./cmd/example-rp --issuer " + p.origin(e) + " --client-id " + c.ID
				if !c.Public() {
					page.DevCommand += " --client-secret …"
				}
				break
			}
		}
	}
	return p.render(w, http.StatusOK, page)
}
