package tenant

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"time"

	"github.com/cognate-idp/cognate/mail"
)

// Password reset by a code sent to the user's email address: Cognito's
// ForgotPassword / ConfirmForgotPassword, and AdminResetUserPassword.
//
// Nothing the person is told depends on whether the name they typed belongs
// to an account: StartPasswordReset answers the same for unknown names,
// users without an address and deactivated users (it just sends nothing),
// and ConfirmPasswordReset reads a wrong code exactly like a code for a name
// that has none. Each request commits one transaction either way, so the
// time it takes tells nothing either.
//
// Users in RESET_REQUIRED (imported without a usable password, or reset by an
// administrator) come this way: the sign-in page offers "Forgot your
// password?" to everyone, and tells someone who typed the (old) password of
// such a user that a reset is needed (tenant/auth's PASSWORD_RESET_REQUIRED).

// Reset codes: six digits, valid an hour, dead after five wrong guesses.
const (
	ResetCodeTTL          = time.Hour
	MaxResetCodeAttempts  = 5
	resetCodeDigits       = 6
	resetCodeSpace        = 1_000_000 // 10^resetCodeDigits
	resetUsedGrace        = 10 * time.Minute
	resetRecordRetention  = ResetCodeTTL + resetUsedGrace
	resetIPLimitPerHour   = 30
	resetLoginAttemptsTTL = ResetCodeTTL
)

// Outcomes of ConfirmPasswordReset a page tells apart. A wrong new password
// is a *password.PolicyError (RuleReused for one used before).
var (
	ErrCodeMismatch = errors.New("the verification code is not correct")
	ErrCodeExpired  = errors.New("the verification code has expired or was used; request a new one")
	ErrCodeAttempts = errors.New("too many wrong verification codes; request a new one")
)

// resetLimits bound how many codes a user is sent: a second code within a
// minute is a double click, and a day's cap keeps both the user's mailbox
// and the guesses at codes (five per code) small.
func resetLimits() []rateLimit {
	return []rateLimit{{1, time.Minute}, {5, time.Hour}, {10, 24 * time.Hour}}
}

// resetState is a user's current reset code. Only a hash of the code is kept.
//
// The hash is SHA-256 over the sub and the code. What protects a code is
// that it lives an hour and dies after five wrong guesses online; the hash
// keeps it from being read straight off a copy of the store (a backup, a
// dump) and used. A slow hash would buy little: a six-digit code has 20
// bits, so whoever copies the store within the hour can try them all even
// at argon2id's cost, and could read every other record besides. The sub as
// salt keeps two users' equal codes from having equal hashes, so no one
// table serves every user.
type resetState struct {
	CodeHash      string    `json:"code_hash"`
	IssuedAt      time.Time `json:"issued_at"`
	CodeExpiresAt time.Time `json:"code_expires_at"`
	Attempts      int       `json:"attempts"`
	// UsedAt is when the code set a password, and SetHash the hash of
	// that password. The record stays a few minutes, so that the same form
	// sent twice reads as success (sameFormAgain).
	UsedAt    time.Time `json:"used_at,omitzero"`
	SetHash   string    `json:"set_hash,omitempty"`
	ExpiresAt time.Time `json:"expires_at"` // when the sweeper may delete it
}

// loginAttempts counts wrong codes sent for one login name, whether or not
// an account or a code stands behind it, so that "too many attempts" comes
// after the same number of guesses for every name.
type loginAttempts struct {
	Failures  int       `json:"failures"`
	ExpiresAt time.Time `json:"expires_at"`
}

func resetKey(sub string) string       { return "user/" + sub }
func loginAttemptsKey(l string) string { return "login/" + FoldKey(l) }

func hashResetCode(sub, code string) string {
	sum := sha256.Sum256([]byte(sub + ":" + code))
	return hex.EncodeToString(sum[:])
}

