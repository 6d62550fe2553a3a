package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name        string
		live, floor uint64
		want        int
	}{
		{"nothing live yet", 0, 32 * mib, maxGCPercent},
		{"little live: five times the live heap, not the whole floor", 3 * mib, 32 * mib, maxGCPercent},
		{"the floor reached at four times the live heap", 8 * mib, 32 * mib, 300},
		{"half the floor live: Go's default", 16 * mib, 32 * mib, minGCPercent},
		{"more than the floor live: never more eager than Go's default", 200 * mib, 32 * mib, minGCPercent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gcPercentFor(tt.live, tt.floor); got != tt.want {
				t.Errorf("gcPercentFor(%d, %d) = %d, want %d", tt.live, tt.floor, got, tt.want)
			}
		})
	}
}

// TestHeapTunerFollowsTheLiveHeap runs the tuner in this process: after
// every collection, not only the first, GOGC must be what gcPercentFor says
// for the heap that collection found live; after stop it must be what it
// was before, and stay so.
func TestHeapTunerFollowsTheLiveHeap(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)

	// A floor three times what this test process has live, so that the
	// tuner has to work out a percent between the bounds.
	floor := 3 * readUint64(t, "/gc/heap/live:bytes")
	tuner := startHeapTuner(floor)
	runtime.GC()
	waitForTunedGOGC(t, floor)

	// Someone else's setting lasts only until the next collection.
	debug.SetGCPercent(150)
	runtime.GC()
	waitForTunedGOGC(t, floor)

	tuner.stop()
	if got := readUint64(t, "/gc/gogc:percent"); got != 100 {
		t.Fatalf("after stop GOGC is %d, want the 100 it started from", got)
	}
	runtime.GC()
	time.Sleep(50 * time.Millisecond) // a cleanup in flight would show by now
	if got := readUint64(t, "/gc/gogc:percent"); got != 100 {
		t.Fatalf("a collection after stop set GOGC to %d", got)
	}
}

func waitForTunedGOGC(t *testing.T, floor uint64) {
	t.Helper()
	var got, want int
	var live uint64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		live = readUint64(t, "/gc/heap/live:bytes")
		got, want = int(readUint64(t, "/gc/gogc:percent")), gcPercentFor(live, floor)
		if got == want {
			return
		}
	}
	t.Fatalf("GOGC is %d, want %d for %d bytes live and a floor of %d", got, want, live, floor)
}

func readUint64(t *testing.T, name string) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("runtime metric %s is not supported", name)
	}
	return s[0].Value.Uint64()
}

// operatorTunesMemory reads the environment the process started with, as
// run was given it, not the process's as it is now.
func TestOperatorTunesMemory(t *testing.T) {
	t.Setenv("GOGC", "200") // set now, after start-up: not the operator's
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"neither set: the tuner runs", nil, false},
		{"an empty environment", map[string]string{}, false},
		{"GOGC set", map[string]string{"GOGC": "200"}, true},
		{"GOGC=off set", map[string]string{"GOGC": "off"}, true},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "512MiB"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := operatorTunesMemory(tt.env); got != tt.want {
				t.Errorf("operatorTunesMemory() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestShouldTrim(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name                string
		quiet               bool
		held, heldAfterTrim uint64
		sinceTrim           time.Duration
		want                bool
	}{
		{"quiet after a burst: memory goes back", true, 90 * mib, 8 * mib, 20 * time.Second, true},
		{"busy: not before the minute is up", false, 90 * mib, 8 * mib, 50 * time.Second, false},
		{"busy for a minute: once a minute whatever the load", false, 90 * mib, 8 * mib, time.Minute, true},
		{"the minute's check came a little late after a late one", false, 90 * mib, 8 * mib, time.Minute - 5*time.Millisecond, true},
		{"quiet, and nothing much to give back", true, 8*mib + mib/2, 8 * mib, 30 * time.Second, false},
		{"quiet, holding less than the last trim left", true, 7 * mib, 8 * mib, 30 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shouldTrim(tt.quiet, tt.held, tt.heldAfterTrim, tt.sinceTrim); got != tt.want {
				t.Errorf("shouldTrim(%v, %d, %d, %s) = %v, want %v", tt.quiet, tt.held, tt.heldAfterTrim, tt.sinceTrim, got, tt.want)
			}
		})
	}
}

