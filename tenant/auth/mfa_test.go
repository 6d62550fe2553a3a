package auth_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/mfa/mfatest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/password"
)

const annPassword = "Correct-Horse-9"

// totpCode is RFC 6238 (HMAC-SHA1, 30 s, 6 digits) written out from the
// RFC, independent of the library the code under test uses.
func totpCode(secret string, at time.Time) string {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		panic(err)
	}
	mac := hmac.New(sha1.New, key)
	_ = binary.Write(mac, binary.BigEndian, uint64(at.Unix()/30))
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[offset:]) & 0x7fffffff % 1_000_000
	return fmt.Sprintf("%06d", code)
}

// mfaEnv is the env of auth_test.go with MFA wired as cmd/cognate wires it,
// a second tenant beta, and acme's MFA policy set.
func mfaEnv(t *testing.T, policy tenant.MFAPolicy) env {
	t.Helper()
	e := newEnv(t)
	sealer, err := mfa.NewSealer(bytes.Repeat([]byte{7}, mfa.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	rps := &auth.RelyingParties{Origin: func(slug string) string { return "http://" + slug + ".localhost:8080" }}
	e.m.Sealer, e.m.RelyingParty = sealer, rps.For
	for _, slug := range []string{"acme", "beta"} {
		if slug == "beta" {
			if _, err := e.svc.CreateTenant(ctx, tenant.NewTenant{Slug: "beta"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.svc.UpdateTenant(ctx, slug, tenant.TenantChange{Settings: tenant.SettingsChange{MFA: &policy}}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e env) signIn(t *testing.T, tenantID, login string) auth.Result {
	t.Helper()
	res, err := e.m.Start(ctx, tenantID, auth.Credentials{Login: login, Password: annPassword, ClientIP: "192.0.2.9"})
	if err != nil {
		t.Fatalf("sign in %s at %s: %v", login, tenantID, err)
	}
	return res
}

func (e env) answer(session string, a auth.Answer) (auth.Result, error) {
	a.ClientIP = "192.0.2.9"
	return e.m.Respond(ctx, "acme", session, a)
}

// enrolTOTP adds an authenticator app to sub through the account page's
// enrolment and returns its secret. The confirming code spends the current
// time step, so the clock moves on by one.
func (e env) enrolTOTP(t *testing.T, sub string) string {
	t.Helper()
	res, err := e.m.BeginEnrolment(ctx, "acme", sub, auth.SoftwareTokenMFA)
	if err != nil {
		t.Fatal(err)
	}
	secret := res.MFA.TOTP.Secret
	if _, err := e.m.FinishEnrolment(ctx, "acme", sub, res.Session, auth.Answer{Code: totpCode(secret, e.clk.t), FactorName: "Phone", ClientIP: "192.0.2.9"}); err != nil {
		t.Fatalf("confirm TOTP enrolment: %v", err)
	}
	e.clk.t = e.clk.t.Add(30 * time.Second)
	return secret
}

// enrolKey registers authenticator a for sub at tenantID's relying party.
func (e env) enrolKey(t *testing.T, tenantID, sub string, a *mfatest.Authenticator) auth.Result {
	t.Helper()
	res, err := e.m.BeginEnrolment(ctx, tenantID, sub, auth.WebAuthn)
	if err != nil {
		t.Fatal(err)
	}
	done, err := e.m.FinishEnrolment(ctx, tenantID, sub, res.Session,
		auth.Answer{Credential: a.Register(res.MFA.WebAuthnOptions, "http://"+tenantID+".localhost:8080"), FactorName: "Key", ClientIP: "192.0.2.9"})
	if err != nil {
		t.Fatalf("register key at %s: %v", tenantID, err)
	}
	return done
}

func TestSecondFactorPolicy(t *testing.T) {
	tests := []struct {
		name    string
		mode    string
		factors []string // the user's: TOTP, WEBAUTHN; IMPORTED marks one who had MFA in Cognito
		want    auth.Challenge
	}{
		{"off, imported with MFA", tenant.MFAOff, []string{"IMPORTED"}, ""},
		{"optional, imported with MFA", tenant.MFAOptional, []string{"IMPORTED"}, auth.MFASetup},
		{"optional, imported with MFA, enrolled since", tenant.MFAOptional, []string{"IMPORTED", "TOTP"}, auth.SoftwareTokenMFA},
		{"off, with factors", tenant.MFAOff, []string{"TOTP"}, ""},
		{"optional, none", tenant.MFAOptional, nil, ""},
		{"optional, totp", tenant.MFAOptional, []string{"TOTP"}, auth.SoftwareTokenMFA},
		{"optional, key", tenant.MFAOptional, []string{"WEBAUTHN"}, auth.WebAuthn},
		{"required, none", tenant.MFARequired, nil, auth.MFASetup},
		{"required, totp", tenant.MFARequired, []string{"TOTP"}, auth.SoftwareTokenMFA},
		{"required, both, first preferred", tenant.MFARequired, []string{"TOTP", "WEBAUTHN"}, auth.SoftwareTokenMFA},
		{"required, both, none preferred", tenant.MFARequired, []string{"WEBAUTHN", "TOTP", "no preference"}, auth.SelectMFAType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
			ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
			for _, f := range tt.factors {
				switch f {
				case "TOTP":
					e.enrolTOTP(t, ann.Sub)
				case "WEBAUTHN":
					e.enrolKey(t, "acme", ann.Sub, mfatest.NewSecurityKey(t))
				case "IMPORTED":
					if err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
						u, _ := tenant.GetUser(tx, "acme", ann.Sub)
						u.Attributes = map[string]string{tenant.AttrMFAReenroll: "true"}
						return tenant.UpdateUser(tx, "acme", u)
					}); err != nil {
						t.Fatal(err)
					}
				default:
					if err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
						u, _ := tenant.GetUser(tx, "acme", ann.Sub)
						u.MFA.Preferred = ""
						return tenant.UpdateUser(tx, "acme", u)
					}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{MFA: &tenant.MFAPolicy{Mode: tt.mode}}}); err != nil {
				t.Fatal(err)
			}
			res := e.signIn(t, "acme", "ann")
			if res.Challenge != tt.want {
				t.Fatalf("challenge %q, want %q", res.Challenge, tt.want)
			}
			if res.Done() && !slices.Equal(res.AMR, []string{"pwd"}) {
				t.Errorf("amr %v, want [pwd]", res.AMR)
			}
			if !res.Done() && (res.Session == "" || res.MFA == nil) {
				t.Errorf("challenge without a session or its details: %+v", res)
			}
		})
	}
}

// TestImportedMFAUserEnrolsAgain: a user who had MFA in Cognito (whose
// secrets Cognito does not export) is asked to set up a factor at the
// first sign-in even where MFA is optional, and enrolling one removes the
// mark, so later sign-ins ask for that factor like anyone else's.
func TestImportedMFAUserEnrolsAgain(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	e.user(t, tenant.NewUser{Username: "ann", Password: annPassword, Attributes: map[string]string{tenant.AttrMFAReenroll: "true"}})

	res := e.signIn(t, "acme", "ann")
	if res.Challenge != auth.MFASetup {
		t.Fatalf("first sign-in after the import: %+v, want MFA_SETUP", res)
	}
	chosen, err := e.m.Choose(ctx, "acme", res.Session, auth.SoftwareTokenMFA)
	if err != nil || chosen.MFA.TOTP == nil {
		t.Fatalf("choose TOTP: %+v, %v", chosen, err)
	}
	done, err := e.answer(res.Session, auth.Answer{Challenge: auth.MFASetup, Code: totpCode(chosen.MFA.TOTP.Secret, e.clk.t)})
	if err != nil || !done.Done() {
		t.Fatalf("confirm: %+v, %v", done, err)
	}
	u, _ := e.svc.User(ctx, "acme", done.Sub)
	if u.MFAReenrollDue() || u.Attributes[tenant.AttrMFAReenroll] != "" || u.MFA.TOTP == nil {
		t.Fatalf("after enrolling: attributes %v, TOTP %v; want the mark gone and the app stored", u.Attributes, u.MFA.TOTP)
	}
	e.clk.t = e.clk.t.Add(30 * time.Second)
	if res := e.signIn(t, "acme", "ann"); res.Challenge != auth.SoftwareTokenMFA {
		t.Fatalf("next sign-in: %+v, want SOFTWARE_TOKEN_MFA", res)
	}
}

// TestTOTPSetupAndSignIn: a required policy makes a user without a factor
// set one up; the code window is one step either side; a code works once.
func TestTOTPSetupAndSignIn(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFARequired})
	e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})

	res := e.signIn(t, "acme", "ann")
	if res.Challenge != auth.MFASetup || !slices.Equal(res.MFA.Options, []auth.Challenge{auth.SoftwareTokenMFA, auth.WebAuthn}) {
		t.Fatalf("want MFA_SETUP offering both kinds, got %+v", res)
	}
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.MFASetup, Code: "123456"}); !errors.Is(err, auth.ErrWrongChallenge) {
		t.Fatalf("a code before choosing what to set up: %v", err)
	}
	chosen, err := e.m.Choose(ctx, "acme", res.Session, auth.SoftwareTokenMFA)
	if err != nil || chosen.MFA.TOTP == nil {
		t.Fatalf("choose TOTP: %+v, %v", chosen, err)
	}
	key := chosen.MFA.TOTP
	// Issuer is the tenant's name (newEnv names it after its slug),
	// account the username.
	if !strings.HasPrefix(key.URI, "otpauth://totp/acme:ann?") || !strings.Contains(key.URI, "issuer=acme") {
		t.Errorf("key URI %s", key.URI)
	}
	if png, err := key.QRPNG(200); err != nil || len(png) == 0 {
		t.Errorf("QR code: %v", err)
	}

	// A wrong code keeps the same key (the person has scanned it).
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.MFASetup, Code: "000000"}); !errors.Is(err, auth.ErrCodeMismatch) {
		t.Fatalf("wrong confirming code: %v", err)
	}
	again, err := e.m.Pending(ctx, "acme", res.Session)
	if err != nil || again.MFA.TOTP == nil || again.MFA.TOTP.Secret != key.Secret || again.MFA.TOTP.URI != key.URI {
		t.Fatalf("the key shown again differs: %+v, %v", again.MFA, err)
	}
	// Nothing is half-enrolled meanwhile.
	if u, _ := e.svc.FindUsers(ctx, "acme", tenant.UserQuery{Username: "ann"}); u.Users[0].MFA.HasFactor() {
		t.Fatal("a factor was stored before it was confirmed")
	}

	done, err := e.answer(res.Session, auth.Answer{Challenge: auth.MFASetup, Code: totpCode(key.Secret, e.clk.t), FactorName: " Phone "})
	if err != nil || !done.Done() {
		t.Fatalf("confirm: %+v, %v", done, err)
	}
	if !slices.Equal(done.AMR, []string{"pwd", "otp", "mfa"}) || len(done.RecoveryCodes) != 10 {
		t.Errorf("amr %v, %d recovery codes; want [pwd otp mfa] and 10", done.AMR, len(done.RecoveryCodes))
	}
	u, _ := e.svc.User(ctx, "acme", done.Sub)
	if u.MFA.TOTP == nil || u.MFA.TOTP.Name != "Phone" || u.MFA.TOTP.Secret == key.Secret || u.MFA.RecoveryCodesLeft() != 10 {
		t.Fatalf("stored: %+v (the secret must be sealed)", u.MFA)
	}

	// Sign-ins: the confirming code's step is spent, so the same code, even
	// in a new sign-in, is a replay.
	codeNow := totpCode(key.Secret, e.clk.t)
	res = e.signIn(t, "acme", "ann")
	if res.Challenge != auth.SoftwareTokenMFA {
		t.Fatalf("challenge %q, want SOFTWARE_TOKEN_MFA", res.Challenge)
	}
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: codeNow}); !errors.Is(err, auth.ErrCodeReused) {
		t.Fatalf("the setup code again: %v, want ErrCodeReused", err)
	}

	tests := []struct {
		name   string
		offset time.Duration // of the code's time from the clock
		want   error
	}{
		{"two steps behind", -60 * time.Second, auth.ErrCodeMismatch},
		{"two steps ahead", 60 * time.Second, auth.ErrCodeMismatch},
		{"one step ahead", 30 * time.Second, nil},
	}
	e.clk.t = e.clk.t.Add(30 * time.Second)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.signIn(t, "acme", "ann")
			got, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: totpCode(key.Secret, e.clk.t.Add(tt.offset))})
			if !errors.Is(err, tt.want) || (tt.want == nil && !slices.Equal(got.AMR, []string{"pwd", "otp", "mfa"})) {
				t.Fatalf("got %+v, %v; want %v", got, err, tt.want)
			}
		})
	}
	// The code one step ahead was spent; now's code is for an earlier step.
	res = e.signIn(t, "acme", "ann")
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: totpCode(key.Secret, e.clk.t)}); !errors.Is(err, auth.ErrCodeReused) {
		t.Fatalf("a code older than the last accepted: %v, want ErrCodeReused", err)
	}
	// Typing slips cost nothing; the flow still takes a good code.
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: "12a45"}); !errors.Is(err, auth.ErrCodeMismatch) || !errors.Is(err, mfa.ErrCodeMalformed) {
		t.Fatalf("malformed code: %v", err)
	}
	e.clk.t = e.clk.t.Add(60 * time.Second)
	if got, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: totpCode(key.Secret, e.clk.t)}); err != nil || !got.Done() {
		t.Fatalf("good code after slips: %+v, %v", got, err)
	}
}

