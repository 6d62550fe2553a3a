package auth

import (
	"errors"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// LockedUntil reports until when sign-in as u is locked after too many
// failures: under either of their names (username and email address), or
// the account itself, whatever name is typed; zero when it is not. The
// admin console shows it beside the unlock button (tenant.Service.Unlock).
func LockedUntil(tx tenant.Tx, tenantID string, u tenant.User, now time.Time) (time.Time, error) {
	var until time.Time
	keys := []lockKey{accountKey(u.Sub)}
	for _, login := range []string{u.Username, u.Email} {
		if login != "" {
			keys = append(keys, nameKey(login))
		}
	}
	for _, k := range keys {
		c, err := tenant.GetJSON[failureCounter](tx, tenant.CollLockouts, tenantID, k.key)
		if errors.Is(err, tenant.ErrNotFound) {
			continue
		}
		if err != nil {
			return time.Time{}, err
		}
		if now.Before(c.LockedUntil) && c.LockedUntil.After(until) {
			until = c.LockedUntil
		}
	}
	return until, nil
}
