package provider

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// testKey is the key of tenant slug in these tests: one incarnation each.
func testKey(slug string) tenantKey { return tenantKey{slug: slug, incarnation: "1"} }

func TestPendingCodeLifecycle(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p := newPending()
	ar := &authRequest{ID: "req-1", ClientID: "app", FamilyID: "fam-1", ExpiresAt: now.Add(authRequestTTL)}
	if err := p.addRequest(testKey("acme"), ar, now); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.request(testKey("other"), "req-1", now); ok {
		t.Fatal("tenant other sees tenant acme's request")
	}
	if !p.updateRequest(testKey("acme"), "req-1", now, func(ar *authRequest) { ar.Subject, ar.IsDone = "sub-1", true }) {
		t.Fatal("update of a live request failed")
	}
	if p.addCode(testKey("other"), "req-1", "code-hash", now, now.Add(codeTTL)) {
		t.Fatal("a code was issued at tenant other for tenant acme's request")
	}
	if !p.addCode(testKey("acme"), "req-1", "code-hash", now, now.Add(codeTTL)) {
		t.Fatal("code not issued")
	}
	if p.addCode(testKey("acme"), "req-1", "code-hash-2", now, now.Add(codeTTL)) {
		t.Fatal("a second code was issued for one sign-in")
	}
	if _, ok := p.request(testKey("acme"), "req-1", now); ok {
		t.Fatal("the request is still there after its code was issued")
	}
	if p.total != 1 || p.perTenant[testKey("acme")] != 1 {
		t.Fatalf("after the code: total %d, per tenant %v; want the one code", p.total, p.perTenant)
	}
	p.deleteRequest(testKey("acme"), "req-1")

	tests := []struct {
		name string
		slug string
		at   time.Time
		want codeOutcome
	}{
		{"another tenant", "other", now, codeUnknown},
		{"first use", "acme", now, codeRedeemed},
		{"second use", "acme", now, codeReplayed},
		{"after expiry", "acme", now.Add(codeTTL), codeUnknown},
	}
	for _, tt := range tests {
		got, outcome := p.redeemCode(testKey(tt.slug), "code-hash", tt.at)
		if outcome != tt.want {
			t.Fatalf("%s: outcome %d, want %d", tt.name, outcome, tt.want)
		}
		switch outcome {
		case codeRedeemed:
			if got.Subject != "sub-1" || got.FamilyID != "fam-1" || !got.IsDone {
				t.Fatalf("%s: request %+v, want the signed-in request", tt.name, got)
			}
			if c := p.codes[pendingKey{testKey("acme"), "code-hash"}]; c.request != nil || c.familyID != "fam-1" {
				t.Fatalf("%s: the redeemed code still holds %+v, want only family fam-1", tt.name, c)
			}
		case codeReplayed:
			if got.FamilyID != "fam-1" {
				t.Fatalf("%s: family %q, want fam-1 (whose tokens the replay revokes)", tt.name, got.FamilyID)
			}
		}
	}
}

func TestPendingRequestExpires(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p := newPending()
	if err := p.addRequest(testKey("acme"), &authRequest{ID: "r", ExpiresAt: now.Add(time.Minute)}, now); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Minute)
	if _, ok := p.request(testKey("acme"), "r", later); ok {
		t.Fatal("expired request still returned")
	}
	if p.updateRequest(testKey("acme"), "r", later, func(*authRequest) {}) {
		t.Fatal("expired request updated")
	}
	if p.addCode(testKey("acme"), "r", "h", later, later.Add(codeTTL)) {
		t.Fatal("code issued for an expired request")
	}
}

