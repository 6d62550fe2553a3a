package auth

import (
	"context"
	"errors"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// Brute-force protection. Failures are counted per login name (whether or not
// such a user exists, so a lock reveals nothing) and per client address; an
// address gets more room because many people may share one (an office NAT).

const ipAllowanceFactor = 4

type failureCounter struct {
	Failures    int       `json:"failures"`
	FirstAt     time.Time `json:"first_at"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

type lockKey struct {
	key   string
	limit func(p tenant.LockoutPolicy) int
}

func lockKeys(cr Credentials) []lockKey {
	keys := []lockKey{{"login:" + tenant.FoldKey(cr.Login), func(p tenant.LockoutPolicy) int { return p.MaxFailures }}}
	if cr.ClientIP != "" {
		keys = append(keys, lockKey{"ip:" + cr.ClientIP, func(p tenant.LockoutPolicy) int { return p.MaxFailures * ipAllowanceFactor }})
	}
	return keys
}

func isLocked(tx tenant.Tx, tenantID string, keys []lockKey, now time.Time) (bool, error) {
	for _, k := range keys {
		c, err := tenant.GetJSON[failureCounter](tx, tenant.CollLockouts, tenantID, k.key)
		if errors.Is(err, tenant.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if now.Before(c.LockedUntil) {
			return true, nil
		}
	}
	return false, nil
}

// recordFailure counts one failed attempt and locks a key that reached its
// limit within the policy's window.
func (m *Machine) recordFailure(ctx context.Context, tenantID string, p tenant.LockoutPolicy, cr Credentials, now time.Time) error {
	return m.Store.Update(ctx, func(tx tenant.Tx) error {
		for _, k := range lockKeys(cr) {
			c, err := tenant.GetJSON[failureCounter](tx, tenant.CollLockouts, tenantID, k.key)
			if err != nil && !errors.Is(err, tenant.ErrNotFound) {
				return err
			}
			if c.FirstAt.IsZero() || now.Sub(c.FirstAt) > p.LockDuration {
				c = failureCounter{FirstAt: now}
			}
			c.Failures++
			if c.Failures >= k.limit(p) {
				c = failureCounter{FirstAt: now, LockedUntil: now.Add(p.LockDuration)}
			}
			if err := tenant.PutJSON(tx, tenant.CollLockouts, tenantID, k.key, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// clearFailures forgets a login name's failures after a success. The address
// counter stays: one valid account must not reset an attacker's budget.
func clearFailures(tx tenant.Tx, tenantID string, cr Credentials) error {
	return tx.Delete(tenant.CollLockouts, tenantID, lockKeys(cr)[0].key)
}

// Unlock releases a login name's lock (an administrator's action).
func Unlock(tx tenant.Tx, tenantID, login string) error {
	return tx.Delete(tenant.CollLockouts, tenantID, "login:"+tenant.FoldKey(login))
}
