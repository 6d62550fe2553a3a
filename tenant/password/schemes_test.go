package password

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/pbkdf2"
	"golang.org/x/crypto/scrypt"
)

// The helpers below build imported-scheme hashes with x/crypto directly,
// never with this package's code, so the tests check the formats and the
// verifiers independently.

func phcScrypt(password string, salt []byte, logN, r, p, keyLen int) string {
	key, err := scrypt.Key([]byte(password), salt, 1<<logN, r, p, keyLen)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("$scrypt$ln=%d,r=%d,p=%d$%s$%s", logN, r, p,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func phcPBKDF2(password string, salt []byte, iterations, keyLen int) string {
	key := pbkdf2.Key([]byte(password), salt, iterations, keyLen, sha256.New)
	return fmt.Sprintf("$pbkdf2-sha256$i=%d$%s$%s", iterations,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// djangoPBKDF2 is what Django's make_password writes for PBKDF2PasswordHasher.
func djangoPBKDF2(password, salt string, iterations int) string {
	key := pbkdf2.Key([]byte(password), []byte(salt), iterations, sha256.Size, sha256.New)
	return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iterations, salt, base64.StdEncoding.EncodeToString(key))
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestBcrypt(t *testing.T) {
	h := newTestHasher(t, cheap, 2)
	ctx := t.Context()
	cost10, err := bcrypt.GenerateFromPassword([]byte("correct horse"), 10)
	if err != nil {
		t.Fatal(err)
	}
	// 72 bytes: the most bcrypt reads.
	long72 := strings.Repeat("0123456789", 7) + "ab"
	hash72, err := bcrypt.GenerateFromPassword([]byte(long72), 4)
	if err != nil {
		t.Fatal(err)
	}

	empty, err := bcrypt.GenerateFromPassword(nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	ab, err := bcrypt.GenerateFromPassword([]byte("ab"), 4)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, encoded, password string
		ok                      bool
	}{
		{"generated $2a$ cost 10", string(cost10), "correct horse", true},
		{"ab", string(ab), "ab", true},
		// x/crypto's bcrypt keys with the password and a NUL, repeated:
		// these are the same key as the password's; Verify refuses them.
		{"a NUL for the empty password", string(empty), "\x00", false},
		{"the password, a NUL and the password again", string(ab), "ab\x00ab", false},
		{"generated $2a$ cost 10, wrong password", string(cost10), "correct horse!", false},
		{"same hash as $2b$", "$2b$" + string(cost10[4:]), "correct horse", true},
		{"same hash as $2y$", "$2y$" + string(cost10[4:]), "correct horse", true},
		// PHP's password_compat test suite: password_hash("rasmuslerdorf",
		// PASSWORD_BCRYPT, ["cost" => 7, "salt" => "usesomesillystringforsalt"]).
		{"PHP known salt $2y$07", "$2y$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi", "rasmuslerdorf", true},
		{"PHP known salt, wrong password", "$2y$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi", "rasmuslerdorF", false},
		// PHP manual, password_verify example.
		{"PHP manual $2y$10", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "rasmuslerdorf", true},
		{"72-byte password", string(hash72), long72, true},
		// bcrypt would match these on their first 72 bytes; Verify refuses.
		{"73 bytes, same first 72", string(hash72), long72 + "c", false},
		{"80 bytes, same first 72", string(hash72), long72 + "whatever", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.encoded, tt.password)
			if ok != tt.ok || err != nil {
				t.Fatalf("Verify = %v, %v; want %v, nil", ok, err, tt.ok)
			}
			if rehash != ok {
				t.Errorf("needsRehash = %v, want %v (bcrypt is always migrated)", rehash, ok)
			}
		})
	}

	// The 72-byte rule is ours, not the library's: bcrypt itself matches.
	if err := bcrypt.CompareHashAndPassword(hash72, []byte(long72+"whatever")); err != nil {
		t.Logf("x/crypto/bcrypt now refuses passwords over 72 bytes (%v); the guard in bcryptHash.matches is redundant but harmless", err)
	}
}

func TestScrypt(t *testing.T) {
	h := newTestHasher(t, cheap, 2)
	ctx := t.Context()
	salt := []byte("0123456789abcdef")

	// RFC 7914 §12: scrypt("pleaseletmein", "SodiumChloride", N=16384, r=8, p=1, dkLen=64).
	rfcKey := mustHex("7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2" +
		"d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887")
	rfc := "$scrypt$ln=14,r=8,p=1$" + base64.RawStdEncoding.EncodeToString([]byte("SodiumChloride")) +
		"$" + base64.RawStdEncoding.EncodeToString(rfcKey)
	// Guard the vector itself against a typo.
	if got := phcScrypt("pleaseletmein", []byte("SodiumChloride"), 14, 8, 1, 64); got != rfc {
		t.Fatalf("RFC 7914 vector disagrees with x/crypto/scrypt:\n%s\n%s", got, rfc)
	}

	tests := []struct {
		name, encoded, password string
		ok                      bool
	}{
		{"RFC 7914", rfc, "pleaseletmein", true},
		{"RFC 7914, wrong password", rfc, "pleaseletmeout", false},
		{"ln=10,r=8,p=1", phcScrypt("hunter2", salt, 10, 8, 1, 32), "hunter2", true},
		{"ln=10,r=8,p=1, wrong password", phcScrypt("hunter2", salt, 10, 8, 1, 32), "hunter3", false},
		{"ln=4,r=1,p=2, 64-byte key", phcScrypt("hunter2", salt, 4, 1, 2, 64), "hunter2", true},
		{"1-byte salt, 16-byte key", phcScrypt("", []byte{7}, 1, 1, 1, 16), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, _, err := h.Verify(ctx, tt.encoded, tt.password)
			if ok != tt.ok || err != nil {
				t.Errorf("Verify = %v, %v; want %v, nil", ok, err, tt.ok)
			}
		})
	}
}

func TestPBKDF2(t *testing.T) {
	h := newTestHasher(t, cheap, 2)
	ctx := t.Context()
	salt := []byte("0123456789abcdef")

	// RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", c=1, dkLen=64).
	rfcKey := mustHex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc" +
		"49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
	if got := pbkdf2.Key([]byte("passwd"), []byte("salt"), 1, 64, sha256.New); !bytes.Equal(got, rfcKey) {
		t.Fatalf("RFC 7914 vector disagrees with x/crypto/pbkdf2: %x", got)
	}
	rfc := "$pbkdf2-sha256$i=1$" + base64.RawStdEncoding.EncodeToString([]byte("salt")) +
		"$" + base64.RawStdEncoding.EncodeToString(rfcKey)

	tests := []struct {
		name, encoded, password string
		ok                      bool
	}{
		{"RFC 7914", rfc, "passwd", true},
		{"RFC 7914, wrong password", rfc, "Passwd", false},
		{"i=1000", phcPBKDF2("hunter2", salt, 1000, 32), "hunter2", true},
		{"i=1000, wrong password", phcPBKDF2("hunter2", salt, 1000, 32), "hunter", false},
		{"i=310000 (OWASP)", phcPBKDF2("hunter2", salt, 310000, 32), "hunter2", true},
		{"i=5000, 64-byte key", phcPBKDF2("hunter2", salt, 5000, 64), "hunter2", true},

		// Django's own test vectors, tests/auth_tests/test_hashers.py
		// (test_pbkdf2), from the 4.2 and 6.0 branches.
		{"Django 4.2", "pbkdf2_sha256$600000$seasalt$OAXyhAQ/4ZDA9V5RMExt3C1OwQdUpLZ99vm1McFlLRA=", "lètmein", true},
		{"Django 4.2, wrong password", "pbkdf2_sha256$600000$seasalt$OAXyhAQ/4ZDA9V5RMExt3C1OwQdUpLZ99vm1McFlLRA=", "lètmeinz", false},
		{"Django 6.0", "pbkdf2_sha256$1500000$seasalt$P4UiMPVduVWIL/oS1GzH+IofsccjJNM5hUTikBvi5to=", "lètmein", true},
		{"Django-style, computed", djangoPBKDF2("hunter2", "Ab3dEf6hIj9kLm", 20000), "hunter2", true},
		{"Django-style, computed, wrong password", djangoPBKDF2("hunter2", "Ab3dEf6hIj9kLm", 20000), "Hunter2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() && strings.Contains(tt.encoded, "$1500000$") {
				t.Skip("1.5 million iterations")
			}
			ok, _, err := h.Verify(ctx, tt.encoded, tt.password)
			if ok != tt.ok || err != nil {
				t.Errorf("Verify = %v, %v; want %v, nil", ok, err, tt.ok)
			}
		})
	}
}

