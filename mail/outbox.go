package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// Queue is the durable outbox, kept in the caller's store so that a mail is
// queued in the same transaction as the change that causes it (a user
// created, a password reset). The Outbox only calls these methods.
//
// Delivery is at least once. A mail whose Delivered call fails is not sent
// again by the same Outbox, which keeps the outcome in memory and records it
// once the queue can be written; but a restart before then forgets it, and
// the mail goes out again. A store shared by several replicas should claim
// the records it returns from Due (for instance by moving their next
// attempt forward), or two replicas may send the same mail.
type Queue interface {
	// Due returns up to limit messages whose next attempt is at or before
	// now, oldest first.
	Due(ctx context.Context, now time.Time, limit int) ([]Queued, error)
	// Delivered records that the message was sent. The store deletes the
	// record, or at least wipes the body of a sensitive one.
	Delivered(ctx context.Context, id string) error
	// Failed records a failed attempt: attempts is the number of attempts
	// made so far, next the time of the next one. When permanent is true
	// there is no next attempt; the store keeps the record for an operator
	// to see but should wipe the body of a sensitive one. lastErr holds no
	// secret.
	Failed(ctx context.Context, id string, attempts int, next time.Time, lastErr string, permanent bool) error
}

// Queued is a message in the outbox with the number of attempts already made.
type Queued struct {
	Message
	Attempts int
}

// Back-off defaults: 5 s, 10 s, 20 s … up to an hour between attempts, and
// 100 attempts, which is about four days: longer than a weekend outage,
// shorter than a temporary password's default week.
const (
	DefaultBackoffInitial     = 5 * time.Second
	DefaultBackoffMax         = time.Hour
	DefaultBackoffMaxAttempts = 100
)

// Backoff says when to try again after a temporary failure. The zero value
// uses the defaults above and no jitter.
type Backoff struct {
	// Initial is the wait after the first failed attempt; it doubles after
	// each further one.
	Initial time.Duration
	// Max caps the wait.
	Max time.Duration
	// MaxAttempts is the number of attempts after which a mail is given up.
	MaxAttempts int
	// Jitter, when set, returns a random duration in [0, n). Up to a
	// quarter of each wait is taken off with it, so that mails queued during
	// one outage do not all come back in the same second. In production,
	// math/rand/v2's rand.N[time.Duration] will do.
	Jitter func(n time.Duration) time.Duration
}

// Delay is the wait after the given number of failed attempts (1 or more).
func (b Backoff) Delay(attempts int) time.Duration {
	initial, maxDelay := b.Initial, b.Max
	if initial <= 0 {
		initial = DefaultBackoffInitial
	}
	if maxDelay <= 0 {
		maxDelay = DefaultBackoffMax
	}
	d := initial
	for i := 1; i < attempts && d < maxDelay; i++ {
		d *= 2 // stops at maxDelay long before it could overflow
	}
	d = min(d, maxDelay)
	if b.Jitter != nil {
		if quarter := d / 4; quarter > 0 {
			d -= min(max(b.Jitter(quarter), 0), quarter-1)
		}
	}
	return d
}

func (b Backoff) maxAttempts() int {
	if b.MaxAttempts <= 0 {
		return DefaultBackoffMaxAttempts
	}
	return b.MaxAttempts
}

// Outbox pacing.
const (
	// DefaultPollInterval is how often Run looks for due mail when nobody
	// calls Wake.
	DefaultPollInterval = time.Second
	// outboxBatch is how many mails one pass takes from the queue.
	outboxBatch = 50
	// recordTimeout bounds the queue update after an attempt, which runs
	// even when the pass's context has ended.
	recordTimeout = 10 * time.Second
)

