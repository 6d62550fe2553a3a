package ui

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// The second-factor pages of a sign-in: the TOTP code, the WebAuthn prompt,
// the choice between factors, the set-up of a first factor and the
// recovery codes shown once after it, and the passwordless sign-in with a
// passkey. Every answer goes to the state machine; advance (login.go) maps
// its outcome to the next page, and renderMFA shows a pending challenge.
// The account page (account.go) shows the same set-up pages for adding a
// factor, posting to its own address.

// The MFA and account pages' templates.
const (
	tmplMFACode       = "mfa_code"
	tmplMFAWebAuthn   = "mfa_webauthn"
	tmplMFASelect     = "mfa_select"
	tmplMFATOTPSetup  = "mfa_totp_setup"
	tmplRecoveryCodes = "mfa_recovery_codes"
	tmplAccount       = "account"
)

// Keys used from the Go code of the MFA and account pages.
const (
	msgMFACodeWrong       msgKey = "mfa.code.wrong"
	msgMFACodeReused      msgKey = "mfa.code.reused"
	msgMFACodeMalformed   msgKey = "mfa.code.malformed"
	msgMFARecoveryWrong   msgKey = "mfa.recovery.wrong"
	msgMFAKindTOTP        msgKey = "mfa.kind.totp"
	msgMFAKindWebAuthn    msgKey = "mfa.kind.webauthn"
	msgMFAKeyRefused      msgKey = "mfa.webauthn.refused"
	msgMFAKeyUnusable     msgKey = "mfa.webauthn.unusable"
	msgMFAKeyRegistered   msgKey = "mfa.setup.webauthn.registered"
	msgMFAAppUnusable     msgKey = "mfa.code.unusable"
	msgMFANameInvalid     msgKey = "mfa.setup.nameInvalid"
	msgMFATooManyHead     msgKey = "mfa.tooMany.heading"
	msgMFATooMany         msgKey = "mfa.tooMany"
	msgPasskeyRefused     msgKey = "passkey.refused"
	msgPasskeyUnavailable msgKey = "passkey.unavailable"
	msgCopyDone           msgKey = "copy.done"
)

// qrSize is the QR code's size in pixels: legible to phone cameras, small
// enough to send inline.
const qrSize = 240

// mfaForm is what every form of an MFA page carries: the address it posts
// to (Action + "/code", "/setup", …) and the hidden fields.
type mfaForm struct {
	Action        string
	AuthRequestID string // a sign-in's; empty on the account page
	Session       string
	Challenge     auth.Challenge
	// FactorName is the name typed for a factor being set up, shown again
	// when the answer was refused, so the person need not type it twice.
	FactorName string
	// Invalid names the field the refusal shown is about (refusedField):
	// it takes the focus and names the error. For "recovery_code" the
	// recovery form is shown open (recovery_form).
	Invalid string
	// StepMinutes is how long the step waits for its answer, said on the
	// page (WCAG 2.2.1: a time limit is announced); 0 says nothing.
	StepMinutes int
}

// choice is a factor kind offered as a button.
type choice struct {
	Kind  auth.Challenge
	Label string
}

type mfaCodePage struct {
	frame
	mfaForm
	Error       string
	Others      []choice
	Recovery    bool // offer a recovery code instead
	MFAStyleURL string
}

func (mfaCodePage) template() string { return tmplMFACode }

// mfaWebAuthnPage runs a WebAuthn ceremony in the browser (webauthn.js):
// Mode "get" signs in with a key (second factor or passkey), "create"
// registers one. Options is the JSON the script hands to the browser.
type mfaWebAuthnPage struct {
	frame
	mfaForm
	// Submit is where the browser's answer is posted.
	Submit         string
	Mode, Options  string
	Passkey, Setup bool
	AutoStart      bool
	Error          string
	Others         []choice
	Recovery       bool
	// PasswordURL leads from a passkey sign-in back to the password form.
	PasswordURL       string
	WebAuthnScriptURL string // webauthn.js
	MFAStyleURL       string
}

