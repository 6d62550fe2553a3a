package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/password"
)

// The account page, on the tenant's host at /account: a signed-in person
// sees their second factors, adds, names, prefers and removes them, makes
// new recovery codes and changes the password.
//
// It needs the browser's SSO session. Without one it sends the person to
// the ordinary sign-in pages under a pseudo authorization request,
// accountLogin, which loginRequest and complete understand: the sign-in runs
// the same state machine (MFA, a forced new password, lockout) and ends
// with the SSO session and a redirect back here instead of a code for a
// relying party. A registered "account client" would have done the same
// through the OIDC provider, at the price of a client record in every
// tenant and a token exchange the page does not need. A session that no
// longer counts under the organization's MFA policy (session, login.go)
// is none.
//
// Seeing the page needs only the session. The changes that decide who can
// sign in need a recent sign-in too (RecentSignInWindow): with an older
// session they send the person through the sign-in again, under
// accountSignInAgain, which asks for the password and second factor even
// though the session lives, and returns to the page; the person then makes
// the change again. A POST is not replayed after a sign-in: the person
// sees the page as it is now before changing it.

// accountLogin is the authorization request ID of a sign-in started by
// the account page.
const accountLogin = "account"

// accountSignInAgain is the authorization request ID of the sign-in the
// account page asks for when a change needs a recent sign-in and the
// session's is too old. loginRequest gives it a max_age of
// RecentSignInWindow, so the login page asks for the password (and second
// factor) despite the live SSO session, and the sign-in returns to the page
// saying that the change can now be made.
const accountSignInAgain = "account-again"

// RecentSignInWindow is how long after signing in a person may change how
// their account is protected: add or remove a second factor, make new
// recovery codes. An SSO session lives an hour (tenant.SessionTTL), so
// whoever holds its cookie (a borrowed laptop, a stolen cookie) could
// otherwise swap the owner's factors for their own for that hour. Ten
// minutes is long enough to sign in and make a few changes in one go, and
// short enough that a session left behind is soon of no use for them.
const RecentSignInWindow = 10 * time.Minute

// Keys used from account.go.
const (
	msgAccountClientName      msgKey = "account.clientName"
	msgAccountLastFactor      msgKey = "account.lastFactor"
	msgAccountNoFactor        msgKey = "account.noFactor"
	msgAccountPasswordWrong   msgKey = "account.password.wrong"
	msgAccountPasswordSame    msgKey = "account.password.same"
	msgAccountCurrentMissing  msgKey = "account.password.noCurrent"
	msgAccountTryAgain        msgKey = "account.tryAgain"
	msgAccountEnrolEnded      msgKey = "account.enrolEnded"
	msgAccountEnrolTooMany    msgKey = "account.enrolTooMany"
	msgAccountKindApp         msgKey = "account.factor.app"
	msgAccountKindPasskey     msgKey = "account.factor.passkey"
	msgAccountKindSecurityKey msgKey = "account.factor.securityKey"
	msgAccountSignInAgain     msgKey = "account.signInAgain"
	msgAccountNameInvalid     msgKey = "account.factor.nameInvalid"
)

// The sentences shown after a change, by the ?done= value the change
// redirects with.
const (
	msgAccountDoneAdded     msgKey = "account.done.added"
	msgAccountDoneRemoved   msgKey = "account.done.removed"
	msgAccountDoneRenamed   msgKey = "account.done.renamed"
	msgAccountDonePreferred msgKey = "account.done.preferred"
	msgAccountDonePassword  msgKey = "account.done.password"
	msgAccountDoneSignedIn  msgKey = "account.done.signedInAgain"
)

var accountDone = map[string]msgKey{
	"added":     msgAccountDoneAdded,
	"removed":   msgAccountDoneRemoved,
	"renamed":   msgAccountDoneRenamed,
	"preferred": msgAccountDonePreferred,
	"password":  msgAccountDonePassword,
	// Back from the sign-in a change asked for; the change is not
	// replayed: the person makes it again, now seeing the page.
	"signedin": msgAccountDoneSignedIn,
}

type accountPage struct {
	frame
	Username string
	Done     string
	Error    string
	// Invalid names the password form's field that Error is about
	// (invalidField); empty when Error is not the password form's.
	Invalid string
	// Failed are the password rules the last change missed.
	Failed []string
	// Mode is the tenant's MFA mode (OFF, OPTIONAL, ON).
	Mode         string
	Factors      []factorView
	Add          []choice
	RecoveryLeft int
	Policy       []string
	MFAStyleURL  string
}

func (accountPage) template() string { return tmplAccount }

