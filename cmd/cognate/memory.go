package main

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The server's memory policy: collect garbage less often while little is
// live, and give memory back to the system once a minute.
//
// With Go's default (GOGC=100) the heap may grow to twice what is live
// before the next collection. Cognate's live heap is a few megabytes, so
// under load the collector runs dozens of times a second, and its fixed
// cost per cycle was 6 % of a core serving discovery and 12 % serving
// client-credentials tokens. During sign-ins about 22 MB are live, nearly
// all of it the argon2id hash in progress, and each new hash's 19 MiB set
// off a cycle of its own. So the tuner lets the heap grow to heapFloor
// before collecting, as long as that is at most five times what is live:
// discovery, JWKS and ES256 tokens went 2–19 % further per core and a
// sign-in from 73–77 % to 80–83 % of the raw hash rate (docs/benchmarks.md).
// Once more than half the floor is live, as on a larger machine with a
// hash in progress per core, the collector is back at Go's default.
//
// The price is memory while under load, up to heapFloor, which the
// minute's trim gives back: idle, the server holds what it did before.
//
// An operator who sets GOGC or GOMEMLIMIT has chosen a policy of their own,
// and the tuner stays out of the way (under a memory limit near the heap
// floor the two would fight); the minute's trim runs either way.
const (
	// heapFloor is the heap size below which collections are spaced out.
	heapFloor = 128 << 20
	// minGCPercent and maxGCPercent bound the GOGC the tuner sets: never
	// more eager than Go's default, never more than 5× the live heap.
	minGCPercent = 100
	maxGCPercent = 400
	// trimEvery is how often memory the heap no longer uses goes back to
	// the system. Each argon2id hash takes 19 MiB that the runtime
	// otherwise hands back only slowly: after a burst of sign-ins an idle
	// server would keep tens of megabytes it does not use.
	trimEvery = time.Minute
)

// gcPercentFor is the GOGC that lets a heap with live bytes in use grow to
// floor before the next collection, within [minGCPercent, maxGCPercent].
func gcPercentFor(live, floor uint64) int {
	if live == 0 {
		return maxGCPercent
	}
	p := int(floor*100/live) - 100
	return min(max(p, minGCPercent), maxGCPercent)
}

// manageMemory applies the memory policy until ctx ends, then puts GOGC
// back as it found it.
func manageMemory(ctx context.Context) {
	if !operatorTunesMemory() {
		tuner := startHeapTuner(heapFloor)
		defer tuner.stop()
	}
	tick := time.NewTicker(trimEvery)
	defer tick.Stop()
	for {
		// The first trim is at once: start-up's garbage (templates parsed,
		// the demo admin's password hashed) goes before the first request.
		// A forced collection of a heap this small costs a millisecond.
		debug.FreeOSMemory()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// operatorTunesMemory reports whether the environment sets the runtime's
// own memory settings, which the runtime read at start.
func operatorTunesMemory() bool {
	_, gogc := os.LookupEnv("GOGC")
	_, limit := os.LookupEnv("GOMEMLIMIT")
	return gogc || limit
}

// heapTuner sets GOGC after every collection from the heap that
// collection found live. The runtime has no hook for "a collection
// finished", so the tuner keeps one unreachable sentinel whose cleanup the
// collector runs after each cycle; the cleanup tunes and sets the next.
type heapTuner struct {
	floor uint64
	live  []metrics.Sample // touched only by the runtime's cleanup goroutine

	mu       sync.Mutex // so that no cleanup sets GOGC after stop restored it
	stopped  bool
	previous int // GOGC before the tuner started
}

// gcSentinel has a pointer field so that the allocator gives it an object
// of its own: a pointer-free object this small can share its memory with
// others and outlive any one collection.
type gcSentinel struct{ _ *byte }

func startHeapTuner(floor uint64) *heapTuner {
	t := &heapTuner{floor: floor, live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.previous = debug.SetGCPercent(maxGCPercent) // until the first collection says otherwise
	t.arm()
	return t
}

func (t *heapTuner) arm() {
	runtime.AddCleanup(new(gcSentinel), func(t *heapTuner) { t.afterCollection() }, t)
}

func (t *heapTuner) afterCollection() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	metrics.Read(t.live)
	if t.live[0].Value.Kind() == metrics.KindUint64 {
		debug.SetGCPercent(gcPercentFor(t.live[0].Value.Uint64(), t.floor))
	}
	t.arm()
}

// stop ends the tuning and restores the GOGC the tuner started from.
func (t *heapTuner) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	debug.SetGCPercent(t.previous)
}
