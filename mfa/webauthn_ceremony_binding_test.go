package mfa_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/mfa/mfatest"
)

// A ceremony begun at one tenant's relying party is finished at that one
// only. The library checks a response against the RP ID the ceremony
// recorded, and against the origins of the relying party that finishes it:
// a response made for acme, at beta's origin, would pass it at beta with
// acme's ceremony. checkCeremony is all that holds the two together.
func TestCeremonyFinishesAtItsRelyingParty(t *testing.T) {
	acme := newRP(t, acmeRPID, acmeOrigin)
	beta := newRP(t, betaRPID, betaOrigin)
	now := time.Now()
	key := mfatest.NewSecurityKey(t)
	user := register(t, acme, newUser(t), key, false, now)
	passkey := mfatest.NewPasskey(t)
	passkeyUser := register(t, acme, newUser(t), passkey, true, now)
	lookup := func(_, _ []byte) (mfa.User, error) { return passkeyUser, nil }

	tests := []struct {
		name   string
		finish func(at *mfa.RelyingParty, origin string) error
	}{
		{"second factor", func(at *mfa.RelyingParty, origin string) error {
			options, ceremony, err := acme.BeginLogin(user)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = at.FinishLogin(user, stored(t, ceremony), key.Assert(options, origin), now)
			return err
		}},
		{"passkey", func(at *mfa.RelyingParty, origin string) error {
			options, ceremony, err := acme.BeginPasskeyLogin()
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = at.FinishPasskeyLogin(stored(t, ceremony), passkey.Assert(options, origin), lookup, now)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.finish(acme, acmeOrigin); err != nil {
				t.Fatalf("control, at acme: %v", err)
			}
			if err := tt.finish(beta, betaOrigin); !errors.Is(err, mfa.ErrWebAuthnFailed) {
				t.Errorf("acme's ceremony finished at beta: err = %v, want ErrWebAuthnFailed", err)
			}
		})
	}
}

// A ceremony is finished by the Finish of its own kind only. Each response
// here is made over the ceremony's own challenge, at its relying party's
// origin, by an authenticator of the user's. The library refuses some of
// these mix-ups itself (a second-factor ceremony names its user, a passkey
// one does not; a login ceremony asks for no attestation), but not a
// registration ceremony finished as a second factor: an assertion over its
// challenge passes every check the library makes, and only the kind tells
// the ceremony is the wrong one. So each case asks for the kind check's own
// refusal, which comes first: ErrWebAuthnFailed alone would be the
// library's too.
func TestCeremonyFinishesAsItsKind(t *testing.T) {
	rp := newRP(t, acmeRPID, acmeOrigin)
	now := time.Now()
	key := mfatest.NewSecurityKey(t)
	user := register(t, rp, newUser(t), key, false, now)
	passkey := mfatest.NewPasskey(t)
	passkeyUser := register(t, rp, newUser(t), passkey, true, now)
	lookup := func(_, _ []byte) (mfa.User, error) { return passkeyUser, nil }

	tests := []struct {
		name    string
		refusal string // checkCeremony's
		finish  func(t *testing.T) error
	}{
		{"registration ceremony, finished as a second factor", `ceremony is "registration", not "login"`, func(t *testing.T) error {
			_, ceremony, err := rp.BeginRegistration(user)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = rp.FinishLogin(user, stored(t, ceremony), key.AssertChallenge(ceremony.Session.Challenge, acmeOrigin), now)
			return err
		}},
		{"second-factor ceremony, finished as a registration", `ceremony is "login", not "registration"`, func(t *testing.T) error {
			_, ceremony, err := rp.BeginLogin(user)
			if err != nil {
				t.Fatal(err)
			}
			_, err = rp.FinishRegistration(user, stored(t, ceremony), mfatest.NewSecurityKey(t).Register(creationOptions(t, ceremony, user), acmeOrigin), now)
			return err
		}},
		{"second-factor ceremony, finished as a passkey", `ceremony is "login", not "passkey_login"`, func(t *testing.T) error {
			_, ceremony, err := rp.BeginLogin(passkeyUser)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = rp.FinishPasskeyLogin(stored(t, ceremony), passkey.AssertChallenge(ceremony.Session.Challenge, acmeOrigin), lookup, now)
			return err
		}},
		{"passkey ceremony, finished as a second factor", `ceremony is "passkey_login", not "login"`, func(t *testing.T) error {
			_, ceremony, err := rp.BeginPasskeyLogin()
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = rp.FinishLogin(passkeyUser, stored(t, ceremony), passkey.AssertChallenge(ceremony.Session.Challenge, acmeOrigin), now)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.finish(t); !errors.Is(err, mfa.ErrWebAuthnFailed) || !strings.Contains(err.Error(), tt.refusal) {
				t.Errorf("err = %v, want ErrWebAuthnFailed for the kind: %s", err, tt.refusal)
			}
		})
	}
}

// creationOptions are registration options for user over the challenge of
// ceremony, whatever its kind, as a page that mixed ceremonies up would
// send them to the browser.
func creationOptions(t *testing.T, ceremony mfa.Ceremony, user mfa.User) []byte {
	t.Helper()
	options, err := json.Marshal(map[string]any{
		"challenge": ceremony.Session.Challenge,
		"rp":        map[string]string{"id": ceremony.Session.RelyingPartyID},
		"user":      map[string]string{"id": b64(user.Handle)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return options
}
