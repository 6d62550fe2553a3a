// Package bolt stores Cognate's records in one bbolt file: the default for
// development and for single-server sites.
//
// Layout: a top-level bucket per tenant (the empty tenant ID is named "_"),
// holding a bucket per collection, and the bucket "meta" for the store's
// own records: the file's data format (format.go). Deleting a tenant is
// one DeleteBucket. This package knows the tenant.Tx contract and nothing of the domain.
package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Store is a tenant.Store over a bbolt file.
type Store struct {
	db    *bbolt.DB
	later laterQueue
}

var _ tenant.Store = (*Store)(nil)

// Open opens (or creates) the database file at path. A second process that
// opens the same file fails after a second instead of hanging, because bbolt
// takes an exclusive lock. A truncated or damaged file is refused with a
// *DamagedError, and one that a newer version of cognate wrote with a
// *NewerFormatError, before anything is written to it (check.go,
// format.go). A file of an older format, or a new one, is marked with
// this build's (tenant.DataFormat).
func Open(path string) (*Store, error) {
	if err := checkFile(path); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db, err := openChecked(path, &bbolt.Options{
		Timeout:      time.Second,
		FreelistType: bbolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := checkTree(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := checkFormat(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Grouped commits: requests that write at the same moment share one fsync.
	db.MaxBatchDelay = 2 * time.Millisecond
	return &Store{db: db}, nil
}

// Close commits what Later queued and closes the file. A write queued
// once Close has begun is refused (its failed is called), since it could
// never commit.
func (s *Store) Close() error {
	s.later.close()
	flushErr := s.Flush(context.Background())
	return errors.Join(flushErr, s.db.Close())
}

// DB exposes the bbolt handle, for tests that look at the file as bbolt
// sees it. An online backup is Backup (backup.go).
func (s *Store) DB() *bbolt.DB { return s.db }

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(tenant.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(btx *bbolt.Tx) error { return fn(&tx{btx: btx}) })
}

// Update runs fn in a read-write transaction that commits when fn returns
// nil. The writes Later queued run first, in the same transaction, so they
// share its commit.
func (s *Store) Update(ctx context.Context, fn func(tenant.Tx) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		dropped, err := s.update(fn)
		if dropped == nil {
			return err
		}
		// A queued write failed and took the transaction down with it.
		// It alone is dropped; the others went back to the head of the
		// queue, and the transaction runs again with them.
		dropped.failed(err)
	}
}

// update is one attempt of Update. When a queued write fails, it returns
// that write and its error, having put the other writes it took back at
// the head of the queue before the transaction ended: whichever writer
// comes next takes them, in their order, before anything queued since.
func (s *Store) update(fn func(tenant.Tx) error) (*laterWrite, error) {
	var queued []laterWrite
	var dropped *laterWrite
	took := false
	defer func() {
		if took {
			s.later.untake()
		}
	}()
	err := s.db.Update(func(btx *bbolt.Tx) error {
		t := &tx{btx: btx}
		// Taken under bbolt's one writer lock: whatever was queued before
		// this transaction began commits in it, or in an earlier one.
		queued = s.later.take()
		took = len(queued) > 0
		if i, err := runLater(t, queued); err != nil {
			w := queued[i]
			dropped = &w
			s.later.putBack(without(queued, i), s.flushLater)
			queued = nil
			return err
		}
		// If fn fails or panics, the queued writes go back to wait for the
		// next writer, which takes them, since this one still holds the lock.
		fnDone := false
		defer func() {
			if !fnDone {
				s.later.putBack(queued, s.flushLater)
				queued = nil
			}
		}()
		if err := fn(t); err != nil {
			return err
		}
		fnDone = true
		return nil
	})
	if dropped != nil {
		return dropped, err
	}
	if err != nil {
		for _, w := range queued { // fn succeeded, so the commit failed
			w.failed(err)
		}
	}
	return nil, err
}

// Later queues write for the next Update, or for flushLater after
// tenant.LaterDelay.
func (s *Store) Later(write func(tenant.Tx) error, failed func(error)) {
	if failed == nil {
		failed = func(error) {}
	}
	if err := s.later.add(laterWrite{write: write, failed: failed}, s.flushLater); err != nil {
		failed(err)
	}
}

// Flush commits what Later queued, if anything. Errors reach the writes'
// failed functions too. Writes an unfinished Update has taken count as
// queued: the Update that Flush runs waits for that one to end, and takes
// them if it gave them back.
func (s *Store) Flush(ctx context.Context) error {
	if !s.later.pending() {
		return nil
	}
	return s.Update(ctx, func(tenant.Tx) error { return nil })
}

// flushLater is Flush for the queue's timer; the writes' failed functions
// report what goes wrong.
func (s *Store) flushLater() { _ = s.Flush(context.Background()) }

// Batch is Update with bbolt's commit grouping; fn may run more than once.
func (s *Store) Batch(ctx context.Context, fn func(tenant.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Batch(func(btx *bbolt.Tx) error { return fn(&tx{btx: btx}) })
}

// tx adapts a bbolt transaction to tenant.Tx.
type tx struct {
	btx *bbolt.Tx
}

func tenantBucketName(tenantID string) []byte {
	if tenantID == "" {
		return []byte("_")
	}
	return []byte("t/" + tenantID)
}

// bucket finds a collection's bucket, creating it when create is set.
// A missing bucket in a read is simply an empty collection.
func (t *tx) bucket(c tenant.Collection, tenantID string, create bool) (*bbolt.Bucket, error) {
	name := tenantBucketName(tenantID)
	if !create {
		tb := t.btx.Bucket(name)
		if tb == nil {
			return nil, nil
		}
		return tb.Bucket([]byte(c)), nil
	}
	tb, err := t.btx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", name, err)
	}
	b, err := tb.CreateBucketIfNotExists([]byte(c))
	if err != nil {
		return nil, fmt.Errorf("bucket %s/%s: %w", name, c, err)
	}
	return b, nil
}

func (t *tx) Get(c tenant.Collection, tenantID, key string) ([]byte, error) {
	b, err := t.bucket(c, tenantID, false)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("%s %q: %w", c, key, tenant.ErrNotFound)
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, fmt.Errorf("%s %q: %w", c, key, tenant.ErrNotFound)
	}
	// bbolt's slices die with the transaction.
	return bytes.Clone(v), nil
}

func (t *tx) Put(c tenant.Collection, tenantID, key string, value []byte) error {
	if key == "" {
		return fmt.Errorf("%s: empty key: %w", c, tenant.ErrInvalid)
	}
	b, err := t.bucket(c, tenantID, true)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), bytes.Clone(value))
}

