package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Cognate may face the internet with no proxy in front (tls_cert), so the
// server itself bounds what clients can hold open. Without a bound, one
// client opening keep-alive connections and sending a request on each
// every IdleTimeout uses up the process's file descriptors: accept then
// fails with "too many open files" and nobody else gets in.
//
// Two defences, both on the count of open client connections:
//
//   - At the high watermark (three quarters of max_connections) keep-alive
//     is switched off: idle connections are closed at once, and each new
//     one after its request, so that connections are held only while
//     something is being answered. Keep-alive comes back when fewer than
//     the low watermark (half) are open and none came near the limit for a
//     while (sheddingCalm), so that a flood gets one warning, not one per
//     wave of it.
//   - At max_connections no more are accepted: new clients wait in the
//     kernel's queue, in order, for a connection to close, rather than
//     being accepted into a descriptor the process does not have.

// sheddingCalm is how long the count must stay under the high watermark
// before keep-alive comes back.
const sheddingCalm = 30 * time.Second

// maxConnectionsCeiling bounds the default: an idle connection costs 13–20
// KB, so 10,000 of them up to 200 MB, and a limit of a million descriptors
// (Docker's) would otherwise let memory run out first. With keep-alive off
// past 7,500, that many serve far more clients than an identity provider
// has at once.
const maxConnectionsCeiling = 10000

// minMaxConnections is the least max_connections accepted; fewer is a typo
// rather than a plan.
const minMaxConnections = 10

// parseMaxConnections reads the max_connections setting.
func parseMaxConnections(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < minMaxConnections {
		return 0, fmt.Errorf("%q is not a number of connections of at least %d", v, minMaxConnections)
	}
	return n, nil
}

// connectionRoom is how many client connections an open-file limit leaves
// room for: the limit less an eighth of it, and at least 64, for what else
// the process opens (standard streams, the data file, the listener, the
// runtime's poller, outgoing SMTP, webhook and Cognito connections, DNS).
func connectionRoom(openFiles uint64) int {
	if openFiles >= 2*maxConnectionsCeiling {
		return 2 * maxConnectionsCeiling // room enough; and no overflow of int
	}
	n := int(openFiles)
	return max(n-max(64, n/8), n/2)
}

// limitConnections wraps ln with the limits above for srv, whose
// ConnState it sets; configured is max_connections, 0 for the default.
func limitConnections(srv *http.Server, ln net.Listener, configured int, logger *slog.Logger) net.Listener {
	logger = logger.With("component", "connections")
	limit := maxConnectionsCeiling
	openFiles, known := openFileLimit()
	if known {
		room := connectionRoom(openFiles)
		limit = min(limit, room)
		if configured > room {
			logger.Warn(fmt.Sprintf("max_connections %d is more than the open-file limit of %d leaves room for (%d): "+
				"past that, connections may be refused with \"too many open files\"; raise the limit (systemd LimitNOFILE=, docker run --ulimit nofile=) "+
				"or lower max_connections", configured, openFiles, room))
		}
	}
	if configured > 0 {
		limit = configured
	}
	l := newConnLimiter(srv, ln, limit, sheddingCalm, logger)
	logger.Info("client connections are limited", "max_connections", l.max, "keep_alive_off_from", l.high)
	return l
}

// connLimiter is a net.Listener that counts the connections it accepted
// and are not closed yet, and applies the limits to its server.
type connLimiter struct {
	net.Listener
	srv            *http.Server
	logger         *slog.Logger
	max, high, low int
	calm           time.Duration

	slots chan struct{} // a token per open connection: Accept waits for room
	done  chan struct{} // closed with the listener
	once  sync.Once

	mu       sync.Mutex
	open     map[*limitedConn]struct{}
	shedding bool      // keep-alive should be off
	lastHigh time.Time // when the count last reached the high watermark
	timer    *time.Timer
	stopped  bool // the listener is closed: no more changes to srv

	// applyMu orders the changes to srv, which are made outside mu: the
	// server closes connections, which takes mu, while it holds its own
	// lock.
	applyMu sync.Mutex
	applied bool // keep-alive is off
}

