package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Queue is the durable outbox, kept in the caller's store so that a mail is
// queued in the same transaction as the change that causes it (a user
// created, a password reset). The Outbox only calls these methods.
//
// Delivery is at least once: a mail whose Delivered call fails is sent again.
// A store shared by several replicas should claim the records it returns
// from Due (for instance by moving their next attempt forward), or two
// replicas may send the same mail.
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
			return
		case <-ticker.C:
		case <-wake:
		}
	}
}

// RunOnce makes one pass and returns how many mails were delivered. A failed
// delivery is an outcome, recorded in the queue and logged; the error reports
// only trouble with the queue itself, or ctx ending.
func (o *Outbox) RunOnce(ctx context.Context) (sent int, err error) {
	due, err := o.Queue.Due(ctx, o.now(), outboxBatch)
	if err != nil {
		return 0, fmt.Errorf("mail: outbox: list due mail: %w", err)
	}
	var errs []error
	for _, q := range due {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		delivered, err := o.deliver(ctx, q)
		if delivered {
			sent++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

// deliver sends one queued mail and records the outcome.
func (o *Outbox) deliver(ctx context.Context, q Queued) (delivered bool, err error) {
	log := o.logger()
	attempts := q.Attempts + 1

	sendErr := o.Sender.Send(ctx, q.Message)
	// The outcome is recorded even when ctx ends meanwhile, as it does when
	// the server shuts down: a mail the relay accepted but that stays
	// queued would be sent again after the restart.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if sendErr == nil {
		if err := o.Queue.Delivered(rctx, q.ID); err != nil {
			// The mail is out but will be sent again: say so.
			log.ErrorContext(ctx, "mail delivered but not marked; it will be sent again", "mail", q.Message, "err", err)
			return true, fmt.Errorf("mail: outbox: mark %q delivered: %w", q.ID, err)
		}
		log.InfoContext(ctx, "mail delivered", "mail", q.Message, "attempts", attempts)
		return true, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		// Shutting down mid-send is not the mail's fault: no attempt counted.
		return false, ctxErr
	}

	permanent := errors.Is(sendErr, ErrPermanent) || attempts >= o.Backoff.maxAttempts()
	var next time.Time
	if permanent {
		log.ErrorContext(ctx, "mail delivery failed; giving up", "mail", q.Message, "attempts", attempts, "err", sendErr)
	} else {
		next = o.now().Add(o.Backoff.Delay(attempts))
		log.WarnContext(ctx, "mail delivery failed; will retry", "mail", q.Message, "attempts", attempts, "next", next, "err", sendErr)
	}
	if err := o.Queue.Failed(rctx, q.ID, attempts, next, sendErr.Error(), permanent); err != nil {
		return false, fmt.Errorf("mail: outbox: record failure of %q: %w", q.ID, err)
	}
	return false, nil
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
