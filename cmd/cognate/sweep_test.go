package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// The sweep, as serve runs it, goes by the app's clock, not the ticks'
// wall clock: records expire by it, the full scan falls due by it (in the
// first round, then daily), and the audit trail is kept the retention
// serve gives it. The ticks come from the test; each round is over when
// the loop takes the next tick.
func TestSweepGoesByItsClock(t *testing.T) {
	a := newTestApp(t)
	ctx := t.Context()
	acme, err := a.service.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: "Acme BV"})
	if err != nil {
		t.Fatal(err)
	}
	store := a.service.Store
	start := time.Now()
	var clock atomic.Pointer[time.Time] // the loop reads it while the test moves it
	clock.Store(&start)
	ticks := make(chan time.Time)
	done := make(chan struct{})
	loopCtx, stop := context.WithCancel(ctx)
	go func() {
		defer close(done)
		sweepOnTicks(loopCtx, ticks, store, a.provider, tenant.DefaultAuditRetention, slog.New(slog.NewTextHandler(t.Output(), nil)),
			func() time.Time { return *clock.Load() })
	}()
	// round runs one round at the clock at, and waits for its end: the
	// loop takes a second tick only then, which starts a round that finds
	// nothing more to do at that time (or at the next round's).
	round := func(at time.Time) {
		t.Helper()
		clock.Store(&at)
		ticks <- start
		ticks <- start
	}
	t.Cleanup(func() { stop(); <-done })

	// A session the expiry index does not know of (written by an older
	// version) goes in a full scan alone.
	unindexed := func(key string, expires time.Time) {
		t.Helper()
		raw, _ := json.Marshal(map[string]any{"expires_at": expires})
		if err := store.Update(ctx, func(tx tenant.Tx) error { return tx.Put(tenant.CollSessions, acme.Slug, key, raw) }); err != nil {
			t.Fatal(err)
		}
	}
	kept := func(key string) bool {
		t.Helper()
		err := store.View(ctx, func(tx tenant.Tx) error { _, err := tx.Get(tenant.CollSessions, acme.Slug, key); return err })
		if err != nil && !errors.Is(err, tenant.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}

	// Expired by the app's clock, two hours on, though not by the wall
	// clock; the first round scans in full.
	unindexed("old", start.Add(time.Hour))
	round(start.Add(2 * time.Hour))
	if kept("old") {
		t.Error("the first round kept a session expired by the app's clock")
	}
	unindexed("older", start.Add(3*time.Hour))
	round(start.Add(4 * time.Hour))
	if !kept("older") {
		t.Error("a full scan ran two hours after the last")
	}
	round(start.Add(26 * time.Hour))
	if kept("older") {
		t.Error("a day after the last full scan, none ran")
	}

	// Past the audit retention, by the app's clock, the tenant's creation
	// is no longer kept.
	events := func() int {
		t.Helper()
		page, err := a.service.AuditLog(ctx, acme.Slug, tenant.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Events)
	}
	if events() == 0 {
		t.Fatal("the tenant's creation is not in its audit trail")
	}
	round(start.Add(tenant.DefaultAuditRetention + 48*time.Hour))
	if n := events(); n != 0 {
		t.Errorf("past the retention, %d audit events are kept", n)
	}
}