// Two sign-ins racing with the same code: one wins.
func TestTOTPCodeOnceAcrossFlows(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	secret := e.enrolTOTP(t, ann.Sub)
	a, b := e.signIn(t, "acme", "ann"), e.signIn(t, "acme", "ann")
	code := totpCode(secret, e.clk.t)
	if _, err := e.answer(a.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: code}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.answer(b.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: code}); !errors.Is(err, auth.ErrCodeReused) {
		t.Fatalf("same code in a second flow: %v", err)
	}
}

func TestTooManyWrongCodes(t *testing.T) {
	tests := []struct {
		name        string
		maxFailures int
		wantStart   error // signing in again afterwards
	}{
		// The default lockout (5) locks the name at the same time.
		{"default lockout", 5, auth.ErrLocked},
		// A laxer lockout: the flow still dies, and the name is not locked.
		{"lax lockout", 20, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
			lockout := tenant.LockoutPolicy{MaxFailures: tt.maxFailures, LockDuration: 15 * time.Minute}
			e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Lockout: &lockout}})
			ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
			secret := e.enrolTOTP(t, ann.Sub)
			res := e.signIn(t, "acme", "ann")
			for i := 1; i <= 5; i++ {
				_, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: "000000"})
				want := auth.ErrCodeMismatch
				if i == 5 {
					want = auth.ErrTooManyAttempts
				}
				if !errors.Is(err, want) {
					t.Fatalf("wrong code %d: %v, want %v", i, err, want)
				}
			}
			if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: totpCode(secret, e.clk.t)}); !errors.Is(err, auth.ErrSessionExpired) {
				t.Fatalf("the right code after the flow died: %v", err)
			}
			_, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: annPassword})
			if !errors.Is(err, tt.wantStart) {
				t.Fatalf("signing in again: %v, want %v", err, tt.wantStart)
			}
		})
	}
}

// A known password must not buy unlimited code guesses: failures counted
// at the second factor survive a new, successful password step.
func TestPasswordDoesNotResetCodeFailures(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	e.enrolTOTP(t, ann.Sub)
	wrong := 0
	for range 5 {
		res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: annPassword})
		if errors.Is(err, auth.ErrLocked) {
			if wrong != 5 { // the tenant's default limit
				t.Fatalf("locked after %d wrong codes, want 5", wrong)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"000000", "000001"} {
			if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: code}); errors.Is(err, auth.ErrCodeMismatch) {
				wrong++
			}
		}
	}
	t.Fatal("ten wrong codes over five password sign-ins and the name is not locked")
}

func TestRecoveryCode(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFARequired})
	e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	res := e.signIn(t, "acme", "ann")
	setup, _ := e.m.Choose(ctx, "acme", res.Session, auth.SoftwareTokenMFA)
	done, err := e.answer(res.Session, auth.Answer{Challenge: auth.MFASetup, Code: totpCode(setup.MFA.TOTP.Secret, e.clk.t)})
	if err != nil {
		t.Fatal(err)
	}
	code := done.RecoveryCodes[3]

	res = e.signIn(t, "acme", "ann")
	if res.MFA.RecoveryCodesLeft != 10 {
		t.Errorf("codes left %d, want 10", res.MFA.RecoveryCodesLeft)
	}
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, RecoveryCode: "aaaa-bbbb-cccc"}); !errors.Is(err, auth.ErrCodeMismatch) {
		t.Fatalf("wrong recovery code: %v", err)
	}
	// Typed in capitals with spaces, as people do.
	got, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, RecoveryCode: " " + toUpperSpaced(code)})
	if err != nil || !got.Done() || !slices.Equal(got.AMR, []string{"pwd", "mfa"}) {
		t.Fatalf("recovery code: %+v, %v; want done with amr [pwd mfa]", got, err)
	}
	res = e.signIn(t, "acme", "ann")
	if res.MFA.RecoveryCodesLeft != 9 {
		t.Errorf("codes left %d, want 9", res.MFA.RecoveryCodesLeft)
	}
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, RecoveryCode: code}); !errors.Is(err, auth.ErrCodeMismatch) {
		t.Fatalf("the same recovery code again: %v", err)
	}

	// New codes replace the old ones.
	fresh, err := e.m.NewRecoveryCodes(ctx, "acme", got.Sub, "")
	if err != nil || len(fresh) != 10 {
		t.Fatalf("new codes: %v, %v", fresh, err)
	}
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, RecoveryCode: done.RecoveryCodes[0]}); !errors.Is(err, auth.ErrCodeMismatch) {
		t.Fatalf("an old code after new ones were made: %v", err)
	}
	if got, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, RecoveryCode: fresh[0]}); err != nil || !got.Done() {
		t.Fatalf("a new code: %v", err)
	}
}

