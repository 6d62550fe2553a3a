package tenant

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// sweptCollections hold records with an expires_at; bbolt has no TTL, so
// they are deleted here once they have expired. The lockout counters are
// among them: nobody clears the counter of a made-up name or of an address
// that never signs in, so without the sweep every guess under a new name
// would stay in the file for ever.
func sweptCollections() []Collection {
	return []Collection{CollAccessTokens, CollRefreshTokens, CollSessions, CollAuthFlows, CollLockouts}
}

// sweepBatch bounds how many index entries or records one transaction of
// the sweeps handles, so a sweep never holds the writer for long against
// sign-ins.
const sweepBatch = 1000

// SweepExpired deletes the expired short-lived records of every tenant,
// with the index entries they own, and returns how many records it
// deleted. It reads only the expiry index up to now, so its cost follows
// what expired, not how many records are live; records the index does not
// know of wait for SweepExpiredFull.
func SweepExpired(ctx context.Context, store Store, now time.Time) (int, error) {
	ids, err := tenantIDs(ctx, store)
	if err != nil {
		return 0, err
	}
	// An entry's second is rounded up, so every entry before the next
	// second names a record that had expired by now, if it was not
	// rewritten since.
	due := fmt.Sprintf("%016x", now.Unix()+1)
	deleted := 0
	for _, id := range ids {
		after := ""
		for {
			var entries []string
			err := store.View(ctx, func(tx Tx) error {
				entries = entries[:0]
				return tx.Scan(CollExpiry, id, "", after, func(key string, _ []byte) bool {
					if key >= due {
						return false
					}
					entries = append(entries, key)
					return len(entries) < sweepBatch
				})
			})
			if err != nil {
				return deleted, err
			}
			if len(entries) == 0 {
				break
			}
			n, err := applyEach(ctx, store, entries, func(tx Tx, entry string) (bool, error) {
				return sweepEntry(tx, id, entry, now)
			})
			deleted += n
			if err != nil {
				return deleted, fmt.Errorf("sweep expired records of %q: %w", id, err)
			}
			if len(entries) < sweepBatch {
				break
			}
			after = entries[len(entries)-1]
		}
	}
	return deleted, nil
}

// sweepEntry handles one due index entry: it deletes the entry, and the
// record it names if that really has expired. It reports whether a record
// was deleted.
func sweepEntry(tx Tx, tenantID, entry string, now time.Time) (bool, error) {
	if err := tx.Delete(CollExpiry, tenantID, entry); err != nil {
		return false, err
	}
	c, key, ok := parseExpiryKey(entry)
	if !ok {
		return false, nil
	}
	rec, ok, err := readExpiring(tx, c, tenantID, key)
	if err != nil || !ok {
		return false, err // deleted early (logout, revocation, a finished flow)
	}
	if now.Before(rec.ExpiresAt) {
		// Rewritten with a later expiry, which has its own entry; written
		// again in case an older version did the rewrite.
		return false, indexExpiry(tx, c, tenantID, key, rec.ExpiresAt)
	}
	return true, deleteExpired(tx, c, tenantID, key, rec)
}

// SweepExpiredFull reads every record of the swept collections of every
// tenant: it deletes the expired ones, indexes the live ones that have no
// expiry entry, and deletes owned index entries whose record is gone. It
// returns how many records and entries it deleted. Records written before
// the expiry index existed are only found this way, so it runs at start-up
// and daily; its cost follows the size of the site. (Lockout counters
// written before they had an expiry get one at start-up first:
// UpgradeLockoutCounters.)
func SweepExpiredFull(ctx context.Context, store Store, now time.Time) (int, error) {
	ids, err := tenantIDs(ctx, store)
	if err != nil {
		return 0, err
	}
	deleted := 0
	for _, id := range ids {
		for _, c := range sweptCollections() {
			n, err := sweepCollectionFull(ctx, store, c, id, now)
			deleted += n
			if err != nil {
				return deleted, fmt.Errorf("full sweep of %s of %q: %w", c, id, err)
			}
		}
	}
	return deleted, nil
}

// sweepCollectionFull is SweepExpiredFull for one collection of one
// tenant, a page of records at a time: a read finds what needs doing, and
// the write checks each record again, since a request may have changed it
// in between.
func sweepCollectionFull(ctx context.Context, store Store, c Collection, tenantID string, now time.Time) (int, error) {
	deleted := 0
	after := ""
	for {
		var todo []string
		seen := 0
		err := store.View(ctx, func(tx Tx) error {
			todo, seen = todo[:0], 0
			var checkErr error
			err := tx.Scan(c, tenantID, "", after, func(key string, _ []byte) bool {
				seen++
				after = key
				var act fullSweepAction
				if act, _, checkErr = checkRecord(tx, c, tenantID, key, now); checkErr != nil {
					return false
				}
				if act != keepRecord {
					todo = append(todo, key)
				}
				return seen < sweepBatch
			})
			return errors.Join(err, checkErr)
		})
		if err != nil {
			return deleted, err
		}
		if len(todo) > 0 {
			n, err := applyEach(ctx, store, todo, func(tx Tx, key string) (bool, error) {
				return applyFullSweep(tx, c, tenantID, key, now)
			})
			deleted += n
			if err != nil {
				return deleted, err
			}
		}
		if seen < sweepBatch {
			return deleted, nil
		}
	}
}

type fullSweepAction int

const (
	keepRecord   fullSweepAction = iota
	deleteRecord                 // expired, with what it owns
	deleteOrphan                 // an owned index entry whose record is gone
	indexRecord                  // live, without an expiry entry
)

