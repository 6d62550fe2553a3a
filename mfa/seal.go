package mfa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// KeySize is the length of a sealing key: AES-256.
const KeySize = 32

// sealVersion prefixes every sealed value so the format can change later
// without guessing what an old value is.
const sealVersion = "v1"

// Errors returned by Sealer.Open and ParseKey.
var (
	// ErrSealedMalformed means the value is not of the form v1.<keyid>.<data>.
	ErrSealedMalformed = errors.New("mfa: sealed value malformed")
	// ErrSealKeyUnknown means the value was sealed with a key that is no
	// longer (or not yet) in the key ring.
	ErrSealKeyUnknown = errors.New("mfa: sealed with an unknown key")
	// ErrSealedInvalid means authentication failed: the value was altered,
	// or opened with associated data other than it was sealed with.
	ErrSealedInvalid = errors.New("mfa: sealed value fails authentication")
	// ErrKeyInvalid means a key is not 32 bytes, or not hex or base64.
	// The error that says so is a *KeyError.
	ErrKeyInvalid = errors.New("mfa: invalid sealing key")
)

// KeyError is an ErrKeyInvalid that says what is wrong with the key, for a
// caller that names the key itself (a configuration setting) and so says
// only the Reason. It never holds the key, which is a secret.
type KeyError struct {
	Reason string // "empty", "decodes to 16 bytes, want 32 (…)"
}

func keyInvalid(format string, args ...any) *KeyError {
	return &KeyError{Reason: fmt.Sprintf(format, args...)}
}

func (e *KeyError) Error() string { return ErrKeyInvalid.Error() + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrKeyInvalid) hold.
func (e *KeyError) Unwrap() error { return ErrKeyInvalid }

// Sealer encrypts small secrets for storage with AES-256-GCM, under the
// current key of a key ring, and opens values sealed under any key in the
// ring. It is safe for concurrent use. Cognate seals three kinds of secret
// with it, each under a key of its own derived from the server key
// (cmd/cognate's derivedSealer): users' TOTP secrets, tenants' token-signing
// private keys, and tenants' legacy pool credentials.
//
// A sealed value is "v1.<keyid>.<base64url(nonce || ciphertext)>", where
// keyid is the first 8 hex characters of SHA-256 of the key: enough to pick
// the key, and no help in guessing it.
//
// Associated data binds a value to where it belongs: seal a TOTP secret with
// the tenant and user in the associated data, and a database writer who
// copies it onto another user's record gets ErrSealedInvalid instead of a
// working second factor for that user.
//
// Rotating the key:
//  1. Generate a new key. Configure it as current and the old one as
//     previous: NewSealer(newKey, oldKey). Values sealed under either open.
//  2. When Open succeeds on a value for which NeedsReseal reports true, seal
//     the plaintext again and store it: TOTP secrets as they are used, in
//     the same transaction as the rest of the login; signing keys and legacy
//     pool credentials all at once, in cognate serve's start-up pass
//     (tenant.Service.SealStoredSecrets), before it listens.
//  3. Once no stored value needs resealing (or after an explicit re-seal of
//     all records), remove the old key. Values still sealed under it then
//     fail with ErrSealKeyUnknown.
//
// What a value that no longer opens costs, by kind:
//   - A TOTP secret: the user's authenticator app no longer gives a second
//     factor. They sign in with a recovery code or another factor, or an
//     administrator resets their MFA, and they set the app up again.
//   - A tenant's signing key: its active key takes the whole tenant offline
//     (it cannot be loaded; its pages and endpoints answer 503) until it is
//     given a new key that signs at once; a key that signs nothing now is
//     left out of its JWKS. Either way the tokens the key signed no longer
//     verify, and their users sign in again.
//   - Legacy pool credentials: the tenant's lazy migration stops (the
//     sign-in of a user not yet migrated is refused as temporarily
//     unavailable) until the credentials are entered again.
type Sealer struct {
	currentID string
	aeads     map[string]cipher.AEAD // by key id
}

