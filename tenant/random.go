package tenant

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// NewUUID returns a random (version 4) UUID, the form of Cognito's sub.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return FormatUUID(b)
}

// FormatUUID writes a UUID's 16 bytes in its usual text form,
// 8-4-4-4-12 hexadecimal digits. The bytes' version and variant bits are
// the caller's to set.
func FormatUUID(b [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NewSecret returns n random bytes as unpadded base64url: session cookies,
// client secrets, codes and refresh tokens. 32 bytes give 256 bits.
func NewSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is how high-entropy machine secrets (client secrets, session and
// refresh tokens) are stored: a slow KDF adds nothing to 256 random bits and
// would cost every token request ~30 ms.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewClientID returns a client ID in Cognito's shape: 26 lowercase
// alphanumerics.
func NewClientID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var out [26]byte
	var b [1]byte
	for i := 0; i < len(out); {
		_, _ = rand.Read(b[:])
		if int(b[0]) >= 256-256%len(alphabet) {
			continue // reject to avoid modulo bias
		}
		out[i] = alphabet[int(b[0])%len(alphabet)]
		i++
	}
	return string(out[:])
}
