package mfa

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The TOTP parameters are fixed at SHA1, 6 digits and 30 seconds: many
// authenticator apps ignore the algorithm, digits and period in the otpauth
// URI and use these values regardless, so anything else would produce codes
// that silently never match.
const (
	totpPeriod     = 30 * time.Second
	totpDigits     = otp.DigitsSix
	totpAlgorithm  = otp.AlgorithmSHA1
	totpSecretSize = 20 // bytes, the RFC 4226 recommendation for SHA1
	totpSkew       = 1  // steps either side of now, for clock drift and typing time
)

// Errors returned by VerifyTOTP.
var (
	// ErrCodeMalformed means the input is not six digits; the code was not
	// checked against the secret.
	ErrCodeMalformed = errors.New("mfa: code is not six digits")
	// ErrCodeInvalid means the code does not match the secret within the
	// allowed window.
	ErrCodeInvalid = errors.New("mfa: code does not match")
	// ErrCodeReused means the code matched a time step at or before the last
	// one this factor accepted: a replay, or a second login with the same code.
	ErrCodeReused = errors.New("mfa: code already used")
)

// TOTPEnrollment is a freshly generated TOTP key, shown to the person once
// (as a QR code and as Secret for manual entry) and confirmed with a first
// code before the caller stores Secret, sealed.
type TOTPEnrollment struct {
	// Secret is the shared key, base32 without padding.
	Secret string
	// URI is the otpauth:// key URI that the QR code encodes.
	URI string

	key *otp.Key
}

// LogValue keeps the secret out of logs: slog would print the exported
// fields, and the URI holds the secret too.
func (e TOTPEnrollment) LogValue() slog.Value { return slog.StringValue("TOTPEnrollment(hidden)") }

// NewTOTPKey generates a 20-byte secret read from rand and the otpauth URI
// for it. issuer is the tenant's display name: it is what the authenticator
// app shows above the code, so people can tell their tenants apart. account
// is the user's username or email.
//
// A colon in issuer or account is removed: the URI label is "issuer:account"
// and apps split it at the first colon.
func NewTOTPKey(issuer, account string, rand io.Reader) (*TOTPEnrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      strings.ReplaceAll(issuer, ":", ""),
		AccountName: strings.ReplaceAll(account, ":", ""),
		Period:      uint(totpPeriod / time.Second),
		SecretSize:  totpSecretSize,
		Digits:      totpDigits,
		Algorithm:   totpAlgorithm,
		Rand:        rand,
	})
	if err != nil {
		return nil, fmt.Errorf("mfa: generate totp key: %w", err)
	}
	return &TOTPEnrollment{Secret: key.Secret(), URI: key.URL(), key: key}, nil
}

// maxQRSize bounds QRPNG so that a size taken from a request cannot make the
// server allocate an enormous image.
const maxQRSize = 1024

// QRPNG renders URI as a size×size pixel QR code in PNG format. Sizes from
// about 200 up are legible to phone cameras.
func (e *TOTPEnrollment) QRPNG(size int) ([]byte, error) {
	if size <= 0 || size > maxQRSize {
		return nil, fmt.Errorf("mfa: qr size %d outside 1..%d", size, maxQRSize)
	}
	img, err := e.key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("mfa: render qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("mfa: encode qr png: %w", err)
	}
	return buf.Bytes(), nil
}

// VerifyTOTP checks a six-digit code against secret (base32, as in
// TOTPEnrollment.Secret) at now, accepting the time steps one before and one
// after now's step. Spaces are ignored, since apps show codes as "123 456".
//
// It returns the time step (Unix seconds / 30) that the code matched. The
// step must be greater than lastUsedStep, otherwise the code is refused with
// ErrCodeReused: RFC 6238 §5.2 asks that a code be accepted only once, and
// the library cannot tell which step matched, so this function computes it.
// The caller persists the returned step as the new lastUsedStep in the same
// transaction that completes the login (or the enrolment, so the confirming
// code cannot be replayed either). Pass 0 for a factor that has never been
// used.
//
// Rate limiting is also the caller's: at any moment about three codes in a
// million are accepted, so attempts must be counted per login and per user.
func VerifyTOTP(secret, code string, now time.Time, lastUsedStep int64) (step int64, err error) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if !isDigits(code, totpDigits.Length()) {
		return 0, ErrCodeMalformed
	}

	opts := totp.ValidateOpts{
		Period:    uint(totpPeriod / time.Second),
		Digits:    totpDigits, // no default in ValidateOpts: zero would refuse every code
		Algorithm: totpAlgorithm,
	}

	// Try every step in the window, without stopping at a match, so the time
	// taken does not say which step (if any) matched.
	matched := false
	for k := -totpSkew; k <= totpSkew; k++ {
		at := now.Add(time.Duration(k) * totpPeriod)
		want, err := totp.GenerateCodeCustom(secret, at, opts)
		if err != nil {
			return 0, fmt.Errorf("mfa: totp secret: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			// On the (one in a million) chance that two steps share a
			// code, the later step wins: it burns more of the window.
			step = at.Unix() / int64(totpPeriod/time.Second)
			matched = true
		}
	}
	if !matched {
		return 0, ErrCodeInvalid
	}
	if step <= lastUsedStep {
		return 0, ErrCodeReused
	}
	return step, nil
}

// isDigits reports whether s is exactly n ASCII digits.
func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
