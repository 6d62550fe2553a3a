package tenant

import (
	"context"
	"errors"
	"fmt"
)

// Secrets at rest (docs/secrets.md). A tenant's token-signing private keys
// and its legacy pool's credentials are stored sealed, so that a copy of the
// data file alone neither forges tokens nor reaches the old user pool.
//
// The sealing itself is mfa.Sealer's (AES-256-GCM under a key derived from
// the server key); the tenant package sees it through Sealer so that it
// needs neither the key nor the cipher. Each kind of secret has its own
// derived key, and associated data that binds a sealed value to its tenant
// (and key, or field): a value copied onto another record does not open.

// Sealer seals and opens small secrets; *mfa.Sealer is the one Cognate uses.
type Sealer interface {
	// Seal encrypts plaintext, authenticating associatedData with it.
	Seal(plaintext, associatedData []byte) (string, error)
	// Open decrypts a value made by Seal with the same associatedData,
	// under the current or a previous key.
	Open(sealed string, associatedData []byte) ([]byte, error)
	// NeedsReseal reports whether sealed was made under a previous key.
	NeedsReseal(sealed string) bool
}

// ErrSealerMissing means a record holds a sealed secret and there is no
// Sealer to open it with: a wiring mistake, never a reason to go on without.
var ErrSealerMissing = errors.New("the secret is sealed and no sealer is configured")

// signingKeyAD binds a sealed private key to its tenant and key ID.
func signingKeyAD(tenantID, keyID string) []byte {
	return []byte("cognate signing key\x00" + tenantID + "\x00" + keyID)
}

// legacySecretAD binds a sealed legacy pool secret to its tenant and to the
// field it belongs in, so the client secret cannot stand in for the webhook
// secret either.
func legacySecretAD(tenantID, field string) []byte {
	return []byte("cognate legacy pool\x00" + tenantID + "\x00" + field)
}

// SealSigningKey returns k with its private key sealed for tenantID and the
// clear DER dropped. A key already sealed is returned as it is; a nil sealer
// leaves the key in clear, as stores without a server key always had it.
func SealSigningKey(s Sealer, tenantID string, k SigningKey) (SigningKey, error) {
	if s == nil || len(k.PrivateDER) == 0 {
		return k, nil
	}
	sealed, err := s.Seal(k.PrivateDER, signingKeyAD(tenantID, k.ID))
	if err != nil {
		return SigningKey{}, fmt.Errorf("tenant %q: seal signing key %s: %w", tenantID, k.ID, err)
	}
	k.SealedPrivate, k.PrivateDER = sealed, nil
	return k, nil
}

// OpenSigningKey returns k's PKCS #8 private key: opened when it is sealed,
// as stored when an older version wrote it in clear. The error names the
// tenant and the key, and says what to check: a key that does not open is
// most likely a data file started with another server key.
func OpenSigningKey(s Sealer, tenantID string, k SigningKey) ([]byte, error) {
	if k.SealedPrivate == "" {
		if len(k.PrivateDER) == 0 {
			// As a version from before sealing leaves a sealed key it
			// rewrites (a key rotation does): without the sealed_private
			// it does not know. The private key is lost.
			return nil, fmt.Errorf("tenant %q: signing key %s has no private key (a version of cognate from before sealing rewrote it, leaving out its sealed private key)", tenantID, k.ID)
		}
		return k.PrivateDER, nil
	}
	if s == nil {
		return nil, fmt.Errorf("tenant %q: signing key %s: %w", tenantID, k.ID, ErrSealerMissing)
	}
	der, err := s.Open(k.SealedPrivate, signingKeyAD(tenantID, k.ID))
	if err != nil {
		return nil, fmt.Errorf("tenant %q: signing key %s does not open with the server key (is secret_key the one this data file was written with?): %w", tenantID, k.ID, err)
	}
	return der, nil
}

// signingKeyNeedsSeal reports whether k should be written again: it is in
// clear, or sealed under a previous server key.
func signingKeyNeedsSeal(s Sealer, k SigningKey) bool {
	if s == nil {
		return false
	}
	return len(k.PrivateDER) > 0 || k.SealedPrivate != "" && s.NeedsReseal(k.SealedPrivate)
}

// resealSigningKey opens k and seals it again under the current key.
func resealSigningKey(s Sealer, tenantID string, k SigningKey) (SigningKey, error) {
	der, err := OpenSigningKey(s, tenantID, k)
	if err != nil {
		return SigningKey{}, err
	}
	k.PrivateDER, k.SealedPrivate = der, ""
	return SealSigningKey(s, tenantID, k)
}

// legacySecrets are the secret fields of a legacy pool, by the name that
// goes into their associated data.
func legacySecrets(p *LegacyPool) map[string]*string {
	return map[string]*string{
		"client_secret":     &p.ClientSecret,
		"secret_access_key": &p.Admin.SecretAccessKey,
		"webhook_secret":    &p.WebhookSecret,
	}
}

