package mail

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

func testMessage() Message {
	return Message{
		ID:        "msg-1",
		To:        []string{"Ann Example <ann@example.org>"},
		Subject:   "Welkom bij Café Ünïcode ✓ — uw tijdelijke wachtwoord",
		Text:      "Hallo Ann,\n\nUw tijdelijke wachtwoord: Zx9=é&<ü>\n\n" + strings.Repeat("Een heel lange regel met één woord ", 6) + "\n",
		HTML:      "<p>Hallo Ann,</p>\n<p>Uw tijdelijke wachtwoord: <code>Zx9=é&amp;&lt;ü&gt;</code></p>\n<p>" + strings.Repeat("lang ", 40) + "</p>\n",
		Sensitive: true,
	}
}

// A caller that fills SMTPConfig from settings of its own gets each
// problem in the field it is about, told with the names it gives the
// fields: one set of rules, in the caller's words.
func TestSMTPConfigProblemsNameTheFields(t *testing.T) {
	cfg := SMTPConfig{Host: "smtp.example.com", Port: 70000, TLS: TLSNone, Username: "u", Password: "p", From: "nobody"}
	var fields, messages []string
	for _, p := range cfg.Problems("smtp.", true) {
		fields, messages = append(fields, p.Field), append(messages, p.Error())
	}
	if want := []string{"port", "from", "tls"}; !slices.Equal(fields, want) {
		t.Errorf("fields %q, want %q", fields, want)
	}
	for i, want := range []string{
		"smtp.port 70000: want 1 to 65535, or 0 for the usual port of the TLS mode (587, 465 with implicit, 25 with none)",
		`smtp.from "nobody" is not an email address`,
		"smtp.tls none would send the SMTP password in clear text to smtp.example.com: without TLS, smtp.username and smtp.password are for a relay on this machine only",
	} {
		if i >= len(messages) || !strings.HasPrefix(messages[i], want) {
			t.Errorf("problem %d: %q, want it to begin %q", i, messages, want)
		}
	}
	var fe *FieldError
	if err := cfg.Validate(); !errors.As(err, &fe) || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "port 70000") {
		t.Errorf("Validate() = %v, want the same problems, fields unnamed, under ErrInvalidConfig", err)
	}
}

// The rules ask only whether there is a password: a caller that has not
// read it (a file named for it) says it is given, and is judged as if it
// had it.
func TestSMTPConfigProblemsAskWhetherAPasswordIsGiven(t *testing.T) {
	tests := []struct {
		name          string
		cfg           SMTPConfig
		passwordGiven bool
		fields        []string
	}{
		{"a user with a password not read", SMTPConfig{Username: "u"}, true, nil},
		{"a user without a password", SMTPConfig{Username: "u"}, false, []string{"username"}},
		{"a password not read without a user", SMTPConfig{}, true, []string{"username"}},
		{"a password not read, in clear text", SMTPConfig{TLS: TLSNone}, true, []string{"username", "tls"}},
		{"a password not read, in clear text to this machine", SMTPConfig{Host: "localhost", Username: "u", TLS: TLSNone}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Host = cmp.Or(tt.cfg.Host, "smtp.example.com")
			tt.cfg.From = "no-reply@example.com"
			var fields []string
			for _, p := range tt.cfg.Problems("smtp.", tt.passwordGiven) {
				fields = append(fields, p.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("problems in %q, want %q", fields, tt.fields)
			}
		})
	}
}

