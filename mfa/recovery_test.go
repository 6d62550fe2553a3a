package mfa_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/mfa"
)

func TestNewRecoveryCodes(t *testing.T) {
	codes, hashes, err := mfa.NewRecoveryCodes(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 || len(hashes) != 10 {
		t.Fatalf("got %d codes and %d hashes, want 10 of each", len(codes), len(hashes))
	}

	// 12 characters from a 32-symbol alphabet: 60 bits. No i, l, o or u.
	shape := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`)
	seen := map[string]bool{}
	for i, code := range codes {
		if !shape.MatchString(code) {
			t.Errorf("code %q does not look like xxxx-xxxx-xxxx from the unambiguous alphabet", code)
		}
		if seen[code] {
			t.Errorf("code %q repeats", code)
		}
		seen[code] = true

		// Stored as SHA-256 hex of the code without dashes.
		sum := sha256.Sum256([]byte(strings.ReplaceAll(code, "-", "")))
		if want := hex.EncodeToString(sum[:]); hashes[i] != want {
			t.Errorf("hash %d = %s, want %s", i, hashes[i], want)
		}
		if strings.Contains(hashes[i], strings.ReplaceAll(code, "-", "")) {
			t.Errorf("hash %d contains its code", i)
		}
	}

	// Two sets never share a code.
	again, _, err := mfa.NewRecoveryCodes(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range again {
		if seen[code] {
			t.Errorf("code %q appears in two sets", code)
		}
	}
}

func TestNewRecoveryCodesBrokenRandom(t *testing.T) {
	tests := []struct {
		name string
		rand *bytes.Reader
	}{
		{"short", bytes.NewReader(make([]byte, 119))},
		{"constant, so codes repeat", bytes.NewReader(make([]byte, 120))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if codes, _, err := mfa.NewRecoveryCodes(tt.rand); err == nil {
				t.Errorf("NewRecoveryCodes succeeded with %v", codes)
			}
		})
	}
}

func TestMatchRecoveryCode(t *testing.T) {
	codes, hashes, err := mfa.NewRecoveryCodes(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// A fixed code 0123-4567-89ab at index 10, for the look-alike cases.
	sum := sha256.Sum256([]byte("0123456789ab"))
	hashes = append(hashes, hex.EncodeToString(sum[:]))

	tests := []struct {
		name      string
		input     string
		wantIndex int
		wantOK    bool
	}{
		{"first code as shown", codes[0], 0, true},
		{"last generated code", codes[9], 9, true},
		{"upper case", strings.ToUpper(codes[4]), 4, true},
		{"without dashes", strings.ReplaceAll(codes[5], "-", ""), 5, true},
		{"spaces for dashes", strings.ReplaceAll(codes[6], "-", " "), 6, true},
		{"surrounding space", "  " + codes[7] + "\n", 7, true},
		{"fixed code as printed", "0123-4567-89ab", 10, true},
		{"O for 0 and I for 1", "OI23-4567-89AB", 10, true},
		{"l for 1, spaces for dashes", "0l23 4567 89ab", 10, true},
		{"wrong code", "zzzz-zzzz-zzzz", -1, false},
		{"too short", codes[0][:13], -1, false},
		{"too long", codes[0] + "0", -1, false},
		{"letter u is not in the alphabet", "uuuu-uuuu-uuuu", -1, false},
		{"empty", "", -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			index, ok := mfa.MatchRecoveryCode(hashes, tt.input)
			if index != tt.wantIndex || ok != tt.wantOK {
				t.Errorf("MatchRecoveryCode(%q) = %d, %v; want %d, %v", tt.input, index, ok, tt.wantIndex, tt.wantOK)
			}
		})
	}
}

// Once-only use is the caller's: after a match it blanks the entry, and the
// same code then no longer matches while the others still do.
func TestMatchRecoveryCodeAfterCallerBlanksEntry(t *testing.T) {
	codes, hashes, err := mfa.NewRecoveryCodes(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	index, ok := mfa.MatchRecoveryCode(hashes, codes[3])
	if !ok || index != 3 {
		t.Fatalf("first use: %d, %v", index, ok)
	}
	hashes[index] = ""

	if index, ok := mfa.MatchRecoveryCode(hashes, codes[3]); ok {
		t.Errorf("used code matched again at %d", index)
	}
	if index, ok := mfa.MatchRecoveryCode(hashes, codes[4]); !ok || index != 4 {
		t.Errorf("unused code: %d, %v; want 4, true", index, ok)
	}
}