// SealLegacyPool returns p with its secrets sealed for tenantID. A pool
// already sealed, or without secrets, is returned as it is; so is every
// pool when s is nil. A secret that is sealed already though p is not
// marked so is kept as it is (sealLegacyPool).
func SealLegacyPool(s Sealer, tenantID string, p LegacyPool) (LegacyPool, error) {
	p, _, err := sealLegacyPool(s, tenantID, p)
	return p, err
}

// sealLegacyPool is SealLegacyPool, which also says how many of p's
// secrets were sealed already.
//
// The flag, not the value's form, says whether a pool is sealed; but a
// version from before sealing, rewriting a tenant, drops the flag it does
// not know and keeps the sealed values. Sealing those again would make the
// sealed value the secret: the webhook would be signed with it, and
// migrating users refused. So a secret of an unmarked pool that opens, for
// this tenant and this field, is taken as sealed. That is no guess from its
// form: only a value sealed under the server key with the same associated
// data passes AES-GCM's authentication. One sealed under the previous
// server key, or sealed more than once, is sealed again, once, under the
// current one.
func sealLegacyPool(s Sealer, tenantID string, p LegacyPool) (_ LegacyPool, alreadySealed int, _ error) {
	if s == nil || p.SecretsSealed {
		return p, 0, nil
	}
	for field, secret := range legacySecrets(&p) {
		if *secret == "" {
			continue
		}
		// Only a pool with a secret is marked: one without stays the
		// zero value that means none.
		p.SecretsSealed = true
		ad := legacySecretAD(tenantID, field)
		// Opened as often as it opens: each rollback and start of a
		// version before this check sealed it once more.
		plain, layers := []byte(*secret), 0
		for {
			inner, err := s.Open(string(plain), ad)
			if err != nil {
				break
			}
			plain, layers = inner, layers+1
		}
		if layers > 0 {
			alreadySealed++
		}
		if layers == 1 && !s.NeedsReseal(*secret) {
			continue // sealed once, under the current key
		}
		sealed, err := s.Seal(plain, ad)
		if err != nil {
			return LegacyPool{}, 0, fmt.Errorf("tenant %q: seal the legacy pool's %s: %w", tenantID, field, err)
		}
		*secret = sealed
	}
	return p, alreadySealed, nil
}

// OpenLegacyPool returns p with its secrets in clear, ready to be used: opened
// when they are sealed, as they are when an older version stored them so.
func OpenLegacyPool(s Sealer, tenantID string, p LegacyPool) (LegacyPool, error) {
	if !p.SecretsSealed {
		return p, nil
	}
	if s == nil {
		return LegacyPool{}, fmt.Errorf("tenant %q: legacy pool: %w", tenantID, ErrSealerMissing)
	}
	for field, secret := range legacySecrets(&p) {
		if *secret == "" {
			continue
		}
		plain, err := s.Open(*secret, legacySecretAD(tenantID, field))
		if err != nil {
			return LegacyPool{}, fmt.Errorf("tenant %q: the legacy pool's %s does not open with the server key (is secret_key the one this data file was written with?): %w", tenantID, field, err)
		}
		*secret = string(plain)
	}
	p.SecretsSealed = false
	return p, nil
}

// legacyPoolNeedsSeal reports whether tenantID's pool p should be written
// again: it holds secrets in clear (or not marked sealed), sealed under a
// previous server key, or sealed twice.
func legacyPoolNeedsSeal(s Sealer, tenantID string, p LegacyPool) bool {
	if s == nil {
		return false
	}
	for field, secret := range legacySecrets(&p) {
		if *secret == "" {
			continue
		}
		if !p.SecretsSealed || s.NeedsReseal(*secret) || sealedTwice(s, legacySecretAD(tenantID, field), *secret) {
			return true
		}
	}
	return false
}

// sealedTwice reports whether sealed opens to a value that opens too: a
// sealed secret sealed again, as the start-up pass of versions before
// sealLegacyPool's check sealed what a version from before sealing had
// left unmarked.
func sealedTwice(s Sealer, associatedData []byte, sealed string) bool {
	inner, err := s.Open(sealed, associatedData)
	if err != nil {
		return false
	}
	_, err = s.Open(string(inner), associatedData)
	return err == nil
}

// SealReport says what SealStoredSecrets did.
type SealReport struct {
	// SigningKeys and LegacyPools count the records sealed (again).
	SigningKeys, LegacyPools int
	// LegacyPoolsAlreadySealed counts the legacy pools that held a sealed
	// secret not marked so, as a version from before sealing leaves it,
	// or a secret sealed twice, as a start-up pass of a version before
	// this check left it: marked as sealed, and sealed once. These are not
	// counted in LegacyPools.
	LegacyPoolsAlreadySealed int
	// Unopened names, by tenant and key or field and never by value, each
	// secret that does not open with the server key and was left as it
	// is; nil when there is none.
	Unopened error
}

