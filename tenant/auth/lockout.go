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
// an IPv6 client counts by its /64, tenant.AddressKey) and, once the name
// typed has turned out to belong to a user, per account. lockKeys computes the counters for every step: the password form, the
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
//
// The account's checks wait for room as a name's do (checksUnderWay): at
// the account's last attempts, a check waits for the checks of the account
// under way to end, and goes on if they leave room. Refusing instead, as
// if the account were locked, would answer a person's right password
// "wrong" and count it, for a check that was still running and might well
// succeed: the same person signing in twice at once (a double click, two
// tabs, under the username and the email address) after four failures.
// This is taken knowingly: a name that belongs to a user can wait where a
// made-up one does not, but only while its account has no attempts to
// spare, so a guesser who could time it learns that two names share an
// account only by spending that account's last attempts.

const ipAllowanceFactor = 4

// failureCounter is the count of one lock key: Failures since FirstAt,
// and the lock, if it reached the limit. A counter means something only
// while its window (the policy's lock duration from FirstAt) or its lock
// runs; ExpiresAt is when both have ended under the policy it was last
// written with, and the server's minute sweep (tenant.SweepExpired)
// deletes it then, so that failures under made-up names or from ever new
// addresses, which nobody clears, do not grow the data file for ever.
// Counters written before ExpiresAt existed get one at every start-up,
// from first_at and locked_until (tenant.UpgradeLockoutCounters).
type failureCounter struct {
	Failures    int       `json:"failures"`
	FirstAt     time.Time `json:"first_at"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
}

// counting reports whether c's failures still count under p: its window
// has not ended, by the policy in force, nor has the counter expired. So a
// counter written under a shorter lock duration than today's ends where
// the sweep deletes it, and not later for having been missed by a sweep:
// what a sign-in meets does not hang on when the sweep last ran.
func (c failureCounter) counting(p tenant.LockoutPolicy, now time.Time) bool {
	return !c.FirstAt.IsZero() && now.Before(c.FirstAt.Add(p.LockDuration)) &&
		(c.ExpiresAt.IsZero() || now.Before(c.ExpiresAt))
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
	case !c.counting(p, now):
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
// queue, as they would at the hasher anyway. Names and accounts are
// counted so (the account's checks only at its last attempts wait: see the
// top of this file); addresses are not: an office behind one address signs
// many people in at once.
type checksUnderWay struct {
	mu   sync.Mutex
	keys map[string]*keyChecks // tenant ID + "/" + lock key → its checks under way
}

// keyChecks are the checks of one lock key under way.
type keyChecks struct {
	n     int
	ended chan struct{} // closed when a check ends; nil while nobody waits
}

// check is one check of a lock key that reserve counted under way. Its
// methods do nothing on a nil check: none was counted.
type check struct {
	c     *checksUnderWay
	k     string
	ended bool
}

// reserve counts a check of key once the checks under way leave room in
// the attempts it has left (read by left); ok is false when the key has no
// attempts left (locked). Without room it waits for a check to end and
// looks again.
//
// The read happens under the lock that end takes after a failure's
// commit, so no failure can be in neither count: committed after the
// read, it is still under way. It can be in both, committed before the
// read and not yet ended, which only delays the look that finds the room.
func (c *checksUnderWay) reserve(ctx context.Context, tenantID, key string, left func() (int, error)) (ch *check, ok bool, err error) {
	k := tenantID + "/" + key
	for {
		c.mu.Lock()
		attempts, err := left()
		under := c.keys[k]
		if under == nil {
			under = &keyChecks{}
		}
		switch {
		case err != nil || attempts <= 0:
			c.mu.Unlock()
			return nil, false, err
		case attempts > under.n:
			if c.keys == nil {
				c.keys = make(map[string]*keyChecks)
			}
			under.n++
			c.keys[k] = under
			c.mu.Unlock()
			return &check{c: c, k: k}, true, nil
		}
		if under.ended == nil {
			under.ended = make(chan struct{})
		}
		ended := under.ended
		c.mu.Unlock()
		select {
		case <-ended:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// end ends ch, once, and wakes those waiting for room; calls after the
// first do nothing, so a caller may end a check early and defer it as well.
func (ch *check) end() {
	if ch == nil {
		return
	}
	ch.c.mu.Lock()
	defer ch.c.mu.Unlock()
	if ch.ended {
		return
	}
	ch.ended = true
	under := ch.c.keys[ch.k]
	under.n--
	if under.ended != nil {
		close(under.ended)
		under.ended = nil
	}
	if under.n <= 0 {
		delete(ch.c.keys, ch.k)
	}
}

// beginCheck reserves a password check of the lock key k, a login name or
// the account of the name typed (checksUnderWay): checks already under way
// count as failures until recorded, so a burst of guesses is held to the
// limit, and waits here for room meanwhile. locked is true when k has no
// attempts left, and then the password must not be checked. Password
// checks begin here through beginPasswordCheck, which reserves the
// account's check with the name's already reserved.
func (m *Machine) beginCheck(ctx context.Context, tenantID string, k lockKey, p tenant.LockoutPolicy, now time.Time) (ch *check, locked bool, err error) {
	ch, ok, err := m.checks.reserve(ctx, tenantID, k.key, m.attemptsLeft(ctx, tenantID, k, p, now))
	return ch, !ok && err == nil, err
}

// passwordCheck is a password check under way (checksUnderWay): that of
// the name typed and, once the name turned out to be a user's, that of
// their account (nil when none was reserved).
type passwordCheck struct{ name, account *check }

// beginPasswordCheck reserves the check of a password typed under the name
// login (beginCheck) and then, when sub names the user it belongs to, the
// check of their account: the account's last attempts are held to its
// limit whatever name is typed, and whichever step checks the password (a
// sign-in, the account page's password change). nameLocked: the name has no
// attempts left, and nothing is reserved. accountLocked: the account has
// none, and only the name's check is; the caller tells the lock or not as
// its step does (see the top of this file). The caller ends pc.
func (m *Machine) beginPasswordCheck(ctx context.Context, tenantID, login, sub string, p tenant.LockoutPolicy, now time.Time) (pc passwordCheck, nameLocked, accountLocked bool, err error) {
	if pc.name, nameLocked, err = m.beginCheck(ctx, tenantID, nameKey(login), p, now); err != nil || nameLocked {
		return passwordCheck{}, nameLocked, false, err
	}
	if sub == "" {
		return pc, false, false, nil
	}
	if pc.account, accountLocked, err = m.beginCheck(ctx, tenantID, accountKey(sub), p, now); err != nil {
		pc.name.end()
		return passwordCheck{}, false, false, err
	}
	return pc, false, accountLocked, nil
}

// end ends pc's checks, the account's first: a check of the name waiting
// for room must find the account's room too. Calls after the first do
// nothing, so a caller may end pc early and defer it as well; failCheck
// ends it once the failure is counted.
func (pc passwordCheck) end() {
	pc.account.end()
	pc.name.end()
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

// failCheck ends a failed attempt as cr: a password check pc begun with
// beginPasswordCheck, which it ends once the count is where the next check
// reads it, or a guess at a second factor, with no check (a zero pc). It
// counts the failure (countFailure), records the refusal r for the trail,
// and the lockout when this failure locked (recordRefusal), then holds the
// answer back (slowDown).
//
// The count and the record are written before the pause, with a context
// the request's end does not cancel: a client that leaves once its guess
// is checked, or during the pause, which tells it the guess was wrong,
// must not keep its guess out of the count or the trail.
func (m *Machine) failCheck(ctx context.Context, tenantID string, p tenant.LockoutPolicy, cr Credentials, r refusal, now time.Time, pc passwordCheck) error {
	f, err := m.countFailure(context.WithoutCancel(ctx), tenantID, p, cr, now)
	pc.end()
	if err != nil {
		return err
	}
	m.recordRefusal(context.WithoutCancel(ctx), tenantID, cr, r, f.locked)
	return m.slowDown(ctx, f.count, p.MaxFailures)
}

// failure is a failed attempt as countFailure counted it.
type failure struct {
	// count is the name's failures in its window, this one included: the
	// answer is held back by it (slowDown).
	count int
	// locked says this failure locked a key (the name, the address or the
	// account) that was not locked: of failures counted at once, only the
	// one whose write set the lock.
	locked bool
}

// countFailure counts one failed attempt against each of cr's lock keys
// and locks a key that reached its limit within the policy's window.
func (m *Machine) countFailure(ctx context.Context, tenantID string, p tenant.LockoutPolicy, cr Credentials, now time.Time) (failure, error) {
	var f failure
	err := m.Store.Update(ctx, func(tx tenant.Tx) error {
		f = failure{}
		for i, k := range lockKeys(cr) {
			c, err := tenant.GetJSON[failureCounter](tx, tenant.CollLockouts, tenantID, k.key)
			if err != nil && !errors.Is(err, tenant.ErrNotFound) {
				return err
			}
			wasLocked := now.Before(c.LockedUntil)
			if !c.counting(p, now) {
				c = failureCounter{FirstAt: now}
			}
			c.Failures++
			if i == 0 {
				f.count = c.Failures
			}
			if c.Failures >= k.limit(p) {
				c = failureCounter{FirstAt: now, LockedUntil: now.Add(p.LockDuration)}
				f.locked = f.locked || !wasLocked
			}
			c.ExpiresAt = tenant.LockoutCounterExpiry(p, c.FirstAt, c.LockedUntil)
			if err := tenant.PutExpiring(tx, tenant.CollLockouts, tenantID, k.key, c, c.ExpiresAt); err != nil {
				return err
			}
		}
		return nil
	})
	return f, err
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