// Outbox delivers queued mail: each pass sends every due message, marks it
// delivered, or records the failure with the time of the next attempt. Set
// the fields before calling Run; do not copy an Outbox after first use.
//
// When the queue cannot be written (a full disk), an outcome that could not
// be recorded is kept in memory: the mail is not sent again, and only the
// record is tried again, at the start of each pass. Meanwhile passes wait
// with the Backoff, as a mail's attempts do, so that the queue is not read
// and the log not written every second.
type Outbox struct {
	Queue  Queue
	Sender Sender
	// Logger receives one line per delivery or failure; nil discards.
	Logger *slog.Logger
	// Now is the clock that decides what is due; nil means time.Now.
	Now     func() time.Time
	Backoff Backoff
	// PollInterval is Run's period; zero means DefaultPollInterval.
	PollInterval time.Duration

	wakeOnce sync.Once
	wake     chan struct{}

	mu sync.Mutex
	// unrecorded holds, by mail ID, the outcomes the queue did not take.
	unrecorded map[string]outcome
	// queueFailures counts the passes in a row that found the queue
	// unusable; passes before resumeAt are skipped.
	queueFailures int
	resumeAt      time.Time
}

// outcome is the result of one attempt, as the queue records it.
type outcome struct {
	// mail is the message for the log line of a late record, without its
	// body (withoutBody): an outcome may wait in memory for long, and the
	// body may hold a temporary password or a reset code.
	mail      Message
	delivered bool
	// For a failure:
	attempts  int
	next      time.Time
	lastErr   string
	permanent bool
}

// Wake asks Run for a pass now, so that a mail queued a moment ago goes out
// at once rather than at the next poll. It never blocks: a nudge already
// pending is enough.
func (o *Outbox) Wake() {
	select {
	case o.wakeChan() <- struct{}{}:
	default:
	}
}

func (o *Outbox) wakeChan() chan struct{} {
	o.wakeOnce.Do(func() { o.wake = make(chan struct{}, 1) })
	return o.wake
}

// Run makes a pass at once, then after every poll interval or Wake, until
// ctx is done. Failures are logged, never fatal: the queue keeps the mail.
// Before it returns, Run tries once more to record the outcomes the queue
// did not take, since a restart would send those mails again.
func (o *Outbox) Run(ctx context.Context) {
	interval := o.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	wake := o.wakeChan()
	for {
		if _, err := o.RunOnce(ctx); err != nil && ctx.Err() == nil {
			o.logger().ErrorContext(ctx, "mail outbox pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			o.finalRecord(ctx)
			return
		case <-ticker.C:
		case <-wake:
		}
	}
}

// finalRecord tries to record the outcomes still in memory as Run stops.
func (o *Outbox) finalRecord(ctx context.Context) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := o.recordPending(rctx); err != nil {
		o.logger().ErrorContext(ctx, "mail outcomes not recorded at shutdown; those mails will be sent again after the restart", "err", err)
	}
}

// RunOnce makes one pass and returns how many mails were delivered. A failed
// delivery is an outcome, recorded in the queue and logged; the error reports
// only trouble with the queue itself, or ctx ending. After trouble with the
// queue, passes wait with the Backoff: until then RunOnce does nothing.
func (o *Outbox) RunOnce(ctx context.Context) (sent int, err error) {
	if o.backingOff() {
		return 0, nil
	}
	sent, err = o.pass(ctx)
	if ctx.Err() == nil {
		o.queueTrouble(err != nil)
	}
	return sent, err
}

