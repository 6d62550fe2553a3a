package provider

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
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
// Memory is bounded, in entries and in bytes: past the limits new
// authorization requests are refused (the relying party gets server_error,
// "too many sign-ins are in progress") rather than evicting people who are
// signing in. zitadel/oidc v3 cannot send OAuth's temporarily_unavailable.
// An entry's size is counted when it is added (requestSize) and given back
// when it goes; every string it holds is a copy of its own, so that an
// entry never keeps the rest of the request it came from (its whole URL)
// alive beside it.
type pending struct {
	mu        sync.Mutex
	requests  map[pendingKey]*pendingRequest
	codes     map[pendingKey]*pendingCode
	perTenant map[tenantKey]int // requests + codes held for each tenant
	total     int
	// bytesPerTenant and totalBytes are the sizes of the entries counted
	// in perTenant and total.
	bytesPerTenant map[tenantKey]int
	totalBytes     int

	maxTotal, maxPerTenant           int
	maxTotalBytes, maxBytesPerTenant int
	lastSweep                        time.Time

	// The most each map held since it was last rebuilt: a Go map keeps
	// the memory of its largest size after its entries are deleted.
	peakRequests, peakCodes int
}

// pendingKey scopes every entry to its tenant: an ID or code of tenant A is
// simply absent at tenant B, and so is one of a tenant deleted since at the
// tenant created after it with the same slug (tenantKey).
type pendingKey struct {
	tenant tenantKey
	id     string
}

// pendingRequest is an authorization request waiting for its sign-in, with
// the bytes counted for it.
type pendingRequest struct {
	authRequest
	size int
}

// pendingCode is an issued authorization code. Redeemed, it stays until it
// expires, so that a replay is recognised and revokes what the first
// exchange issued; but all a replay needs is the token family, so the
// request itself, most of the entry's size, goes at the first exchange.
// (Its size stays counted until then: a few minutes at most.)
type pendingCode struct {
	request   *authRequest // nil once redeemed
	binding   codeBinding  // what an exchange must match (codecheck.go)
	familyID  string
	expiresAt time.Time
	size      int // the bytes counted for it: its request's
}

// Default limits. An ordinary authorization request takes about 1 KiB of
// heap here and is counted for 1.6; the largest the authorization endpoint
// lets through (authorizeLimits) takes about 11.5 KiB and is counted for
// 15 (TestPendingCountsWhatItHolds). So the store holds at most 128 MiB as
// counted, about 100 MiB of heap, whatever the requests carry: some 80,000
// ordinary sign-ins at once, or 8,900 of the largest. One tenant under
// attack (a quarter of either limit) leaves room for the others.
const (
	defaultMaxPending          = 100_000
	defaultMaxPendingPerTenant = 25_000
	defaultMaxPendingBytes     = 128 << 20
	defaultMaxPendingBytesPer  = defaultMaxPendingBytes / 4
	// pendingSweepEvery is how often expired entries are dropped; between
	// sweeps they are refused on read.
	pendingSweepEvery = time.Minute
)

// errPendingFull means the limits are reached; the caller refuses the
// request for now.
var errPendingFull = errors.New("too many sign-ins in progress")

func newPending() *pending {
	return &pending{
		requests:          make(map[pendingKey]*pendingRequest),
		codes:             make(map[pendingKey]*pendingCode),
		perTenant:         make(map[tenantKey]int),
		bytesPerTenant:    make(map[tenantKey]int),
		maxTotal:          defaultMaxPending,
		maxPerTenant:      defaultMaxPendingPerTenant,
		maxTotalBytes:     defaultMaxPendingBytes,
		maxBytesPerTenant: defaultMaxPendingBytesPer,
	}
}