func (mfaWebAuthnPage) template() string { return tmplMFAWebAuthn }

type mfaSelectPage struct {
	frame
	mfaForm
	Setup       bool // choosing what to set up rather than what to answer with
	Choices     []choice
	Recovery    bool
	Error       string
	MFAStyleURL string
}

func (mfaSelectPage) template() string { return tmplMFASelect }

type mfaTOTPSetupPage struct {
	frame
	mfaForm
	QR          template.URL // data:image/png;base64,…
	Secret      string       // grouped in fours for reading
	Account     bool         // adding from the account page
	Others      []choice
	Error       string
	MFAStyleURL string
	// KeyURI is the otpauth:// URI the QR code holds, as a link: a phone
	// cannot scan its own screen, but opens the app from the link.
	KeyURI template.URL
}

func (mfaTOTPSetupPage) template() string { return tmplMFATOTPSetup }

type recoveryCodesPage struct {
	frame
	Codes       []string
	Next        string
	Account     bool
	MFAStyleURL string
}

func (recoveryCodesPage) template() string { return tmplRecoveryCodes }

// copyButton is the data of the copy_button template: a button that
// copies the text of the element Target, named by Label.
type copyButton struct{ Target, Label, Copied string }

// CopyButton is a copy button for the element target, labelled with the
// sentence label, for the copy_button template.
func (f *frame) CopyButton(target, label string) copyButton {
	return copyButton{Target: target, Label: f.T(label), Copied: f.Lang.text(msgCopyDone)}
}

// mountMFA adds the MFA and account routes to a tenant's mux.
func (p *Pages) mountMFA(tm *http.ServeMux) {
	tm.Handle("POST /login/mfa/{step}", p.handle(p.postMFA))
	tm.Handle("POST /login/passkey", p.handle(p.postPasskey))
	tm.Handle("POST /login/passkey/finish", p.handle(p.postPasskeyFinish))
	tm.Handle("GET /account", p.handle(p.getAccount))
	tm.Handle("POST /account/mfa/{step}", p.handle(p.postAccountMFA))
	tm.Handle("POST /account/recovery-codes", p.handle(p.postAccountRecoveryCodes))
	tm.Handle("POST "+pathAccountPassword, p.handle(p.postAccountPassword))
}

// postMFA answers the pending MFA challenge of a sign-in. step says which
// form was sent: code, recovery, webauthn, setup, or choose (a factor to
// answer with, switch to or set up).
func (p *Pages) postMFA(w http.ResponseWriter, r *http.Request) error {
	e, lr, err := p.signInForm(w, r)
	if err != nil {
		return err
	}
	f := r.PostForm
	session := f.Get("session")
	if session == "" {
		return p.startAgain(lr.ID, fmt.Errorf("%w: MFA form without a challenge session", errFormMismatch))
	}
	a := auth.Answer{Challenge: auth.Challenge(f.Get("challenge")), ClientIP: p.clientIP(r)}
	var res auth.Result
	step := r.PathValue("step")
	switch step {
	case "code":
		a.Code = f.Get("code")
		res, err = p.Auth.Respond(r.Context(), e.slug(), session, a)
	case "recovery":
		a.RecoveryCode = f.Get("recovery_code")
		res, err = p.Auth.Respond(r.Context(), e.slug(), session, a)
	case "webauthn", "setup":
		a.Code, a.Credential, a.FactorName = f.Get("code"), []byte(f.Get("credential")), f.Get("name")
		res, err = p.Auth.Respond(r.Context(), e.slug(), session, a)
	case "choose":
		res, err = p.Auth.Choose(r.Context(), e.slug(), session, auth.Challenge(f.Get("kind")))
	default:
		return errNotFound(w, r)
	}
	if err != nil {
		return p.mfaFailed(w, r, e, lr, session, step, err)
	}
	return p.advance(w, r, e, lr, res)
}

