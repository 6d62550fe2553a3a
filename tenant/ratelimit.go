package tenant

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// Rate limits on requests that send mail (reset codes, organization links)
// or guess at codes. They live in the store rather than in memory, so that
// they hold across restarts and, later, across replicas.

// ErrRateLimited means too many requests came from one client address. It is
// only ever returned for limits that apply whoever is asked about, so telling
// the person reveals nothing about which accounts exist.
var ErrRateLimited = errors.New("too many requests; try again later")

// AddressKey is what a per-address limit counts clientIP as (the rate
// limits here and the sign-in lockout in tenant/auth): an IPv4 address as
// itself, also when written IPv4-mapped, and an IPv6 address by its /64.
// A /64 is one network, the least a home or a host is given, and its owner
// may use any of its 2^64 addresses, changing them at will (RFC 8981's
// temporary addresses do so by themselves): counted one by one, a client
// would escape every limit by taking a new address for each request.
// Anything that is not an address is counted as it is.
func AddressKey(clientIP string) string {
	addr, err := netip.ParseAddr(clientIP)
	if err != nil {
		return clientIP
	}
	addr = addr.WithZone("").Unmap()
	if addr.Is4() {
		return addr.String()
	}
	return netip.PrefixFrom(addr, 64).Masked().String()
}

// rateLimit allows N requests per period.
type rateLimit struct {
	n   int
	per time.Duration
}

// rateWindow remembers the times of recent requests under one key.
type rateWindow struct {
	Hits      []time.Time `json:"hits"`
	ExpiresAt time.Time   `json:"expires_at"`
}

// takeRate records a request under key when every limit still allows one,
// and reports whether it did. A refused request is not recorded, so a client
// that keeps knocking is not locked out for ever by its own refusals.
func takeRate(tx Tx, c Collection, tenantID, key string, now time.Time, limits ...rateLimit) (bool, error) {
	w, err := GetJSON[rateWindow](tx, c, tenantID, key)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	var longest time.Duration
	for _, l := range limits {
		longest = max(longest, l.per)
	}
	// Forget what no limit looks at any more.
	kept := w.Hits[:0]
	for _, h := range w.Hits {
		if now.Sub(h) < longest {
			kept = append(kept, h)
		}
	}
	w.Hits = kept
	for _, l := range limits {
		recent := 0
		for _, h := range w.Hits {
			if now.Sub(h) < l.per {
				recent++
			}
		}
		if recent >= l.n {
			return false, nil
		}
	}
	w.Hits = append(w.Hits, now)
	w.ExpiresAt = now.Add(longest)
	return true, PutJSON(tx, c, tenantID, key, w)
}

// SweepOnboarding deletes the expired rate-limit windows and reset records
// of every tenant and of the apex. bbolt has no TTL of its own; run it beside
// SweepExpired.
func SweepOnboarding(ctx context.Context, store Store, now time.Time) (int, error) {
	ids, err := tenantIDs(ctx, store)
	if err != nil {
		return 0, err
	}
	scopes := append([]string{""}, ids...) // the apex's records have no tenant
	deleted := 0
	for _, scope := range scopes {
		for _, c := range []Collection{CollRateLimits, CollPasswordResets} {
			for {
				n, err := sweepExpiredRecords(ctx, store, c, scope, now)
				deleted += n
				if err != nil {
					return deleted, err
				}
				if n < sweepBatch {
					break
				}
			}
		}
	}
	return deleted, nil
}

// sweepExpiredRecords deletes up to sweepBatch expired records of c in one
// transaction, as the other sweeps do: one client address per window is a
// record, so a flood from many addresses must not hold the store's one
// writer for the whole of its clean-up.
func sweepExpiredRecords(ctx context.Context, store Store, c Collection, scope string, now time.Time) (int, error) {
	expiredKeys := func(tx Tx) ([]string, error) {
		var keys []string
		err := ScanJSON(tx, c, scope, "", "", func(key string, e expiring) bool {
			if !e.ExpiresAt.IsZero() && !now.Before(e.ExpiresAt) {
				keys = append(keys, key)
			}
			return len(keys) < sweepBatch
		})
		return keys, err
	}
	var found []string
	if err := store.View(ctx, func(tx Tx) (err error) { found, err = expiredKeys(tx); return err }); err != nil || len(found) == 0 {
		return 0, err // no write transaction, no fsync, for an idle tenant
	}
	// Looked for again in the write: a record that a request renewed a
	// moment ago must not go (a live reset code with it).
	n := 0
	err := store.Update(ctx, func(tx Tx) error {
		keys, err := expiredKeys(tx)
		if err != nil {
			return err
		}
		for _, key := range keys {
			if err := tx.Delete(c, scope, key); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	return n, err
}
