package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/ui/uitest"
)

func TestConnectionRoom(t *testing.T) {
	tests := []struct {
		openFiles uint64
		want      int
	}{
		{1024, 896}, // an eighth kept for the rest
		{256, 192},  // at least 64 kept
		{100, 50},   // but never more than half
		{15000, 13125},
		{1 << 20, 2 * maxConnectionsCeiling},    // Docker's default: the ceiling decides
		{^uint64(0), 2 * maxConnectionsCeiling}, // RLIM_INFINITY: no overflow
	}
	for _, tc := range tests {
		if got := connectionRoom(tc.openFiles); got != tc.want {
			t.Errorf("connectionRoom(%d) = %d, want %d", tc.openFiles, got, tc.want)
		}
	}
}

// max_connections is a setting like the others: flag, variable and YAML
// key, and a number of at least minMaxConnections.
func TestMaxConnectionsSetting(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cognate.yaml")
	if err := os.WriteFile(file, []byte("max_connections: 300\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    int
		problem string
	}{
		{name: "default", want: 0},
		{name: "flag", args: []string{"--max-connections", "500"}, want: 500},
		{name: "variable", env: map[string]string{"COGNATE_MAX_CONNECTIONS": "400"}, want: 400},
		{name: "file", args: []string{"--config", file}, want: 300},
		{name: "too few", args: []string{"--max-connections", "5"}, problem: `flag --max-connections: "5" is not a number of connections of at least 10`},
		{name: "not a number", env: map[string]string{"COGNATE_MAX_CONNECTIONS": "lots"},
			problem: `environment variable COGNATE_MAX_CONNECTIONS: "lots" is not a number of connections`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadConfig(tc.args, tc.env, io.Discard)
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("error %v, want %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxConnections != tc.want {
				t.Errorf("MaxConnections %d, want %d", cfg.MaxConnections, tc.want)
			}
		})
	}
}

// floodConnections opens n connections to addr that each send one request
// and then hold the connection open, idle and kept alive, as a client that
// wants to use up the server's descriptors does. The connections close at
// the end of the test, or when the returned function is called.
func floodConnections(t *testing.T, addr string, n int) (closeAll func()) {
	t.Helper()
	var conns []net.Conn
	closeAll = func() {
		for _, c := range conns {
			_ = c.Close()
		}
		conns = nil
	}
	t.Cleanup(closeAll)
	for range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("flood connection %d: %v", len(conns), err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	return closeAll
}

// askFresh is a new client's GET of url: its status, or an error when no
// answer came within a few seconds.
func askFresh(url string) (*http.Response, error) {
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	resp, err := (&http.Client{Timeout: 5 * time.Second, Transport: transport}).Get(url)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// A server process with few file descriptors (ulimit -n 256), flooded with
// more idle keep-alive connections than that, still answers a new client:
// it never accepts more connections than it has descriptors for, and past
// the high watermark it closes the idle ones.
func TestConnectionFloodLeavesRoomForAClient(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no ulimit")
	}
	c := startChildLimited(t, t.TempDir(), 256)
	t.Cleanup(func() { _ = c.cmd.Process.Kill() })
	addr := strings.TrimPrefix(c.base, "http://")

	floodConnections(t, addr, 600)
	start := time.Now()
	resp, err := askFresh(c.base + "/healthz")
	if err != nil {
		t.Errorf("a new client during the flood: %v", err)
	} else if resp.StatusCode != http.StatusOK {
		t.Errorf("a new client during the flood: %d", resp.StatusCode)
	}
	t.Logf("a new client was answered in %v during the flood", time.Since(start))

	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
	out := c.out.String()
	if strings.Contains(out, "too many open files") {
		t.Errorf("the server ran out of descriptors:\n%s", out)
	}
	if n := strings.Count(out, "client connections are open, of at most 192"); n != 1 {
		t.Errorf("%d lines about the connection limit, want 1:\n%s", n, out)
	}
}

// testLimiter is a server behind a connLimiter of max connections that
// keeps keep-alive off for calm after a flood.
func testLimiter(t *testing.T, max int, calm time.Duration, http2 bool) (*httptest.Server, *connLimiter, *uitest.Log) {
	t.Helper()
	log := &uitest.Log{}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), log), nil))
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	}))
	ts.Config.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	l := newConnLimiter(ts.Config, ts.Listener, max, calm, logger)
	ts.Listener = l
	if http2 {
		ts.EnableHTTP2 = true
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	return ts, l, log
}