// mfaFailed shows why an answer was refused, on the challenge's page shown
// anew, or ends the sign-in when the flow is gone. The refusals shown on
// the challenge's page (mfaRefusal) and the flow ended by too many wrong
// answers were logged by the state machine, which knows whose sign-in it
// was: one line per refusal, so this logs none of them. The others go to
// the log with the error page (handle).
func (p *Pages) mfaFailed(w http.ResponseWriter, r *http.Request, e env, lr provider.LoginRequest, session, step string, err error) error {
	msg, ok := mfaRefusal(err, step)
	if !ok {
		switch {
		case errors.Is(err, auth.ErrTooManyAttempts):
			// The state machine logged the ended flow: one line per
			// refusal, so neither this nor the error page adds one.
			return &pageError{status: http.StatusTooManyRequests, heading: msgMFATooManyHead, msg: msgMFATooMany, err: err,
				reported: true, next: signInAgainLink(lr.ID)}
		case errors.Is(err, auth.ErrLocked):
			return &pageError{status: http.StatusTooManyRequests, msg: msgLoginLocked, err: err,
				next: signInAgainLink(lr.ID)}
		case errors.Is(err, auth.ErrSessionExpired) && step == "setup":
			// Starting again sets up a new key: the entry this attempt
			// added to an app (or a passkey made on a device) is dead.
			return p.stepGone(lr.ID, msgSignInExpiredSetup, err)
		case errors.Is(err, auth.ErrSessionExpired), errors.Is(err, auth.ErrWrongChallenge), errors.Is(err, auth.ErrNotAuthorized),
			// An authenticator app set up meanwhile, in another tab: a
			// new sign-in asks for its code.
			errors.Is(err, tenant.ErrConflict):
			return p.startAgain(lr.ID, err)
		}
		return fmt.Errorf("answer MFA challenge: %w", err)
	}
	res, perr := p.Auth.Pending(r.Context(), e.slug(), session)
	if perr != nil {
		return p.startAgain(lr.ID, errors.Join(err, perr))
	}
	form := mfaForm{Action: "/login/mfa", AuthRequestID: lr.ID, Session: session, Challenge: res.Challenge,
		FactorName: typedName(r.PostForm.Get("name")), Invalid: refusedField(step, msg)}
	return p.renderMFA(w, e, p.loginFrame(w, r, e, lr), form, res, e.lang.text(msg), http.StatusUnprocessableEntity)
}

// typedName is a factor's name as typed, to be shown again after a
// refusal: printable text, not cut to the 64 characters a name may have, so
// that a name too long is seen as typed (formText bounds it at what a form
// field may hold).
func typedName(v string) string { return formText(v, maxLogin) }

// mfaRefusal is the sentence for an answer to the form step that was wrong
// but leaves the challenge open; ok is false for any other error.
func mfaRefusal(err error, step string) (msgKey, bool) {
	switch {
	case errors.Is(err, auth.ErrTooManyAttempts):
		return "", false // before the wrapped cause
	case step == "recovery" && errors.Is(err, auth.ErrCodeMismatch):
		return msgMFARecoveryWrong, true
	case errors.Is(err, mfa.ErrCodeMalformed):
		return msgMFACodeMalformed, true
	case errors.Is(err, auth.ErrCodeReused):
		return msgMFACodeReused, true
	case errors.Is(err, auth.ErrCodeMismatch):
		return msgMFACodeWrong, true
	case step == "code" && errors.Is(err, auth.ErrFactorUnusable):
		return msgMFAAppUnusable, true
	case errors.Is(err, auth.ErrFactorUnusable):
		return msgMFAKeyUnusable, true
	case errors.Is(err, tenant.ErrCredentialInUse): // before the ErrFactorRefused it is wrapped in
		return msgMFAKeyRegistered, true
	case errors.Is(err, auth.ErrFactorRefused):
		return msgMFAKeyRefused, true
	case errors.Is(err, tenant.ErrInvalid):
		return msgMFANameInvalid, true
	}
	return "", false
}

