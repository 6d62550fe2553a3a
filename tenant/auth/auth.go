// Package auth is Cognate's authentication state machine, after Cognito's
// model: a sign-in starts with a username and a password and gets back either
// a finished result or a challenge (NEW_PASSWORD_REQUIRED, SOFTWARE_TOKEN_MFA,
// …) to answer; each answer reads the persisted state and returns the next
// step. It knows nothing of HTTP: the HTML login pages (package ui) drive it
// today, and a Cognito-compatible JSON API, should one come later
// (ARCHITECTURE.md), would drive this same machine.
//
// A wrong password is an outcome, not a fault: every way of failing to prove
// who you are returns ErrNotAuthorized, so no caller can tell an unknown user
// from a wrong password, a disabled account or one not yet activated.
package auth

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/password"
)

// Challenge names what the user must answer next, in Cognito's words.
type Challenge string

const (
	NewPasswordRequired   Challenge = "NEW_PASSWORD_REQUIRED"
	PasswordResetRequired Challenge = "PASSWORD_RESET_REQUIRED"
	SoftwareTokenMFA      Challenge = "SOFTWARE_TOKEN_MFA"
	WebAuthn              Challenge = "WEB_AUTHN"
	MFASetup              Challenge = "MFA_SETUP"
	SelectMFAType         Challenge = "SELECT_MFA_TYPE"
)

// Errors a caller maps to words for a person.
var (
	ErrNotAuthorized       = errors.New("incorrect username or password")
	ErrTempPasswordExpired = errors.New("temporary password has expired and must be reset by an administrator")
	ErrSessionExpired      = errors.New("sign-in session expired; start again")
	ErrWrongChallenge      = errors.New("answer does not fit the pending challenge")
	ErrLocked              = errors.New("too many failed attempts; try again later")
	ErrPasswordUnchanged   = errors.New("the new password is the same as the current one")
)

// Result is where a sign-in stands. When Challenge is empty the user is
// authenticated: Sub, AMR and AuthTime are final.
type Result struct {
	Challenge Challenge
	// Session identifies the pending flow to answer a challenge with.
	Session  string
	Sub      string
	Username string
	AMR      []string
	AuthTime time.Time
	// MFA says what answering a pending MFA challenge needs (mfa.go).
	MFA *MFAChallenge
	// SSOSession, on a finished sign-in with Machine.SSOSessions, is the
	// token of the browser's new SSO session, for its cookie.
	SSOSession string
	// RecoveryCodes, on a finished sign-in that enrolled a first factor, are
	// the user's new recovery codes: show them once, they are stored hashed.
	RecoveryCodes []string
}

// Done reports whether the user is authenticated.
func (r Result) Done() bool { return r.Challenge == "" }

// SignedIn is the SSO session a finished sign-in started, as a relying
// party's sign-in completes with it (provider.Provider.CompleteLogin): its
// ID is empty when the machine starts no sessions.
func (r Result) SignedIn() tenant.Session {
	s := tenant.Session{Sub: r.Sub, AMR: r.AMR, AuthTime: r.AuthTime}
	if r.SSOSession != "" {
		s.ID = tenant.SessionID(r.SSOSession)
	}
	return s
}

// flow is the persisted state between steps.
type flow struct {
	ID        string    `json:"id"`
	Sub       string    `json:"sub"`
	Challenge Challenge `json:"challenge"`
	AMR       []string  `json:"amr"`
	// PasswordHash is the hash the user proved, so a forced change can
	// refuse the same password again without keeping it in clear.
	PasswordHash string `json:"password_hash,omitempty"`
	// Standing is what the first factor proved, as standing digests it:
	// the account as it was when the password was checked (or a new one
	// set). The step that ends the flow signs in only while the account
	// still stands so (commitSignIn): a password set or reset, a deactivation
	// or an MFA reset while the person was at the step ends the sign-in.
	Standing  string    `json:"standing,omitempty"`
	Attempts  int       `json:"attempts"`
	ExpiresAt time.Time `json:"expires_at"`
	MFA       mfaFlow   `json:"mfa,omitzero"` // the state of an MFA challenge (mfa.go)
}

// PasswordHasher is what the machine asks of a password hasher: a
// *password.Hasher, whose slots each hash and verification waits for.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error)
	DummyVerify(ctx context.Context, password string) error
	NotReused(ctx context.Context, history []string, password string) error
}

var _ PasswordHasher = (*password.Hasher)(nil)