func (l *connLimiter) openCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.open)
}

// waitFor polls cond for a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 5 s", what)
		}
	}
}

func countLines(log *uitest.Log, substr string) int { return strings.Count(log.String(), substr) }

const (
	shedLine    = "client connections are open, of at most"
	recoverLine = "connections are kept alive again"
)

// Past the high watermark keep-alive is off: idle connections are closed
// and new ones get "Connection: close"; once the flood is gone and calm,
// keep-alive is back. The limit and the recovery log one line each.
func TestConnLimiterShedsAndRecovers(t *testing.T) {
	// The calm period outlasts the flood, even under the race detector.
	ts, l, log := testLimiter(t, 40, 2*time.Second, false)
	addr := ts.Listener.Addr().String()

	// Below the watermark, connections stay open and kept alive.
	closeFew := floodConnections(t, addr, 20)
	waitFor(t, "20 open", func() bool { return l.openCount() == 20 })
	time.Sleep(50 * time.Millisecond)
	if n := l.openCount(); n != 20 || countLines(log, shedLine) != 0 {
		t.Fatalf("%d open and %d warnings below the watermark, want 20 and none", n, countLines(log, shedLine))
	}
	closeFew()

	// A flood: idle connections are closed, and a new client gets in.
	closeFlood := floodConnections(t, addr, 200)
	resp, err := askFresh(ts.URL)
	if err != nil {
		t.Fatalf("a new client during the flood: %v", err)
	}
	if !resp.Close {
		t.Error("during the flood a response keeps its connection alive")
	}
	waitFor(t, "the idle connections closed", func() bool { return l.openCount() < l.low })
	if n := countLines(log, shedLine); n != 1 {
		t.Errorf("%d warnings of the flood, want 1:\n%s", n, log)
	}
	if countLines(log, recoverLine) != 0 {
		t.Errorf("recovered before the calm period:\n%s", log)
	}

	// The flood ends; after the calm period keep-alive is back.
	closeFlood()
	waitFor(t, "recovered", func() bool { return countLines(log, recoverLine) > 0 })
	if n := countLines(log, recoverLine); n != 1 {
		t.Errorf("%d lines of the recovery, want 1:\n%s", n, log)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Close {
		t.Error("after the flood a response closes its connection")
	}
}

// HTTP/2 connections idle when the watermark is crossed are closed too
// (net/http's SetKeepAlivesEnabled closes only HTTP/1 ones).
func TestConnLimiterClosesIdleHTTP2(t *testing.T) {
	ts, l, log := testLimiter(t, 20, time.Minute, true)
	pool := ts.Client().Transport.(*http.Transport).TLSClientConfig
	// Each client its own transport, so its own connection, left idle.
	for i := range 14 {
		tr := &http.Transport{TLSClientConfig: pool.Clone(), ForceAttemptHTTP2: true}
		t.Cleanup(tr.CloseIdleConnections)
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(ts.URL)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("client %d spoke %s, want HTTP/2", i, resp.Proto)
		}
	}
	waitFor(t, "14 open", func() bool { return l.openCount() == 14 })
	// The 15th reaches the high watermark (15 of 20).
	c, err := tls.Dial("tcp", ts.Listener.Addr().String(), pool.Clone())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "the idle HTTP/2 connections closed", func() bool { return l.openCount() <= 1 })
	if n := countLines(log, shedLine); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, log)
	}
}