// LogValue names the keys by ID only: slog would print the AEADs' fields,
// which hold the expanded keys.
func (s *Sealer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("current", s.currentID), slog.Int("keys", len(s.aeads)))
}

// NewSealer builds a Sealer that seals under current and opens values sealed
// under current or any of previous. Every key must be KeySize bytes.
func NewSealer(current []byte, previous ...[]byte) (*Sealer, error) {
	s := &Sealer{aeads: make(map[string]cipher.AEAD, 1+len(previous))}
	for i, key := range append([][]byte{current}, previous...) {
		if len(key) != KeySize {
			return nil, keyInvalid("key %d is %d bytes, need %d", i, len(key), KeySize)
		}
		id := keyID(key)
		if _, dup := s.aeads[id]; dup {
			return nil, keyInvalid("key %d repeats key id %s", i, id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("mfa: sealing key %d: %w", i, err)
		}
		// The random-nonce GCM draws a fresh 96-bit nonce from crypto/rand
		// for each Seal and prepends it, so no nonce can be reused by mistake.
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("mfa: sealing key %d: %w", i, err)
		}
		s.aeads[id] = aead
		if i == 0 {
			s.currentID = id
		}
	}
	return s, nil
}

func keyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// Seal encrypts plaintext under the current key, authenticating
// associatedData along with it; Open must be given the same associatedData.
func (s *Sealer) Seal(plaintext, associatedData []byte) (string, error) {
	data := s.aeads[s.currentID].Seal(nil, nil, plaintext, associatedData)
	return sealVersion + "." + s.currentID + "." + base64.RawURLEncoding.EncodeToString(data), nil
}

// Open decrypts a value made by Seal, with whichever key of the ring it names.
func (s *Sealer) Open(sealed string, associatedData []byte) ([]byte, error) {
	id, data, err := parseSealed(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := s.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w: key id %s", ErrSealKeyUnknown, id)
	}
	plaintext, err := aead.Open(nil, nil, data, associatedData)
	if err != nil {
		return nil, ErrSealedInvalid
	}
	return plaintext, nil
}

// NeedsReseal reports whether sealed was made under a key other than the
// current one, so the caller should seal its plaintext again after opening
// it. A malformed value reports false: Open will say what is wrong with it.
func (s *Sealer) NeedsReseal(sealed string) bool {
	id, _, err := parseSealed(sealed)
	return err == nil && id != s.currentID
}

func parseSealed(sealed string) (id string, data []byte, err error) {
	version, rest, ok1 := strings.Cut(sealed, ".")
	id, encoded, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || version != sealVersion || len(id) != 8 {
		return "", nil, ErrSealedMalformed
	}
	// Strictly, and without the line breaks Go's decoder skips even so:
	// otherwise the unused low bits of the last character, or a line
	// break anywhere, spell the same value in other ways, and a sealed
	// value with a character changed would still open.
	if strings.ContainsAny(encoded, "\r\n") {
		return "", nil, ErrSealedMalformed
	}
	data, err = base64.RawURLEncoding.Strict().DecodeString(encoded)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrSealedMalformed, err)
	}
	return id, data, nil
}

// ParseKey decodes a sealing key from configuration: 32 bytes written as hex
// (64 characters) or base64 (standard or URL alphabet, padded or not).
// Surrounding white space, as left by a key file, is ignored. The error is a
// *KeyError, which never repeats the input, a secret.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, keyInvalid("empty")
	}
	decoders := []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	}
	decodedLen := -1
	for _, decode := range decoders {
		key, err := decode(s)
		if err != nil {
			continue
		}
		if len(key) == KeySize {
			return key, nil
		}
		if decodedLen < 0 {
			// The first reading, hex before base64, is most likely
			// what was meant: 62 hex digits are 31 bytes, not 46.
			decodedLen = len(key)
		}
	}
	if decodedLen < 0 {
		return nil, keyInvalid("not base64 or hex (make one with: openssl rand -base64 32)")
	}
	return nil, keyInvalid("decodes to %d bytes, want %d (make one with: openssl rand -base64 32)", decodedLen, KeySize)
}
