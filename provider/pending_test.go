package provider

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestPendingCodeLifecycle(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p := newPending()
	ar := &authRequest{ID: "req-1", ClientID: "app", FamilyID: "fam-1", ExpiresAt: now.Add(authRequestTTL)}
	if err := p.addRequest("acme", ar, now); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.request("other", "req-1", now); ok {
		t.Fatal("tenant other sees tenant acme's request")
	}
	if !p.updateRequest("acme", "req-1", now, func(ar *authRequest) { ar.Subject, ar.IsDone = "sub-1", true }) {
		t.Fatal("update of a live request failed")
	}
	if p.addCode("other", "req-1", "code-hash", now, now.Add(codeTTL)) {
		t.Fatal("a code was issued at tenant other for tenant acme's request")
	}
	if !p.addCode("acme", "req-1", "code-hash", now, now.Add(codeTTL)) {
		t.Fatal("code not issued")
	}
	if p.addCode("acme", "req-1", "code-hash-2", now, now.Add(codeTTL)) {
		t.Fatal("a second code was issued for one sign-in")
	}
	if _, ok := p.request("acme", "req-1", now); ok {
		t.Fatal("the request is still there after its code was issued")
	}
	if p.total != 1 || p.perTenant["acme"] != 1 {
		t.Fatalf("after the code: total %d, per tenant %v; want the one code", p.total, p.perTenant)
	}
	p.deleteRequest("acme", "req-1")

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
		got, outcome := p.redeemCode(tt.slug, "code-hash", tt.at)
		if outcome != tt.want {
			t.Fatalf("%s: outcome %d, want %d", tt.name, outcome, tt.want)
		}
		switch outcome {
		case codeRedeemed:
			if got.Subject != "sub-1" || got.FamilyID != "fam-1" || !got.IsDone {
				t.Fatalf("%s: request %+v, want the signed-in request", tt.name, got)
			}
			if c := p.codes[pendingKey{"acme", "code-hash"}]; c.request != nil || c.familyID != "fam-1" {
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
	if err := p.addRequest("acme", &authRequest{ID: "r", ExpiresAt: now.Add(time.Minute)}, now); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Minute)
	if _, ok := p.request("acme", "r", later); ok {
		t.Fatal("expired request still returned")
	}
	if p.updateRequest("acme", "r", later, func(*authRequest) {}) {
		t.Fatal("expired request updated")
	}
	if p.addCode("acme", "r", "h", later, later.Add(codeTTL)) {
		t.Fatal("code issued for an expired request")
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
		return p.addRequest(slug, &authRequest{ID: id, ExpiresAt: at.Add(time.Minute)}, at)
	}
	for _, id := range []string{"a1", "a2", "a3"} {
		if err := add("acme", id, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := add("acme", "a4", now); !errors.Is(err, errPendingFull) {
		t.Fatalf("fourth request of one tenant: %v, want errPendingFull", err)
	}
	if _, ok := p.request("acme", "a1", now); !ok {
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
	if p.total != 1 || p.perTenant["acme"] != 1 || len(p.perTenant) != 1 {
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
		if err := p.addRequest("acme", &authRequest{ID: id, ExpiresAt: now.Add(authRequestTTL)}, now); err != nil {
			t.Fatal(err)
		}
		if !p.addCode("acme", id, "code-"+id, now, now.Add(codeTTL)) {
			t.Fatalf("code for %s not issued", id)
		}
		p.deleteRequest("acme", id)
	}
	// One sign-in still under way, started a little later (within the
	// minute, so adding it does not sweep).
	if err := p.addRequest("acme", &authRequest{ID: "live", ExpiresAt: now.Add(time.Second + authRequestTTL)}, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if p.peakCodes != burst {
		t.Fatalf("peak of codes %d, want %d", p.peakCodes, burst)
	}

	later := now.Add(codeTTL)
	p.sweep(later)
	if len(p.codes) != 0 || p.total != 1 || p.perTenant["acme"] != 1 {
		t.Fatalf("after the sweep: %d codes, %d held in all, %d for acme; want 0, 1, 1", len(p.codes), p.total, p.perTenant["acme"])
	}
	if _, ok := p.request("acme", "live", later); !ok {
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
