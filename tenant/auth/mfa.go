package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/tenant"
)

// The second factor. Once the first factor is proven (a password, or a new
// password in place of a temporary one), the tenant's policy decides:
//
//   - mode OFF, or OPTIONAL for a user without a factor: the sign-in is done;
//   - a user with factors of allowed kinds: SOFTWARE_TOKEN_MFA or WEB_AUTHN,
//     or SELECT_MFA_TYPE when the user has both and prefers neither; the
//     user may switch between them, and a recovery code answers any of them;
//   - mode ON and no factor: MFA_SETUP, which enrols one (a TOTP key shown
//     once and confirmed with a code, or a security key or passkey) and
//     finishes the sign-in with ten new recovery codes to show once.
//
// Every challenge lives in the flow record, server-side: the sealed TOTP key
// being set up, the WebAuthn ceremony (deleted when answered, whatever the
// outcome). A wrong answer counts against the flow (maxChallengeAttempts,
// then the flow is gone) and, for guesses at a code or a key, against the
// login's lockout like a wrong password. Everything that completes a
// sign-in (the TOTP step, the used recovery code, the credential's new sign
// count) is written in the one transaction that ends the flow, so a code or
// a flow can be used only once even by two requests at the same instant.

// Errors of the MFA challenges, for the front ends to put in words.
var (
	// ErrCodeMismatch: the TOTP or recovery code is wrong (or, wrapping
	// mfa.ErrCodeMalformed, not a code at all).
	ErrCodeMismatch = errors.New("the code is not right")
	// ErrCodeReused: the TOTP code was accepted before (a replay, or a
	// second sign-in within the same 30 seconds).
	ErrCodeReused = errors.New("the code was already used")
	// ErrFactorRefused: the WebAuthn response was refused (another origin,
	// RP ID or challenge, a bad signature, an expired ceremony, a credential
	// the user does not have, or, wrapping tenant.ErrCredentialInUse, a new
	// credential whose ID is registered already).
	ErrFactorRefused = errors.New("the security key or passkey was not accepted")
	// ErrFactorUnusable: the factor cannot be used until an administrator
	// resets the user's MFA: a credential flagged as possibly cloned, or a
	// TOTP secret that no configured server key opens.
	ErrFactorUnusable = errors.New("the factor cannot be used")
	// ErrTooManyAttempts: the challenge was answered wrongly too often; the
	// flow is gone and the sign-in starts again.
	ErrTooManyAttempts = errors.New("too many wrong answers; start the sign-in again")
	// ErrPasskeyNotAllowed: the tenant does not allow passkey sign-in.
	ErrPasskeyNotAllowed = errors.New("passkey sign-in is not allowed here")
	// ErrMFAUnavailable: the Machine has no Sealer or RelyingParty.
	ErrMFAUnavailable = errors.New("MFA is not configured on this server")
)

// MFAChallenge is what answering a pending MFA challenge needs.
type MFAChallenge struct {
	// Options are the kinds the user may use (SOFTWARE_TOKEN_MFA, WEB_AUTHN)
	// and switch between with Choose; in MFA_SETUP, the kinds that may be
	// set up (Cognito's MFAS_CAN_SETUP).
	Options []Challenge
	// Setup is the kind being set up in MFA_SETUP; empty until chosen.
	Setup Challenge
	// TOTP is the key being set up: show its QR code and its Secret for
	// manual entry; the user confirms it with a code.
	TOTP *mfa.TOTPEnrollment
	// WebAuthnOptions is for the browser: request options (WEB_AUTHN) or
	// creation options (MFA_SETUP of WEB_AUTHN), as JSON.
	WebAuthnOptions json.RawMessage
	// Passkey marks a passwordless sign-in (BeginPasskey).
	Passkey bool
	// RecoveryCodesLeft is how many unused recovery codes the user has.
	RecoveryCodesLeft int
}

// mfaFlow is the MFA part of a flow record.
type mfaFlow struct {
	Options []Challenge `json:"options,omitempty"`
	Setup   Challenge   `json:"setup,omitempty"`
	// Secret is the TOTP key being set up, sealed as the user's own will be.
	Secret string `json:"secret,omitempty"`
	// Handle is a WebAuthn user handle made for a first credential; it
	// becomes the user's when that credential is registered.
	Handle   []byte        `json:"handle,omitempty"`
	Ceremony *mfa.Ceremony `json:"ceremony,omitempty"`
	// Passkey marks a passwordless sign-in, which has no user until the
	// passkey names one.
	Passkey bool `json:"passkey,omitempty"`
	// Account marks an enrolment from the account page: it adds a factor
	// and signs nobody in.
	Account bool `json:"account,omitempty"`
}

// maxCredentialJSON bounds a WebAuthn response: a genuine one, with "none"
// attestation, is one or two KiB.
const maxCredentialJSON = 16 << 10

// kindOf maps a challenge to the tenant's name for the factor kind.
func kindOf(c Challenge) string {
	switch c {
	case SoftwareTokenMFA:
		return tenant.FactorTOTP
	case WebAuthn:
		return tenant.FactorWebAuthn
	}
	return ""
}

func challengeOf(kind string) Challenge {
	switch kind {
	case tenant.FactorTOTP:
		return SoftwareTokenMFA
	case tenant.FactorWebAuthn:
		return WebAuthn
	}
	return ""
}

func isMFAChallenge(c Challenge) bool {
	return c == SoftwareTokenMFA || c == WebAuthn || c == SelectMFAType || c == MFASetup
}

// secondFactorFlow decides whether a user who proved the first factor (amr)
// must also prove a second under policy p, and returns the flow asking for
// it.
func secondFactorFlow(p tenant.MFAPolicy, u tenant.User, amr []string) (flow, bool) {
	if p.Mode == tenant.MFAOff {
		return flow{}, false
	}
	var have, allowed []Challenge
	for _, c := range []Challenge{SoftwareTokenMFA, WebAuthn} {
		if p.Allows(kindOf(c)) {
			allowed = append(allowed, c)
			if u.MFA.Has(kindOf(c)) {
				have = append(have, c)
			}
		}
	}
	f := flow{Sub: u.Sub, AMR: slices.Clone(amr)}
	switch {
	case len(have) == 1:
		f.Challenge = have[0]
	case len(have) > 1:
		f.Challenge = SelectMFAType
		if pref := challengeOf(u.MFA.Preferred); slices.Contains(have, pref) {
			f.Challenge = pref
		}
	case (p.Mode == tenant.MFARequired || u.MFAReenrollDue()) && len(allowed) > 0:
		f.Challenge, f.MFA.Options = MFASetup, allowed
		return f, true
	default:
		return flow{}, false
	}
	f.MFA.Options = have
	return f, true
}

