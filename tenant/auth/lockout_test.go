package auth_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// A lock holds for the account whatever name is typed: failures under the
// username and under the email address add up, and while the account is
// locked the right password is refused under either name, before any
// second factor is asked for. The name typed is told of the lock
// (ErrLocked) only when that name itself reached the limit.
func TestAccountLockHoldsUnderEveryName(t *testing.T) {
	wrong := func(login string, n int) func(t *testing.T, e env) {
		return func(t *testing.T, e env) {
			for i := range n {
				if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: "wrong", ClientIP: "192.0.2.1"}); !errors.Is(err, auth.ErrNotAuthorized) {
					t.Fatalf("wrong password %d as %s: %v", i+1, login, err)
				}
			}
		}
	}
	tests := []struct {
		name string
		totp bool
		lock func(t *testing.T, e env)
		// want is the answer to the right password under each name
		// while the account is locked.
		want map[string]error
	}{
		{"locked under the username", false, wrong("hal", 5),
			map[string]error{"hal": auth.ErrLocked, "hal@example.com": auth.ErrNotAuthorized}},
		{"locked under the email address", false, wrong("HAL@example.com", 5),
			map[string]error{"hal": auth.ErrNotAuthorized, "hal@example.com": auth.ErrLocked}},
		{"names alternated", false, func(t *testing.T, e env) {
			wrong("hal", 3)(t, e)
			wrong("hal@example.com", 2)(t, e)
		}, map[string]error{"hal": auth.ErrNotAuthorized, "hal@example.com": auth.ErrNotAuthorized}},
		{"locked at the second factor", true, func(t *testing.T, e env) {
			res := e.signIn(t, "acme", "hal")
			for range 5 {
				e.answer(res.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: "000000"})
			}
		}, map[string]error{"hal": auth.ErrLocked, "hal@example.com": auth.ErrNotAuthorized}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
			hal := e.user(t, tenant.NewUser{Username: "hal", Email: "hal@example.com", Password: annPassword})
			if tt.totp {
				e.enrolTOTP(t, hal.Sub)
			}
			tt.lock(t, e)
			for login, want := range tt.want {
				res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: annPassword, ClientIP: "192.0.2.2"})
				if !errors.Is(err, want) {
					t.Errorf("right password as %s while locked: %+v, %v; want %v", login, res, err, want)
				}
			}
			var until time.Time
			e.svc.Store.View(ctx, func(tx tenant.Tx) (err error) {
				until, err = auth.LockedUntil(tx, "acme", hal, e.clk.t)
				return err
			})
			if until.IsZero() {
				t.Error("LockedUntil is zero while the account is locked")
			}

			e.clk.t = e.clk.t.Add(15*time.Minute + time.Second)
			res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "hal@example.com", Password: annPassword, ClientIP: "192.0.2.3"})
			if err != nil || res.Done() == tt.totp {
				t.Fatalf("after the lock expired: %+v, %v", res, err)
			}
		})
	}
}

// An administrator's unlock releases the account's lock too, and a sign-in
// forgets the account's failures as it forgets the name's.
func TestAccountLockReleased(t *testing.T) {
	e := newEnv(t)
	hal := e.user(t, tenant.NewUser{Username: "hal", Email: "hal@example.com", Password: "Correct-Horse-9"})
	e.svc.ReleaseLockout = auth.Unlock
	start := func(login, password string) (auth.Result, error) {
		return e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: password, ClientIP: "192.0.2.1"})
	}
	for _, login := range []string{"hal", "hal", "hal", "hal@example.com", "hal@example.com"} {
		start(login, "wrong")
	}
	if _, err := start("hal", "Correct-Horse-9"); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Fatalf("locked account: %v", err)
	}
	if err := e.svc.Unlock(ctx, "acme", hal.Sub); err != nil {
		t.Fatal(err)
	}
	if res, err := start("hal@example.com", "Correct-Horse-9"); err != nil || !res.Done() {
		t.Fatalf("after the unlock: %+v, %v", res, err)
	}

	// Four failures under one name, a sign-in under the other, four more:
	// the sign-in cleared the account's count, so it is not locked.
	for range 4 {
		start("hal@example.com", "wrong-again")
	}
	if res, err := start("hal", "Correct-Horse-9"); err != nil || !res.Done() {
		t.Fatalf("after four failures: %+v, %v", res, err)
	}
	for range 4 {
		start("hal", "wrong-again")
	}
	if res, err := start("hal", "Correct-Horse-9"); err != nil || !res.Done() {
		t.Fatalf("four failures after a sign-in: %+v, %v", res, err)
	}
}