// factorView is one factor as the account page lists it.
type factorView struct {
	ID, Name, Kind  string
	Added, LastUsed string
	Synced, Cloned  bool
	// Unused marks a factor of a kind the tenant's MFA policy does not
	// count any more: no sign-in asks for it (auth's secondFactorFlow).
	Unused    bool
	Preferred bool
	// PreferKind is the kind to post to be asked first; empty when it
	// already is, or the user has one kind only.
	PreferKind string
	// NewName fills the rename field: the name, or after a refused
	// rename what was typed, with the field open (Renaming).
	NewName  string
	Renaming bool
}

// accountUser reads the browser's session and its user for the account
// page; without a session that opens it (auth.SessionOpensAccount) it
// sends the person to sign in, and ok is false.
func (p *Pages) accountUser(w http.ResponseWriter, r *http.Request, e env) (sess tenant.Session, user tenant.User, ok bool) {
	sess, user, ok = p.Provider.Session(r, e.slug())
	if ok = ok && auth.SessionOpensAccount(e.tenant, user, sess); !ok {
		http.Redirect(w, r, loginURL(accountLogin), http.StatusSeeOther)
	}
	return sess, user, ok
}

// getAccount shows the account page, or sends the person to sign in.
func (p *Pages) getAccount(w http.ResponseWriter, r *http.Request) error {
	e, err := p.env(r)
	if err != nil {
		return err
	}
	_, user, ok := p.accountUser(w, r, e)
	if !ok {
		return nil
	}
	page := p.accountPage(w, r, e, user)
	if key, ok := accountDone[r.URL.Query().Get("done")]; ok {
		page.Done = e.lang.text(key)
	}
	return p.render(w, http.StatusOK, page)
}

