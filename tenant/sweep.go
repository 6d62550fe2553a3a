package tenant

import (
	"context"
	"encoding/json"
	"time"
)

// expiring is the part of every short-lived record the sweeper reads.
type expiring struct {
	ExpiresAt time.Time `json:"expires_at"`
}

// sweptCollections hold records with an expires_at; bbolt has no TTL, so
// they are deleted here once they have expired.
var sweptCollections = []Collection{
	CollAccessTokens, CollRefreshTokens, CollSessions, CollAuthFlows,
}

// SweepExpired deletes the expired short-lived records of every tenant and
// returns how many it deleted. Records without an expiry (indexes) stay.
func SweepExpired(ctx context.Context, store Store, now time.Time) (int, error) {
	slugs, err := tenantIDs(ctx, store)
	if err != nil {
		return 0, err
	}
	deleted := 0
	for _, slug := range slugs {
		for _, c := range sweptCollections {
			var expired []string
			err := store.View(ctx, func(tx Tx) error {
				return tx.Scan(c, slug, "", "", func(key string, raw []byte) bool {
					var e expiring
					if json.Unmarshal(raw, &e) == nil && !e.ExpiresAt.IsZero() && !now.Before(e.ExpiresAt) {
						expired = append(expired, key)
					}
					return true
				})
			})
			if err != nil {
				return deleted, err
			}
			if len(expired) == 0 {
				continue
			}
			if err := deleteKeys(ctx, store, c, slug, expired); err != nil {
				return deleted, err
			}
			deleted += len(expired)
		}
	}
	return deleted, nil
}

// tenantIDs lists every tenant, for the sweeps.
func tenantIDs(ctx context.Context, store Store) ([]string, error) {
	var ids []string
	err := store.View(ctx, func(tx Tx) error {
		return tx.Scan(CollTenants, "", "", "", func(key string, _ []byte) bool {
			ids = append(ids, key)
			return true
		})
	})
	return ids, err
}

// deleteKeys deletes keys of c in one transaction. The sweeps call it with
// what a read found, for records that cannot become current again: an
// expired record stays expired, an old event stays old.
func deleteKeys(ctx context.Context, store Store, c Collection, tenantID string, keys []string) error {
	return store.Update(ctx, func(tx Tx) error {
		for _, key := range keys {
			if err := tx.Delete(c, tenantID, key); err != nil {
				return err
			}
		}
		return nil
	})
}

// DefaultAuditRetention is how long the audit trail keeps an event unless
// the operator says otherwise: a year, long enough to answer "who had
// access last spring", short enough that the data file does not grow with
// every sign-in for ever.
const DefaultAuditRetention = 365 * 24 * time.Hour

// auditSweepBatch bounds how many events one transaction deletes, so the
// sweep never holds the writer for long against sign-ins.
const auditSweepBatch = 1000

// SweepAudit deletes the audit events older than retention in every
// tenant and returns how many it deleted; a retention of 0 keeps every
// event.
func SweepAudit(ctx context.Context, store Store, now time.Time, retention time.Duration) (int, error) {
	if retention <= 0 {
		return 0, nil
	}
	ids, err := tenantIDs(ctx, store)
	if err != nil {
		return 0, err
	}
	// Keys sort newest first (auditKeyTime), so everything older than the
	// cutoff sorts after the cutoff's key.
	cutoff := auditKeyTime(now.Add(-retention))
	deleted := 0
	for _, id := range ids {
		for {
			var keys []string
			err := store.View(ctx, func(tx Tx) error {
				keys = keys[:0]
				return tx.Scan(CollAudit, id, "", cutoff, func(key string, _ []byte) bool {
					keys = append(keys, key)
					return len(keys) < auditSweepBatch
				})
			})
			if err != nil {
				return deleted, err
			}
			if len(keys) == 0 {
				break
			}
			if err := deleteKeys(ctx, store, CollAudit, id, keys); err != nil {
				return deleted, err
			}
			deleted += len(keys)
			if len(keys) < auditSweepBatch {
				break
			}
		}
	}
	return deleted, nil
}
