package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/mail/mailtest"
	"github.com/cognate-idp/cognate/tenant"
)

// Outside development, a server without a mail relay keeps its mail: a
// welcome mail holds the only copy of a temporary password. It waits in the
// outbox, and a start with a relay delivers it.
func TestMailWaitsForARelay(t *testing.T) {
	data := filepath.Join(t.TempDir(), "cognate.db")
	ctx := context.Background()

	// start assembles Cognate with these extra settings on the data file,
	// as a start of the server does; stop closes the store again.
	start := func(extra ...string) (*app, func()) {
		t.Helper()
		a, store := assembleApp(t, data, extra...)
		return a, func() { store.Close() }
	}

	a, stop := start()
	if a.outbox != nil {
		t.Fatal("without a relay the server would deliver mail somewhere")
	}
	if _, err := a.service.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: "Acme BV"}); err != nil {
		t.Fatal(err)
	}
	u, err := a.service.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.service.ActivateUser(ctx, "acme", u.Sub); err != nil {
		t.Fatal(err)
	}
	if n, err := (tenant.MailQueue{Store: a.service.Store}).Pending(ctx); err != nil || n != 1 {
		t.Fatalf("mail waiting without a relay: %d (%v), want the welcome mail", n, err)
	}
	stop()

	smtp := mailtest.Start(t)
	a, stop = start("--smtp-host", smtp.Host, "--smtp-port", strconv.Itoa(smtp.Port), "--smtp-tls", "none",
		"--smtp-from", "Cognate <no-reply@example.com>")
	defer stop()
	if sent, err := a.outbox.RunOnce(ctx); err != nil || sent != 1 {
		t.Fatalf("delivered once a relay is set: %d (%v), want 1", sent, err)
	}
	smtp.WaitFor("ann@example.com", "", 5*time.Second)
}

// smtp.from's name is the sender of the mail that comes from no tenant,
// the apex's list of organizations; tenants' mail comes from the tenant's
// name at the same address.
func TestMailFromName(t *testing.T) {
	ctx := context.Background()
	a := newTestApp(t, "--smtp-host", "localhost", "--smtp-tls", "none", "--smtp-from", "Sign-in <no-reply@example.com>")
	if _, err := a.service.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: "Acme BV"}); err != nil {
		t.Fatal(err)
	}
	u, err := a.service.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.service.ActivateUser(ctx, "acme", u.Sub); err != nil {
		t.Fatal(err)
	}
	if err := a.service.OrganizationsForEmail(ctx, tenant.OrgLookup{Email: "ann@example.com", Locale: "en"}); err != nil {
		t.Fatal(err)
	}
	queued, err := tenant.MailQueue{Store: a.service.Store}.Due(ctx, time.Now().Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	var from []string
	for _, m := range queued {
		from = append(from, m.From)
	}
	slices.Sort(from)
	want := []string{`"Acme BV" <no-reply@example.com>`, `"Sign-in" <no-reply@example.com>`}
	if !slices.Equal(from, want) {
		t.Errorf("mail comes from %q, want %q", from, want)
	}
}

// The relay's password is the one LoadConfig read from smtp.password_file,
// which is not read again: a secret file that an orchestrator mounts for the
// start may be gone by the time the server builds its mail sender.
func TestMailSenderTakesThePasswordLoadConfigRead(t *testing.T) {
	passwordFile := writeFile(t, "smtp.password", "relay-password\n")
	cfg, err := LoadConfig([]string{"--base-url", "https://example.com", "--smtp-host", "127.0.0.1", "--smtp-tls", "none",
		"--smtp-from", "no-reply@example.com", "--smtp-username", "cognate", "--smtp-password-file", passwordFile}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(passwordFile); err != nil {
		t.Fatal(err)
	}
	if _, _, err := mailSender(cfg, slog.New(slog.NewTextHandler(t.Output(), nil)), time.Now); err != nil {
		t.Errorf("mailSender: %v, want the password LoadConfig read", err)
	}
}

// A mail is dated by the app's clock, as everything else it does.
func TestMailSenderDatesMailByTheAppsClock(t *testing.T) {
	smtp := mailtest.Start(t)
	cfg, err := LoadConfig([]string{"--base-url", "https://example.com", "--smtp-host", smtp.Host, "--smtp-port", strconv.Itoa(smtp.Port),
		"--smtp-tls", "none", "--smtp-from", "no-reply@example.com"}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	sender, _, err := mailSender(cfg, slog.New(slog.NewTextHandler(t.Output(), nil)), func() time.Time { return sent })
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.Send(t.Context(), mail.Message{ID: "m1", To: []string{"ann@example.com"}, Subject: "Hello",
		Text: "Hello.\n", HTML: "<p>Hello.</p>"}); err != nil {
		t.Fatal(err)
	}
	got, err := smtp.WaitFor("ann@example.com", "Hello", 5*time.Second).Header.Date()
	if err != nil || !got.Equal(sent) {
		t.Errorf("Date %v (%v), want %v", got, err, sent)
	}
}