// refusedField names the field of the form step that the refusal msg is
// about; "" for a refusal of a security key, whose answer is no field.
func refusedField(step string, msg msgKey) string {
	switch {
	case msg == msgMFANameInvalid:
		return "name"
	case step == "recovery":
		return "recovery_code"
	case step == "code" || (step == "setup" && msg != msgMFAKeyRefused && msg != msgMFAKeyUnusable && msg != msgMFAKeyRegistered):
		return "code"
	}
	return ""
}

// renderMFA shows the page of a pending MFA challenge (res): sign-in pages
// post to /login/mfa, the account page's enrolment to /account/mfa.
func (p *Pages) renderMFA(w http.ResponseWriter, e env, f frame, form mfaForm, res auth.Result, errText string, status int) error {
	c := res.MFA
	if c == nil {
		return fmt.Errorf("challenge %s without its details", res.Challenge)
	}
	account := form.AuthRequestID == ""
	form.StepMinutes = p.stepMinutes()
	others := func(except auth.Challenge) []choice {
		if account && res.Challenge == auth.MFASetup && c.Setup != "" {
			return nil // the account page chose the kind before
		}
		var out []choice
		for _, k := range c.Options {
			if k != except {
				out = append(out, choice{k, kindLabel(e.lang, k)})
			}
		}
		return out
	}
	recovery := c.RecoveryCodesLeft > 0
	style := p.assetURL("mfa.css")

	switch {
	case res.Challenge == auth.SoftwareTokenMFA:
		return p.render(w, status, &mfaCodePage{frame: f, mfaForm: form, Error: errText, Others: others(auth.SoftwareTokenMFA),
			Recovery: recovery, MFAStyleURL: style})
	case res.Challenge == auth.WebAuthn:
		return p.render(w, status, &mfaWebAuthnPage{frame: f, mfaForm: form, Submit: form.Action + "/webauthn",
			Mode: "get", Options: string(c.WebAuthnOptions),
			AutoStart: errText == "", Error: errText, Others: others(auth.WebAuthn), Recovery: recovery,
			WebAuthnScriptURL: p.assetURL("webauthn.js"), MFAStyleURL: style})
	case res.Challenge == auth.SelectMFAType || (res.Challenge == auth.MFASetup && c.Setup == ""):
		return p.render(w, status, &mfaSelectPage{frame: f, mfaForm: form, Setup: res.Challenge == auth.MFASetup,
			Choices: others(""), Recovery: recovery && res.Challenge != auth.MFASetup, Error: errText, MFAStyleURL: style})
	case c.Setup == auth.SoftwareTokenMFA:
		png, err := c.TOTP.QRPNG(qrSize)
		if err != nil {
			return err
		}
		return p.render(w, status, &mfaTOTPSetupPage{frame: f, mfaForm: form,
			QR:     template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
			Secret: groupsOf4(c.TOTP.Secret), KeyURI: template.URL(c.TOTP.URI), Account: account, Others: others(auth.SoftwareTokenMFA), Error: errText,
			MFAStyleURL: style})
	case c.Setup == auth.WebAuthn:
		return p.render(w, status, &mfaWebAuthnPage{frame: f, mfaForm: form, Submit: form.Action + "/setup",
			Mode: "create", Options: string(c.WebAuthnOptions),
			Setup: true, Error: errText, Others: others(auth.WebAuthn),
			WebAuthnScriptURL: p.assetURL("webauthn.js"), MFAStyleURL: style})
	}
	return fmt.Errorf("no page for challenge %s (setting up %q)", res.Challenge, c.Setup)
}

func kindLabel(l lang, k auth.Challenge) string {
	if k == auth.SoftwareTokenMFA {
		return l.text(msgMFAKindTOTP)
	}
	return l.text(msgMFAKindWebAuthn)
}