// Machine runs sign-ins for every tenant.
type Machine struct {
	Store  tenant.Store
	Hasher PasswordHasher
	Logger *slog.Logger
	Now    func() time.Time
	// FlowTTL is how long a challenge may stay unanswered (Cognito: 3–15 min).
	FlowTTL time.Duration
	// Pause holds back a failed sign-in's answer (see slowDown in
	// lockout.go); nil waits on a timer. Tests record the pauses instead.
	Pause func(ctx context.Context, d time.Duration) error
	// SSOSessions makes every finished sign-in also start a single sign-on
	// session, in the transaction that finishes it, and return its token in
	// Result.SSOSession. The machine behind the browser pages sets it; one
	// behind an API would not.
	SSOSessions bool
	// Audit, when set, writes each sign-in outcome to the trail inside tx
	// (see audit.go); wire it to tenant.RecordAudit.
	Audit func(tx tenant.Tx, tenantID string, ev tenant.AuditEvent) error
	// Legacy reaches tenants' legacy pools for lazy migration
	// (migrate.go); nil turns it off.
	Legacy tenant.LegacyDirectory
	// Sealer seals TOTP secrets at rest; RelyingParty returns a tenant's
	// WebAuthn relying party (see RelyingParties). Without them a tenant
	// that asks for MFA cannot sign anyone in.
	Sealer       *mfa.Sealer
	RelyingParty func(tenant.Tenant) (*mfa.RelyingParty, error)
	// Rand makes TOTP keys, recovery codes and user handles; nil is
	// crypto/rand.
	Rand io.Reader

	checks checksUnderWay // password checks under way (lockout.go)
}

// maxChallengeAttempts bounds guesses at one pending challenge.
const maxChallengeAttempts = 5

func (m *Machine) now() time.Time { return m.Now().UTC() }

// logger is the machine's Logger, or one that discards when it has none:
// every line the machine writes goes through here.
func (m *Machine) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// StepTime is how long a challenge may stay unanswered: FlowTTL, or 10
// minutes. The pages say it, since a step left longer ends the sign-in.
func (m *Machine) StepTime() time.Duration {
	if m.FlowTTL > 0 {
		return m.FlowTTL
	}
	return 10 * time.Minute
}

// Credentials start a sign-in.
type Credentials struct {
	Login    string // username, or an email address held by exactly one user
	Password string
	ClientIP string
	// sub is the user Login turned out to name, once the machine knows
	// and counts failures against the account too (lockKeys).
	sub string
}

// userCredentials are the credentials of a step of user's own sign-in (a
// second factor, a passkey) or of a change to their account: failures
// count against the username, the address and the account.
func userCredentials(user tenant.User, clientIP string) Credentials {
	return Credentials{Login: user.Username, ClientIP: clientIP, sub: user.Sub}
}

// Start checks a username and password and returns the next step.
func (m *Machine) Start(ctx context.Context, tenantID string, cr Credentials) (Result, error) {
	now := m.now()
	a, err := m.admit(ctx, tenantID, cr, now)
	if err != nil {
		return Result{}, err
	}
	defer a.checks.end()
	var ok, needsRehash bool
	if a.user, ok, needsRehash, err = m.checkPassword(ctx, a); err != nil {
		return Result{}, err
	}
	var rehash string
	changed := false
	if ok {
		a.findErr = nil // a user the legacy pool accepted is one here now
		if needsRehash {
			if rehash, err = m.Hasher.Hash(ctx, a.cr.Password); err != nil {
				return Result{}, err
			}
		}
		// Hashing took a while, and the account may have changed
		// meanwhile: the sign-in goes on from the user as they are now.
		if a.user, changed, err = m.reread(ctx, tenantID, a.user); err != nil {
			return Result{}, err
		}
		ok = !changed
	}
	if !ok || !a.user.Enabled || a.user.Status == tenant.StatusUnconfirmed {
		return Result{}, m.refuse(ctx, a, ok, changed, now)
	}
	return m.afterPassword(ctx, a, rehash, now)
}

// attempt is a sign-in Start admitted to its password check: what it read
// before, and the checks of it under way (checksUnderWay).
type attempt struct {
	tenantID string
	t        tenant.Tenant
	// cr are the credentials as counted: their sub is set once the name
	// typed turned out to be user's, so failures count against the account
	// too, unless the account is locked (accountLocked).
	cr      Credentials
	user    tenant.User
	findErr error // from finding user by the name typed: tenant.ErrNotFound for no one
	// accountLocked is a lock of the account the name belongs to, which is
	// not told (lockout.go): the password is not checked, and the sign-in
	// goes on as for a name that belongs to no one, to the same refusal
	// after the same hash, counted against the name typed alone.
	accountLocked bool
	// checks are the attempt's checks under way, which Start ends.
	checks passwordCheck
}

