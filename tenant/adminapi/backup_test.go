package adminapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// GET /admin/v1/backup sends the data file as it stands, as a download
// named for the time it was taken; the copy opens as a data file and holds
// the tenant. The log gets one line, with who asked and how much was
// sent, and no token. HEAD says the size and sends nothing.
func TestBackup(t *testing.T) {
	f := newFixture(t)
	var log bytes.Buffer
	api := f.apiLoggingTo(&log)
	do := func(method, auth string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(t.Context(), method, "/admin/v1/backup", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		api.Handler().ServeHTTP(rec, req)
		return rec
	}

	rec := do(http.MethodGet, bearer)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
	}
	h := rec.Header()
	if ct := h.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := h.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	disposition, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
	if err != nil || disposition != "attachment" || !regexp.MustCompile(`^cognate-\d{8}T\d{6}Z\.db$`).MatchString(params["filename"]) {
		t.Errorf("Content-Disposition %q, want an attachment named cognate-YYYYMMDDTHHMMSSZ.db", h.Get("Content-Disposition"))
	}
	if n, err := strconv.Atoi(h.Get("Content-Length")); err != nil || n != rec.Body.Len() || n == 0 {
		t.Errorf("Content-Length %q, the body has %d bytes", h.Get("Content-Length"), rec.Body.Len())
	}

	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copyPath, rec.Body.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := bolt.CheckCopy(copyPath); err != nil {
		t.Fatalf("the copy fails the check: %v", err)
	}
	copied, err := bolt.Open(copyPath)
	if err != nil {
		t.Fatalf("the copy does not open as a data file: %v", err)
	}
	defer copied.Close()
	restored := &tenant.Service{Store: copied, Hasher: f.svc.Hasher, Now: f.svc.Now}
	if got, err := restored.User(t.Context(), "acme", f.sub); err != nil || got.Username != "ann" {
		t.Errorf("the copy's user %s of acme = %+v, %v; want ann", f.sub, got, err)
	}

	line := log.String()
	for _, want := range []string{`msg="backup sent"`, "actor=operator", "bytes=" + h.Get("Content-Length")} {
		if !strings.Contains(line, want) {
			t.Errorf("the log lacks %q:\n%s", want, line)
		}
	}
	if strings.Count(line, "\n") != 1 || strings.Contains(line, testToken) {
		t.Errorf("want one line without the token:\n%s", line)
	}

	head := do(http.MethodHead, bearer)
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: status %d, Content-Length %q, %d bytes of body; want 200, the size and no body",
			head.Code, head.Header().Get("Content-Length"), head.Body.Len())
	}

	// The operator's trail keeps the copy (and not the HEAD, which sent
	// none): who took it, when, and how big it was.
	events := operatorTrail(t, f.svc)
	if len(events) != 1 {
		t.Fatalf("the operator's trail holds %d events, want the one backup: %+v", len(events), events)
	}
	ev := events[0]
	want := tenant.Actor{Kind: tenant.ActorOperator, Name: "operator", IP: "192.0.2.1"} // httptest's RemoteAddr
	if ev.Action != tenant.AuditBackupDownload || ev.Actor != want || ev.Time.IsZero() ||
		!maps.Equal(ev.Details, map[string]string{"bytes": h.Get("Content-Length")}) {
		t.Errorf("the backup's event: %+v; want %s by %+v, with its size", ev, tenant.AuditBackupDownload, want)
	}
}

// A copy cut short is still a copy that left, in part: the trail says how
// much of it was sent.
func TestBackupCutShortIsRecorded(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/admin/v1/backup", nil)
	req.Header.Set("Authorization", bearer)
	w := &failingWriter{ResponseRecorder: httptest.NewRecorder(), room: 4096}
	f.handler.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200 (and a body cut short)", w.Code)
	}
	events := operatorTrail(t, f.svc)
	if len(events) != 1 || events[0].Action != tenant.AuditBackupDownload {
		t.Fatalf("the operator's trail: %+v; want the one backup", events)
	}
	details := events[0].Details
	if details["bytes"] != w.Header().Get("Content-Length") || details["sent"] != strconv.Itoa(w.Body.Len()) {
		t.Errorf("details %v; want bytes %s, sent %d", details, w.Header().Get("Content-Length"), w.Body.Len())
	}
}