// SessionMeetsPolicy reports whether a sign-in that proved amr (an SSO
// session's) still counts for user under t's MFA policy as it is now. It
// does not when it proved no second factor ("mfa") and a sign-in of user
// now would ask for one: the tenant made MFA required, or counts a kind
// of factor the user has, or the user must enrol again after an import.
// Such a session answers no relying party and opens no account page: the
// person signs in again, password and second factor (or its set-up), as
// anyone signing in now would (docs/account.md). A full sign-in rather
// than asking for the second factor alone: a session cookie is not the
// password, and MFA_SETUP must not let whoever holds one enrol a factor.
func SessionMeetsPolicy(t tenant.Tenant, user tenant.User, amr []string) bool {
	if slices.Contains(amr, "mfa") {
		return true
	}
	_, due := secondFactorFlow(t.Settings.MFA, user, amr)
	return !due
}

// SessionOpensAccount reports whether an SSO session opens user's account
// page: one that meets the policy (SessionMeetsPolicy), or one in which a
// factor of the user's was set up (Session.FactorSetUp), so that setting up
// a first factor does not sign the person out of the page they set it up
// on. Applications are answered by SessionMeetsPolicy alone: such a
// session's sign-in proved no second step, so an application's next
// sign-in asks for the password and the new factor.
func SessionOpensAccount(t tenant.Tenant, user tenant.User, sess tenant.Session) bool {
	return SessionMeetsPolicy(t, user, sess.AMR) || sess.FactorSetUp && user.MFA.HasFactor()
}

// afterFirstFactor continues Start once the password is proven: when a
// second factor is due it applies change to the user and stores the flow
// asking for it, in one transaction, and returns that challenge. When none
// is due it changes nothing and returns due=false. The user must still
// stand as Start read them (stands); a sign-in whose account changed
// since is refused, as in finish.
func (m *Machine) afterFirstFactor(ctx context.Context, tenantID string, t tenant.Tenant, cr Credentials, user tenant.User, amr []string, change func(*tenant.User)) (next Result, due bool, err error) {
	if _, due := secondFactorFlow(t.Settings.MFA, user, amr); !due {
		return Result{}, false, nil
	}
	now := m.now()
	var (
		pending *Result
		voided  bool
	)
	err = m.Store.Update(ctx, func(tx tenant.Tx) error {
		u, gone, err := rereadSigningIn(tx, tenantID, user.Sub)
		if voided = gone; gone || err != nil {
			return err
		}
		if voided = !stands(standing(user), u); voided {
			return m.voidSignIn(tx, tenantID, cr, &u, now)
		}
		change(&u)
		if pending, err = m.secondFactorTx(tx, tenantID, u, amr); err != nil || pending == nil {
			return err
		}
		return tenant.UpdateUser(tx, tenantID, u)
	})
	switch {
	case err != nil:
		return Result{}, true, err
	case voided:
		return Result{}, true, m.voided(ctx, tenantID, user.Sub, "")
	case pending == nil:
		// The user's factors changed since the password was checked, and
		// none is due any more: the caller finishes the sign-in.
		return Result{}, false, nil
	}
	return *pending, true, nil
}

// secondFactorTx stores, inside tx, the flow asking user for a second
// factor and returns its challenge, or returns nil when none is due. The
// failure counters are left alone: the sign-in is not proven yet, and a
// password known to an attacker must not reset the budget for guessing
// codes.
func (m *Machine) secondFactorTx(tx tenant.Tx, tenantID string, user tenant.User, amr []string) (*Result, error) {
	t, err := tenant.GetTenant(tx, tenantID)
	if err != nil {
		return nil, err
	}
	f, due := secondFactorFlow(t.Settings.MFA, user, amr)
	if !due {
		return nil, nil
	}
	f.Standing = standing(user)
	c, err := m.prepare(t, user, &f)
	if err != nil {
		return nil, err
	}
	session, err := m.putNewFlow(tx, tenantID, &f)
	if err != nil {
		return nil, err
	}
	return &Result{Challenge: f.Challenge, Session: session, Sub: user.Sub, Username: user.Username, MFA: c}, nil
}

// putNewFlow stores f as a new pending flow and returns its session.
func (m *Machine) putNewFlow(tx tenant.Tx, tenantID string, f *flow) (string, error) {
	session := tenant.NewSecret(32)
	f.ID = tenant.HashSecret(session)
	f.ExpiresAt = m.now().Add(m.StepTime())
	return session, tenant.PutExpiring(tx, tenant.CollAuthFlows, tenantID, f.ID, *f, f.ExpiresAt)
}

