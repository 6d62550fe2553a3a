package password

import (
	"bytes"
	"crypto/rand"
	"errors"
	mathrand "math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

const lookAlikes = "0Oo1lI|`'\" "

func TestTemporaryAlphabet(t *testing.T) {
	if strings.ContainsAny(tempAll, lookAlikes) {
		t.Errorf("alphabet contains a look-alike")
	}
	seen := map[rune]bool{}
	for _, c := range tempAll {
		if seen[c] {
			t.Errorf("%q appears twice", c)
		}
		seen[c] = true
	}
	for _, c := range tempSymbols {
		if !strings.ContainsRune(Symbols, c) {
			t.Errorf("%q is not one of Cognito's symbols", c)
		}
	}
	// Nothing that reads as punctuation around the password or means
	// something to markup, shells or URLs.
	if strings.ContainsAny(tempSymbols, `<>&/\[](){}.,;:'"$^~_`) {
		t.Errorf("temporary symbols %q include a troublesome character", tempSymbols)
	}
}

func TestGenerateTemporaryProperties(t *testing.T) {
	policies := []struct {
		name string
		p    Policy
		n    int // passwords to generate
	}{
		{"default", DefaultPolicy(), 10_000},
		{"long", Policy{MinimumLength: 99, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true}, 1000},
		{"numbers only", Policy{MinimumLength: 6, RequireNumbers: true}, 1000},
		{"symbols only", Policy{MinimumLength: 6, RequireSymbols: true}, 1000},
		{"uppercase only", Policy{MinimumLength: 20, RequireUppercase: true}, 1000},
		{"nothing required", Policy{MinimumLength: 6}, 1000},
	}
	for _, tt := range policies {
		t.Run(tt.name, func(t *testing.T) {
			wantLen := max(tt.p.MinimumLength, 14)
			counts := map[rune]int{}
			seen := map[string]bool{}
			for range tt.n {
				pw, err := GenerateTemporary(tt.p, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := tt.p.Check(pw); err != nil {
					t.Fatalf("%q: %v", pw, err)
				}
				if len(pw) != wantLen {
					t.Fatalf("%q has length %d, want %d", pw, len(pw), wantLen)
				}
				if strings.ContainsAny(pw, lookAlikes) {
					t.Fatalf("%q contains a look-alike", pw)
				}
				if seen[pw] {
					t.Fatalf("%q generated twice", pw)
				}
				seen[pw] = true
				for _, c := range pw {
					counts[c]++
				}
			}
			// Every character of the alphabet turns up (the filler draws from
			// all of it), and none is wildly over-represented.
			total := tt.n * wantLen
			for _, c := range tempAll {
				if counts[c] == 0 {
					t.Errorf("%q never appeared in %d characters", c, total)
				}
				if expect := total / len(tempAll); counts[c] > 3*expect {
					t.Errorf("%q appeared %d times, expected about %d", c, counts[c], expect)
				}
			}
		})
	}
}

func TestGenerateTemporaryDeterministic(t *testing.T) {
	seed := [32]byte{1}
	a, err := GenerateTemporary(DefaultPolicy(), mathrand.NewChaCha8(seed))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateTemporary(DefaultPolicy(), mathrand.NewChaCha8(seed))
	c, _ := GenerateTemporary(DefaultPolicy(), mathrand.NewChaCha8([32]byte{2}))
	if a != b {
		t.Errorf("same seed gave %q and %q", a, b)
	}
	if a == c {
		t.Errorf("different seeds gave %q twice", a)
	}
}

func TestGenerateTemporaryErrors(t *testing.T) {
	if _, err := GenerateTemporary(Policy{MinimumLength: 5}, rand.Reader); !errors.Is(err, ErrInvalidPolicy) {
		t.Errorf("invalid policy: error = %v, want ErrInvalidPolicy", err)
	}
	broken := errors.New("entropy pool on fire")
	if _, err := GenerateTemporary(DefaultPolicy(), iotest.ErrReader(broken)); !errors.Is(err, broken) {
		t.Errorf("failing reader: error = %v, want it wrapped", err)
	}
	if _, err := GenerateTemporary(DefaultPolicy(), iotest.HalfReader(strings.NewReader("short"))); err == nil {
		t.Error("exhausted reader: no error")
	}
	// A reader stuck at 0xff never yields an acceptable byte; the generator
	// must give up rather than spin.
	stuck := bytes.NewReader(bytes.Repeat([]byte{0xff}, 1<<16))
	if _, err := GenerateTemporary(DefaultPolicy(), stuck); !errors.Is(err, errStuckRandom) {
		t.Errorf("stuck reader: error = %v, want errStuckRandom", err)
	}
}

func TestSamplerUniform(t *testing.T) {
	// Byte values 0..255 exactly once each: rejection must give every
	// result of intn(n) the same count, which modulo alone would not.
	for _, n := range []int{3, 24, 84, 100, 256} {
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		s := sampler{r: bytes.NewReader(all)}
		counts := make([]int, n)
		for range 256 / n * n {
			v, err := s.intn(n)
			if err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			counts[v]++
		}
		for v, c := range counts {
			if c != 256/n {
				t.Errorf("n=%d: %d drawn %d times, want %d", n, v, c, 256/n)
			}
		}
	}
}
