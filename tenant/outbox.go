package tenant

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/mail"
)

// The durable mail outbox. A mail is queued in the same transaction as the
// change that causes it (activating a user queues the welcome mail), so the
// two happen together or not at all; mail.Outbox then delivers it with
// retries. Records are keyed by due time, so finding due mail is a prefix
// scan that stops at the first one not yet due.

type queuedMail struct {
	ID      string       `json:"id"`
	Message mail.Message `json:"message"`
	// TenantID and Sub name the user the mail is for, so that it goes
	// with the user; both are empty for the apex's mail, which belongs to
	// no tenant, and in records of older versions.
	TenantID  string    `json:"tenant_id,omitempty"`
	Sub       string    `json:"sub,omitempty"`
	Attempts  int       `json:"attempts"`
	DueAt     time.Time `json:"due_at"`
	LastError string    `json:"last_error,omitempty"`
	Failed    bool      `json:"failed"`
	// FailedAt is when the mail was given up on; records of older
	// versions lack it (see failedSince).
	FailedAt  time.Time `json:"failed_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
}

// failedSince is when a given-up mail was given up on, or for a record of
// an older version, which did not say, when it was queued.
func (m queuedMail) failedSince() time.Time {
	return cmp.Or(m.FailedAt, m.CreatedAt)
}

// Failed mail is kept apart from the queue so Due never scans it again.
const (
	outboxDue    = "due/"
	outboxFailed = "failed/"
	outboxIndex  = "id/"    // id → current key
	outboxOwner  = "owner/" // tenant ID \x00 sub \x00 id → "", for the mail of a user
)

func outboxKey(due time.Time, id string) string {
	return fmt.Sprintf("%s%016x/%s", outboxDue, due.UTC().UnixNano(), id)
}

// ownerPrefix is the owner index's prefix for the mail of a user, or with
// an empty sub for the mail of every user of a tenant.
func ownerPrefix(tenantID, sub string) string {
	if sub == "" {
		return outboxOwner + tenantID + "\x00"
	}
	return outboxOwner + tenantID + "\x00" + sub + "\x00"
}

// MailOwner is the user a queued mail is for; the zero value is nobody's
// (the apex's list of organizations, which goes to an address).
type MailOwner struct{ TenantID, Sub string }

// EnqueueMail queues m for delivery as part of tx. A mail with an owner is
// deleted with the owner (DeleteUser, a tenant's deletion).
func EnqueueMail(tx Tx, owner MailOwner, m mail.Message, now time.Time) error {
	if m.ID == "" {
		m.ID = NewUUID()
	}
	q := queuedMail{ID: m.ID, Message: m, TenantID: owner.TenantID, Sub: owner.Sub, DueAt: now, CreatedAt: now}
	key := outboxKey(now, m.ID)
	if err := tx.Put(CollOutbox, "", outboxIndex+m.ID, []byte(key)); err != nil {
		return err
	}
	if owner.TenantID != "" && owner.Sub != "" {
		if err := tx.Put(CollOutbox, "", ownerPrefix(owner.TenantID, owner.Sub)+m.ID, nil); err != nil {
			return err
		}
	}
	return PutJSON(tx, CollOutbox, "", key, q)
}

// deleteQueuedMail deletes the mail id, pending or given up, with its index
// entries; a mail already gone is no error.
func deleteQueuedMail(tx Tx, id string) error {
	key, err := tx.Get(CollOutbox, "", outboxIndex+id)
	if errors.Is(err, ErrNotFound) {
		return nil // already gone
	}
	if err != nil {
		return err
	}
	// A record that cannot be read stops the deletion, which would leave
	// its owner entry behind; one that is damaged does not (one damaged
	// mail must not keep its user from being deleted), so only its owner
	// is decoded: a damaged field besides, a time say, is no matter.
	raw, err := tx.Get(CollOutbox, "", string(key))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	var owner struct {
		TenantID string `json:"tenant_id"`
		Sub      string `json:"sub"`
	}
	if raw != nil && json.Unmarshal(raw, &owner) == nil && owner.TenantID != "" && owner.Sub != "" {
		if err := tx.Delete(CollOutbox, "", ownerPrefix(owner.TenantID, owner.Sub)+id); err != nil {
			return err
		}
	}
	if err := tx.Delete(CollOutbox, "", string(key)); err != nil {
		return err
	}
	return tx.Delete(CollOutbox, "", outboxIndex+id)
}

// deleteOwnedMail deletes the mail, pending or given up, of a user, or
// with an empty sub of every user of a tenant: a deleted user's address
// and any temporary password or code on the way to it go with the user.
// Mail queued by versions that did not record its owner is not found; it
// goes when delivered, or with the given-up mail's retention.
func deleteOwnedMail(tx Tx, tenantID, sub string) error {
	var ids []string
	err := tx.Scan(CollOutbox, "", ownerPrefix(tenantID, sub), "", func(key string, _ []byte) bool {
		ids = append(ids, key[strings.LastIndexByte(key, 0)+1:])
		return true
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := deleteQueuedMail(tx, id); err != nil {
			return err
		}
	}
	return nil
}

// MailQueue is the store-backed mail.Queue.
type MailQueue struct {
	Store Store
	// Now stamps when a mail was given up on; nil means time.Now.
	Now func() time.Time
}

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
		return deleteQueuedMail(tx, id)
	})
}

// Failed records a failed attempt: the mail is due again at next, or, when
// permanent, kept aside for an operator with any secret body wiped.
func (q MailQueue) Failed(ctx context.Context, id string, attempts int, next time.Time, lastErr string, permanent bool) error {
	return q.Store.Update(ctx, func(tx Tx) error {
		key, err := tx.Get(CollOutbox, "", outboxIndex+id)
		if errors.Is(err, ErrNotFound) {
			return nil // gone meanwhile (its user deleted, say)
		}
		if err != nil {
			return err
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
			m.Failed, m.FailedAt = true, q.now()
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

// FailedMail is a mail that was given up on, as an operator sees it: who it
// was for and why it failed, never its body.
type FailedMail struct {
	ID string
	// TenantID and Sub are empty for the apex's mail and for mail queued
	// by older versions.
	TenantID, Sub string
	To            []string
	Subject       string
	Attempts      int
	LastError     string
	CreatedAt     time.Time
	// FailedAt is when it was given up on; for mail of older versions, when
	// it was queued.
	FailedAt time.Time
}

// MailStatus is the outbox as an operator sees it.
type MailStatus struct {
	// Pending counts the mails waiting for delivery, retries included.
	Pending int
	// Failed lists the mails given up on, newest first, until
	// FailedMailRetention (SweepFailedMail) deletes them.
	Failed []FailedMail
}

func (q MailQueue) now() time.Time {
	if q.Now == nil {
		return time.Now()
	}
	return q.Now()
}

// MailStatus reads the outbox for the operator: how many mails wait, and
// which were given up on and why.
func (s *Service) MailStatus(ctx context.Context) (MailStatus, error) {
	return MailQueue{Store: s.Store}.Status(ctx)
}

// Status reads the outbox: how many mails wait, and which were given up on
// and why.
func (q MailQueue) Status(ctx context.Context) (MailStatus, error) {
	var st MailStatus
	err := q.Store.View(ctx, func(tx Tx) error {
		st = MailStatus{Failed: []FailedMail{}}
		var err error
		if st.Pending, err = countPending(tx); err != nil {
			return err
		}
		return ScanJSON(tx, CollOutbox, "", outboxFailed, "", func(_ string, m queuedMail) bool {
			st.Failed = append(st.Failed, FailedMail{ID: m.ID, TenantID: m.TenantID, Sub: m.Sub,
				To: m.Message.To, Subject: m.Message.Subject, Attempts: m.Attempts, LastError: m.LastError,
				CreatedAt: m.CreatedAt, FailedAt: m.failedSince()})
			return true
		})
	})
	if err != nil {
		return MailStatus{}, fmt.Errorf("read the mail outbox: %w", err)
	}
	slices.SortStableFunc(st.Failed, func(a, b FailedMail) int {
		return cmp.Or(b.FailedAt.Compare(a.FailedAt), cmp.Compare(a.ID, b.ID))
	})
	return st, nil
}

// Pending counts mails waiting for delivery.
func (q MailQueue) Pending(ctx context.Context) (int, error) {
	n := 0
	err := q.Store.View(ctx, func(tx Tx) (err error) {
		n, err = countPending(tx)
		return err
	})
	return n, err
}

func countPending(tx Tx) (int, error) {
	n := 0
	err := tx.Scan(CollOutbox, "", outboxDue, "", func(string, []byte) bool {
		n++
		return true
	})
	return n, err
}