// What a tenant holds is found only under its own key: a tenant created
// again under a deleted one's slug finds neither its requests nor its
// codes, and counts none of them against its limit. forgetEarlier then
// drops them, and nothing of the tenant that has the slug now.
func TestPendingKeepsEachIncarnationApart(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p := newPending()
	p.maxPerTenant = 2
	deleted, current, other := tenantKey{"acme", "1"}, tenantKey{"acme", "2"}, tenantKey{"beta", "1"}
	for _, tk := range []tenantKey{deleted, current, other} {
		for _, id := range []string{"req", "signed-in"} {
			if err := p.addRequest(tk, &authRequest{ID: id, ExpiresAt: now.Add(authRequestTTL)}, now); err != nil {
				t.Fatalf("%v: %v", tk, err)
			}
		}
	}
	if !p.addCode(deleted, "signed-in", "code-hash", now, now.Add(codeTTL)) {
		t.Fatal("code not issued")
	}
	if _, ok := p.request(current, "signed-in", now); !ok {
		t.Fatal("the current tenant's own request is not found")
	}
	if _, ok := p.request(current, "req", now); !ok {
		t.Fatal("the current tenant's own request is not found")
	}
	if _, outcome := p.redeemCode(current, "code-hash", now); outcome != codeUnknown {
		t.Fatalf("the deleted tenant's code at the current one: outcome %d, want unknown", outcome)
	}
	if p.updateRequest(tenantKey{"acme", ""}, "req", now, func(*authRequest) {}) {
		t.Fatal("a tenant without an incarnation (created before there were any) found another's request")
	}

	p.forgetEarlier("acme", &current)
	if _, ok := p.request(deleted, "req", now); ok || len(p.codes) != 0 {
		t.Fatalf("the deleted tenant's entries are still held: %d codes", len(p.codes))
	}
	if p.total != 4 || p.perTenant[current] != 2 || p.perTenant[other] != 2 || len(p.perTenant) != 2 {
		t.Fatalf("after forgetting: total %d, per tenant %v; want the current tenant's and beta's two each", p.total, p.perTenant)
	}
	p.forgetEarlier("acme", nil) // acme deleted again
	if p.total != 2 || p.perTenant[other] != 2 || len(p.perTenant) != 1 {
		t.Fatalf("after acme went: total %d, per tenant %v; want beta's two", p.total, p.perTenant)
	}
}

