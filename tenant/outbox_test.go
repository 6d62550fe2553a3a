package tenant_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
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
