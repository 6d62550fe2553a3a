package adminapi

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
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
	now := time.Now
	if a.Service.Now != nil {
		now = a.Service.Now
	}
	taken, begun := now(), time.Now()

	var size, sent int64
	var sendErr error
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
		sent, sendErr = file.WriteTo(stallLimited{w: w, rc: http.NewResponseController(w)})
		return nil
	})
	if err != nil {
		return err // nothing was sent
	}
	log := a.logger()
	attrs := []any{"actor", "operator", "remote", a.clientIP(r), "bytes", size, "duration", time.Since(begun).Round(time.Millisecond)}
	switch {
	case r.Method == http.MethodHead:
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

// stallLimited gives each write its own deadline of backupStall. Without
// a ResponseController deadline (as under httptest) the server's own
// timeout stays, which is the best there is.
type stallLimited struct {
	w  io.Writer
	rc *http.ResponseController
}

func (s stallLimited) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(backupStall))
	return s.w.Write(p)
}
