package auth_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/mfa/mfatest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

const acmeOrigin = "http://acme.localhost:8080"

// A credential ID is registered to one user of a tenant (WebAuthn §7.1):
// bob's authenticator, forged to present the ID of ann's passkey, is
// refused, nothing of it is stored, and the refusal is one log line. Ann's
// passkey still signs her in.
func TestCredentialIDRegisteredOnce(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional, Passwordless: true})
	var log bytes.Buffer
	e.m.Logger = slog.New(slog.NewTextHandler(&log, nil))
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	bob := e.user(t, tenant.NewUser{Username: "bob", Password: annPassword})
	annKey := mfatest.NewPasskey(t)
	e.enrolKey(t, "acme", ann.Sub, annKey)

	forged := mfatest.NewPasskey(t)
	forged.UseCredentialID(annKey.CredentialID())
	before, _ := e.svc.User(ctx, "acme", bob.Sub)
	log.Reset()
	res, err := e.m.BeginEnrolment(ctx, "acme", bob.Sub, auth.WebAuthn)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.m.FinishEnrolment(ctx, "acme", bob.Sub, res.Session,
		auth.Answer{Credential: forged.Register(res.MFA.WebAuthnOptions, acmeOrigin), FactorName: "Key", ClientIP: "192.0.2.9"})
	if !errors.Is(err, tenant.ErrCredentialInUse) || !errors.Is(err, auth.ErrFactorRefused) {
		t.Fatalf("bob registering the ID of ann's passkey: %v, want ErrFactorRefused of ErrCredentialInUse", err)
	}

	// Nothing written: bob's record, the user handle made for him, the
	// credential index.
	after, _ := e.svc.User(ctx, "acme", bob.Sub)
	if after.MFA.HasFactor() || after.MFA.Handle != nil || after.MFA.RecoveryCodes != nil || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("bob's record after the refusal: %+v", after.MFA)
	}
	err = e.svc.Store.View(ctx, func(tx tenant.Tx) error {
		if _, err := tenant.UserByWebAuthnHandle(tx, "acme", forged.UserHandle); !errors.Is(err, tenant.ErrNotFound) {
			t.Errorf("bob's new user handle is indexed: %v", err)
		}
		if owner, err := tenant.WebAuthnCredentialOwner(tx, "acme", annKey.CredentialID()); err != nil || owner != ann.Sub {
			t.Errorf("the credential's owner is %q, %v; want ann", owner, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "enrolment answer refused") || !strings.Contains(lines[0], "registered already") || !strings.Contains(lines[0], ann.Sub) {
		t.Errorf("log of the refusal, want one line naming the owner:\n%s", log.String())
	}

	// Ann's passkey is hers still.
	begin, err := e.m.BeginPasskey(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	done, err := e.m.FinishPasskey(ctx, "acme", begin.Session, annKey.Assert(begin.MFA.WebAuthnOptions, acmeOrigin), "192.0.2.9")
	if err != nil || done.Sub != ann.Sub {
		t.Fatalf("ann's passkey after bob's refusal: %+v, %v", done, err)
	}
	// And bob may register a passkey of his own.
	e.enrolKey(t, "acme", bob.Sub, mfatest.NewPasskey(t))
}

// A passkey sign-in names its user by the user handle and by the credential
// ID, and both must agree. Where an older version let bob register the ID
// of ann's passkey (with a key of his own), the credential index gives the
// ID to ann: bob's copy does not sign him in, and ann's passkey still does.
func TestPasskeyOfSharedCredentialID(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional, Passwordless: true})
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	bob := e.user(t, tenant.NewUser{Username: "bob", Password: annPassword})
	annKey, bobKey := mfatest.NewPasskey(t), mfatest.NewPasskey(t)
	e.enrolKey(t, "acme", ann.Sub, annKey)
	e.enrolKey(t, "acme", bob.Sub, bobKey)

	// What the older version could have stored: bob's credential under the
	// ID of ann's, and the index (built at start-up) giving it to ann.
	shared := annKey.CredentialID()
	err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
		u, err := tenant.GetUser(tx, "acme", bob.Sub)
		if err != nil {
			return err
		}
		f := &u.MFA.WebAuthn[0]
		var c mfa.Credential
		if err := json.Unmarshal(f.Credential, &c); err != nil {
			return err
		}
		if err := tx.Delete(tenant.CollWebAuthnCreds, "acme", hex.EncodeToString(f.ID)); err != nil {
			return err
		}
		c.ID, f.ID = shared, shared
		if f.Credential, err = json.Marshal(c); err != nil {
			return err
		}
		return tenant.PutJSON(tx, tenant.CollUsers, "acme", u.Sub, u)
	})
	if err != nil {
		t.Fatal(err)
	}
	bobKey.UseCredentialID(shared)

	signIn := func(key *mfatest.Authenticator) (auth.Result, error) {
		begin, err := e.m.BeginPasskey(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		return e.m.FinishPasskey(ctx, "acme", begin.Session, key.Assert(begin.MFA.WebAuthnOptions, acmeOrigin), "192.0.2.9")
	}
	if _, err := signIn(bobKey); !errors.Is(err, auth.ErrFactorRefused) || !errors.Is(err, mfa.ErrUnknownCredential) {
		t.Errorf("bob's copy of ann's credential ID: %v, want refused as unknown", err)
	}
	if done, err := signIn(annKey); err != nil || done.Sub != ann.Sub {
		t.Errorf("ann's passkey: %+v, %v", done, err)
	}
}
