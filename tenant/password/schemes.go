package password

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// storedHash is a parsed stored hash. Parsing is cheap and happens before a
// semaphore slot is taken; matches does the expensive work inside one.
type storedHash interface {
	// matches recomputes the hash of password and compares in constant time.
	matches(password string) (bool, error)
	// weakerThan reports whether the hash should be replaced by a fresh
	// argon2id hash with params.
	weakerThan(params Params) bool
}

// Scheme prefixes, the only thing Verify dispatches on.
const (
	prefixArgon2id = "$argon2id$"
	prefixScrypt   = "$scrypt$"
	prefixPBKDF2   = "$pbkdf2-sha256$"
	prefixDjango   = "pbkdf2_sha256$"
)

// parseHash picks the scheme by prefix and parses strictly. Error messages
// name the part that is wrong but never quote the hash: it may be a
// plaintext password that some legacy system stored by mistake.
func parseHash(encoded string) (storedHash, error) {
	parse := parserFor(encoded)
	if parse == nil {
		return nil, ErrUnknownScheme
	}
	for i := 0; i < len(encoded); i++ {
		// Go's base64 decoders skip CR and LF even in Strict mode; refusing
		// anything but printable ASCII keeps every hash to one spelling.
		if c := encoded[i]; c < 0x21 || c > 0x7e {
			return nil, malformed("contains whitespace or non-ASCII bytes")
		}
	}
	return parse(encoded)
}

func parserFor(encoded string) func(string) (storedHash, error) {
	switch {
	case strings.HasPrefix(encoded, prefixArgon2id):
		return parseArgon2id
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		// Not $2x$: crypt_blowfish used it to mark hashes made by its
		// sign-extension bug, which x/crypto/bcrypt does not reproduce, so
		// such a hash would fail for exactly the passwords with high-bit
		// bytes. Nor the original $2$, which nothing current writes.
		return parseBcrypt
	case strings.HasPrefix(encoded, prefixScrypt):
		return parseScrypt
	case strings.HasPrefix(encoded, prefixPBKDF2):
		return parsePBKDF2
	case strings.HasPrefix(encoded, prefixDjango):
		return parseDjango
	}
	return nil
}

// ---- argon2id ----

type argon2idHash struct {
	params    Params
	salt, key []byte
}