func toUpperSpaced(code string) string {
	out := []byte{}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c == '-' {
			out = append(out, ' ')
			continue
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

// A temporary password, then the forced new password, then (required
// policy) the MFA setup: the first factor is only complete after the new
// password, and the second comes after it.
func TestNewPasswordThenSetup(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFARequired, Factors: []string{tenant.FactorTOTP}})
	e.user(t, tenant.NewUser{Username: "bob", Password: "Temp-Passw0rd!", Temporary: true})
	res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "bob", Password: "Temp-Passw0rd!"})
	if err != nil || res.Challenge != auth.NewPasswordRequired {
		t.Fatalf("%+v, %v", res, err)
	}
	next, err := e.m.Respond(ctx, "acme", res.Session, auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: "Brand-New-Pass1"})
	if err != nil || next.Challenge != auth.MFASetup || next.Session == res.Session {
		t.Fatalf("after the new password: %+v, %v; want MFA_SETUP in a new flow", next, err)
	}
	// Only TOTP is allowed, so it is set up without a choice.
	if next.MFA.Setup != auth.SoftwareTokenMFA || next.MFA.TOTP == nil {
		t.Fatalf("setup %+v, want the TOTP key at once", next.MFA)
	}
	done, err := e.m.Respond(ctx, "acme", next.Session, auth.Answer{Challenge: auth.MFASetup, Code: totpCode(next.MFA.TOTP.Secret, e.clk.t)})
	if err != nil || !done.Done() || !slices.Equal(done.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("setup: %+v, %v", done, err)
	}
	if u, _ := e.svc.User(ctx, "acme", done.Sub); u.Status != tenant.StatusConfirmed || u.LastSignInAt.IsZero() {
		t.Errorf("user after: %s, last sign-in %v", u.Status, u.LastSignInAt)
	}
}

