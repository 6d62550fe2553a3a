package adminapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// The operator sees the outbox: how many mails wait, and the mails given
// up on with who they were for and why, never a body.
func TestMailStatus(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	const secret = "Xq7#pL2!vR9z"
	err := f.svc.Store.Update(ctx, func(tx tenant.Tx) error {
		for _, id := range []string{"waits", "refused"} {
			m := mail.Message{ID: id, To: []string{"ann@example.com"}, Subject: "Your account for Acme BV",
				Text: "Temporary password: " + secret, HTML: "<code>" + secret + "</code>", Sensitive: true}
			if err := tenant.EnqueueMail(tx, tenant.MailOwner{TenantID: "acme", Sub: f.sub}, m, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := tenant.MailQueue{Store: f.svc.Store, Now: func() time.Time { return now }}
	if err := q.Failed(ctx, "refused", 1, time.Time{}, "smtp rcpt to: 550 5.1.1 No such user", true); err != nil {
		t.Fatal(err)
	}

	rec := f.do(t, http.MethodGet, "/admin/v1/mail", "", bearer)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), secret) {
		t.Errorf("the response holds a mail's body: %s", rec.Body)
	}
	var got adminapi.MailStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := adminapi.MailStatus{Pending: 1, Failed: []adminapi.FailedMail{{
		ID: "refused", Tenant: "acme", Sub: f.sub, To: []string{"ann@example.com"}, Subject: "Your account for Acme BV",
		Attempts: 1, LastError: "smtp rcpt to: 550 5.1.1 No such user", CreatedAt: now, FailedAt: now,
	}}}
	if gotJSON, wantJSON := mustJSON(t, got), mustJSON(t, want); gotJSON != wantJSON {
		t.Errorf("GET /admin/v1/mail =\n%s\nwant\n%s", gotJSON, wantJSON)
	}

	// Deleting the user takes its mail along.
	if rec := f.do(t, http.MethodDelete, "/admin/v1/tenants/acme/users/{sub}", "", bearer); rec.Code != http.StatusNoContent {
		t.Fatalf("delete user: %d %s", rec.Code, rec.Body)
	}
	rec = f.do(t, http.MethodGet, "/admin/v1/mail", "", bearer)
	if body := strings.TrimSpace(rec.Body.String()); body != `{"pending":0,"failed":[]}` {
		t.Errorf("after the user's deletion: %s", body)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
