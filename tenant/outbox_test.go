package tenant_test

import (
	"context"
	"log/slog"
	"path/filepath"
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
			if err := tenant.EnqueueMail(tx, mail.Message{ID: id, To: []string{"a@example.com"}, Subject: "s", Text: "secret", Sensitive: true}, now); err != nil {
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
	failed, _ := q.FailedMail(ctx)
	if len(failed) != 1 || failed[0].Text != "" || failed[0].Attempts != 2 {
		t.Fatalf("failed mail = %+v; want one, with its secret body wiped", failed)
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
		return tenant.EnqueueMail(tx, mail.Message{To: []string{"ann@example.com"}, Subject: "Welcome",
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
