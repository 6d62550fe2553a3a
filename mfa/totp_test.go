package mfa_test

import (
	"bytes"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/cognate-idp/cognate/mfa"
)

// rfc6238 holds the SHA1 test vectors of RFC 6238 Appendix B: the secret is
// the ASCII string "12345678901234567890" and the codes are 8 digits. A
// 6-digit code is the same truncated HMAC value mod 10^6, i.e. the last six
// digits, so these are an independent source for the 6-digit codes too.
var rfc6238 = []struct {
	unix  int64
	eight int // the RFC's 8-digit code; rfc6238Code derives the 6-digit one
}{
	{59, 94287082},
	{1111111109, 7081804}, // printed as 07081804
	{1111111111, 14050471},
	{1234567890, 89005924},
	{2000000000, 69279037},
}

var rfcSecret = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))

func rfc6238Code(eight int) string { return fmt.Sprintf("%06d", eight%1_000_000) }

func TestVerifyTOTPRFC6238Vectors(t *testing.T) {
	for _, v := range rfc6238 {
		code := rfc6238Code(v.eight)
		t.Run(fmt.Sprintf("t=%d", v.unix), func(t *testing.T) {
			step, err := mfa.VerifyTOTP(rfcSecret, code, time.Unix(v.unix, 0), 0)
			if err != nil {
				t.Fatalf("VerifyTOTP(%s) = %v", code, err)
			}
			if want := v.unix / 30; step != want {
				t.Errorf("step = %d, want %d", step, want)
			}
		})
	}
}

func TestVerifyTOTPWindow(t *testing.T) {
	tests := []struct {
		name    string
		shift   time.Duration // of the verifier's clock relative to the code's time
		wantErr error
	}{
		{"same step", 0, nil},
		{"verifier one step ahead", 30 * time.Second, nil},
		{"verifier one step behind", -30 * time.Second, nil},
		{"verifier two steps ahead", 60 * time.Second, mfa.ErrCodeInvalid},
		{"verifier two steps behind", -60 * time.Second, mfa.ErrCodeInvalid},
	}
	for _, v := range rfc6238 {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("t=%d/%s", v.unix, tt.name), func(t *testing.T) {
				now := time.Unix(v.unix, 0).Add(tt.shift)
				step, err := mfa.VerifyTOTP(rfcSecret, rfc6238Code(v.eight), now, 0)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				// The step is the one the code belongs to, not now's.
				if err == nil && step != v.unix/30 {
					t.Errorf("step = %d, want %d", step, v.unix/30)
				}
			})
		}
	}
}