func TestWebAuthnSecondFactor(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	key := mfatest.NewSecurityKey(t)
	enrolled := e.enrolKey(t, "acme", ann.Sub, key)
	if len(enrolled.RecoveryCodes) != 10 {
		t.Errorf("first factor: %d recovery codes, want 10", len(enrolled.RecoveryCodes))
	}
	const origin = "http://acme.localhost:8080"

	res := e.signIn(t, "acme", "ann")
	if res.Challenge != auth.WebAuthn || len(res.MFA.WebAuthnOptions) == 0 {
		t.Fatalf("want WEB_AUTHN with options, got %+v", res)
	}
	done, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, Credential: key.Assert(res.MFA.WebAuthnOptions, origin)})
	if err != nil || !slices.Equal(done.AMR, []string{"pwd", "hwk", "mfa"}) {
		t.Fatalf("security key: %+v, %v; want amr [pwd hwk mfa]", done, err)
	}
	u, _ := e.svc.User(ctx, "acme", ann.Sub)
	if u.MFA.WebAuthn[0].LastUsedAt.IsZero() {
		t.Error("last use not recorded")
	}

	t.Run("replayed assertion", func(t *testing.T) {
		res := e.signIn(t, "acme", "ann")
		assertion := key.Assert(res.MFA.WebAuthnOptions, origin)
		// The answer spends the ceremony, right or wrong: the same answer
		// to the next ceremony fails on its challenge.
		if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, Credential: []byte(`{"id":"x"}`)}); !errors.Is(err, auth.ErrFactorRefused) {
			t.Fatalf("garbage: %v", err)
		}
		if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, Credential: assertion}); !errors.Is(err, auth.ErrFactorRefused) {
			t.Fatalf("no ceremony: %v", err)
		}
		again, err := e.m.Pending(ctx, "acme", res.Session)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, Credential: assertion}); !errors.Is(err, auth.ErrFactorRefused) {
			t.Fatalf("an assertion for the earlier ceremony: %v", err)
		}
		again, _ = e.m.Pending(ctx, "acme", res.Session)
		if got, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, Credential: key.Assert(again.MFA.WebAuthnOptions, origin)}); err != nil || !got.Done() {
			t.Fatalf("a fresh assertion: %v", err)
		}
	})

	t.Run("another origin", func(t *testing.T) {
		res := e.signIn(t, "acme", "ann")
		if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, Credential: key.Assert(res.MFA.WebAuthnOptions, "http://beta.localhost:8080")}); !errors.Is(err, auth.ErrFactorRefused) {
			t.Fatalf("assertion made at beta's origin: %v", err)
		}
	})

	t.Run("clone warning", func(t *testing.T) {
		// The counter goes back: a copy of the key signs with an older count.
		key.Counter -= 2
		res := e.signIn(t, "acme", "ann")
		if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, Credential: key.Assert(res.MFA.WebAuthnOptions, origin)}); !errors.Is(err, auth.ErrFactorUnusable) {
			t.Fatalf("counter went back: %v, want ErrFactorUnusable", err)
		}
		u, _ := e.svc.User(ctx, "acme", ann.Sub)
		if !u.MFA.WebAuthn[0].CloneWarning {
			t.Fatal("the credential is not flagged for administrators")
		}
		// It stays refused, whatever the counter says now.
		key.Counter += 10
		again, _ := e.m.Pending(ctx, "acme", res.Session)
		if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, Credential: key.Assert(again.MFA.WebAuthnOptions, origin)}); !errors.Is(err, auth.ErrFactorUnusable) {
			t.Fatalf("flagged credential later: %v", err)
		}
		// The recovery codes still get the person in.
		if got, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, RecoveryCode: enrolled.RecoveryCodes[0]}); err != nil || !got.Done() {
			t.Fatalf("recovery code with a flagged key: %v", err)
		}
		// An administrator's reset clears it.
		if err := e.svc.ResetMFA(ctx, "acme", ann.Sub); err != nil {
			t.Fatal(err)
		}
		if res := e.signIn(t, "acme", "ann"); !res.Done() {
			t.Fatalf("after the reset (optional policy): %+v", res)
		}
	})
}