// checkRecord decides what the full sweep does with the record key of c,
// and returns the record's expiry part for the actions that need it.
func checkRecord(tx Tx, c Collection, tenantID, key string, now time.Time) (fullSweepAction, expiring, error) {
	if target, ok := ownedTarget(c, key); ok {
		_, err := tx.Get(c, tenantID, target)
		if errors.Is(err, ErrNotFound) {
			return deleteOrphan, expiring{}, nil
		}
		return keepRecord, expiring{}, err
	}
	rec, ok, err := readExpiring(tx, c, tenantID, key)
	if err != nil || !ok {
		return keepRecord, expiring{}, err
	}
	if !now.Before(rec.ExpiresAt) {
		return deleteRecord, rec, nil
	}
	_, err = tx.Get(CollExpiry, tenantID, expiryKey(rec.ExpiresAt, c, key))
	if errors.Is(err, ErrNotFound) {
		return indexRecord, rec, nil
	}
	return keepRecord, expiring{}, err
}

// LockoutCounterExpiry is when a sign-in lockout counter (tenant/auth)
// whose window began at firstAt, locked until lockedUntil (zero if not),
// means nothing any more under p: once its window, p's lock duration from
// firstAt, and its lock have both ended. The lock's end is the one it was
// given, so a shorter lock duration chosen since never ends it early.
func LockoutCounterExpiry(p LockoutPolicy, firstAt, lockedUntil time.Time) time.Time {
	if windowEnd := firstAt.Add(p.LockDuration); windowEnd.After(lockedUntil) {
		return windowEnd
	}
	return lockedUntil
}

// applyFullSweep does, inside a write, what checkRecord decides for the
// record as it is now, and reports whether it deleted something.
func applyFullSweep(tx Tx, c Collection, tenantID, key string, now time.Time) (bool, error) {
	act, rec, err := checkRecord(tx, c, tenantID, key, now)
	if err != nil {
		return false, err
	}
	switch act {
	case deleteOrphan:
		return true, tx.Delete(c, tenantID, key)
	case deleteRecord:
		return true, deleteExpired(tx, c, tenantID, key, rec)
	case indexRecord:
		return false, indexExpiry(tx, c, tenantID, key, rec.ExpiresAt)
	}
	return false, nil
}

// applyEach runs apply on every key in one transaction and returns how
// many keys it reported deleting.
func applyEach(ctx context.Context, store Store, keys []string, apply func(tx Tx, key string) (bool, error)) (int, error) {
	deleted := 0
	err := store.Update(ctx, func(tx Tx) error {
		deleted = 0
		for _, key := range keys {
			gone, err := apply(tx, key)
			if err != nil {
				return err
			}
			if gone {
				deleted++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}

// tenantIDs lists every tenant in a transaction of its own, for the
// passes over every tenant (the sweeps, the start-up upgrades).
func tenantIDs(ctx context.Context, store Store) ([]string, error) {
	var ids []string
	err := store.View(ctx, func(tx Tx) (err error) {
		ids, err = tenantSlugs(tx)
		return err
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

// SweepAudit deletes the audit events older than retention in every
// tenant and in the operator's trail, and returns how many it deleted; a
// retention of 0 keeps every event.
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
	// The empty ID is the operator's own trail (deleted tenants).
	for _, id := range append([]string{""}, ids...) {
		for {
			var keys []string
			err := store.View(ctx, func(tx Tx) error {
				keys = keys[:0]
				return tx.Scan(CollAudit, id, "", cutoff, func(key string, _ []byte) bool {
					keys = append(keys, key)
					return len(keys) < sweepBatch
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
			if len(keys) < sweepBatch {
				break
			}
		}
	}
	return deleted, nil
}

// FailedMailRetention is how long a mail given up on is kept for the
// operator to see (GET /admin/v1/mail) when the audit trail keeps its
// events longer: a month, time enough to notice and act, after which the
// address it was for does not linger.
const FailedMailRetention = 30 * 24 * time.Hour

// SweepFailedMail deletes the mails given up on longer ago than
// FailedMailRetention, or than auditRetention when that is shorter (and not
// 0, which keeps events for ever): what the operator may no longer keep
// of a sign-in it may not keep of a mail either. It returns how many it
// deleted.
func SweepFailedMail(ctx context.Context, store Store, now time.Time, auditRetention time.Duration) (int, error) {
	retention := FailedMailRetention
	if auditRetention > 0 {
		retention = min(retention, auditRetention)
	}
	cutoff := now.Add(-retention)
	deleted := 0
	after := ""
	for {
		var expired []string
		seen := 0
		err := store.View(ctx, func(tx Tx) error {
			expired, seen = expired[:0], 0
			return ScanJSON(tx, CollOutbox, "", outboxFailed, after, func(key string, m queuedMail) bool {
				seen++
				after = key
				if m.failedSince().Before(cutoff) {
					expired = append(expired, m.ID)
				}
				return seen < sweepBatch
			})
		})
		if err != nil {
			return deleted, fmt.Errorf("sweep failed mail: %w", err)
		}
		if len(expired) > 0 {
			// A mail given up on stays given up on: what the read found
			// is still to be deleted.
			err := store.Update(ctx, func(tx Tx) error {
				for _, id := range expired {
					if err := deleteQueuedMail(tx, id); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return deleted, fmt.Errorf("sweep failed mail: %w", err)
			}
			deleted += len(expired)
		}
		if seen < sweepBatch {
			return deleted, nil
		}
	}
}
