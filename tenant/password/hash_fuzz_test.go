package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Fuzz targets for stored hashes: an import file's cognate:password_hash,
// a legacy system's hash, or a damaged record all reach parseHash. Parsing
// is strict, so a hash has one spelling; what CheckHash accepts, Verify can
// check; what it refuses never matches; and no error repeats the hash,
// which may be a password stored in clear by mistake.

// formatHash writes a parsed hash back in the spelling it was read from.
// The Django form is told by its prefix: it parses to the same pbkdf2Hash
// as the PHC form.
func formatHash(encoded string, h storedHash) string {
	b64 := base64.RawStdEncoding.EncodeToString
	switch h := h.(type) {
	case *argon2idHash:
		return encodeArgon2id(h.params, h.salt, h.key)
	case *bcryptHash:
		return string(h.encoded)
	case *scryptHash:
		return fmt.Sprintf("$scrypt$ln=%d,r=%d,p=%d$%s$%s", h.logN, h.r, h.p, b64(h.salt), b64(h.key))
	case *pbkdf2Hash:
		if strings.HasPrefix(encoded, prefixDjango) {
			return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", h.iterations, h.salt, base64.StdEncoding.EncodeToString(h.key))
		}
		return fmt.Sprintf("$pbkdf2-sha256$i=%d$%s$%s", h.iterations, b64(h.salt), b64(h.key))
	}
	panic(fmt.Sprintf("formatHash: %T", h))
}

// cheapToVerify reports whether verifying h takes at most a millisecond or
// so, so that the fuzzer can afford it on every input that parses.
func cheapToVerify(h storedHash) bool {
	switch h := h.(type) {
	case *argon2idHash:
		return h.params.Memory*h.params.Iterations <= 256
	case *bcryptHash:
		cost, err := bcrypt.Cost(h.encoded)
		return err == nil && cost <= 5
	case *scryptHash:
		return h.r*h.p<<h.logN <= 1<<10
	case *pbkdf2Hash:
		return h.iterations <= 2000
	}
	return false
}

func FuzzStoredHash(f *testing.F) {
	for _, s := range []string{
		phcArgon2id("pw", []byte("saltsalt"), 64, 1, 1, 16),
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=064,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$2y$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi",
		"$2b$04$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi",
		"$2x$04$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi",
		"$2a$31$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi",
		phcScrypt("pw", []byte("salt"), 4, 8, 1, 16),
		"$scrypt$ln=20,r=32,p=16$c2FsdA$a2V5a2V5a2V5a2V5a2V5aw",
		phcPBKDF2("pw", []byte("salt"), 1000, 32),
		djangoPBKDF2("pw", "seasalt", 1000),
		"pbkdf2_sha256$1000$salt$a2V5a2V5a2V5a2V5a2V5aw==\n",
		"pbkdf2_sha256$+1000$salt$a2V5a2V5a2V5a2V5a2V5aw==",
		"correct horse battery staple",
		"",
	} {
		f.Add(s)
	}
	h := newTestHasher(f, cheap, 1)
	f.Fuzz(func(t *testing.T, encoded string) {
		ctx := t.Context()
		stored, err := parseHash(encoded)
		if checkErr := CheckHash(encoded); (checkErr == nil) != (err == nil) {
			t.Fatalf("CheckHash says %v, parseHash %v", checkErr, err)
		}
		if err != nil {
			var m *MalformedHashError
			if !errors.Is(err, ErrUnknownScheme) && !(errors.As(err, &m) && errors.Is(err, ErrMalformedHash)) {
				t.Fatalf("parse error %v (%T) is neither ErrUnknownScheme nor a *MalformedHashError", err, err)
			}
			// Short hashes may well appear in the wording ("$2a$" …);
			// a long one is the stored text itself.
			if len(encoded) >= 12 && strings.Contains(err.Error(), encoded) {
				t.Fatalf("the error repeats the hash: %v", err)
			}
			ok, rehash, verr := h.Verify(ctx, encoded, "pw")
			if ok || rehash || verr == nil {
				t.Fatalf("Verify of a hash that does not parse = %v, %v, %v; want false, false and an error", ok, rehash, verr)
			}
			return
		}
		if again := formatHash(encoded, stored); again != encoded {
			t.Fatalf("hash has two spellings:\n read    %q\n written %q", encoded, again)
		}
		if !cheapToVerify(stored) {
			return
		}
		// CheckHash's promise: what it accepts, Verify can check.
		for _, pw := range []string{"pw", "", strings.Repeat("x", 73)} {
			ok, rehash, err := h.Verify(ctx, encoded, pw)
			if err != nil {
				t.Fatalf("Verify(%q) of a hash CheckHash accepts: %v", pw, err)
			}
			if rehash && !ok {
				t.Fatalf("Verify(%q): needs a rehash, but did not match", pw)
			}
		}
	})
}

// FuzzHashVerify checks that a hash made here matches its own password and
// no other, for argon2id (Hash) and for bcrypt, whose 72-byte limit must
// not let a longer password in, and against which a password with a NUL
// byte never matches, not even its own hash (see bcryptHash.matches).
func FuzzHashVerify(f *testing.F) {
	f.Add("correct horse", "correct horse!")
	f.Add("", " ")
	f.Add("pässwörd", "pa\u0308sswo\u0308rd") // the same text, composed and not
	f.Add(strings.Repeat("0123456789", 7)+"ab", strings.Repeat("0123456789", 7)+"abc")
	f.Add("nul\x00byte", "nul")
	f.Add("a\x00", "a\x00") // equal, but bcrypt never matches a NUL
	f.Add("ab\x00ab", "ab") // x/crypto's bcrypt: the same key
	h := newTestHasher(f, Params{Memory: 8, Iterations: 1, Parallelism: 1}, 1)
	f.Fuzz(func(t *testing.T, password, other string) {
		ctx := t.Context()
		encoded, err := h.Hash(ctx, password)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckHash(encoded); err != nil {
			t.Fatalf("CheckHash of Hash's own output: %v", err)
		}
		for _, try := range []string{password, other} {
			ok, rehash, err := h.Verify(ctx, encoded, try)
			if err != nil || ok != (try == password) || rehash {
				t.Fatalf("argon2id of %q, Verify(%q) = %v, %v, %v", password, try, ok, rehash, err)
			}
		}
		if len(password) > bcryptMaxPassword {
			return
		}
		b, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		ok, rehash, err := h.Verify(ctx, string(b), other)
		// A bcrypt hash always wants a rehash once it matches. When password
		// has a NUL, x/crypto's hash of it, which no crypt(3) system could
		// make, also matches the shorter passwords its key repeats as
		// ("\x00" matches "", "ab\x00ab" matches "ab"); nothing in the hash
		// shows this, so only a NUL in other is held to never matching.
		if err != nil || ok != rehash || ok && hasNUL(other) || !hasNUL(password) && ok != (other == password) {
			t.Fatalf("bcrypt of %q, Verify(%q) = %v, %v, %v", password, other, ok, rehash, err)
		}
	})
}

// hasNUL reports whether s has a NUL byte, which no bcrypt password may.
func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }
