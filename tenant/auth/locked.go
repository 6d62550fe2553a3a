package auth

import (
	"errors"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// LockedUntil reports until when sign-in under a user's names (username
// and email address) is locked after too many failures; zero when it is
// not. The admin console shows it beside the unlock button
// (tenant.Service.Unlock).
func LockedUntil(tx tenant.Tx, tenantID string, u tenant.User, now time.Time) (time.Time, error) {
	var until time.Time
	for _, login := range []string{u.Username, u.Email} {
		if login == "" {
			continue
		}
		key := lockKeys(Credentials{Login: login})[0].key
		c, err := tenant.GetJSON[failureCounter](tx, tenant.CollLockouts, tenantID, key)
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
