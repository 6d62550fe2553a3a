package auth

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// Brute-force protection. Failures are counted per login name (whether or not
// such a user exists, so a lock reveals nothing), per client address (an
// address gets more room because many people may share one: an office NAT;
// an IPv6 client counts by its /64, tenant.AddressKey) and, once the name typed has turned out to belong to a user, per account.
// lockKeys computes the counters for every step: the password form, the
// second factor, a passkey, the account page's password change.
//
// A user who signs in by username and by email address has two names. The
// names' counters decide what a person is told: a name that reached its
// limit answers ErrLocked, whoever it belongs to. The account's counter
// holds the lock for the account whatever name is typed, but it is never
// told: while it is locked, a sign-in under a name that is not locked
// itself is refused as a wrong password, after the same hash time and
// counted against that name, without checking the password, exactly as a
// name that belongs to no one. So the right password gives no sign of
// being right while the account is locked, and yet nobody learns which
// username an email address belongs to: locking one name shows on no
// other. (Counting both names under one counter that answers ErrLocked
// would tell that.) Only the steps that come after the person proved
// something (the second factor, a passkey, the account page's password
// change) answer ErrLocked for an account lock.

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

func maxFailures(p tenant.LockoutPolicy) int { return p.MaxFailures }

// lockKeys are the counters a sign-in as cr meets: the name typed first,
// then the client's address and, when cr names a user (userCredentials),
// the user's account.
func lockKeys(cr Credentials) []lockKey {
	keys := []lockKey{nameKey(cr.Login)}
	if cr.ClientIP != "" {
		keys = append(keys, lockKey{"ip:" + tenant.AddressKey(cr.ClientIP), func(p tenant.LockoutPolicy) int { return p.MaxFailures * ipAllowanceFactor }})
	}
	if cr.sub != "" {
		keys = append(keys, accountKey(cr.sub))
	}
	return keys
}

// nameKey counts the failures of a login name.
func nameKey(login string) lockKey { return lockKey{"login:" + tenant.FoldKey(login), maxFailures} }

// accountKey counts the failures of the user sub under any name.
func accountKey(sub string) lockKey { return lockKey{"account:" + sub, maxFailures} }

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

// attemptsLeft is how many more failures a key may take before it locks:
// none while it is locked.
func attemptsLeft(tx tenant.Tx, tenantID string, k lockKey, p tenant.LockoutPolicy, now time.Time) (int, error) {
	c, err := tenant.GetJSON[failureCounter](tx, tenant.CollLockouts, tenantID, k.key)
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		return k.limit(p), nil
	case err != nil:
		return 0, err
	case now.Before(c.LockedUntil):
		return 0, nil
	case c.FirstAt.IsZero() || now.Sub(c.FirstAt) > p.LockDuration:
		return k.limit(p), nil
	}
	return k.limit(p) - c.Failures, nil
}

// checksUnderWay counts the password checks under way for each login name,
// so that guesses sent at once are held to the limit too: each passed the
// lock check before any of them was recorded, and would otherwise all be
// checked (40 of 40 in TestLockoutHoldsForGuessesSentAtOnce). No more
// checks of a name run at once than it has attempts left; the others wait
// for one to end and look again, so a burst of guesses stops at the lock,
// while sign-ins of one shared account at once (or a load test's) only
// queue, as they would at the hasher anyway. Only names are counted so: an
// office behind one address signs many people in at once.
type checksUnderWay struct {
	mu    sync.Mutex
	n     map[string]int           // tenant ID + "/" + lock key → checks under way
	ended map[string]chan struct{} // closed when a check of the key ends
}

// reserve counts a check of key once the checks under way leave room in
// the attempts it has left (read by left), waiting for one to end while
// they do not; ok is false when the key has no attempts left (locked).
// The read happens under the lock that release takes after the failure's
// commit, so no failure can be in neither count: committed after the read,
// it is still under way. release undoes the count; calls after the first
// do nothing, so a caller may release early and defer it as well.
func (c *checksUnderWay) reserve(ctx context.Context, tenantID, key string, left func() (int, error)) (release func(), ok bool, err error) {
	k := tenantID + "/" + key
	for {
		c.mu.Lock()
		attempts, err := left()
		switch {
		case err != nil || attempts <= 0:
			c.mu.Unlock()
			return func() {}, false, err
		case attempts > c.n[k]:
			if c.n == nil {
				c.n, c.ended = make(map[string]int), make(map[string]chan struct{})
			}
			c.n[k]++
			c.mu.Unlock()
			return c.releaser(k), true, nil
		}
		ended, found := c.ended[k]
		if !found {
			ended = make(chan struct{})
			c.ended[k] = ended
		}
		c.mu.Unlock()
		select {
		case <-ended:
		case <-ctx.Done():
			return func() {}, false, ctx.Err()
		}
	}
}

// tryReserve counts a check of key when the checks under way leave room
// in the attempts it has left, as reserve does, but never waits: ok is
// false at once when there is no room. Start uses it for the account's
// counter, whose lock is not told (see the top of this file): waiting
// there would make a name that belongs to a user take longer than one
// that does not.
func (c *checksUnderWay) tryReserve(tenantID, key string, left func() (int, error)) (release func(), ok bool, err error) {
	k := tenantID + "/" + key
	c.mu.Lock()
	defer c.mu.Unlock()
	attempts, err := left()
	if err != nil || attempts <= c.n[k] {
		return func() {}, false, err
	}
	if c.n == nil {
		c.n, c.ended = make(map[string]int), make(map[string]chan struct{})
	}
	c.n[k]++
	return c.releaser(k), true, nil
}