// The limits refuse new requests instead of evicting people mid-sign-in,
// one tenant's flood leaves room for the others, and expired entries give
// their place back at the next sweep.
func TestPendingLimits(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p := newPending()
	p.maxTotal, p.maxPerTenant = 5, 3
	add := func(slug, id string, at time.Time) error {
		return p.addRequest(testKey(slug), &authRequest{ID: id, ExpiresAt: at.Add(time.Minute)}, at)
	}
	for _, id := range []string{"a1", "a2", "a3"} {
		if err := add("acme", id, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := add("acme", "a4", now); !errors.Is(err, errPendingFull) {
		t.Fatalf("fourth request of one tenant: %v, want errPendingFull", err)
	}
	if _, ok := p.request(testKey("acme"), "a1", now); !ok {
		t.Fatal("a refused request evicted an earlier one")
	}
	for _, id := range []string{"b1", "b2"} {
		if err := add("beta", id, now); err != nil {
			t.Fatalf("other tenant refused while acme is full: %v", err)
		}
	}
	if err := add("gamma", "g1", now); !errors.Is(err, errPendingFull) {
		t.Fatalf("request past the total: %v, want errPendingFull", err)
	}
	// All of the above expire after a minute; the sweep on the next add
	// frees their places.
	later := now.Add(pendingSweepEvery + time.Minute)
	if err := add("acme", "a5", later); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if p.total != 1 || p.perTenant[testKey("acme")] != 1 || len(p.perTenant) != 1 {
		t.Fatalf("after the sweep: total %d, per tenant %v; want only acme's one", p.total, p.perTenant)
	}
}

// An idle server sweeps without new requests: what expired goes, what is
// live stays, and a map that held thousands is rebuilt at its new size.
func TestPendingSweepWhileIdle(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p := newPending()
	const burst = 3 * shrinkFrom
	for i := range burst {
		id := fmt.Sprintf("req-%d", i)
		if err := p.addRequest(testKey("acme"), &authRequest{ID: id, ExpiresAt: now.Add(authRequestTTL)}, now); err != nil {
			t.Fatal(err)
		}
		if !p.addCode(testKey("acme"), id, "code-"+id, now, now.Add(codeTTL)) {
			t.Fatalf("code for %s not issued", id)
		}
		p.deleteRequest(testKey("acme"), id)
	}
	// One sign-in still under way, started a little later (within the
	// minute, so adding it does not sweep).
	if err := p.addRequest(testKey("acme"), &authRequest{ID: "live", ExpiresAt: now.Add(time.Second + authRequestTTL)}, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if p.peakCodes != burst {
		t.Fatalf("peak of codes %d, want %d", p.peakCodes, burst)
	}

	later := now.Add(codeTTL)
	p.sweep(later)
	if len(p.codes) != 0 || p.total != 1 || p.perTenant[testKey("acme")] != 1 {
		t.Fatalf("after the sweep: %d codes, %d held in all, %d for acme; want 0, 1, 1", len(p.codes), p.total, p.perTenant[testKey("acme")])
	}
	if _, ok := p.request(testKey("acme"), "live", later); !ok {
		t.Fatal("the sweep dropped a live request")
	}
	if p.peakCodes != 0 || p.peakRequests != 1 {
		t.Errorf("peaks after the sweep: codes %d, requests %d; want 0 and 1 (maps rebuilt)", p.peakCodes, p.peakRequests)
	}
}

func TestShrunk(t *testing.T) {
	tests := []struct {
		name          string
		size, peak    int
		rebuilt       bool
		wantPeakAfter int
	}{
		{"a small map is left alone", 10, shrinkFrom - 1, false, shrinkFrom - 1},
		{"still a quarter of its peak", shrinkFrom / 4, shrinkFrom, false, shrinkFrom},
		{"under a quarter of its peak", shrinkFrom/4 - 1, shrinkFrom, true, shrinkFrom/4 - 1},
		{"emptied", 0, 4 * shrinkFrom, true, 0},
		// What a busy half hour of failed sign-ins leaves, once expired.
		{"emptied after a thousand", 0, 1000, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := make(map[int]bool, tt.size)
			for i := range tt.size {
				m[i] = true
			}
			peak := tt.peak
			got := shrunk(m, &peak)
			if len(got) != tt.size {
				t.Errorf("the map holds %d entries, want %d", len(got), tt.size)
			}
			m[-1] = true // a write to the original shows whether got is the same map
			if rebuilt := !got[-1]; rebuilt != tt.rebuilt {
				t.Errorf("rebuilt = %v, want %v", rebuilt, tt.rebuilt)
			}
			if peak != tt.wantPeakAfter {
				t.Errorf("peak after = %d, want %d", peak, tt.wantPeakAfter)
			}
		})
	}
}

// largestRequest is an authorization request as large as the authorization
// endpoint lets through (authorizeLimits), its strings cut from one URL as
// the library decodes them.
func largestRequest(id string, expires time.Time) *authRequest {
	limit := map[string]int{}
	for _, l := range authorizeLimits {
		limit[l.param] = l.max
	}
	fill := func(b byte, n int) string { return strings.Repeat(string(b), n) }
	scopes := []string{"openid"}
	for len(strings.Join(scopes, " ")) < limit["scope"]-64 {
		scopes = append(scopes, "resource-server.example/"+fill('r', 32))
	}
	// One URL, as long as the server's header limit allows: the fields
	// below are slices of it.
	url := strings.Join(append([]string{fill('s', limit["state"]), fill('n', limit["nonce"]), fill('l', limit["login_hint"]),
		fill('c', 43), "https://app.example/callback", "client-id"}, scopes...), "&")
	url += "&junk=" + fill('j', 64<<10-len(url))
	at := 0
	next := func(n int) string { s := url[at : at+n]; at += n + 1; return s }
	ar := &authRequest{ID: id + fill('i', 32-len(id)), FamilyID: fill('f', 22), ExpiresAt: expires,
		State: next(limit["state"]), Nonce: next(limit["nonce"]), LoginHint: next(limit["login_hint"]),
		CodeChallenge: next(43), CodeChallengeMethod: "S256", RedirectURI: next(len("https://app.example/callback")),
		ClientID: next(len("client-id")), ResponseType: "code", Prompt: []string{"login"}}
	for _, s := range scopes {
		ar.Scopes = append(ar.Scopes, next(len(s)))
	}
	return ar
}

// The store's bound holds in bytes: requests as large as the endpoint lets
// through are refused once their bytes reach the limit, long before their
// number does, and what was held is given back when they go.
func TestPendingLimitsBytes(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p := newPending()
	p.maxTotalBytes, p.maxBytesPerTenant = 1<<20, 1<<19
	size := requestSize(largestRequest("x", now))
	if size > 16<<10 {
		t.Errorf("the largest request is counted for %d bytes; pending's comment says about 16 KiB", size)
	}
	add := func(slug string, i int) error {
		return p.addRequest(testKey(slug), largestRequest(fmt.Sprintf("%s-%d", slug, i), now.Add(time.Minute)), now)
	}
	accepted := 0
	for ; add("acme", accepted) == nil; accepted++ {
	}
	if want := p.maxBytesPerTenant / size; accepted != want {
		t.Fatalf("one tenant got %d of the largest requests in, want %d (%d bytes each, %d allowed)", accepted, want, size, p.maxBytesPerTenant)
	}
	if _, bytes := p.held(); bytes > p.maxBytesPerTenant || bytes != accepted*size {
		t.Fatalf("held %d bytes for %d requests of %d", bytes, accepted, size)
	}
	for i := 0; ; i++ {
		if err := add(fmt.Sprintf("t%d", i), 0); err != nil {
			if !errors.Is(err, errPendingFull) {
				t.Fatal(err)
			}
			break
		}
	}
	if entries, bytes := p.held(); bytes > p.maxTotalBytes || entries >= p.maxTotal {
		t.Fatalf("held %d entries, %d bytes; want at most %d bytes", entries, bytes, p.maxTotalBytes)
	}
	// A request's place, and its bytes, pass to its code and are given
	// back at the sweep after the code expired.
	p.updateRequest(testKey("acme"), fmt.Sprintf("acme-0%s", strings.Repeat("i", 32-len("acme-0"))), now, func(ar *authRequest) { ar.IsDone = true })
	if !p.addCode(testKey("acme"), fmt.Sprintf("acme-0%s", strings.Repeat("i", 32-len("acme-0"))), "code", now, now.Add(codeTTL)) {
		t.Fatal("no code")
	}
	p.sweep(now.Add(authRequestTTL))
	if entries, bytes := p.held(); entries != 0 || bytes != 0 || len(p.bytesPerTenant) != 0 {
		t.Fatalf("after everything expired: %d entries, %d bytes, per tenant %v", entries, bytes, p.bytesPerTenant)
	}
}

// The bytes counted for what the store holds cover the heap it takes, for
// ordinary requests and for the largest ones: the bound in bytes is a bound
// on memory. The largest requests are slices of 64 KiB URLs, as the library
// decodes them; held as they came, each would keep its whole URL alive.
func TestPendingCountsWhatItHolds(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		n    int
		make func(i int) *authRequest
	}{
		{"ordinary", 20000, func(i int) *authRequest {
			return &authRequest{ID: fmt.Sprintf("%032d", i), FamilyID: fmt.Sprintf("%022d", i), ClientID: "26charclientidxxxxxxxxxxxx",
				RedirectURI: "https://app.example.com/oauth/callback", Scopes: []string{"openid", "email", "profile", "offline_access"},
				State: fmt.Sprintf("%043d", i), Nonce: fmt.Sprintf("%043d", i), ResponseType: "code",
				CodeChallenge: fmt.Sprintf("%043d", i), CodeChallengeMethod: "S256", ExpiresAt: now.Add(time.Hour)}
		}},
		{"largest", 1000, func(i int) *authRequest { return largestRequest(fmt.Sprint(i), now.Add(time.Hour)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPending()
			p.maxTotal, p.maxPerTenant = 1<<30, 1<<30
			p.maxTotalBytes, p.maxBytesPerTenant = 1<<40, 1<<40
			before := liveHeap()
			for i := range tt.n {
				ar := tt.make(i)
				if err := p.addRequest(testKey("acme"), ar, now); err != nil {
					t.Fatal(err)
				}
				// What a sign-in adds, which the overhead counts.
				p.updateRequest(testKey("acme"), ar.ID, now, func(ar *authRequest) {
					ar.Subject, ar.AMR, ar.BrowserBinding = fmt.Sprintf("%036d", i), []string{"pwd", "otp"}, fmt.Sprintf("%064d", i)
				})
			}
			used := liveHeap() - before
			_, counted := p.held()
			t.Logf("%d requests: %d bytes on the heap, %d counted (%d and %d per request)", tt.n, used, counted, used/uint64(tt.n), counted/tt.n)
			if used > uint64(counted) {
				t.Errorf("the store takes %d bytes of heap but counts %d", used, counted)
			}
			runtime.KeepAlive(p)
		})
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