// admit reads the tenant, whether the name typed or the client's address
// is locked and the user the name belongs to, and reserves the checks of
// the name and of the user's account. A locked name is refused here, with
// ErrLocked, before any hashing, so it costs the server nothing; the answer
// is the same for names that do not exist. The caller ends the checks of
// the attempt it returns (attempt.checks).
func (m *Machine) admit(ctx context.Context, tenantID string, cr Credentials, now time.Time) (attempt, error) {
	a := attempt{tenantID: tenantID, cr: cr}
	keys := lockKeys(cr)
	locked := false
	err := m.Store.View(ctx, func(tx tenant.Tx) error {
		var err error
		if a.t, err = tenant.GetTenant(tx, tenantID); err != nil {
			return err
		}
		if locked, err = isLocked(tx, tenantID, keys, now); err != nil {
			return err
		}
		a.user, a.findErr = tenant.FindUser(tx, tenantID, cr.Login)
		if a.findErr != nil && !errors.Is(a.findErr, tenant.ErrNotFound) {
			return a.findErr
		}
		return nil
	})
	if err != nil {
		return attempt{}, err
	}
	if !locked {
		var sub string // the account's, once the name turned out to be a user's
		if a.findErr == nil {
			sub = a.user.Sub
		}
		// The account's lock holds under any of its names, but is not
		// told (attempt.accountLocked).
		if a.checks, locked, a.accountLocked, err = m.beginPasswordCheck(ctx, tenantID, cr.Login, sub, a.t.Settings.Lockout, now); err != nil {
			return attempt{}, err
		}
	}
	if locked {
		m.recordOutcome(ctx, tenantID, tenant.AuditSignInFailure, cr, foundUser(a.user, a.findErr), tenant.ReasonLocked, nil)
		return attempt{}, ErrLocked
	}
	if a.findErr == nil && !a.accountLocked {
		a.cr.sub = a.user.Sub
	}
	return a, nil
}

// checkPassword checks the attempt's password in the one way that fits
// whom the name belongs to, and reports whether it proved the user, who is
// returned as the check left them (migrated from the legacy pool), and
// whether their hash is due to be replaced with a current one. Where no
// password can match, a dummy check takes a real one's time, so timing
// does not tell that no one could have signed in.
func (m *Machine) checkPassword(ctx context.Context, a attempt) (user tenant.User, ok, needsRehash bool, err error) {
	switch {
	case a.accountLocked:
		return a.user, false, false, m.Hasher.DummyVerify(ctx, a.cr.Password)
	case m.legacyApplies(a.t, a.user, a.findErr):
		// Unknown here, or imported without a password: the tenant's
		// legacy pool checks the password, and a user it accepts is
		// migrated here before the sign-in goes on (migrate.go).
		user, ok, err = m.migrate(ctx, a.t, a.cr, a.user)
		return user, ok, false, err
	case a.findErr == nil && a.user.PasswordHash != "" && a.user.Status != tenant.StatusExternalProvider:
		ok, needsRehash, err = m.verifyPassword(ctx, a.user.PasswordHash, a.cr.Password)
		return a.user, ok, needsRehash, err
	default:
		// Unknown, without a password, or EXTERNAL_PROVIDER: a user who
		// signs in through another identity provider and, as in Cognito,
		// has no password, even one imported with a hash (it counts once
		// an administrator sets a password, which confirms them). No
		// password matches; spend the time of a real check so that timing
		// reveals nothing, not that of the imported hash's scheme.
		return a.user, false, false, m.Hasher.DummyVerify(ctx, a.cr.Password)
	}
}

// verifyPassword checks pw against a user's stored hash, as Hasher.Verify
// does, except that a hash this server cannot read (malformed, or of a
// scheme it does not know) is a wrong password, not a fault: the person is
// refused as for any other, and the failure counts. The hash was read
// whole; what no scheme reads is the record's state, not a failure that
// trying again could clear, and no password can match it. Answered as a
// fault, it would tell whoever types the name that it is a user's (an
// unknown name reads as a wrong password), and spend no attempt; the
// person's way on is a wrong password's, "Forgot your password?", whose
// reset writes a hash this server reads. A failure to read the record is
// the store's error, returned before the hash gets here.
func (m *Machine) verifyPassword(ctx context.Context, hash, pw string) (ok, needsRehash bool, err error) {
	ok, needsRehash, err = m.Hasher.Verify(ctx, hash, pw)
	if errors.Is(err, password.ErrMalformedHash) || errors.Is(err, password.ErrUnknownScheme) {
		return false, false, nil
	}
	return ok, needsRehash, err
}