// TestPasskeys: passwordless sign-in with a passkey, and a passkey of one
// tenant refused at another.
func TestPasskeys(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional, Passwordless: true})
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	passkey := mfatest.NewPasskey(t)
	e.enrolKey(t, "acme", ann.Sub, passkey)
	u, _ := e.svc.User(ctx, "acme", ann.Sub)
	if f := u.MFA.WebAuthn[0]; !f.Passkey || !f.Synced || f.RPID != "acme.localhost" || len(u.MFA.Handle) == 0 {
		t.Fatalf("stored factor %+v, handle %x", f, u.MFA.Handle)
	}

	begin, err := e.m.BeginPasskey(ctx, "acme")
	if err != nil || begin.Challenge != auth.WebAuthn || !begin.MFA.Passkey {
		t.Fatalf("begin: %+v, %v", begin, err)
	}
	done, err := e.m.FinishPasskey(ctx, "acme", begin.Session, passkey.Assert(begin.MFA.WebAuthnOptions, "http://acme.localhost:8080"), "192.0.2.9")
	if err != nil || done.Sub != ann.Sub || !slices.Equal(done.AMR, []string{"swk", "user", "mfa"}) {
		t.Fatalf("passkey sign-in: %+v, %v; want ann with amr [swk user mfa]", done, err)
	}
	if _, err := e.m.FinishPasskey(ctx, "acme", begin.Session, passkey.Assert(begin.MFA.WebAuthnOptions, "http://acme.localhost:8080"), ""); !errors.Is(err, auth.ErrSessionExpired) {
		t.Fatalf("the same sign-in twice: %v", err)
	}

	t.Run("at another tenant", func(t *testing.T) {
		begin, err := e.m.BeginPasskey(ctx, "beta")
		if err != nil {
			t.Fatal(err)
		}
		// What a page at beta could get out of acme's passkey: signed for
		// acme's RP ID, over beta's challenge.
		_, err = e.m.FinishPasskey(ctx, "beta", begin.Session, passkey.Assert(begin.MFA.WebAuthnOptions, "http://beta.localhost:8080"), "")
		if !errors.Is(err, auth.ErrFactorRefused) || !errors.Is(err, mfa.ErrUnknownCredential) {
			t.Fatalf("acme's passkey at beta: %v, want refused as unknown", err)
		}
		// A database writer copies ann's record to a user at beta: the
		// credential is registered for acme's RP ID, so beta ignores it.
		bob := e.userAt(t, "beta", "bob")
		copyFactors(t, e, "acme", ann.Sub, "beta", bob.Sub, nil)
		begin, _ = e.m.BeginPasskey(ctx, "beta")
		_, err = e.m.FinishPasskey(ctx, "beta", begin.Session, passkey.Assert(begin.MFA.WebAuthnOptions, "http://beta.localhost:8080"), "")
		if !errors.Is(err, auth.ErrFactorRefused) || !errors.Is(err, mfa.ErrUnknownCredential) {
			t.Fatalf("acme's credential copied to a beta user: %v, want refused as unknown", err)
		}
		// Relabelled with beta's RP ID too: the authenticator signed acme's
		// RP ID hash, which the verification compares with beta's.
		copyFactors(t, e, "acme", ann.Sub, "beta", bob.Sub, func(f *tenant.WebAuthnFactor) { f.RPID = "beta.localhost" })
		begin, _ = e.m.BeginPasskey(ctx, "beta")
		_, err = e.m.FinishPasskey(ctx, "beta", begin.Session, passkey.Assert(begin.MFA.WebAuthnOptions, "http://beta.localhost:8080"), "")
		if !errors.Is(err, auth.ErrFactorRefused) || !errors.Is(err, mfa.ErrWebAuthnFailed) {
			t.Fatalf("acme's credential relabelled for beta: %v, want refused by the verification", err)
		}
	})

	t.Run("not allowed", func(t *testing.T) {
		e.svc.UpdateTenant(ctx, "beta", tenant.TenantChange{Settings: tenant.SettingsChange{MFA: &tenant.MFAPolicy{Mode: tenant.MFAOptional}}})
		if _, err := e.m.BeginPasskey(ctx, "beta"); !errors.Is(err, auth.ErrPasskeyNotAllowed) {
			t.Fatalf("%v", err)
		}
	})

	t.Run("reset drops the handle", func(t *testing.T) {
		if err := e.svc.ResetMFA(ctx, "acme", ann.Sub); err != nil {
			t.Fatal(err)
		}
		begin, _ := e.m.BeginPasskey(ctx, "acme")
		if _, err := e.m.FinishPasskey(ctx, "acme", begin.Session, passkey.Assert(begin.MFA.WebAuthnOptions, "http://acme.localhost:8080"), ""); !errors.Is(err, mfa.ErrUnknownCredential) {
			t.Fatalf("passkey after an MFA reset: %v", err)
		}
	})
}

