package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// Backup writes a copy of the data file as it stands at one moment, while
// the store goes on serving. A copy of the file itself (cp) taken while the
// server writes is not one: its pages come from different commits, and
// bbolt refuses it. Backup reads every page in one read transaction, which
// sees one commit whatever is written meanwhile, and send writes it out:
// size is the copy's length in bytes, known before a byte is sent, and
// file writes the copy to a writer (bbolt's tx.WriteTo). What Later queued
// is committed first, so the copy holds every write made before Backup was
// called.
//
// While send runs, the transaction stays open: bbolt cannot reuse the
// pages that commits since have freed, so the file may grow by what is
// written meanwhile, and a commit that needs the file to grow past what is
// mapped waits for send to return (bbolt remaps the file only with no
// read transaction open). A slow reader of the copy holds writers that
// long; the copy is read as fast as its receiver takes it.
func (s *Store) Backup(ctx context.Context, send func(size int64, file io.WriterTo) error) error {
	if err := s.Flush(ctx); err != nil {
		return fmt.Errorf("backup: commit the queued writes: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(btx *bbolt.Tx) error { return send(btx.Size(), btx) })
}

// CheckCopy checks a copy of a data file (a backup) the way Open cannot
// afford to on every start: it reads every page of it (bbolt's tx.Check,
// see checkTree) and reports the first problems as a *DamagedError. It
// opens the file read-only and writes nothing to it; a missing file is an
// error, not a new database. Open's own checks come first, so a truncated
// file is refused before bbolt maps it.
func CheckCopy(path string) error {
	if err := checkFile(path); err != nil {
		return err
	}
	db, err := openChecked(path, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	return checkEveryPage(db)
}

// checkEveryPage runs bbolt's own consistency check over the whole file:
// every page reached once, the freelist and the tree agreeing, keys in
// order. It reports at most maxProblems of what it finds. Check walks the
// pages in a goroutine of its own, recovering its panics as problems;
// checkFile has made sure every page it can reach is in the file.
func checkEveryPage(db *bbolt.DB) error {
	const maxProblems = 5
	var problems []error
	err := db.View(func(btx *bbolt.Tx) error {
		// The channel must be drained for Check's goroutine to end.
		for p := range btx.Check() {
			if len(problems) < maxProblems {
				problems = append(problems, p)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return damaged("it is damaged: bbolt's check of every page found: %v", errors.Join(problems...))
	}
	return nil
}