// pass records the outcomes kept in memory, then sends the due mail. It
// stops at the first outcome the queue does not take: sending more while
// the queue cannot be written would only keep more of them in memory, to be
// sent again after a restart.
func (o *Outbox) pass(ctx context.Context) (sent int, err error) {
	if err := o.recordPending(ctx); err != nil {
		return 0, err
	}
	due, err := o.Queue.Due(ctx, o.now(), outboxBatch)
	if err != nil {
		return 0, fmt.Errorf("mail: outbox: list due mail: %w", err)
	}
	for _, q := range due {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		// Sent already, its outcome waiting to be recorded: never again.
		// (A pass gets here only with none waiting; this keeps the promise
		// should that change.)
		if o.isUnrecorded(q.ID) {
			continue
		}
		delivered, err := o.deliver(ctx, q)
		if delivered {
			sent++
		}
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// deliver sends one queued mail and records the outcome. Its error is
// ctx's, or says that the queue did not take the outcome, which is then
// kept in memory.
func (o *Outbox) deliver(ctx context.Context, q Queued) (delivered bool, err error) {
	log := o.logger()
	attempts := q.Attempts + 1

	sendErr := o.Sender.Send(ctx, q.Message)
	var out outcome
	switch {
	case sendErr == nil:
		out = outcome{mail: withoutBody(q.Message), delivered: true}
		log.InfoContext(ctx, "mail delivered", "mail", q.Message, "attempts", attempts)
	case ctx.Err() != nil:
		// Shutting down mid-send is not the mail's fault: no attempt counted.
		return false, ctx.Err()
	default:
		out = outcome{mail: withoutBody(q.Message), attempts: attempts, lastErr: sendErr.Error(),
			permanent: errors.Is(sendErr, ErrPermanent) || attempts >= o.Backoff.maxAttempts()}
		if out.permanent {
			log.ErrorContext(ctx, "mail delivery failed; giving up", "mail", q.Message, "attempts", attempts, "err", sendErr)
		} else {
			out.next = o.now().Add(o.Backoff.Delay(attempts))
			log.WarnContext(ctx, "mail delivery failed; will retry", "mail", q.Message, "attempts", attempts, "next", out.next, "err", sendErr)
		}
	}
	// The outcome is recorded even when ctx ends meanwhile, as it does when
	// the server shuts down: a mail the relay accepted but that stays
	// queued would be sent again after the restart.
	if err := o.record(ctx, q.ID, out); err != nil {
		o.keepUnrecorded(q.ID, out)
		log.ErrorContext(ctx, "mail outcome not recorded; kept in memory until the queue can be written, and not sent again meanwhile",
			"mail", q.Message, "delivered", out.delivered, "err", err)
		return out.delivered, err
	}
	return out.delivered, nil
}

// record writes out to the queue, even when ctx has ended.
func (o *Outbox) record(ctx context.Context, id string, out outcome) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if out.delivered {
		if err := o.Queue.Delivered(rctx, id); err != nil {
			return fmt.Errorf("mail: outbox: mark %q delivered: %w", id, err)
		}
		return nil
	}
	if err := o.Queue.Failed(rctx, id, out.attempts, out.next, out.lastErr, out.permanent); err != nil {
		return fmt.Errorf("mail: outbox: record failure of %q: %w", id, err)
	}
	return nil
}

// recordPending records the outcomes kept in memory, and stops at the first
// the queue does not take.
func (o *Outbox) recordPending(ctx context.Context) error {
	o.mu.Lock()
	pending := maps.Clone(o.unrecorded)
	o.mu.Unlock()
	for _, id := range slices.Sorted(maps.Keys(pending)) {
		if err := o.record(ctx, id, pending[id]); err != nil {
			return err
		}
		o.mu.Lock()
		delete(o.unrecorded, id)
		o.mu.Unlock()
		o.logger().InfoContext(ctx, "mail outcome recorded after all", "mail", pending[id].mail, "delivered", pending[id].delivered)
	}
	return nil
}

// withoutBody is m with its text and HTML dropped: what an outcome keeps.
func withoutBody(m Message) Message {
	m.Text, m.HTML = "", ""
	return m
}

func (o *Outbox) keepUnrecorded(id string, out outcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unrecorded == nil {
		o.unrecorded = map[string]outcome{}
	}
	o.unrecorded[id] = out
}

func (o *Outbox) isUnrecorded(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.unrecorded[id]
	return ok
}

// backingOff reports whether passes are waiting after trouble with the
// queue.
func (o *Outbox) backingOff() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.now().Before(o.resumeAt)
}

// queueTrouble notes whether the pass had trouble with the queue, and sets
// when the next pass may run: at once after a good pass, after the
// Backoff's delay after a bad one.
func (o *Outbox) queueTrouble(trouble bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !trouble {
		o.queueFailures, o.resumeAt = 0, time.Time{}
		return
	}
	o.queueFailures++
	o.resumeAt = o.now().Add(o.Backoff.Delay(o.queueFailures))
}

func (o *Outbox) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o *Outbox) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}
