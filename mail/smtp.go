package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// TLS modes of SMTPConfig.TLS.
const (
	// TLSStartTLS connects in clear text and upgrades with STARTTLS, which
	// the server must offer (usually port 587). It is the default.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (usually port 465).
	TLSImplicit = "implicit"
	// TLSNone sends in clear text: only for a relay on the same host or a
	// development catcher.
	TLSNone = "none"
)

// SMTP timeouts, used when the SMTPConfig fields are zero.
const (
	// DefaultSMTPTimeout bounds one delivery, from dial to the end of the
	// message data, and then QUIT.
	DefaultSMTPTimeout = 30 * time.Second
	// DefaultSMTPDataReplyTimeout bounds the wait for the server's answer
	// to the end of the message data: ten minutes, as RFC 5321, section
	// 4.5.3.2.6, asks, since a relay may scan the message before it
	// answers. Giving up sooner would not stop the mail, only make it look
	// undelivered, and the outbox would send it again.
	DefaultSMTPDataReplyTimeout = 10 * time.Minute
)

// shutdownReplyWait is the most a server that is taking a message still
// gets to answer once the delivery's context ends (the server shutting
// down), so that a shutdown does not wait for a slow relay's ten minutes.
// It is shorter than the half minute an orchestrator commonly gives a
// process before SIGKILL, and never longer than SMTPConfig.Timeout.
const shutdownReplyWait = 10 * time.Second

// SMTPConfig says how to reach the SMTP submission server.
type SMTPConfig struct {
	Host string
	// Port defaults to 587 for starttls, 465 for implicit and 25 for none.
	Port int
	// Username turns on AUTH PLAIN. net/smtp refuses to send it over a
	// clear-text connection except to localhost.
	Username string
	Password string
	// From is the envelope sender and the default From header, for example
	// "Cognate <no-reply@example.com>".
	From string
	// TLS is TLSStartTLS (the default when empty), TLSImplicit or TLSNone.
	TLS string
	// InsecureSkipVerify accepts any server certificate. Tests only.
	InsecureSkipVerify bool
	// Timeout bounds one delivery up to the end of the message data, and
	// its QUIT; zero means DefaultSMTPTimeout.
	Timeout time.Duration
	// DataReplyTimeout bounds the wait for the answer to the end of the
	// message data; zero means DefaultSMTPDataReplyTimeout.
	DataReplyTimeout time.Duration
	// HelloName is the host name this server gives in EHLO, normally the
	// host of its base URL; empty means "localhost". Relays that check
	// it (Postfix's reject_non_fqdn_helo_hostname, for one) refuse a bare
	// "localhost" from another machine.
	HelloName string
}

// Validate reports every problem of the configuration at once, wrapped in
// ErrInvalidConfig.
func (c SMTPConfig) Validate() error {
	problems := c.Problems("", c.Password != "")
	if len(problems) == 0 {
		return nil
	}
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p
	}
	return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
}

// A FieldError is one problem of an SMTPConfig, in the field it names.
type FieldError struct {
	// Field is the field, in lower case with underscores: host, port, tls,
	// from, username, timeout or data_reply_timeout.
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Problems lists what Validate reports, a FieldError each, for a caller
// that names the fields in its own terms: the messages name a field as
// prefix and Field ("smtp." for the settings that fill them; "" names
// each field as Field does). These are the rules; `cognate serve` checks
// its smtp settings with them.
//
// The rules ask whether there is a password, never what it is, so the
// caller says that (passwordGiven) rather than c.Password: a configuration
// that names a file for the password is checked without having read it,
// or after it failed to read it (a problem it reports itself).
func (c SMTPConfig) Problems(prefix string, passwordGiven bool) []*FieldError {
	name := func(field string) string { return prefix + field }
	var problems []*FieldError
	problem := func(field, format string, args ...any) {
		problems = append(problems, &FieldError{Field: field, Err: fmt.Errorf(format, args...)})
	}
	if c.Host == "" {
		problem("host", "%s is required", name("host"))
	}
	if c.Port < 0 || c.Port > 65535 {
		problem("port", "%s %d: want 1 to 65535, or 0 for the usual port of the TLS mode (587, 465 with %s, 25 with %s)",
			name("port"), c.Port, TLSImplicit, TLSNone)
	}
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit, TLSNone:
	default:
		problem("tls", "%s %q: want %s, %s or %s", name("tls"), c.TLS, TLSStartTLS, TLSImplicit, TLSNone)
	}
	if c.From == "" {
		problem("from", "%s is required", name("from"))
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		problem("from", "%s %q is not an email address (%w)", name("from"), c.From, err)
	}
	if (c.Username != "") != passwordGiven {
		problem("username", "%s and %s go together: set both or neither", name("username"), name("password"))
	}
	// Found at start-up rather than at the first mail: net/smtp would refuse
	// to send the password anyway.
	if (c.Username != "" || passwordGiven) && c.TLS == TLSNone && !IsLocalRelay(c.Host) {
		problem("tls", "%s %s would send the SMTP password in clear text to %s: without TLS, %s and %s "+
			"are for a relay on this machine only, named localhost, 127.0.0.1 or ::1",
			name("tls"), TLSNone, c.Host, name("username"), name("password"))
	}
	if c.Timeout < 0 {
		problem("timeout", "%s %s is negative", name("timeout"), c.Timeout)
	}
	if c.DataReplyTimeout < 0 {
		problem("data_reply_timeout", "%s %s is negative", name("data_reply_timeout"), c.DataReplyTimeout)
	}
	return problems
}

