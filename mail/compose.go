package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// compose builds the RFC 5322 message: headers, then either one text part or
// a multipart/alternative of text and HTML, each UTF-8 and quoted-printable
// (which keeps lines short and 7-bit clean whatever the template produced).
func compose(m Message, addrs addressed, now time.Time) ([]byte, error) {
	var buf bytes.Buffer

	to := make([]string, len(addrs.to))
	for i, a := range addrs.to {
		to[i] = formatAddress(a)
	}
	writeHeader(&buf, "From", formatAddress(addrs.from))
	writeHeader(&buf, "To", strings.Join(to, ", "))
	writeHeader(&buf, "Subject", encodeSubject(m.Subject))
	writeHeader(&buf, "Date", now.Format(time.RFC1123Z))
	writeHeader(&buf, "Message-ID", messageID(addrs.from.Address))
	// RFC 3834: tells vacation responders not to answer a robot.
	writeHeader(&buf, "Auto-Submitted", "auto-generated")
	writeHeader(&buf, "MIME-Version", "1.0")

	switch {
	case m.HTML == "":
		return finishSinglePart(&buf, "text/plain", m.Text)
	case m.Text == "":
		return finishSinglePart(&buf, "text/html", m.HTML)
	}

	mw := multipart.NewWriter(&buf)
	writeHeader(&buf, "Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	buf.WriteString("\r\n")
	// RFC 2046: the last alternative is the preferred one, so HTML comes
	// second.
	for _, part := range []struct{ mediaType, body string }{
		{"text/plain", m.Text},
		{"text/html", m.HTML},
	} {
		pw, err := mw.CreatePart(partHeader(part.mediaType))
		if err != nil {
			return nil, fmt.Errorf("create %s part: %w", part.mediaType, err)
		}
		if err := writeQuotedPrintable(pw, part.body); err != nil {
			return nil, fmt.Errorf("write %s part: %w", part.mediaType, err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("close multipart: %w", err)
	}
	return buf.Bytes(), nil
}

func finishSinglePart(buf *bytes.Buffer, mediaType, body string) ([]byte, error) {
	h := partHeader(mediaType)
	writeHeader(buf, "Content-Type", h.Get("Content-Type"))
	writeHeader(buf, "Content-Transfer-Encoding", h.Get("Content-Transfer-Encoding"))
	buf.WriteString("\r\n")
	if err := writeQuotedPrintable(buf, body); err != nil {
		return nil, fmt.Errorf("write %s body: %w", mediaType, err)
	}
	return buf.Bytes(), nil
}

func partHeader(mediaType string) textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", mime.FormatMediaType(mediaType, map[string]string{"charset": "utf-8"}))
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	return h
}

// writeQuotedPrintable encodes body; the encoder also turns bare "\n" line
// ends into the CRLF that mail requires.
func writeQuotedPrintable(w io.Writer, body string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, body); err != nil {
		return err
	}
	return qp.Close()
}

// encodeSubject is the Subject field's value: Q-encoded where it is not
// ASCII (mime.QEncoding encodes such a text whole, "=?" and all), and
// B-encoded whole where ASCII text would read as encoded words
// (encodeLookalike).
func encodeSubject(subject string) string {
	if words, ok := encodeLookalike(subject); ok {
		return words
	}
	return mime.QEncoding.Encode("utf-8", subject)
}

// formatAddress is an address as a header field (From, To) holds it:
// net/mail's form, but a display name that would read as encoded words
// (encodeLookalike) goes in encoded words of ours. net/mail writes such a
// name, being ASCII, as a quoted string, in which RFC 2047 forbids
// decoding; lenient mail clients decode it all the same.
func formatAddress(a *mail.Address) string {
	if words, ok := encodeLookalike(a.Name); ok {
		return words + " " + (&mail.Address{Address: a.Address}).String()
	}
	return a.String()
}

// encodeLookalike encodes text a person reads in a header field (a
// subject, a display name) when, being ASCII, it would be written as it is
// and holds "=?", so that it may read as an RFC 2047 encoded word, which a
// mail client shows decoded: a tenant named "=?utf-8?q?=E2=80=AE...?="
// would show, in its mails' subjects and sender, characters that
// ValidateTenantName keeps out of names (found by FuzzComposeHeaders). Such
// a text is encoded whole, in B-encoded words of 45 bytes, 72 characters
// each (RFC 2047 allows 75), and ok is true; for any other text ok is
// false, and the caller writes it as it would.
func encodeLookalike(text string) (words string, ok bool) {
	if !strings.Contains(text, "=?") || mime.QEncoding.Encode("utf-8", text) != text {
		return "", false
	}
	var encoded []string
	for rest := text; rest != ""; {
		chunk := rest[:min(len(rest), 45)] // ASCII: any cut is between characters
		encoded = append(encoded, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(chunk))+"?=")
		rest = rest[len(chunk):]
	}
	return strings.Join(encoded, " "), true
}

// maxHeaderLine is the line length RFC 5322, section 2.1.1, recommends;
// 998 is its hard limit.
const maxHeaderLine = 78

// writeHeader writes one header field, folded (RFC 5322, section 2.2.3)
// before a space wherever a line would pass maxHeaderLine. Every header
// goes through it, so a long non-ASCII tenant name in From, which
// mime.QEncoding turns into encoded words of at most 75 characters
// separated by spaces, is folded the same way as a long subject. Only a
// line break is inserted, so unfolding gives the value back unchanged, and
// a fold never leaves a line of white space alone. A word longer than a
// line (an address) stays whole: lines stay far below 998 characters, as
// names, subjects and addresses are bounded well below that.
func writeHeader(buf *bytes.Buffer, key, value string) {
	buf.WriteString(key)
	buf.WriteString(":")
	line := len(key) + 1
	for word := range strings.SplitSeq(value, " ") {
		if word != "" && line+1+len(word) > maxHeaderLine && 1+len(word) <= maxHeaderLine {
			buf.WriteString("\r\n")
			line = 0
		}
		buf.WriteString(" ")
		buf.WriteString(word)
		line += 1 + len(word)
	}
	buf.WriteString("\r\n")
}

// messageID is random rather than derived from Message.ID: outbox ids need
// only be unique in one store, and two tenants' mails with the same
// Message-ID could be merged by a mail client.
func messageID(fromAddress string) string {
	domain := fromAddress[strings.LastIndexByte(fromAddress, '@')+1:]
	return "<" + strings.ToLower(rand.Text()) + "@" + domain + ">"
}
