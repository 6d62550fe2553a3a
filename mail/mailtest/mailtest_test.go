package mailtest_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/mail/mailtest"
)

// The server receives what Cognate's own SMTP sender sends, and reads back
// a non-ASCII subject and a quoted-printable text part exactly.
func TestReceivesWhatTheSenderSends(t *testing.T) {
	srv := mailtest.Start(t)
	sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone,
		From: "Cognate <no-reply@example.com>", Timeout: 5 * time.Second}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 100) + " = end"
	msg := mail.Message{To: []string{"ann@example.com"}, Subject: "Uw wachtwoord voor Ünïcode BV",
		Text: "Code:\n\n    123456\n" + long + "\n", HTML: "<p>Code <code>123456</code></p>"}
	if err := sender.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor("ann@example.com", "Ünïcode", time.Second)
	if got.Text != msg.Text || got.HTML != msg.HTML || got.From != "no-reply@example.com" {
		t.Errorf("received from %q text %q html %q", got.From, got.Text, got.HTML)
	}

	// Down: the sender gets a temporary failure; Up again: it goes through.
	srv.Down()
	if err := sender.Send(t.Context(), msg); err == nil || !strings.Contains(err.Error(), "temporary") {
		t.Fatalf("send while down: %v, want a temporary failure", err)
	}
	srv.Up()
	if err := sender.Send(t.Context(), msg); err != nil {
		t.Fatalf("send after up: %v", err)
	}
	if n := srv.Count("ann@example.com", "Ünïcode"); n != 2 {
		t.Errorf("%d mails, want 2", n)
	}
}

// TestOnlyTestsImportIt keeps the promise of the package comment: no
// package of the module imports mailtest outside its tests.
func TestOnlyTestsImportIt(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found:", err)
	}
	// -e: a package that does not build yet still lists its imports.
	out, err := exec.Command(goTool, "list", "-e", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, "github.com/cognate-idp/cognate/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const self = "github.com/cognate-idp/cognate/mail/mailtest"
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), ": ")
		if pkg != self && strings.Contains(" "+imports+" ", " "+self+" ") {
			t.Errorf("%s imports %s, which is for tests only", pkg, self)
		}
	}
}