func TestSMTPConfigValidate(t *testing.T) {
	valid := SMTPConfig{Host: "smtp.example.com", From: "no-reply@example.com"}
	tests := []struct {
		name   string
		change func(*SMTPConfig)
		want   []string // substrings of the error; none means valid
	}{
		{"minimal", func(*SMTPConfig) {}, nil},
		{"full", func(c *SMTPConfig) {
			c.Port, c.TLS, c.Username, c.Password, c.Timeout = 465, TLSImplicit, "u", "p", time.Minute
		}, nil},
		{"auth in clear text to localhost", func(c *SMTPConfig) {
			c.Host, c.TLS, c.Username, c.Password = "localhost", TLSNone, "u", "p"
		}, nil},
		{"everything wrong at once", func(c *SMTPConfig) {
			*c = SMTPConfig{Port: 70000, TLS: "ssl", From: "not an address", Password: "p", Timeout: -1}
		}, []string{"host is required", "port 70000", `tls "ssl"`, `from "not an address"`, "username and password go together", "timeout"}},
		{"username without password", func(c *SMTPConfig) { c.Username = "u" }, []string{"username and password go together"}},
		{"missing from", func(c *SMTPConfig) { c.From = "" }, []string{"from is required"}},
		{"auth in clear text over the network", func(c *SMTPConfig) {
			c.TLS, c.Username, c.Password = TLSNone, "u", "p"
		}, []string{"clear text to smtp.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			err := cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
			if _, err := NewSMTPSender(cfg, nil); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("NewSMTPSender() = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestSMTPConfigLogValueHidesPassword(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	logger.Info("config", "smtp", SMTPConfig{Host: "h", Username: "u", Password: "hunter2-secret", From: "a@b.c"})
	if strings.Contains(buf.String(), "hunter2-secret") {
		t.Fatalf("log holds the password: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "password_set=true") {
		t.Errorf("log does not say a password is set: %s", buf.String())
	}
}

func TestSMTPSenderDelivers(t *testing.T) {
	tests := []struct {
		name     string
		server   serverOptions
		tls      string
		username string
		password string
		helo     string
		wantHelo string // empty: helo, or localhost without it
		wantTLS  bool
	}{
		{name: "plain", server: serverOptions{tls: TLSNone}, tls: TLSNone},
		// go-smtp offers AUTH in clear text only when told to; net/smtp
		// then sends it because the host is 127.0.0.1.
		{name: "plain with auth to localhost", server: serverOptions{tls: TLSNone, username: "relay", password: "pw", insecureAuth: true},
			tls: TLSNone, username: "relay", password: "pw"},
		{name: "starttls with auth", server: serverOptions{tls: TLSStartTLS, username: "relay", password: "s3cret"},
			tls: TLSStartTLS, username: "relay", password: "s3cret", wantTLS: true},
		{name: "implicit tls", server: serverOptions{tls: TLSImplicit}, tls: TLSImplicit, wantTLS: true},
		{name: "hello with an IP address", server: serverOptions{tls: TLSNone}, tls: TLSNone, helo: "192.0.2.7", wantHelo: "[192.0.2.7]"},
		{name: "hello with an IPv6 address", server: serverOptions{tls: TLSNone}, tls: TLSNone, helo: "2001:db8::7", wantHelo: "[IPv6:2001:db8::7]"},
		{name: "own hello name", server: serverOptions{tls: TLSStartTLS}, tls: TLSStartTLS, helo: "id.example.com", wantTLS: true},
		{name: "implicit tls with auth", server: serverOptions{tls: TLSImplicit, username: "relay", password: "s3cret"},
			tls: TLSImplicit, username: "relay", password: "s3cret", wantTLS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, tt.server)
			cfg := srv.config(tt.tls)
			cfg.Username, cfg.Password, cfg.HelloName = tt.username, tt.password, tt.helo
			sender, err := NewSMTPSender(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}

			if err := sender.Send(t.Context(), testMessage()); err != nil {
				t.Fatalf("Send() = %v", err)
			}

			got := srv.received()
			if len(got) != 1 {
				t.Fatalf("server received %d mails, want 1", len(got))
			}
			if got[0].from != "no-reply@example.com" {
				t.Errorf("envelope from = %q", got[0].from)
			}
			if len(got[0].to) != 1 || got[0].to[0] != "ann@example.org" {
				t.Errorf("envelope to = %q", got[0].to)
			}
			if got[0].tls != tt.wantTLS {
				t.Errorf("received over TLS = %t, want %t", got[0].tls, tt.wantTLS)
			}
			if got[0].user != tt.username {
				t.Errorf("authenticated as %q, want %q", got[0].user, tt.username)
			}
			wantHelo := cmp.Or(tt.wantHelo, tt.helo, "localhost")
			if got[0].helo != wantHelo {
				t.Errorf("EHLO %q, want %q", got[0].helo, wantHelo)
			}
		})
	}
}

func TestSMTPSenderBuildsMIME(t *testing.T) {
	srv := startSMTP(t, serverOptions{tls: TLSNone})
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("CET", 3600))
	sender, err := NewSMTPSender(srv.config(TLSNone), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage()
	m.To = append(m.To, "bob@example.net")
	if err := sender.Send(t.Context(), m); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("server received %d mails, want 1", len(got))
	}
	raw := got[0].data

	for i, b := range raw {
		if b >= 0x80 {
			t.Fatalf("byte %d is not 7-bit: %q", i, raw[max(0, i-20):min(len(raw), i+20)])
		}
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line longer than RFC 5322 allows: %d bytes", len(line))
		}
	}

	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("decoded Subject = %q, %v; want %q", subject, err, m.Subject)
	}
	if from, err := mail.ParseAddress(msg.Header.Get("From")); err != nil || from.Address != "no-reply@example.com" || from.Name != "Cognate" {
		t.Errorf("From = %q (%v)", msg.Header.Get("From"), err)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Address != "ann@example.org" || to[0].Name != "Ann Example" || to[1].Address != "bob@example.net" {
		t.Errorf("To = %q (%v)", msg.Header.Get("To"), err)
	}
	if date, err := msg.Header.Date(); err != nil || !date.Equal(now) {
		t.Errorf("Date = %q (%v), want %v", msg.Header.Get("Date"), err, now)
	}
	if id := msg.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") || len(id) < len("<x@example.com>")+10 {
		t.Errorf("Message-ID = %q, want <random@example.com>", id)
	}
	if got := msg.Header.Get("MIME-Version"); got != "1.0" {
		t.Errorf("MIME-Version = %q", got)
	}

	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	wantParts := []struct{ mediaType, body string }{
		{"text/plain", m.Text},
		{"text/html", m.HTML},
	}
	for _, want := range wantParts {
		// NextRawPart leaves the quoted-printable encoding for us to check.
		part, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("part %s: %v", want.mediaType, err)
		}
		mt, ps, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil || mt != want.mediaType || !strings.EqualFold(ps["charset"], "utf-8") {
			t.Errorf("part Content-Type = %q, want %s; charset=utf-8", part.Header.Get("Content-Type"), want.mediaType)
		}
		if cte := part.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
			t.Errorf("part %s Content-Transfer-Encoding = %q", want.mediaType, cte)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(part))
		if err != nil {
			t.Fatalf("decode %s: %v", want.mediaType, err)
		}
		if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != want.body {
			t.Errorf("%s body = %q, want %q", want.mediaType, got, want.body)
		}
	}
	if _, err := mr.NextRawPart(); err != io.EOF {
		t.Errorf("after two parts: %v, want io.EOF", err)
	}
}

