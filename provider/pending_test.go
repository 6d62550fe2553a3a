package provider

import (
	"errors"
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
		if outcome != codeUnknown && (got.Subject != "sub-1" || got.FamilyID != "fam-1" || !got.IsDone) {
			t.Fatalf("%s: request %+v, want the signed-in request", tt.name, got)
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