func encodeArgon2id(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Iterations, p.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

func parseArgon2id(encoded string) (storedHash, error) {
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 {
		return nil, malformed("argon2id: want 5 $-separated fields, have %d", len(parts)-1)
	}
	v, err := parseParams("argon2id", parts[2], "v")
	if err != nil {
		return nil, err
	}
	// x/crypto computes only version 0x13; a 0x10 hash would never match.
	if v[0] != argon2.Version {
		return nil, malformed("argon2id: unsupported version %d", v[0])
	}
	mtp, err := parseParams("argon2id", parts[3], "m", "t", "p")
	if err != nil {
		return nil, err
	}
	m, t, p := mtp[0], mtp[1], mtp[2]
	switch {
	case t < 1 || t > maxArgon2Time:
		return nil, malformed("argon2id: t=%d is outside 1..%d", t, maxArgon2Time)
	case p < 1 || p > maxArgon2Threads:
		return nil, malformed("argon2id: p=%d is outside 1..%d", p, maxArgon2Threads)
	case m < 8*p || m > maxArgon2Memory:
		// argon2.IDKey would silently raise m below 8·p, computing something
		// other than what the string says.
		return nil, malformed("argon2id: m=%d is outside 8·p..%d", m, maxArgon2Memory)
	}
	salt, err := decodeB64("argon2id", "salt", parts[4], minArgon2Salt, maxSaltLen)
	if err != nil {
		return nil, err
	}
	key, err := decodeB64("argon2id", "key", parts[5], minKeyLen, maxKeyLen)
	if err != nil {
		return nil, err
	}
	return &argon2idHash{
		params: Params{Memory: uint32(m), Iterations: uint32(t), Parallelism: uint8(p)},
		salt:   salt,
		key:    key,
	}, nil
}

func (a *argon2idHash) matches(password string) (bool, error) {
	p := a.params
	got := argon2.IDKey([]byte(password), a.salt, p.Iterations, p.Memory, p.Parallelism, uint32(len(a.key)))
	return subtle.ConstantTimeCompare(got, a.key) == 1, nil
}

func (a *argon2idHash) weakerThan(p Params) bool {
	return a.params.Memory < p.Memory ||
		a.params.Iterations < p.Iterations ||
		a.params.Parallelism < p.Parallelism ||
		len(a.salt) < saltLen ||
		len(a.key) < keyLen
}

// ---- bcrypt ----

// maxBcryptCost keeps one verification near a second: each step doubles the
// work, cost 10 takes ~60 ms, and real systems stop at 12 or 13.
const maxBcryptCost = 14

// bcryptAlphabet is bcrypt's own base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// bcryptMaxPassword is where bcrypt stops reading the password.
const bcryptMaxPassword = 72

type bcryptHash struct{ encoded []byte }

func parseBcrypt(encoded string) (storedHash, error) {
	// $2b$10$ + 22 characters of salt + 31 of hash.
	if len(encoded) != 60 {
		return nil, malformed("bcrypt: length %d, want 60", len(encoded))
	}
	// CompareHashAndPassword would report a bad salt character but treat a
	// bad hash character as a mere mismatch; check both here.
	if encoded[6] != '$' || strings.Trim(encoded[7:], bcryptAlphabet) != "" {
		return nil, malformed("bcrypt: want $2?$NN$ and 53 characters of bcrypt's base64")
	}
	cost, err := bcrypt.Cost([]byte(encoded))
	if err != nil {
		return nil, malformed("bcrypt: %w", err)
	}
	if cost > maxBcryptCost {
		return nil, malformed("bcrypt: cost %d is above %d", cost, maxBcryptCost)
	}
	return &bcryptHash{encoded: []byte(encoded)}, nil
}

func (b *bcryptHash) matches(password string) (bool, error) {
	err := bcrypt.CompareHashAndPassword(b.encoded, []byte(password))
	if len(password) > bcryptMaxPassword || strings.IndexByte(password, 0) >= 0 {
		// bcrypt compares only the first 72 bytes, so any password that
		// merely starts with the right 72 bytes would match. A password this
		// long cannot be the one that was hashed (or can be, but then its
		// tail never counted), so refuse it.
		//
		// Nor can a password with a NUL byte: crypt(3) and the systems
		// built on it end a password at its first NUL, and x/crypto's
		// bcrypt, which does not, repeats the password and a NUL as its
		// key, so that "" and "\x00", or "ab" and "ab\x00ab", are the
		// same key (found by FuzzHashVerify).
		//
		// The comparison above still ran, so that this answer takes as
		// long as any other.
		return false, nil
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		// Bad salt or hash characters that parseBcrypt could not see.
		return false, malformed("bcrypt: %w", err)
	}
}

func (*bcryptHash) weakerThan(Params) bool { return true }

// ---- scrypt ----

const (
	maxScryptLogN   = 20
	maxScryptR      = 32
	maxScryptP      = 16
	maxScryptMemory = 256 << 20 // bytes, 128·r·N
	maxScryptWork   = 1 << 22   // N·r·p; ln=15,r=8,p=1 is 1<<18
)

type scryptHash struct {
	logN, r, p int
	salt, key  []byte
}

func parseScrypt(encoded string) (storedHash, error) {
	// "", "scrypt", "ln=…,r=…,p=…", salt, key
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 {
		return nil, malformed("scrypt: want 4 $-separated fields, have %d", len(parts)-1)
	}
	lrp, err := parseParams("scrypt", parts[2], "ln", "r", "p")
	if err != nil {
		return nil, err
	}
	logN, r, p := lrp[0], lrp[1], lrp[2]
	switch {
	case logN < 1 || logN > maxScryptLogN:
		return nil, malformed("scrypt: ln=%d is outside 1..%d", logN, maxScryptLogN)
	case r < 1 || r > maxScryptR:
		return nil, malformed("scrypt: r=%d is outside 1..%d", r, maxScryptR)
	case p < 1 || p > maxScryptP:
		return nil, malformed("scrypt: p=%d is outside 1..%d", p, maxScryptP)
	case 128*r<<logN > maxScryptMemory:
		return nil, malformed("scrypt: ln=%d,r=%d needs more than %d MiB", logN, r, maxScryptMemory>>20)
	case r*p<<logN > maxScryptWork:
		return nil, malformed("scrypt: ln=%d,r=%d,p=%d is too much work", logN, r, p)
	}
	salt, err := decodeB64("scrypt", "salt", parts[3], 1, maxSaltLen)
	if err != nil {
		return nil, err
	}
	key, err := decodeB64("scrypt", "key", parts[4], minKeyLen, maxKeyLen)
	if err != nil {
		return nil, err
	}
	return &scryptHash{logN: int(logN), r: int(r), p: int(p), salt: salt, key: key}, nil
}

func (s *scryptHash) matches(password string) (bool, error) {
	got, err := scrypt.Key([]byte(password), s.salt, 1<<s.logN, s.r, s.p, len(s.key))
	if err != nil {
		// Unreachable within the limits parseScrypt enforces.
		return false, malformed("scrypt: %w", err)
	}
	return subtle.ConstantTimeCompare(got, s.key) == 1, nil
}

func (*scryptHash) weakerThan(Params) bool { return true }

// ---- PBKDF2-HMAC-SHA256, in this package's PHC-like form and Django's ----

// maxPBKDF2Iterations is well above Django's current default (1.5 million
// in Django 6) while keeping one verification within a few seconds.
const maxPBKDF2Iterations = 4_000_000

type pbkdf2Hash struct {
	iterations int
	salt, key  []byte
}

func parsePBKDF2(encoded string) (storedHash, error) {
	// "", "pbkdf2-sha256", "i=…", salt, key
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 {
		return nil, malformed("pbkdf2-sha256: want 4 $-separated fields, have %d", len(parts)-1)
	}
	i, err := parseParams("pbkdf2-sha256", parts[2], "i")
	if err != nil {
		return nil, err
	}
	if err := checkIterations("pbkdf2-sha256", i[0]); err != nil {
		return nil, err
	}
	salt, err := decodeB64("pbkdf2-sha256", "salt", parts[3], 1, maxSaltLen)
	if err != nil {
		return nil, err
	}
	key, err := decodeB64("pbkdf2-sha256", "key", parts[4], minKeyLen, maxKeyLen)
	if err != nil {
		return nil, err
	}
	return &pbkdf2Hash{iterations: int(i[0]), salt: salt, key: key}, nil
}

func parseDjango(encoded string) (storedHash, error) {
	// "pbkdf2_sha256", iterations, salt, key
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 {
		return nil, malformed("django pbkdf2_sha256: want 4 $-separated fields, have %d", len(parts))
	}
	i, err := parseUint(parts[1])
	if err != nil {
		return nil, malformed("django pbkdf2_sha256: iterations: %w", err)
	}
	if err := checkIterations("django pbkdf2_sha256", i); err != nil {
		return nil, err
	}
	// Django uses the salt string itself, not a decoding of it.
	salt := parts[2]
	if len(salt) < 1 || len(salt) > maxSaltLen {
		return nil, malformed("django pbkdf2_sha256: salt length %d is outside 1..%d", len(salt), maxSaltLen)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(parts[3])
	if err != nil {
		return nil, malformed("django pbkdf2_sha256: key: %w", err)
	}
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return nil, malformed("django pbkdf2_sha256: key length %d is outside %d..%d", len(key), minKeyLen, maxKeyLen)
	}
	return &pbkdf2Hash{iterations: int(i), salt: []byte(salt), key: key}, nil
}

func checkIterations(scheme string, i uint64) error {
	if i < 1 || i > maxPBKDF2Iterations {
		return malformed("%s: %d iterations is outside 1..%d", scheme, i, maxPBKDF2Iterations)
	}
	return nil
}

func (k *pbkdf2Hash) matches(password string) (bool, error) {
	got, err := pbkdf2.Key(sha256.New, password, k.salt, k.iterations, len(k.key))
	if err != nil {
		// Only in FIPS 140-only mode, which refuses salts under 16 bytes:
		// the hash is fine, this process may not check it.
		return false, fmt.Errorf("password: pbkdf2: %w", err)
	}
	return subtle.ConstantTimeCompare(got, k.key) == 1, nil
}

func (*pbkdf2Hash) weakerThan(Params) bool { return true }

// ---- shared parsing ----

// parseParams parses "k1=v1,k2=v2,…" whose keys must be exactly names, in
// order. Values are decimal without sign or leading zeros, as PHC requires.
func parseParams(scheme, s string, names ...string) ([]uint64, error) {
	fields := strings.Split(s, ",")
	if len(fields) != len(names) {
		return nil, malformed("%s: want parameters %s", scheme, strings.Join(names, ","))
	}
	vals := make([]uint64, len(names))
	for i, f := range fields {
		name, val, found := strings.Cut(f, "=")
		if !found || name != names[i] {
			return nil, malformed("%s: want parameters %s", scheme, strings.Join(names, ","))
		}
		n, err := parseUint(val)
		if err != nil {
			return nil, malformed("%s: %s: %w", scheme, name, err)
		}
		vals[i] = n
	}
	return vals, nil
}

// parseUint accepts only canonical decimals: strconv.ParseUint alone would
// also take "+5" or "0x10" with base 0, and "007" with base 10.
func parseUint(s string) (uint64, error) {
	if s == "" || len(s) > 10 {
		return 0, errors.New("want 1 to 10 decimal digits")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errors.New("leading zero")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a decimal number")
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// decodeB64 decodes unpadded standard base64, refusing non-canonical
// encodings (stray low bits), and checks the decoded length.
func decodeB64(scheme, what, s string, minLen, maxLen int) ([]byte, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, malformed("%s: %s: %w", scheme, what, err)
	}
	if len(b) < minLen || len(b) > maxLen {
		return nil, malformed("%s: %s length %d is outside %d..%d", scheme, what, len(b), minLen, maxLen)
	}
	return b, nil
}
