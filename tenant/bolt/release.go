package bolt

import (
	"fmt"

	bbolt "go.etcd.io/bbolt"
)

// ReleaseFilePages drops the data file's pages from the server's memory
// map. bbolt reads the file through a shared read-only map, so every page a
// request or the minute's sweep has read stays in the process's resident
// set, and an idle server's resident memory would grow with its data file
// rather than with what it does. The pages stay in the kernel's page cache:
// the next read of one costs a minor fault, not a disk read. Nothing is
// lost; the map holds no writes (bbolt writes through the file).
//
// It holds a read transaction meanwhile, because bbolt replaces the map
// when the file grows and only waits for transactions to end before it
// does.
func (s *Store) ReleaseFilePages() error {
	err := s.db.View(func(btx *bbolt.Tx) error {
		return dropMappedPages(btx.DB().Info().Data, btx.Size())
	})
	if err != nil {
		return fmt.Errorf("release the data file's pages: %w", err)
	}
	return nil
}