// refuse ends an attempt whose password did not prove an enabled,
// activated user (passwordOK says whether the password was right, changed
// that it was but no longer is the user's): it counts the failure, which
// may lock, records why for the trail, and returns the refusal, which
// reads the same whatever the reason.
func (m *Machine) refuse(ctx context.Context, a attempt, passwordOK, changed bool, now time.Time) error {
	reason := refusalReason(a.findErr == nil, a.user, passwordOK)
	switch {
	case a.accountLocked:
		reason = tenant.ReasonLocked
	case changed:
		reason = tenant.ReasonChangedDuringSignIn
	}
	refused := refusal{user: foundUser(a.user, a.findErr), reason: reason}
	if err := m.failCheck(ctx, a.tenantID, a.t.Settings.Lockout, a.cr, refused, now, a.checks); err != nil {
		return err
	}
	if changed {
		// The caller's refusal line says why; the person reads what
		// a wrong password reads, as the password now is.
		return fmt.Errorf("%w: the password changed while it was checked", ErrNotAuthorized)
	}
	return ErrNotAuthorized
}

// afterPassword is the step a proven password leads to, by the user's
// status: a new password for a temporary one, the reset a reset password
// waits for, or else the second factor or the finished sign-in, which
// stores rehash in place of the hash proven (empty for none).
func (m *Machine) afterPassword(ctx context.Context, a attempt, rehash string, now time.Time) (Result, error) {
	user := a.user
	switch user.Status {
	case tenant.StatusForceChangePassword:
		if !user.TempPasswordExpiresAt.IsZero() && !now.Before(user.TempPasswordExpiresAt) {
			m.recordOutcome(ctx, a.tenantID, tenant.AuditSignInFailure, a.cr, &user, tenant.ReasonTempPasswordExpired, nil)
			return Result{}, ErrTempPasswordExpired
		}
		return m.challenge(ctx, a.tenantID, a.cr, flow{Sub: user.Sub, Challenge: NewPasswordRequired, AMR: []string{"pwd"}, PasswordHash: user.PasswordHash}, user)
	case tenant.StatusResetRequired:
		// The password was right but no longer counts: an administrator
		// reset it, or an import kept it. The way on is a code by mail
		// (tenant.StartPasswordReset), which the pages offer; nothing is
		// persisted, as no answer to Respond exists. Only someone who knows
		// this password learns that a reset waits: anyone else reads
		// ErrNotAuthorized, as Cognito answers NotAuthorized with
		// PreventUserExistenceErrors, and the sign-in page offers
		// "Forgot your password?" to everyone.
		return Result{Challenge: PasswordResetRequired, Sub: user.Sub, Username: user.Username}, nil
	}

	proven := user.PasswordHash
	rehashed := func(u *tenant.User) {
		// Over the hash proven only: another password set since is not
		// this one's to replace.
		if rehash != "" && u.PasswordHash == proven {
			u.PasswordHash = rehash
		}
	}
	if next, due, err := m.afterFirstFactor(ctx, a.tenantID, a.t, a.cr, user, []string{"pwd"}, rehashed); due || err != nil {
		return next, err
	}
	return m.finish(ctx, a.tenantID, a.cr, user, []string{"pwd"}, rehashed), nil
}

// LogValue keeps the password out of logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("login", c.Login), slog.String("client_ip", c.ClientIP))
}

// Answer responds to a pending challenge.
type Answer struct {
	Challenge   Challenge
	NewPassword string
	ClientIP    string
	// The answers to MFA challenges (mfa.go): a TOTP code (SOFTWARE_TOKEN_MFA,
	// or MFA_SETUP of TOTP), a recovery code in place of the factor, the
	// browser's WebAuthn response (WEB_AUTHN, or MFA_SETUP of WebAuthn), the
	// kind chosen (SELECT_MFA_TYPE) and a name for a factor being set up.
	Code         string
	RecoveryCode string
	Credential   []byte
	Choice       Challenge
	FactorName   string
	// SSOSessionID, on an enrolment of the account page (FinishEnrolment),
	// is the ID (tenant.Session.ID) of the SSO session it is answered in:
	// the factor set up counts for that session's standing under the MFA
	// policy, not for its AMR (enrol). Empty for none. A sign-in starts a
	// session of its own and does not read it.
	SSOSessionID string
}

