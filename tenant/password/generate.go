package password

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// Character classes of temporary passwords: Check's classes minus the
// characters people misread or mistype when copying from a mail: 0 O o, 1 l I
// |, the quotes ` ' " and the space. Symbols are a few that no mail client,
// shell or markup language treats specially and that cannot be mistaken for
// punctuation around the password (no brackets, slashes, dots or commas).
const (
	tempUpper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	tempLower   = "abcdefghijkmnpqrstuvwxyz"
	tempDigits  = "23456789"
	tempSymbols = "!#%*+-=?@"
	tempAll     = tempUpper + tempLower + tempDigits + tempSymbols
)

// minTemporaryLength gives about 84 bits over tempAll's 65 characters (14 ×
// log2 65), even when the policy allows shorter passwords.
const minTemporaryLength = 14

// GenerateTemporary returns a random temporary password that satisfies p:
// max(p.MinimumLength, 14) characters with no look-alike characters, at
// least one of each class p requires, every other character drawn uniformly
// from all classes, and positions shuffled. rng is the randomness
// (crypto/rand.Reader when nil; tests may pass a seeded reader). It fails only
// when p is invalid or rng fails.
func GenerateTemporary(p Policy, rng io.Reader) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	if rng == nil {
		rng = rand.Reader
	}
	s := sampler{r: rng}

	n := max(p.MinimumLength, minTemporaryLength)
	out := make([]byte, 0, n)
	// One character from each required class first, so the result passes
	// Check without retries; the shuffle below hides where they are.
	for _, class := range []struct {
		required bool
		chars    string
	}{
		{p.RequireUppercase, tempUpper},
		{p.RequireLowercase, tempLower},
		{p.RequireNumbers, tempDigits},
		{p.RequireSymbols, tempSymbols},
	} {
		if !class.required {
			continue
		}
		c, err := s.pick(class.chars)
		if err != nil {
			return "", err
		}
		out = append(out, c)
	}
	for len(out) < n {
		c, err := s.pick(tempAll)
		if err != nil {
			return "", err
		}
		out = append(out, c)
	}

	// Fisher–Yates, with the same unbiased draws.
	for i := len(out) - 1; i > 0; i-- {
		j, err := s.intn(i + 1)
		if err != nil {
			return "", err
		}
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

// sampler draws unbiased small integers from a byte stream.
type sampler struct {
	r     io.Reader
	block [64]byte // read in blocks: crypto/rand costs a system call per read
	rest  []byte   // the unread part of block
}

// maxRejections bounds the draws for one value. An honest source is
// rejected less than half the time, so 128 rejections in a row (odds below
// 2^-128) means a broken reader, e.g. one stuck at 0xff, not bad luck.
const maxRejections = 128

var errStuckRandom = errors.New("password: random source keeps returning unusable bytes")

// intn returns a uniform integer in [0, n) for 1 ≤ n ≤ 256. Bytes at or
// above the largest multiple of n are rejected instead of reduced modulo n,
// which would favour the low values.
func (s *sampler) intn(n int) (int, error) {
	limit := 256 - 256%n
	for range maxRejections {
		b, err := s.byte()
		if err != nil {
			return 0, err
		}
		if int(b) < limit {
			return int(b) % n, nil
		}
	}
	return 0, errStuckRandom
}

func (s *sampler) pick(chars string) (byte, error) {
	i, err := s.intn(len(chars))
	if err != nil {
		return 0, err
	}
	return chars[i], nil
}

func (s *sampler) byte() (byte, error) {
	if len(s.rest) == 0 {
		if _, err := io.ReadFull(s.r, s.block[:]); err != nil {
			return 0, fmt.Errorf("password: reading randomness: %w", err)
		}
		s.rest = s.block[:]
	}
	b := s.rest[0]
	s.rest = s.rest[1:]
	return b, nil
}