// accountPage builds the page of user: for getAccount as the browser's
// session read it (session), for a refusal as read again
// (accountRefusalPage).
func (p *Pages) accountPage(w http.ResponseWriter, r *http.Request, e env, user tenant.User) *accountPage {
	st := user.MFA
	page := &accountPage{
		frame:        p.frame(e, p.csrfToken(w, r)),
		Username:     user.Username,
		Mode:         e.tenant.Settings.MFA.Mode,
		RecoveryLeft: st.RecoveryCodesLeft(),
		Policy:       e.lang.policyText(e.tenant.Settings.PasswordPolicy),
		MFAStyleURL:  p.assetURL("mfa.css"),
	}
	// Only kinds the policy counts are asked for, so only they can be
	// asked first.
	policy := e.tenant.Settings.MFA
	bothKinds := st.Has(tenant.FactorTOTP) && st.Has(tenant.FactorWebAuthn) &&
		policy.Allows(tenant.FactorTOTP) && policy.Allows(tenant.FactorWebAuthn)
	prefer := func(kind string) string {
		if !bothKinds || st.Preferred == kind {
			return ""
		}
		return kind
	}
	if f := st.TOTP; f != nil {
		page.Factors = append(page.Factors, factorView{ID: tenant.TOTPFactorID, Name: orDefault(f.Name, e.lang.text(msgAccountKindApp)),
			Kind: e.lang.text(msgAccountKindApp), Added: formatDate(f.CreatedAt), LastUsed: formatDate(f.LastUsedAt),
			Unused:    !policy.Allows(tenant.FactorTOTP),
			Preferred: bothKinds && st.Preferred == tenant.FactorTOTP, PreferKind: prefer(tenant.FactorTOTP)})
	}
	for _, f := range st.WebAuthn {
		kind := e.lang.text(msgAccountKindSecurityKey)
		if f.Passkey {
			kind = e.lang.text(msgAccountKindPasskey)
		}
		page.Factors = append(page.Factors, factorView{ID: f.FactorID(), Name: orDefault(f.Name, kind), Kind: kind,
			Added: formatDate(f.CreatedAt), LastUsed: formatDate(f.LastUsedAt), Synced: f.Synced, Cloned: f.CloneWarning,
			Unused:    !policy.Allows(tenant.FactorWebAuthn),
			Preferred: bothKinds && st.Preferred == tenant.FactorWebAuthn, PreferKind: prefer(tenant.FactorWebAuthn)})
	}
	for i := range page.Factors {
		page.Factors[i].NewName = page.Factors[i].Name
	}
	for _, k := range auth.EnrolmentOptions(e.tenant, user) {
		page.Add = append(page.Add, choice{k, kindLabel(e.lang, k)})
	}
	return page
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// signInAge is how recent the sign-in behind an account change must be.
type signInAge int

const (
	// anySignIn: the live session is enough. Renaming a factor or saying
	// which is asked first changes no protection; a password change asks
	// for the current password itself.
	anySignIn signInAge = iota
	// recentSignIn: signed in within RecentSignInWindow, for the changes
	// that decide who can sign in (adding or removing a factor, new
	// recovery codes).
	recentSignIn
)

// accountSession checks the form of an account page's POST and returns the
// browser's session and the signed-in user, as read with it; ok is false
// when the person has been sent to sign in: the browser has no session, or
// the change needs a recent sign-in and the session's is older.
func (p *Pages) accountSession(w http.ResponseWriter, r *http.Request, age signInAge) (e env, sess tenant.Session, user tenant.User, ok bool, err error) {
	if e, err = p.env(r); err != nil {
		return env{}, tenant.Session{}, tenant.User{}, false, err
	}
	if err := p.parseForm(w, r, p.origin(e)); err != nil {
		return env{}, tenant.Session{}, tenant.User{}, false, err
	}
	sess, user, ok = p.accountUser(w, r, e)
	if !ok {
		return env{}, tenant.Session{}, tenant.User{}, false, nil
	}
	if age == recentSignIn && p.Now().Sub(sess.AuthTime) > RecentSignInWindow {
		p.Logger.InfoContext(r.Context(), "account change needs a recent sign-in", "tenant", e.slug(), "sub", sess.Sub,
			"signed_in", sess.AuthTime)
		http.Redirect(w, r, loginURL(accountSignInAgain), http.StatusSeeOther)
		return env{}, tenant.Session{}, tenant.User{}, false, nil
	}
	return e, sess, user, true, nil
}

// pathAccountPassword is where the account page's password form posts.
const pathAccountPassword = "/account/password"

// accountReturn is where a sign-in started by the account page ends, and
// ok is false for a sign-in of a relying party.
func accountReturn(authRequestID string) (next string, ok bool) {
	switch authRequestID {
	case accountLogin:
		return "/account", true
	case accountSignInAgain:
		return "/account?done=signedin", true
	}
	return "", false
}

// accountRefused shows the account page again with a refusal, and logs
// it: one line with why (cause), whose page (user, as the session read
// it) and from where, never what was typed. A nil cause is a refusal the
// state machine has logged already (an enrolment's wrong answers): one
// line per refusal.
func (p *Pages) accountRefused(w http.ResponseWriter, r *http.Request, e env, user tenant.User, msg msgKey, failed []string, status int, cause error) error {
	page, ok := p.accountRefusalPage(w, r, e, user, status, cause)
	if !ok {
		return nil
	}
	page.Error, page.Failed = e.lang.text(msg), failed
	if r.URL.Path == pathAccountPassword {
		// The field at fault names the error that is its own.
		page.Invalid = invalidField(msg, r.PostForm, "current_password", "new_password", "confirm_password")
	}
	return p.render(w, status, page)
}

// accountRefusalPage logs a refused change (logAccountRefusal) and builds
// the page to say so on, of the user as they are now: read again, not as
// the session read them when the request began. A change is often refused
// because another landed in between (an authenticator app set up in
// another tab, a factor removed, the password changed), and the page must
// show what that other change did, or the person decides their next step
// on a list that is no longer true. ok is false when the second read finds
// no session any more (the user deleted or disabled meanwhile, or given a
// first factor that the session's sign-in did not prove): the person has
// been sent to sign in, as the page itself would send them.
func (p *Pages) accountRefusalPage(w http.ResponseWriter, r *http.Request, e env, user tenant.User, status int, cause error) (page *accountPage, ok bool) {
	p.logAccountRefusal(r, e, user.Username, status, cause)
	_, current, ok := p.accountUser(w, r, e)
	if !ok {
		return nil, false
	}
	return p.accountPage(w, r, e, current), true
}

// logAccountRefusal writes accountRefused's line, unless cause is nil.
func (p *Pages) logAccountRefusal(r *http.Request, e env, login string, status int, cause error) {
	if cause == nil {
		return
	}
	p.logRefusal(r, e, "account change refused", cause, "login", login, "status", status)
}

// errCurrentPasswordEmpty: the password form was sent without the current
// password (a browser that does not check required fields).
var errCurrentPasswordEmpty = errors.New("the current password is empty")

// postAccountMFA changes the user's factors. step: add (begins an
// enrolment), setup (confirms it), rename, remove, prefer.
func (p *Pages) postAccountMFA(w http.ResponseWriter, r *http.Request) error {
	step := r.PathValue("step")
	age := anySignIn
	if step == "add" || step == "setup" || step == "remove" {
		age = recentSignIn
	}
	e, sess, user, ok, err := p.accountSession(w, r, age)
	if !ok {
		return err
	}
	f := r.PostForm
	ctx := r.Context()
	switch step {
	case "add":
		res, err := p.Auth.BeginEnrolment(ctx, e.slug(), user.Sub, auth.Challenge(f.Get("kind")))
		if errors.Is(err, auth.ErrWrongChallenge) {
			return p.accountRefused(w, r, e, user, msgAccountTryAgain, nil, http.StatusUnprocessableEntity, err)
		}
		if err != nil {
			return fmt.Errorf("begin enrolment: %w", err)
		}
		form := mfaForm{Action: "/account/mfa", Session: res.Session, Challenge: res.Challenge}
		return p.renderMFA(w, e, p.frame(e, p.csrfToken(w, r)), form, res, "", http.StatusOK)

	case "setup":
		session := f.Get("session")
		// The factor is proven in this session, and counts for it: adding
		// a first factor does not end the session it is added in.
		res, err := p.Auth.FinishEnrolment(ctx, e.slug(), user.Sub, session, auth.Answer{Code: f.Get("code"),
			Credential: []byte(f.Get("credential")), FactorName: f.Get("name"), ClientIP: p.clientIP(r), SSOSessionID: sess.ID})
		if err != nil {
			return p.enrolmentFailed(w, r, e, user, session, err)
		}
		if len(res.RecoveryCodes) > 0 {
			return p.render(w, http.StatusOK, &recoveryCodesPage{frame: p.frame(e, ""), Codes: res.RecoveryCodes,
				Next: "/account?done=added", Account: true, MFAStyleURL: p.assetURL("mfa.css")})
		}
		http.Redirect(w, r, "/account?done=added", http.StatusSeeOther)
		return nil

	case "rename":
		err := p.Service.RenameMFAFactor(ctx, e.slug(), user.Sub, f.Get("factor"), f.Get("name"))
		if errors.Is(err, tenant.ErrInvalid) {
			// Unlike a name given at set-up, which may be left out, a new
			// name must be there: "at most 64 characters" would not say
			// what is wrong with a blank one. The field keeps what was
			// typed, to be put right rather than typed again.
			page, ok := p.accountRefusalPage(w, r, e, user, http.StatusUnprocessableEntity, err)
			if !ok {
				return nil
			}
			for i := range page.Factors {
				if page.Factors[i].ID == f.Get("factor") {
					page.Factors[i].NewName, page.Factors[i].Renaming = typedName(f.Get("name")), true
				}
			}
			page.Error = e.lang.text(msgAccountNameInvalid)
			return p.render(w, http.StatusUnprocessableEntity, page)
		}
		return p.accountChanged(w, r, e, user, err, "renamed")
	case "remove":
		err := p.Service.RemoveMFAFactor(ctx, e.slug(), user.Sub, f.Get("factor"))
		return p.accountChanged(w, r, e, user, err, "removed")
	case "prefer":
		err := p.Service.SetPreferredMFA(ctx, e.slug(), user.Sub, f.Get("kind"))
		return p.accountChanged(w, r, e, user, err, "preferred")
	}
	return errNotFound(w, r)
}

// accountChanged answers a change to a factor: back to the page with what
// happened, or with why not.
func (p *Pages) accountChanged(w http.ResponseWriter, r *http.Request, e env, user tenant.User, err error, done string) error {
	switch {
	case err == nil:
		http.Redirect(w, r, "/account?done="+done, http.StatusSeeOther)
		return nil
	case errors.Is(err, tenant.ErrLastFactor):
		return p.accountRefused(w, r, e, user, msgAccountLastFactor, nil, http.StatusConflict, err)
	case errors.Is(err, tenant.ErrInvalid):
		return p.accountRefused(w, r, e, user, msgMFANameInvalid, nil, http.StatusUnprocessableEntity, err)
	case errors.Is(err, tenant.ErrNotFound):
		// Removed in another tab: the list is out of date.
		return p.accountRefused(w, r, e, user, msgAccountTryAgain, nil, http.StatusConflict, err)
	}
	return err
}

// enrolmentFailed shows the enrolment again with why its answer was
// refused, or the account page when the enrolment is gone. The state
// machine logged the refusals of answers (mfaRefusal) and the enrolment
// ended by too many of them; the others are logged here.
func (p *Pages) enrolmentFailed(w http.ResponseWriter, r *http.Request, e env, user tenant.User, session string, err error) error {
	msg, ok := mfaRefusal(err, "setup")
	if !ok {
		switch {
		case errors.Is(err, auth.ErrTooManyAttempts):
			return p.accountRefused(w, r, e, user, msgAccountEnrolTooMany, nil, http.StatusConflict, nil)
		case errors.Is(err, auth.ErrSessionExpired), errors.Is(err, auth.ErrWrongChallenge), errors.Is(err, tenant.ErrConflict):
			// Most often the set-up sent again after it succeeded (a
			// reload, two tabs): the list on the page shows whether
			// the factor is there.
			return p.accountRefused(w, r, e, user, msgAccountEnrolEnded, nil, http.StatusConflict, fmt.Errorf("enrolment ended: %w", err))
		}
		return fmt.Errorf("finish enrolment: %w", err)
	}
	res, perr := p.Auth.Enrolment(r.Context(), e.slug(), user.Sub, session)
	if perr != nil {
		// The refusal is logged; that the enrolment is gone since
		// follows from it.
		return p.accountRefused(w, r, e, user, msgAccountEnrolEnded, nil, http.StatusConflict, nil)
	}
	form := mfaForm{Action: "/account/mfa", Session: session, Challenge: res.Challenge, FactorName: typedName(r.PostForm.Get("name")),
		Invalid: refusedField("setup", msg)}
	return p.renderMFA(w, e, p.frame(e, p.csrfToken(w, r)), form, res, e.lang.text(msg), http.StatusUnprocessableEntity)
}

// postAccountRecoveryCodes makes new recovery codes and shows them once.
func (p *Pages) postAccountRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	e, _, user, ok, err := p.accountSession(w, r, recentSignIn)
	if !ok {
		return err
	}
	codes, err := p.Auth.NewRecoveryCodes(r.Context(), e.slug(), user.Sub, p.clientIP(r))
	if errors.Is(err, tenant.ErrNotFound) {
		return p.accountRefused(w, r, e, user, msgAccountNoFactor, nil, http.StatusConflict, err)
	}
	if err != nil {
		return fmt.Errorf("new recovery codes: %w", err)
	}
	return p.render(w, http.StatusOK, &recoveryCodesPage{frame: p.frame(e, ""), Codes: codes, Next: "/account",
		Account: true, MFAStyleURL: p.assetURL("mfa.css")})
}

