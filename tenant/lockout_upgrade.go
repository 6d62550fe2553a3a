package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// lockoutExpiryMarker is a record that builds of 2026-11-30 wrote, in
// CollLockouts under no tenant, to skip UpgradeLockoutCounters once it had
// run; UpgradeLockoutCounters deletes it.
const lockoutExpiryMarker = "\x00expiry"

// legacyLockoutCounter is what the upgrade reads of a lockout counter
// (tenant/auth's failureCounter).
type legacyLockoutCounter struct {
	FirstAt     time.Time `json:"first_at"`
	LockedUntil time.Time `json:"locked_until"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// UpgradeLockoutCounters gives each sign-in lockout counter that versions
// before counters had an expires_at wrote one, with its expiry entry, and
// returns how many it gave one. The expiry is the one the counter's next
// write would give it (LockoutCounterExpiry under its tenant's policy),
// so from then on the sweeps delete it as any other counter; one already
// done with goes at the first sweep. It runs at start-up, before requests
// are served and before the first sweep, and at every start, not once:
// an older build may run on the same data file in between (it has the same
// data format), and the counters it writes, or rewrites, have no expiry
// again. It costs a read of the counters, which their expiry keeps few.
func UpgradeLockoutCounters(ctx context.Context, store Store) (int, error) {
	ids, err := tenantIDs(ctx, store)
	if err != nil {
		return 0, err
	}
	upgraded := 0
	for _, id := range ids {
		n, err := upgradeTenantLockoutCounters(ctx, store, id)
		upgraded += n
		if err != nil {
			return upgraded, err
		}
	}
	return upgraded, dropLockoutExpiryMarker(ctx, store)
}

// dropLockoutExpiryMarker deletes the marker of builds that ran the
// upgrade once only, if it is there; it writes nothing otherwise.
func dropLockoutExpiryMarker(ctx context.Context, store Store) error {
	var found bool
	err := store.View(ctx, func(tx Tx) error {
		_, err := tx.Get(CollLockouts, "", lockoutExpiryMarker)
		found = err == nil
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil || !found {
		return err
	}
	return store.Update(ctx, func(tx Tx) error {
		return tx.Delete(CollLockouts, "", lockoutExpiryMarker)
	})
}

// upgradeTenantLockoutCounters is UpgradeLockoutCounters for one tenant,
// a page of counters at a time, as the full sweep reads them.
func upgradeTenantLockoutCounters(ctx context.Context, store Store, tenantID string) (int, error) {
	upgraded := 0
	for after := ""; ; {
		var todo []string
		var policy LockoutPolicy
		seen := 0
		err := store.View(ctx, func(tx Tx) error {
			todo, seen = todo[:0], 0
			t, err := GetTenant(tx, tenantID)
			if errors.Is(err, ErrNotFound) {
				return nil // being deleted, with its counters
			} else if err != nil {
				return err
			}
			policy = t.Settings.Lockout
			return tx.Scan(CollLockouts, tenantID, "", after, func(key string, raw []byte) bool {
				seen++
				after = key
				if _, ok := legacyCounter(raw); ok {
					todo = append(todo, key)
				}
				return seen < sweepBatch
			})
		})
		if err != nil {
			return upgraded, err
		}
		if len(todo) > 0 {
			n, err := applyEach(ctx, store, todo, func(tx Tx, key string) (bool, error) {
				return upgradeLockoutCounter(tx, tenantID, key, policy)
			})
			upgraded += n
			if err != nil {
				return upgraded, err
			}
		}
		if seen < sweepBatch {
			return upgraded, nil
		}
	}
}

// legacyCounter reads a counter without an expires_at; ok is false for a
// counter that has one, and for a record that is no counter.
func legacyCounter(raw []byte) (legacyLockoutCounter, bool) {
	var c legacyLockoutCounter
	if json.Unmarshal(raw, &c) != nil || !c.ExpiresAt.IsZero() {
		return legacyLockoutCounter{}, false
	}
	return c, true
}

// upgradeLockoutCounter writes the expires_at of one counter, if it has
// none yet, keeping every other field as it is; it reports whether it
// wrote one.
func upgradeLockoutCounter(tx Tx, tenantID, key string, p LockoutPolicy) (bool, error) {
	raw, err := tx.Get(CollLockouts, tenantID, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	c, ok := legacyCounter(raw)
	var fields map[string]json.RawMessage
	if !ok || json.Unmarshal(raw, &fields) != nil || fields == nil { // nil: the record is null
		return false, nil
	}
	expiresAt := LockoutCounterExpiry(p, c.FirstAt, c.LockedUntil)
	if fields["expires_at"], err = json.Marshal(expiresAt); err != nil {
		return false, err
	}
	return true, PutExpiring(tx, CollLockouts, tenantID, key, fields, expiresAt)
}