func TestLegacyMalformed(t *testing.T) {
	salt := base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef"))
	key := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	sc := func(params string) string { return "$scrypt$" + params + "$" + salt + "$" + key }
	pb := func(params string) string { return "$pbkdf2-sha256$" + params + "$" + salt + "$" + key }
	djKey := base64.StdEncoding.EncodeToString(make([]byte, 32))
	dj := func(iter, salt, key string) string { return "pbkdf2_sha256$" + iter + "$" + salt + "$" + key }

	tests := []struct {
		name, encoded string
		want          error
	}{
		{"scrypt baseline parses", sc("ln=15,r=8,p=1"), nil},
		{"scrypt at the memory cap", sc("ln=18,r=8,p=1"), nil},
		{"scrypt N instead of ln", sc("N=32768,r=8,p=1"), ErrMalformedHash},
		{"scrypt params out of order", sc("r=8,ln=15,p=1"), ErrMalformedHash},
		{"scrypt ln=0", sc("ln=0,r=8,p=1"), ErrMalformedHash},
		{"scrypt ln=21", sc("ln=21,r=1,p=1"), ErrMalformedHash},
		{"scrypt r=33", sc("ln=4,r=33,p=1"), ErrMalformedHash},
		{"scrypt p=17", sc("ln=4,r=1,p=17"), ErrMalformedHash},
		{"scrypt 1 GiB", sc("ln=20,r=8,p=1"), ErrMalformedHash},
		{"scrypt too much work", sc("ln=17,r=8,p=16"), ErrMalformedHash},
		{"scrypt missing key", "$scrypt$ln=15,r=8,p=1$" + salt, ErrMalformedHash},
		{"scrypt empty salt", "$scrypt$ln=15,r=8,p=1$$" + key, ErrMalformedHash},
		{"scrypt short key", "$scrypt$ln=15,r=8,p=1$" + salt + "$AAAA", ErrMalformedHash},

		{"pbkdf2 baseline parses", pb("i=310000"), nil},
		{"pbkdf2 at the cap", pb("i=4000000"), nil},
		{"pbkdf2 above the cap", pb("i=4000001"), ErrMalformedHash},
		{"pbkdf2 i=0", pb("i=0"), ErrMalformedHash},
		{"pbkdf2 bare rounds (passlib)", pb("29000"), ErrMalformedHash},
		{"pbkdf2 rounds=", pb("rounds=29000"), ErrMalformedHash},
		{"pbkdf2 extra field", pb("i=1000") + "$x", ErrMalformedHash},

		{"django baseline parses", dj("600000", "seasalt", djKey), nil},
		{"django unpadded key", dj("600000", "seasalt", strings.TrimRight(djKey, "=")), ErrMalformedHash},
		{"django leading zero", dj("0600000", "seasalt", djKey), ErrMalformedHash},
		{"django no iterations", dj("", "seasalt", djKey), ErrMalformedHash},
		{"django i=0", dj("0", "seasalt", djKey), ErrMalformedHash},
		{"django above the cap", dj("4000001", "seasalt", djKey), ErrMalformedHash},
		{"django empty salt", dj("600000", "", djKey), ErrMalformedHash},
		{"django salt too long", dj("600000", strings.Repeat("s", 65), djKey), ErrMalformedHash},
		{"django short key", dj("600000", "seasalt", "AAAA"), ErrMalformedHash},
		{"django extra field", dj("600000", "seasalt", djKey) + "$", ErrMalformedHash},
		{"django missing field", "pbkdf2_sha256$600000$" + djKey, ErrMalformedHash},

		{"django pbkdf2_sha1", "pbkdf2_sha1$260000$seasalt$" + djKey, ErrUnknownScheme},
		{"django argon2", "argon2$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHQ$" + key, ErrUnknownScheme},
		{"pbkdf2-sha512", "$pbkdf2-sha512$i=1000$" + salt + "$" + key, ErrUnknownScheme},
		{"scrypt spelled differently", "$7$CU..../....", ErrUnknownScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseHash(tt.encoded)
			if !errors.Is(err, tt.want) { // errors.Is(err, nil) means err == nil
				t.Errorf("parseHash error = %v, want %v", err, tt.want)
			}
		})
	}
}