// Addresses outside ASCII (RFC 6531): as they are to a relay that offers
// SMTPUTF8; to one that does not (and refuses them, as a strict relay
// does), a domain in IDNA A-labels, and a local part outside ASCII fails
// at once, permanently, naming the reason and not the address, with no
// RCPT sent.
func TestSMTPSenderInternationalAddresses(t *testing.T) {
	tests := []struct {
		name     string
		smtputf8 bool   // the relay offers SMTPUTF8
		from     string // the configured From; empty: the default
		to       string
		// What the relay got: the envelope, the To header's address, the
		// domain of Message-ID. wantRcpt empty: the send fails with
		// ErrSMTPUTF8Required.
		wantFrom, wantRcpt, wantTo, wantIDDomain string
		wantErr                                  string // in the error
	}{
		{name: "ascii, relay without SMTPUTF8", to: "Jürgen <jurgen@example.test>",
			wantFrom: "no-reply@example.com", wantRcpt: "jurgen@example.test", wantTo: "jurgen@example.test", wantIDDomain: "example.com"},
		{name: "unicode domain, relay with SMTPUTF8", smtputf8: true, to: "Jürgen <jurgen@exämple.test>",
			wantFrom: "no-reply@example.com", wantRcpt: "jurgen@exämple.test", wantTo: "jurgen@exämple.test", wantIDDomain: "example.com"},
		{name: "unicode domain, relay without SMTPUTF8", to: "Jürgen <jurgen@exämple.test>",
			wantFrom: "no-reply@example.com", wantRcpt: "jurgen@xn--exmple-cua.test", wantTo: "jurgen@xn--exmple-cua.test", wantIDDomain: "example.com"},
		{name: "unicode local part, relay with SMTPUTF8", smtputf8: true, to: "jürgen@exämple.test",
			wantFrom: "no-reply@example.com", wantRcpt: "jürgen@exämple.test", wantTo: "jürgen@exämple.test", wantIDDomain: "example.com"},
		{name: "unicode local part, relay without SMTPUTF8", to: "jürgen@exämple.test",
			wantErr: "recipient 0: the local part of an address at exämple.test is not ASCII"},
		{name: "domain with no sure A-label, relay without SMTPUTF8", to: "jurgen@ＥＸＡＭＰＬＥ.test",
			wantErr: "recipient 0: domain ＥＸＡＭＰＬＥ.test"},
		{name: "domain with no sure A-label, relay with SMTPUTF8", smtputf8: true, to: "jurgen@ｅｘａｍｐｌｅ.test",
			wantFrom: "no-reply@example.com", wantRcpt: "jurgen@ｅｘａｍｐｌｅ.test", wantTo: "jurgen@ｅｘａｍｐｌｅ.test", wantIDDomain: "example.com"},
		{name: "unicode sender domain, relay without SMTPUTF8", from: "Cognate <no-reply@exämple.test>", to: "ann@example.org",
			wantFrom: "no-reply@xn--exmple-cua.test", wantRcpt: "ann@example.org", wantTo: "ann@example.org", wantIDDomain: "xn--exmple-cua.test"},
		{name: "unicode sender, relay without SMTPUTF8", from: "Cognate <nö-reply@example.com>", to: "ann@example.org",
			wantErr: "envelope sender: the local part of an address at example.com is not ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, serverOptions{tls: TLSNone, smtputf8: tt.smtputf8})
			cfg := srv.config(TLSNone)
			if tt.from != "" {
				cfg.From = tt.from
			}
			sender, err := NewSMTPSender(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			m := testMessage()
			m.To = []string{tt.to}
			err = sender.Send(t.Context(), m)
			if tt.wantRcpt == "" {
				if !errors.Is(err, ErrPermanent) || !errors.Is(err, ErrSMTPUTF8Required) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Send() = %v; want ErrPermanent, ErrSMTPUTF8Required, mentioning %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "rgen@") || strings.Contains(err.Error(), "reply@") {
					t.Errorf("the error names the address: %v", err)
				}
				if n := srv.rcptAttempts(); n != 0 || len(srv.received()) != 0 {
					t.Errorf("the relay saw %d RCPT and %d mails, want none", n, len(srv.received()))
				}
				return
			}
			if err != nil {
				t.Fatalf("Send() = %v", err)
			}
			got := srv.received()
			if len(got) != 1 {
				t.Fatalf("server received %d mails, want 1", len(got))
			}
			if got[0].from != tt.wantFrom || len(got[0].to) != 1 || got[0].to[0] != tt.wantRcpt {
				t.Errorf("envelope from %q to %q; want %q to %q", got[0].from, got[0].to, tt.wantFrom, tt.wantRcpt)
			}
			if got[0].utf8 != tt.smtputf8 {
				t.Errorf("MAIL FROM said SMTPUTF8: %v, want %v", got[0].utf8, tt.smtputf8)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(got[0].data))
			if err != nil {
				t.Fatal(err)
			}
			to := msg.Header.Get("To")
			if !strings.Contains(to, "<"+tt.wantTo+">") {
				t.Errorf("To = %q, want <%s>", to, tt.wantTo)
			}
			if id := msg.Header.Get("Message-ID"); !strings.HasSuffix(id, "@"+tt.wantIDDomain+">") {
				t.Errorf("Message-ID = %q, want one @%s", id, tt.wantIDDomain)
			}
			if !tt.smtputf8 {
				// Without SMTPUTF8, not one byte outside ASCII.
				for i, b := range got[0].data {
					if b >= 0x80 {
						t.Fatalf("byte %d is not 7-bit: %q", i, got[0].data[max(0, i-20):min(len(got[0].data), i+20)])
					}
				}
			}
		})
	}
}