func TestVerifyTOTPReplay(t *testing.T) {
	v := rfc6238[3]
	codeTime := time.Unix(v.unix, 0)
	code := rfc6238Code(v.eight)

	step, err := mfa.VerifyTOTP(rfcSecret, code, codeTime, 0)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name         string
		code         string
		now          time.Time
		lastUsedStep int64
		wantErr      error
	}{
		{"same code again", code, codeTime, step, mfa.ErrCodeReused},
		{"same code, next step", code, codeTime.Add(30 * time.Second), step, mfa.ErrCodeReused},
		{"previous step's code after this one", codeAt(t, codeTime.Add(-30*time.Second)), codeTime, step, mfa.ErrCodeReused},
		{"next step's code", codeAt(t, codeTime.Add(30*time.Second)), codeTime.Add(30 * time.Second), step, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mfa.VerifyTOTP(rfcSecret, tt.code, tt.now, tt.lastUsedStep)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// codeAt computes the 6-digit code for rfcSecret at t with the library.
func codeAt(t *testing.T, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(rfcSecret, at, totp.ValidateOpts{Digits: otp.DigitsSix})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestVerifyTOTPInput(t *testing.T) {
	v := rfc6238[1]
	now := time.Unix(v.unix, 0)
	code := rfc6238Code(v.eight) // "081804": a leading zero must survive

	tests := []struct {
		name    string
		input   string
		wantErr error
	}{
		{"plain", code, nil},
		{"surrounding space", " " + code + "\n", nil},
		{"grouped as apps show it", code[:3] + " " + code[3:], nil},
		{"empty", "", mfa.ErrCodeMalformed},
		{"five digits", code[:5], mfa.ErrCodeMalformed},
		{"seven digits", code + "0", mfa.ErrCodeMalformed},
		{"eight-digit RFC value", fmt.Sprintf("%08d", v.eight), mfa.ErrCodeMalformed},
		{"letter", "08a804", mfa.ErrCodeMalformed},
		{"dash", "081-804", mfa.ErrCodeMalformed},
		{"full-width digits", "０８１８０４", mfa.ErrCodeMalformed},
		{"wrong code", "123456", mfa.ErrCodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mfa.VerifyTOTP(rfcSecret, tt.input, now, 0)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("VerifyTOTP(%q) err = %v, want %v", tt.input, err, tt.wantErr)
			}
		})
	}
}

func TestVerifyTOTPBadSecret(t *testing.T) {
	_, err := mfa.VerifyTOTP("not base32!", "123456", time.Unix(59, 0), 0)
	if err == nil || errors.Is(err, mfa.ErrCodeInvalid) || errors.Is(err, mfa.ErrCodeMalformed) {
		t.Fatalf("err = %v, want a secret error distinct from a wrong code", err)
	}
	if !errors.Is(err, otp.ErrValidateSecretInvalidBase32) {
		t.Errorf("err = %v, want it to wrap otp.ErrValidateSecretInvalidBase32", err)
	}
}

func TestNewTOTPKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xA5}, 20)
	enr, err := mfa.NewTOTPKey("Acme: Staff", "alice@example.com", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}

	if want := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw); enr.Secret != want {
		t.Errorf("Secret = %q, want %q (20 bytes from rand, base32 unpadded)", enr.Secret, want)
	}

	key, err := otp.NewKeyFromURL(enr.URI)
	if err != nil {
		t.Fatalf("URI %q does not parse: %v", enr.URI, err)
	}
	checks := []struct{ what, got, want string }{
		{"type", key.Type(), "totp"},
		{"issuer", key.Issuer(), "Acme Staff"},
		{"account", key.AccountName(), "alice@example.com"},
		{"secret", key.Secret(), enr.Secret},
		{"algorithm", key.Algorithm().String(), "SHA1"},
		{"digits", key.Digits().String(), "6"},
		{"period", fmt.Sprint(key.Period()), "30"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("URI %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if strings.Count(strings.TrimPrefix(enr.URI, "otpauth://totp/"), ":") != 1 {
		t.Errorf("URI %q: label must have exactly one colon, between issuer and account", enr.URI)
	}

	// The enrolled secret verifies a code an authenticator app would show.
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	code, err := totp.GenerateCode(enr.Secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mfa.VerifyTOTP(enr.Secret, code, now, 0); err != nil {
		t.Errorf("VerifyTOTP with the enrolled secret: %v", err)
	}
}

func TestNewTOTPKeyShortRandom(t *testing.T) {
	if _, err := mfa.NewTOTPKey("Acme", "alice", bytes.NewReader(make([]byte, 19))); err == nil {
		t.Fatal("NewTOTPKey with 19 random bytes succeeded, want an error")
	}
}

func TestTOTPQRPNG(t *testing.T) {
	enr, err := mfa.NewTOTPKey("Acme", "alice", bytes.NewReader(make([]byte, 20)))
	if err != nil {
		t.Fatal(err)
	}
	data, err := enr.QRPNG(256)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("QRPNG output is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Errorf("image is %dx%d, want 256x256", b.Dx(), b.Dy())
	}

	for _, size := range []int{0, -1, 1_000_000} {
		if _, err := enr.QRPNG(size); err == nil {
			t.Errorf("QRPNG(%d) succeeded, want an error", size)
		}
	}
}