func (t *tx) Delete(c tenant.Collection, tenantID, key string) error {
	b, err := t.bucket(c, tenantID, false)
	if err != nil || b == nil {
		return err
	}
	if !t.btx.Writable() {
		return errors.New("delete in a read-only transaction")
	}
	return b.Delete([]byte(key))
}

func (t *tx) Scan(c tenant.Collection, tenantID, prefix, after string, visit func(string, []byte) bool) error {
	b, err := t.bucket(c, tenantID, false)
	if err != nil || b == nil {
		return err
	}
	cur := b.Cursor()
	p := []byte(prefix)
	start := p
	if after > prefix {
		start = []byte(after)
	}
	for k, v := cur.Seek(start); k != nil && bytes.HasPrefix(k, p); k, v = cur.Next() {
		if after != "" && string(k) <= after {
			continue
		}
		if !visit(string(k), bytes.Clone(v)) {
			return nil
		}
	}
	return nil
}

func (t *tx) DeleteTenant(tenantID string) error {
	if tenantID == "" {
		return fmt.Errorf("delete the global records: %w", tenant.ErrInvalid)
	}
	err := t.btx.DeleteBucket(tenantBucketName(tenantID))
	if errors.Is(err, berrors.ErrBucketNotFound) {
		return nil
	}
	return err
}
