package mail

import (
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzComposeHeaders: a message's From name (a tenant's display name), its
// recipient (a user's address) and its subject come from people. Whatever
// they hold, a message that checkMessage lets through has exactly the
// header fields compose writes, each once (nothing injected by a line
// break), no header line is longer than maxHeaderLine but for a word that
// cannot be folded, and reading it back gives the same name, address,
// subject and text, to a strict reader and to a lenient one (leniently).
func FuzzComposeHeaders(f *testing.F) {
	f.Add("Acme Corp", "ann@example.com", "Your code", "Hello\nyour code is 123456")
	f.Add("Café \"Noir\" <x>", "jörg@exämple.test", "Welkom bij Café Noir", "Hé\r\n.\r\nBcc: x@evil")
	f.Add("a\r\nBcc: evil@example.com", "ann@example.com", "x\nBcc: evil@example.com", "t")
	f.Add(strings.Repeat("Long organization name ", 6), "b@x.y", strings.Repeat("ünïcode ", 20), strings.Repeat("x", 200))
	f.Add("=?utf-8?q?encoded?=", "\"quoted\"@example.com", "=?utf-8?q?Bcc:_x?=", "")
	// A subject, and a sender's name, of ASCII text that holds an encoded
	// word's "=?" reads back as written, not decoded (found by this fuzz
	// test), even to a client that decodes encoded words inside the quotes
	// net/mail puts around such a name. Before, only the subject was
	// encoded: "=?utf-8?q?Acme=E2=80=AE?=" <noreply@…> showed a
	// right-to-left override as the sender.
	for _, lookalike := range []string{
		"=?utf-8?q?Acme=E2=80=AE?=", "=??B??=", "Welcome to =?utf-8?b?QmNjOiB4?= " + strings.Repeat("x", 100),
		" =?x?q?y?= ", "Welkom bij =?utf-8?q?Caf=C3=A9?= Café", `Acme "=?utf-8?q?=E2=80=AE?=" \ BV`,
	} {
		f.Add(lookalike, "ann@example.com", lookalike, "t")
	}
	f.Fuzz(func(t *testing.T, name, to, subject, text string) {
		from := (&netmail.Address{Name: name, Address: "noreply@example.com"}).String()
		m := Message{From: from, To: []string{to}, Subject: subject, Text: text}
		addrs, err := checkMessage(m, "")
		if err != nil {
			return
		}
		raw, err := compose(m, addrs, time.Unix(1_700_000_000, 0))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := netmail.ReadMessage(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatalf("the message composed does not read back: %v\n%s", err, raw)
		}
		// writeHeader folds before a word that would pass the line, but
		// leaves whole a word longer than a line (an address, ASCII text
		// written as it is). An encoded word is never one: RFC 2047 caps
		// it at 75 characters.
		for line := range strings.SplitSeq(string(raw[:strings.Index(string(raw), "\r\n\r\n")]), "\r\n") {
			if len(line) > maxHeaderLine && !slices.ContainsFunc(strings.Split(line, " "), unfoldable) {
				t.Fatalf("header line of %d characters: %q\n%s", len(line), line, raw)
			}
		}
		var keys []string
		for k, v := range msg.Header {
			if len(v) != 1 {
				t.Fatalf("header %s %d times:\n%s", k, len(v), raw)
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"Auto-Submitted", "Content-Transfer-Encoding", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
		if !slices.Equal(keys, want) {
			t.Fatalf("header fields %q, want %q:\n%s", keys, want, raw)
		}
		gotFrom, err := msg.Header.AddressList("From")
		if err != nil || len(gotFrom) != 1 || gotFrom[0].Address != addrs.from.Address || gotFrom[0].Name != addrs.from.Name {
			t.Fatalf("From reads back as %v (%v), want %v:\n%s", gotFrom, err, addrs.from, raw)
		}
		gotTo, err := msg.Header.AddressList("To")
		if err != nil || len(gotTo) != 1 || gotTo[0].Address != addrs.to[0].Address {
			t.Fatalf("To reads back as %v (%v), want %v:\n%s", gotTo, err, addrs.to[0], raw)
		}
		for _, field := range []struct {
			key  string
			name string
		}{{"From", addrs.from.Name}, {"To", addrs.to[0].Name}} {
			if lenient := leniently(msg.Header.Get(field.key)); strings.Contains(field.name, "=?") && !strings.Contains(lenient, field.name) {
				t.Fatalf("the %s name %q reads, to a client that decodes encoded words anywhere, as %q:\n%s", field.key, field.name, lenient, raw)
			}
		}
		// White space around a header field's value is no part of it (a
		// reader drops it), so an ASCII subject, written as it is, loses
		// its own; an encoded one keeps it.
		wantSubject := subject
		if encodeSubject(subject) == subject {
			wantSubject = strings.Trim(subject, " \t")
		}
		gotSubject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || gotSubject != wantSubject {
			t.Fatalf("Subject reads back as %q (%v), want %q:\n%s", gotSubject, err, wantSubject, raw)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		// The encoder writes every line end as CRLF.
		normal := strings.NewReplacer("\r\n", "\n", "\r", "\n")
		if err != nil || normal.Replace(string(body)) != normal.Replace(text) {
			t.Fatalf("the text reads back as %q (%v), want %q", body, err, text)
		}
	})
}

// unfoldable reports whether word, of a header line, is one that
// writeHeader leaves longer than a line: a word longer than one, and no
// encoded word, which RFC 2047 caps at 75 characters.
func unfoldable(word string) bool {
	encoded := strings.HasPrefix(word, "=?") && strings.HasSuffix(word, "?=")
	return 1+len(word) > maxHeaderLine && !encoded
}

// leniently is a header field's value as a lenient mail client shows it:
// every encoded word decoded, even inside a quoted string, where RFC 2047
// forbids it.
func leniently(value string) string {
	decoded, err := new(mime.WordDecoder).DecodeHeader(value)
	if err != nil {
		return value
	}
	return decoded
}
