package provider

import (
	"errors"
	"sync"
	"time"
)

// pending holds the code flow's short-lived state in memory: authorization
// requests waiting for someone to sign in, and the codes they turn into.
//
// Why not the store: this state is created by anyone who opens
// /oauth2/authorize, lives for minutes, and is read back a few times by the
// same process (bbolt's file lock allows only one). Writing it durably cost
// five commits, so five fsyncs, per sign-in, and let anonymous requests make
// the disk sync. The price of memory is that a restart asks the people who
// were signing in at that moment to start again, as it does after a code
// expires; everything a sign-in produces (sessions, refresh tokens, the
// audit record, a revoked family after a replayed code) is still committed
// to the store.
//
// Memory is bounded: past the limits new authorization requests are refused
// (the relying party gets server_error, "too many sign-ins are in
// progress") rather than evicting people who are signing in. zitadel/oidc
// v3 cannot send OAuth's temporarily_unavailable.
type pending struct {
	mu        sync.Mutex
	requests  map[pendingKey]*authRequest
	codes     map[pendingKey]*pendingCode
	perTenant map[string]int // requests + codes held for each tenant
	total     int

	maxTotal, maxPerTenant int
	lastSweep              time.Time

	// The most each map held since it was last rebuilt: a Go map keeps
	// the memory of its largest size after its entries are deleted.
	peakRequests, peakCodes int
}

// pendingKey scopes every entry to its tenant: an ID or code of tenant A is
// simply absent at tenant B.
type pendingKey struct{ slug, id string }

// pendingCode is an issued authorization code. Redeemed, it stays until it
// expires, so that a replay is recognised and revokes what the first
// exchange issued; but all a replay needs is the token family, so the
// request itself, most of the entry's size, goes at the first exchange.
type pendingCode struct {
	request   *authRequest // nil once redeemed
	familyID  string
	expiresAt time.Time
}

// Default limits: an authorization request is well under 1 KiB, so the
// whole store stays under about 100 MiB even when full, and one tenant
// under attack leaves room for the others.
const (
	defaultMaxPending          = 100_000
	defaultMaxPendingPerTenant = 25_000
	// pendingSweepEvery is how often expired entries are dropped; between
	// sweeps they are refused on read.
	pendingSweepEvery = time.Minute
)

// errPendingFull means the limits are reached; the caller refuses the
// request for now.
var errPendingFull = errors.New("too many sign-ins in progress")

func newPending() *pending {
	return &pending{
		requests:     make(map[pendingKey]*authRequest),
		codes:        make(map[pendingKey]*pendingCode),
		perTenant:    make(map[string]int),
		maxTotal:     defaultMaxPending,
		maxPerTenant: defaultMaxPendingPerTenant,
	}
}

// addRequest keeps a new authorization request.
func (p *pending) addRequest(slug string, ar *authRequest, now time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweepLocked(now)
	if p.total >= p.maxTotal || p.perTenant[slug] >= p.maxPerTenant {
		return errPendingFull
	}
	cp := *ar
	p.requests[pendingKey{slug, ar.ID}] = &cp
	p.peakRequests = max(p.peakRequests, len(p.requests))
	p.countLocked(slug, +1)
	return nil
}

// request returns a copy of a live authorization request.
func (p *pending) request(slug, id string, now time.Time) (authRequest, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ar, ok := p.requests[pendingKey{slug, id}]
	if !ok || !now.Before(ar.ExpiresAt) {
		return authRequest{}, false
	}
	return *ar, true
}

// updateRequest applies change to a live authorization request.
func (p *pending) updateRequest(slug, id string, now time.Time, change func(*authRequest)) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ar, ok := p.requests[pendingKey{slug, id}]
	if !ok || !now.Before(ar.ExpiresAt) {
		return false
	}
	change(ar)
	return true
}

// deleteRequest forgets an authorization request; its codes stay.
func (p *pending) deleteRequest(slug, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := pendingKey{slug, id}
	if _, ok := p.requests[k]; ok {
		delete(p.requests, k)
		p.countLocked(slug, -1)
	}
}

// addCode issues the code of a live authorization request, which becomes
// the code's: a request gives one code, so a second visit to the callback
// (the back button, a copied link) finds nothing and mints no second code
// for one sign-in. Codes are keyed by their hash, so a memory dump does not
// hold redeemable codes.
func (p *pending) addCode(slug, requestID, codeHash string, now, expires time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := pendingKey{slug, requestID}
	ar, ok := p.requests[k]
	if !ok || !now.Before(ar.ExpiresAt) {
		return false
	}
	// The request's place passes to the code, so the limits, which count
	// both, neither refuse nor change.
	delete(p.requests, k)
	p.codes[pendingKey{slug, codeHash}] = &pendingCode{request: ar, familyID: ar.FamilyID, expiresAt: expires}
	p.peakCodes = max(p.peakCodes, len(p.codes))
	return true
}

// codeOutcome is what redeeming a code found.
type codeOutcome int

const (
	codeRedeemed codeOutcome = iota // first use: the request is returned
	codeUnknown                     // never issued here, or expired
	codeReplayed                    // used before: its tokens must be revoked
)

// redeemCode consumes a code atomically: of two concurrent exchanges, only
// one gets the request. For a replay, only the request's FamilyID is set.
func (p *pending) redeemCode(slug, codeHash string, now time.Time) (authRequest, codeOutcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.codes[pendingKey{slug, codeHash}]
	switch {
	case !ok || !now.Before(c.expiresAt):
		return authRequest{}, codeUnknown
	case c.request == nil:
		return authRequest{FamilyID: c.familyID}, codeReplayed
	}
	ar := *c.request
	c.request = nil
	return ar, codeRedeemed
}

// sweepLocked drops expired entries, at most once per pendingSweepEvery.
func (p *pending) sweepLocked(now time.Time) {
	if now.Sub(p.lastSweep) < pendingSweepEvery {
		return
	}
	p.dropExpiredLocked(now)
}

// sweep drops expired entries now. The server calls it once a minute, so
// that an idle server, which adds no requests to trigger sweepLocked, gives
// back what a burst of sign-ins (or of anonymous authorization requests)
// left behind.
func (p *pending) sweep(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropExpiredLocked(now)
}

func (p *pending) dropExpiredLocked(now time.Time) {
	p.lastSweep = now
	for k, ar := range p.requests {
		if !now.Before(ar.ExpiresAt) {
			delete(p.requests, k)
			p.countLocked(k.slug, -1)
		}
	}
	for k, c := range p.codes {
		if !now.Before(c.expiresAt) {
			delete(p.codes, k)
			p.countLocked(k.slug, -1)
		}
	}
	p.requests = shrunk(p.requests, &p.peakRequests)
	p.codes = shrunk(p.codes, &p.peakCodes)
}

// shrinkFrom is the peak below which a map is never rebuilt: a small map's
// spare room costs less than copying it.
const shrinkFrom = 1024

// shrunk returns m, or a copy of it sized to what it holds once that is
// under a quarter of its peak; peak is reset to the copy's size.
func shrunk[K comparable, V any](m map[K]V, peak *int) map[K]V {
	if *peak < shrinkFrom || len(m) >= *peak/4 {
		return m
	}
	// Not maps.Clone, which may keep the source's size.
	c := make(map[K]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	*peak = len(c)
	return c
}

func (p *pending) countLocked(slug string, delta int) {
	p.total += delta
	if n := p.perTenant[slug] + delta; n > 0 {
		p.perTenant[slug] = n
	} else {
		delete(p.perTenant, slug)
	}
}
