package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// memQueue is an in-memory Queue. The queue belongs to the caller's store,
// so a stand-in here is fine; the SMTP server behind the sender stays real.
type memQueue struct {
	mu       sync.Mutex
	items    map[string]*queueItem
	order    []string
	dueCalls int
}

type queueItem struct {
	Queued
	next      time.Time
	delivered int // how often Delivered was called
	gaveUp    bool
	lastErr   string
}

var _ Queue = (*memQueue)(nil)

func newMemQueue() *memQueue { return &memQueue{items: map[string]*queueItem{}} }

func (q *memQueue) add(m Message, next time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items[m.ID] = &queueItem{Queued: Queued{Message: m}, next: next}
	q.order = append(q.order, m.ID)
}

func (q *memQueue) item(id string) queueItem {
	q.mu.Lock()
	defer q.mu.Unlock()
	return *q.items[id]
}

func (q *memQueue) Due(_ context.Context, now time.Time, limit int) ([]Queued, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dueCalls++
	var due []Queued
	for _, id := range q.order {
		it := q.items[id]
		if it.delivered == 0 && !it.gaveUp && !it.next.After(now) && len(due) < limit {
			due = append(due, it.Queued)
		}
	}
	return due, nil
}

func (q *memQueue) Delivered(_ context.Context, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items[id].delivered++
	return nil
}

func (q *memQueue) Failed(_ context.Context, id string, attempts int, next time.Time, lastErr string, permanent bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	it := q.items[id]
	it.Attempts, it.next, it.lastErr, it.gaveUp = attempts, next, lastErr, permanent
	return nil
}

func (q *memQueue) calls() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dueCalls
}

// testClock is the outbox's injected clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func testLogger(t *testing.T, extra ...io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(append(extra, t.Output())...), nil))
}

func newTestOutbox(t *testing.T, cfg SMTPConfig, q Queue, clock *testClock, b Backoff) *Outbox {
	t.Helper()
	sender, err := NewSMTPSender(cfg, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &Outbox{Queue: q, Sender: sender, Logger: testLogger(t), Now: clock.Now, Backoff: b}
}

func runOnce(t *testing.T, o *Outbox) int {
	t.Helper()
	sent, err := o.RunOnce(t.Context())
	if err != nil {
		t.Fatalf("RunOnce() = %d, %v", sent, err)
	}
	return sent
}

func TestBackoffDelay(t *testing.T) {
	tests := []struct {
		name     string
		backoff  Backoff
		attempts int
		want     time.Duration
	}{
		{"default first", Backoff{}, 1, 5 * time.Second},
		{"default second", Backoff{}, 2, 10 * time.Second},
		{"default third", Backoff{}, 3, 20 * time.Second},
		{"default tenth", Backoff{}, 10, 2560 * time.Second},
		{"default capped at an hour", Backoff{}, 11, time.Hour},
		{"no overflow", Backoff{}, 10_000, time.Hour},
		{"custom", Backoff{Initial: time.Second, Max: 4 * time.Second}, 3, 4 * time.Second},
		{"jitter takes off up to a quarter", Backoff{Jitter: func(n time.Duration) time.Duration { return n / 2 }}, 2, 10*time.Second - 1250*time.Millisecond},
		{"jitter out of range is clamped", Backoff{Jitter: func(n time.Duration) time.Duration { return n * 10 }}, 1, 5*time.Second - (1250*time.Millisecond - 1)},
		{"negative jitter is ignored", Backoff{Jitter: func(time.Duration) time.Duration { return -time.Hour }}, 1, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.backoff.Delay(tt.attempts); got != tt.want {
				t.Errorf("Delay(%d) = %v, want %v", tt.attempts, got, tt.want)
			}
		})
	}
}

// The jitter the Backoff doc suggests for production keeps within bounds.
func TestBackoffRandomJitter(t *testing.T) {
	b := Backoff{Jitter: rand.N[time.Duration]}
	for range 1000 {
		if d := b.Delay(3); d <= 15*time.Second || d > 20*time.Second {
			t.Fatalf("Delay(3) = %v, want in (15s, 20s]", d)
		}
	}
}