func TestSMTPSenderSinglePart(t *testing.T) {
	srv := startSMTP(t, serverOptions{tls: TLSNone})
	sender, err := NewSMTPSender(srv.config(TLSNone), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage()
	m.HTML = ""
	if err := sender.Send(t.Context(), m); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(srv.received()[0].data))
	if err != nil {
		t.Fatal(err)
	}
	if ct := msg.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != m.Text {
		t.Errorf("body = %q, want %q", got, m.Text)
	}
}

func TestSMTPSenderFailures(t *testing.T) {
	deadHost, deadPort := deadAddress(t)
	tests := []struct {
		name    string
		server  *serverOptions // nil: nothing listens
		change  func(*SMTPConfig)
		message func(*Message)
		want    []error
	}{
		{name: "server down", want: []error{ErrTemporary}},
		{name: "550 on recipient",
			server: &serverOptions{tls: TLSNone, rejectRcpt: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}},
			want:   []error{ErrPermanent}},
		{name: "451 on recipient",
			server: &serverOptions{tls: TLSNone, rejectRcpt: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try later"}},
			want:   []error{ErrTemporary}},
		{name: "wrong password is the operator's to fix",
			server: &serverOptions{tls: TLSStartTLS, username: "relay", password: "right"},
			change: func(c *SMTPConfig) { c.Username, c.Password = "relay", "wrong" },
			want:   []error{ErrTemporary}},
		// RFC 4954 and RFC 3207: a relay that wants AUTH or STARTTLS first
		// says so with 530 to MAIL FROM; the settings are at fault, not the
		// mail.
		{name: "530 authentication required is the operator's to fix",
			server: &serverOptions{tls: TLSNone, rejectMail: &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}},
			want:   []error{ErrTemporary}},
		{name: "530 starttls required is the operator's to fix",
			server: &serverOptions{tls: TLSNone, rejectMail: &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}},
			want:   []error{ErrTemporary}},
		{name: "550 on sender",
			server: &serverOptions{tls: TLSNone, rejectMail: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 8}, Message: "Sender rejected"}},
			want:   []error{ErrPermanent}},
		{name: "starttls required but not offered",
			server: &serverOptions{tls: TLSNone},
			change: func(c *SMTPConfig) { c.TLS, c.InsecureSkipVerify = TLSStartTLS, true },
			want:   []error{ErrTemporary, ErrSTARTTLSUnavailable}},
		{name: "untrusted certificate over starttls",
			server: &serverOptions{tls: TLSStartTLS},
			change: func(c *SMTPConfig) { c.InsecureSkipVerify = false },
			want:   []error{ErrTemporary}},
		{name: "untrusted certificate over implicit tls",
			server: &serverOptions{tls: TLSImplicit},
			change: func(c *SMTPConfig) { c.InsecureSkipVerify = false },
			want:   []error{ErrTemporary}},
		{name: "no recipient",
			server:  &serverOptions{tls: TLSNone},
			message: func(m *Message) { m.To = nil },
			want:    []error{ErrPermanent, ErrInvalidMessage}},
		{name: "header injection in subject",
			server:  &serverOptions{tls: TLSNone},
			message: func(m *Message) { m.Subject = "Hi\r\nBcc: victim@example.net" },
			want:    []error{ErrPermanent, ErrInvalidMessage}},
		{name: "bad recipient address",
			server:  &serverOptions{tls: TLSNone},
			message: func(m *Message) { m.To = []string{"ann@example.org\r\nBcc: x@example.net"} },
			want:    []error{ErrPermanent, ErrInvalidMessage}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := SMTPConfig{Host: deadHost, Port: deadPort, From: "no-reply@example.com", TLS: TLSNone, Timeout: 5 * time.Second}
			var srv *testSMTP
			if tt.server != nil {
				srv = startSMTP(t, *tt.server)
				cfg = srv.config(tt.server.tls) // the mode the server speaks
			}
			if tt.change != nil {
				tt.change(&cfg)
			}
			m := testMessage()
			if tt.message != nil {
				tt.message(&m)
			}
			sender, err := NewSMTPSender(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}

			err = sender.Send(t.Context(), m)
			t.Logf("Send() = %v", err)
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("Send() = %v, want it to wrap %v", err, want)
				}
			}
			if errors.Is(err, ErrTemporary) == errors.Is(err, ErrPermanent) {
				t.Errorf("Send() = %v, want exactly one of ErrTemporary and ErrPermanent", err)
			}
			if srv != nil && len(srv.received()) != 0 {
				t.Errorf("server received %d mails, want none", len(srv.received()))
			}
		})
	}
}