// postAccountPassword changes the password: the current one, then the new
// one twice, within the tenant's policy.
func (p *Pages) postAccountPassword(w http.ResponseWriter, r *http.Request) error {
	e, _, user, ok, err := p.accountSession(w, r, anySignIn)
	if !ok {
		return err
	}
	f := r.PostForm
	current, newPw, confirm := f.Get("current_password"), f.Get("new_password"), f.Get("confirm_password")
	switch {
	case current == "":
		return p.accountRefused(w, r, e, user, msgAccountCurrentMissing, nil, http.StatusUnprocessableEntity, errCurrentPasswordEmpty)
	case newPw == "" || confirm == "":
		return p.accountRefused(w, r, e, user, msgNewPwMissing, nil, http.StatusUnprocessableEntity, errFieldEmpty)
	case newPw != confirm:
		return p.accountRefused(w, r, e, user, msgNewPwMismatch, nil, http.StatusUnprocessableEntity, errPasswordsDiffer)
	}
	err = p.Auth.ChangePassword(r.Context(), e.slug(), user.Sub, current, newPw, p.clientIP(r))
	switch {
	case err == nil:
		http.Redirect(w, r, "/account?done=password", http.StatusSeeOther)
		return nil
	case errors.Is(err, password.ErrPolicy):
		failed := e.lang.failedRules(err, e.tenant.Settings.PasswordPolicy)
		return p.accountRefused(w, r, e, user, msgNewPwPolicyFailed, failed, http.StatusUnprocessableEntity, err)
	case errors.Is(err, auth.ErrNotAuthorized):
		return p.accountRefused(w, r, e, user, msgAccountPasswordWrong, nil, http.StatusUnprocessableEntity, fmt.Errorf("wrong current password: %w", err))
	case errors.Is(err, auth.ErrLocked):
		return p.accountRefused(w, r, e, user, msgLoginLocked, nil, http.StatusTooManyRequests, err)
	case errors.Is(err, auth.ErrPasswordUnchanged):
		return p.accountRefused(w, r, e, user, msgAccountPasswordSame, nil, http.StatusUnprocessableEntity, err)
	case errors.Is(err, tenant.ErrConflict):
		return p.accountRefused(w, r, e, user, msgAccountTryAgain, nil, http.StatusConflict, err)
	}
	return fmt.Errorf("change password: %w", err)
}