func TestOutboxServerDownThenUp(t *testing.T) {
	host, port := deadAddress(t)
	clock := newTestClock()
	q := newMemQueue()
	cfg := SMTPConfig{Host: host, Port: port, From: "no-reply@example.com", TLS: TLSNone, Timeout: 5 * time.Second}
	o := newTestOutbox(t, cfg, q, clock, Backoff{})
	q.add(testMessage(), clock.Now())

	// Down: the attempt fails and is rescheduled 5 s later.
	if sent := runOnce(t, o); sent != 0 {
		t.Fatalf("sent %d with the server down", sent)
	}
	it := q.item("msg-1")
	if it.Attempts != 1 || it.gaveUp || !it.next.Equal(clock.Now().Add(5*time.Second)) || it.lastErr == "" {
		t.Fatalf("after a failed attempt: %+v", it)
	}

	// Up, on the same port.
	srv := startSMTP(t, serverOptions{tls: TLSNone, addr: net.JoinHostPort(host, strconv.Itoa(port))})

	// Not due yet: nothing is sent, however often the outbox runs.
	clock.Advance(4 * time.Second)
	if sent := runOnce(t, o); sent != 0 || len(srv.received()) != 0 {
		t.Fatalf("sent %d before the back-off ended", sent)
	}

	clock.Advance(time.Second)
	if sent := runOnce(t, o); sent != 1 {
		t.Fatalf("sent %d when due, want 1", sent)
	}
	for range 3 {
		clock.Advance(time.Hour)
		runOnce(t, o)
	}
	if n := len(srv.received()); n != 1 {
		t.Errorf("server received %d mails, want exactly 1", n)
	}
	if it := q.item("msg-1"); it.delivered != 1 {
		t.Errorf("Delivered called %d times, want 1", it.delivered)
	}
}

func TestOutboxHonoursBackoff(t *testing.T) {
	srv := startSMTP(t, serverOptions{tls: TLSNone,
		rejectRcpt: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}})
	clock := newTestClock()
	q := newMemQueue()
	o := newTestOutbox(t, srv.config(TLSNone), q, clock, Backoff{Initial: 5 * time.Second, Max: 20 * time.Second, MaxAttempts: 10})
	q.add(testMessage(), clock.Now())

	runOnce(t, o)
	if got := srv.rcptAttempts(); got != 1 {
		t.Fatalf("attempts = %d, want 1", got)
	}
	for i, wait := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 20 * time.Second} {
		attempt := i + 2
		clock.Advance(wait - time.Millisecond)
		runOnce(t, o)
		if got := srv.rcptAttempts(); got != attempt-1 {
			t.Fatalf("attempt %d came before its %v wait ended", attempt, wait)
		}
		clock.Advance(time.Millisecond)
		runOnce(t, o)
		if got := srv.rcptAttempts(); got != attempt {
			t.Fatalf("attempt %d did not come after %v (attempts = %d)", attempt, wait, got)
		}
		if it := q.item("msg-1"); it.Attempts != attempt || it.gaveUp {
			t.Fatalf("queue after attempt %d: %+v", attempt, it)
		}
	}
}

func TestOutboxStopsRetrying(t *testing.T) {
	tests := []struct {
		name         string
		code         int
		maxAttempts  int
		wantAttempts int
	}{
		{"permanent failure stops at once", 550, 10, 1},
		{"temporary failures stop at the limit", 451, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, serverOptions{tls: TLSNone,
				rejectRcpt: &smtp.SMTPError{Code: tt.code, EnhancedCode: smtp.EnhancedCode{tt.code / 100, 0, 0}, Message: "No"}})
			clock := newTestClock()
			q := newMemQueue()
			var logs bytes.Buffer
			o := newTestOutbox(t, srv.config(TLSNone), q, clock, Backoff{MaxAttempts: tt.maxAttempts})
			o.Logger = testLogger(t, &logs)
			q.add(testMessage(), clock.Now())

			for range 20 {
				runOnce(t, o)
				clock.Advance(2 * time.Hour)
			}
			if got := srv.rcptAttempts(); got != tt.wantAttempts {
				t.Errorf("server saw %d attempts, want %d", got, tt.wantAttempts)
			}
			it := q.item("msg-1")
			if !it.gaveUp || it.Attempts != tt.wantAttempts || !strings.Contains(it.lastErr, strconv.Itoa(tt.code)) {
				t.Errorf("queue item = %+v, want given up after %d attempts with the server's reply", it, tt.wantAttempts)
			}
			if !strings.Contains(logs.String(), "giving up") {
				t.Errorf("giving up was not logged:\n%s", logs.String())
			}
		})
	}
}