// While an account is locked, a name of it that is not locked itself reads
// exactly as a name that belongs to no one: the same refusals, the same
// slow-down, the same lock of the name at the limit, and the right password
// changes none of it. Nobody learns that the two names belong together.
func TestLockedAccountReadsAsUnknownName(t *testing.T) {
	e := newEnv(t)
	e.user(t, tenant.NewUser{Username: "hal", Email: "hal@example.com", Password: "Correct-Horse-9"})
	for range 5 {
		e.m.Start(ctx, "acme", auth.Credentials{Login: "hal", Password: "wrong", ClientIP: "192.0.2.1"})
	}
	type outcome struct {
		err   string
		pause time.Duration
	}
	attempts := func(login string) []outcome {
		var out []outcome
		for range 6 {
			var pause time.Duration
			e.m.Pause = func(_ context.Context, d time.Duration) error { pause = d; return nil }
			res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: "Correct-Horse-9", ClientIP: "192.0.2.2"})
			if err == nil {
				t.Fatalf("%s signed in while the account is locked: %+v", login, res)
			}
			out = append(out, outcome{fmt.Sprint(err), pause})
		}
		return out
	}
	account, nobody := attempts("hal@example.com"), attempts("nobody@example.com")
	if !slices.Equal(account, nobody) {
		t.Errorf("the locked account's email address:\n%v\na name of no one:\n%v", account, nobody)
	}
	if last := nobody[len(nobody)-1].err; last != auth.ErrLocked.Error() {
		t.Errorf("the sixth attempt: %s, want the name locked", last)
	}
}

// Guesses sent at once under both names of an account are held to the
// account's limit: each password check under way counts against the
// account too, and a guess that finds no room is refused unchecked, as
// while the account is locked.
func TestAccountLockHoldsForGuessesSentAtOnce(t *testing.T) {
	e := newEnv(t)
	e.m.Audit = tenant.RecordAudit
	e.user(t, tenant.NewUser{Username: "ann", Email: "ann@example.com", Password: "Correct-Horse-9"})
	const guesses = 40
	results := make(chan error, guesses)
	start := make(chan struct{})
	for i := range guesses {
		login := []string{"ann", "ann@example.com"}[i%2]
		go func() {
			<-start
			_, err := e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: "wrong", ClientIP: fmt.Sprintf("192.0.2.%d", i+1)})
			results <- err
		}()
	}
	close(start)
	for range guesses {
		if err := <-results; !errors.Is(err, auth.ErrNotAuthorized) && !errors.Is(err, auth.ErrLocked) {
			t.Fatal(err)
		}
	}
	// The trail tells the checked guesses (a wrong password) from those
	// refused unchecked (locked).
	page, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: "signin.failure", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, ev := range page.Events {
		if ev.Reason == tenant.ReasonWrongPassword {
			checked++
		}
	}
	if checked != 5 {
		t.Errorf("%d of %d guesses under two names at once were checked, want 5", checked, guesses)
	}
}

// A failure is counted in the store before its check ends, so for a moment
// it is in both counts: the account's counter and the checks under way.
// An attempt that looks at the account then must not be refused as if the
// account were locked: a person's fifth attempt, the right password, is
// checked and signs in though a guess's fourth failure has just committed
// and its check not yet ended (a guess stalled there on a busy machine,
// once, and a burst of 40 had only 4 of its guesses checked).
func TestFifthAttemptCheckedWhileFourthIsCounted(t *testing.T) {
	e := newEnv(t)
	ann := e.user(t, tenant.NewUser{Username: "ann", Email: "ann@example.com", Password: "Correct-Horse-9"})
	store := &lockoutSeamStore{Store: e.m.Store, key: "account:" + ann.Sub}
	e.m.Store = store
	start := func(login, password string) (auth.Result, error) {
		return e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: password, ClientIP: "192.0.2.1"})
	}
	for i := range 3 {
		if _, err := start("ann", "wrong"); !errors.Is(err, auth.ErrNotAuthorized) {
			t.Fatalf("wrong password %d: %v", i+1, err)
		}
	}

	// The fourth failure commits, and its check stops there, not ended.
	committed, goOn := make(chan struct{}), make(chan struct{})
	store.arm(&store.afterWrite, func() { close(committed); <-goOn })
	fourth := make(chan error, 1)
	go func() {
		_, err := start("ann", "wrong")
		fourth <- err
	}()
	<-committed

	// The fifth attempt, under the other name, reads the account's
	// counter; then the fourth's check ends.
	read := make(chan struct{})
	store.arm(&store.onRead, func() { close(read) })
	type outcome struct {
		res auth.Result
		err error
	}
	fifth := make(chan outcome, 1)
	go func() {
		res, err := start("ann@example.com", "Correct-Horse-9")
		fifth <- outcome{res, err}
	}()
	<-read
	close(goOn)
	if err := <-fourth; !errors.Is(err, auth.ErrNotAuthorized) {
		t.Fatalf("fourth wrong password: %v", err)
	}
	if got := <-fifth; got.err != nil || !got.res.Done() || got.res.Sub != ann.Sub {
		t.Errorf("the right password after four failures, one of them being counted: %+v, %v; want signed in", got.res, got.err)
	}
}