// newResetCode draws a code uniformly from 000000–999999.
func newResetCode(rng io.Reader) (string, error) {
	n, err := rand.Int(rng, big.NewInt(resetCodeSpace))
	if err != nil {
		return "", fmt.Errorf("reset code: %w", err)
	}
	return fmt.Sprintf("%0*d", resetCodeDigits, n.Int64()), nil
}

// resettable reports whether u may get a reset code by mail: enabled, with
// a verified address, and with a password of their own or one to reset. A
// code goes only to an address the user proved, as Cognito's ForgotPassword
// delivers only to verified attributes: whoever holds an address never
// verified (a typo, an address imported unverified) would otherwise take
// the account over. A user who has not signed in yet
// (FORCE_CHANGE_PASSWORD) needs a new invitation instead, as in Cognito;
// one not activated needs activating.
func resettable(u User) bool {
	return u.Enabled && u.Email != "" && u.EmailVerified && (u.Status == StatusConfirmed || u.Status == StatusResetRequired)
}

// ResetRequest is the input of StartPasswordReset.
type ResetRequest struct {
	// Login names the account: a username, or an email address held by
	// one user.
	Login string
	// ClientIP is the address the request came from, for its rate limit;
	// "" for none.
	ClientIP string
	// Locale is the language the person chose for the pages they asked on
	// (an application's ui_locales, a browser's preference), "" when they
	// chose none: the mail speaks it before the user's own language and
	// the organization's, when the mails speak it (Service.render).
	Locale string
}

// StartPasswordReset sends a reset code to the account that in.Login
// names, if there is one that may reset its password. Whatever the case it
// returns nil, except ErrRateLimited when in.ClientIP asked too often: that
// limit counts every request alike, so saying so gives nothing away. A
// user who asks again within a minute, or more than a few times an hour,
// gets no new mail, and the code already sent stays valid.
func (s *Service) StartPasswordReset(ctx context.Context, tenantID string, in ResetRequest) error {
	code, err := newResetCode(rand.Reader)
	if err != nil {
		return err
	}
	// A user still only in the tenant's legacy pool is brought over first.
	if err := s.bringLegacyUser(ctx, tenantID, in.Login, in.ClientIP); err != nil {
		return err
	}
	now := s.Time()
	queued := false
	err = s.Store.Update(ctx, func(tx Tx) error {
		queued = false
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		if in.ClientIP != "" {
			ok, err := takeRate(tx, CollRateLimits, tenantID, "reset-ip/"+AddressKey(in.ClientIP), now, rateLimit{resetIPLimitPerHour, time.Hour})
			if err != nil {
				return err
			}
			if !ok {
				return ErrRateLimited
			}
		}
		// The same limits hold for the name typed, whether or not it is an
		// account's, and only a request they let through starts new
		// guesses: so a name without an account behaves, in what it is
		// told, like one whose new code has been held back.
		ok, err := takeRate(tx, CollRateLimits, tenantID, "reset-login/"+FoldKey(in.Login), now, resetLimits()...)
		if err != nil || !ok {
			return err
		}
		if err := tx.Delete(CollPasswordResets, tenantID, loginAttemptsKey(in.Login)); err != nil {
			return err
		}
		u, err := FindUser(tx, tenantID, in.Login)
		if errors.Is(err, ErrNotFound) || (err == nil && !resettable(u)) {
			return nil
		}
		if err != nil {
			return err
		}
		// Per account too, or its username and its address would each
		// have their own allowance.
		ok, err = takeRate(tx, CollRateLimits, tenantID, "reset-user/"+u.Sub, now, resetLimits()...)
		if err != nil || !ok {
			return err
		}
		if err := putResetCode(tx, tenantID, u, code, now); err != nil {
			return err
		}
		// In the language the person read the pages in, when they chose
		// it: they asked for the code there.
		msg, err := s.render(t, u, in.Locale, mail.KindResetCode, mail.ResetCode{
			TenantName:   t.Name,
			Username:     u.Username,
			Code:         code,
			ValidMinutes: int(ResetCodeTTL / time.Minute),
		})
		if err != nil {
			return err
		}
		msg.Sensitive = true
		queued = true
		return EnqueueMail(tx, MailOwner{TenantID: tenantID, Sub: u.Sub}, msg, now)
	})
	if err != nil {
		return err
	}
	if queued {
		s.mailQueued()
	}
	return nil
}