// SealStoredSecrets seals what older versions stored in clear, and seals
// again under the current server key what a previous one sealed, for every
// tenant: the start-up pass of docs/secrets.md. After it, a data file holds
// no clear signing key or legacy secret, and the previous server key is no
// longer needed for them.
//
// A secret that does not open is left as it is and named in the report's
// Unopened; the other tenants are sealed all the same, each in a
// transaction of its own. The error is the store's.
func (s *Service) SealStoredSecrets(ctx context.Context) (SealReport, error) {
	var counts SealReport
	if s.KeySealer == nil && s.LegacySealer == nil {
		return counts, nil
	}
	slugs, err := tenantIDs(ctx, s.Store)
	if err != nil {
		return counts, fmt.Errorf("list tenants: %w", err)
	}
	// Found in one read, so a start-up with nothing to seal writes nothing:
	// a commit per tenant at every start would cost an fsync each.
	var due []string
	err = s.Store.View(ctx, func(tx Tx) error {
		for _, slug := range slugs {
			need, err := s.secretsNeedSeal(tx, slug)
			if err != nil {
				return err
			}
			if need {
				due = append(due, slug)
			}
		}
		return nil
	})
	if err != nil {
		return counts, fmt.Errorf("find secrets to seal: %w", err)
	}
	var problems []error
	for _, slug := range due {
		var keys, pools, poolsAlreadySealed int
		var tenantProblems []error
		err := s.Store.Update(ctx, func(tx Tx) error {
			keys, pools, poolsAlreadySealed, tenantProblems = 0, 0, 0, nil
			all, err := SigningKeys(tx, slug)
			if err != nil {
				return err
			}
			for _, k := range all {
				if !signingKeyNeedsSeal(s.KeySealer, k) {
					continue
				}
				sealed, err := resealSigningKey(s.KeySealer, slug, k)
				if err != nil {
					tenantProblems = append(tenantProblems, err)
					continue
				}
				if err := PutJSON(tx, CollKeys, slug, k.ID, sealed); err != nil {
					return err
				}
				keys++
			}
			// The record as stored, without the defaults GetTenant fills
			// in: only the secrets change.
			t, err := GetJSON[Tenant](tx, CollTenants, "", slug)
			if err != nil {
				return err
			}
			if !legacyPoolNeedsSeal(s.LegacySealer, slug, t.Settings.Legacy) {
				return nil
			}
			// Opened, a secret sealed twice is sealed once, and
			// sealLegacyPool keeps it so.
			opened, err := OpenLegacyPool(s.LegacySealer, slug, t.Settings.Legacy)
			var alreadySealed int
			if err == nil {
				t.Settings.Legacy, alreadySealed, err = sealLegacyPool(s.LegacySealer, slug, opened)
			}
			if err != nil {
				tenantProblems = append(tenantProblems, err)
				return nil
			}
			if alreadySealed > 0 {
				poolsAlreadySealed++
			} else {
				pools++
			}
			return PutTenant(tx, t)
		})
		if err != nil {
			return counts, fmt.Errorf("tenant %q: seal stored secrets: %w", slug, err)
		}
		counts.SigningKeys += keys
		counts.LegacyPools += pools
		counts.LegacyPoolsAlreadySealed += poolsAlreadySealed
		problems = append(problems, tenantProblems...)
	}
	counts.Unopened = errors.Join(problems...)
	return counts, nil
}

// secretsNeedSeal reports whether a signing key or the legacy pool of slug
// is stored in clear or sealed under a previous server key.
func (s *Service) secretsNeedSeal(tx Tx, slug string) (bool, error) {
	keys, err := SigningKeys(tx, slug)
	if err != nil {
		return false, err
	}
	for _, k := range keys {
		if signingKeyNeedsSeal(s.KeySealer, k) {
			return true, nil
		}
	}
	t, err := GetJSON[Tenant](tx, CollTenants, "", slug)
	if err != nil {
		return false, err
	}
	return legacyPoolNeedsSeal(s.LegacySealer, slug, t.Settings.Legacy), nil
}

// storeSigningKey writes k sealed when the service has a sealer: a new key
// at once, a key of an older version when it is next written.
func (s *Service) storeSigningKey(tx Tx, tenantID string, k SigningKey) error {
	if signingKeyNeedsSeal(s.KeySealer, k) {
		sealed, err := resealSigningKey(s.KeySealer, tenantID, k)
		if err != nil {
			// Only its dates change here: one that does not open keeps
			// what it has, and the provider reports it when loading.
			if k.SealedPrivate == "" {
				return err
			}
		} else {
			k = sealed
		}
	}
	return PutJSON(tx, CollKeys, tenantID, k.ID, k)
}
