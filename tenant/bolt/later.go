package bolt

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	berrors "go.etcd.io/bbolt/errors"
)

// laterWrite is one write queued with Store.Later.
type laterWrite struct {
	write  func(tenant.Tx) error
	failed func(error)
}

// runLater runs queued writes in order inside t. When one fails it returns
// its index and error: the caller drops that write alone. A write that
// panics fails likewise: it belongs to a request that has moved on, and
// its panic would otherwise take down whichever request's transaction
// carried it, and lose every write queued with it.
func runLater(t tenant.Tx, writes []laterWrite) (failed int, err error) {
	failed = -1
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("queued write panicked: %v", r)
		}
	}()
	for i, w := range writes {
		failed = i
		if err := w.write(t); err != nil {
			return i, err
		}
	}
	return -1, nil
}

// without returns writes less the one at i, in a new slice: the old one's
// elements may still be read by the caller.
func without(writes []laterWrite, i int) []laterWrite {
	return slices.Concat(writes[:i], writes[i+1:])
}

// laterQueue holds the writes Store.Later queued, in order, and the timer
// that commits them when no Update comes first.
type laterQueue struct {
	mu     sync.Mutex
	writes []laterWrite
	timer  *time.Timer
	// taken counts transactions that hold writes they took and have not
	// yet committed or put back. Their writes are in neither the queue nor
	// the file, so a Flush (or Close) must wait for them as well.
	taken int
	// closed is set by Close: what is queued after it could never commit.
	closed bool
}

// add queues w and, when the queue was empty, arms flush. After close it
// queues nothing and returns an error for w's failed.
func (q *laterQueue) add(w laterWrite, flush func()) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("queue a write: %w", berrors.ErrDatabaseNotOpen)
	}
	q.writes = append(q.writes, w)
	if q.timer == nil {
		q.timer = time.AfterFunc(tenant.LaterDelay, flush)
	}
	return nil
}

// take empties the queue and disarms its timer: the caller commits what it
// took, or puts it back, and then calls untake. A timer that fires anyway
// finds nothing to do.
func (q *laterQueue) take() []laterWrite {
	q.mu.Lock()
	defer q.mu.Unlock()
	writes := q.writes
	q.writes = nil
	if q.timer != nil {
		q.timer.Stop()
		q.timer = nil
	}
	if len(writes) > 0 {
		q.taken++
	}
	return writes
}

// untake ends what take began, once the writes it took are committed,
// dropped or put back.
func (q *laterQueue) untake() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.taken--
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

// pending reports whether anything is queued or held by a transaction that
// has not finished.
func (q *laterQueue) pending() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.writes) > 0 || q.taken > 0
}

// close refuses writes from now on.
func (q *laterQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
}