// addRequest keeps a copy of a new authorization request.
func (p *pending) addRequest(tk tenantKey, ar *authRequest, now time.Time) error {
	size := requestSize(ar)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweepLocked(now)
	if p.total >= p.maxTotal || p.perTenant[tk] >= p.maxPerTenant ||
		p.totalBytes+size > p.maxTotalBytes || p.bytesPerTenant[tk]+size > p.maxBytesPerTenant {
		return errPendingFull
	}
	p.requests[pendingKey{tk, ar.ID}] = &pendingRequest{authRequest: detached(ar), size: size}
	p.peakRequests = max(p.peakRequests, len(p.requests))
	p.countLocked(tk, +1, size)
	return nil
}

// pendingEntryOverhead is what an entry costs besides its strings: the
// authRequest struct (about 450 bytes of string and slice headers, times
// and flags), its map slot and key, and what a sign-in adds to it (subject,
// amr, the browser binding), rounded up. TestPendingCountsWhatItHolds
// checks it, and requestSize, against the heap.
const pendingEntryOverhead = 1024

// requestSize is the number of bytes an authorization request is counted
// for while it is held: the overhead, and every string it came with as the
// allocator holds it (heapString). It lists authRequest's string fields, as
// detached does: a field added there is added to both.
func requestSize(ar *authRequest) int {
	n := pendingEntryOverhead
	for _, s := range []string{ar.ID, ar.ClientID, ar.RedirectURI, ar.State, ar.Nonce, string(ar.ResponseType),
		string(ar.ResponseMode), ar.LoginHint, ar.HintSubject, ar.CodeChallenge, string(ar.CodeChallengeMethod), ar.FamilyID} {
		n += heapString(s)
	}
	for _, ss := range [][]string{ar.Scopes, ar.Prompt, ar.UILocales} {
		for _, s := range ss {
			n += 16 + heapString(s) // its header in the slice, and its bytes
		}
	}
	return n
}

// heapString bounds what the allocator takes for a string of s's length:
// its size class wastes up to a fifth of a larger string, and rounds a
// small one up by at most 16 bytes.
func heapString(s string) int {
	if s == "" {
		return 0
	}
	return len(s) + len(s)/4 + 16
}

// detached returns a copy of ar whose strings are copies too. The library
// decodes a request's parameters as slices of its URL where they need no
// unescaping: held as they are, one short state would keep the request's
// whole URL (up to the server's 64 KiB header limit) in memory for half an
// hour, beside an entry counted for a few bytes. It lists authRequest's
// string fields, as requestSize does: a field added there is added to both.
func detached(ar *authRequest) authRequest {
	cp := *ar
	for _, s := range []*string{&cp.ID, &cp.ClientID, &cp.RedirectURI, &cp.State, &cp.Nonce, &cp.LoginHint,
		&cp.HintSubject, &cp.CodeChallenge, &cp.FamilyID} {
		*s = strings.Clone(*s)
	}
	cp.ResponseType = oidc.ResponseType(strings.Clone(string(cp.ResponseType)))
	cp.ResponseMode = oidc.ResponseMode(strings.Clone(string(cp.ResponseMode)))
	cp.CodeChallengeMethod = oidc.CodeChallengeMethod(strings.Clone(string(cp.CodeChallengeMethod)))
	cp.Scopes = cloneStrings(cp.Scopes)
	cp.Prompt = cloneStrings(cp.Prompt)
	cp.UILocales = cloneStrings(cp.UILocales)
	cp.AMR = cloneStrings(cp.AMR)
	return cp
}

func cloneStrings(in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.Clone(s)
	}
	return out
}

// request returns a copy of a live authorization request.
func (p *pending) request(tk tenantKey, id string, now time.Time) (authRequest, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ar, ok := p.requests[pendingKey{tk, id}]
	if !ok || !now.Before(ar.ExpiresAt) {
		return authRequest{}, false
	}
	return ar.authRequest, true
}

// updateRequest applies change to a live authorization request.
func (p *pending) updateRequest(tk tenantKey, id string, now time.Time, change func(*authRequest)) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ar, ok := p.requests[pendingKey{tk, id}]
	if !ok || !now.Before(ar.ExpiresAt) {
		return false
	}
	change(&ar.authRequest)
	return true
}

