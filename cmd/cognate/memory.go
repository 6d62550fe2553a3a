package main

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The server's memory policy: collect garbage less often while little is
// live, and give memory back to the system when the server goes quiet.
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
// The price is memory while under load, up to heapFloor, which the trim
// gives back: idle, the server holds what it did before. The runtime itself
// returns unused memory only slowly, so after a burst of sign-ins an idle
// server would keep tens of megabytes it does not use.
//
// An operator who sets GOGC or GOMEMLIMIT has chosen a policy of their own,
// and the tuner stays out of the way (under a memory limit near the heap
// floor the two would fight); the trim runs either way.
const (
	// heapFloor is the heap size below which collections are spaced out.
	heapFloor = 128 << 20
	// minGCPercent and maxGCPercent bound the GOGC the tuner sets: never
	// more eager than Go's default, never more than 5× the live heap.
	minGCPercent = 100
	maxGCPercent = 400

	// The trim is a forced collection (two, in fact) that hands every free
	// page back to the system. It runs when the server has gone quiet, so
	// that memory goes back within seconds of a burst, and at least once a
	// minute whatever the load. It does not run on every check while busy:
	// the pages it hands back are the ones the next hashes would have
	// reused, and faulting 19 MiB back in costs more than the hash itself
	// (a hash on memory fresh from the system took 86 ms here, on reused
	// memory 24 ms).
	trimCheckEvery   = 10 * time.Second
	trimAtLeastEvery = time.Minute
	// quietAllocs is what a check interval may allocate and still count
	// as quiet: a health probe every second allocates kilobytes, one
	// sign-in 19 MiB, a full sweep of the store a few megabytes.
	quietAllocs = 16 << 20
	// trimSlack is how much more than the last trim left the runtime must
	// hold before a quiet check trims again; less is not worth a forced
	// collection.
	trimSlack = 1 << 20
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

// filePages is the store's memory map of its data file (tenant/bolt).
// Every page a request or the sweep reads stays in the server's resident
// set until it is let go, so a quiet check lets them go, and an idle
// server's memory does not grow with its data file.
type filePages interface {
	ReleaseFilePages() error
}

// manageMemory applies the memory policy until ctx ends, then puts GOGC
// back as it found it. files may be nil, for a store that maps no file.
// tuneHeap sets GOGC from the live heap (heapTuner); it is off when the
// operator tunes the runtime (operatorTunesMemory).
func manageMemory(ctx context.Context, logger *slog.Logger, files filePages, tuneHeap bool) {
	if tuneHeap {
		tuner := startHeapTuner(heapFloor)
		defer tuner.stop()
	}
	// The first trim is at once: start-up's garbage (templates parsed, the
	// demo admin's password hashed) goes before the first request. A forced
	// collection of a heap this small costs a millisecond.
	var trim trimmer
	trim.run(time.Now())
	tick := time.NewTicker(trimCheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if held, freed, ok := trim.check(now); ok {
				logger.Debug("gave memory back to the system", "held_bytes", held, "freed_bytes", freed)
			}
			if trim.quiet && files != nil {
				if err := files.ReleaseFilePages(); err != nil {
					// Not worth a warning every ten seconds: the pages
					// stay mapped, which costs memory, not correctness.
					logger.Warn("stopped letting go of the data file's pages while idle", "err", err)
					files = nil
				}
			}
		}
	}
}

// trimmer decides when to trim, from the runtime's own counters.
type trimmer struct {
	metrics   [3]metrics.Sample
	lastAlloc uint64    // bytes allocated so far, at the last check
	held      uint64    // bytes the runtime held right after the last trim
	trimmed   time.Time // when the last trim ran
	quiet     bool      // whether the last check's interval was quiet
}

// check trims if the policy says so, and reports the memory held before
// the trim, how much the trim freed, and whether it ran.
func (t *trimmer) check(now time.Time) (held, freed uint64, trimmed bool) {
	alloc, held := t.read()
	allocated := alloc - t.lastAlloc
	t.lastAlloc = alloc
	quiet := quietInterval(allocated)
	t.quiet = quiet
	if !shouldTrim(quiet, held, t.held, now.Sub(t.trimmed)) {
		return held, 0, false
	}
	t.run(now)
	freed = held - min(held, t.held)
	if !quiet {
		// What a trim under load leaves is what the load holds at that
		// moment, sign-ins in flight and all, not what an idle server
		// needs: measured against it, the idle server that follows could
		// keep the load's memory until the next minute. So the first quiet
		// check after it trims whatever it finds.
		t.held = 0
	}
	return held, freed, true
}

// quietInterval says whether a check interval that allocated this much
// was quiet.
func quietInterval(allocated uint64) bool { return allocated < quietAllocs }

// shouldTrim is the policy: trim once a check interval was quiet and the
// runtime holds noticeably more than the last trim left, or when the last
// trim is a minute old. A check may come late by a little, when the core is
// busy, so a minute is counted from the check it falls in.
func shouldTrim(quiet bool, held, heldAfterTrim uint64, sinceTrim time.Duration) bool {
	if sinceTrim >= trimAtLeastEvery-trimCheckEvery/2 {
		return true
	}
	return quiet && held > heldAfterTrim+trimSlack
}

func (t *trimmer) run(now time.Time) {
	// Two collections, not one: a sync.Pool keeps what it holds through
	// one collection (net/http pools each connection's buffers), and an
	// object with a finalizer is freed by the collection after the one
	// that finds it unreachable. On an idle server the first costs a
	// millisecond or two.
	runtime.GC()
	debug.FreeOSMemory()
	t.lastAlloc, t.held = t.read()
	t.trimmed = now
}

// read returns the bytes allocated since the start and the bytes of memory
// the runtime holds from the system, not counting what it has already
// given back: what the runtime controls of the resident set, at most.
func (t *trimmer) read() (alloc, held uint64) {
	t.metrics[0].Name = "/gc/heap/allocs:bytes"
	t.metrics[1].Name = "/memory/classes/total:bytes"
	t.metrics[2].Name = "/memory/classes/heap/released:bytes"
	metrics.Read(t.metrics[:])
	for _, m := range t.metrics {
		if m.Value.Kind() != metrics.KindUint64 {
			return 0, 0 // not in this runtime: nothing is ever trimmed but the minute's
		}
	}
	return t.metrics[0].Value.Uint64(), t.metrics[1].Value.Uint64() - t.metrics[2].Value.Uint64()
}

// operatorTunesMemory reports whether env, the environment the process
// started with, sets the runtime's own memory settings, which the runtime
// read at start.
func operatorTunesMemory(env map[string]string) bool {
	_, gogc := env["GOGC"]
	_, limit := env["GOMEMLIMIT"]
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
