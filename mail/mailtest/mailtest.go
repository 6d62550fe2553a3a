// Package mailtest runs a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 inside a test, keeps what it receives and reads it back the way
// a mail client would: headers decoded, the text part found in the
// multipart/alternative and its quoted-printable undone. Tests of the ui
// and cmd/cognate packages point Cognate's SMTP sender at it, so that a mail
// is proven to reach a server, not merely to be handed to a fake.
//
// It is for tests only: it is an ordinary package so that tests in other
// packages can import it, but no non-test code may import it (a test in this
// package checks that), which also keeps go-smtp out of the cognate binary.
package mailtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one mail the server accepted, read back.
type Message struct {
	From    string   // envelope sender
	To      []string // envelope recipients
	Header  netmail.Header
	Subject string // decoded
	Text    string // the text/plain part, decoded
	HTML    string // the text/html part, decoded
	Raw     []byte
}

// Server is an SMTP server on a loopback port. Down and Up take it off the
// network and back on the same port, to stand for an outage.
type Server struct {
	t    testing.TB
	Host string
	Port int

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced when a mail arrives
	messages []Message
	srv      *smtp.Server
	done     chan struct{} // closed when the current Serve returns
}

// Start starts a server for t; it stops when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	s := &Server{t: t, Host: host, changed: make(chan struct{})}
	s.Port, _ = strconv.Atoi(port)
	s.serve(ln)
	t.Cleanup(s.Down)
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{srv: s}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	s.mu.Lock()
	s.srv, s.done = srv, done
	s.mu.Unlock()
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // returns when the server shuts down
	}()
}

// Down stops the server: connections are refused until Up.
func (s *Server) Down() {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		s.t.Errorf("mailtest: shutdown: %v", err)
	}
	<-done
}

// Up starts the server again on the same port.
func (s *Server) Up() {
	s.t.Helper()
	// The port was ours a moment ago; another process taking it in between
	// is possible but rare, and then the test says so.
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", s.Addr()); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		s.t.Fatalf("mailtest: listen again on %s: %v", s.Addr(), err)
	}
	s.serve(ln)
}

// Messages returns every mail received so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitFor waits until a mail to the address to (any recipient when empty)
// whose subject contains subject has arrived, and returns the newest such
// mail; it fails the test after timeout.
func (s *Server) WaitFor(to, subject string, timeout time.Duration) Message {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		changed := s.changed
		for i := len(s.messages) - 1; i >= 0; i-- {
			m := s.messages[i]
			if (to == "" || m.sentTo(to)) && strings.Contains(m.Subject, subject) {
				s.mu.Unlock()
				return m
			}
		}
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			s.t.Fatalf("mailtest: no mail to %q with a subject containing %q within %s; received %d: %s",
				to, subject, timeout, len(s.Messages()), s.summary())
			return Message{}
		}
	}
}

// Count counts the mails to the address to whose subject contains subject.
func (s *Server) Count(to, subject string) int {
	n := 0
	for _, m := range s.Messages() {
		if (to == "" || m.sentTo(to)) && strings.Contains(m.Subject, subject) {
			n++
		}
	}
	return n
}

func (s *Server) summary() string {
	var parts []string
	for _, m := range s.Messages() {
		parts = append(parts, fmt.Sprintf("%v %q", m.To, m.Subject))
	}
	return strings.Join(parts, "; ")
}

func (m Message) sentTo(addr string) bool {
	for _, to := range m.To {
		if strings.EqualFold(to, addr) {
			return true
		}
	}
	return false
}

func (s *Server) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

// session receives one SMTP transaction; anything is accepted.
type session struct {
	srv  *Server
	from string
	to   []string
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := Parse(raw)
	if err != nil {
		// Refused permanently: a sender that writes unreadable mail has a
		// bug the test should see, as a delivery failure in its log.
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "mailtest: " + err.Error()}
	}
	m.From, m.To = ss.from, append([]string(nil), ss.to...)
	ss.srv.add(m)
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// Parse reads a raw RFC 5322 message: its headers, and its text and HTML
// bodies from a single part or a multipart/alternative.
func Parse(raw []byte) (Message, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, fmt.Errorf("read message: %w", err)
	}
	out := Message{Header: msg.Header, Raw: raw}
	if out.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Message{}, fmt.Errorf("decode subject: %w", err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return Message{}, fmt.Errorf("content type: %w", err)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		body, err := decodeBody(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return Message{}, err
		}
		out.setBody(mediaType, body)
		return out, nil
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		// NextRawPart: NextPart would undo quoted-printable itself and hide
		// the header saying so; decoding here checks the encoding is real.
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return Message{}, fmt.Errorf("multipart: %w", err)
		}
		partType, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			return Message{}, fmt.Errorf("part content type: %w", err)
		}
		body, err := decodeBody(part, part.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return Message{}, err
		}
		out.setBody(partType, body)
	}
}

func (m *Message) setBody(mediaType, body string) {
	switch mediaType {
	case "text/plain":
		m.Text = body
	case "text/html":
		m.HTML = body
	}
}

func decodeBody(r io.Reader, encoding string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "", "7bit", "8bit":
	default:
		return "", fmt.Errorf("unexpected transfer encoding %q", encoding)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}
