package mfa_test

import (
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

// softAuthenticator is a software WebAuthn authenticator and the browser in
// front of it, enough to drive the ceremonies end to end: one ECDSA P-256
// credential, "none" attestation, client data built as a browser would.
// Tests bend it (another origin, another challenge) to show refusals.
type softAuthenticator struct {
	t      *testing.T
	key    *ecdsa.PrivateKey
	credID []byte

	// rpID is the relying party the credential was created for, and whose
	// hash the authenticator puts in every assertion, as a real one does.
	rpID       string
	userHandle []byte

	counter    uint32
	counts     bool // increments counter per signature; synced passkeys send 0
	resident   bool // discoverable: returns the user handle in assertions
	verifies   bool // performs user verification (PIN, biometric): sets UV
	backup     bool // backup eligible and backed up: sets BE and BS
	attachment string
	transports []string
}

// newSecurityKey is a roaming second-factor key: counts signatures, no
// user verification, not discoverable, not synced.
func newSecurityKey(t *testing.T) *softAuthenticator {
	return newSoftAuthenticator(t, softAuthenticator{counts: true, attachment: "cross-platform", transports: []string{"usb"}})
}

// newPasskey is a synced platform passkey: discoverable, verifies the
// user, backed up, always counts 0.
func newPasskey(t *testing.T) *softAuthenticator {
	return newSoftAuthenticator(t, softAuthenticator{resident: true, verifies: true, backup: true, attachment: "platform", transports: []string{"internal", "hybrid"}})
}

func newSoftAuthenticator(t *testing.T, a softAuthenticator) *softAuthenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a.t, a.key, a.credID = t, key, make([]byte, 16)
	rand.Read(a.credID)
	return &a
}

// ceremonyOptions is what the authenticator reads from the options JSON.
type ceremonyOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
}

func parseOptions(t *testing.T, optionsJSON []byte) ceremonyOptions {
	t.Helper()
	var o ceremonyOptions
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		t.Fatalf("options are not JSON: %v\n%s", err, optionsJSON)
	}
	return o
}

// register answers BeginRegistration's options as navigator.credentials.create
// would at origin, returning the PublicKeyCredential JSON.
func (a *softAuthenticator) register(optionsJSON []byte, origin string) []byte {
	t := a.t
	t.Helper()
	o := parseOptions(t, optionsJSON)
	a.rpID = o.RP.ID
	a.userHandle = b64decode(t, o.User.ID)

	clientData := a.clientData("webauthn.create", o.Challenge, origin)

	// Attested credential data: AAGUID (zero for "none"), ID length, ID,
	// COSE public key.
	pub, err := a.key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	cose, err := webauthncbor.Marshal(map[int]any{
		1:  2,  // kty: EC2
		3:  -7, // alg: ES256
		-1: 1,  // crv: P-256
		-2: pub[1:33],
		-3: pub[33:],
	})
	if err != nil {
		t.Fatal(err)
	}
	attested := make([]byte, 16, 16+2+len(a.credID)+len(cose))
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.credID)))
	attested = append(attested, a.credID...)
	attested = append(attested, cose...)

	authData := a.authData(a.rpID, flagAT, attested)
	attObj, err := webauthncbor.Marshal(map[string]any{
		"fmt":      "none",
		"attStmt":  map[string]any{},
		"authData": authData,
	})
	if err != nil {
		t.Fatal(err)
	}

	extensions := map[string]any{"credProps": map[string]bool{"rk": a.resident}}
	return a.marshal(map[string]any{
		"clientDataJSON":    b64(clientData),
		"attestationObject": b64(attObj),
		"transports":        a.transports,
	}, extensions)
}

// assert answers BeginLogin's or BeginPasskeyLogin's options as
// navigator.credentials.get would at origin.
func (a *softAuthenticator) assert(optionsJSON []byte, origin string) []byte {
	a.t.Helper()
	return a.assertChallenge(parseOptions(a.t, optionsJSON).Challenge, origin)
}

// assertChallenge signs an assertion over the given challenge, whatever the
// server asked for.
func (a *softAuthenticator) assertChallenge(challenge, origin string) []byte {
	t := a.t
	t.Helper()
	clientData := a.clientData("webauthn.get", challenge, origin)
	authData := a.authData(a.rpID, 0, nil)

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
	if a.resident {
		response["userHandle"] = b64(a.userHandle)
	}
	return a.marshal(response, map[string]any{})
}

func (a *softAuthenticator) clientData(typ, challenge, origin string) []byte {
	data, err := json.Marshal(map[string]any{
		"type":        typ,
		"challenge":   challenge,
		"origin":      origin,
		"crossOrigin": false,
	})
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

// authData builds authenticator data: rpIdHash, flags, signature counter,
// then the attested credential data if any. Each call is one signature, so
// a counting authenticator advances its counter.
func (a *softAuthenticator) authData(rpID string, extraFlags byte, attested []byte) []byte {
	if a.counts {
		a.counter++
	}
	flags := byte(flagUP) | extraFlags
	if a.verifies {
		flags |= flagUV
	}
	if a.backup {
		flags |= flagBE | flagBS
	}
	rpIDHash := sha256.Sum256([]byte(rpID))
	data := append(rpIDHash[:], flags)
	data = binary.BigEndian.AppendUint32(data, a.counter)
	return append(data, attested...)
}

func (a *softAuthenticator) marshal(response, extensions map[string]any) []byte {
	data, err := json.Marshal(map[string]any{
		"id":                      b64(a.credID),
		"rawId":                   b64(a.credID),
		"type":                    "public-key",
		"authenticatorAttachment": a.attachment,
		"clientExtensionResults":  extensions,
		"response":                response,
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return data
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64decode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("%q is not base64url: %v", s, err)
	}
	return b
}