// The moment a backup shows, in its file name and in the operator's trail,
// is the service's clock's (tenant.Service.Time); how long the sending
// took is measured, not read off that clock.
func TestBackupShowsTheServiceClock(t *testing.T) {
	f := newFixture(t)
	taken := time.Date(2030, 1, 2, 4, 4, 5, 0, time.FixedZone("CET", 3600))
	f.svc.Now = func() time.Time { return taken }
	var log bytes.Buffer
	api := f.apiLoggingTo(&log)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/admin/v1/backup", nil)
	req.Header.Set("Authorization", bearer)
	rec := httptest.NewRecorder()
	api.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if _, params, _ := mime.ParseMediaType(rec.Header().Get("Content-Disposition")); params["filename"] != "cognate-20300102T030405Z.db" {
		t.Errorf("Content-Disposition %q, want the file named for the service's clock", rec.Header().Get("Content-Disposition"))
	}
	events := operatorTrail(t, f.svc)
	if len(events) != 1 || !events[0].Time.Equal(taken) {
		t.Errorf("the operator's trail: %+v; want the backup at %v", events, taken)
	}
	m := regexp.MustCompile(` duration=(\S+)`).FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("the log has no duration:\n%s", log.String())
	}
	if d, err := time.ParseDuration(m[1]); err != nil || d < 0 || d > time.Minute {
		t.Errorf("duration %s: want the time the sending took", m[1])
	}
}

// A backup asked for once the server has begun to shut down (StopBackups)
// is cut off at once, as one being sent then is: the body falls short of
// the Content-Length, the log says why in one line, and the trail keeps
// how much was sent.
func TestBackupAfterStopBackupsIsCutShort(t *testing.T) {
	f := newFixture(t)
	var log bytes.Buffer
	api := f.apiLoggingTo(&log)
	api.StopBackups()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/admin/v1/backup", nil)
	req.Header.Set("Authorization", bearer)
	rec := httptest.NewRecorder()
	api.Handler().ServeHTTP(rec, req)
	if n, err := strconv.Atoi(rec.Header().Get("Content-Length")); err != nil || rec.Body.Len() >= n {
		t.Errorf("Content-Length %q, %d bytes of body; want a body visibly short", rec.Header().Get("Content-Length"), rec.Body.Len())
	}
	if line := log.String(); strings.Count(line, "\n") != 1 || !strings.Contains(line, `msg="backup cut short: the server is shutting down"`) {
		t.Errorf("the log:\n%s\nwant one line saying the shutdown cut the backup short", line)
	}
	if events := operatorTrail(t, f.svc); len(events) != 1 || events[0].Details["sent"] != strconv.Itoa(rec.Body.Len()) {
		t.Errorf("the operator's trail: %+v; want the backup, with what was sent", events)
	}
}

// A copy being sent when the server begins to shut down (StopBackups) is
// cut off at once, though its client, which has stopped reading, still
// holds the connection: its write does not wait out the minute a client
// gets to take each part. The client's body falls short of the
// Content-Length, the log says the shutdown cut the copy, and the trail
// keeps how much was sent.
func TestStopBackupsCutsOffACopyBeingSent(t *testing.T) {
	f := newFixture(t)
	// Ballast: a data file far bigger than the connection holds in flight
	// (both ends' buffers are made small below), so that a client that
	// stops reading leaves the copy waiting mid-send.
	ballast := make([]byte, 64<<10)
	err := f.svc.Store.Update(t.Context(), func(tx tenant.Tx) error {
		for i := range 32 {
			_, _ = rand.Read(ballast) // incompressible, and not shared between records
			if err := tx.Put(tenant.CollAudit, "ballast", strconv.Itoa(i), ballast); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var log bytes.Buffer // read once the handler is done
	api := f.apiLoggingTo(&log)
	done := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		api.Handler().ServeHTTP(w, r)
	}))
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close) // after the body's Close below: it waits for the handler
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			err = c.(*net.TCPConn).SetReadBuffer(smallBuffer)
		}
		return c, err
	}}}

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/admin/v1/backup", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", bearer)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() }) // lets a handler that was not cut off end
	if resp.StatusCode != http.StatusOK || resp.ContentLength < int64(len(ballast))*32 {
		t.Fatalf("status %d, Content-Length %d; want 200 and the ballast's size at least", resp.StatusCode, resp.ContentLength)
	}
	// The copy is under way; the client takes no more of it.
	head := make([]byte, 4096)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatalf("the copy's first bytes: %v", err)
	}
	select {
	case <-done:
		t.Fatal("the copy was sent whole before the stop: the test needs a bigger data file")
	default:
	}

	api.StopBackups()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("10s after StopBackups the copy still waits for its client: it was not cut off")
	}
	rest, err := io.Copy(io.Discard, resp.Body)
	if received := int64(len(head)) + rest; !errors.Is(err, io.ErrUnexpectedEOF) || received >= resp.ContentLength {
		t.Errorf("the client got %d bytes of %d, then %v; want a body visibly short", received, resp.ContentLength, err)
	}
	if line := log.String(); strings.Count(line, "\n") != 1 || !strings.Contains(line, `msg="backup cut short: the server is shutting down"`) {
		t.Errorf("the log:\n%s\nwant one line saying the shutdown cut the backup short", line)
	}
	events := operatorTrail(t, f.svc)
	if len(events) != 1 {
		t.Fatalf("the operator's trail: %+v; want the one backup", events)
	}
	if sent, err := strconv.ParseInt(events[0].Details["sent"], 10, 64); err != nil || sent >= resp.ContentLength {
		t.Errorf("the backup's details %v; want what was sent, short of %d bytes", events[0].Details, resp.ContentLength)
	}
}