// LogValue keeps the answer's secrets (new password, codes, the WebAuthn
// response) out of logs.
func (a Answer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("challenge", string(a.Challenge)), slog.String("client_ip", a.ClientIP))
}

// Respond answers the challenge of session and returns the next step.
func (m *Machine) Respond(ctx context.Context, tenantID, session string, a Answer) (Result, error) {
	now := m.now()
	f, t, user, err := m.loadFlow(ctx, tenantID, session)
	if err != nil {
		return Result{}, err
	}
	if f.Sub == "" {
		// A passkey sign-in's flow names no user until the passkey does:
		// only FinishPasskey answers it.
		return Result{}, fmt.Errorf("%w: a passkey sign-in is answered with the passkey", ErrSessionExpired)
	}
	if a.Challenge != f.Challenge {
		return Result{}, fmt.Errorf("%w: pending %s, answered %s", ErrWrongChallenge, f.Challenge, a.Challenge)
	}
	cr := userCredentials(user, a.ClientIP)
	if !user.Enabled {
		_ = m.dropFlow(ctx, tenantID, session)
		m.recordOutcome(ctx, tenantID, tenant.AuditSignInFailure, cr, &user, tenant.ReasonDisabled, nil)
		return Result{}, ErrNotAuthorized
	}
	if !f.stands(user) {
		// Changed while the person was at the step: however right the
		// answer, the sign-in is over. The transaction that would finish
		// it checks again (commitSignIn), for a change that lands meanwhile.
		_ = m.dropFlow(ctx, tenantID, session)
		m.recordOutcome(ctx, tenantID, tenant.AuditSignInFailure, cr, &user, tenant.ReasonChangedDuringSignIn, nil)
		return Result{}, m.voided(ctx, tenantID, user.Sub, f.Challenge)
	}

	switch f.Challenge {
	case NewPasswordRequired:
		hash, err := m.newPasswordHash(ctx, t.Settings.PasswordPolicy, user, f.PasswordHash, "", a.NewPassword)
		if err != nil {
			return Result{}, err
		}
		return m.completeFlow(ctx, tenantID, session, cr, f, func(tx tenant.Tx, u *tenant.User) error {
			// The temporary password works once: if another tab already
			// used it, this flow no longer holds.
			if u.Status != tenant.StatusForceChangePassword || u.PasswordHash != f.PasswordHash {
				return ErrSessionExpired
			}
			details := map[string]string{"temporary": "replaced"}
			if tenant.ProveMailedAddress(u) { // before SetPermanentPassword forgets the address
				details["fields"] = "email_verified"
			}
			u.SetPermanentPassword(hash, t.Settings.PasswordPolicy.HistorySize, now)
			return m.record(tx, tenantID, now, tenant.AuditUserPasswordChange, cr, u, details)
		})
	case SoftwareTokenMFA, WebAuthn, SelectMFAType, MFASetup:
		return m.respondMFA(ctx, tenantID, session, cr, t, user, f, a)
	default:
		return Result{}, fmt.Errorf("%w: %s cannot be answered here", ErrWrongChallenge, f.Challenge)
	}
}

// newPasswordHash checks newPassword, to replace the password of user whose
// hash the person has just proved (proven), and returns its hash. It must
// meet policy (a *password.PolicyError), differ from the proven one
// (ErrPasswordUnchanged, said before the history) and from the user's
// last policy.HistorySize (RuleReused: tenant.PreviousPasswords).
//
// current is the password that proved proven when the caller has it (the
// account page's), or "" when it has only the hash (the first sign-in's
// flow keeps no password). Each hash costs a hasher slot, for which
// sign-ins wait, so none is verified twice: a current password in hand is
// compared as text, and the proven hash, which PreviousPasswords lists
// first, leaves the history once it has been compared.
func (m *Machine) newPasswordHash(ctx context.Context, policy password.Policy, user tenant.User, proven, current, newPassword string) (string, error) {
	if err := policy.Check(newPassword); err != nil {
		return "", err
	}
	same, err := m.sameAsProven(ctx, proven, current, newPassword)
	if err != nil {
		return "", err
	}
	if same {
		return "", ErrPasswordUnchanged
	}
	history := tenant.PreviousPasswords(user, policy.HistorySize)
	if len(history) > 0 && history[0] == proven {
		history = history[1:]
	}
	if err := m.Hasher.NotReused(ctx, history, newPassword); err != nil {
		return "", err
	}
	return m.Hasher.Hash(ctx, newPassword)
}

