package tenant

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
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

// maxSignedTokenTTL bounds the lifetime of the tokens a signing key signs
// (access and ID tokens; refresh tokens are opaque): a key that stopped
// signing keeps verifying for that long, then retires.
const maxSignedTokenTTL = 24 * time.Hour

// KeyRotation says how RotateSigningKey's new key takes over.
type KeyRotation struct {
	// Overlap is how long the new key is published before it signs, so
	// that relying parties that cache the JWKS for up to that long see it
	// before anything is signed with it.
	Overlap time.Duration
	// RetirePrevious withdraws every other key at once, for a key that may
	// have leaked: out of the JWKS, and tokens they signed no longer verify
	// here. It needs an Overlap of 0: the new key must sign at once.
	RetirePrevious bool
}

// RotateSigningKey publishes a new key that becomes active after
// r.Overlap. The key it replaces signs until then and verifies for the
// longest token lifetime after; a key published by an earlier rotation
// that would only take over later never signs. A key's retirement is never
// put off: several rotations in a row leave each key that signed published
// for its own day, no longer. With r.RetirePrevious every other key
// retires now instead.
func (s *Service) RotateSigningKey(ctx context.Context, tenantID string, r KeyRotation) (SigningKey, error) {
	if r.RetirePrevious && r.Overlap != 0 {
		return SigningKey{}, fmt.Errorf("%w: retiring the previous keys at once needs a new key that signs at once, with no overlap", ErrInvalid)
	}
	now := s.Time()
	var next SigningKey
	err := s.Store.Update(ctx, func(tx Tx) error {
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		keys, err := SigningKeys(tx, tenantID)
		if err != nil {
			return err
		}
		next, err = NewSigningKey(t.Settings.SigningAlg, now, now.Add(r.Overlap))
		if err != nil {
			return err
		}
		current, ok := ActiveKey(keys, now)
		var retired []string
		for _, k := range keys {
			if !k.RetireAt.IsZero() && !k.RetireAt.After(now) {
				continue // retired already
			}
			// pending: published by an earlier rotation, due to sign later.
			pending := k.ActiveFrom.After(now) && (k.RetireAt.IsZero() || k.RetireAt.After(k.ActiveFrom))
			var retireAt time.Time
			switch {
			case r.RetirePrevious:
				retireAt = now
				retired = append(retired, k.ID)
			case pending && !k.ActiveFrom.Before(next.ActiveFrom):
				// It would only take over after the next one: superseded
				// before it signs, it retires as the next one takes over.
				retireAt = next.ActiveFrom
			case (ok && k.ID == current.ID) || pending:
				// It signs until the next one takes over, and verifies for
				// the longest token lifetime after that. When a key an
				// earlier rotation published takes over sooner, the
				// retirement set then stands (below).
				retireAt = next.ActiveFrom.Add(maxSignedTokenTTL)
			case k.RetireAt.IsZero() && !k.ActiveFrom.After(now):
				// Older keys, no longer signing, retire.
				retireAt = next.ActiveFrom
			default:
				continue
			}
			if !k.RetireAt.IsZero() && !retireAt.Before(k.RetireAt) {
				continue // retiring sooner already
			}
			k.RetireAt = retireAt
			if err := s.storeSigningKey(tx, tenantID, k); err != nil {
				return err
			}
		}
		details := map[string]string{"kid": next.ID}
		if len(retired) > 0 {
			details["retired"] = strings.Join(retired, ",")
		}
		if err := s.audit(ctx, tx, tenantID, AuditKeyRotate, AuditTarget{Kind: TargetTenant, ID: tenantID}, details); err != nil {
			return err
		}
		return s.storeSigningKey(tx, tenantID, next)
	})
	if err != nil {
		return SigningKey{}, err
	}
	s.changed(ctx, tenantID)
	return next, nil
}