// prepare readies the pending challenge of f for user: a WEB_AUTHN
// challenge gets a new ceremony, replacing any earlier one; MFA_SETUP of
// TOTP gets a key (or shows the one already made, which the person may
// have scanned), of WebAuthn a registration ceremony. It changes f, which
// the caller stores, and returns what the person needs to answer.
func (m *Machine) prepare(t tenant.Tenant, user tenant.User, f *flow) (*MFAChallenge, error) {
	c := &MFAChallenge{Options: slices.Clone(f.MFA.Options), Passkey: f.MFA.Passkey, RecoveryCodesLeft: user.MFA.RecoveryCodesLeft()}
	switch f.Challenge {
	case WebAuthn:
		rp, err := m.relyingParty(t)
		if err != nil {
			return nil, err
		}
		var (
			options  json.RawMessage
			ceremony mfa.Ceremony
		)
		if f.MFA.Passkey {
			options, ceremony, err = rp.BeginPasskeyLogin()
		} else {
			var wu mfa.User
			if wu, err = webAuthnUser(user, rp.ID(), nil); err == nil {
				options, ceremony, err = rp.BeginLogin(wu)
			}
		}
		if err != nil {
			return nil, err
		}
		f.MFA.Ceremony, c.WebAuthnOptions = &ceremony, options
	case MFASetup:
		if f.MFA.Setup == "" && len(f.MFA.Options) == 1 {
			f.MFA.Setup = f.MFA.Options[0]
		}
		c.Setup = f.MFA.Setup
		switch f.MFA.Setup {
		case SoftwareTokenMFA:
			key, err := m.totpSetupKey(t, user, f)
			if err != nil {
				return nil, err
			}
			c.TOTP = key
		case WebAuthn:
			rp, err := m.relyingParty(t)
			if err != nil {
				return nil, err
			}
			if len(user.MFA.Handle) == 0 && len(f.MFA.Handle) == 0 {
				if f.MFA.Handle, err = mfa.NewUserHandle(m.rand()); err != nil {
					return nil, err
				}
			}
			wu, err := webAuthnUser(user, rp.ID(), f.MFA.Handle)
			if err != nil {
				return nil, err
			}
			// Where passkeys may sign in alone, every new credential is
			// made one: discoverable, with user verification.
			begin := rp.BeginRegistration
			if t.Settings.MFA.PasskeySignIn() {
				begin = rp.BeginPasskeyRegistration
			}
			options, ceremony, err := begin(wu)
			if err != nil {
				return nil, err
			}
			f.MFA.Ceremony, c.WebAuthnOptions = &ceremony, options
		}
	}
	return c, nil
}