// LogValue leaves the password out, so the configuration can be logged at
// start-up.
func (c SMTPConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host),
		slog.Int("port", c.port()),
		slog.String("tls", c.tlsMode()),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password != ""),
		slog.String("from", c.From),
		slog.Bool("insecure_skip_verify", c.InsecureSkipVerify),
		slog.Duration("timeout", c.timeout()),
		slog.Duration("data_reply_timeout", c.dataReplyTimeout()),
	)
}

func (c SMTPConfig) tlsMode() string {
	if c.TLS == "" {
		return TLSStartTLS
	}
	return c.TLS
}

// helloName is HelloName as EHLO takes it: an IP address goes in
// brackets, as an address literal (RFC 5321, section 4.1.3).
func (c SMTPConfig) helloName() string {
	ip, err := netip.ParseAddr(c.HelloName)
	switch {
	case c.HelloName == "":
		return "localhost"
	case err != nil:
		return c.HelloName
	case ip.Is4():
		return "[" + ip.String() + "]"
	}
	return "[IPv6:" + ip.String() + "]"
}

func (c SMTPConfig) port() int {
	if c.Port != 0 {
		return c.Port
	}
	switch c.tlsMode() {
	case TLSImplicit:
		return 465
	case TLSNone:
		return 25
	default:
		return 587
	}
}

func (c SMTPConfig) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultSMTPTimeout
	}
	return c.Timeout
}

func (c SMTPConfig) dataReplyTimeout() time.Duration {
	if c.DataReplyTimeout == 0 {
		return DefaultSMTPDataReplyTimeout
	}
	return c.DataReplyTimeout
}

// IsLocalRelay reports whether host names a relay on this machine, the one
// kind of relay an SMTP password may go to in clear text (TLSNone):
// exactly "localhost", "127.0.0.1" or "::1". These are the names net/smtp's
// PlainAuth accepts without TLS, so a host this allows is one it will send
// the password to; other loopback names (127.0.0.2, mail.localhost) are
// refused, since PlainAuth would refuse them at the first mail. It is the
// one rule: the configuration of `cognate serve` checks smtp.host with it
// too.
func IsLocalRelay(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// SMTPSender delivers mail to one SMTP submission server, one connection per
// message. It is safe for concurrent use.
type SMTPSender struct {
	cfg  SMTPConfig
	now  func() time.Time
	from *mail.Address
}

var _ Sender = (*SMTPSender)(nil)

// NewSMTPSender validates cfg. now stamps the Date header; nil means
// time.Now.
func NewSMTPSender(cfg SMTPConfig, now func() time.Time) (*SMTPSender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil { // Validate checked it; kept for the compiler's sake.
		return nil, fmt.Errorf("%w: from: %w", ErrInvalidConfig, err)
	}
	if now == nil {
		now = time.Now
	}
	return &SMTPSender{cfg: cfg, now: now, from: from}, nil
}

// Send delivers m. Its error wraps ErrTemporary or ErrPermanent; a message
// counts as delivered once the server accepted its data, whatever happens
// at QUIT, so that a retry does not send it twice.
//
// Addresses outside ASCII go as they are to a relay that offers SMTPUTF8
// (RFC 6531). To one that does not, a domain outside ASCII goes in IDNA
// A-labels, which name the same domain; a local part outside ASCII has no
// such form, and the message fails with ErrSMTPUTF8Required (permanent,
// so the outbox logs the reason once) rather than be refused by the relay
// or mangled on the way.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	addrs, err := checkMessage(m, s.cfg.From)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	return s.deliver(ctx, m, addrs)
}