func TestQuietInterval(t *testing.T) {
	const kib, mib = 1 << 10, 1 << 20
	tests := []struct {
		name      string
		allocated uint64
		want      bool
	}{
		{"health probes only", 300 * kib, true},
		{"a full sweep's few megabytes still count as quiet", 6 * mib, true},
		{"one sign-in's hash is load", 19 * mib, false},
		{"sign-ins", 400 * mib, false},
	}
	for _, tt := range tests {
		if got := quietInterval(tt.allocated); got != tt.want {
			t.Errorf("%s: quietInterval(%d) = %v, want %v", tt.name, tt.allocated, got, tt.want)
		}
	}
}

// TestTrimmerGivesMemoryBackOnceQuiet runs the trimmer on this process's
// own runtime: garbage allocated in one interval keeps it from trimming
// then; the next, quiet, interval trims and hands the garbage's memory
// back to the system.
func TestTrimmerGivesMemoryBackOnceQuiet(t *testing.T) {
	trim, start := startTrimmer(t)
	const garbage = 64 << 20
	runtime.KeepAlive(residentChunks(garbage))
	if _, _, trimmed := trim.check(start.Add(trimCheckEvery)); trimmed || trim.quiet {
		t.Fatalf("the interval that allocated 64 MiB counted as quiet (trimmed: %v)", trimmed)
	}
	held, freed, trimmed := trim.check(start.Add(2 * trimCheckEvery))
	if !trimmed || !trim.quiet {
		t.Fatalf("a quiet interval holding %d bytes did not trim", held)
	}
	if freed < garbage/2 {
		t.Errorf("the trim gave back %d bytes; the garbage alone was %d", freed, garbage)
	}
}

// TestTrimmerTrimsOnceQuietAfterATrimUnderLoad: the minute's trim can fall
// while a load holds memory (here 64 MiB still in use). When the load has
// gone, the first quiet check must give that memory back, though the
// runtime holds no more than right after the trim under load.
func TestTrimmerTrimsOnceQuietAfterATrimUnderLoad(t *testing.T) {
	trim, start := startTrimmer(t)
	const inFlight = 64 << 20
	chunks := residentChunks(inFlight)
	if _, _, trimmed := trim.check(start.Add(trimAtLeastEvery)); !trimmed {
		t.Fatal("no trim a minute after the last, under load")
	}
	runtime.KeepAlive(chunks) // from here on, what the load held is garbage

	held, freed, trimmed := trim.check(start.Add(trimAtLeastEvery + trimCheckEvery))
	if !trimmed {
		t.Fatalf("the first quiet check after a trim under load did not trim (%d bytes held)", held)
	}
	if freed < inFlight/2 {
		t.Errorf("the trim gave back %d bytes; the load alone held %d", freed, inFlight)
	}
}

// residentChunks allocates size bytes in chunks of 1 MiB, every page of
// them touched so that it is resident.
func residentChunks(size int) [][]byte {
	chunks := make([][]byte, size>>20)
	for i := range chunks {
		chunks[i] = make([]byte, 1<<20)
		for page := 0; page < len(chunks[i]); page += 4096 {
			chunks[i][page] = 1
		}
	}
	return chunks
}

// TestTrimFreesWhatAPoolHeld: what a sync.Pool holds survives one
// collection; a trim must give it back all the same.
func TestTrimFreesWhatAPoolHeld(t *testing.T) {
	trim, start := startTrimmer(t)
	const pooled = 32 << 20
	var pool sync.Pool
	chunks := residentChunks(pooled)
	pool.Put(&chunks)
	_, before := trim.read()
	trim.run(start.Add(trimCheckEvery))
	if freed := before - min(before, trim.held); freed < pooled/2 {
		t.Errorf("the trim gave back %d bytes; the pool alone held %d", freed, pooled)
	}
	runtime.KeepAlive(&pool)
}

// startTrimmer returns a trimmer that has just trimmed, and when. Until the
// test ends, nothing but the trimmer's own trims collects garbage.
func startTrimmer(t *testing.T) (*trimmer, time.Time) {
	before := debug.SetGCPercent(-1)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	start := time.Now()
	trim := &trimmer{}
	trim.run(start)
	return trim, start
}
