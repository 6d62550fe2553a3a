package tenant

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// legacyLookupsPerHour bounds how often one client address may make
// Cognate ask the legacy pool about names it does not know, so that the
// forgot-password form cannot be used to hammer the old pool (or to list
// its users quickly).
const legacyLookupsPerHour = resetIPLimitPerHour

// bringLegacyUser makes sure that a person who forgot their password before
// they ever signed in here can reset it: when login names nobody here and
// the tenant has a legacy pool, the pool is asked, and a user it knows (with
// a verified email address) is created here as RESET_REQUIRED, like an
// imported one. The reset then goes on as for any user.
//
// Every way this fails leaves login unknown, and the caller answers as it
// does for unknown names: the form says the same whatever the case, and a
// legacy pool that is down must not tell anyone whether a name exists here.
// Only a storage error is returned.
func (s *Service) bringLegacyUser(ctx context.Context, tenantID, login, clientIP string) error {
	if s.Legacy == nil {
		return nil
	}
	var pool LegacyPool
	unknown := false
	err := s.Store.View(ctx, func(tx Tx) error {
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		pool = t.Settings.Legacy
		if !pool.Enabled() {
			return nil
		}
		_, err = FindUser(tx, tenantID, login)
		unknown = errors.Is(err, ErrNotFound)
		if unknown {
			return nil
		}
		return err
	})
	if err != nil || !unknown {
		return err
	}

	now := s.Time()
	allowed := true
	if clientIP != "" {
		err := s.Store.Update(ctx, func(tx Tx) (err error) {
			allowed, err = takeRate(tx, CollRateLimits, tenantID, "legacy-lookup-ip/"+AddressKey(clientIP), now, rateLimit{legacyLookupsPerHour, time.Hour})
			return err
		})
		if err != nil {
			return err
		}
	}
	if !allowed {
		return nil // the reset's own limit answers this address
	}

	acct, err := s.Legacy.Lookup(ctx, tenantID, pool, login)
	if err != nil {
		// A refusal is ordinary (a typo, a name never known); a pool that
		// is down is for the operator to see.
		level := slog.LevelWarn
		if errors.Is(err, ErrLegacyRefused) {
			level = slog.LevelInfo
		}
		s.legacyLog(ctx, level, "password reset: the legacy pool did not hand the user over", "tenant", tenantID, "pool", pool, "err", err)
		return nil
	}
	var stored User
	err = s.Store.Update(ctx, func(tx Tx) (err error) {
		stored, err = PutLegacyUser(tx, tenantID, login, acct, now, func(u *User) {
			// The pool's password is not known here: the code sets one.
			u.Status = StatusResetRequired
			u.SetPassword("", u.PasswordChangedAt)
		})
		return err
	})
	switch {
	case err == nil:
		// One line, as for a migration at sign-in (tenant/auth,
		// migrate.go): a warning naming what did not come over.
		if unkept := acct.Unkept(); len(unkept) > 0 {
			s.legacyLog(ctx, slog.LevelWarn, "password reset: user brought over from the legacy pool, without attributes Cognate cannot hold",
				"tenant", tenantID, "user", stored, "not_kept", unkept)
		} else {
			s.legacyLog(ctx, slog.LevelInfo, "password reset: user brought over from the legacy pool", "tenant", tenantID, "user", stored)
		}
		return nil
	case errors.Is(err, ErrAlreadyExists):
		return nil // brought over meanwhile: the reset finds them
	case errors.Is(err, ErrLegacyConflict):
		s.legacyLog(ctx, slog.LevelWarn, "password reset: the legacy user conflicts with a user here", "tenant", tenantID, "err", err)
		return nil
	case errors.Is(err, ErrLegacyUnavailable): // an answer that cannot be used (a sub no user can have)
		s.legacyLog(ctx, slog.LevelWarn, "password reset: the legacy pool did not hand the user over", "tenant", tenantID, "pool", pool, "err", err)
		return nil
	}
	return err
}

func (s *Service) legacyLog(ctx context.Context, level slog.Level, msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.Log(ctx, level, msg, args...)
	}
}
