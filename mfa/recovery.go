package mfa

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Recovery codes are 12 characters from a 32-symbol alphabet, 5 bits each:
// 60 bits, shown as xxxx-xxxx-xxxx.
//
// The alphabet is Crockford's base32 in lower case: digits and letters
// without i, l, o and u, so nothing on the sheet can be misread. What a
// person may still type for the missing letters is mapped on input (o→0,
// i and l→1), as Crockford's decoding does.
const (
	recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	recoveryCount    = 10
	recoveryLength   = 12
	recoveryGroup    = 4
)

// recoveryTypos maps what a person might type to the canonical character,
// and drops the separators and white space that a copied code carries.
var recoveryTypos = strings.NewReplacer(
	"o", "0", "i", "1", "l", "1",
	"-", "", " ", "", "\t", "",
)

// NewRecoveryCodes returns ten one-time recovery codes to show the person
// once, and their hashes to store (same order).
//
// The hash is a plain SHA-256 (hex) of the normalised code. A slow password
// hash is not needed, because each code carries 60 random bits: there is no
// dictionary to try, and 2^60 guesses of SHA-256 are out of reach for an
// attacker holding the database, while a fast hash keeps checking all ten
// entries cheap.
func NewRecoveryCodes(rand io.Reader) (codes []string, hashes []string, err error) {
	// One byte per character: 32 divides 256, so byte%32 is uniform.
	raw := make([]byte, recoveryCount*recoveryLength)
	if _, err := io.ReadFull(rand, raw); err != nil {
		return nil, nil, fmt.Errorf("mfa: recovery codes: %w", err)
	}

	codes = make([]string, 0, recoveryCount)
	hashes = make([]string, 0, recoveryCount)
	seen := make(map[string]bool, recoveryCount)
	for i := range recoveryCount {
		var b strings.Builder
		for j, r := range raw[i*recoveryLength : (i+1)*recoveryLength] {
			if j > 0 && j%recoveryGroup == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[r%32])
		}
		code := b.String()
		// A duplicate has odds of about 2^-54 from a working random
		// source; seeing one means the source is broken.
		if seen[code] {
			return nil, nil, errors.New("mfa: recovery codes: random source repeated itself")
		}
		seen[code] = true
		codes = append(codes, code)
		hashes = append(hashes, hashRecoveryCode(normaliseRecoveryCode(code)))
	}
	return codes, hashes, nil
}

// MatchRecoveryCode reports which stored hash, if any, the input matches.
// Case, spaces, dashes and the look-alikes o/i/l are forgiven.
//
// Every entry is compared, in constant time, whether or not an earlier one
// matched, so the timing says nothing about which code was used. Entries the
// caller has blanked out never match.
//
// One-time use is the caller's: on a match, remove or blank hashes[index] in
// the same transaction that completes the login, so the code cannot be used
// again, and count failed attempts like failed TOTP codes.
func MatchRecoveryCode(hashes []string, input string) (index int, ok bool) {
	code := normaliseRecoveryCode(input)
	if !isRecoveryCode(code) {
		return -1, false
	}
	want := []byte(hashRecoveryCode(code))

	index = -1
	for i, h := range hashes {
		eq := subtle.ConstantTimeCompare([]byte(h), want)
		index = subtle.ConstantTimeSelect(eq, i, index)
	}
	return index, index >= 0
}

func normaliseRecoveryCode(s string) string {
	return recoveryTypos.Replace(strings.ToLower(strings.TrimSpace(s)))
}

func isRecoveryCode(s string) bool {
	if len(s) != recoveryLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(recoveryAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

func hashRecoveryCode(normalised string) string {
	sum := sha256.Sum256([]byte(normalised))
	return hex.EncodeToString(sum[:])
}