// A mail to an address with no ASCII form, through a relay without
// SMTPUTF8, is given up at once with one line that says why, and the queue
// keeps the reason for an operator; the relay never sees the address.
func TestOutboxAddressNeedsSMTPUTF8(t *testing.T) {
	srv := startSMTP(t, serverOptions{tls: TLSNone})
	clock := newTestClock()
	q := newMemQueue()
	var logs bytes.Buffer
	o := newTestOutbox(t, srv.config(TLSNone), q, clock, Backoff{})
	o.Logger = testLogger(t, &logs)
	m := testMessage()
	m.To = []string{"Jürgen <jürgen@exämple.test>"}
	q.add(m, clock.Now())

	for range 3 {
		runOnce(t, o)
		clock.Advance(2 * time.Hour)
	}
	it := q.item("msg-1")
	if !it.gaveUp || it.Attempts != 1 || !strings.Contains(it.lastErr, "SMTPUTF8") {
		t.Errorf("queue item = %+v, want given up after one attempt, saying SMTPUTF8", it)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "giving up") || !strings.Contains(lines[0], "SMTPUTF8") ||
		!strings.Contains(lines[0], "not ASCII") {
		t.Errorf("log = %q, want one line giving up and saying why", lines)
	}
	if strings.Contains(logs.String(), "jürgen@") {
		t.Errorf("log names the address:\n%s", logs.String())
	}
	if n := srv.rcptAttempts(); n != 0 {
		t.Errorf("the relay saw %d RCPT, want none", n)
	}
}

func TestOutboxWake(t *testing.T) {
	srv := startSMTP(t, serverOptions{tls: TLSNone})
	clock := newTestClock()
	q := newMemQueue()
	o := newTestOutbox(t, srv.config(TLSNone), q, clock, Backoff{})
	// With an hour between polls, only Wake can make the mail go out.
	o.PollInterval = time.Hour

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.Run(ctx)
	}()
	waitFor(t, "the first pass", func() bool { return q.calls() >= 1 })

	q.add(testMessage(), clock.Now())
	o.Wake()
	o.Wake() // a second nudge must not block
	waitFor(t, "delivery after Wake", func() bool { return len(srv.received()) == 1 })

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// waitFor polls cond; it waits on another goroutine, not on a clock.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOutboxCancelledCountsNoAttempt(t *testing.T) {
	srv := startSMTP(t, serverOptions{tls: TLSNone})
	clock := newTestClock()
	q := newMemQueue()
	o := newTestOutbox(t, srv.config(TLSNone), q, clock, Backoff{})
	q.add(testMessage(), clock.Now())

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := o.RunOnce(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("RunOnce() = %v, want context.Canceled", err)
	}
	if it := q.item("msg-1"); it.Attempts != 0 || it.gaveUp || len(srv.received()) != 0 {
		t.Errorf("a cancelled pass changed the queue: %+v", it)
	}
}

func TestOutboxNeverLogsBodies(t *testing.T) {
	const secret = "Temp-Pa55-9f3b"
	host, port := deadAddress(t)
	clock := newTestClock()
	q := newMemQueue()
	cfg := SMTPConfig{Host: host, Port: port, From: "no-reply@example.com", TLS: TLSNone, Timeout: 5 * time.Second}
	var logs bytes.Buffer
	o := newTestOutbox(t, cfg, q, clock, Backoff{})
	o.Logger = testLogger(t, &logs)

	m := testMessage()
	m.Text = "Your temporary password: " + secret + "\n"
	m.HTML = "<code>" + secret + "</code>"
	// As an override might render it, were it not refused at start-up.
	m.Subject = "Your password is " + secret
	q.add(m, clock.Now())

	runOnce(t, o) // fails: server down
	startSMTP(t, serverOptions{tls: TLSNone, addr: net.JoinHostPort(host, strconv.Itoa(port))})
	clock.Advance(time.Minute)
	if sent := runOnce(t, o); sent != 1 {
		t.Fatalf("sent %d, want 1", sent)
	}

	out := logs.String()
	for _, want := range []string{"will retry", "mail delivered", "msg-1", "example.org"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) || strings.Contains(out, "ann@") {
		t.Errorf("log holds the body or a full address:\n%s", out)
	}
}

// unrecordingQueue is a queue that does not take outcomes, as a store
// that cannot be written.
type unrecordingQueue struct{ *memQueue }

func (q unrecordingQueue) Delivered(context.Context, string) error {
	return errors.New("store unavailable")
}

func (q unrecordingQueue) Failed(context.Context, string, int, time.Time, string, bool) error {
	return errors.New("store unavailable")
}

