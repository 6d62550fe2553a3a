package adminapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// The backup: a consistent copy of the data file, sent while the server
// goes on serving. Copying the file itself (cp) while the server writes
// gives a file bbolt refuses, whose pages come from different commits.
// The copy holds everything the data file does: password hashes, and the
// TOTP secrets, signing keys and legacy credentials sealed under the server
// key (docs/secrets.md). Only the operator's token reaches it, as every
// route here.

// backupStall replaces the server's write timeout, made for ordinary
// requests, while the copy is sent: each write of it gets this long, so a
// copy of any size goes through while the client takes it, and a client
// that stops taking it is cut off. Until then the copy's read transaction
// stays open, and writers that need the file to grow wait for it.
const backupStall = time.Minute

// backupStore is a store that can send a consistent copy of itself while
// it serves (tenant/bolt.Store.Backup): size is the copy's length, known
// before it is sent, and file writes it.
type backupStore interface {
	Backup(ctx context.Context, send func(size int64, file io.WriterTo) error) error
}

// errNoOnlineBackup is the answer of a server whose store cannot send a
// copy of itself.
var errNoOnlineBackup = &apiError{
	status: http.StatusNotImplemented, code: "not_implemented",
	message: "this server's store cannot be backed up while it runs: stop the server, copy its data file, and start it again",
}

// backupFileName is the name the copy is offered under: the time it was
// taken, in UTC, in a form that sorts and is a file name everywhere.
func backupFileName(at time.Time) string {
	return "cognate-" + at.UTC().Format("20060102T150405Z") + ".db"
}

// backup sends the copy. Once its headers are out, a failure can no
// longer become an error response: it is logged, and the client, missing
// bytes of the Content-Length, knows its copy is short.
func (a *API) backup(w http.ResponseWriter, r *http.Request) error {
	store, ok := a.Service.Store.(backupStore)
	if !ok {
		return errNoOnlineBackup
	}
	// taken is the moment the audit trail shows; begun times the sending.
	taken, begun := a.Service.Time(), time.Now()

	var size, sent int64
	var sendErr error
	out := &backupWriter{w: w, rc: http.NewResponseController(w)}
	err := store.Backup(r.Context(), func(n int64, file io.WriterTo) error {
		size = n
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": backupFileName(taken)}))
		h.Set("Content-Length", strconv.FormatInt(n, 10))
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return nil
		}
		a.backups.add(out)
		sent, sendErr = file.WriteTo(out)
		if sendErr == nil {
			// What net/http still holds leaves here, where a stop is
			// seen: one that came after the last write but before
			// net/http's own flush would cut the copy while the log
			// said it was sent.
			sendErr = out.flush()
		}
		a.backups.remove(out)
		return nil
	})
	if err != nil {
		return err // nothing was sent
	}
	log := a.logger()
	attrs := []any{"actor", "operator", "remote", a.clientIP(r), "bytes", size, "duration", time.Since(begun).Round(time.Millisecond)}
	switch {
	case r.Method == http.MethodHead:
	case sendErr != nil && out.stopped.Load():
		log.WarnContext(r.Context(), "backup cut short: the server is shutting down", append(attrs, "sent", sent)...)
	case sendErr != nil && r.Context().Err() != nil:
		log.WarnContext(r.Context(), "backup not sent: the client went away", append(attrs, "sent", sent)...)
	case sendErr != nil:
		log.ErrorContext(r.Context(), "backup not sent", append(attrs, "sent", sent, "err", sendErr)...)
	default:
		log.InfoContext(r.Context(), "backup sent", attrs...)
	}
	if r.Method != http.MethodHead {
		a.recordBackup(r, taken, size, sent)
	}
	return nil
}

// recordBackup puts a copy that was sent, whole or in part, in the
// operator's own audit trail: who took it (the operator, from which
// address), when (the moment it shows), and its size; for a copy cut
// short, how much of it left. The copy holds every tenant's users and
// sealed secrets, so that it was taken is for an auditor to find as a
// tenant's deletion is. The request's context may be over (the client
// went away); the record is written all the same.
func (a *API) recordBackup(r *http.Request, taken time.Time, size, sent int64) {
	details := map[string]string{"bytes": strconv.FormatInt(size, 10)}
	if sent < size {
		details["sent"] = strconv.FormatInt(sent, 10)
	}
	a.Service.RecordEvent(context.WithoutCancel(r.Context()), "", tenant.AuditEvent{
		Time: taken, Action: tenant.AuditBackupDownload, Details: details,
	})
}

// StopBackups cuts off the copies being sent, at once, and any asked for
// after: the server calls it as it shuts down (http.Server's
// RegisterOnShutdown). A copy of a big data file, or to a slow client,
// takes longer than a shutdown waits for requests in flight, and its read
// transaction keeps the data file from closing until it ends. The client,
// missing bytes of the Content-Length, knows its copy is short; the log
// says the shutdown cut it, and the operator's trail how much was sent.
func (a *API) StopBackups() {
	a.backups.stop()
}

// backupsInFlight are the copies being sent, which StopBackups cuts off.
type backupsInFlight struct {
	mu      sync.Mutex
	stopped bool
	sending map[*backupWriter]struct{}
}

// add counts w among the copies being sent; after StopBackups, w is cut
// off at once.
func (b *backupsInFlight) add(w *backupWriter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		w.stop()
		return
	}
	if b.sending == nil {
		b.sending = map[*backupWriter]struct{}{}
	}
	b.sending[w] = struct{}{}
}

// remove forgets w, whose copy has left or failed.
func (b *backupsInFlight) remove(w *backupWriter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.sending, w)
}

func (b *backupsInFlight) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	for w := range b.sending {
		w.stop()
	}
}

// errBackupStopped is a write of a copy that StopBackups cut off.
var errBackupStopped = errors.New("the server is shutting down")

// backupWriter writes a copy to the client. Each write gets its own
// deadline of backupStall; without a ResponseController deadline (as
// under httptest) the server's own timeout stays, which is the best there
// is. stop cuts it off: the write waiting for the client at once, by a
// deadline of now, and every write after it.
type backupWriter struct {
	w       io.Writer
	rc      *http.ResponseController
	stopped atomic.Bool
}

func (b *backupWriter) Write(p []byte) (int, error) {
	if b.stopped.Load() {
		return 0, errBackupStopped
	}
	_ = b.rc.SetWriteDeadline(time.Now().Add(backupStall))
	// A stop between the check above and the deadline just set has had
	// its deadline of now replaced: it is seen here.
	if b.stopped.Load() {
		return 0, errBackupStopped
	}
	return b.w.Write(p)
}

// flush sends what net/http holds of the copy.
func (b *backupWriter) flush() error {
	if b.stopped.Load() {
		return errBackupStopped
	}
	if err := b.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

func (b *backupWriter) stop() {
	b.stopped.Store(true)
	_ = b.rc.SetWriteDeadline(time.Now())
}
