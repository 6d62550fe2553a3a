package mfa_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/mfa"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, mfa.KeySize) }

func newSealer(t *testing.T, current []byte, previous ...[]byte) *mfa.Sealer {
	t.Helper()
	s, err := mfa.NewSealer(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealerRoundTrip(t *testing.T) {
	s := newSealer(t, testKey(1))
	secret := []byte("JBSWY3DPEHPK3PXP")
	ad := []byte("totp|tenant-a|user-1")

	sealed, err := s.Seal(secret, ad)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(testKey(1))
	if prefix := "v1." + hex.EncodeToString(sum[:4]) + "."; !strings.HasPrefix(sealed, prefix) {
		t.Errorf("sealed = %q, want prefix %q", sealed, prefix)
	}
	if strings.Contains(sealed, string(secret)) {
		t.Errorf("sealed value contains the plaintext")
	}
	got, err := s.Open(sealed, ad)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, secret) {
		t.Errorf("Open = %q, want %q", got, secret)
	}

	// A random nonce: sealing twice gives different values.
	again, _ := s.Seal(secret, ad)
	if again == sealed {
		t.Error("two Seals of the same plaintext are equal; the nonce is not random")
	}
}

func TestSealerRefuses(t *testing.T) {
	s := newSealer(t, testKey(1))
	ad := []byte("totp|tenant-a|user-1")
	sealed, err := s.Seal([]byte("secret"), ad)
	if err != nil {
		t.Fatal(err)
	}
	version, keyID, data := splitSealed(t, sealed)

	// flip returns the payload with one bit of byte i changed.
	flip := func(i int) string {
		raw, err := base64.RawURLEncoding.DecodeString(data)
		if err != nil {
			t.Fatal(err)
		}
		raw[(i+len(raw))%len(raw)] ^= 1
		return version + "." + keyID + "." + base64.RawURLEncoding.EncodeToString(raw)
	}

	// lowBits returns the payload with the unused low bits of its last
	// character set: 34 bytes of nonce, ciphertext and tag leave 4 of them
	// (found by FuzzSealerOpen: such a value opened).
	lowBits := func() string {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, data[len(data)-1])
		return version + "." + keyID + "." + data[:len(data)-1] + string(alphabet[last|1])
	}

	tests := []struct {
		name    string
		sealed  string
		ad      []byte
		wantErr error
	}{
		{"unused bits of the last character set", lowBits(), ad, mfa.ErrSealedMalformed},
		{"a line break inside", version + "." + keyID + "." + data[:5] + "\n" + data[5:], ad, mfa.ErrSealedMalformed},
		{"tampered nonce", flip(0), ad, mfa.ErrSealedInvalid},
		{"tampered ciphertext", flip(12), ad, mfa.ErrSealedInvalid},
		{"tampered tag", flip(-1), ad, mfa.ErrSealedInvalid},
		// Cut at a whole group of four characters, which spells whole bytes.
		{"truncated payload", version + "." + keyID + "." + data[:len(data)/4*4-4], ad, mfa.ErrSealedInvalid},
		{"another user's associated data", sealed, []byte("totp|tenant-a|user-2"), mfa.ErrSealedInvalid},
		{"no associated data", sealed, nil, mfa.ErrSealedInvalid},
		{"unknown key id", version + ".00000000." + data, ad, mfa.ErrSealKeyUnknown},
		{"other version", "v2." + keyID + "." + data, ad, mfa.ErrSealedMalformed},
		{"not base64url", version + "." + keyID + ".***", ad, mfa.ErrSealedMalformed},
		{"missing part", version + "." + keyID, ad, mfa.ErrSealedMalformed},
		{"empty", "", ad, mfa.ErrSealedMalformed},
		{"too short for a nonce", version + "." + keyID + ".AAAA", ad, mfa.ErrSealedInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Open(tt.sealed, tt.ad)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Open err = %v, want %v", err, tt.wantErr)
			}
			if got != nil {
				t.Errorf("Open returned plaintext %q alongside an error", got)
			}
		})
	}
}

func splitSealed(t *testing.T, sealed string) (version, keyID, data string) {
	t.Helper()
	parts := strings.Split(sealed, ".")
	if len(parts) != 3 {
		t.Fatalf("sealed %q does not have three parts", sealed)
	}
	return parts[0], parts[1], parts[2]
}

