package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// This file runs a real SMTP server (github.com/emersion/go-smtp) in the
// test process, so that SMTPSender is tested against the protocol rather
// than against a fake of itself.

// serverOptions shapes a test SMTP server.
type serverOptions struct {
	// tls is TLSNone (clear text, no STARTTLS offered), TLSStartTLS (clear
	// text, STARTTLS offered) or TLSImplicit (TLS listener).
	tls string
	// username and password, when set, make AUTH PLAIN mandatory.
	username, password string
	// rejectMail and rejectRcpt, when set, are the replies to every MAIL
	// FROM and RCPT TO.
	rejectMail, rejectRcpt *smtp.SMTPError
	// insecureAuth offers AUTH before TLS.
	insecureAuth bool
	// addr is the address to listen on; empty means 127.0.0.1:0.
	addr string
	// beforeAccept, when set, runs once a message has arrived, before the
	// server answers it with 250.
	beforeAccept func()
	// smtputf8 offers SMTPUTF8 (RFC 6531). Either way the server is
	// strict: an address outside ASCII in a transaction whose MAIL FROM did
	// not say SMTPUTF8 gets 553 5.6.7, as RFC 6531, section 3.6.1, has it.
	smtputf8 bool
}

// receivedMail is what the server accepted.
type receivedMail struct {
	from string
	to   []string
	data []byte
	tls  bool   // the session ran over TLS
	user string // the authenticated user
	helo string // the name the client gave in EHLO
	utf8 bool   // MAIL FROM said SMTPUTF8
}

type testSMTP struct {
	host string
	port int

	mu       sync.Mutex
	mails    []receivedMail
	attempts int // RCPT commands seen, accepted or not
}

func (s *testSMTP) received() []receivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.mails...)
}

func (s *testSMTP) rcptAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// config returns a sender configuration that reaches this server.
func (s *testSMTP) config(tlsMode string) SMTPConfig {
	return SMTPConfig{
		Host:               s.host,
		Port:               s.port,
		From:               "Cognate <no-reply@example.com>",
		TLS:                tlsMode,
		InsecureSkipVerify: tlsMode != TLSNone,
		Timeout:            5 * time.Second,
	}
}

func startSMTP(t *testing.T, opts serverOptions) *testSMTP {
	t.Helper()
	addr := opts.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	host, portStr, _ := net.SplitHostPort(ln.Addr().String())
	port, _ := strconv.Atoi(portStr)
	ts := &testSMTP{host: host, port: port}

	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &testSession{srv: ts, opts: opts, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 5 * time.Second
	srv.WriteTimeout = 5 * time.Second
	srv.ErrorLog = log.New(t.Output(), "smtp server: ", 0)
	srv.AllowInsecureAuth = opts.insecureAuth
	srv.EnableSMTPUTF8 = opts.smtputf8
	switch opts.tls {
	case TLSStartTLS:
		srv.TLSConfig = selfSignedTLS(t)
	case TLSImplicit:
		ln = tls.NewListener(ln, selfSignedTLS(t))
	}

	go srv.Serve(ln) //nolint:errcheck // returns when the server shuts down
	t.Cleanup(func() {
		// Shutdown waits for the sessions, so none logs after the test.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Errorf("smtp server shutdown: %v", err)
		}
	})
	return ts
}

// testSession records one SMTP session.
type testSession struct {
	srv  *testSMTP
	opts serverOptions
	conn *smtp.Conn

	user string
	from string
	utf8 bool
	to   []string
}

var _ smtp.AuthSession = (*testSession)(nil)

func (s *testSession) AuthMechanisms() []string {
	if s.opts.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.opts.username || password != s.opts.password {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

// errNotASCII is a strict relay's answer to an address outside ASCII
// without SMTPUTF8.
var errNotASCII = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7}, Message: "Non-ASCII addresses not permitted"}

func (s *testSession) Mail(from string, opts *smtp.MailOptions) error {
	if s.opts.username != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	if s.opts.rejectMail != nil {
		return s.opts.rejectMail
	}
	s.utf8 = opts != nil && opts.UTF8
	if !s.utf8 && !asciiOnly(from) {
		return errNotASCII
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	s.srv.attempts++
	s.srv.mu.Unlock()
	if s.opts.rejectRcpt != nil {
		return s.opts.rejectRcpt
	}
	if !s.utf8 && !asciiOnly(to) {
		return errNotASCII
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.mails = append(s.srv.mails, receivedMail{from: s.from, to: s.to, data: data, tls: isTLS, user: s.user,
		helo: s.conn.Hostname(), utf8: s.utf8})
	s.srv.mu.Unlock()
	if s.opts.beforeAccept != nil {
		s.opts.beforeAccept()
	}
	return nil
}

func (s *testSession) Reset() { s.from, s.utf8, s.to = "", false, nil }

func (s *testSession) Logout() error { return nil }

// selfSignedTLS makes a certificate for 127.0.0.1 and localhost, valid for
// the test's duration.
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "cognate test smtp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}
}

// deadAddress returns a loopback address where nothing listens (for now).
func deadAddress(t *testing.T) (host string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	return addr.IP.String(), addr.Port
}

func asciiOnly(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r >= 0x80 })
}
