package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/crypto/argon2"
)

// Errors of hashing and verification that callers branch on, with errors.Is:
// every error a Hasher returns wraps one of them or the context's error.
var (
	// ErrMalformedHash means a stored hash could not be parsed, or names
	// parameters beyond this package's cost limits.
	ErrMalformedHash = errors.New("password: malformed hash")
	// ErrUnknownScheme means a stored hash is in no format this package reads.
	ErrUnknownScheme = errors.New("password: unknown hash scheme")
	// ErrInvalidParams means argon2id parameters given to NewHasher are
	// outside what Verify would accept.
	ErrInvalidParams = errors.New("password: invalid argon2id parameters")
)

// MalformedHashError is an ErrMalformedHash that says which part of the
// hash is wrong, for callers that report it (an importer's line): the
// scheme and the part, in this package's English, never the hash itself.
type MalformedHashError struct {
	Part  string // as "bcrypt: cost 31 is above 14"
	cause error  // what a decoder of the part said, if anything
}

// malformed is a *MalformedHashError whose Part is format filled with
// args; a %w among them is its cause.
func malformed(format string, args ...any) error {
	part := fmt.Errorf(format, args...)
	return &MalformedHashError{Part: part.Error(), cause: errors.Unwrap(part)}
}

func (e *MalformedHashError) Error() string { return ErrMalformedHash.Error() + ": " + e.Part }

// Unwrap makes errors.Is(err, ErrMalformedHash) hold, and the decoder's
// error reachable.
func (e *MalformedHashError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrMalformedHash}
	}
	return []error{ErrMalformedHash, e.cause}
}

// Sizes of what Hash writes.
const (
	saltLen = 16
	keyLen  = 32
)

// Limits on the argon2id parameters of a stored hash (and of a Hasher, so
// that every hash it writes can be read back).
const (
	maxArgon2Memory  = 256 * 1024 // KiB
	maxArgon2Time    = 10
	maxArgon2Threads = 16
	minArgon2Salt    = 8 // RFC 9106 §3.1
	minKeyLen        = 16
	maxKeyLen        = 64
	maxSaltLen       = 64
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory      uint32 // m, in KiB
	Iterations  uint32 // t, passes over memory
	Parallelism uint8  // p, lanes (and goroutines)
}

// DefaultParams are OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane,
// about 30 ms on a current server core.
func DefaultParams() Params {
	return Params{Memory: 19456, Iterations: 2, Parallelism: 1}
}

// withDefaults fills each zero field from DefaultParams, so Params{} means
// "the defaults" and Params{Memory: 47104, Iterations: 1} needs no p.
func (p Params) withDefaults() Params {
	d := DefaultParams()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Iterations == 0 {
		p.Iterations = d.Iterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = d.Parallelism
	}
	return p
}

// validate checks p against the limits Verify applies to stored hashes. It
// deliberately has no lower bound beyond argon2's own (m ≥ 8·p), so tests
// can use cheap parameters; production should use DefaultParams or more.
func (p Params) validate() error {
	var errs []error
	if p.Memory > maxArgon2Memory {
		errs = append(errs, fmt.Errorf("%w: memory %d KiB is above %d", ErrInvalidParams, p.Memory, maxArgon2Memory))
	}
	if p.Memory < 8*uint32(p.Parallelism) {
		errs = append(errs, fmt.Errorf("%w: memory %d KiB is below 8 KiB per lane", ErrInvalidParams, p.Memory))
	}
	if p.Iterations > maxArgon2Time {
		errs = append(errs, fmt.Errorf("%w: iterations %d is above %d", ErrInvalidParams, p.Iterations, maxArgon2Time))
	}
	if p.Parallelism > maxArgon2Threads {
		errs = append(errs, fmt.Errorf("%w: parallelism %d is above %d", ErrInvalidParams, p.Parallelism, maxArgon2Threads))
	}
	return errors.Join(errs...)
}

// Hasher hashes passwords with argon2id and verifies stored hashes of any
// supported scheme. It is safe for concurrent use. Build it with NewHasher:
// the zero Hasher has no slots and would wait forever.
type Hasher struct {
	params Params
	// slots is a counting semaphore: each hash computation holds one slot, so
	// at most cap(slots) computations (each holding up to m KiB) run at once
	// and the rest wait, instead of a login storm exhausting memory.
	slots chan struct{}
}

