package tenant

import (
	"context"
	"fmt"
	"time"

	"github.com/cognate-idp/cognate/mail"
)

// The durable mail outbox. A mail is queued in the same transaction as the
// change that causes it (activating a user queues the welcome mail), so the
// two happen together or not at all; mail.Outbox then delivers it with
// retries. Records are keyed by due time, so finding due mail is a prefix
// scan that stops at the first one not yet due.

type queuedMail struct {
	ID        string       `json:"id"`
	Message   mail.Message `json:"message"`
	Attempts  int          `json:"attempts"`
	DueAt     time.Time    `json:"due_at"`
	LastError string       `json:"last_error,omitempty"`
	Failed    bool         `json:"failed"`
	CreatedAt time.Time    `json:"created_at"`
}

// Failed mail is kept apart from the queue so Due never scans it again.
const (
	outboxDue    = "due/"
	outboxFailed = "failed/"
	outboxIndex  = "id/" // id → current key
)

func outboxKey(due time.Time, id string) string {
	return fmt.Sprintf("%s%016x/%s", outboxDue, due.UTC().UnixNano(), id)
}

// EnqueueMail queues m for delivery as part of tx.
func EnqueueMail(tx Tx, m mail.Message, now time.Time) error {
	if m.ID == "" {
		m.ID = NewUUID()
	}
	q := queuedMail{ID: m.ID, Message: m, DueAt: now, CreatedAt: now}
	key := outboxKey(now, m.ID)
	if err := tx.Put(CollOutbox, "", outboxIndex+m.ID, []byte(key)); err != nil {
		return err
	}
	return PutJSON(tx, CollOutbox, "", key, q)
}

// MailQueue is the store-backed mail.Queue.
type MailQueue struct{ Store Store }

var _ mail.Queue = MailQueue{}

// Due returns up to limit mails whose time has come, oldest first.
func (q MailQueue) Due(ctx context.Context, now time.Time, limit int) ([]mail.Queued, error) {
	var out []mail.Queued
	nowKey := outboxKey(now, "~")
	err := q.Store.View(ctx, func(tx Tx) error {
		return ScanJSON(tx, CollOutbox, "", outboxDue, "", func(key string, m queuedMail) bool {
			if key > nowKey || len(out) == limit {
				return false
			}
			out = append(out, mail.Queued{Message: m.Message, Attempts: m.Attempts})
			return true
		})
	})
	return out, err
}

// Delivered removes a delivered mail, and with it any secret it carried.
func (q MailQueue) Delivered(ctx context.Context, id string) error {
	return q.Store.Update(ctx, func(tx Tx) error {
		key, err := tx.Get(CollOutbox, "", outboxIndex+id)
		if err != nil {
			return nil // already gone
		}
		if err := tx.Delete(CollOutbox, "", string(key)); err != nil {
			return err
		}
		return tx.Delete(CollOutbox, "", outboxIndex+id)
	})
}

// Failed records a failed attempt: the mail is due again at next, or, when
// permanent, kept aside for an operator with any secret body wiped.
func (q MailQueue) Failed(ctx context.Context, id string, attempts int, next time.Time, lastErr string, permanent bool) error {
	return q.Store.Update(ctx, func(tx Tx) error {
		key, err := tx.Get(CollOutbox, "", outboxIndex+id)
		if err != nil {
			return nil
		}
		m, err := GetJSON[queuedMail](tx, CollOutbox, "", string(key))
		if err != nil {
			return err
		}
		if err := tx.Delete(CollOutbox, "", string(key)); err != nil {
			return err
		}
		m.Attempts, m.LastError, m.DueAt = attempts, lastErr, next
		newKey := outboxKey(next, id)
		if permanent {
			m.Failed = true
			if m.Message.Sensitive {
				m.Message.Text, m.Message.HTML = "", ""
			}
			newKey = outboxFailed + id
		}
		if err := tx.Put(CollOutbox, "", outboxIndex+id, []byte(newKey)); err != nil {
			return err
		}
		return PutJSON(tx, CollOutbox, "", newKey, m)
	})
}

// FailedMail lists mails that were given up on, for operators.
func (q MailQueue) FailedMail(ctx context.Context) ([]mail.Queued, error) {
	var out []mail.Queued
	err := q.Store.View(ctx, func(tx Tx) error {
		return ScanJSON(tx, CollOutbox, "", outboxFailed, "", func(_ string, m queuedMail) bool {
			out = append(out, mail.Queued{Message: m.Message, Attempts: m.Attempts})
			return true
		})
	})
	return out, err
}

// Pending counts mails waiting for delivery.
func (q MailQueue) Pending(ctx context.Context) (int, error) {
	n := 0
	err := q.Store.View(ctx, func(tx Tx) error {
		return tx.Scan(CollOutbox, "", outboxDue, "", func(string, []byte) bool {
			n++
			return true
		})
	})
	return n, err
}