// sameAsProven reports whether newPassword is the one that proved the hash
// proven: compared with current, that password, when the caller has it
// (in constant time, as every password comparison), and verified against
// proven otherwise. Both say the same, since no scheme Verify reads
// matches a password other than the one hashed (bcrypt's 72-byte limit
// included, see password.Hasher.Verify).
func (m *Machine) sameAsProven(ctx context.Context, proven, current, newPassword string) (bool, error) {
	if current != "" {
		return subtle.ConstantTimeCompare([]byte(current), []byte(newPassword)) == 1, nil
	}
	same, _, err := m.Hasher.Verify(ctx, proven, newPassword)
	return same, err
}

// challenge persists a new pending flow and returns it.
func (m *Machine) challenge(ctx context.Context, tenantID string, cr Credentials, f flow, user tenant.User) (Result, error) {
	f.Standing = standing(user)
	var session string
	err := m.Store.Update(ctx, func(tx tenant.Tx) error {
		if err := clearFailures(tx, tenantID, cr); err != nil {
			return err
		}
		var err error
		session, err = m.putNewFlow(tx, tenantID, &f)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Challenge: f.Challenge, Session: session, Sub: user.Sub, Username: user.Username}, nil
}

func (m *Machine) dropFlow(ctx context.Context, tenantID, session string) error {
	return m.Store.Update(ctx, func(tx tenant.Tx) error {
		return tx.Delete(tenant.CollAuthFlows, tenantID, tenant.HashSecret(session))
	})
}

// takeFlow ends the pending flow f, whose client holds session, and reads
// its user: a flow can be taken once, so two tabs answering the same
// challenge cannot both finish it. Whether the user still stands as the
// flow's first factor found them is commitSignIn's to judge.
func takeFlow(tx tenant.Tx, tenantID, session string, f flow) (tenant.User, error) {
	id := tenant.HashSecret(session)
	if _, err := tx.Get(tenant.CollAuthFlows, tenantID, id); err != nil {
		return tenant.User{}, ErrSessionExpired
	}
	if err := tx.Delete(tenant.CollAuthFlows, tenantID, id); err != nil {
		return tenant.User{}, err
	}
	user, err := tenant.GetUser(tx, tenantID, f.Sub)
	if errors.Is(err, tenant.ErrNotFound) {
		return tenant.User{}, fmt.Errorf("%w: the user was deleted", ErrSessionExpired)
	}
	return user, err
}

// stands reports whether u, the flow's user read again, stands as the
// flow's first factor found them (standing).
func (f flow) stands(u tenant.User) bool { return stands(f.Standing, u) }

// stands reports whether u, a user read again, stands as held, the
// standing a sign-in was decided on: then it holds. An empty held holds
// to nothing, as a flow stored before flows kept a standing.
func stands(held string, u tenant.User) bool {
	return held == "" || standing(u) == held
}

// ErrAccountChanged: the account changed, in what decides whether and how
// its user signs in (standing), after the sign-in checked it. It comes
// wrapped in ErrNotAuthorized (voided), whose line in the log is the
// refusal's one: a caller logs nothing more for it.
var ErrAccountChanged = errors.New("the account changed during the sign-in")

// voidSignIn records, inside tx, the refusal of a sign-in whose account
// changed while it was under way (ErrAccountChanged); the transaction
// commits that and nothing else (commitSignIn): no session, so no code
// either.
func (m *Machine) voidSignIn(tx tenant.Tx, tenantID string, cr Credentials, u *tenant.User, now time.Time) error {
	if m.Audit == nil {
		return nil
	}
	return m.Audit(tx, tenantID, m.userEvent(now, tenant.AuditSignInFailure, cr, u, tenant.ReasonChangedDuringSignIn, nil))
}

// voided logs a sign-in voided by voidSignIn, the refusal's one line, and
// returns what its caller answers: the refusal of a wrong password, which
// sends the person back to sign in again, as the account now is. The
// error is ErrAccountChanged too, which tells the caller that the refusal
// is logged.
func (m *Machine) voided(ctx context.Context, tenantID, sub string, c Challenge) error {
	m.logVoided(ctx, tenantID, sub, "challenge", string(c))
	return fmt.Errorf("%w: %w", ErrNotAuthorized, ErrAccountChanged)
}

// logVoided writes the one line of a sign-in voided because its account
// changed while it was under way, with attrs beside the tenant and user.
func (m *Machine) logVoided(ctx context.Context, tenantID, sub string, attrs ...any) {
	m.logger().WarnContext(ctx, "sign-in voided: the account changed while it was checked",
		append([]any{"tenant", tenantID, "sub", sub}, attrs...)...)
}

// errNoSignIn, returned by commitSignIn's change, ends the step without
// signing anyone in: the user is written with the change, and that is all.
var errNoSignIn = errors.New("the step ends without a sign-in")

// commitSignIn ends a sign-in inside tx, the transaction that commits it;
// every sign-in ends here (finish, completeFlow, FinishPasskey). u is the
// user read again in tx, and held the standing the sign-in was decided on
// (stands). When u no longer stands so (a password set or reset, a
// deactivation, an MFA reset since), it records the refusal (voidSignIn)
// and nothing else, and reports voided: no change, and no session, so no
// code either; the caller logs it (voided, or logVoided). Otherwise it
// applies change and records the sign-in (signedIn: the user's last
// sign-in, the login's failures forgotten, the audit event, and the SSO
// session sso unless that is empty) and writes u. A change that returns
// errNoSignIn ends the step another way (a second factor is due; an
// enrolment signs nobody in): u is written and nothing more.
func (m *Machine) commitSignIn(tx tenant.Tx, tenantID string, cr Credentials, u *tenant.User, held string, amr []string, sso string, now time.Time, change func(*tenant.User) error) (voided bool, err error) {
	if !stands(held, *u) {
		return true, m.voidSignIn(tx, tenantID, cr, u, now)
	}
	switch err := change(u); {
	case errors.Is(err, errNoSignIn):
	case err != nil:
		return false, err
	default:
		if err := m.signedIn(tx, tenantID, cr, u, amr, now, sso); err != nil {
			return false, err
		}
	}
	return false, tenant.UpdateUser(tx, tenantID, *u)
}

// completeFlow ends the pending flow f, whose client holds session, once
// its answer is proven, in one transaction: it takes the flow (takeFlow,
// so a flow ends only once), applies change (the new password of a
// forced change; the spent TOTP step or recovery code, the credential's
// new counter, the factor set up) and signs the user in (commitSignIn).
// A forced change (NEW_PASSWORD_REQUIRED) may still call for a second
// factor: the sign-in then goes on in a new flow, whose challenge it
// returns. An enrolment of the account page signs nobody in.
func (m *Machine) completeFlow(ctx context.Context, tenantID, session string, cr Credentials, f flow, change func(tenant.Tx, *tenant.User) error) (Result, error) {
	now := m.now()
	sso := ""
	if !f.MFA.Account {
		sso = m.newSession()
	}
	var (
		user   tenant.User
		next   *Result
		voided bool
	)
	err := m.Store.Update(ctx, func(tx tenant.Tx) error {
		var err error
		if user, err = takeFlow(tx, tenantID, session, f); err != nil {
			return err
		}
		next = nil
		voided, err = m.commitSignIn(tx, tenantID, cr, &user, f.Standing, f.AMR, sso, now, func(u *tenant.User) error {
			if err := change(tx, u); err != nil {
				return err
			}
			if f.Challenge == NewPasswordRequired {
				// A first factor proven through a challenge (a new
				// password) may still call for a second one: the
				// sign-in goes on in a new flow.
				var err error
				if next, err = m.secondFactorTx(tx, tenantID, *u, f.AMR); err != nil {
					return err
				}
				if next != nil {
					return errNoSignIn
				}
			}
			u.UpdatedAt = now
			if f.MFA.Account {
				return errNoSignIn
			}
			return nil
		})
		return err
	})
	switch {
	case err != nil:
		return Result{}, err
	case voided:
		return Result{}, m.voided(ctx, tenantID, user.Sub, f.Challenge)
	case next != nil:
		return *next, nil
	case f.MFA.Account:
		return Result{Sub: user.Sub, Username: user.Username}, nil
	}
	return Result{Sub: user.Sub, Username: user.Username, AMR: f.AMR, AuthTime: now, SSOSession: sso}, nil
}

// finish completes a password sign-in that needed no challenge. Its
// records (signedIn's, and a rehashed password) are queued with
// Store.Later, not committed here: the sign-in gives nothing that lasts
// until its code is exchanged for tokens, and the commit of that exchange
// carries them. One commit a sign-in instead of two is a tenth of a core
// at full load (docs/benchmarks.md); a crash before the exchange loses the
// records of a sign-in whose code was lost with it.
//
// The queued write checks the sign-in once more against the user as they
// are in the transaction that commits it (commitSignIn, holding to user
// as the sign-in last read them). One that no longer holds (a password
// set, a reset or a deactivation committed after that read) records the
// refusal and nothing else: no session, so the code exchange, which
// requires the session, fails as well (provider), and no rehashed
// password; a user deleted since voids it too, with nothing to record
// (rereadSigningIn). Its lines are logged with ctx's attributes (the
// request's), though the request may be over by then.
func (m *Machine) finish(ctx context.Context, tenantID string, cr Credentials, user tenant.User, amr []string, change func(*tenant.User)) Result {
	now := m.now()
	sso := m.newSession()
	m.Store.Later(func(tx tenant.Tx) error {
		u, voided, err := rereadSigningIn(tx, tenantID, user.Sub)
		if err == nil && !voided {
			voided, err = m.commitSignIn(tx, tenantID, cr, &u, standing(user), amr, sso, now, func(u *tenant.User) error {
				change(u)
				return nil
			})
		}
		if voided {
			m.logVoided(ctx, tenantID, user.Sub)
		}
		return err
	}, func(err error) {
		m.logger().ErrorContext(ctx, "record finished sign-in", "tenant", tenantID, "sub", user.Sub, "err", err)
	})
	return Result{Sub: user.Sub, Username: user.Username, AMR: slices.Clone(amr), AuthTime: now, SSOSession: sso}
}

// rereadSigningIn reads again, inside tx, the user sub whose sign-in is
// under way, in the transaction that would commit its step. A user deleted
// since voids the sign-in, as a change to what decides it does (stands):
// the step logs it as voided and signs nobody in, but records no refusal,
// as there is no account left to record it of.
func rereadSigningIn(tx tenant.Tx, tenantID, sub string) (u tenant.User, voided bool, err error) {
	u, err = tenant.GetUser(tx, tenantID, sub)
	if errors.Is(err, tenant.ErrNotFound) {
		return tenant.User{}, true, nil
	}
	return u, false, err
}

// reread reads user again once their password is proven, which takes a
// hash's time or more (a legacy scheme's, a rehash): an administrator may
// have set another password, reset it or deactivated the user meanwhile,
// or the user changed it elsewhere. It returns the user as they are now,
// for the sign-in to go on from (a reset leads to its page, a deactivation
// to the refusal), and changed when the password proven is no longer
// theirs, or the user is gone, which the sign-in refuses as a wrong
// password.
func (m *Machine) reread(ctx context.Context, tenantID string, user tenant.User) (now tenant.User, changed bool, err error) {
	err = m.Store.View(ctx, func(tx tenant.Tx) (err error) {
		now, err = tenant.GetUser(tx, tenantID, user.Sub)
		return err
	})
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		changed = true
	case err != nil:
		return user, false, err
	case !samePassword(now, user):
		changed = true
	}
	if changed {
		return user, true, nil
	}
	return now, false, nil
}

