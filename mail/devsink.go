package mail

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
)

// DevSinkCapacity is how many mails a DevSink keeps; older ones are dropped.
const DevSinkCapacity = 100

// DevSink is the development Sender: instead of sending, it keeps the last
// DevSinkCapacity mails in memory, where the UI shows them (bodies
// included: that is how a developer reads a temporary password). It logs one
// line per mail, without the body. It is safe for concurrent use.
type DevSink struct {
	logger *slog.Logger

	mu   sync.Mutex
	msgs []Message // oldest first
}

var _ Sender = (*DevSink)(nil)

// NewDevSink returns an empty sink that logs to logger (nil: no log).
func NewDevSink(logger *slog.Logger) *DevSink {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &DevSink{logger: logger}
}

// Send keeps m. It checks the addresses as SMTPSender would, so that a bad
// address fails in development too.
func (d *DevSink) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	if _, err := checkMessage(m, ""); err != nil {
		return err
	}
	m.To = slices.Clone(m.To)

	d.mu.Lock()
	d.msgs = append(d.msgs, m)
	if over := len(d.msgs) - DevSinkCapacity; over > 0 {
		d.msgs = slices.Delete(d.msgs, 0, over)
	}
	d.mu.Unlock()

	d.logger.InfoContext(ctx, "mail kept by the development sink", "mail", m)
	return nil
}

// Messages returns the kept mails, newest first. The slice is a copy.
func (d *DevSink) Messages() []Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Message, len(d.msgs))
	for i, m := range d.msgs {
		m.To = slices.Clone(m.To)
		out[len(out)-1-i] = m
	}
	return out
}
