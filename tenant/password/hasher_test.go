package password

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// cheap are argon2id parameters that make tests fast; one test below uses
// the defaults.
var cheap = Params{Memory: 64, Iterations: 1, Parallelism: 1}

func newTestHasher(t testing.TB, p Params, maxConcurrent int) *Hasher {
	t.Helper()
	h, err := NewHasher(p, maxConcurrent)
	if err != nil {
		t.Fatalf("NewHasher(%+v): %v", p, err)
	}
	return h
}

// phcArgon2id builds an argon2id PHC string with argon2.IDKey directly, not
// with the package's encoder, so tests check the format independently.
func phcArgon2id(password string, salt []byte, m, t uint32, p uint8, keyLen uint32) string {
	key := argon2.IDKey([]byte(password), salt, t, m, p, keyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func TestNewHasherParams(t *testing.T) {
	tests := []struct {
		name string
		in   Params
		want Params
	}{
		{"zero means defaults", Params{}, DefaultParams()},
		{"zero fields take defaults", Params{Memory: 47104, Iterations: 1}, Params{Memory: 47104, Iterations: 1, Parallelism: 1}},
		{"cheap kept", cheap, cheap},
		{"at the limits", Params{Memory: 262144, Iterations: 10, Parallelism: 16}, Params{Memory: 262144, Iterations: 10, Parallelism: 16}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHasher(t, tt.in, 0)
			if got := h.Params(); got != tt.want {
				t.Errorf("Params() = %+v, want %+v", got, tt.want)
			}
			if cap(h.slots) != runtime.NumCPU() {
				t.Errorf("slots = %d, want NumCPU = %d", cap(h.slots), runtime.NumCPU())
			}
		})
	}

	for _, p := range []Params{
		{Memory: 262145},
		{Iterations: 11},
		{Parallelism: 17},
		{Memory: 15, Parallelism: 2}, // below 8 KiB per lane
	} {
		if _, err := NewHasher(p, 1); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("NewHasher(%+v) error = %v, want ErrInvalidParams", p, err)
		}
	}
}