// samePassword reports whether a and b, one user read twice, have the
// same password: not the same hash, which a rehash of the same password
// replaces (another sign-in of the user's, under way at the same time,
// rehashing a legacy hash), but the same setting of it
// (tenant.User.SetPassword counts them).
func samePassword(a, b tenant.User) bool {
	return a.PasswordVersion == b.PasswordVersion
}

// standing digests what decides whether and how u signs in: the password
// set (its version, samePassword: so the one proven is still theirs, though
// another sign-in may have rehashed it), enabled, status, and their second
// factors, by secrets and credential IDs whatever their use since (a TOTP
// step, a sign count). A sign-in decided on one standing holds only while
// the user has it (stands: the transaction that commits the sign-in
// checks it, commitSignIn, and a pending step's flow keeps it). Whatever else changes meanwhile (a name, a factor's last use)
// could as well have changed just after the sign-in.
func standing(u tenant.User) string {
	var b strings.Builder
	for _, part := range []string{strconv.Itoa(u.PasswordVersion), strconv.FormatBool(u.Enabled), string(u.Status)} {
		b.WriteString(part)
		b.WriteByte(0)
	}
	if u.MFA.TOTP != nil {
		b.WriteString(u.MFA.TOTP.Secret)
	}
	for _, f := range u.MFA.WebAuthn {
		b.WriteByte(0)
		b.WriteString(hex.EncodeToString(f.ID))
	}
	return tenant.HashSecret(b.String())
}
