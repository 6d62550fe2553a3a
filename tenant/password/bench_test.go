package password

import (
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// BenchmarkHashDefault and BenchmarkArgon2IDKeyRaw do the same argon2id
// work; the difference is the Hasher's overhead (salt, semaphore, encoding).

func BenchmarkHashDefault(b *testing.B) {
	h := newTestHasher(b, Params{}, 1)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkArgon2IDKeyRaw(b *testing.B) {
	p := DefaultParams()
	salt := make([]byte, saltLen)
	b.ReportAllocs()
	for b.Loop() {
		argon2.IDKey([]byte("correct horse battery staple"), salt, p.Iterations, p.Memory, p.Parallelism, keyLen)
	}
}

func BenchmarkVerifyBcrypt10(b *testing.B) {
	h := newTestHasher(b, Params{}, 1)
	ctx := b.Context()
	encoded, err := bcrypt.GenerateFromPassword([]byte("correct horse battery staple"), 10)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, string(encoded), "correct horse battery staple"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