// forRelay returns the envelope sender and the message's addresses as a
// relay takes them: as they are when it offers SMTPUTF8, otherwise in ASCII
// (see Send).
func (s *SMTPSender) forRelay(addrs addressed, smtputf8 bool) (from string, out addressed, err error) {
	if smtputf8 {
		return s.from.Address, addrs, nil
	}
	var problems []error
	ascii := func(role string, a *mail.Address) *mail.Address {
		converted, err := asciiAddress(a.Address)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", role, err))
			return a
		}
		return &mail.Address{Name: a.Name, Address: converted}
	}
	from = ascii("envelope sender", s.from).Address
	out.from = ascii("sender", addrs.from)
	for i, a := range addrs.to {
		out.to = append(out.to, ascii(fmt.Sprintf("recipient %d", i), a))
	}
	if len(problems) > 0 {
		return "", addressed{}, fmt.Errorf("%w: %w: %w", ErrPermanent, ErrSMTPUTF8Required, errors.Join(problems...))
	}
	return from, out, nil
}

// asciiAddress writes addr's domain in A-labels, or fails for a local part
// outside ASCII. Errors name the domain only: they are logged.
func asciiAddress(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:max(at, 0)], addr[at+1:]
	if !isASCII(local) {
		return "", fmt.Errorf("the local part of an address at %s is not ASCII", domain)
	}
	converted, err := domainToASCII(domain)
	if err != nil {
		return "", fmt.Errorf("domain %s: %w", domain, err)
	}
	return local + "@" + converted, nil
}