func (e env) userAt(t *testing.T, tenantID, username string) tenant.User {
	t.Helper()
	u, err := e.svc.CreateUser(ctx, tenantID, tenant.NewUser{Username: username, Password: annPassword})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// copyFactors writes one user's factors and handle onto another user,
// perhaps at another tenant, as a database writer could; edit, if set,
// changes each WebAuthn factor on the way.
func copyFactors(t *testing.T, e env, fromTenant, fromSub, toTenant, toSub string, edit func(*tenant.WebAuthnFactor)) {
	t.Helper()
	err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
		from, err := tenant.GetUser(tx, fromTenant, fromSub)
		if err != nil {
			return err
		}
		to, err := tenant.GetUser(tx, toTenant, toSub)
		if err != nil {
			return err
		}
		to.MFA = from.MFA
		for i := range to.MFA.WebAuthn {
			if edit != nil {
				edit(&to.MFA.WebAuthn[i])
			}
		}
		if len(to.MFA.Handle) > 0 {
			if err := tenant.PutWebAuthnHandle(tx, toTenant, to.MFA.Handle, toSub); err != nil {
				return err
			}
		}
		return tenant.UpdateUser(tx, toTenant, to)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A sealed TOTP key copied onto another user does not open: the sealing
// binds it to its tenant and user.
func TestCopiedTOTPKeyDoesNotOpen(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	secret := e.enrolTOTP(t, ann.Sub)
	bob := e.userAt(t, "acme", "bob")
	copyFactors(t, e, "acme", ann.Sub, "acme", bob.Sub, nil)
	res := e.signIn(t, "acme", "bob")
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: totpCode(secret, e.clk.t)}); !errors.Is(err, mfa.ErrSealedInvalid) || !errors.Is(err, auth.ErrFactorUnusable) {
		t.Fatalf("ann's key on bob's record: %v, want ErrFactorUnusable from ErrSealedInvalid", err)
	}
}

func TestSelectAndSwitch(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	key := mfatest.NewSecurityKey(t)
	e.enrolKey(t, "acme", ann.Sub, key)
	secret := e.enrolTOTP(t, ann.Sub)

	// Preferred is the first factor set up.
	res := e.signIn(t, "acme", "ann")
	if res.Challenge != auth.WebAuthn || !slices.Equal(res.MFA.Options, []auth.Challenge{auth.SoftwareTokenMFA, auth.WebAuthn}) {
		t.Fatalf("%+v", res)
	}
	// The person switches to the app.
	sw, err := e.m.Choose(ctx, "acme", res.Session, auth.SoftwareTokenMFA)
	if err != nil || sw.Challenge != auth.SoftwareTokenMFA {
		t.Fatalf("switch: %+v, %v", sw, err)
	}
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn}); !errors.Is(err, auth.ErrWrongChallenge) {
		t.Fatalf("answering the factor switched away from: %v", err)
	}
	if got, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: totpCode(secret, e.clk.t)}); err != nil || !got.Done() {
		t.Fatalf("code after the switch: %v", err)
	}

	// Without a preference, SELECT_MFA_TYPE, answered as Cognito's ANSWER.
	e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
		u, _ := tenant.GetUser(tx, "acme", ann.Sub)
		u.MFA.Preferred = ""
		return tenant.UpdateUser(tx, "acme", u)
	})
	res = e.signIn(t, "acme", "ann")
	if res.Challenge != auth.SelectMFAType {
		t.Fatalf("%+v", res)
	}
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.SelectMFAType, Choice: auth.MFASetup}); !errors.Is(err, auth.ErrWrongChallenge) {
		t.Fatalf("choosing what is not offered: %v", err)
	}
	next, err := e.answer(res.Session, auth.Answer{Challenge: auth.SelectMFAType, Choice: auth.WebAuthn})
	if err != nil || next.Challenge != auth.WebAuthn {
		t.Fatalf("select: %+v, %v", next, err)
	}
	if got, err := e.answer(res.Session, auth.Answer{Challenge: auth.WebAuthn, Credential: key.Assert(next.MFA.WebAuthnOptions, "http://acme.localhost:8080")}); err != nil || !got.Done() {
		t.Fatalf("key after select: %v", err)
	}
}