func TestHashDefaultParams(t *testing.T) {
	// The one test at production cost: the format, the round trip, and that
	// a fresh hash does not ask to be rehashed.
	h := newTestHasher(t, Params{}, 0)
	ctx := t.Context()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	format := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !format.MatchString(encoded) {
		t.Fatalf("Hash = %q, want format %s", encoded, format)
	}
	ok, rehash, err := h.Verify(ctx, encoded, "correct horse battery staple")
	if !ok || rehash || err != nil {
		t.Errorf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestArgon2idRoundTrip(t *testing.T) {
	h := newTestHasher(t, cheap, 2)
	ctx := t.Context()
	for _, pw := range []string{"hunter2", "", "pässwörd with spaces", strings.Repeat("x", 1000), "nul\x00byte"} {
		encoded, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		if ok, rehash, err := h.Verify(ctx, encoded, pw); !ok || rehash || err != nil {
			t.Errorf("Verify(own hash of %q) = %v, %v, %v; want true, false, nil", pw, ok, rehash, err)
		}
		if ok, rehash, err := h.Verify(ctx, encoded, pw+"!"); ok || rehash || err != nil {
			t.Errorf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
		}
	}

	a, _ := h.Hash(ctx, "same")
	b, _ := h.Hash(ctx, "same")
	if a == b {
		t.Error("two hashes of one password are equal: salt is not random")
	}
}

func TestArgon2idIndependentVectors(t *testing.T) {
	h := newTestHasher(t, cheap, 2)
	ctx := t.Context()
	tests := []struct {
		name, encoded, password string
		ok                      bool
	}{
		// From the reference implementation (phc-winner-argon2):
		// echo -n password | argon2 somesalt -id -t 2 -m 16 -p 4 -l 32 -e
		{"reference CLI", "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo", "password", true},
		{"reference CLI, wrong password", "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo", "Password", false},
		{"x/crypto, 16-byte key", phcArgon2id("pw", []byte("0123456789abcdef"), 32, 3, 1, 16), "pw", true},
		{"x/crypto, 64-byte key, p=2", phcArgon2id("pw", []byte("saltsalt"), 64, 1, 2, 64), "pw", true},
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

func TestArgon2idTampered(t *testing.T) {
	h := newTestHasher(t, cheap, 2)
	ctx := t.Context()
	encoded, err := h.Hash(ctx, "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(encoded, "$") // "", argon2id, v=19, m=…, salt, key
	flip := func(s string, i int) string {
		b, _ := base64.RawStdEncoding.DecodeString(s)
		b[i] ^= 1
		return base64.RawStdEncoding.EncodeToString(b)
	}
	join := func(ps ...string) string { return strings.Join(ps, "$") }
	key, _ := base64.RawStdEncoding.DecodeString(parts[5])
	shortKey := base64.RawStdEncoding.EncodeToString(key[:16])

	// Still well-formed, so a plain mismatch.
	for name, tampered := range map[string]string{
		"key bit":       join(parts[0], parts[1], parts[2], parts[3], parts[4], flip(parts[5], 31)),
		"salt bit":      join(parts[0], parts[1], parts[2], parts[3], flip(parts[4], 0), parts[5]),
		"memory":        join(parts[0], parts[1], parts[2], "m=72,t=1,p=1", parts[4], parts[5]),
		"iterations":    join(parts[0], parts[1], parts[2], "m=64,t=2,p=1", parts[4], parts[5]),
		"shortened key": join(parts[0], parts[1], parts[2], parts[3], parts[4], shortKey),
	} {
		if ok, _, err := h.Verify(ctx, tampered, "hunter2"); ok || err != nil {
			t.Errorf("%s: Verify = %v, %v; want false, nil", name, ok, err)
		}
	}
}

func TestMalformedAndUnknown(t *testing.T) {
	h := newTestHasher(t, cheap, 2)
	ctx := t.Context()
	salt := base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef"))
	key := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	a2 := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }
	cost4, err := bcrypt.GenerateFromPassword([]byte("pw"), 4)
	if err != nil {
		t.Fatal(err)
	}
	bc := string(cost4) // $2a$04$…

	tests := []struct {
		name, encoded string
		want          error
	}{
		// argon2id structure
		{"argon2id baseline parses", a2("m=64,t=1,p=1"), nil},
		{"argon2id version 16", strings.Replace(a2("m=64,t=1,p=1"), "v=19", "v=16", 1), ErrMalformedHash},
		{"argon2id no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"argon2id params out of order", a2("t=1,m=64,p=1"), ErrMalformedHash},
		{"argon2id extra param", a2("m=64,t=1,p=1,keyid=1"), ErrMalformedHash},
		{"argon2id leading zero", a2("m=064,t=1,p=1"), ErrMalformedHash},
		{"argon2id plus sign", a2("m=+64,t=1,p=1"), ErrMalformedHash},
		{"argon2id hex", a2("m=0x40,t=1,p=1"), ErrMalformedHash},
		{"argon2id 11 digits", a2("m=10000000000,t=1,p=1"), ErrMalformedHash},
		{"argon2id trailing field", a2("m=64,t=1,p=1") + "$", ErrMalformedHash},
		{"argon2id trailing newline", a2("m=64,t=1,p=1") + "\n", ErrMalformedHash},
		{"argon2id newline in key", a2("m=64,t=1,p=1")[:60] + "\n" + a2("m=64,t=1,p=1")[60:], ErrMalformedHash},
		{"argon2id padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key, ErrMalformedHash},
		{"argon2id non-canonical base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt[:21] + "B$" + key, ErrMalformedHash},
		{"argon2id url-safe base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("_", 43), ErrMalformedHash},
		{"argon2id salt 4 bytes", "$argon2id$v=19$m=64,t=1,p=1$AAAAAA$" + key, ErrMalformedHash},
		{"argon2id key 8 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAAAAA", ErrMalformedHash},
		{"argon2id key 65 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + base64.RawStdEncoding.EncodeToString(make([]byte, 65)), ErrMalformedHash},
		// argon2id cost limits: refused before any work is done
		{"argon2id m above cap", a2("m=262145,t=1,p=1"), ErrMalformedHash},
		{"argon2id m 4 GiB", a2("m=4194304,t=1,p=1"), ErrMalformedHash},
		{"argon2id t above cap", a2("m=64,t=11,p=1"), ErrMalformedHash},
		{"argon2id p above cap", a2("m=1024,t=1,p=17"), ErrMalformedHash},
		{"argon2id m below 8p", a2("m=15,t=1,p=2"), ErrMalformedHash},
		{"argon2id t zero", a2("m=64,t=0,p=1"), ErrMalformedHash},
		{"argon2id p zero", a2("m=64,t=1,p=0"), ErrMalformedHash},
		// bcrypt
		{"bcrypt baseline parses", bc, nil},
		{"bcrypt truncated", bc[:59], ErrMalformedHash},
		{"bcrypt cost 15", bc[:4] + "15" + bc[6:], ErrMalformedHash},
		{"bcrypt cost 31", bc[:4] + "31" + bc[6:], ErrMalformedHash},
		{"bcrypt cost 03", bc[:4] + "03" + bc[6:], ErrMalformedHash},
		{"bcrypt cost not a number", bc[:4] + "1x" + bc[6:], ErrMalformedHash},
		{"bcrypt missing $ after cost", bc[:6] + "." + bc[7:], ErrMalformedHash},
		{"bcrypt bad character in hash", bc[:59] + "+", ErrMalformedHash},
		// scrypt, pbkdf2 and Django are in schemes_test.go; unknown schemes:
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key, ErrUnknownScheme},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key, ErrUnknownScheme},
		{"bcrypt $2x$", "$2x$" + bc[4:], ErrUnknownScheme},
		{"bcrypt $2$", "$2$" + bc[4:], ErrUnknownScheme},
		{"md5-crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", ErrUnknownScheme},
		{"sha512-crypt", "$6$salt$hash", ErrUnknownScheme},
		{"ldap ssha", "{SSHA}aGFzaHNhbHQ=", ErrUnknownScheme},
		{"plaintext with spaces", "my old password", ErrUnknownScheme},
		{"empty", "", ErrUnknownScheme},
		{"case matters", "$ARGON2ID$v=19$m=64,t=1,p=1$" + salt + "$" + key, ErrUnknownScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseHash(tt.encoded)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("parseHash: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("parseHash error = %v, want %v", err, tt.want)
			}
			// Verify reports the same, as an error and not a mismatch.
			ok, rehash, err := h.Verify(ctx, tt.encoded, "pw")
			if ok || rehash || !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, %v, %v; want false, false, %v", ok, rehash, err, tt.want)
			}
		})
	}
}

func TestErrorsDoNotQuoteTheHash(t *testing.T) {
	// A "hash" may be a plaintext password that a legacy system stored.
	for _, secret := range []string{"$argon2id$v=19$m=64,t=1,p=1$hunter2hunter2$hunter2", "pbkdf2_sha256$12$hunter2$hunter2", "hunter2"} {
		_, err := parseHash(secret)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parseHash(%q) error = %v; want an error not quoting the input", secret, err)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	h := newTestHasher(t, Params{Memory: 64, Iterations: 2, Parallelism: 2}, 2)
	ctx := t.Context()
	salt16 := []byte("0123456789abcdef")
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("pw"), 4)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, encoded string
		want          bool
	}{
		{"same params", phcArgon2id("pw", salt16, 64, 2, 2, 32), false},
		{"stronger params", phcArgon2id("pw", salt16, 128, 3, 4, 32), false},
		{"lower memory", phcArgon2id("pw", salt16, 32, 2, 2, 32), true},
		{"fewer iterations", phcArgon2id("pw", salt16, 64, 1, 2, 32), true},
		{"lower parallelism", phcArgon2id("pw", salt16, 64, 2, 1, 32), true},
		{"short salt", phcArgon2id("pw", salt16[:8], 64, 2, 2, 32), true},
		{"short key", phcArgon2id("pw", salt16, 64, 2, 2, 16), true},
		{"bcrypt", string(bcryptHash), true},
		{"scrypt", phcScrypt("pw", salt16, 4, 1, 1, 32), true},
		{"pbkdf2-sha256", phcPBKDF2("pw", salt16, 10, 32), true},
		{"django", djangoPBKDF2("pw", "seasalt", 10), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.encoded, "pw")
			if !ok || err != nil {
				t.Fatalf("Verify = %v, %v; want true, nil", ok, err)
			}
			if rehash != tt.want {
				t.Errorf("needsRehash = %v, want %v", rehash, tt.want)
			}
			// needsRehash is only ever reported with a match.
			if ok, rehash, err := h.Verify(ctx, tt.encoded, "wrong"); ok || rehash || err != nil {
				t.Errorf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestContextCancellation(t *testing.T) {
	h := newTestHasher(t, cheap, 1)
	encoded, err := h.Hash(t.Context(), "pw")
	if err != nil {
		t.Fatal(err)
	}

	calls := map[string]func(context.Context) error{
		"Hash": func(ctx context.Context) error {
			_, err := h.Hash(ctx, "pw")
			return err
		},
		"Verify": func(ctx context.Context) error {
			ok, _, err := h.Verify(ctx, encoded, "pw")
			if ok {
				return errors.New("ok = true")
			}
			return err
		},
		"DummyVerify": func(ctx context.Context) error { return h.DummyVerify(ctx, "pw") },
		"NotReused": func(ctx context.Context) error {
			return h.NotReused(ctx, []string{encoded}, "pw")
		},
	}

	for name, call := range calls {
		t.Run(name+" waiting", func(t *testing.T) {
			h.slots <- struct{}{} // the one slot is busy
			defer func() { <-h.slots }()

			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- call(ctx) }()
			select {
			case err := <-done:
				t.Fatalf("returned %v while the slot was busy", err)
			case <-time.After(20 * time.Millisecond):
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("error = %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("still waiting after cancel")
			}
		})

		t.Run(name+" deadline", func(t *testing.T) {
			h.slots <- struct{}{}
			defer func() { <-h.slots }()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
			defer cancel()
			if err := call(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %v, want context.DeadlineExceeded", err)
			}
		})

		t.Run(name+" cancelled before, slot free", func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := call(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", err)
			}
		})
	}

	// Every call gave its slot back.
	if n := len(h.slots); n != 0 {
		t.Errorf("%d slots still held", n)
	}
	if _, err := h.Hash(t.Context(), "pw"); err != nil {
		t.Errorf("Hash after the cancellations: %v", err)
	}
}

func TestConcurrencyBound(t *testing.T) {
	// With one slot, a second Verify waits until the first is done; with the
	// slot released, both finish.
	h := newTestHasher(t, cheap, 1)
	encoded, err := h.Hash(t.Context(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	h.slots <- struct{}{}
	done := make(chan bool, 4)
	for range 4 {
		go func() {
			ok, _, _ := h.Verify(t.Context(), encoded, "pw")
			done <- ok
		}()
	}
	select {
	case <-done:
		t.Fatal("a Verify ran while the only slot was held")
	case <-time.After(20 * time.Millisecond):
	}
	<-h.slots
	for range 4 {
		if !<-done {
			t.Error("Verify = false")
		}
	}
}

func TestDummyVerify(t *testing.T) {
	h := newTestHasher(t, cheap, 1)
	if err := h.DummyVerify(t.Context(), "anything"); err != nil {
		t.Fatal(err)
	}
	if len(h.slots) != 0 {
		t.Error("DummyVerify kept its slot")
	}
}

func TestDummyVerifyTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	// Loose bounds: the point is that DummyVerify does an argon2id
	// computation at the hasher's parameters, not a cheap shortcut.
	params := Params{Memory: 4096, Iterations: 2, Parallelism: 1}
	h := newTestHasher(t, params, 1)
	ctx := t.Context()
	encoded, err := h.Hash(ctx, "real password")
	if err != nil {
		t.Fatal(err)
	}
	// The memory is seen exactly: each computation allocates its blocks.
	allocated := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	if got := allocated(func() { _ = h.DummyVerify(ctx, "wrong password") }); got < uint64(params.Memory)*1024 {
		t.Errorf("DummyVerify allocated %d bytes, want at least the hasher's %d KiB", got, params.Memory)
	}
	// The time only roughly: interleaved, the fastest of each kept, as
	// interference only ever adds time; and on a machine busy enough to
	// skew one round (other test binaries, a GC), the next rounds decide.
	timed := func(f func()) time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
	var ratio float64
	for round := range 5 {
		real, dummy := time.Hour, time.Hour
		for range 9 {
			real = min(real, timed(func() { _, _, _ = h.Verify(ctx, encoded, "wrong password") }))
			dummy = min(dummy, timed(func() { _ = h.DummyVerify(ctx, "wrong password") }))
		}
		if ratio = float64(dummy) / float64(real); ratio >= 0.5 && ratio <= 2 {
			return
		}
		t.Logf("round %d: DummyVerify takes %v, Verify %v: ratio %.2f", round+1, dummy, real, ratio)
	}
	t.Errorf("DummyVerify's time is not about Verify's in any round (last ratio %.2f)", ratio)
}

func TestNotReused(t *testing.T) {
	h := newTestHasher(t, cheap, 2)
	ctx := t.Context()
	old1, _ := h.Hash(ctx, "Old-password-1")
	old2, err := bcrypt.GenerateFromPassword([]byte("Old-password-2"), 4)
	if err != nil {
		t.Fatal(err)
	}
	old3 := djangoPBKDF2("Old-password-3", "seasalt", 10)
	history := []string{old1, string(old2), old3}

	tests := []struct {
		name     string
		history  []string
		password string
		want     bool
		wantErr  error
	}{
		{"argon2id entry", history, "Old-password-1", true, nil},
		{"bcrypt entry", history, "Old-password-2", true, nil},
		{"django entry", history, "Old-password-3", true, nil},
		{"new password", history, "New-password-4", false, nil},
		{"empty history", nil, "Old-password-1", false, nil},
		{"corrupt entry", []string{old1, "$argon2id$garbage"}, "New-password-4", false, ErrMalformedHash},
		{"unknown entry", []string{"$1$md5$x"}, "New-password-4", false, ErrUnknownScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.NotReused(ctx, tt.history, tt.password)
			var policy *PolicyError
			reused := errors.As(err, &policy) && slices.Equal(policy.Rules, []Rule{RuleReused})
			if reused != tt.want || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || (!tt.want && tt.wantErr == nil && err != nil) {
				t.Errorf("NotReused = %v; want reused %v, error %v", err, tt.want, tt.wantErr)
			}
		})
	}
}

// CheckHash says which part of a malformed hash is wrong as a field of its
// error (an importer reports it per line), in the scheme's terms and never
// quoting the hash; the error is still ErrMalformedHash, and keeps what a
// decoder said.
func TestCheckHashNamesThePart(t *testing.T) {
	tests := []struct {
		name, hash, part string
	}{
		{"a space", "$2b$10$ abc", "contains whitespace or non-ASCII bytes"},
		{"bcrypt too short", "$2b$10$abc", "bcrypt: length 10, want 60"},
		{"argon2id fields", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA", "argon2id: want 5 $-separated fields, have 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckHash(tt.hash)
			var m *MalformedHashError
			if !errors.As(err, &m) || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("CheckHash = %v, want a *MalformedHashError", err)
			}
			if m.Part != tt.part {
				t.Errorf("Part = %q, want %q", m.Part, tt.part)
			}
			if err.Error() != ErrMalformedHash.Error()+": "+tt.part {
				t.Errorf("Error = %q", err)
			}
		})
	}
	err := CheckHash("pbkdf2_sha256$600000$seasalt$!!!!")
	var corrupt base64.CorruptInputError
	if !errors.As(err, &corrupt) {
		t.Errorf("the key's decoding error is lost: %v", err)
	}
}