// smallBuffer is the size asked for a test connection's socket buffers
// (the kernel rounds it up to its minimum), so that a client that stops
// reading soon stops the server's writes.
const smallBuffer = 4096

// smallBuffers is a listener whose connections send through small
// buffers.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if err := c.(*net.TCPConn).SetWriteBuffer(smallBuffer); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// failingWriter takes room bytes of body, then fails as a broken
// connection does.
type failingWriter struct {
	*httptest.ResponseRecorder
	room int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.room {
		n, _ := w.ResponseRecorder.Write(p[:w.room])
		w.room = 0
		return n, errors.New("connection reset by peer")
	}
	w.room -= len(p)
	return w.ResponseRecorder.Write(p)
}

// operatorTrail returns the operator's own audit trail, newest first.
func operatorTrail(t *testing.T, svc *tenant.Service) []tenant.AuditEvent {
	t.Helper()
	page, err := svc.AuditLog(t.Context(), "", tenant.AuditQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

// Nobody but the operator gets the copy: it holds every tenant's users'
// password hashes, and their secrets sealed under the server key. There
// is no other credential for the admin API: a tenant's administrators use
// its console, with a session at the tenant's host. What a token
// of a tenant's would look like is refused as any wrong token is.
func TestBackupRefusals(t *testing.T) {
	documented := documentedStatuses(t)("get", "/admin/v1/backup")
	f := newFixture(t)
	for _, tc := range []struct {
		name, auth string
	}{
		{"no token", ""},
		{"a wrong token", "Bearer not-the-operator-token"},
		{"the token as a password", "Basic " + testToken},
		{"a tenant's access token", "Bearer eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwOi8vYWNtZS5sb2NhbGhvc3Q6ODA4MCJ9.c2ln"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(t, http.MethodGet, "/admin/v1/backup", "", tc.auth)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q: a refusal is a JSON error, not a file", ct)
			}
			checkBody(t, rec.Body.String(), "unauthorized", nil, nil, f.path)
		})
	}
	if !documented["401"] {
		t.Error("401 is not documented")
	}

	// A store that cannot copy itself while it runs says so.
	plain := &tenant.Service{Store: struct{ tenant.Store }{f.svc.Store}, Hasher: f.svc.Hasher, Now: f.svc.Now}
	api := &adminapi.API{Service: plain, TokenHash: sha256.Sum256([]byte(testToken))}
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/admin/v1/backup", nil)
	req.Header.Set("Authorization", bearer)
	rec := httptest.NewRecorder()
	api.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusNotImplemented || !documented["501"] {
		t.Errorf("a store without backups: status %d (documented: %v), want 501", rec.Code, documented["501"])
	}
	checkBody(t, rec.Body.String(), "not_implemented", []string{"stop the server, copy its data file"}, nil, f.path)
}

// apiLoggingTo is an API over the fixture's service that logs to log, for
// the tests of what the backup logs.
func (f *fixture) apiLoggingTo(log io.Writer) *adminapi.API {
	return &adminapi.API{Service: f.svc, Logger: slog.New(slog.NewTextHandler(log, nil)), TokenHash: sha256.Sum256([]byte(testToken))}
}
