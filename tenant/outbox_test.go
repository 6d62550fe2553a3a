package tenant_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/mail/mailtest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// TestMailQueueSurvivesRestart queues mail, closes the store as a crash or
// restart would, and finds every mail still due after reopening; failure
// and delivery then move it as mail.Outbox expects.
func TestMailQueueSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cognate.db")
	store, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	err = store.Update(ctx, func(tx tenant.Tx) error {
		for _, id := range []string{"m1", "m2"} {
			if err := tenant.EnqueueMail(tx, tenant.MailOwner{}, mail.Message{ID: id, To: []string{"a@example.com"}, Subject: "s", Text: "secret", Sensitive: true}, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	store.Close()

	store, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	q := tenant.MailQueue{Store: store}
	if due, _ := q.Due(ctx, now.Add(-time.Second), 10); len(due) != 0 {
		t.Fatalf("mail due before its time: %v", due)
	}
	due, err := q.Due(ctx, now, 10)
	if err != nil || len(due) != 2 || due[0].Text != "secret" {
		t.Fatalf("after restart Due = %v, %v", due, err)
	}
	if err := q.Failed(ctx, "m1", 1, now.Add(time.Minute), "connection refused", false); err != nil {
		t.Fatal(err)
	}
	if due, _ := q.Due(ctx, now.Add(30*time.Second), 10); len(due) != 1 || due[0].ID != "m2" {
		t.Fatalf("a retried mail is due before its back-off: %v", due)
	}
	if due, _ := q.Due(ctx, now.Add(time.Minute), 10); len(due) != 2 {
		t.Fatalf("a retried mail is not due after its back-off: %v", due)
	}
	if err := q.Delivered(ctx, "m2"); err != nil {
		t.Fatal(err)
	}
	if err := q.Failed(ctx, "m1", 2, now, "550 no such user", true); err != nil {
		t.Fatal(err)
	}
	if due, _ := q.Due(ctx, now.Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("delivered or failed mail still due: %v", due)
	}
	st, err := q.Status(ctx)
	if err != nil || st.Pending != 0 || len(st.Failed) != 1 || st.Failed[0].Attempts != 2 || st.Failed[0].LastError != "550 no such user" {
		t.Fatalf("Status() = %+v, %v; want one failed mail", st, err)
	}
	err = store.View(ctx, func(tx tenant.Tx) error {
		return tx.Scan(tenant.CollOutbox, "", "", "", func(key string, v []byte) bool {
			if strings.Contains(string(v), "secret") {
				t.Errorf("outbox record %q keeps the secret body of a mail given up on: %s", key, v)
			}
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// shutdownAfterSend is the real SMTP sender, with the server's shutdown
// signal arriving the moment the relay has accepted a mail.
type shutdownAfterSend struct {
	mail.Sender
	shutdown context.CancelFunc
}

func (s shutdownAfterSend) Send(ctx context.Context, m mail.Message) error {
	err := s.Sender.Send(ctx, m)
	s.shutdown()
	return err
}

// TestOutboxRecordsDeliveryDuringShutdown: a mail the relay accepted just as
// the server began to shut down is marked delivered all the same, so the
// restarted server does not send it a second time.
func TestOutboxRecordsDeliveryDuringShutdown(t *testing.T) {
	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	err = store.Update(t.Context(), func(tx tenant.Tx) error {
		return tenant.EnqueueMail(tx, tenant.MailOwner{}, mail.Message{To: []string{"ann@example.com"}, Subject: "Welcome",
			Text: "Temporary password: Xq7#pL2!vR9z", Sensitive: true}, now)
	})
	if err != nil {
		t.Fatal(err)
	}

	srv := mailtest.Start(t)
	smtpSender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone,
		From: "no-reply@example.com", Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := tenant.MailQueue{Store: store}
	clock := func() time.Time { return now }
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))

	ctx, shutdown := context.WithCancel(t.Context())
	o := &mail.Outbox{Queue: q, Sender: shutdownAfterSend{smtpSender, shutdown}, Logger: logger, Now: clock}
	if sent, err := o.RunOnce(ctx); sent != 1 || err != nil {
		t.Errorf("pass interrupted by shutdown: RunOnce() = %d, %v; want 1, nil", sent, err)
	}
	if n, err := q.Pending(t.Context()); n != 0 || err != nil {
		t.Errorf("after delivery Pending() = %d, %v; want 0: the mail would be sent again", n, err)
	}

	// The server after its restart.
	o = &mail.Outbox{Queue: q, Sender: smtpSender, Logger: logger, Now: clock}
	if _, err := o.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("ann@example.com", "Welcome"); n != 1 {
		t.Errorf("the relay received the mail %d times, want once", n)
	}
}

// fullDisk is the real store on a disk that has filled up: reads work,
// every write fails, as bbolt's do with ENOSPC.
type fullDisk struct {
	tenant.Store
	full   atomic.Bool
	writes atomic.Int32 // writes tried while full
}

var errNoSpace = errors.New("write cognate.db: no space left on device")

func (d *fullDisk) Update(ctx context.Context, fn func(tx tenant.Tx) error) error {
	if d.full.Load() {
		d.writes.Add(1)
		return errNoSpace
	}
	return d.Store.Update(ctx, fn)
}

func (d *fullDisk) Batch(ctx context.Context, fn func(tx tenant.Tx) error) error {
	return d.Update(ctx, fn)
}

// TestOutboxFullDiskSendsOnce: a mail the relay accepted while the queue
// cannot be written (a full disk) is not sent again at every pass, which
// would mail a temporary password once a second; the outbox keeps the
// outcome, tries to record it with back-off, and records it once the disk
// has room. A restart before then sends it again: delivery is at least
// once.
func TestOutboxFullDiskSendsOnce(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(map[bool]string{false: "disk has room again", true: "restart while full"}[restart], func(t *testing.T) {
			bstore, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer bstore.Close()
			disk := &fullDisk{Store: bstore}
			now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
			clock := func() time.Time { return now }
			err = disk.Update(t.Context(), func(tx tenant.Tx) error {
				return tenant.EnqueueMail(tx, tenant.MailOwner{}, mail.Message{To: []string{"ann@example.com"}, Subject: "Welcome",
					Text: "Temporary password: Xq7#pL2!vR9z", Sensitive: true}, now)
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := mailtest.Start(t)
			sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone,
				From: "no-reply@example.com", Timeout: 5 * time.Second}, nil)
			if err != nil {
				t.Fatal(err)
			}
			q := tenant.MailQueue{Store: disk}
			logger := slog.New(slog.NewTextHandler(t.Output(), nil))
			o := &mail.Outbox{Queue: q, Sender: sender, Logger: logger, Now: clock}

			disk.full.Store(true)
			if sent, err := o.RunOnce(t.Context()); sent != 1 || !errors.Is(err, errNoSpace) {
				t.Fatalf("RunOnce() = %d, %v; want the mail sent and the mark refused", sent, err)
			}
			// A minute of passes, one a second, as Run makes them.
			for range 60 {
				now = now.Add(time.Second)
				_, _ = o.RunOnce(t.Context())
			}
			if n := srv.Count("ann@example.com", "Welcome"); n != 1 {
				t.Errorf("with the disk full the relay received the mail %d times, want once", n)
			}
			// 5 s, 10 s, 20 s, 40 s: the passes wait with the back-off.
			if n := disk.writes.Load(); n > 5 {
				t.Errorf("%d writes tried in a minute; want the passes to back off", n)
			}

			if restart {
				// The outcome was in memory only: the new process sends the
				// mail a second time, and that is all.
				disk.full.Store(false)
				o = &mail.Outbox{Queue: q, Sender: sender, Logger: logger, Now: clock}
				for range 3 {
					if _, err := o.RunOnce(t.Context()); err != nil {
						t.Fatal(err)
					}
					now = now.Add(time.Hour)
				}
				if n := srv.Count("ann@example.com", "Welcome"); n != 2 {
					t.Errorf("after a restart the relay has %d copies, want 2", n)
				}
				return
			}

			disk.full.Store(false)
			now = now.Add(time.Hour) // past any back-off
			if sent, err := o.RunOnce(t.Context()); sent != 0 || err != nil {
				t.Errorf("RunOnce() = %d, %v once the disk has room; want the mark recorded, nothing sent", sent, err)
			}
			if n, err := q.Pending(t.Context()); n != 0 || err != nil {
				t.Errorf("Pending() = %d, %v; want the mail marked delivered", n, err)
			}
			for range 3 {
				now = now.Add(time.Hour)
				if _, err := o.RunOnce(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if n := srv.Count("ann@example.com", "Welcome"); n != 1 {
				t.Errorf("the relay received the mail %d times, want once", n)
			}
		})
	}
}

// TestMailGoesWithItsOwner: a deleted user's mail, waiting or given up on,
// goes with the user, and a deleted tenant's with the tenant; the operator
// sees the rest, including a record written before mail had an owner, and
// a mail given up on is deleted after its retention.
func TestMailGoesWithItsOwner(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	q := tenant.MailQueue{Store: e.svc.Store, Now: e.clk.Now}
	invite := func(slug, name string) (tenant.User, mail.Queued) {
		u := e.user(t, slug, tenant.NewUser{Username: name, Email: name + "@example.com", Invite: true})
		return u, e.lastMail(t)
	}
	ann, _ := invite("acme", "ann")
	bob, bobMail := invite("acme", "bob")
	dave, daveMail := invite("acme", "dave")
	invite("globex", "carol")
	if err := q.Failed(ctx, bobMail.ID, 1, time.Time{}, "550 5.1.1 no such user", true); err != nil {
		t.Fatal(err)
	}
	if err := q.Failed(ctx, daveMail.ID, 1, time.Time{}, "550 5.1.1 mailbox full", true); err != nil {
		t.Fatal(err)
	}
	// As an older version wrote a mail it gave up on: no owner, no time
	// of giving up.
	err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
		if err := tx.Put(tenant.CollOutbox, "", "id/old-1", []byte("failed/old-1")); err != nil {
			return err
		}
		return tx.Put(tenant.CollOutbox, "", "failed/old-1", []byte(`{"id":"old-1","message":{"ID":"old-1",`+
			`"To":["eve@example.com"],"Subject":"Welcome","Sensitive":true},"attempts":3,"due_at":"0001-01-01T00:00:00Z",`+
			`"last_error":"554 refused","failed":true,"created_at":"2025-12-01T00:00:00Z"}`))
	})
	if err != nil {
		t.Fatal(err)
	}

	status := func() tenant.MailStatus {
		t.Helper()
		st, err := e.svc.MailStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := status()
	if st.Pending != 2 || len(st.Failed) != 3 {
		t.Fatalf("Status = %+v; want 2 pending (ann, carol) and 3 failed (bob, dave, the old one)", st)
	}
	if f := st.Failed[2]; f.ID != "old-1" || f.TenantID != "" || !f.FailedAt.Equal(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)) ||
		f.Attempts != 3 || f.LastError != "554 refused" || f.To[0] != "eve@example.com" {
		t.Errorf("the old record reads as %+v", f)
	}
	for _, f := range st.Failed[:2] {
		if f.TenantID != "acme" || (f.Sub != bob.Sub && f.Sub != dave.Sub) || !f.FailedAt.Equal(e.clk.Now()) {
			t.Errorf("failed mail %+v; want its owner and when it was given up on", f)
		}
	}

	for _, sub := range []string{ann.Sub, bob.Sub} {
		if err := e.svc.DeleteUser(ctx, "acme", sub); err != nil {
			t.Fatal(err)
		}
	}
	st = status()
	if st.Pending != 1 || len(st.Failed) != 2 || st.Failed[0].ID != daveMail.ID || st.Failed[1].ID != "old-1" {
		t.Errorf("after deleting ann and bob: %+v; want carol's mail pending, dave's and the old one failed", st)
	}
	if err := e.svc.DeleteTenant(ctx, "globex"); err != nil {
		t.Fatal(err)
	}
	if st = status(); st.Pending != 0 {
		t.Errorf("after deleting globex: %d mails pending, want none", st.Pending)
	}

	// The old record was given up on long ago; dave's is kept for the
	// retention, or the audit retention when that is shorter.
	for _, tt := range []struct {
		after, auditRetention time.Duration
		want                  int
	}{
		{0, tenant.DefaultAuditRetention, 1},
		{tenant.FailedMailRetention - time.Minute, 0, 0},
		{8 * 24 * time.Hour, 7 * 24 * time.Hour, 1},
	} {
		n, err := tenant.SweepFailedMail(ctx, e.svc.Store, e.clk.Now().Add(tt.after), tt.auditRetention)
		if err != nil || n != tt.want {
			t.Errorf("SweepFailedMail(now+%v, audit retention %v) = %d, %v; want %d", tt.after, tt.auditRetention, n, err, tt.want)
		}
	}
	if st = status(); len(st.Failed) != 0 {
		t.Errorf("after the retention: %+v; want nothing", st)
	}
}

// A queued mail with a damaged field (here its due time) goes with its
// user all the same, owner entry and all: one damaged record must not keep
// a user from being deleted.
func TestDamagedMailGoesWithItsOwner(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	ann := e.user(t, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", Invite: true})
	queued := e.lastMail(t)
	err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error {
		key, err := tx.Get(tenant.CollOutbox, "", "id/"+queued.ID)
		if err != nil {
			return err
		}
		raw, err := tx.Get(tenant.CollOutbox, "", string(key))
		if err != nil {
			return err
		}
		damaged := regexp.MustCompile(`"due_at":"[^"]*"`).ReplaceAll(raw, []byte(`"due_at":"not a time"`))
		if bytes.Equal(damaged, raw) {
			t.Fatalf("no due_at in %s", raw)
		}
		return tx.Put(tenant.CollOutbox, "", string(key), damaged)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteUser(ctx, "acme", ann.Sub); err != nil {
		t.Fatalf("DeleteUser with a damaged mail queued: %v", err)
	}
	var left []string
	err = e.svc.Store.View(ctx, func(tx tenant.Tx) error {
		return tx.Scan(tenant.CollOutbox, "", "", "", func(key string, _ []byte) bool { left = append(left, key); return true })
	})
	if err != nil || len(left) != 0 {
		t.Errorf("outbox after deleting ann: %q, %v; want empty", left, err)
	}
}