func TestSMTPSenderCancelled(t *testing.T) {
	srv := startSMTP(t, serverOptions{tls: TLSNone})
	sender, err := NewSMTPSender(srv.config(TLSNone), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = sender.Send(ctx, testMessage())
	if !errors.Is(err, ErrTemporary) || !errors.Is(err, context.Canceled) {
		t.Errorf("Send() = %v, want ErrTemporary and context.Canceled", err)
	}
}

// A shutdown that comes while the server is taking the message must not
// cut the connection before its answer: the server keeps the mail either
// way, and a sender that reports a failure has it sent again.
func TestSMTPSenderAwaitsAnswerToData(t *testing.T) {
	ctx, shutdown := context.WithCancel(t.Context())
	srv := startSMTP(t, serverOptions{tls: TLSNone, beforeAccept: func() {
		shutdown()
		time.Sleep(100 * time.Millisecond) // a relay writing the mail to its queue
	}})
	sender, err := NewSMTPSender(srv.config(TLSNone), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.Send(ctx, testMessage()); err != nil || len(srv.received()) != 1 {
		t.Errorf("Send() = %v with the server having received %d mails; want nil and 1", err, len(srv.received()))
	}
}

func TestSMTPSenderTimeout(t *testing.T) {
	// A server that accepts the connection and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // the listener closed at cleanup
			}
			conns = append(conns, conn)
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	cfg := SMTPConfig{Host: "127.0.0.1", Port: addr.Port, From: "no-reply@example.com", TLS: TLSNone, Timeout: 200 * time.Millisecond}
	sender, err := NewSMTPSender(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	err = sender.Send(t.Context(), testMessage())
	if !errors.Is(err, ErrTemporary) {
		t.Errorf("Send() = %v, want ErrTemporary", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Send() took %v with a 200ms timeout", elapsed)
	}
}

// A relay may scan a message for minutes before it answers the final dot
// (RFC 5321, section 4.5.3.2.6, asks a client to wait ten). The wait has a
// deadline of its own, not the session's: a relay that answers after the
// session's timeout has the mail once, and the outbox does not send it
// again. A shutdown during the wait cuts it to a short grace, never to the
// ten minutes. Durations are scaled down: Timeout stands for the session's
// 30 s, DataReplyTimeout for the ten minutes.
func TestSMTPSenderWaitsForAnswerToData(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name         string
		answerAfter  time.Duration // the relay's pause between the dot and its 250
		replyTimeout time.Duration
		shutdown     bool // the server shuts down as the relay starts its pause
		wantErr      error
		wantCopies   int // after the outbox's passes
		maxElapsed   time.Duration
	}{
		{name: "an answer later than the session timeout", answerAfter: 3 * timeout, replyTimeout: 5 * time.Second,
			wantCopies: 1, maxElapsed: 3 * time.Second},
		{name: "no answer within the data reply timeout", answerAfter: 2 * time.Second, replyTimeout: timeout,
			wantErr: ErrTemporary, wantCopies: 2, maxElapsed: 1500 * time.Millisecond},
		{name: "a shutdown cuts the wait to a short grace", answerAfter: 3 * time.Second, replyTimeout: time.Minute,
			shutdown: true, wantErr: ErrTemporary, wantCopies: 2, maxElapsed: 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, shutdown := context.WithCancel(t.Context())
			var deliveries atomic.Int32
			srv := startSMTP(t, serverOptions{tls: TLSNone, beforeAccept: func() {
				if deliveries.Add(1) > 1 {
					return // only the first delivery is slow
				}
				if tt.shutdown {
					shutdown()
				}
				time.Sleep(tt.answerAfter)
			}})
			cfg := srv.config(TLSNone)
			cfg.Timeout, cfg.DataReplyTimeout = timeout, tt.replyTimeout
			clock := newTestClock()
			q := newMemQueue()
			o := newTestOutbox(t, cfg, q, clock, Backoff{})
			q.add(testMessage(), clock.Now())

			start := time.Now()
			sent, err := o.RunOnce(ctx)
			elapsed := time.Since(start)
			if elapsed > tt.maxElapsed {
				t.Errorf("the pass took %v, want at most %v", elapsed, tt.maxElapsed)
			}
			if tt.wantErr == nil && (sent != 1 || err != nil) {
				t.Errorf("RunOnce() = %d, %v; want the mail delivered", sent, err)
			}
			if tt.wantErr != nil && sent != 0 {
				t.Errorf("RunOnce() = %d, %v; want no delivery", sent, err)
			}
			// The pass after the back-off, or after the restart.
			clock.Advance(time.Hour)
			runOnce(t, o)
			if n := len(srv.received()); n != tt.wantCopies {
				t.Errorf("the relay has %d copies, want %d", n, tt.wantCopies)
			}
		})
	}
}

// Every header line of a composed mail keeps within RFC 5322's limits
// (998 characters, and the 78 it recommends) however long the non-ASCII
// names in From and To and the subject, and reads back unchanged. A tenant
// name may have 128 characters; in CJK, Q-encoded, that is some 1400.
func TestSMTPSenderFoldsLongHeaders(t *testing.T) {
	tests := []struct{ name, sender string }{
		{"CJK", strings.Repeat("株式会社", 32)},
		{"emoji", strings.Repeat("🏢", 128)},
		{"Cyrillic", string([]rune(strings.Repeat("Организация", 12))[:128])},
		{"non-ASCII with punctuation (B-encoded)", strings.Repeat("Café, Ünïcode & Zonen (NL) ", 4)},
		{"ASCII with spaces", strings.Repeat("Acme Holding ", 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, serverOptions{tls: TLSNone})
			sender, err := NewSMTPSender(srv.config(TLSNone), nil)
			if err != nil {
				t.Fatal(err)
			}
			m := testMessage()
			m.From = (&mail.Address{Name: tt.sender, Address: "no-reply@example.com"}).String()
			m.To = []string{
				(&mail.Address{Name: tt.sender, Address: "ann@example.org"}).String(),
				(&mail.Address{Name: "Bob " + tt.sender, Address: "bob@example.net"}).String(),
			}
			m.Subject = "Welkom bij " + tt.sender + " — uw tijdelijke wachtwoord"
			if err := sender.Send(t.Context(), m); err != nil {
				t.Fatalf("Send() = %v", err)
			}
			raw := srv.received()[0].data
			header, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
			for _, line := range strings.Split(string(header), "\r\n") {
				if len(line) > 78 {
					t.Errorf("header line of %d characters, over RFC 5322's 78: %.60q…", len(line), line)
				}
				if strings.TrimSpace(line) == "" {
					t.Errorf("a header line of white space only: %q", line)
				}
			}

			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("parse message: %v", err)
			}
			if from, err := mail.ParseAddress(msg.Header.Get("From")); err != nil || from.Name != tt.sender || from.Address != "no-reply@example.com" {
				t.Errorf("From reads back as %+v (%v), want %q", from, err, tt.sender)
			}
			to, err := msg.Header.AddressList("To")
			if err != nil || len(to) != 2 || to[0].Name != tt.sender || to[1].Name != "Bob "+tt.sender || to[1].Address != "bob@example.net" {
				t.Errorf("To reads back as %v (%v)", to, err)
			}
			if subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil || subject != m.Subject {
				t.Errorf("Subject reads back as %q (%v), want %q", subject, err, m.Subject)
			}
		})
	}
}