// totpSetupKey returns the TOTP key being set up in f, making and sealing a
// new one when there is none yet.
func (m *Machine) totpSetupKey(t tenant.Tenant, user tenant.User, f *flow) (*mfa.TOTPEnrollment, error) {
	if m.Sealer == nil {
		return nil, ErrMFAUnavailable
	}
	ad := totpAD(t.Slug, user.Sub)
	if f.MFA.Secret == "" {
		key, err := mfa.NewTOTPKey(t.Name, user.Username, m.rand())
		if err != nil {
			return nil, err
		}
		if f.MFA.Secret, err = m.Sealer.Seal([]byte(key.Secret), ad); err != nil {
			return nil, err
		}
		return key, nil
	}
	secret, err := m.Sealer.Open(f.MFA.Secret, ad)
	if err != nil {
		return nil, fmt.Errorf("open the TOTP key being set up: %w", err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(secret))
	if err != nil {
		return nil, fmt.Errorf("TOTP key being set up: %w", err)
	}
	// NewTOTPKey reads exactly the secret's bytes from its random source,
	// so handing it the stored secret makes the same key (and QR code)
	// again, without keeping the picture anywhere.
	key, err := mfa.NewTOTPKey(t.Name, user.Username, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if key.Secret != string(secret) {
		return nil, errors.New("TOTP key being set up: remade key differs")
	}
	return key, nil
}

// totpAD is the associated data that binds a sealed TOTP key to its tenant
// and user.
func totpAD(tenantID, sub string) []byte {
	return []byte("cognate totp\x00" + tenantID + "\x00" + sub)
}

func (m *Machine) openTOTP(tenantID, sub, sealed string) (string, error) {
	if m.Sealer == nil {
		return "", ErrMFAUnavailable
	}
	secret, err := m.Sealer.Open(sealed, totpAD(tenantID, sub))
	if err != nil {
		// A key sealed under a server key no longer configured: only an
		// administrator's reset (or the old key back) helps.
		return "", fmt.Errorf("open TOTP key: %w", err)
	}
	return string(secret), nil
}

func (m *Machine) relyingParty(t tenant.Tenant) (*mfa.RelyingParty, error) {
	if m.RelyingParty == nil {
		return nil, ErrMFAUnavailable
	}
	return m.RelyingParty(t)
}

func (m *Machine) rand() io.Reader {
	if m.Rand != nil {
		return m.Rand
	}
	return rand.Reader
}

// loadFlow reads a live flow with its tenant and, when it has one, its user.
func (m *Machine) loadFlow(ctx context.Context, tenantID, session string) (f flow, t tenant.Tenant, user tenant.User, err error) {
	now := m.now()
	err = m.Store.View(ctx, func(tx tenant.Tx) error {
		if f, t, err = readFlow(tx, tenantID, session); err != nil {
			return err
		}
		if f.Sub != "" {
			user, err = tenant.GetUser(tx, tenantID, f.Sub)
		}
		return err
	})
	if err = checkLive(f, err, now); err != nil {
		return flow{}, tenant.Tenant{}, tenant.User{}, err
	}
	return f, t, user, nil
}

// readFlow reads, inside tx, the flow of session and its tenant, live or
// not: the caller judges that (checkLive once tx is done, or updateFlow
// before it changes the flow).
func readFlow(tx tenant.Tx, tenantID, session string) (flow, tenant.Tenant, error) {
	f, err := tenant.GetJSON[flow](tx, tenant.CollAuthFlows, tenantID, tenant.HashSecret(session))
	if err != nil {
		return flow{}, tenant.Tenant{}, err
	}
	t, err := tenant.GetTenant(tx, tenantID)
	return f, t, err
}

// checkLive judges what reading the flow f (with its tenant and user) at
// now came to: ErrSessionExpired when the flow, or what it names, is gone
// (answered, ended, never there: tenant.ErrNotFound) or its time is up;
// otherwise the read's own error, nil when it succeeded.
func checkLive(f flow, err error, now time.Time) error {
	if errors.Is(err, tenant.ErrNotFound) || (err == nil && !now.Before(f.ExpiresAt)) {
		return ErrSessionExpired
	}
	return err
}

// updateFlow changes a live flow in one transaction; change sees the flow,
// the tenant and the flow's user as they are now.
func (m *Machine) updateFlow(ctx context.Context, tenantID, session string, change func(f *flow, t tenant.Tenant, user tenant.User) error) error {
	now := m.now()
	err := m.Store.Update(ctx, func(tx tenant.Tx) error {
		f, t, err := readFlow(tx, tenantID, session)
		if err != nil {
			return err
		}
		if !now.Before(f.ExpiresAt) {
			return ErrSessionExpired
		}
		var user tenant.User
		if f.Sub != "" {
			if user, err = tenant.GetUser(tx, tenantID, f.Sub); err != nil {
				return err
			}
		}
		if err := change(&f, t, user); err != nil {
			return err
		}
		return tenant.PutExpiring(tx, tenant.CollAuthFlows, tenantID, f.ID, f, f.ExpiresAt)
	})
	if errors.Is(err, tenant.ErrNotFound) {
		return ErrSessionExpired
	}
	return err
}

// Pending returns the pending challenge of session again, to show it anew
// (after a wrong answer, or a reload). A WEB_AUTHN challenge gets a new
// ceremony, which replaces the earlier one: only the options of the latest
// call can be answered. A TOTP key being set up stays the same.
func (m *Machine) Pending(ctx context.Context, tenantID, session string) (Result, error) {
	var res Result
	err := m.updateFlow(ctx, tenantID, session, func(f *flow, t tenant.Tenant, user tenant.User) error {
		res = Result{Challenge: f.Challenge, Session: session, Sub: user.Sub, Username: user.Username}
		if !isMFAChallenge(f.Challenge) {
			return nil
		}
		var err error
		res.MFA, err = m.prepare(t, user, f)
		return err
	})
	return res, err
}

// Choose picks which of the flow's options the user answers with: the
// answer to SELECT_MFA_TYPE, a switch from one factor to another, or, in
// MFA_SETUP, the kind to set up.
func (m *Machine) Choose(ctx context.Context, tenantID, session string, kind Challenge) (Result, error) {
	var res Result
	err := m.updateFlow(ctx, tenantID, session, func(f *flow, t tenant.Tenant, user tenant.User) error {
		if !isMFAChallenge(f.Challenge) || f.MFA.Passkey || !slices.Contains(f.MFA.Options, kind) {
			return fmt.Errorf("%w: cannot choose %s in %s", ErrWrongChallenge, kind, f.Challenge)
		}
		f.MFA.Ceremony = nil
		if f.Challenge == MFASetup {
			if f.MFA.Setup != kind {
				f.MFA.Setup, f.MFA.Secret = kind, ""
			}
		} else {
			f.Challenge = kind
		}
		c, err := m.prepare(t, user, f)
		res = Result{Challenge: f.Challenge, Session: session, Sub: user.Sub, Username: user.Username, MFA: c}
		return err
	})
	return res, err
}

// respondMFA answers an MFA challenge of a sign-in; Respond has checked
// that a.Challenge is the pending one and that the user may sign in.
func (m *Machine) respondMFA(ctx context.Context, tenantID, session string, cr Credentials, t tenant.Tenant, user tenant.User, f flow, a Answer) (Result, error) {
	if f.MFA.Account {
		return Result{}, fmt.Errorf("%w: an enrolment is finished on the account page", ErrWrongChallenge)
	}
	if err := m.refuseIfLocked(ctx, tenantID, cr, user); err != nil {
		return Result{}, err
	}
	if a.RecoveryCode != "" && f.Challenge != MFASetup {
		return m.answerRecoveryCode(ctx, tenantID, session, cr, t, user, f, a.RecoveryCode)
	}
	switch f.Challenge {
	case SelectMFAType:
		return m.Choose(ctx, tenantID, session, a.Choice)
	case SoftwareTokenMFA:
		return m.answerTOTP(ctx, tenantID, session, cr, t, user, f, a.Code)
	case WebAuthn:
		return m.answerWebAuthn(ctx, tenantID, session, cr, t, user, f, a.Credential)
	default: // MFASetup
		return m.answerSetup(ctx, tenantID, session, cr, t, user, f, a)
	}
}

func (m *Machine) answerTOTP(ctx context.Context, tenantID, session string, cr Credentials, t tenant.Tenant, user tenant.User, f flow, code string) (Result, error) {
	if user.MFA.TOTP == nil {
		return Result{}, fmt.Errorf("%w: the TOTP factor was removed", ErrSessionExpired)
	}
	secret, err := m.openTOTP(tenantID, user.Sub, user.MFA.TOTP.Secret)
	if errors.Is(err, mfa.ErrSealKeyUnknown) || errors.Is(err, mfa.ErrSealedInvalid) {
		// Sealed under a server key that is no longer configured, or
		// altered: the operator's problem, not a wrong answer.
		m.logger().ErrorContext(ctx, "TOTP secret cannot be opened; configure the previous server key or reset the user's MFA",
			"tenant", tenantID, "sub", user.Sub, "err", err)
		return Result{}, fmt.Errorf("%w: %w", ErrFactorUnusable, err)
	}
	if err != nil {
		return Result{}, err
	}
	now := m.now()
	step, err := mfa.VerifyTOTP(secret, code, now, user.MFA.TOTP.LastStep)
	if wrong, ok := codeError(err); ok {
		return Result{}, m.wrongGuess(ctx, tenantID, session, t, cr, user, wrong)
	} else if err != nil {
		return Result{}, m.malformedOr(ctx, tenantID, cr, f, err)
	}

	f.AMR = append(slices.Clone(f.AMR), "otp", "mfa")
	res, err := m.completeFlow(ctx, tenantID, session, cr, f, func(_ tenant.Tx, u *tenant.User) error {
		tf := u.MFA.TOTP
		if tf == nil {
			return ErrSessionExpired
		}
		// The app may have been replaced since its secret was read: a code
		// of the old one must not finish the sign-in.
		if stored, err := m.openTOTP(tenantID, u.Sub, tf.Secret); err != nil || subtle.ConstantTimeCompare([]byte(stored), []byte(secret)) != 1 {
			return fmt.Errorf("%w: the authenticator app was replaced meanwhile", ErrSessionExpired)
		}
		// Checked again against the stored step: another sign-in may have
		// spent this code since it was verified.
		if step <= tf.LastStep {
			return mfa.ErrCodeReused
		}
		tf.LastStep, tf.LastUsedAt = step, now
		return m.resealTOTP(tenantID, u.Sub, tf, secret)
	})
	if errors.Is(err, mfa.ErrCodeReused) {
		return Result{}, m.wrongGuess(ctx, tenantID, session, t, cr, user, fmt.Errorf("%w: %w", ErrCodeReused, err))
	}
	return res, err
}

// codeError turns VerifyTOTP's refusals of a code into the package's
// errors; ok is false for anything else, including a malformed code (see
// malformedOr).
func codeError(err error) (error, bool) {
	switch {
	case errors.Is(err, mfa.ErrCodeInvalid):
		return fmt.Errorf("%w: %w", ErrCodeMismatch, err), true
	case errors.Is(err, mfa.ErrCodeReused):
		return fmt.Errorf("%w: %w", ErrCodeReused, err), true
	}
	return nil, false
}

// resealTOTP seals secret again under the current server key when it was
// sealed under a previous one, so keys migrate as they are used.
func (m *Machine) resealTOTP(tenantID, sub string, tf *tenant.TOTPFactor, secret string) error {
	if !m.Sealer.NeedsReseal(tf.Secret) {
		return nil
	}
	sealed, err := m.Sealer.Seal([]byte(secret), totpAD(tenantID, sub))
	if err != nil {
		return err
	}
	tf.Secret = sealed
	return nil
}

func (m *Machine) answerRecoveryCode(ctx context.Context, tenantID, session string, cr Credentials, t tenant.Tenant, user tenant.User, f flow, code string) (Result, error) {
	if _, ok := mfa.MatchRecoveryCode(user.MFA.RecoveryCodes, code); !ok {
		return Result{}, m.wrongGuess(ctx, tenantID, session, t, cr, user, fmt.Errorf("%w: recovery code", ErrCodeMismatch))
	}
	// RFC 8176 has no value for a recovery code. It is not "otp" (no
	// generator made it) nor "kba"; "mfa" says a second factor, a secret
	// kept apart from the password, was proven.
	f.AMR = append(slices.Clone(f.AMR), "mfa")
	left := 0
	res, err := m.completeFlow(ctx, tenantID, session, cr, f, func(_ tenant.Tx, u *tenant.User) error {
		// Matched again on the stored hashes: a parallel sign-in may have
		// used the same code since.
		i, ok := mfa.MatchRecoveryCode(u.MFA.RecoveryCodes, code)
		if !ok {
			return ErrCodeReused
		}
		u.MFA.RecoveryCodes[i] = ""
		left = u.MFA.RecoveryCodesLeft()
		return nil
	})
	if errors.Is(err, ErrCodeReused) {
		return Result{}, m.wrongGuess(ctx, tenantID, session, t, cr, user, fmt.Errorf("%w: recovery code used meanwhile", ErrCodeMismatch))
	}
	if err == nil {
		m.logger().InfoContext(ctx, "recovery code used", "tenant", tenantID, "sub", user.Sub, "left", left)
	}
	return res, err
}

func (m *Machine) answerWebAuthn(ctx context.Context, tenantID, session string, cr Credentials, t tenant.Tenant, user tenant.User, f flow, response []byte) (Result, error) {
	wrong := func(cause error) error { return m.wrongGuess(ctx, tenantID, session, t, cr, user, cause) }
	rp, err := m.webAuthnVerifier(ctx, tenantID, cr, t, f, response, wrong)
	if err != nil {
		return Result{}, err
	}
	wu, err := webAuthnUser(user, rp.ID(), nil)
	if err != nil {
		return Result{}, err
	}
	now := m.now()
	updated, verified, err := rp.FinishLogin(wu, *f.MFA.Ceremony, response, now)
	if err != nil {
		return Result{}, wrong(fmt.Errorf("%w: %w", ErrFactorRefused, err))
	}
	if updated.CloneWarning {
		return m.refuseClone(ctx, tenantID, session, t, cr, user, updated)
	}
	f.AMR = append(append(slices.Clone(f.AMR), keyAMR(updated, verified)...), "mfa")
	res, err := m.completeFlow(ctx, tenantID, session, cr, f, func(_ tenant.Tx, u *tenant.User) error {
		return storeCredential(u, updated)
	})
	if errors.Is(err, errCloneMeanwhile) {
		// Another sign-in stored the same or a later count, or a clone
		// warning, since this one read the credential.
		return m.refuseClone(ctx, tenantID, session, t, cr, user, updated)
	}
	return res, err
}

// webAuthnVerifier returns the relying party to verify response at, the
// browser's answer to the WebAuthn ceremony of f (an assertion, or a
// registration being set up), once it has checked that a ceremony is
// pending and that response is there and no larger than a genuine one. A
// response too large is a wrong answer, which wrong counts (wrongGuess, or
// wrongAnswer at a set-up) and returns the answer to.
func (m *Machine) webAuthnVerifier(ctx context.Context, tenantID string, cr Credentials, t tenant.Tenant, f flow, response []byte, wrong func(cause error) error) (*mfa.RelyingParty, error) {
	if f.MFA.Ceremony == nil || len(response) == 0 {
		// Nothing to verify against (answered already, or the page was
		// shown by another tab since): not an attempt; show it again.
		return nil, m.refused(ctx, tenantID, cr, f, fmt.Errorf("%w: no ceremony pending or no response", ErrFactorRefused))
	}
	rp, err := m.relyingParty(t)
	if err != nil {
		return nil, err
	}
	if len(response) > maxCredentialJSON {
		return nil, wrong(fmt.Errorf("%w: response of %d bytes", ErrFactorRefused, len(response)))
	}
	return rp, nil
}

// keyAMR is RFC 8176's account of a WebAuthn credential: "hwk" for a key
// held in hardware, "swk" for a backup-eligible (synced) passkey whose key
// can leave the device, and "user" when the authenticator verified the user
// (PIN or biometric) in this ceremony.
func keyAMR(c mfa.Credential, userVerified bool) []string {
	amr := []string{"hwk"}
	if c.BackupEligible {
		amr[0] = "swk"
	}
	if userVerified {
		amr = append(amr, "user")
	}
	return amr
}

// refuseClone applies Cognate's clone-warning policy to updated, a
// credential whose assertion the library flagged (CloneWarning), or whose
// stored record moved on since it was verified (errCloneMeanwhile): the
// credential is stored with its warning (so an administrator sees it), the
// answer counts as a wrong guess, recorded with the credential's ID, and
// the sign-in is refused. The credential stays refused until an
// administrator resets the user's MFA. session is empty for a passkey
// sign-in, whose flow is spent already.
//
// The clone is counted and recorded once whatever else fails: the
// warning's write, whose error is returned after the count (a store fault,
// or the key or its user gone meanwhile), or the flow, which another tab
// may have ended meanwhile: a key that signed with a count gone back was
// presented all the same.
// The warning is written first, with a context the request's end does not
// cancel, as failCheck writes the count: failCheck's pause, which a client
// may leave, must not keep the warning from the record either.
func (m *Machine) refuseClone(ctx context.Context, tenantID, session string, t tenant.Tenant, cr Credentials, user tenant.User, updated mfa.Credential) (Result, error) {
	updated.CloneWarning = true
	factorID := tenant.WebAuthnFactorID(updated.ID)
	// The refusal's one line: the operator must know of a cloned key.
	m.logger().WarnContext(ctx, "webauthn clone warning: the signature counter did not advance; credential refused until an MFA reset",
		"tenant", tenantID, "sub", user.Sub, "credential", factorID, "sign_count", updated.SignCount)
	warned := m.Store.Update(context.WithoutCancel(ctx), func(tx tenant.Tx) error {
		u, err := tenant.GetUser(tx, tenantID, user.Sub)
		if err != nil {
			return err
		}
		if err := storeCredential(&u, updated); err != nil {
			return err
		}
		return tenant.UpdateUser(tx, tenantID, u)
	})
	if warned != nil {
		warned = fmt.Errorf("store the clone warning of credential %s: %w", factorID, warned)
	}
	refused := refusal{user: &user, reason: tenant.ReasonChallengeFailed, details: map[string]string{"clone_warning": factorID}}
	if err := errors.Join(warned, m.failCheck(ctx, tenantID, t.Settings.Lockout, cr, refused, m.now(), passwordCheck{})); err != nil {
		return Result{}, err
	}
	if session == "" {
		return Result{}, ErrFactorUnusable
	}
	s, err := m.spendAttempt(ctx, tenantID, session)
	if err != nil {
		return Result{}, err
	}
	return Result{}, s.answer(ErrFactorUnusable)
}

// answerSetup confirms the factor being set up: a code of the TOTP key, or
// the browser's registration response. It finishes a sign-in (or an
// account page's enrolment); a user who had no recovery codes gets ten.
func (m *Machine) answerSetup(ctx context.Context, tenantID, session string, cr Credentials, t tenant.Tenant, user tenant.User, f flow, a Answer) (Result, error) {
	name, ok := tenant.NormalFactorName(a.FactorName)
	if !ok {
		return Result{}, m.refused(ctx, tenantID, cr, f, fmt.Errorf("%w: a factor's name is at most 64 characters, without control characters", tenant.ErrInvalid))
	}
	now := m.now()
	var (
		nf  newFactor
		err error
	)
	switch f.MFA.Setup {
	case SoftwareTokenMFA:
		nf, err = m.confirmTOTPSetup(ctx, tenantID, session, cr, user, f, a.Code, name, now)
	case WebAuthn:
		nf, err = m.confirmWebAuthnSetup(ctx, tenantID, session, cr, t, user, f, a.Credential, name, now)
	default:
		return Result{}, fmt.Errorf("%w: choose what to set up first", ErrWrongChallenge)
	}
	if err != nil {
		return Result{}, err
	}
	inSession := ""
	if f.MFA.Account {
		inSession = a.SSOSessionID
	}
	return m.enrol(ctx, tenantID, session, cr, user, f, nf, name, inSession, now)
}

// newFactor is a factor being set up whose answer proved it, ready to be
// added in the transaction that ends the flow (enrol).
type newFactor struct {
	// amr is what confirming the factor proved, beyond the flow's first
	// factor.
	amr []string
	// passkey says a WebAuthn credential may sign in alone, for the audit
	// trail.
	passkey bool
	// add adds the factor to u, inside tx; it refuses (tenant.ErrConflict)
	// a factor of the same kind that another request set up meanwhile.
	add func(tx tenant.Tx, u *tenant.User) error
}

// confirmTOTPSetup checks code against the TOTP key being set up in f, and
// returns the factor it confirms, named name. A wrong code is counted
// against the flow (wrongAnswer), not against the login: the person sees
// the key.
func (m *Machine) confirmTOTPSetup(ctx context.Context, tenantID, session string, cr Credentials, user tenant.User, f flow, code, name string, now time.Time) (newFactor, error) {
	secret, err := m.openTOTP(tenantID, user.Sub, f.MFA.Secret)
	if err != nil {
		return newFactor{}, err
	}
	step, err := mfa.VerifyTOTP(secret, code, now, 0)
	if wrong, ok := codeError(err); ok {
		// The person sees the key; a wrong code is a slip, not a guess.
		return newFactor{}, m.wrongAnswer(ctx, tenantID, session, cr, wrong)
	} else if err != nil {
		return newFactor{}, m.malformedOr(ctx, tenantID, cr, f, err)
	}
	// The confirming code's step is spent too: it cannot sign in again.
	factor := &tenant.TOTPFactor{Secret: f.MFA.Secret, LastStep: step, Name: name, CreatedAt: now, LastUsedAt: now}
	return newFactor{amr: []string{"otp", "mfa"}, add: func(_ tenant.Tx, u *tenant.User) error {
		if u.MFA.TOTP != nil {
			return fmt.Errorf("%w: an authenticator app was set up meanwhile", tenant.ErrConflict)
		}
		u.MFA.TOTP = factor
		return m.resealTOTP(tenantID, u.Sub, factor, secret)
	}}, nil
}

// confirmWebAuthnSetup verifies response, the browser's registration of a
// security key or passkey for the ceremony of f, and returns the credential
// it registers, named name. A refused registration is counted against the
// flow (wrongAnswer), not against the login.
func (m *Machine) confirmWebAuthnSetup(ctx context.Context, tenantID, session string, cr Credentials, t tenant.Tenant, user tenant.User, f flow, response []byte, name string, now time.Time) (newFactor, error) {
	wrong := func(cause error) error { return m.wrongAnswer(ctx, tenantID, session, cr, cause) }
	rp, err := m.webAuthnVerifier(ctx, tenantID, cr, t, f, response, wrong)
	if err != nil {
		return newFactor{}, err
	}
	handle := user.MFA.Handle
	if len(handle) == 0 {
		handle = f.MFA.Handle
	}
	wu, err := webAuthnUser(user, rp.ID(), handle)
	if err != nil {
		return newFactor{}, err
	}
	cred, err := rp.FinishRegistration(wu, *f.MFA.Ceremony, response, now)
	if err != nil {
		return newFactor{}, wrong(fmt.Errorf("%w: registration: %w", ErrFactorRefused, err))
	}
	passkey := t.Settings.MFA.PasskeySignIn() || (cred.Extensions.RK != nil && *cred.Extensions.RK)
	factor, err := newWebAuthnFactor(cred, rp.ID(), name, passkey)
	if err != nil {
		return newFactor{}, err
	}
	verified := protocol.AuthenticatorFlags(cred.FlagsByte).HasUserVerified()
	// A credential ID registered already, to this user or another of
	// the tenant, is refused by tenant.UpdateUser when completeFlow
	// stores the user (tenant.ErrCredentialInUse), in the transaction
	// that would add it.
	return newFactor{amr: append(keyAMR(cred, verified), "mfa"), passkey: passkey, add: func(tx tenant.Tx, u *tenant.User) error {
		switch {
		case len(u.MFA.Handle) == 0:
			u.MFA.Handle = handle
			if err := tenant.PutWebAuthnHandle(tx, tenantID, handle, u.Sub); err != nil {
				return err
			}
		case !bytes.Equal(u.MFA.Handle, handle):
			return fmt.Errorf("%w: the user handle changed meanwhile", tenant.ErrConflict)
		}
		u.MFA.WebAuthn = append(u.MFA.WebAuthn, factor)
		return nil
	}}, nil
}

// enrol ends the flow f, whose setup answer proved nf, named name: in the
// transaction that ends it (completeFlow), it adds the factor, records the
// enrolment for the audit trail, makes the factor the preferred one if
// the user had none, and gives a user without recovery codes ten new ones,
// returned in Result.RecoveryCodes to show once.
//
// An enrolment of the account page answered in an SSO session (inSession,
// its ID) marks that session in the same transaction
// (tenant.MarkFactorSetUp): the account page counts the factor for that
// session from then on (SessionOpensAccount), so a first factor does not
// sign the person out of the page it was set up on. The session's AMR
// stays what its sign-in proved, and applications are not answered from
// it while the policy asks for a second step: a factor set up by whoever
// held the session proves nothing of the person's own, so an
// application's sign-in (the admin console's too) asks for the password
// and the new factor. A session ended meanwhile (signed out in another
// tab) is not marked, and the factor is added all the same, as it was
// proven. The user's other sessions are not marked either: where the
// policy now asks this user for a second step, those that proved none no
// longer count (docs/account.md).
func (m *Machine) enrol(ctx context.Context, tenantID, session string, cr Credentials, user tenant.User, f flow, nf newFactor, name, inSession string, now time.Time) (Result, error) {
	enrolled := map[string]string{"kind": kindOf(f.MFA.Setup)} // for the audit trail
	if name != "" {
		enrolled["name"] = name
	}
	if nf.passkey {
		enrolled["passkey"] = "true"
	}
	f.AMR = append(slices.Clone(f.AMR), nf.amr...)
	codes, hashes, err := mfa.NewRecoveryCodes(m.rand())
	if err != nil {
		return Result{}, err
	}
	var shown []string
	res, err := m.completeFlow(ctx, tenantID, session, cr, f, func(tx tenant.Tx, u *tenant.User) error {
		if err := nf.add(tx, u); err != nil {
			return err
		}
		if err := m.record(tx, tenantID, now, tenant.AuditUserMFAEnrol, cr, u, enrolled); err != nil {
			return err
		}
		if inSession != "" {
			err := tenant.MarkFactorSetUp(tx, tenantID, inSession, u.Sub)
			if err != nil && !errors.Is(err, tenant.ErrNotFound) {
				return err
			}
		}
		delete(u.Attributes, tenant.AttrMFAReenroll) // enrolled again after a Cognito import
		if u.MFA.Preferred == "" {
			u.MFA.Preferred = kindOf(f.MFA.Setup)
		}
		shown = nil
		if u.MFA.RecoveryCodesLeft() == 0 {
			u.MFA.RecoveryCodes, shown = hashes, codes
		}
		return nil
	})
	if errors.Is(err, tenant.ErrCredentialInUse) {
		// Nothing was written. Not a guess at anyone's factor, so it does
		// not count towards the lockout; the ceremony is spent.
		return Result{}, m.wrongAnswer(ctx, tenantID, session, cr, fmt.Errorf("%w: %w", ErrFactorRefused, err))
	}
	if err != nil {
		return Result{}, err
	}
	m.logger().InfoContext(ctx, "second factor enrolled", "tenant", tenantID, "sub", user.Sub, "kind", kindOf(f.MFA.Setup))
	res.RecoveryCodes = shown
	return res, nil
}

// malformedOr passes VerifyTOTP's refusal of something that is not six
// digits on as a mismatch that counts against nothing (a typo is not a
// guess), logged as a refusal, and any other error as it is.
func (m *Machine) malformedOr(ctx context.Context, tenantID string, cr Credentials, f flow, err error) error {
	if errors.Is(err, mfa.ErrCodeMalformed) {
		return m.refused(ctx, tenantID, cr, f, fmt.Errorf("%w: %w", ErrCodeMismatch, err))
	}
	return err
}

// refused logs an answer to the challenge of flow f that was refused
// without being counted (not a code at all, no ceremony to answer, a
// factor's name too long) and returns cause, why: one line per refusal,
// as logWrongAnswer writes for the answers counted. A front end logs
// nothing more for these. The answer itself is never logged: causes say
// what was wrong with it, not what it was.
func (m *Machine) refused(ctx context.Context, tenantID string, cr Credentials, f flow, cause error) error {
	m.logRefusal(ctx, refusalMessage(f.MFA.Account), tenantID, cr, f.Challenge, cause)
	return cause
}

func (m *Machine) logRefusal(ctx context.Context, msg, tenantID string, cr Credentials, c Challenge, cause error) {
	m.logger().InfoContext(ctx, msg, "tenant", tenantID, "login", cr.Login, "client_ip", cr.ClientIP,
		"challenge", string(c), "err", cause)
}

// refusalMessage is the log message of a refused answer: to a sign-in's
// challenge, or to an enrolment of the account page.
func refusalMessage(enrolment bool) string {
	if enrolment {
		return "enrolment answer refused"
	}
	return "sign-in refused: second factor"
}

// spentAttempt is a wrong answer counted against its flow (spendAttempt).
type spentAttempt struct {
	challenge Challenge // the flow's
	enrolment bool      // the flow is an enrolment of the account page
	dead      bool      // the answer was the flow's last: the flow is gone
}

// spendAttempt counts a wrong answer against the flow of session, which
// dies at maxChallengeAttempts; a pending WebAuthn ceremony is spent
// either way. A flow gone already is ErrSessionExpired.
func (m *Machine) spendAttempt(ctx context.Context, tenantID, session string) (spentAttempt, error) {
	var s spentAttempt
	err := m.Store.Update(ctx, func(tx tenant.Tx) error {
		id := tenant.HashSecret(session)
		f, err := tenant.GetJSON[flow](tx, tenant.CollAuthFlows, tenantID, id)
		if errors.Is(err, tenant.ErrNotFound) {
			return ErrSessionExpired
		}
		if err != nil {
			return err
		}
		s = spentAttempt{challenge: f.Challenge, enrolment: f.MFA.Account}
		f.Attempts++
		f.MFA.Ceremony = nil
		if s.dead = f.Attempts >= maxChallengeAttempts; s.dead {
			return tx.Delete(tenant.CollAuthFlows, tenantID, id)
		}
		return tenant.PutExpiring(tx, tenant.CollAuthFlows, tenantID, id, f, f.ExpiresAt)
	})
	return s, err
}

// answer is the answer to give to the wrong answer s, refused for cause:
// cause, wrapped in ErrTooManyAttempts when it ended the flow.
func (s spentAttempt) answer(cause error) error {
	if s.dead {
		return fmt.Errorf("%w: %w", ErrTooManyAttempts, cause)
	}
	return cause
}

// logWrongAnswer writes the one line of the wrong answer s, with its cause
// and whether it ended the flow; never the answer.
func (m *Machine) logWrongAnswer(ctx context.Context, tenantID string, cr Credentials, s spentAttempt, cause error) {
	what := refusalMessage(s.enrolment)
	switch {
	case s.dead && s.enrolment:
		what = "enrolment answered wrongly too often; it ended"
	case s.dead:
		what = "sign-in challenge answered wrongly too often; flow ended"
	}
	m.logRefusal(ctx, what, tenantID, cr, s.challenge, cause)
}

// wrongAnswer counts a wrong answer that is no guess at anyone's factor
// against its flow only (spendAttempt): a code of the key being set up,
// which the person sees; a registration refused, or one of a credential
// registered already. It logs the refusal and returns the answer to give
// (spentAttempt.answer), or what kept the answer from being counted.
func (m *Machine) wrongAnswer(ctx context.Context, tenantID, session string, cr Credentials, cause error) error {
	s, err := m.spendAttempt(ctx, tenantID, session)
	if err != nil {
		return err
	}
	m.logWrongAnswer(ctx, tenantID, cr, s, cause)
	return s.answer(cause)
}

// wrongGuess counts a wrong answer to a sign-in's second factor (a code, a
// recovery code, a security key's assertion) against its flow, as
// wrongAnswer does, and against the login like a wrong password, recorded
// for the trail as a failed sign-in of user (failCheck). It logs the
// refusal and returns the answer to give (spentAttempt.answer), or what
// kept the answer from being counted.
func (m *Machine) wrongGuess(ctx context.Context, tenantID, session string, t tenant.Tenant, cr Credentials, user tenant.User, cause error) error {
	// Spent, as failCheck counts, whether or not the client stays for
	// the answer: leaving must not buy another guess.
	s, err := m.spendAttempt(context.WithoutCancel(ctx), tenantID, session)
	if err != nil {
		return err
	}
	m.logWrongAnswer(ctx, tenantID, cr, s, cause)
	refused := refusal{user: &user, reason: tenant.ReasonChallengeFailed}
	if err := m.failCheck(ctx, tenantID, t.Settings.Lockout, cr, refused, m.now(), passwordCheck{}); err != nil {
		return err
	}
	return s.answer(cause)
}

// refuseIfLocked refuses a step of user's sign-in, with ErrLocked, while
// sign-in is locked for them (userLocked), and records the refusal.
func (m *Machine) refuseIfLocked(ctx context.Context, tenantID string, cr Credentials, user tenant.User) error {
	locked, err := m.userLocked(ctx, tenantID, cr)
	if err != nil {
		return err
	}
	if locked {
		m.recordOutcome(ctx, tenantID, tenant.AuditSignInFailure, cr, &user, tenant.ReasonLocked, nil)
		return ErrLocked
	}
	return nil
}

// userLocked reports whether sign-in is locked for the user of cr
// (userCredentials): their username, the client's address, or their
// account, which counts the failures under every name, a second factor's
// among them.
func (m *Machine) userLocked(ctx context.Context, tenantID string, cr Credentials) (bool, error) {
	var locked bool
	err := m.Store.View(ctx, func(tx tenant.Tx) (err error) {
		locked, err = isLocked(tx, tenantID, lockKeys(cr), m.now())
		return err
	})
	return locked, err
}
