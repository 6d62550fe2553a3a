// Package mfatest has a software WebAuthn authenticator for tests of the
// packages that drive the mfa ceremonies (tenant/auth, the pages): it stands
// for the part outside Cognate, the person's security key or phone and the
// browser in front of it, and nothing of Cognate's own.
//
// Package mfa's own tests use it too. Only tests import this package.
package mfatest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// Authenticator is one credential on a software authenticator: ECDSA
// P-256, "none" attestation, client data built as a browser builds it.
// Tests change its fields (Counter, Verifies) to bend it.
type Authenticator struct {
	t      testing.TB
	key    *ecdsa.PrivateKey
	credID []byte

	// RPID is the relying party the credential was created for; the
	// authenticator puts its hash in every assertion, as a real one does.
	RPID       string
	UserHandle []byte

	Counter    uint32
	Counts     bool // advances Counter per signature; synced passkeys send 0
	Resident   bool // discoverable: returns the user handle in assertions
	Verifies   bool // performs user verification (PIN, biometric): sets UV
	Backup     bool // backup eligible and backed up: sets BE and BS
	Attachment string
	Transports []string
}

// NewSecurityKey is a roaming second-factor key: counts signatures, no user
// verification, not discoverable, not synced.
func NewSecurityKey(t testing.TB) *Authenticator {
	return newAuthenticator(t, Authenticator{Counts: true, Attachment: "cross-platform", Transports: []string{"usb"}})
}

// NewPasskey is a synced platform passkey: discoverable, verifies the user,
// backed up, always counts 0.
func NewPasskey(t testing.TB) *Authenticator {
	return newAuthenticator(t, Authenticator{Resident: true, Verifies: true, Backup: true, Attachment: "platform", Transports: []string{"internal", "hybrid"}})
}

func newAuthenticator(t testing.TB, a Authenticator) *Authenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a.t, a.key, a.credID = t, key, make([]byte, 16)
	_, _ = rand.Read(a.credID)
	return &a
}

// CredentialID is the credential's ID.
func (a *Authenticator) CredentialID() []byte { return a.credID }

// UseCredentialID makes the authenticator give its credential the ID id,
// from its next registration on, as a broken or forged authenticator could:
// a genuine one makes a new random ID for every credential.
func (a *Authenticator) UseCredentialID(id []byte) { a.credID = bytes.Clone(id) }

type ceremonyOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
}

func (a *Authenticator) parseOptions(optionsJSON []byte) ceremonyOptions {
	a.t.Helper()
	var o ceremonyOptions
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		a.t.Fatalf("options are not JSON: %v\n%s", err, optionsJSON)
	}
	return o
}

// Register answers creation options as navigator.credentials.create would
// at origin, returning the PublicKeyCredential JSON.
func (a *Authenticator) Register(optionsJSON []byte, origin string) []byte {
	t := a.t
	t.Helper()
	o := a.parseOptions(optionsJSON)
	a.RPID = o.RP.ID
	handle, err := base64.RawURLEncoding.DecodeString(o.User.ID)
	if err != nil {
		t.Fatalf("user.id %q is not base64url: %v", o.User.ID, err)
	}
	a.UserHandle = handle

	clientData := a.clientData("webauthn.create", o.Challenge, origin)
	pub, err := a.key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:]})
	if err != nil {
		t.Fatal(err)
	}
	// Attested credential data: AAGUID (zero for "none"), ID length, ID, key.
	attested := make([]byte, 16, 16+2+len(a.credID)+len(cose))
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.credID)))
	attested = append(attested, a.credID...)
	attested = append(attested, cose...)

	attObj, err := webauthncbor.Marshal(map[string]any{
		"fmt":      "none",
		"attStmt":  map[string]any{},
		"authData": a.authData(a.RPID, flagAT, attested),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a.marshal(map[string]any{
		"clientDataJSON":    b64(clientData),
		"attestationObject": b64(attObj),
		"transports":        a.Transports,
	}, map[string]any{"credProps": map[string]bool{"rk": a.Resident}})
}

// Assert answers request options as navigator.credentials.get would at
// origin.
func (a *Authenticator) Assert(optionsJSON []byte, origin string) []byte {
	a.t.Helper()
	return a.AssertChallenge(a.parseOptions(optionsJSON).Challenge, origin)
}

// AssertChallenge signs an assertion over challenge, whatever was asked.
func (a *Authenticator) AssertChallenge(challenge, origin string) []byte {
	t := a.t
	t.Helper()
	clientData := a.clientData("webauthn.get", challenge, origin)
	authData := a.authData(a.RPID, 0, nil)
	clientDataHash := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(authData, clientDataHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	response := map[string]any{
		"clientDataJSON":    b64(clientData),
		"authenticatorData": b64(authData),
		"signature":         b64(sig),
	}
	if a.Resident {
		response["userHandle"] = b64(a.UserHandle)
	}
	return a.marshal(response, map[string]any{})
}

func (a *Authenticator) clientData(typ, challenge, origin string) []byte {
	data, err := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	if err != nil {
		a.t.Fatal(err)
	}
	return data
}

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// authData builds authenticator data; each call is one signature, so a
// counting authenticator advances its counter.
func (a *Authenticator) authData(rpID string, extraFlags byte, attested []byte) []byte {
	if a.Counts {
		a.Counter++
	}
	flags := byte(flagUP) | extraFlags
	if a.Verifies {
		flags |= flagUV
	}
	if a.Backup {
		flags |= flagBE | flagBS
	}
	rpIDHash := sha256.Sum256([]byte(rpID))
	data := append(rpIDHash[:], flags)
	data = binary.BigEndian.AppendUint32(data, a.Counter)
	return append(data, attested...)
}

func (a *Authenticator) marshal(response, extensions map[string]any) []byte {
	data, err := json.Marshal(map[string]any{
		"id":                      b64(a.credID),
		"rawId":                   b64(a.credID),
		"type":                    "public-key",
		"authenticatorAttachment": a.Attachment,
		"clientExtensionResults":  extensions,
		"response":                response,
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return data
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