// groupsOf4 writes a TOTP key as people copy it: ABCD EFGH …
func groupsOf4(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// showRecoveryCodes ends a sign-in that enrolled a first factor: the SSO
// session is started and the authorization request completed, and the page
// shows the codes once, with the way on to the relying party.
func (p *Pages) showRecoveryCodes(w http.ResponseWriter, r *http.Request, e env, lr provider.LoginRequest, res auth.Result) error {
	next, err := p.completionURL(w, r, e, lr.ID, res.SignedIn())
	if err != nil {
		return err
	}
	return p.render(w, http.StatusOK, &recoveryCodesPage{frame: p.loginFrame(w, r, e, lr), Codes: res.RecoveryCodes, Next: next,
		MFAStyleURL: p.assetURL("mfa.css")})
}

// passkeyStyle is the login page's extra stylesheet when it offers a
// passkey, else "" (and the page shows no passkey button).
func (p *Pages) passkeyStyle(e env) string {
	if !e.tenant.Settings.MFA.PasskeySignIn() {
		return ""
	}
	return p.assetURL("mfa.css")
}

// postPasskey starts a passwordless sign-in: the page asks the browser for
// one of this tenant's passkeys at once.
func (p *Pages) postPasskey(w http.ResponseWriter, r *http.Request) error {
	e, lr, err := p.signInForm(w, r)
	if err != nil {
		return err
	}
	res, err := p.Auth.BeginPasskey(r.Context(), e.slug())
	if errors.Is(err, auth.ErrPasskeyNotAllowed) {
		return &pageError{status: http.StatusBadRequest, msg: msgPasskeyUnavailable, err: err,
			next: signInAgainLink(lr.ID)}
	}
	if err != nil {
		return fmt.Errorf("begin passkey sign-in: %w", err)
	}
	return p.render(w, http.StatusOK, &mfaWebAuthnPage{frame: p.loginFrame(w, r, e, lr),
		mfaForm: mfaForm{Action: "/login/passkey", AuthRequestID: lr.ID, Session: res.Session, Challenge: res.Challenge},
		Submit:  "/login/passkey/finish", Mode: "get", Options: string(res.MFA.WebAuthnOptions), Passkey: true, AutoStart: true,
		PasswordURL:       loginURL(lr.ID),
		WebAuthnScriptURL: p.assetURL("webauthn.js"), MFAStyleURL: p.assetURL("mfa.css")})
}

// postPasskeyFinish signs in with the browser's answer; a refusal goes back
// to the login form, where the person may try the passkey again.
func (p *Pages) postPasskeyFinish(w http.ResponseWriter, r *http.Request) error {
	e, lr, err := p.signInForm(w, r)
	if err != nil {
		return err
	}
	res, err := p.Auth.FinishPasskey(r.Context(), e.slug(), r.PostForm.Get("session"), []byte(r.PostForm.Get("credential")), p.clientIP(r))
	if err != nil {
		page := p.newLoginPage(w, r, e, lr, "")
		status := http.StatusUnprocessableEntity
		switch {
		case errors.Is(err, auth.ErrLocked):
			page.Error, status = e.lang.text(msgLoginLocked), http.StatusTooManyRequests
		case errors.Is(err, auth.ErrFactorUnusable):
			page.Error = e.lang.text(msgMFAKeyUnusable)
		case errors.Is(err, auth.ErrFactorRefused), errors.Is(err, auth.ErrNotAuthorized),
			errors.Is(err, auth.ErrSessionExpired), errors.Is(err, auth.ErrWrongChallenge):
			page.Error = e.lang.text(msgPasskeyRefused)
		default:
			return fmt.Errorf("finish passkey sign-in: %w", err)
		}
		return p.render(w, status, page) // the state machine has logged why
	}
	return p.advance(w, r, e, lr, res)
}

// mfaPage shows a pending MFA challenge of a sign-in; advance calls it.
func (p *Pages) mfaPage(w http.ResponseWriter, r *http.Request, e env, lr provider.LoginRequest, res auth.Result) error {
	form := mfaForm{Action: "/login/mfa", AuthRequestID: lr.ID, Session: res.Session, Challenge: res.Challenge}
	return p.renderMFA(w, e, p.loginFrame(w, r, e, lr), form, res, "", http.StatusOK)
}

// formatDate shows a date the same way in both languages.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}
