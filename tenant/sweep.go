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
	var slugs []string
	err := store.View(ctx, func(tx Tx) error {
		return tx.Scan(CollTenants, "", "", "", func(key string, _ []byte) bool {
			slugs = append(slugs, key)
			return true
		})
	})
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
			err = store.Update(ctx, func(tx Tx) error {
				for _, key := range expired {
					if err := tx.Delete(c, slug, key); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return deleted, err
			}
			deleted += len(expired)
		}
	}
	return deleted, nil
}
