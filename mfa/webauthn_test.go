package mfa_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/mfa/mfatest"
)

// Two tenants on the development base URL.
const (
	acmeRPID   = "acme.localhost"
	acmeOrigin = "http://acme.localhost:8080"
	betaRPID   = "beta.localhost"
	betaOrigin = "http://beta.localhost:8080"
)

func newRP(t *testing.T, rpID, origin string) *mfa.RelyingParty {
	t.Helper()
	rp, err := mfa.NewRelyingParty(rpID, "Tenant "+rpID, []string{origin})
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

func newUser(t *testing.T) mfa.User {
	t.Helper()
	handle, err := mfa.NewUserHandle(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return mfa.User{Handle: handle, Name: "alice@example.com", DisplayName: "Alice"}
}

// stored passes a ceremony through JSON, as the caller's session store does,
// so the tests prove that what Begin returns survives being stored.
func stored(t *testing.T, c mfa.Ceremony) mfa.Ceremony {
	t.Helper()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back mfa.Ceremony
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

// register runs a registration ceremony for user with authenticator a at
// acme and returns the user holding the new credential.
func register(t *testing.T, rp *mfa.RelyingParty, user mfa.User, a *mfatest.Authenticator, discoverable bool, now time.Time) mfa.User {
	t.Helper()
	begin := rp.BeginRegistration
	if discoverable {
		begin = rp.BeginPasskeyRegistration
	}
	options, ceremony, err := begin(user)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := rp.FinishRegistration(user, stored(t, ceremony), a.Register(options, acmeOrigin), now)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	cred.Name = "my key"
	user.Credentials = append(user.Credentials, cred)
	return user
}

// jsonField digs a value out of options JSON for assertions on its shape.
func jsonField(t *testing.T, data []byte, path ...string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func TestWebAuthnSecondFactor(t *testing.T) {
	rp := newRP(t, acmeRPID, acmeOrigin)
	key := mfatest.NewSecurityKey(t)
	user := newUser(t)
	now := time.Now()

	options, ceremony, err := rp.BeginRegistration(user)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path []string
		want any
	}{
		{[]string{"rp", "id"}, acmeRPID},
		{[]string{"attestation"}, "none"},
		{[]string{"timeout"}, float64(300_000)},
		{[]string{"authenticatorSelection", "residentKey"}, "preferred"},
		{[]string{"authenticatorSelection", "userVerification"}, "preferred"},
		{[]string{"extensions", "credProps"}, true},
	} {
		if got := jsonField(t, options, c.path...); got != c.want {
			t.Errorf("registration options %v = %v, want %v", c.path, got, c.want)
		}
	}
	if ceremony.Session.Expires.IsZero() {
		t.Error("ceremony has no expiry: Timeouts.Registration.Enforce is off")
	}

	cred, err := rp.FinishRegistration(user, stored(t, ceremony), key.Register(options, acmeOrigin), now)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	if !bytes.Equal(cred.ID, key.CredentialID()) || cred.SignCount != 1 || !cred.CreatedAt.Equal(now) {
		t.Errorf("credential ID %x count %d created %v; want %x, 1, %v", cred.ID, cred.SignCount, cred.CreatedAt, key.CredentialID(), now)
	}
	if cred.BackupEligible || cred.Attachment != "cross-platform" || !reflect.DeepEqual(cred.Transports, []string{"usb"}) {
		t.Errorf("credential BE %v attachment %q transports %v", cred.BackupEligible, cred.Attachment, cred.Transports)
	}
	if cred.Extensions.RK == nil || *cred.Extensions.RK {
		t.Errorf("credProps rk = %v, want false (a non-discoverable key)", cred.Extensions.RK)
	}
	cred.Name = "YubiKey"
	user.Credentials = []mfa.Credential{cred}

	// The same key cannot be registered twice.
	options, _, err = rp.BeginRegistration(user)
	if err != nil {
		t.Fatal(err)
	}
	if excl, _ := jsonField(t, options, "excludeCredentials").([]any); len(excl) != 1 {
		t.Errorf("excludeCredentials = %v, want the registered key", excl)
	}

	for _, verifies := range []bool{false, true} {
		t.Run(fmt.Sprintf("user verification %v", verifies), func(t *testing.T) {
			key.Verifies = verifies
			options, ceremony, err := rp.BeginLogin(user)
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonField(t, options, "userVerification"); got != "preferred" {
				t.Errorf("login userVerification = %v, want preferred", got)
			}
			if allow, _ := jsonField(t, options, "allowCredentials").([]any); len(allow) != 1 {
				t.Errorf("allowCredentials = %v, want the user's one key", allow)
			}

			later := now.Add(time.Minute)
			updated, userVerified, err := rp.FinishLogin(user, stored(t, ceremony), key.Assert(options, acmeOrigin), later)
			if err != nil {
				t.Fatalf("FinishLogin: %v", err)
			}
			if userVerified != verifies {
				t.Errorf("userVerified = %v, want %v (this ceremony's UV flag)", userVerified, verifies)
			}
			if updated.SignCount != key.Counter || updated.CloneWarning {
				t.Errorf("updated count %d clone %v, want %d, false", updated.SignCount, updated.CloneWarning, key.Counter)
			}
			if updated.Name != "YubiKey" || !updated.CreatedAt.Equal(now) || !updated.LastUsedAt.Equal(later) {
				t.Errorf("updated name %q created %v last used %v", updated.Name, updated.CreatedAt, updated.LastUsedAt)
			}
			user.Credentials = []mfa.Credential{updated}
		})
	}
}

func TestWebAuthnPasskey(t *testing.T) {
	rp := newRP(t, acmeRPID, acmeOrigin)
	passkey := mfatest.NewPasskey(t)
	user := newUser(t)
	now := time.Now()

	options, ceremony, err := rp.BeginPasskeyRegistration(user)
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonField(t, options, "authenticatorSelection", "residentKey"); got != "required" {
		t.Errorf("residentKey = %v, want required", got)
	}
	if got := jsonField(t, options, "authenticatorSelection", "userVerification"); got != "required" {
		t.Errorf("registration userVerification = %v, want required", got)
	}
	cred, err := rp.FinishRegistration(user, stored(t, ceremony), passkey.Register(options, acmeOrigin), now)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	if !cred.BackupEligible || !cred.BackupState || cred.Extensions.RK == nil || !*cred.Extensions.RK {
		t.Errorf("passkey BE %v BS %v rk %v, want all true", cred.BackupEligible, cred.BackupState, cred.Extensions.RK)
	}
	user.Credentials = []mfa.Credential{cred}

	// The store's indexes: user handle → user, credential ID → user, in
	// this tenant; both must name the same user.
	lookup := func(credentialID, handle []byte) (mfa.User, error) {
		if !bytes.Equal(credentialID, cred.ID) {
			return mfa.User{}, fmt.Errorf("no user with this credential: %w", mfa.ErrUnknownCredential)
		}
		if bytes.Equal(handle, user.Handle) {
			return user, nil
		}
		return mfa.User{}, fmt.Errorf("no user with this handle: %w", mfa.ErrUnknownCredential)
	}

	// Two logins: a synced passkey counts 0 each time, which is no warning.
	for i := range 2 {
		options, ceremony, err := rp.BeginPasskeyLogin()
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonField(t, options, "userVerification"); got != "required" {
			t.Errorf("passkey login userVerification = %v, want required", got)
		}
		if allow := jsonField(t, options, "allowCredentials"); allow != nil {
			t.Errorf("passkey login allowCredentials = %v, want none", allow)
		}
		got, updated, err := rp.FinishPasskeyLogin(stored(t, ceremony), passkey.Assert(options, acmeOrigin), lookup, now)
		if err != nil {
			t.Fatalf("login %d: FinishPasskeyLogin: %v", i, err)
		}
		if !bytes.Equal(got.Handle, user.Handle) || !bytes.Equal(updated.ID, cred.ID) {
			t.Errorf("login %d: user %x credential %x, want %x, %x", i, got.Handle, updated.ID, user.Handle, cred.ID)
		}
		if updated.CloneWarning || updated.SignCount != 0 {
			t.Errorf("login %d: clone warning %v count %d, want false, 0", i, updated.CloneWarning, updated.SignCount)
		}
		user.Credentials = []mfa.Credential{updated}
	}

	t.Run("unknown user handle", func(t *testing.T) {
		stranger := mfatest.NewPasskey(t)
		stranger.RPID, stranger.UserHandle = acmeRPID, []byte("someone-else")
		options, ceremony, _ := rp.BeginPasskeyLogin()
		_, _, err := rp.FinishPasskeyLogin(ceremony, stranger.Assert(options, acmeOrigin), lookup, now)
		if !errors.Is(err, mfa.ErrUnknownCredential) {
			t.Errorf("err = %v, want ErrUnknownCredential", err)
		}
	})

	t.Run("lookup failure passes through", func(t *testing.T) {
		outage := errors.New("store unavailable")
		options, ceremony, _ := rp.BeginPasskeyLogin()
		_, _, err := rp.FinishPasskeyLogin(ceremony, passkey.Assert(options, acmeOrigin), func(_, _ []byte) (mfa.User, error) { return mfa.User{}, outage }, now)
		if !errors.Is(err, outage) || errors.Is(err, mfa.ErrUnknownCredential) {
			t.Errorf("err = %v, want the lookup's own error", err)
		}
	})

	t.Run("without user verification", func(t *testing.T) {
		passkey.Verifies = false
		defer func() { passkey.Verifies = true }()
		options, ceremony, _ := rp.BeginPasskeyLogin()
		_, _, err := rp.FinishPasskeyLogin(ceremony, passkey.Assert(options, acmeOrigin), lookup, now)
		if !errors.Is(err, mfa.ErrWebAuthnFailed) {
			t.Errorf("err = %v, want ErrWebAuthnFailed: a passkey alone needs UV", err)
		}
	})

	t.Run("second-factor ceremony", func(t *testing.T) {
		options, ceremony, _ := rp.BeginLogin(user)
		_, _, err := rp.FinishPasskeyLogin(ceremony, passkey.Assert(options, acmeOrigin), lookup, now)
		if !errors.Is(err, mfa.ErrWebAuthnFailed) {
			t.Errorf("err = %v, want ErrWebAuthnFailed", err)
		}
	})
}

// TestWebAuthnLoginRefusals changes one thing about an otherwise good
// second-factor login per case; the first case shows the rest is good.
func TestWebAuthnLoginRefusals(t *testing.T) {
	acme := newRP(t, acmeRPID, acmeOrigin)
	beta := newRP(t, betaRPID, betaOrigin)
	key := mfatest.NewSecurityKey(t)
	now := time.Now()
	user := register(t, acme, newUser(t), key, false, now)

	type attempt struct {
		rp        *mfa.RelyingParty
		ceremony  mfa.Ceremony
		response  []byte
		otherUser bool
	}
	// good returns a correct login at acme, for a case to spoil.
	good := func(t *testing.T) attempt {
		options, ceremony, err := acme.BeginLogin(user)
		if err != nil {
			t.Fatal(err)
		}
		return attempt{rp: acme, ceremony: ceremony, response: key.Assert(options, acmeOrigin)}
	}

	tests := []struct {
		name    string
		attempt func(t *testing.T) attempt
		wantErr error
	}{
		{"control: unchanged", good, nil},
		{"another origin", func(t *testing.T) attempt {
			options, ceremony, _ := acme.BeginLogin(user)
			return attempt{rp: acme, ceremony: ceremony, response: key.Assert(options, "http://evil.localhost:8080")}
		}, mfa.ErrWebAuthnFailed},
		{"another tenant's origin", func(t *testing.T) attempt {
			options, ceremony, _ := acme.BeginLogin(user)
			return attempt{rp: acme, ceremony: ceremony, response: key.Assert(options, betaOrigin)}
		}, mfa.ErrWebAuthnFailed},
		{"acme's credential at beta's relying party", func(t *testing.T) attempt {
			// The same person with the same key record, at the other
			// tenant: the key signs acme's RP ID hash, beta expects its own.
			options, ceremony, err := beta.BeginLogin(user)
			if err != nil {
				t.Fatal(err)
			}
			return attempt{rp: beta, ceremony: ceremony, response: key.Assert(options, betaOrigin)}
		}, mfa.ErrWebAuthnFailed},
		{"beta's ceremony at acme", func(t *testing.T) attempt {
			options, ceremony, _ := beta.BeginLogin(user)
			return attempt{rp: acme, ceremony: ceremony, response: key.Assert(options, acmeOrigin)}
		}, mfa.ErrWebAuthnFailed},
		{"wrong challenge", func(t *testing.T) attempt {
			_, ceremony, _ := acme.BeginLogin(user)
			other := make([]byte, 32)
			rand.Read(other)
			return attempt{rp: acme, ceremony: ceremony, response: key.AssertChallenge(b64(other), acmeOrigin)}
		}, mfa.ErrWebAuthnFailed},
		{"bad signature", func(t *testing.T) attempt {
			a := good(t)
			var r map[string]any
			if err := json.Unmarshal(a.response, &r); err != nil {
				t.Fatal(err)
			}
			resp := r["response"].(map[string]any)
			sig := b64decode(t, resp["signature"].(string))
			sig[len(sig)-1] ^= 1
			resp["signature"] = b64(sig)
			var err error
			if a.response, err = json.Marshal(r); err != nil {
				t.Fatal(err)
			}
			return a
		}, mfa.ErrWebAuthnFailed},
		{"not JSON", func(t *testing.T) attempt {
			a := good(t)
			a.response = []byte("{")
			return a
		}, mfa.ErrWebAuthnFailed},
		{"unregistered key", func(t *testing.T) attempt {
			stranger := mfatest.NewSecurityKey(t)
			stranger.RPID = acmeRPID
			options, ceremony, _ := acme.BeginLogin(user)
			return attempt{rp: acme, ceremony: ceremony, response: stranger.Assert(options, acmeOrigin)}
		}, mfa.ErrUnknownCredential},
		{"another user's ceremony", func(t *testing.T) attempt {
			a := good(t)
			a.otherUser = true
			return a
		}, mfa.ErrWebAuthnFailed},
		{"registration ceremony", func(t *testing.T) attempt {
			options, _, _ := acme.BeginLogin(user)
			_, ceremony, _ := acme.BeginRegistration(user)
			return attempt{rp: acme, ceremony: ceremony, response: key.Assert(options, acmeOrigin)}
		}, mfa.ErrWebAuthnFailed},
		{"expired ceremony", func(t *testing.T) attempt {
			a := good(t)
			a.ceremony.Session.Expires = now.Add(-time.Second)
			return a
		}, mfa.ErrCeremonyExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.attempt(t)
			u := user
			if a.otherUser {
				// Another user of the tenant who holds the same credential
				// record (a forged row), but not the ceremony's handle.
				u = newUser(t)
				u.Credentials = user.Credentials
			}
			_, _, err := a.rp.FinishLogin(u, stored(t, a.ceremony), a.response, now)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestWebAuthnRegistrationRefusals(t *testing.T) {
	rp := newRP(t, acmeRPID, acmeOrigin)
	now := time.Now()

	tests := []struct {
		name    string
		finish  func(user mfa.User, options []byte, c mfa.Ceremony, key *mfatest.Authenticator) error
		wantErr error
	}{
		{"control: unchanged", func(u mfa.User, o []byte, c mfa.Ceremony, k *mfatest.Authenticator) error {
			_, err := rp.FinishRegistration(u, c, k.Register(o, acmeOrigin), now)
			return err
		}, nil},
		{"another origin", func(u mfa.User, o []byte, c mfa.Ceremony, k *mfatest.Authenticator) error {
			_, err := rp.FinishRegistration(u, c, k.Register(o, betaOrigin), now)
			return err
		}, mfa.ErrWebAuthnFailed},
		{"made for another RP ID", func(u mfa.User, o []byte, c mfa.Ceremony, k *mfatest.Authenticator) error {
			o = bytes.Replace(o, []byte(`"id":"`+acmeRPID+`"`), []byte(`"id":"`+betaRPID+`"`), 1)
			_, err := rp.FinishRegistration(u, c, k.Register(o, acmeOrigin), now)
			return err
		}, mfa.ErrWebAuthnFailed},
		{"passkey without user verification", func(u mfa.User, _ []byte, _ mfa.Ceremony, k *mfatest.Authenticator) error {
			o, c, _ := rp.BeginPasskeyRegistration(u)
			k.Verifies = false
			_, err := rp.FinishRegistration(u, c, k.Register(o, acmeOrigin), now)
			return err
		}, mfa.ErrWebAuthnFailed},
		{"login ceremony", func(u mfa.User, o []byte, _ mfa.Ceremony, k *mfatest.Authenticator) error {
			_, c, _ := rp.BeginPasskeyLogin()
			_, err := rp.FinishRegistration(u, c, k.Register(o, acmeOrigin), now)
			return err
		}, mfa.ErrWebAuthnFailed},
		{"expired ceremony", func(u mfa.User, o []byte, c mfa.Ceremony, k *mfatest.Authenticator) error {
			c.Session.Expires = now.Add(-time.Second)
			_, err := rp.FinishRegistration(u, c, k.Register(o, acmeOrigin), now)
			return err
		}, mfa.ErrCeremonyExpired},
		{"ceremony that ends exactly now", func(u mfa.User, o []byte, c mfa.Ceremony, k *mfatest.Authenticator) error {
			_, err := rp.FinishRegistration(u, c, k.Register(o, acmeOrigin), c.Session.Expires)
			return err
		}, mfa.ErrCeremonyExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := newUser(t)
			options, ceremony, err := rp.BeginRegistration(user)
			if err != nil {
				t.Fatal(err)
			}
			err = tt.finish(user, options, stored(t, ceremony), mfatest.NewSecurityKey(t))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// A captured assertion cannot be replayed: against a new ceremony the
// challenge differs. Only if the caller failed to delete the ceremony does
// the signature verify again, and then the counter has not advanced, so the
// credential comes back with CloneWarning set: the caller refuses the login
// and keeps the flag (FinishLogin's documented policy).
func TestWebAuthnReplay(t *testing.T) {
	rp := newRP(t, acmeRPID, acmeOrigin)
	key := mfatest.NewSecurityKey(t)
	now := time.Now()
	user := register(t, rp, newUser(t), key, false, now)

	options, ceremony, err := rp.BeginLogin(user)
	if err != nil {
		t.Fatal(err)
	}
	captured := key.Assert(options, acmeOrigin)
	updated, _, err := rp.FinishLogin(user, ceremony, captured, now)
	if err != nil {
		t.Fatal(err)
	}
	user.Credentials = []mfa.Credential{updated}

	_, fresh, err := rp.BeginLogin(user)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rp.FinishLogin(user, fresh, captured, now); !errors.Is(err, mfa.ErrWebAuthnFailed) {
		t.Errorf("replay against a new ceremony: err = %v, want ErrWebAuthnFailed", err)
	}

	replayed, _, err := rp.FinishLogin(user, ceremony, captured, now)
	if err != nil {
		t.Fatalf("replay against the undeleted ceremony: %v", err)
	}
	if !replayed.CloneWarning || replayed.SignCount != updated.SignCount {
		t.Errorf("replay: clone warning %v, count %d; want true, %d (not advanced)", replayed.CloneWarning, replayed.SignCount, updated.SignCount)
	}
}

func TestCredentialRoundTrip(t *testing.T) {
	rk, prf := true, false
	minPIN := uint(6)
	// Every field set; flags UP|UV|BE|BS|AT, whose raw byte JSON would lose.
	orig := webauthn.Credential{
		ID:                []byte{1, 2, 3},
		PublicKey:         []byte{4, 5, 6},
		AttestationType:   "none",
		AttestationFormat: "none",
		Transport:         []protocol.AuthenticatorTransport{protocol.Internal, protocol.Hybrid},
		Flags:             webauthn.NewCredentialFlags(protocol.FlagUserPresent | protocol.FlagUserVerified | protocol.FlagBackupEligible | protocol.FlagBackupState | protocol.FlagAttestedCredentialData),
		Authenticator: webauthn.Authenticator{
			AAGUID:       bytes.Repeat([]byte{0xAA}, 16),
			SignCount:    42,
			CloneWarning: true,
			Attachment:   protocol.Platform,
		},
		Attestation: webauthn.CredentialAttestation{
			ClientDataJSON:     []byte(`{"type":"webauthn.create"}`),
			ClientDataHash:     []byte{7, 8},
			AuthenticatorData:  []byte{9},
			PublicKeyAlgorithm: -7,
			Object:             []byte{10, 11},
		},
		Extensions: webauthn.CredentialExtensions{
			RK:           &rk,
			PRFEnabled:   &prf,
			MinPinLength: &minPIN,
			CredProtect:  protocol.CredentialProtectionPolicyUserVerificationRequired,
		},
	}

	// The pitfall: a JSON round trip of the library's own type keeps the
	// booleans but zeroes the raw flags byte.
	var viaLibraryJSON webauthn.Credential
	data, _ := json.Marshal(orig)
	if err := json.Unmarshal(data, &viaLibraryJSON); err != nil {
		t.Fatal(err)
	}
	if got := viaLibraryJSON.Flags; !got.BackupEligible || !got.UserVerified || got.ProtocolValue() != 0 {
		t.Errorf("library JSON round trip: flags %+v raw %#x; the pitfall FlagsByte works around has changed", got, got.ProtocolValue())
	}

	ours := mfa.FromWebAuthn(orig)
	if ours.FlagsByte != 0x5D || !ours.BackupEligible || !ours.BackupState {
		t.Errorf("FlagsByte %#x BE %v BS %v; want 0x5d, true, true", ours.FlagsByte, ours.BackupEligible, ours.BackupState)
	}
	ours.Name, ours.CreatedAt = "Laptop", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	data, err := json.Marshal(ours)
	if err != nil {
		t.Fatal(err)
	}
	var back mfa.Credential
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, ours) {
		t.Errorf("JSON round trip of Credential:\n got %+v\nwant %+v", back, ours)
	}
	// DeepEqual also compares the unexported raw flags.
	if got := back.ToWebAuthn(); !reflect.DeepEqual(got, orig) {
		t.Errorf("ToWebAuthn after JSON:\n got %+v\nwant %+v", got, orig)
	}

	// Nil and empty transports stay as they were.
	for _, tr := range [][]protocol.AuthenticatorTransport{nil, {}} {
		c := orig
		c.Transport = tr
		if got := mfa.FromWebAuthn(c).ToWebAuthn(); !reflect.DeepEqual(got, c) {
			t.Errorf("transports %#v came back as %#v", tr, got.Transport)
		}
	}
}

func TestNewRelyingParty(t *testing.T) {
	tests := []struct {
		name        string
		rpID        string
		displayName string
		origins     []string
		ok          bool
	}{
		{"tenant host with port", "acme.localhost", "Acme", []string{"http://acme.localhost:8080"}, true},
		{"tenant host over https", "acme.example.com", "Acme", []string{"https://acme.example.com"}, true},
		{"trailing slash", "acme.example.com", "Acme", []string{"https://acme.example.com/"}, true},
		{"parent domain as RP ID", "example.com", "Acme", []string{"https://acme.example.com"}, false},
		{"origin on another tenant", "acme.example.com", "Acme", []string{"https://beta.example.com"}, false},
		{"http off localhost", "acme.example.com", "Acme", []string{"http://acme.example.com"}, false},
		{"origin with a path", "acme.example.com", "Acme", []string{"https://acme.example.com/login"}, false},
		{"not a URL", "acme.example.com", "Acme", []string{"acme.example.com"}, false},
		{"no origins", "acme.example.com", "Acme", nil, false},
		{"IP address", "127.0.0.1", "Acme", []string{"https://127.0.0.1"}, false},
		{"no display name", "acme.example.com", "", []string{"https://acme.example.com"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp, err := mfa.NewRelyingParty(tt.rpID, tt.displayName, tt.origins)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err == nil && rp.ID() != tt.rpID {
				t.Errorf("ID() = %q, want %q", rp.ID(), tt.rpID)
			}
		})
	}
}

func TestNewUserHandle(t *testing.T) {
	h, err := mfa.NewUserHandle(bytes.NewReader(bytes.Repeat([]byte{7}, 40)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h, bytes.Repeat([]byte{7}, 32)) {
		t.Errorf("handle = %x, want 32 bytes from rand", h)
	}
	if _, err := mfa.NewUserHandle(strings.NewReader("short")); err == nil {
		t.Error("NewUserHandle with 5 random bytes succeeded")
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64decode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
