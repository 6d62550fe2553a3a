package provider

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
)

// Every refused request to a tenant's endpoints logs one line, which says
// why and carries no secret. Some refusals are logged where they happen (a
// replayed code, a reused refresh token, an authorization request the
// library turns away); the others (a wrong client secret, an unverifiable
// access token, a malformed body) would pass unlogged, and a few would be
// logged twice, once by our code and once more by the library's generic
// "request error". So the Router counts the lines each request logs, and
// LogHandler, which the server's logger and slog's default (through which
// zitadel/oidc logs) both go through, keeps the count:
//   - a refusal that logged nothing gets the Router's "request refused"
//     line, with the OAuth error the client was given;
//   - the library's generic line is left out when ours already said why;
//   - every line logged while serving a tenant names the tenant, the
//     library's too, and at the endpoints the client's address
//     (client_ip, Hosts.ClientIP), so that a tool that blocks addresses
//     (fail2ban) can read the refusals.

// requestLog is what the Router keeps of the lines a request logs.
type requestLog struct {
	tenant   string
	clientIP string       // empty: the handler adds none
	lines    atomic.Int32 // lines at Info level or above
}

type requestLogKey struct{}

func withRequestLog(ctx context.Context, tenantSlug, clientIP string) (context.Context, *requestLog) {
	rl := &requestLog{tenant: tenantSlug, clientIP: clientIP}
	return context.WithValue(ctx, requestLogKey{}, rl), rl
}

// LogHandler wraps the handler of the server's logger. Set the logger as
// slog's default too, so that the library's lines are counted as well.
func LogHandler(h slog.Handler) slog.Handler { return requestLogHandler{h} }

type requestLogHandler struct{ slog.Handler }

func (h requestLogHandler) Handle(ctx context.Context, r slog.Record) error {
	rl, _ := ctx.Value(requestLogKey{}).(*requestLog)
	if rl == nil {
		return h.Handler.Handle(ctx, r)
	}
	if libraryRefusal(r.Message) && rl.lines.Load() > 0 {
		return nil
	}
	if r.Level >= slog.LevelInfo {
		// Debug lines are detail besides the line that says why, which
		// they must not stand in for.
		rl.lines.Add(1)
	}
	hasTenant, hasClientIP := hasAttrs(r)
	addClientIP := rl.clientIP != "" && !hasClientIP
	if !hasTenant || addClientIP {
		r = r.Clone()
		if !hasTenant {
			r.AddAttrs(slog.String("tenant", rl.tenant))
		}
		if addClientIP {
			r.AddAttrs(slog.String("client_ip", rl.clientIP))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestLogHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestLogHandler) WithGroup(name string) slog.Handler {
	return requestLogHandler{h.Handler.WithGroup(name)}
}

// libraryRefusal reports whether msg is one of the generic lines
// zitadel/oidc (v3.52.0, pkg/op/error.go) logs for every error it answers.
func libraryRefusal(msg string) bool {
	switch msg {
	case "request error", "auth request", "auth request: not redirecting", "auth request redirect":
		return true
	}
	return false
}

// hasAttrs reports whether a record names the tenant and the client's
// address itself.
func hasAttrs(r slog.Record) (tenant, clientIP bool) {
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "tenant":
			tenant = true
		case "client_ip":
			clientIP = true
		}
		return !tenant || !clientIP
	})
	return tenant, clientIP
}

// refusalWriter passes a response through and keeps its status and, for a
// refusal, the start of its body: where the OAuth error is.
type refusalWriter struct {
	http.ResponseWriter
	status int
	head   []byte
}

// maxRefusalHead is how much of a refusal's body is kept: OAuth errors are
// short, and a longer body is not one.
const maxRefusalHead = 512

func (rw *refusalWriter) WriteHeader(status int) {
	if rw.status == 0 {
		rw.status = status
	}
	rw.ResponseWriter.WriteHeader(status)
}

func (rw *refusalWriter) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	if rw.status >= 400 && len(rw.head) < maxRefusalHead {
		rw.head = append(rw.head, b[:min(len(b), maxRefusalHead-len(rw.head))]...)
	}
	return rw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rw *refusalWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// serveLogged serves an endpoint request and logs the "request refused"
// line for a refusal that logged nothing else. The line names the error
// the client was given and the client it named, never the form's other
// values (secrets, codes, tokens) nor the query.
func serveLogged(h http.Handler, w http.ResponseWriter, r *http.Request, logger *slog.Logger, rl *requestLog) {
	rw := &refusalWriter{ResponseWriter: w}
	h.ServeHTTP(rw, r)
	if rw.status < 400 || rl.lines.Load() > 0 {
		return
	}
	level := slog.LevelWarn
	if rw.status >= 500 {
		level = slog.LevelError
	}
	code, description := refusalReason(rw.Header().Get("Content-Type"), rw.head)
	attrs := []slog.Attr{slog.String("tenant", rl.tenant), slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.Int("status", rw.status)}
	if code != "" {
		attrs = append(attrs, slog.String("error", code))
	}
	if description != "" {
		attrs = append(attrs, slog.String("description", description))
	}
	if id := requestClientID(r); id != "" {
		attrs = append(attrs, slog.String("client_id", id))
	}
	logger.LogAttrs(r.Context(), level, "request refused", attrs...)
}

// refusalReason reads the OAuth error (RFC 6749 §5.2) of a refusal's body,
// or the first line of a plain-text one.
func refusalReason(contentType string, body []byte) (code, description string) {
	if strings.HasPrefix(contentType, "application/json") {
		var e oauthError
		if json.Unmarshal(body, &e) == nil {
			return e.Error, e.Description
		}
		return "", ""
	}
	if strings.HasPrefix(contentType, "text/plain") {
		line, _, _ := strings.Cut(string(body), "\n")
		return "", strings.TrimSpace(line)
	}
	return "", ""
}

// requestClientID is the client a request named, if its handler read it:
// HTTP Basic's user name, the form's client_id or the query's. Only a form
// the handler parsed is read, so logging never consumes a body.
func requestClientID(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		return id
	}
	if r.PostForm != nil {
		if id := r.PostForm.Get("client_id"); id != "" {
			return id
		}
	}
	if r.Form != nil {
		return r.Form.Get("client_id")
	}
	return r.URL.Query().Get("client_id")
}