func newConnLimiter(srv *http.Server, ln net.Listener, limit int, calm time.Duration, logger *slog.Logger) *connLimiter {
	l := &connLimiter{Listener: ln, srv: srv, logger: logger, max: limit, high: max(1, limit*3/4), low: max(1, limit/2), calm: calm,
		slots: make(chan struct{}, limit), done: make(chan struct{}), open: map[*limitedConn]struct{}{}}
	l.timer = time.AfterFunc(time.Hour, l.checkCalm)
	l.timer.Stop()
	srv.ConnState = l.connState
	return l
}

func (l *connLimiter) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	lc := &limitedConn{Conn: c, limiter: l}
	l.mu.Lock()
	l.open[lc] = struct{}{}
	start := false
	if len(l.open) >= l.high {
		l.lastHigh = time.Now()
		if !l.shedding {
			l.shedding, start = true, true
			l.timer.Reset(l.calm)
		}
	}
	l.mu.Unlock()
	if start {
		l.apply()
	}
	return lc, nil
}

func (l *connLimiter) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.mu.Lock()
		l.stopped = true
		l.timer.Stop()
		l.mu.Unlock()
	})
	return l.Listener.Close()
}

// closed forgets a connection that was closed.
func (l *connLimiter) closed(c *limitedConn) {
	l.mu.Lock()
	delete(l.open, c)
	recovered := l.recoverLocked()
	l.mu.Unlock()
	<-l.slots
	if recovered {
		// Not here: the server may be closing c with its lock held.
		go l.apply()
	}
}

// checkCalm runs when sheddingCalm may have passed since the count was
// last high, and waits again if not.
func (l *connLimiter) checkCalm() {
	l.mu.Lock()
	recovered := l.recoverLocked()
	if wait := time.Until(l.lastHigh.Add(l.calm)); l.shedding && !l.stopped && wait > 0 {
		l.timer.Reset(wait)
	}
	l.mu.Unlock()
	if recovered {
		l.apply()
	}
}

// recoverLocked ends the shedding when the count is low and has been
// calm, reporting whether it did.
func (l *connLimiter) recoverLocked() bool {
	if !l.shedding || len(l.open) >= l.low || time.Since(l.lastHigh) < l.calm {
		return false
	}
	l.shedding = false
	return true
}

// apply brings the server in line with l.shedding, and says so once.
func (l *connLimiter) apply() {
	l.applyMu.Lock()
	defer l.applyMu.Unlock()
	l.mu.Lock()
	shedding, stopped := l.shedding, l.stopped
	var open []*limitedConn
	if shedding && !l.applied {
		open = make([]*limitedConn, 0, len(l.open))
		for c := range l.open {
			open = append(open, c)
		}
	}
	count := len(l.open)
	l.mu.Unlock()
	if stopped || shedding == l.applied {
		return
	}
	l.applied = shedding
	if !shedding {
		l.srv.SetKeepAlivesEnabled(true)
		l.logger.Info(fmt.Sprintf("client connections are back under %d: connections are kept alive again", l.low),
			"open", count, "max_connections", l.max)
		return
	}
	l.logger.Warn(fmt.Sprintf("%d client connections are open, of at most %d: idle ones are closed, and new ones after their request, "+
		"until fewer than %d are open and none came near the limit for %s (max_connections, see docs/docker.md)", count, l.max, l.low, l.calm),
		"open", count, "max_connections", l.max)
	// Closes idle HTTP/1 connections, and makes HTTP/2 ones close when
	// their last stream ends.
	l.srv.SetKeepAlivesEnabled(false)
	// HTTP/2 connections idle already stay open until IdleTimeout.
	for _, c := range open {
		if http.ConnState(c.state.Load()) == http.StateIdle {
			_ = c.Close()
		}
	}
}

// connState notes each connection's state, to find the idle ones.
func (l *connLimiter) connState(c net.Conn, state http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if lc, ok := c.(*limitedConn); ok {
		lc.state.Store(int32(state))
	}
}

// limitedConn is a connection its connLimiter counts until it is closed.
type limitedConn struct {
	net.Conn
	limiter *connLimiter
	state   atomic.Int32 // http.ConnState
	once    sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.limiter.closed(c) })
	return err
}