// A person who signs in twice at once at their account's last attempt
// (a double click, two tabs, under the username and the email address)
// has both checked: the second waits for the first check under way rather
// than being refused unchecked as if the account were locked, which would
// answer their right password "wrong" and count it.
func TestRightPasswordTwiceAtTheLastAttempt(t *testing.T) {
	e := newEnv(t)
	ann := e.user(t, tenant.NewUser{Username: "ann", Email: "ann@example.com", Password: "Correct-Horse-9"})
	store := &lockoutSeamStore{Store: e.m.Store, coll: tenant.CollUsers, key: ann.Sub}
	e.m.Store = store
	type outcome struct {
		res auth.Result
		err error
	}
	start := func(login, password string) chan outcome {
		done := make(chan outcome, 1)
		go func() {
			res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: password, ClientIP: "192.0.2.1"})
			done <- outcome{res, err}
		}()
		return done
	}
	for i, login := range []string{"ann", "ann@example.com", "ann", "ann@example.com"} {
		if got := <-start(login, "wrong"); !errors.Is(got.err, auth.ErrNotAuthorized) {
			t.Fatalf("wrong password %d: %v", i+1, got.err)
		}
	}

	// The first sign-in is held once its password is checked, as it reads
	// the user again (its second read of them), with its checks under way.
	held, release := make(chan struct{}), make(chan struct{})
	store.arm(&store.onRead, func() { // the first read: finding the user
		store.arm(&store.onRead, func() { close(held); <-release })
	})
	first := start("ann", "Correct-Horse-9")
	<-held
	second := start("ann@example.com", "Correct-Horse-9")
	var early *outcome
	select {
	case got := <-second:
		early = &got
		t.Errorf("second sign-in answered while the first check was under way: %+v, %v; want it to wait", got.res, got.err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release) // also when the test failed: the store closes only once the first read ends
	got := map[string]outcome{"first": <-first}
	if early == nil {
		got["second"] = <-second
	}
	for name, o := range got {
		if o.err != nil || !o.res.Done() || o.res.Sub != ann.Sub {
			t.Errorf("%s sign-in with the right password: %+v, %v; want signed in", name, o.res, o.err)
		}
	}
}

// The account page's password change reserves the account's check as a
// sign-in does, not only the username's: at the account's last attempt,
// a wrong current password waits for the check of the account under way
// (here a sign-in under the email address, whose failures brought the
// account there) rather than being checked beside it, which would let
// two checks spend one last attempt.
func TestPasswordChangeWaitsAtTheAccountsLastAttempt(t *testing.T) {
	e := newEnv(t)
	ann := e.user(t, tenant.NewUser{Username: "ann", Email: "ann@example.com", Password: "Correct-Horse-9"})
	for i := range 4 {
		if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann@example.com", Password: "wrong", ClientIP: "192.0.2.1"}); !errors.Is(err, auth.ErrNotAuthorized) {
			t.Fatalf("wrong password %d: %v", i+1, err)
		}
	}
	store := &lockoutSeamStore{Store: e.m.Store, coll: tenant.CollUsers, key: ann.Sub}
	e.m.Store = store

	// The sign-in is held once its password is checked, as it reads the
	// user again, with its checks under way.
	held, release := make(chan struct{}), make(chan struct{})
	store.arm(&store.onRead, func() { // the first read: finding the user
		store.arm(&store.onRead, func() { close(held); <-release })
	})
	signIn := make(chan error, 1)
	go func() {
		_, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "ann@example.com", Password: "Correct-Horse-9", ClientIP: "192.0.2.1"})
		signIn <- err
	}()
	<-held
	change := make(chan error, 1)
	go func() { change <- e.m.ChangePassword(ctx, "acme", ann.Sub, "wrong", "New-Horse-10", "192.0.2.2") }()
	select {
	case err := <-change:
		t.Errorf("password change answered while the account's last attempt was being checked: %v; want it to wait", err)
		change <- err
	case <-time.After(200 * time.Millisecond):
	}
	close(release) // also when the test failed: the store closes only once the sign-in's read ends
	if err := <-signIn; err != nil {
		t.Errorf("sign-in with the right password: %v", err)
	}
	if err := <-change; !errors.Is(err, auth.ErrNotAuthorized) {
		t.Errorf("wrong current password, checked once the sign-in's check ended: %v, want ErrNotAuthorized", err)
	}
}

