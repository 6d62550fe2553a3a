package provider

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// LogHandler's rules, line by line: what a request's lines become, and
// what the Router reads of them (the count it adds its own line on).
func TestLogHandlerCountsAndNamesTheTenant(t *testing.T) {
	type line struct {
		level slog.Level
		msg   string
		attrs []any
	}
	tests := []struct {
		name      string
		inRequest bool
		lines     []line
		want      []string // the lines written, in order, as substrings
		counted   int32
	}{
		{"outside a request, untouched", false,
			[]line{{slog.LevelWarn, "request error", nil}},
			[]string{`msg="request error"` + "\n"}, 0},
		{"the library's line alone is kept and names the tenant", true,
			[]line{{slog.LevelWarn, "request error", nil}},
			[]string{`msg="request error" tenant=acme`}, 1},
		{"the library's line after ours is left out", true,
			[]line{{slog.LevelWarn, "refresh token reused; revoking its family", []any{"tenant", "acme"}}, {slog.LevelWarn, "request error", nil}},
			[]string{`msg="refresh token reused; revoking its family" tenant=acme` + "\n"}, 1},
		{"a debug line does not stand in for the reason", true,
			[]line{{slog.LevelDebug, "detail", nil}, {slog.LevelWarn, "auth request", nil}},
			[]string{`msg=detail tenant=acme`, `msg="auth request" tenant=acme`}, 1},
		{"a line naming its tenant is not given a second", true,
			[]line{{slog.LevelInfo, "page error", []any{"tenant", "acme"}}},
			[]string{`msg="page error" tenant=acme` + "\n"}, 1},
		{"our lines are all kept", true,
			[]line{{slog.LevelInfo, "one", nil}, {slog.LevelError, "two", nil}},
			[]string{`msg=one tenant=acme`, `msg=two tenant=acme`}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			logger := slog.New(LogHandler(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
			ctx := context.Background()
			var rl *requestLog
			if tc.inRequest {
				ctx, rl = withRequestLog(ctx, "acme", "")
			}
			for _, l := range tc.lines {
				logger.Log(ctx, l.level, l.msg, l.attrs...)
			}
			got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(got) != len(tc.want) {
				t.Fatalf("%d lines, want %d:\n%s", len(got), len(tc.want), out.String())
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i]+"\n", w) {
					t.Errorf("line %d %q lacks %q", i, got[i], w)
				}
			}
			if rl != nil && rl.lines.Load() != tc.counted {
				t.Errorf("counted %d lines, want %d", rl.lines.Load(), tc.counted)
			}
		})
	}
}

// At the endpoints, each line names the client's address as well, once: a
// line that names one keeps its own.
func TestLogHandlerNamesTheClientAtEndpoints(t *testing.T) {
	tests := []struct {
		name     string
		clientIP string // what the Router found; empty at the pages
		attrs    []any
		want     string
	}{
		{"at an endpoint", "192.0.2.7", nil, `msg=refused tenant=acme client_ip=192.0.2.7` + "\n"},
		{"at an endpoint, a line naming the tenant", "192.0.2.7", []any{"tenant", "acme"}, `msg=refused tenant=acme client_ip=192.0.2.7` + "\n"},
		{"a line naming its own address", "192.0.2.7", []any{"client_ip", "198.51.100.1"}, `msg=refused client_ip=198.51.100.1 tenant=acme` + "\n"},
		{"at a page", "", nil, `msg=refused tenant=acme` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			logger := slog.New(LogHandler(slog.NewTextHandler(&out, nil)))
			ctx, _ := withRequestLog(context.Background(), "acme", tc.clientIP)
			logger.WarnContext(ctx, "refused", tc.attrs...)
			if got := out.String(); !strings.HasSuffix(got, tc.want) {
				t.Errorf("logged %q, want it to end in %q", got, tc.want)
			}
		})
	}
}