func TestAccountEnrolment(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFARequired})
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	bob := e.user(t, tenant.NewUser{Username: "bob", Password: annPassword})
	res, err := e.m.BeginEnrolment(ctx, "acme", ann.Sub, auth.SoftwareTokenMFA)
	if err != nil {
		t.Fatal(err)
	}
	code := totpCode(res.MFA.TOTP.Secret, e.clk.t)

	// The enrolment is ann's, and signs nobody in.
	if _, err := e.m.FinishEnrolment(ctx, "acme", bob.Sub, res.Session, auth.Answer{Code: code}); !errors.Is(err, auth.ErrSessionExpired) {
		t.Fatalf("another user finishing it: %v", err)
	}
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.MFASetup, Code: code}); !errors.Is(err, auth.ErrWrongChallenge) {
		t.Fatalf("answered as a sign-in: %v", err)
	}
	if _, err := e.m.FinishEnrolment(ctx, "acme", ann.Sub, res.Session, auth.Answer{Code: code, FactorName: string(make([]byte, 65))}); !errors.Is(err, tenant.ErrInvalid) {
		t.Fatalf("a name of 65 characters: %v", err)
	}
	done, err := e.m.FinishEnrolment(ctx, "acme", ann.Sub, res.Session, auth.Answer{Code: code})
	if err != nil || len(done.RecoveryCodes) != 10 || done.AMR != nil {
		t.Fatalf("finish: %+v, %v", done, err)
	}
	if u, _ := e.svc.User(ctx, "acme", ann.Sub); !u.LastSignInAt.IsZero() {
		t.Error("an enrolment counted as a sign-in")
	}
	// At most one authenticator app.
	if opts := mustTenantUser(t, e, ann.Sub); slices.Contains(opts, auth.SoftwareTokenMFA) {
		t.Errorf("options %v offer a second app", opts)
	}
	if _, err := e.m.BeginEnrolment(ctx, "acme", ann.Sub, auth.SoftwareTokenMFA); !errors.Is(err, auth.ErrWrongChallenge) {
		t.Fatalf("second app: %v", err)
	}
	// A second factor keeps the recovery codes.
	if done := e.enrolKey(t, "acme", ann.Sub, mfatest.NewSecurityKey(t)); done.RecoveryCodes != nil {
		t.Error("a second factor made new recovery codes")
	}

	// Removing: the last factor stays while MFA is required.
	u, _ := e.svc.User(ctx, "acme", ann.Sub)
	if err := e.svc.RemoveMFAFactor(ctx, "acme", ann.Sub, tenant.TOTPFactorID); err != nil {
		t.Fatal(err)
	}
	last := u.MFA.WebAuthn[0].FactorID()
	if err := e.svc.RenameMFAFactor(ctx, "acme", ann.Sub, last, "Blue key"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RemoveMFAFactor(ctx, "acme", ann.Sub, last); !errors.Is(err, tenant.ErrLastFactor) {
		t.Fatalf("removing the last factor under ON: %v", err)
	}
	e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{MFA: &tenant.MFAPolicy{Mode: tenant.MFAOptional}}})
	if err := e.svc.RemoveMFAFactor(ctx, "acme", ann.Sub, last); err != nil {
		t.Fatalf("removing the last factor under OPTIONAL: %v", err)
	}
	if u, _ := e.svc.User(ctx, "acme", ann.Sub); u.MFA.HasFactor() || u.MFA.RecoveryCodes != nil {
		t.Errorf("after removing every factor: %+v", u.MFA)
	}
	if _, err := e.m.NewRecoveryCodes(ctx, "acme", ann.Sub, ""); !errors.Is(err, tenant.ErrNoFactor) {
		t.Errorf("recovery codes without a factor: %v", err)
	}
}

func mustTenantUser(t *testing.T, e env, sub string) []auth.Challenge {
	t.Helper()
	tn, err := e.svc.Tenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.svc.User(ctx, "acme", sub)
	if err != nil {
		t.Fatal(err)
	}
	return auth.EnrolmentOptions(tn, u)
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	history := 2
	if _, err := e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{
		PasswordPolicy: &tenant.PasswordPolicyChange{HistorySize: &history}}}); err != nil {
		t.Fatal(err)
	}
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})

	tests := []struct {
		name, current, next string
		want                error
	}{
		{"wrong current", "Wrong-Horse-9", "New-Horse-10", auth.ErrNotAuthorized},
		{"weak", annPassword, "weak", tenant.ErrInvalid},
		{"unchanged", annPassword, annPassword, auth.ErrPasswordUnchanged},
		{"good", annPassword, "New-Horse-10", nil},
		{"back to the previous", "New-Horse-10", annPassword, tenant.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.m.ChangePassword(ctx, "acme", ann.Sub, tt.current, tt.next, "192.0.2.1")
			if tt.want == tenant.ErrInvalid {
				// A policy refusal, with its rules.
				if pe := (*password.PolicyError)(nil); !errors.As(err, &pe) {
					t.Fatalf("err = %v, want a policy error", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann", Password: "New-Horse-10"}); err != nil || !res.Done() {
		t.Fatalf("sign in with the new password: %v", err)
	}
}

// The audit trail sees second-factor outcomes as sign-in outcomes: a
// wrong code is a failure with its reason, a success carries the amr.
func TestMFAAudit(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	secret := e.enrolTOTP(t, ann.Sub)
	var events []tenant.AuditEvent
	e.m.Audit = func(_ tenant.Tx, _ string, ev tenant.AuditEvent) error { events = append(events, ev); return nil }

	res := e.signIn(t, "acme", "ann")
	e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: "000000"})
	if _, err := e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: totpCode(secret, e.clk.t)}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		got = append(got, fmt.Sprintf("%s %s %s %s", ev.Action, ev.Reason, ev.Target.Name, ev.Details["amr"]))
	}
	want := []string{
		"signin.failure challenge_failed ann ",
		"signin.success  ann pwd,otp,mfa",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
