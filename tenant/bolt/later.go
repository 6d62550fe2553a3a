package bolt

import (
	"sync"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// laterWrite is one write queued with Store.Later.
type laterWrite struct {
	write  func(tenant.Tx) error
	failed func(error)
}

// runLater runs queued writes in order inside t; the first error stops it.
func runLater(t tenant.Tx, writes []laterWrite) error {
	for _, w := range writes {
		if err := w.write(t); err != nil {
			return err
		}
	}
	return nil
}

// laterQueue holds the writes Store.Later queued, in order, and the timer
// that commits them when no Update comes first.
type laterQueue struct {
	mu     sync.Mutex
	writes []laterWrite
	timer  *time.Timer
}

// add queues w and, when the queue was empty, arms flush.
func (q *laterQueue) add(w laterWrite, flush func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.writes = append(q.writes, w)
	if q.timer == nil {
		q.timer = time.AfterFunc(tenant.LaterDelay, flush)
	}
}

// take empties the queue and disarms its timer: the caller commits what it
// took. A timer that fires anyway finds nothing to do.
func (q *laterQueue) take() []laterWrite {
	q.mu.Lock()
	defer q.mu.Unlock()
	writes := q.writes
	q.writes = nil
	if q.timer != nil {
		q.timer.Stop()
		q.timer = nil
	}
	return writes
}

// putBack returns writes a failed transaction took, ahead of any queued
// since, and arms flush again.
func (q *laterQueue) putBack(writes []laterWrite, flush func()) {
	if len(writes) == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.writes = append(writes, q.writes...)
	if q.timer == nil {
		q.timer = time.AfterFunc(tenant.LaterDelay, flush)
	}
}

// pending reports whether anything is queued.
func (q *laterQueue) pending() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.writes) > 0
}