// putResetCode makes code u's only valid one; an earlier code stops working.
func putResetCode(tx Tx, tenantID string, u User, code string, now time.Time) error {
	return PutJSON(tx, CollPasswordResets, tenantID, resetKey(u.Sub), resetState{
		CodeHash:      hashResetCode(u.Sub, code),
		IssuedAt:      now,
		CodeExpiresAt: now.Add(ResetCodeTTL),
		ExpiresAt:     now.Add(resetRecordRetention),
	})
}

// codeVerdict is what a code sent for a user amounts to.
type codeVerdict int

const (
	codeWrong codeVerdict = iota
	codeValid
	codeExpired
	codeDead // too many wrong guesses
	codeUsed // it already set a password
)

// judgeCode compares code with st in constant time and says what it is. A
// wrong code is wrong whatever else holds; expiry and use are only told to
// someone who has the right code.
func judgeCode(st resetState, sub, code string, now time.Time) codeVerdict {
	if st.CodeHash == "" {
		return codeWrong
	}
	// A wrong code is wrong before it is anything else: that the code
	// died of too many guesses is told only to whoever holds it, or a
	// guess under an email address would tell whether it is the address
	// of the account whose username was guessed at.
	if subtle.ConstantTimeCompare([]byte(hashResetCode(sub, code)), []byte(st.CodeHash)) != 1 {
		return codeWrong
	}
	switch {
	case st.Attempts >= MaxResetCodeAttempts:
		return codeDead
	case !st.UsedAt.IsZero():
		return codeUsed
	case !now.Before(st.CodeExpiresAt):
		return codeExpired
	}
	return codeValid
}

// ConfirmPasswordReset sets newPassword for the account login names, given
// the code mailed to it. It returns ErrCodeMismatch for a wrong code (and
// for a name with no account or no code: the same words), ErrCodeExpired,
// ErrCodeAttempts after MaxResetCodeAttempts wrong codes, or a
// *password.PolicyError naming every rule the password fails, including
// RuleReused for one of the last HistorySize passwords (a user whose
// password an administrator reset may not set the same one again). A wrong
// password costs no attempt and keeps the code.
//
// On success the user is CONFIRMED, every session and refresh token ends,
// the sign-in lockout of the user's names is released, and the code is
// spent, and the audit trail records the user as having set it, from the
// address ctx's actor carries. Sending the same form again shortly after
// reads as success; the spent code with another password is a wrong code
// (sameFormAgain).
func (s *Service) ConfirmPasswordReset(ctx context.Context, tenantID, login, code, newPassword string) error {
	now := s.Time()
	r, err := s.readResetClaim(ctx, tenantID, login)
	if err != nil {
		return err
	}
	if now.Before(r.attempts.ExpiresAt) && r.attempts.Failures >= MaxResetCodeAttempts {
		return ErrCodeAttempts
	}
	verdict := codeWrong
	if r.known {
		verdict = judgeCode(r.state, r.user.Sub, code, now)
	}
	switch verdict {
	case codeWrong:
		return s.wrongCode(ctx, tenantID, login, r.user.Sub, r.known, now)
	case codeDead:
		return ErrCodeAttempts
	case codeExpired:
		return ErrCodeExpired
	case codeUsed:
		return s.sameFormAgain(ctx, tenantID, login, r.user.Sub, newPassword, r.state.UsedAt, now)
	}
	hash, err := s.hashNewPassword(ctx, r.tenant, newPassword, PreviousPasswords(r.user, r.tenant.Settings.PasswordPolicy.HistorySize))
	if err != nil {
		return err
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		return s.setRecoveredPassword(ctx, tx, tenantID, login, r.user.Sub, code, hash, r.tenant.Settings.PasswordPolicy.HistorySize, now)
	})
	if errors.Is(err, errCodeJustUsed) {
		return s.sameFormAgain(ctx, tenantID, login, r.user.Sub, newPassword, now, now)
	}
	return err
}