func TestSealerRotation(t *testing.T) {
	oldKey, newKey := testKey(1), testKey(2)
	ad := []byte("totp|tenant-a|user-1")

	before := newSealer(t, oldKey)
	sealedOld, err := before.Seal([]byte("old secret"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if before.NeedsReseal(sealedOld) {
		t.Error("NeedsReseal is true for a value sealed with the current key")
	}

	// Step 1: the new key becomes current, the old one stays as previous.
	during := newSealer(t, newKey, oldKey)
	got, err := during.Open(sealedOld, ad)
	if err != nil || string(got) != "old secret" {
		t.Fatalf("Open(old value) after rotation = %q, %v", got, err)
	}
	if !during.NeedsReseal(sealedOld) {
		t.Error("NeedsReseal is false for a value sealed with the previous key")
	}

	// Step 2: re-seal on use; the result is under the new key.
	resealed, err := during.Seal(got, ad)
	if err != nil {
		t.Fatal(err)
	}
	if during.NeedsReseal(resealed) {
		t.Error("NeedsReseal is true right after re-sealing")
	}

	// Step 3: the old key is removed; re-sealed values open, stale ones do not.
	after := newSealer(t, newKey)
	if got, err := after.Open(resealed, ad); err != nil || string(got) != "old secret" {
		t.Errorf("Open(resealed) without the old key = %q, %v", got, err)
	}
	if _, err := after.Open(sealedOld, ad); !errors.Is(err, mfa.ErrSealKeyUnknown) {
		t.Errorf("Open(stale value) without the old key: err = %v, want ErrSealKeyUnknown", err)
	}

	if during.NeedsReseal("garbage") {
		t.Error("NeedsReseal is true for a malformed value")
	}
}

func TestNewSealerRejects(t *testing.T) {
	tests := []struct {
		name     string
		current  []byte
		previous [][]byte
	}{
		{"short current", make([]byte, 16), nil},
		{"long current", make([]byte, 33), nil},
		{"nil current", nil, nil},
		{"short previous", testKey(1), [][]byte{make([]byte, 31)}},
		{"previous repeats current", testKey(1), [][]byte{testKey(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := mfa.NewSealer(tt.current, tt.previous...); !errors.Is(err, mfa.ErrKeyInvalid) {
				t.Errorf("err = %v, want ErrKeyInvalid", err)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	key := make([]byte, mfa.KeySize)
	for i := range key {
		key[i] = byte(i*7 + 250) // includes bytes that differ between the std and url alphabets
	}

	valid := []struct{ name, in string }{
		{"hex", hex.EncodeToString(key)},
		{"hex upper case", strings.ToUpper(hex.EncodeToString(key))},
		{"base64 std", base64.StdEncoding.EncodeToString(key)},
		{"base64 std unpadded", base64.RawStdEncoding.EncodeToString(key)},
		{"base64 url", base64.URLEncoding.EncodeToString(key)},
		{"base64 url unpadded", base64.RawURLEncoding.EncodeToString(key)},
		{"trailing newline from a key file", base64.StdEncoding.EncodeToString(key) + "\n"},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mfa.ParseKey(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, key) {
				t.Errorf("ParseKey = %x, want %x", got, key)
			}
		})
	}

	// The reason is what a caller that names the key itself says: the
	// error's text without ErrKeyInvalid's before it.
	invalid := []struct{ name, in, reason string }{
		{"empty", "", "empty"},
		{"blank", "  \n", "empty"},
		{"16 bytes base64", base64.StdEncoding.EncodeToString(key[:16]), "decodes to 16 bytes, want 32"},
		{"31 bytes hex", hex.EncodeToString(key[:31]), "decodes to 31 bytes, want 32"},
		{"33 bytes base64", base64.StdEncoding.EncodeToString(append(key, 0)), "decodes to 33 bytes, want 32"},
		{"not an encoding", "this is not a key at all!", "not base64 or hex"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mfa.ParseKey(tt.in)
			if !errors.Is(err, mfa.ErrKeyInvalid) {
				t.Fatalf("err = %v, want ErrKeyInvalid", err)
			}
			var bad *mfa.KeyError
			if !errors.As(err, &bad) || !strings.HasPrefix(bad.Reason, tt.reason) || err.Error() != mfa.ErrKeyInvalid.Error()+": "+bad.Reason {
				t.Errorf("err = %v, want a *mfa.KeyError whose Reason starts %q", err, tt.reason)
			}
			if s := strings.TrimSpace(tt.in); s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("error %q repeats the (secret) input", err)
			}
		})
	}
}
