package tenant

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// NewSigningKey generates a signing key for alg ("RS256" or "ES256") that is
// active from activeFrom. RSA keys are 2048 bits: what Cognito uses and what
// every relying party verifies quickly.
func NewSigningKey(alg string, now, activeFrom time.Time) (SigningKey, error) {
	var priv any
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return SigningKey{}, fmt.Errorf("%w: signing algorithm %q (use RS256 or ES256)", ErrInvalid, alg)
	}
	if err != nil {
		return SigningKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, fmt.Errorf("encode %s key: %w", alg, err)
	}
	return SigningKey{
		ID:         newKeyID(now),
		Alg:        alg,
		PrivateDER: der,
		CreatedAt:  now,
		ActiveFrom: activeFrom,
	}, nil
}

// newKeyID sorts by creation time, so the newest key is the last in a scan.
func newKeyID(now time.Time) string {
	var b [4]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return fmt.Sprintf("%x-%s", now.UTC().Unix(), hex.EncodeToString(b[:]))
}

// ActiveKey picks the key that signs now: the newest key already active.
func ActiveKey(keys []SigningKey, now time.Time) (SigningKey, bool) {
	var best SigningKey
	found := false
	for _, k := range keys {
		if k.ActiveFrom.After(now) || (!k.RetireAt.IsZero() && !k.RetireAt.After(now)) {
			continue
		}
		if !found || k.ActiveFrom.After(best.ActiveFrom) {
			best, found = k, true
		}
	}
	return best, found
}

// PublishedKeys are the keys relying parties may meet: every key not yet
// retired, including the next one that is published but not yet active.
func PublishedKeys(keys []SigningKey, now time.Time) []SigningKey {
	var out []SigningKey
	for _, k := range keys {
		if k.RetireAt.IsZero() || k.RetireAt.After(now) {
			out = append(out, k)
		}
	}
	return out
}