// resetClaim is what ConfirmPasswordReset reads before it judges a code:
// the tenant, the failed attempts of the login, and, when the login names
// a user (known when one may reset the password), the user and the state
// of the user's reset.
type resetClaim struct {
	tenant   Tenant
	attempts loginAttempts
	user     User
	known    bool
	state    resetState
}

// readResetClaim reads the resetClaim of login in one transaction.
func (s *Service) readResetClaim(ctx context.Context, tenantID, login string) (resetClaim, error) {
	var r resetClaim
	err := s.Store.View(ctx, func(tx Tx) error {
		r = resetClaim{}
		var err error
		if r.tenant, err = GetTenant(tx, tenantID); err != nil {
			return err
		}
		if r.attempts, err = GetJSON[loginAttempts](tx, CollPasswordResets, tenantID, loginAttemptsKey(login)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		r.user, err = FindUser(tx, tenantID, login)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		r.known = resettable(r.user)
		r.state, err = GetJSON[resetState](tx, CollPasswordResets, tenantID, resetKey(r.user.Sub))
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	return r, err
}

// setRecoveredPassword is ConfirmPasswordReset's transaction: it judges
// the code again, as stored now, and gives user sub the password hash
// (keeping historySize previous ones), spending the code, ending the
// user's sessions and tokens, releasing the lockout, and recording the
// event. A code spent meanwhile is errCodeJustUsed.
func (s *Service) setRecoveredPassword(ctx context.Context, tx Tx, tenantID, login, sub, code, hash string, historySize int, now time.Time) error {
	st, err := GetJSON[resetState](tx, CollPasswordResets, tenantID, resetKey(sub))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	user, err := GetUser(tx, tenantID, sub)
	if err != nil {
		return err
	}
	// Judged again: a form sent twice at once, or a new code asked
	// for meanwhile, must not set two passwords.
	switch judgeCode(st, sub, code, now) {
	case codeValid:
	case codeUsed:
		return errCodeJustUsed
	default:
		return ErrCodeExpired
	}
	if !resettable(user) {
		return ErrCodeMismatch
	}
	st.UsedAt, st.SetHash = now, hash
	if err := PutJSON(tx, CollPasswordResets, tenantID, resetKey(sub), st); err != nil {
		return err
	}
	user.SetPermanentPassword(hash, historySize, now)
	user.UpdatedAt = now
	if err := s.revoke(tx, tenantID, user.Sub); err != nil {
		return err
	}
	if err := s.releaseLockout(tx, tenantID, user); err != nil {
		return err
	}
	if err := tx.Delete(CollPasswordResets, tenantID, loginAttemptsKey(login)); err != nil {
		return err
	}
	if err := s.auditSelf(ctx, tx, tenantID, AuditUserPasswordRecover, user, nil); err != nil {
		return err
	}
	return UpdateUser(tx, tenantID, user)
}

// errCodeJustUsed: another request spent the code while this one hashed.
var errCodeJustUsed = errors.New("reset code was used by a concurrent request")

// sameFormAgain answers the right code, which set a password at usedAt:
// success for the same form sent again soon after (a double submit: the
// password the code set, still the user's), else the code is spent.
//
// Within the grace, whoever holds the spent code could otherwise try
// passwords against it and read a success as "that is the password now".
// So only the exact repeat succeeds, and any other password is a wrong
// code: counted against the code and the name (wrongCode) and answered
// like one, so that after MaxResetCodeAttempts the code is dead and even
// the repeat is refused. The guesses are as few as at the sign-in, by
// someone who could read the mail the code came in anyway.
func (s *Service) sameFormAgain(ctx context.Context, tenantID, login, sub, newPassword string, usedAt, now time.Time) error {
	if now.Sub(usedAt) > resetUsedGrace {
		return ErrCodeExpired
	}
	var (
		st resetState
		u  User
	)
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		if st, err = GetJSON[resetState](tx, CollPasswordResets, tenantID, resetKey(sub)); err != nil {
			return err
		}
		u, err = GetUser(tx, tenantID, sub)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return ErrCodeExpired // the record was swept, or the user deleted, meanwhile
	}
	if err != nil {
		return err
	}
	// A password changed since (by the user, by an administrator) is no
	// repeat of this form, and its check would tell that password.
	if st.SetHash != "" && st.SetHash == u.PasswordHash {
		same, _, err := s.Hasher.Verify(ctx, st.SetHash, newPassword)
		if err != nil {
			return err
		}
		if same {
			return nil
		}
	}
	return s.wrongCode(ctx, tenantID, login, sub, true, now)
}

// wrongCode counts a wrong code against the login name and, for a user with
// a code (live, or spent a moment ago: sameFormAgain), against the code; it
// says ErrCodeAttempts once either is used up, else ErrCodeMismatch.
func (s *Service) wrongCode(ctx context.Context, tenantID, login, sub string, known bool, now time.Time) error {
	dead := false
	err := s.Store.Update(ctx, func(tx Tx) error {
		dead = false
		a, err := GetJSON[loginAttempts](tx, CollPasswordResets, tenantID, loginAttemptsKey(login))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if !now.Before(a.ExpiresAt) {
			a = loginAttempts{}
		}
		a.Failures++
		a.ExpiresAt = now.Add(resetLoginAttemptsTTL)
		dead = a.Failures >= MaxResetCodeAttempts
		if err := PutJSON(tx, CollPasswordResets, tenantID, loginAttemptsKey(login), a); err != nil {
			return err
		}
		if !known {
			return nil
		}
		st, err := GetJSON[resetState](tx, CollPasswordResets, tenantID, resetKey(sub))
		if errors.Is(err, ErrNotFound) || (err == nil && st.CodeHash == "") {
			return nil
		}
		if err != nil {
			return err
		}
		// The code itself dies after so many guesses under any of the
		// account's names; the answer, though, is the name's own: it
		// must read the same whether or not the name is the account's.
		st.Attempts++
		return PutJSON(tx, CollPasswordResets, tenantID, resetKey(sub), st)
	})
	if err != nil {
		return err
	}
	if dead {
		return ErrCodeAttempts
	}
	return ErrCodeMismatch
}

// PreviousPasswords lists the hashes a new password of u may not match:
// u's last size passwords (Cognito's PasswordHistorySize), the current one
// first and then the newest of its history, and for a user whose password
// an administrator reset, the current one whatever size: it was reset for
// a reason. Every way people set a password of their own checks this one
// list (the account page, the forced change at the first sign-in, a reset
// by code), so that all refuse the same passwords.
func PreviousPasswords(u User, size int) []string {
	var out []string
	if u.PasswordHash != "" && (size > 0 || u.Status == StatusResetRequired) {
		out = append(out, u.PasswordHash)
	}
	if n := size - len(out); n > 0 {
		h := u.PasswordHistory
		out = append(out, h[max(len(h)-n, 0):]...)
	}
	return out
}

// AdminResetPassword is Cognito's AdminResetUserPassword: the user becomes
// RESET_REQUIRED, every session and refresh token ends, and a code goes to
// the user's address to choose a new password with (the old one no longer
// signs in). It needs an enabled user with a verified address (ErrNoEmail,
// ErrEmailUnverified: codes go only to proved addresses, see resettable)
// who has a password to reset (CONFIRMED, or RESET_REQUIRED to send a fresh
// code, once the code sent is a minute old: sooner, the reset is taken for
// the same one sent again and changes nothing, and repeated is true); for a
// user who has not signed in yet, resend the invitation instead.
func (s *Service) AdminResetPassword(ctx context.Context, tenantID, sub string) (u User, repeated bool, err error) {
	code, err := newResetCode(rand.Reader)
	if err != nil {
		return User{}, false, err
	}
	check := func(u User) error {
		switch {
		case u.Status == StatusUnconfirmed:
			return fmt.Errorf("%w: %s is not activated yet; activate the user instead", ErrUserState, u.Username)
		case u.Status == StatusForceChangePassword:
			return fmt.Errorf("%w: %s has not signed in yet (FORCE_CHANGE_PASSWORD); resend the invitation instead", ErrUserState, u.Username)
		case u.Status != StatusConfirmed && u.Status != StatusResetRequired:
			return fmt.Errorf("%w: %s is %s; the password cannot be reset", ErrUserState, u.Username, u.Status)
		case !u.Enabled:
			return fmt.Errorf("%w: %s is deactivated; activate the user first", ErrUserState, u.Username)
		case u.Email == "":
			return fmt.Errorf("%w: %s needs an email address to receive the code; add one, or set a password instead", ErrNoEmail, u.Username)
		case !u.EmailVerified:
			return fmt.Errorf("%w: a reset code goes only to an address the user proved; mark %s's address verified if you know it is theirs, or set a password instead", ErrEmailUnverified, u.Username)
		}
		return nil
	}
	now := s.Time()
	err = s.Store.Update(ctx, func(tx Tx) error {
		repeated = false
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		if u, err = GetUser(tx, tenantID, sub); err != nil {
			return err
		}
		if err := check(u); err != nil {
			return err
		}
		// The same reset again within a minute (a form sent twice, two
		// administrators at once) changes nothing: a second code would
		// make the mail just sent useless.
		if u.Status == StatusResetRequired {
			st, err := GetJSON[resetState](tx, CollPasswordResets, tenantID, resetKey(u.Sub))
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			if err == nil && st.UsedAt.IsZero() && now.Sub(st.IssuedAt) < adminResetRepeat {
				repeated = true
				return nil
			}
		}
		// The old hash stays: it signs nobody in any more, but lets the
		// sign-in page tell the person who types it that a reset waits.
		u.Status, u.UpdatedAt = StatusResetRequired, now
		if err := s.revoke(tx, tenantID, sub); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditUserPasswordReset, userTarget(u), nil); err != nil {
			return err
		}
		if err := UpdateUser(tx, tenantID, u); err != nil {
			return err
		}
		if err := putResetCode(tx, tenantID, u, code, now); err != nil {
			return err
		}
		for _, login := range []string{u.Username, u.Email} {
			if err := tx.Delete(CollPasswordResets, tenantID, loginAttemptsKey(login)); err != nil {
				return err
			}
		}
		// The administrator's action sends it, not a page the user is
		// on: the user's language or the organization's.
		msg, err := s.render(t, u, "", mail.KindAdminReset, mail.AdminReset{
			TenantName:   t.Name,
			Username:     u.Username,
			Code:         code,
			ValidMinutes: int(ResetCodeTTL / time.Minute),
			LoginURL:     s.resetURL(t.Slug, u.Username),
		})
		if err != nil {
			return err
		}
		msg.Sensitive = true
		return EnqueueMail(tx, MailOwner{TenantID: tenantID, Sub: u.Sub}, msg, now)
	})
	if err != nil {
		return User{}, false, err
	}
	if !repeated {
		s.mailQueued()
	}
	return u, repeated, nil
}

// adminResetRepeat is how soon an administrator's reset of the same user
// counts as the same reset again, not a new one (AdminResetPassword's
// repeated). A code the user asked for themselves counts too: either way
// a code is on its way.
const adminResetRepeat = time.Minute

func (s *Service) resetURL(slug, username string) string {
	return s.tenantURL(slug) + PathResetPassword + "?login=" + url.QueryEscape(username)
}