// deliver runs one SMTP session. net/smtp knows no context, so the
// connection gets a deadline and is closed when ctx is cancelled; the wait
// for the answer to the message data has a deadline of its own (see
// awaitDataReply).
func (s *SMTPSender) deliver(ctx context.Context, m Message, addrs addressed) error {
	// Network deadlines need the real clock; the injected one only dates
	// the message.
	deadline := time.Now().Add(s.cfg.timeout())
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	sessionCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	conn, err := s.dial(sessionCtx)
	if err != nil {
		return classify(sessionCtx, stageConnect, err)
	}
	stop := context.AfterFunc(sessionCtx, func() { conn.Close() })
	defer stop()
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return classify(sessionCtx, stageConnect, err)
	}

	// The host name given here is the one PlainAuth checks and STARTTLS
	// verifies the certificate against.
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return classify(sessionCtx, stageGreeting, err)
	}
	defer c.Close()

	// net/smtp would say EHLO on its own, but would then hide a failure
	// behind Extension's false.
	if err := c.Hello(s.cfg.helloName()); err != nil {
		return classify(sessionCtx, stageEHLO, err)
	}
	if s.cfg.tlsMode() == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			// Never fall back to clear text: a missing STARTTLS may be an
			// attacker stripping it.
			return fmt.Errorf("%w: %w", ErrTemporary, ErrSTARTTLSUnavailable)
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return classify(sessionCtx, stageSTARTTLS, err)
		}
	}
	if s.cfg.Username != "" {
		auth := smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)
		if err := c.Auth(auth); err != nil {
			return classify(sessionCtx, stageAuth, err)
		}
	}
	// Only now, after EHLO (again after STARTTLS), is it known whether the
	// relay takes addresses in UTF-8. When it does, net/smtp's Mail says
	// SMTPUTF8 on MAIL FROM.
	smtputf8, _ := c.Extension("SMTPUTF8")
	envelopeFrom, addrs, err := s.forRelay(addrs, smtputf8)
	if err != nil {
		_ = c.Quit()
		return err
	}
	data, err := compose(m, addrs, s.now())
	if err != nil {
		_ = c.Quit()
		return fmt.Errorf("%w: %w: %w", ErrPermanent, ErrInvalidMessage, err)
	}
	if err := c.Mail(envelopeFrom); err != nil {
		return classify(sessionCtx, stageMail, err)
	}
	for _, rcpt := range addrs.to {
		if err := c.Rcpt(rcpt.Address); err != nil {
			return classify(sessionCtx, stageRcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return classify(sessionCtx, stageData, err)
	}
	if _, err := w.Write(data); err != nil {
		return classify(sessionCtx, stageData, err)
	}
	// Close sends the final dot, after which the server may take the
	// message at any moment: from here on, cancelling would no longer stop
	// the mail, only hide its delivery, so that the outbox sent it again.
	stop()
	if err := s.awaitDataReply(ctx, conn, w.Close); err != nil {
		return err
	}
	// Delivered: the server has taken responsibility for the message.
	// QUIT is only a courtesy; it gets the ordinary timeout.
	_ = conn.SetDeadline(time.Now().Add(s.cfg.timeout()))
	_ = c.Quit()
	return nil
}

// awaitDataReply ends the message data with closeData and waits for the
// server's answer for DataReplyTimeout (ten minutes by default, as RFC 5321,
// section 4.5.3.2.6, asks), whatever is left of the session's timeout.
// When ctx ends meanwhile (the server shutting down), the relay still gets
// a short while to answer, so that a mail it is taking is known to be
// delivered, but a shutdown does not wait for a slow relay's ten minutes;
// a mail whose answer does not come in time is reported as a temporary
// failure and sent again later.
func (s *SMTPSender) awaitDataReply(ctx context.Context, conn net.Conn, closeData func() error) error {
	replyDeadline := time.Now().Add(s.cfg.dataReplyTimeout())
	if err := conn.SetDeadline(replyDeadline); err != nil {
		return classify(ctx, stageData, err)
	}
	shorten := context.AfterFunc(ctx, func() {
		if grace := time.Now().Add(min(shutdownReplyWait, s.cfg.timeout())); grace.Before(replyDeadline) {
			_ = conn.SetDeadline(grace)
		}
	})
	defer shorten()
	if err := closeData(); err != nil {
		// Classified by the answer itself, not by ctx: a relay that
		// refused the message with 5xx during a shutdown refused it all
		// the same. A wait cut short has no answer and is temporary.
		return classify(context.WithoutCancel(ctx), stageData, err)
	}
	return nil
}

func (s *SMTPSender) dial(ctx context.Context) (net.Conn, error) {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.port()))
	dialer := &net.Dialer{}
	if s.cfg.tlsMode() == TLSImplicit {
		td := &tls.Dialer{NetDialer: dialer, Config: s.tlsConfig()}
		return td.DialContext(ctx, "tcp", addr)
	}
	return dialer.DialContext(ctx, "tcp", addr)
}

func (s *SMTPSender) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName:         s.cfg.Host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: s.cfg.InsecureSkipVerify, //nolint:gosec // documented as tests only
	}
}

// classify wraps err in ErrTemporary or ErrPermanent.
//
// A 5xx reply to the message's own commands (MAIL, RCPT, DATA) is
// permanent: the server refuses this message. A 5xx reply before them
// (greeting, EHLO, STARTTLS, AUTH) refuses our connection or credentials,
// which an operator can fix, so the mail waits (Postfix defers such mail too;
// see its smtp_sasl_auth_soft_bounce). So is a 530 reply, which a relay
// gives to MAIL FROM or RCPT TO when it wants AUTH (RFC 4954) or STARTTLS
// (RFC 3207) first: it refuses the settings, not the message. Anything
// without a reply code (refused connection, timeout, TLS failure) is
// temporary as well; the outbox's attempt limit still bounds the retries.
func classify(ctx context.Context, stage string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w: smtp %s: %w", ErrTemporary, stage, ctxErr)
	}
	var reply *textproto.Error
	messageStage := stage == stageMail || stage == stageRcpt || stage == stageData
	if errors.As(err, &reply) && reply.Code >= 500 && reply.Code != 530 && messageStage {
		return fmt.Errorf("%w: smtp %s: %w", ErrPermanent, stage, err)
	}
	return fmt.Errorf("%w: smtp %s: %w", ErrTemporary, stage, err)
}

// Stages of an SMTP session, named in errors.
const (
	stageConnect  = "connect"
	stageGreeting = "greeting"
	stageEHLO     = "ehlo"
	stageSTARTTLS = "starttls"
	stageAuth     = "auth"
	stageMail     = "mail from"
	stageRcpt     = "rcpt to"
	stageData     = "data"
)