// Wrong answers counted at once record one lockout, that of the answer
// whose failure locked: the other, counted while the lock held, locked
// nothing. Two second-factor answers both pass the lock check before
// either is counted: the first is held after spending its flow's attempt
// until the second's failure locked the account and it paused; then it is
// counted too.
func TestLockoutRecordedOnceForFailuresAtOnce(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	e.m.Audit = tenant.RecordAudit
	hal := e.user(t, tenant.NewUser{Username: "hal", Email: "hal@example.com", Password: annPassword})
	e.enrolTOTP(t, hal.Sub)
	// Four failures of the account, two of them under the name hal: the
	// next failure locks the account, and hal's is held back (slowDown).
	for _, login := range []string{"hal@example.com", "hal@example.com", "hal", "hal"} {
		if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: "wrong", ClientIP: "192.0.2.1"}); !errors.Is(err, auth.ErrNotAuthorized) {
			t.Fatal(err)
		}
	}
	first, second := e.signIn(t, "acme", "hal"), e.signIn(t, "acme", "hal")
	wrong := auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: "000000"}

	store := &lockoutSeamStore{Store: e.m.Store, coll: tenant.CollAuthFlows, key: tenant.HashSecret(first.Session)}
	e.m.Store = store
	held, release := make(chan struct{}), make(chan struct{})
	store.arm(&store.afterWrite, func() { close(held); <-release })
	firstDone := make(chan error, 1)
	go func() {
		_, err := e.answer(first.Session, wrong)
		firstDone <- err
	}()
	<-held
	var pauses atomic.Int32
	e.m.Pause = func(context.Context, time.Duration) error {
		if pauses.Add(1) == 1 { // the second answer's, once it locked
			close(release)
			if err := <-firstDone; !errors.Is(err, auth.ErrCodeMismatch) {
				t.Errorf("first wrong code: %v", err)
			}
		}
		return nil
	}
	if _, err := e.answer(second.Session, wrong); !errors.Is(err, auth.ErrCodeMismatch) {
		t.Fatalf("second wrong code: %v", err)
	}

	page, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: string(tenant.AuditSignInLockout), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 {
		t.Errorf("%d lockouts recorded for one lock, want 1: %+v", len(page.Events), page.Events)
	}
}

