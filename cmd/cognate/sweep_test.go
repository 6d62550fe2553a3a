package main

import (
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// A sweep round goes by the clock it is given, the app's: records expire by
// it, and the full scan falls due by it.
func TestSweepOnceGoesByItsClock(t *testing.T) {
	a := newTestApp(t)
	ctx := t.Context()
	if _, err := a.service.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: "Acme BV"}); err != nil {
		t.Fatal(err)
	}
	store := a.service.Store
	now := a.now()

	n, lastFull, err := sweepOnce(ctx, store, tenant.DefaultAuditRetention, now, time.Time{})
	if err != nil || n != 0 || !lastFull.Equal(now) {
		t.Fatalf("first round: %d deleted, full scan at %v (%v); want none deleted and a full scan now", n, lastFull, err)
	}
	if _, again, err := sweepOnce(ctx, store, tenant.DefaultAuditRetention, now.Add(time.Hour), lastFull); err != nil || !again.Equal(lastFull) {
		t.Errorf("an hour on: full scan at %v (%v), want none since %v", again, err, lastFull)
	}
	// Past the audit retention, the tenant's creation is no longer kept.
	later := now.Add(tenant.DefaultAuditRetention + 48*time.Hour)
	n, lastFull, err = sweepOnce(ctx, store, tenant.DefaultAuditRetention, later, lastFull)
	if err != nil || n == 0 || !lastFull.Equal(later) {
		t.Errorf("past the retention: %d deleted, full scan at %v (%v); want the audit events deleted and a full scan then", n, lastFull, err)
	}
}
