package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/password"
)

// "Forgot your password?": a code by mail, then the code with a new password
// (tenant.StartPasswordReset, ConfirmPasswordReset). The pages say the same
// whether or not the name belongs to an account; the service makes sure the
// answers behind them do too.
//
// A sign-in in progress (authRequestID) is carried through, so that after
// the reset the person signs in with the new password and goes on to the
// application that sent them. A reset never signs anyone in by itself: the
// sign-in that follows runs every step the tenant asks for.

const (
	tmplForgotPassword = "forgot_password"
	tmplResetPassword  = "reset_password"
	tmplResetDone      = "reset_done"
)

const (
	msgForgotMissing     msgKey = "forgot.missing"
	msgForgotRateLimited msgKey = "forgot.rateLimited"
	msgResetMissing      msgKey = "resetpw.missing"
	msgResetCodeWrong    msgKey = "resetpw.codeWrong"
	msgResetCodeExpired  msgKey = "resetpw.codeExpired"
	msgResetCodeAttempts msgKey = "resetpw.codeAttempts"
)

// resetRefused is the event of the reset pages' refusal lines (logRefusal).
const resetRefused = "password reset refused"

type forgotPasswordPage struct {
	frame
	AuthRequestID string
	Login         string
	Error         string
	BackURL       string
}

func (forgotPasswordPage) template() string { return tmplForgotPassword }

type resetPasswordPage struct {
	frame
	AuthRequestID string
	Login         string
	Code          string
	// Sent says a code may be on its way: the page right after asking.
	Sent   bool
	Policy []string
	Error  string
	// Invalid names the field the error is about (invalidField).
	Invalid string
	// Failed lists the requirements the last attempt missed.
	Failed []string
	// OfferNewCode puts the way to a new code in the error.
	OfferNewCode bool
	NewCodeURL   string
}

func (resetPasswordPage) template() string { return tmplResetPassword }

type resetDonePage struct {
	frame
	SignInURL string
}

func (resetDonePage) template() string { return tmplResetDone }

// maxLogin bounds a typed username or email address (Cognito: 128
// characters for a username; an address may be longer).
const maxLogin = 256

// formLogin reads a login name from a form or query: trimmed and bounded.
func formLogin(v string) string { return formText(v, maxLogin) }

// formText makes a typed name (a login, an organization, a factor's name)
// fit to be shown again and used as a key: valid UTF-8 (the pages are),
// without control characters or the invisible ones that turn text around,
// trimmed, and at most max characters, cut between characters, never
// inside one.
func formText(v string, max int) string {
	v = strings.ToValidUTF8(v, "")
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, v)
	v = strings.TrimSpace(v)
	n := 0
	for i := range v {
		if n == max {
			return strings.TrimSpace(v[:i])
		}
		n++
	}
	return v
}

// formAuthRequestID keeps an authRequestID only when it looks like one; it
// is checked against the provider where it is used, at the end.
func formAuthRequestID(v string) string {
	if len(v) > 128 || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return ""
	}
	return v
}

// formCode keeps the digits of a typed code: people paste "123 456".
func formCode(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			if b.Len() < 16 {
				b.WriteRune(r)
			}
		case r == ' ' || r == '-' || r == '\u00a0':
		default:
			// Anything else makes it a wrong code, which is what it is.
			return strings.TrimSpace(v)
		}
	}
	return b.String()
}