// deleteRequest forgets an authorization request; its codes stay.
func (p *pending) deleteRequest(tk tenantKey, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := pendingKey{tk, id}
	if ar, ok := p.requests[k]; ok {
		delete(p.requests, k)
		p.countLocked(tk, -1, -ar.size)
	}
}

// addCode issues the code of a live authorization request, which becomes
// the code's: a request gives one code, so a second visit to the callback
// (the back button, a copied link) finds nothing and mints no second code
// for one sign-in. Codes are keyed by their hash, so a memory dump does not
// hold redeemable codes.
func (p *pending) addCode(tk tenantKey, requestID, codeHash string, now, expires time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := pendingKey{tk, requestID}
	ar, ok := p.requests[k]
	if !ok || !now.Before(ar.ExpiresAt) {
		return false
	}
	// The request's place passes to the code, so the limits, which count
	// both, neither refuse nor change.
	delete(p.requests, k)
	p.codes[pendingKey{tk, codeHash}] = &pendingCode{request: &ar.authRequest, binding: bindingOf(&ar.authRequest), familyID: ar.FamilyID, expiresAt: expires, size: ar.size}
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
func (p *pending) redeemCode(tk tenantKey, codeHash string, now time.Time) (authRequest, codeOutcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.codes[pendingKey{tk, codeHash}]
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
			p.countLocked(k.tenant, -1, -ar.size)
		}
	}
	for k, c := range p.codes {
		if !now.Before(c.expiresAt) {
			delete(p.codes, k)
			p.countLocked(k.tenant, -1, -c.size)
		}
	}
	p.requests = shrunk(p.requests, &p.peakRequests)
	p.codes = shrunk(p.codes, &p.peakCodes)
}

// shrinkFrom is the peak below which a map is never rebuilt: a small map's
// spare room costs less than copying it. A busy half hour's abandoned
// sign-ins (about 900 in a soak test) stay under a thousand entries, whose
// map, emptied, would otherwise keep its room until the next burst.
const shrinkFrom = 64

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

func (p *pending) countLocked(tk tenantKey, entries, bytes int) {
	p.total += entries
	p.totalBytes += bytes
	if n := p.perTenant[tk] + entries; n > 0 {
		p.perTenant[tk] = n
	} else {
		delete(p.perTenant, tk)
	}
	if n := p.bytesPerTenant[tk] + bytes; n > 0 {
		p.bytesPerTenant[tk] = n
	} else {
		delete(p.bytesPerTenant, tk)
	}
}

// forgetEarlier drops what is held for tenants that had slug before
// current, the tenant that has it now (nil when none has): tenants deleted
// since. Nothing finds those entries any more, as every lookup is under
// the current tenant's key; this gives back their memory now rather than
// when they expire.
func (p *pending) forgetEarlier(slug string, current *tenantKey) {
	earlier := func(tk tenantKey) bool { return tk.slug == slug && (current == nil || tk != *current) }
	p.mu.Lock()
	defer p.mu.Unlock()
	// Every tenant that holds anything has a count: most changes of a
	// tenant (a client added, a key rotated) find no earlier one there,
	// and look at no entry.
	held := false
	for tk := range p.perTenant {
		if earlier(tk) {
			held = true
			break
		}
	}
	if !held {
		return
	}
	for k, ar := range p.requests {
		if earlier(k.tenant) {
			delete(p.requests, k)
			p.countLocked(k.tenant, -1, -ar.size)
		}
	}
	for k, c := range p.codes {
		if earlier(k.tenant) {
			delete(p.codes, k)
			p.countLocked(k.tenant, -1, -c.size)
		}
	}
	p.requests = shrunk(p.requests, &p.peakRequests)
	p.codes = shrunk(p.codes, &p.peakCodes)
}

// held reports what the store holds: entries and their counted bytes.
func (p *pending) held() (entries, bytes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total, p.totalBytes
}