// releaser ends one check of k, once, and wakes those waiting for room.
func (c *checksUnderWay) releaser(k string) func() {
	released := false
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if released {
			return
		}
		released = true
		if c.n[k]--; c.n[k] <= 0 {
			delete(c.n, k)
		}
		if ended, ok := c.ended[k]; ok {
			close(ended)
			delete(c.ended, k)
		}
	}
}

// beginCheck reserves a password check of a login name (checksUnderWay):
// checks already under way count as failures until recorded, so a burst of
// guesses is held to the limit, and waits here for room meanwhile. locked
// is true when the name has no attempts left. The caller releases the
// check when it ends, through failCheck when it fails.
func (m *Machine) beginCheck(ctx context.Context, tenantID string, name lockKey, p tenant.LockoutPolicy, now time.Time) (release func(), locked bool, err error) {
	release, ok, err := m.checks.reserve(ctx, tenantID, name.key, m.attemptsLeft(ctx, tenantID, name, p, now))
	return release, !ok && err == nil, err
}

// beginAccountCheck reserves a password check of the account sub, with
// the check of the name typed already reserved: locked is true when the
// account has no attempts left, counting the checks under way, and then
// the password must not be checked. It never waits (tryReserve).
func (m *Machine) beginAccountCheck(ctx context.Context, tenantID, sub string, p tenant.LockoutPolicy, now time.Time) (release func(), locked bool, err error) {
	release, ok, err := m.checks.tryReserve(tenantID, accountKey(sub).key, m.attemptsLeft(ctx, tenantID, accountKey(sub), p, now))
	return release, !ok && err == nil, err
}

// attemptsLeft reads how many failures k may still take.
func (m *Machine) attemptsLeft(ctx context.Context, tenantID string, k lockKey, p tenant.LockoutPolicy, now time.Time) func() (int, error) {
	return func() (n int, err error) {
		err = m.Store.View(ctx, func(tx tenant.Tx) (err error) {
			n, err = attemptsLeft(tx, tenantID, k, p, now)
			return err
		})
		return n, err
	}
}

// failCheck records a failed password check begun with beginCheck: it
// counts the failure, ends the check once the count is where the next
// check reads it, then holds the answer back (slowDown).
func (m *Machine) failCheck(ctx context.Context, tenantID string, p tenant.LockoutPolicy, cr Credentials, now time.Time, release func()) error {
	failures, err := m.countFailure(ctx, tenantID, p, cr, now)
	release()
	if err != nil {
		return err
	}
	return m.slowDown(ctx, failures, p.MaxFailures)
}

// recordFailure counts one failed attempt and locks a key that reached its
// limit within the policy's window, then holds the answer back (slowDown).
func (m *Machine) recordFailure(ctx context.Context, tenantID string, p tenant.LockoutPolicy, cr Credentials, now time.Time) error {
	failures, err := m.countFailure(ctx, tenantID, p, cr, now)
	if err != nil {
		return err
	}
	return m.slowDown(ctx, failures, p.MaxFailures)
}

// countFailure is recordFailure's write: it returns the name's failures.
func (m *Machine) countFailure(ctx context.Context, tenantID string, p tenant.LockoutPolicy, cr Credentials, now time.Time) (int, error) {
	failures := 0
	err := m.Store.Update(ctx, func(tx tenant.Tx) error {
		for i, k := range lockKeys(cr) {
			c, err := tenant.GetJSON[failureCounter](tx, tenant.CollLockouts, tenantID, k.key)
			if err != nil && !errors.Is(err, tenant.ErrNotFound) {
				return err
			}
			if c.FirstAt.IsZero() || now.Sub(c.FirstAt) > p.LockDuration {
				c = failureCounter{FirstAt: now}
			}
			c.Failures++
			if i == 0 {
				failures = c.Failures
			}
			if c.Failures >= k.limit(p) {
				c = failureCounter{FirstAt: now, LockedUntil: now.Add(p.LockDuration)}
			}
			if err := tenant.PutJSON(tx, tenant.CollLockouts, tenantID, k.key, c); err != nil {
				return err
			}
		}
		return nil
	})
	return failures, err
}

// Failed sign-ins slow down before they lock: from the third failure of a
// name in a row, the refusal is held back, 250 ms and doubling, at most 2 s,
// until the policy's limit locks the name. A person who mistyped twice does
// not notice; a guesser working below the lock threshold gets fewer tries.
// The delay follows the name's counter, which exists whether or not the user
// does, so it reveals nothing.
const (
	slowDownAfter = 2
	maxSlowDown   = 2 * time.Second
)

func (m *Machine) slowDown(ctx context.Context, failures, limit int) error {
	if failures <= slowDownAfter || failures >= limit {
		return nil
	}
	d := min(250*time.Millisecond<<min(failures-slowDownAfter-1, 4), maxSlowDown)
	if m.Pause != nil {
		return m.Pause(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// clearFailures forgets the failures of a login name, and of the account
// cr names, after a success. The address counter stays: one valid account
// must not reset an attacker's budget.
func clearFailures(tx tenant.Tx, tenantID string, cr Credentials) error {
	if err := tx.Delete(tenant.CollLockouts, tenantID, nameKey(cr.Login).key); err != nil {
		return err
	}
	if cr.sub == "" {
		return nil
	}
	return tx.Delete(tenant.CollLockouts, tenantID, accountKey(cr.sub).key)
}

// Unlock releases a login name's lock, and that of the account the name
// belongs to (an administrator's action; tenant.Service.Unlock calls it
// with the user's username and email address).
func Unlock(tx tenant.Tx, tenantID, login string) error {
	if err := tx.Delete(tenant.CollLockouts, tenantID, nameKey(login).key); err != nil {
		return err
	}
	u, err := tenant.FindUser(tx, tenantID, login)
	if errors.Is(err, tenant.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return tx.Delete(tenant.CollLockouts, tenantID, accountKey(u.Sub).key)
}