// Failed sign-ins under made-up names from ever new addresses leave no
// counter behind once their window has passed: the minute's sweep deletes
// them, so a guessing campaign does not grow the data file for ever. A
// lock holds to its end all the same, not a moment less, even when the
// lock duration is shortened meanwhile.
func TestLockoutCountersSwept(t *testing.T) {
	e := newEnv(t)
	start := e.clk.t // the window and lock are 15 minutes, the tenant default
	// sweep runs the full scan too, which reads every counter.
	sweep := func(at time.Time) {
		t.Helper()
		if _, err := tenant.SweepExpiredFull(ctx, e.svc.Store, at); err != nil {
			t.Fatal(err)
		}
		if _, err := tenant.SweepExpired(ctx, e.svc.Store, at); err != nil {
			t.Fatal(err)
		}
	}
	counters := func() []string {
		t.Helper()
		var keys []string
		err := e.svc.Store.View(ctx, func(tx tenant.Tx) error {
			return tx.Scan(tenant.CollLockouts, "acme", "", "", func(key string, _ []byte) bool { keys = append(keys, key); return true })
		})
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	const guesses = 40
	for i := range guesses {
		cr := auth.Credentials{Login: fmt.Sprintf("made-up-%d", i), Password: "wrong", ClientIP: fmt.Sprintf("198.51.100.%d", i)}
		if _, err := e.m.Start(ctx, "acme", cr); !errors.Is(err, auth.ErrNotAuthorized) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	e.clk.t = start.Add(10 * time.Minute)
	for range 5 {
		e.m.Start(ctx, "acme", auth.Credentials{Login: "mallory", Password: "wrong", ClientIP: "203.0.113.9"})
	}
	lockedUntil := e.clk.t.Add(15 * time.Minute)
	if n := len(counters()); n != 2*guesses+2 {
		t.Fatalf("%d counters, want %d: a name and an address per guess, and mallory's", n, 2*guesses+2)
	}
	short := tenant.LockoutPolicy{MaxFailures: 5, LockDuration: time.Minute}
	if _, err := e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Lockout: &short}}); err != nil {
		t.Fatal(err)
	}

	sweep(start.Add(15*time.Minute - time.Nanosecond))
	if n := len(counters()); n != 2*guesses+2 {
		t.Fatalf("%d counters a moment before the guesses' window ends, want all %d", n, 2*guesses+2)
	}
	sweep(start.Add(15 * time.Minute))
	if got, want := counters(), []string{"ip:203.0.113.9", "login:mallory"}; !slices.Equal(got, want) {
		t.Fatalf("counters once the guesses' window ended: %q, want %q", got, want)
	}

	e.clk.t = lockedUntil.Add(-time.Nanosecond)
	sweep(e.clk.t)
	if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "mallory", Password: "wrong", ClientIP: "192.0.2.7"}); !errors.Is(err, auth.ErrLocked) {
		t.Fatalf("a moment before the lock ends, swept meanwhile: %v, want ErrLocked", err)
	}
	e.clk.t = lockedUntil
	sweep(e.clk.t)
	if got := counters(); len(got) != 0 {
		t.Fatalf("counters once the lock ended: %q, want none", got)
	}
	if _, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "mallory", Password: "wrong", ClientIP: "192.0.2.7"}); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Fatalf("once the lock ended: %v, want ErrNotAuthorized", err)
	}
}

// lockoutSeamStore is the real store with two seams on the lockout counter
// under key (or on the record under key in coll, when coll is set), each
// armed once (arm): afterWrite runs right after the next Update that wrote
// the record commits, onRead when a View next reads it. They stop a
// request between its failure's commit and the end of its check, and let
// another look meanwhile, deterministically.
type lockoutSeamStore struct {
	tenant.Store
	key  string
	coll tenant.Collection

	mu                 sync.Mutex
	afterWrite, onRead func()
}

// arm sets seam to f, to run once.
func (s *lockoutSeamStore) arm(seam *func(), f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*seam = f
}

// fire runs seam once, if armed.
func (s *lockoutSeamStore) fire(seam *func()) {
	s.mu.Lock()
	f := *seam
	*seam = nil
	s.mu.Unlock()
	if f != nil {
		f()
	}
}

func (s *lockoutSeamStore) Update(ctx context.Context, fn func(tx tenant.Tx) error) error {
	wrote := false
	err := s.Store.Update(ctx, func(tx tenant.Tx) error {
		wrote = false
		return fn(&seamTx{Tx: tx, coll: s.collection(), key: s.key, put: func() error { wrote = true; return nil }, get: func() {}})
	})
	if err == nil && wrote {
		s.fire(&s.afterWrite)
	}
	return err
}

func (s *lockoutSeamStore) View(ctx context.Context, fn func(tx tenant.Tx) error) error {
	return s.Store.View(ctx, func(tx tenant.Tx) error {
		return fn(&seamTx{Tx: tx, coll: s.collection(), key: s.key, put: func() error { return nil }, get: func() { s.fire(&s.onRead) }})
	})
}

// collection is the collection of the record the seams are on.
func (s *lockoutSeamStore) collection() tenant.Collection {
	if s.coll == "" {
		return tenant.CollLockouts
	}
	return s.coll
}

// seamTx tells its store when the record under key in coll is read or
// written; a write fails with put's error.
type seamTx struct {
	tenant.Tx
	coll tenant.Collection
	key  string
	get  func()
	put  func() error
}

func (tx *seamTx) Get(c tenant.Collection, tenantID, key string) ([]byte, error) {
	if c == tx.coll && key == tx.key {
		tx.get()
	}
	return tx.Tx.Get(c, tenantID, key)
}

func (tx *seamTx) Put(c tenant.Collection, tenantID, key string, value []byte) error {
	if c == tx.coll && key == tx.key {
		if err := tx.put(); err != nil {
			return err
		}
	}
	return tx.Tx.Put(c, tenantID, key, value)
}
