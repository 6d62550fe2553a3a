package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strconv"
	"strings"
)

// Errors returned by senders. Every delivery error wraps exactly one of
// ErrTemporary and ErrPermanent, so that the outbox can decide whether to try
// again; the other sentinels say more about the cause.
var (
	// ErrTemporary means the same message may go through later: the server
	// was unreachable, answered 4xx, or a TLS or authentication problem that
	// an operator can fix got in the way.
	ErrTemporary = errors.New("mail: temporary delivery failure")
	// ErrPermanent means sending the same message again will fail the same
	// way: the server answered 5xx to it, or the message itself is invalid.
	ErrPermanent = errors.New("mail: permanent delivery failure")

	// ErrInvalidMessage means a message cannot be sent as it is (no
	// recipient, an unparsable address, a line break in the subject). It is
	// always wrapped together with ErrPermanent.
	ErrInvalidMessage = errors.New("mail: invalid message")
	// ErrInvalidConfig is wrapped by SMTPConfig.Validate.
	ErrInvalidConfig = errors.New("mail: invalid SMTP configuration")
	// ErrSTARTTLSUnavailable means TLS "starttls" was configured but the
	// server does not offer STARTTLS. The mail is not sent in clear text.
	ErrSTARTTLSUnavailable = errors.New("mail: server does not offer STARTTLS")
	// ErrSMTPUTF8Required means an address has no ASCII form (a local part
	// outside ASCII, or a domain outside ASCII that cannot be written in
	// IDNA A-labels) and the server does not offer SMTPUTF8 (RFC 6531). It
	// is always wrapped together with ErrPermanent.
	ErrSMTPUTF8Required = errors.New("mail: address needs SMTPUTF8, which the server does not offer")
)

// Message is one mail, ready to send: rendered, addressed, and free of any
// storage type, so that the outbox can keep it in any store.
type Message struct {
	// ID identifies the message in the caller's outbox; senders only log it.
	ID string
	// To holds RFC 5322 addresses ("a@example.com" or "Ann <a@example.com>").
	To []string
	// From overrides the sender's configured From header when set. The SMTP
	// envelope sender stays the configured address.
	From    string
	Subject string
	Text    string
	HTML    string
	// Sensitive marks a body holding a secret, such as a temporary password
	// or a reset code: a store should wipe it once the message is delivered
	// or given up.
	Sensitive bool
}

// Sender delivers a message. Implementations return errors wrapping
// ErrTemporary or ErrPermanent.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// LogValue keeps bodies out of logs: a body may hold a temporary password.
// Recipients are reduced to a count and their domains for the same reason
// of care. The subject of a sensitive message is left out too: it is
// rendered from the same data as the body, and a template override could
// put the secret in it (NewTemplates refuses the overrides it can tell).
func (m Message) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("id", m.ID),
		slog.Int("recipients", len(m.To)),
		slog.String("domains", strings.Join(recipientDomains(m.To), ",")),
	}
	if !m.Sensitive {
		attrs = append(attrs, slog.String("subject", m.Subject))
	}
	return slog.GroupValue(append(attrs, slog.Bool("sensitive", m.Sensitive))...)
}

// String serves fmt's %v and %s the same summary as LogValue, so that a
// message printed by mistake does not print its body either.
func (m Message) String() string {
	subject := ""
	if !m.Sensitive {
		subject = fmt.Sprintf(" subject=%q", m.Subject)
	}
	return fmt.Sprintf("mail.Message{id=%q recipients=%d domains=%q%s sensitive=%t}",
		m.ID, len(m.To), strings.Join(recipientDomains(m.To), ","), subject, m.Sensitive)
}

// recipientDomains returns the sorted, distinct domains of the recipients.
// It works on unparsable addresses too, since it is used to log them.
func recipientDomains(to []string) []string {
	var domains []string
	for _, addr := range to {
		if a, err := mail.ParseAddress(addr); err == nil {
			addr = a.Address
		}
		domain := "?"
		if i := strings.LastIndexByte(addr, '@'); i >= 0 {
			domain = strings.ToLower(strings.Trim(addr[i+1:], "> \t"))
		}
		domains = append(domains, domain)
	}
	slices.Sort(domains)
	return slices.Compact(domains)
}

// addressed is a message whose addresses have been parsed.
type addressed struct {
	from *mail.Address   // the From header
	to   []*mail.Address // the To header and the envelope recipients
}

// checkMessage checks what both senders need before a message can be sent;
// the development sink runs it too, so that a bad address shows up in
// development rather than in production. defaultFrom is used when m.From is
// empty.
func checkMessage(m Message, defaultFrom string) (addressed, error) {
	var problems []error
	var out addressed

	from := m.From
	if from == "" {
		from = defaultFrom
	}
	if from != "" {
		a, err := mail.ParseAddress(from)
		if err != nil {
			problems = append(problems, fmt.Errorf("from %q: %w", from, err))
		} else {
			out.from = a
		}
	}

	if len(m.To) == 0 {
		problems = append(problems, errors.New("no recipient"))
	}
	for i, to := range m.To {
		a, err := mail.ParseAddress(to)
		if err != nil {
			problems = append(problems, fmt.Errorf("recipient %d: %w", i, err))
			continue
		}
		out.to = append(out.to, a)
	}

	// mime.QEncoding leaves an ASCII subject as it is, so a line break
	// here would start a new header.
	if strings.ContainsAny(m.Subject, "\r\n") {
		problems = append(problems, errors.New("subject contains a line break"))
	}
	if m.Text == "" && m.HTML == "" {
		problems = append(problems, errors.New("empty body"))
	}

	if len(problems) > 0 {
		return addressed{}, fmt.Errorf("%w: %w: %w", ErrPermanent, ErrInvalidMessage, errors.Join(problems...))
	}
	return out, nil
}

// quoteList renders a short list for error messages.
func quoteList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	return strings.Join(quoted, ", ")
}
