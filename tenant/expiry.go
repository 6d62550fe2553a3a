package tenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// bbolt has no TTL, and reading every token to find the expired ones costs
// as much as the site is large, once a minute. So every expiring record is
// also written to CollExpiry under a key that sorts by its expiry, and the
// minute's sweep reads only the part of that index that is due.
//
// The index is a hint, not the truth: a record may be rewritten with a
// later expiry (its old entry stays), or deleted early (its entry stays),
// and records written before the index existed have no entry. The sweep
// re-reads the record behind every entry, and a rarer full scan
// (SweepExpiredFull) catches what has no entry.

// PutExpiring stores v under key, as PutJSON does, and indexes it by
// expiresAt so that SweepExpired deletes it once expired. Every writer of a
// record with an expires_at uses it, rewrites included: an entry for the
// same expiry is written again in place.
func PutExpiring(tx Tx, c Collection, tenantID, key string, v any, expiresAt time.Time) error {
	if err := PutJSON(tx, c, tenantID, key, v); err != nil {
		return err
	}
	return indexExpiry(tx, c, tenantID, key, expiresAt)
}

func indexExpiry(tx Tx, c Collection, tenantID, key string, expiresAt time.Time) error {
	if expiresAt.IsZero() {
		return nil // lives until deleted
	}
	return tx.Put(CollExpiry, tenantID, expiryKey(expiresAt, c, key), []byte{})
}

const expirySep = "\x00"

// expiryKey is the index key of record key of c expiring at expiresAt.
func expiryKey(expiresAt time.Time, c Collection, key string) string {
	return expirySecond(expiresAt) + expirySep + string(c) + expirySep + key
}

// expirySecond is a fixed-width hex second, so keys sort by time. It rounds
// up: once that second has passed, the record has expired, so the sweep
// never meets an entry it must keep for a fraction of a second.
func expirySecond(t time.Time) string {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return fmt.Sprintf("%016x", max(s, 0))
}

// parseExpiryKey splits an index key into the collection and record key it
// names.
func parseExpiryKey(indexKey string) (Collection, string, bool) {
	parts := strings.SplitN(indexKey, expirySep, 3)
	if len(parts) != 3 {
		return "", "", false
	}
	return Collection(parts[1]), parts[2], true
}

// expiring is the part of every short-lived record the sweeps read: the
// expiry, and the subject its owned index entries are keyed by.
type expiring struct {
	ExpiresAt time.Time `json:"expires_at"`
	Sub       string    `json:"sub"`
}

// ownedIndex describes index entries without an expiry of their own that
// point at an expiring record of the same collection: indexPrefix + sub +
// ":" + id names the record targetPrefix + id, whose sub is sub. They are
// deleted with their record.
type ownedIndex struct {
	c            Collection
	targetPrefix string
	indexPrefix  string
}

// Two key prefixes of CollRefreshTokens, whose records the provider
// package writes: a token family's record is TokenFamilyPrefix + family
// id, and the index of a user's families UserFamilyPrefix + sub + ":" +
// family id. They are here because the sweep deletes the index entry with
// its family.
const (
	TokenFamilyPrefix = "fam:"
	UserFamilyPrefix  = "usr:"
)

// ownedIndexes lists them all.
func ownedIndexes() []ownedIndex {
	return []ownedIndex{
		{c: CollSessions, targetPrefix: prefixSession, indexPrefix: prefixUserSession},
		{c: CollSessions, targetPrefix: ConsoleSessionPrefix, indexPrefix: UserConsoleSessionPrefix},
		{c: CollRefreshTokens, targetPrefix: TokenFamilyPrefix, indexPrefix: UserFamilyPrefix},
	}
}

// ownedEntries returns the index entries that go with the record key of c.
func ownedEntries(c Collection, key string, rec expiring) []string {
	var keys []string
	for _, o := range ownedIndexes() {
		if o.c == c && rec.Sub != "" && strings.HasPrefix(key, o.targetPrefix) {
			keys = append(keys, o.indexPrefix+rec.Sub+":"+key[len(o.targetPrefix):])
		}
	}
	return keys
}

// ownedTarget returns the record an owned index entry points at, if key is
// one.
func ownedTarget(c Collection, key string) (string, bool) {
	for _, o := range ownedIndexes() {
		if o.c == c && strings.HasPrefix(key, o.indexPrefix) {
			i := strings.LastIndexByte(key, ':')
			return o.targetPrefix + key[i+1:], true
		}
	}
	return "", false
}

// readExpiring reads the expiry of the record key of c; ok is false when
// the record is gone or has no expiry.
func readExpiring(tx Tx, c Collection, tenantID, key string) (expiring, bool, error) {
	raw, err := tx.Get(c, tenantID, key)
	if errors.Is(err, ErrNotFound) {
		return expiring{}, false, nil
	}
	if err != nil {
		return expiring{}, false, err
	}
	var rec expiring
	if json.Unmarshal(raw, &rec) != nil || rec.ExpiresAt.IsZero() {
		return expiring{}, false, nil
	}
	return rec, true, nil
}

// deleteExpired deletes an expired record with its owned index entries and
// its own expiry entry.
func deleteExpired(tx Tx, c Collection, tenantID, key string, rec expiring) error {
	for _, k := range append([]string{key}, ownedEntries(c, key, rec)...) {
		if err := tx.Delete(c, tenantID, k); err != nil {
			return fmt.Errorf("delete expired %s %q: %w", c, k, err)
		}
	}
	if err := tx.Delete(CollExpiry, tenantID, expiryKey(rec.ExpiresAt, c, key)); err != nil {
		return fmt.Errorf("delete expiry entry of %s %q: %w", c, key, err)
	}
	return nil
}