func withParams(path string, params ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		if params[i+1] != "" {
			q.Set(params[i], params[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func (p *Pages) forgotPage(w http.ResponseWriter, r *http.Request, e env, id, login string) *forgotPasswordPage {
	back := tenant.PathSignIn
	if id != "" {
		back = loginURL(id)
	}
	return &forgotPasswordPage{frame: p.frame(e, p.csrfToken(w, r)), AuthRequestID: id, Login: login, BackURL: back}
}

func (p *Pages) resetPage(w http.ResponseWriter, r *http.Request, e env, id, login string) *resetPasswordPage {
	return &resetPasswordPage{
		frame:         p.frame(e, p.csrfToken(w, r)),
		AuthRequestID: id,
		Login:         login,
		Policy:        e.lang.policyText(e.tenant.Settings.PasswordPolicy),
		NewCodeURL:    withParams("/forgot-password", "authRequestID", id, "login", login),
	}
}

func (p *Pages) getForgotPassword(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	id := formAuthRequestID(q.Get("authRequestID"))
	p.speakAsSignIn(r.Context(), &e, id)
	return p.render(w, http.StatusOK, p.forgotPage(w, r, e, id, formLogin(q.Get("login"))))
}

// postForgotPassword asks for a code and shows the form to enter it. The
// answer is a page rather than a redirect, so that the name typed stays out
// of URLs and logs; sending the form twice sends no second mail (the service
// allows one code a minute) and the first code keeps working.
func (p *Pages) postForgotPassword(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	if err := p.parseForm(w, r, p.origin(e)); err != nil {
		return err
	}
	id, login := formAuthRequestID(r.PostForm.Get("authRequestID")), formLogin(r.PostForm.Get("login"))
	p.speakAsSignIn(r.Context(), &e, id)
	if login == "" {
		p.logRefusal(r, e, resetRefused, errFieldEmpty)
		page := p.forgotPage(w, r, e, id, login)
		page.Error = e.lang.text(msgForgotMissing)
		return p.render(w, http.StatusUnprocessableEntity, page)
	}
	// The code's mail speaks the language the person chose for these
	// pages, if they chose one.
	err = p.Service.StartPasswordReset(r.Context(), e.slug(), tenant.ResetRequest{Login: login, ClientIP: p.clientIP(r), Locale: e.mailLocale()})
	switch {
	case errors.Is(err, tenant.ErrRateLimited):
		p.logRefusal(r, e, resetRefused, err)
		page := p.forgotPage(w, r, e, id, login)
		page.Error = e.lang.text(msgForgotRateLimited)
		return p.render(w, http.StatusTooManyRequests, page)
	case err != nil:
		return fmt.Errorf("start password reset: %w", err)
	}
	p.Logger.InfoContext(r.Context(), "password reset requested", "tenant", e.slug(), "client_ip", p.clientIP(r))
	page := p.resetPage(w, r, e, id, login)
	page.Sent = true
	return p.render(w, http.StatusOK, page)
}

// getResetPassword is where the administrator's reset mail leads: the form
// for the code it carries.
func (p *Pages) getResetPassword(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	id := formAuthRequestID(q.Get("authRequestID"))
	p.speakAsSignIn(r.Context(), &e, id)
	return p.render(w, http.StatusOK, p.resetPage(w, r, e, id, formLogin(q.Get("login"))))
}

func (p *Pages) postResetPassword(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	if err := p.parseForm(w, r, p.origin(e)); err != nil {
		return err
	}
	f := r.PostForm
	id, login, code := formAuthRequestID(f.Get("authRequestID")), formLogin(f.Get("login")), formCode(f.Get("code"))
	p.speakAsSignIn(r.Context(), &e, id)
	newPw, confirm := f.Get("new_password"), f.Get("confirm_password")
	page := p.resetPage(w, r, e, id, login)
	page.Code = code
	// The fields as read (a login or code of spaces is empty), for
	// invalidField to find the empty one the refusal is about.
	read := url.Values{"login": {login}, "code": {code}, "new_password": {newPw}, "confirm_password": {confirm}}
	switch {
	case login == "" || code == "" || newPw == "" || confirm == "":
		p.logRefusal(r, e, resetRefused, errFieldEmpty)
		page.Error, page.Invalid = e.lang.text(msgResetMissing), invalidField(msgResetMissing, read, resetFields...)
		return p.render(w, http.StatusUnprocessableEntity, page)
	case newPw != confirm:
		p.logRefusal(r, e, resetRefused, errPasswordsDiffer)
		page.Error, page.Invalid = e.lang.text(msgNewPwMismatch), invalidField(msgNewPwMismatch, read, resetFields...)
		return p.render(w, http.StatusUnprocessableEntity, page)
	}

	err = p.Service.ConfirmPasswordReset(r.Context(), e.slug(), login, code, newPw)
	status := http.StatusUnprocessableEntity
	switch {
	case err == nil:
		p.Logger.InfoContext(r.Context(), "password reset", "tenant", e.slug(), "client_ip", p.clientIP(r))
		return p.render(w, http.StatusOK, &resetDonePage{frame: p.frame(e, ""), SignInURL: p.afterReset(r, e, id, login)})
	case errors.Is(err, tenant.ErrCodeMismatch):
		page.Code, page.Error, page.Invalid = "", e.lang.text(msgResetCodeWrong), "code"
	case errors.Is(err, tenant.ErrCodeExpired):
		page.Code, page.Error, page.Invalid, page.OfferNewCode = "", e.lang.text(msgResetCodeExpired), "code", true
	case errors.Is(err, tenant.ErrCodeAttempts):
		page.Code, page.Error, page.Invalid, page.OfferNewCode = "", e.lang.text(msgResetCodeAttempts), "code", true
		status = http.StatusTooManyRequests
	case errors.Is(err, password.ErrPolicy):
		page.Error, page.Invalid = e.lang.text(msgNewPwPolicyFailed), "new_password"
		page.Failed = e.lang.failedRules(err, e.tenant.Settings.PasswordPolicy)
	default:
		return fmt.Errorf("confirm password reset: %w", err)
	}
	p.logRefusal(r, e, resetRefused, err)
	return p.render(w, status, page)
}

// resetFields are the reset form's fields, in the order the page shows them.
var resetFields = []string{"login", "code", "new_password", "confirm_password"}

// invalidField names the field of a password form (reset, new password,
// the account page's) that the refusal msg is about, so that the page
// marks it (aria-invalid), ties the error to it (aria-describedby) and
// puts the focus there. For a field left empty it is the first empty one
// of fields, the form's in page order, in form as the handler read it (a
// value it trims, trimmed); "" when no one field is at fault.
func invalidField(msg msgKey, form url.Values, fields ...string) string {
	switch msg {
	case msgNewPwMissing, msgResetMissing, msgAccountCurrentMissing:
		for _, name := range fields {
			if form.Get(name) == "" {
				return name
			}
		}
	case msgNewPwMismatch:
		return "confirm_password" // the repeat is the one to type again
	case msgNewPwPolicyFailed, msgNewPwUnchanged, msgAccountPasswordSame:
		return "new_password"
	case msgAccountPasswordWrong:
		return "current_password"
	}
	return ""
}

// afterReset is where the person signs in with the new password: the sign-in
// they came from while it is still open (the account page's always is),
// else the tenant's own.
func (p *Pages) afterReset(r *http.Request, e env, id, login string) string {
	if _, ok := accountReturn(id); ok { // the account page's sign-in (account.go)
		return loginURL(id)
	}
	if id != "" {
		if lr, err := p.Provider.LoginRequest(r.Context(), e.slug(), id); err == nil && !lr.Done {
			return loginURL(id)
		}
	}
	return withParams(tenant.PathSignIn, "login_hint", login)
}