// NewHasher returns a Hasher that writes argon2id hashes with params (zero
// fields take DefaultParams' values) and runs at most maxConcurrent hash
// computations at a time (maxConcurrent ≤ 0 means runtime.NumCPU()). It fails
// only when params exceed the limits Verify puts on stored hashes, since such
// a Hasher would write hashes it could not read back.
func NewHasher(params Params, maxConcurrent int) (*Hasher, error) {
	params = params.withDefaults()
	if err := params.validate(); err != nil {
		return nil, err
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	return &Hasher{params: params, slots: make(chan struct{}, maxConcurrent)}, nil
}

// Params returns the argon2id parameters h writes.
func (h *Hasher) Params() Params { return h.params }

// withSlot runs compute while holding a computation slot, or gives up with
// the context's error if ctx ends while waiting.
func (h *Hasher) withSlot(ctx context.Context, compute func()) error {
	// Checked first because select picks at random among ready cases: a
	// cancelled request must not start a computation just because a slot
	// happened to be free.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("password: %w", err)
	}
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("password: waiting for a hashing slot: %w", ctx.Err())
	}
	defer func() { <-h.slots }()
	compute()
	return nil
}

// Hash returns the argon2id PHC string of password with a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	// Salts come from crypto/rand, not an injected reader: nothing needs them
	// to be reproducible, and a weak reader would silently weaken every hash.
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never returns an error

	p := h.params
	var key []byte
	err := h.withSlot(ctx, func() {
		key = argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, keyLen)
	})
	if err != nil {
		return "", err
	}
	return encodeArgon2id(p, salt, key), nil
}

// Verify reports whether password matches the stored hash encoded.
//
// A wrong password is ok == false with a nil error. err is non-nil only when
// the hash cannot be checked: it wraps ErrMalformedHash, ErrUnknownScheme or
// the context's error (or, in FIPS 140-only mode, crypto/pbkdf2's refusal
// of a short salt). needsRehash is true when the password matched but the
// hash is not argon2id or has weaker parameters than h writes; the caller
// should then store h.Hash(password) in the same update that records the
// sign-in. It is false whenever ok is false.
//
// Against a bcrypt hash, a password longer than 72 bytes, or with a NUL
// byte, never matches (see bcryptHash.matches).
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok bool, needsRehash bool, err error) {
	stored, err := parseHash(encoded)
	if err != nil {
		return false, false, err
	}
	var matchErr error
	if err := h.withSlot(ctx, func() { ok, matchErr = stored.matches(password) }); err != nil {
		return false, false, err
	}
	if matchErr != nil || !ok {
		return false, false, matchErr
	}
	return true, stored.weakerThan(h.params), nil
}

// CheckHash reports whether encoded is a hash Verify can check: nil,
// ErrUnknownScheme, or a *MalformedHashError that names the wrong part
// (never the hash itself). It only parses, so it costs microseconds
// whatever the scheme's work factor: importers check every line with it.
func CheckHash(encoded string) error {
	_, err := parseHash(encoded)
	return err
}

// DummyVerify does the work of verifying a password against an argon2id hash
// with h's parameters and throws the result away. Call it when the user does
// not exist, so that the response takes as long as for a wrong password and
// its timing does not reveal which usernames exist. (Users whose hash is
// still bcrypt or another imported scheme take that scheme's time until their
// next sign-in migrates them.) It returns only the context's error.
func (h *Hasher) DummyVerify(ctx context.Context, password string) error {
	var salt [saltLen]byte
	var want [keyLen]byte
	p := h.params
	return h.withSlot(ctx, func() {
		key := argon2.IDKey([]byte(password), salt[:], p.Iterations, p.Memory, p.Parallelism, keyLen)
		// Compare as Verify does, so the two paths differ in nothing measurable.
		_ = subtle.ConstantTimeCompare(key, want[:])
	})
}

// NotReused refuses password, with &PolicyError{Rules: []Rule{RuleReused}},
// when it matches any of history, the user's previous password hashes (the
// caller passes the Policy.HistorySize most recent ones). Each entry costs
// a full verification: a history of 24 takes about 0.8 s at the default
// parameters.
//
// An entry that cannot be checked is an error rather than skipped: a history
// check that silently passes on corrupt data would not be a check.
func (h *Hasher) NotReused(ctx context.Context, history []string, password string) error {
	for i, encoded := range history {
		ok, _, err := h.Verify(ctx, encoded, password)
		if err != nil {
			return fmt.Errorf("password: history entry %d: %w", i, err)
		}
		if ok {
			return &PolicyError{Rules: []Rule{RuleReused}}
		}
	}
	return nil
}