// An outcome the queue did not take waits in memory, perhaps for long,
// with its message for the log only: the body, which may hold a temporary
// password, is not kept with it.
func TestOutboxKeepsNoBodyOfAnUnrecordedOutcome(t *testing.T) {
	clock := newTestClock()
	q := unrecordingQueue{newMemQueue()}
	o := &Outbox{Queue: q, Sender: NewDevSink(testLogger(t)), Logger: testLogger(t), Now: clock.Now}
	m := testMessage()
	m.Text, m.HTML = "Your temporary password: Temp-Pa55-9f3b\n", "<code>Temp-Pa55-9f3b</code>"
	q.add(m, clock.Now())

	if _, err := o.RunOnce(t.Context()); err == nil {
		t.Fatal("RunOnce() = nil, want the queue's error")
	}
	o.mu.Lock()
	kept, ok := o.unrecorded[m.ID]
	o.mu.Unlock()
	if !ok {
		t.Fatalf("the outcome of %s was not kept", m.ID)
	}
	if kept.mail.Text != "" || kept.mail.HTML != "" {
		t.Errorf("the kept outcome holds the body: %q, %q", kept.mail.Text, kept.mail.HTML)
	}
	if kept.mail.ID != m.ID || kept.mail.Subject != m.Subject || !kept.delivered {
		t.Errorf("the kept outcome lost what the log needs: %+v", kept)
	}
}

func TestMessageLogValue(t *testing.T) {
	m := Message{
		ID:      "m-7",
		To:      []string{"Ann <ann.private@Example.org>", "bob@example.net", "carol@example.org", "not an address"},
		Subject: "Your account",
		Text:    "password: SECRET-TEXT",
		HTML:    "<b>SECRET-HTML</b>",
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "mail", m)
	out := buf.String()
	for _, want := range []string{`"id":"m-7"`, `"recipients":4`, `"domains":"?,example.net,example.org"`, `"subject":"Your account"`, `"sensitive":false`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s: %s", want, out)
		}
	}
	if s := m.String(); !strings.Contains(s, `subject="Your account"`) {
		t.Errorf("String() = %s, want the subject", s)
	}
	formatted := out + m.String()
	for _, secret := range []string{"SECRET-TEXT", "SECRET-HTML", "ann.private", "bob@"} {
		if strings.Contains(formatted, secret) {
			t.Errorf("log or String() holds %q: %s", secret, formatted)
		}
	}

	// A sensitive message's subject is rendered from the same data as its
	// secret: it stays out too.
	m.Sensitive = true
	m.Subject = "Your password SECRET-SUBJECT"
	buf.Reset()
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "mail", m)
	out = buf.String()
	for _, want := range []string{`"id":"m-7"`, `"recipients":4`, `"sensitive":true`} {
		if !strings.Contains(out, want) {
			t.Errorf("sensitive: log lacks %s: %s", want, out)
		}
	}
	if formatted := out + m.String(); strings.Contains(formatted, "SECRET-SUBJECT") {
		t.Errorf("log or String() of a sensitive message holds its subject: %s", formatted)
	}
}

func TestDevSink(t *testing.T) {
	var logs bytes.Buffer
	sink := NewDevSink(testLogger(t, &logs))

	for i := range DevSinkCapacity + 5 {
		m := testMessage()
		m.ID = strconv.Itoa(i)
		m.Text = "secret-body-" + m.ID
		if err := sink.Send(t.Context(), m); err != nil {
			t.Fatalf("Send(%d) = %v", i, err)
		}
	}
	got := sink.Messages()
	if len(got) != DevSinkCapacity {
		t.Fatalf("kept %d messages, want %d", len(got), DevSinkCapacity)
	}
	if got[0].ID != strconv.Itoa(DevSinkCapacity+4) || got[len(got)-1].ID != "5" {
		t.Errorf("kept %s … %s, want newest first, oldest five dropped", got[0].ID, got[len(got)-1].ID)
	}
	if got[0].Text != "secret-body-104" {
		t.Errorf("the sink must keep bodies for the UI; got %q", got[0].Text)
	}
	got[0].To[0] = "changed@example.com"
	if sink.Messages()[0].To[0] == "changed@example.com" {
		t.Error("Messages() shares its slices with the sink")
	}
	if n := strings.Count(logs.String(), "development sink"); n != DevSinkCapacity+5 {
		t.Errorf("logged %d lines, want one per mail", n)
	}
	if strings.Contains(logs.String(), "secret-body") {
		t.Errorf("the sink logged a body:\n%s", logs.String())
	}

	bad := testMessage()
	bad.To = nil
	if err := sink.Send(t.Context(), bad); !errors.Is(err, ErrPermanent) || !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("Send(no recipient) = %v, want ErrPermanent and ErrInvalidMessage", err)
	}
}

func TestDevSinkConcurrent(t *testing.T) {
	sink := NewDevSink(nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				m := testMessage()
				m.ID = strconv.Itoa(i*100 + j)
				if err := sink.Send(context.Background(), m); err != nil {
					t.Error(err)
				}
				_ = sink.Messages()
			}
		})
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, m := range sink.Messages() {
		ids[m.ID] = true
	}
	if len(ids) != DevSinkCapacity {
		t.Errorf("kept %d distinct messages, want %d", len(ids), DevSinkCapacity)
	}
}
