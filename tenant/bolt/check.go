package bolt

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"runtime/debug"

	bbolt "go.etcd.io/bbolt"
)

// DamagedError is a data file that is not whole: truncated, or with a page
// overwritten. bbolt trusts its file: it maps it into memory and follows
// its page numbers, so a short file makes it read past the end of the map
// (a SIGBUS or SIGSEGV no recover catches) and a bad page makes it panic.
// Open looks before bbolt does, and returns this instead.
type DamagedError struct {
	// Problem says what is wrong, for the operator: "it is truncated:
	// it is 16384 bytes long, but …".
	Problem string
}

func (e *DamagedError) Error() string { return e.Problem }

func damaged(format string, args ...any) error {
	return &DamagedError{Problem: fmt.Sprintf(format, args...)}
}

// bbolt's file format (go.etcd.io/bbolt/internal/common, version 2): every
// page starts with a 16-byte header (id uint64, flags uint16, count
// uint16, overflow uint32); pages 0 and 1 are meta pages, whose header is
// followed by magic, version, page size, flags (uint32 each), the root
// bucket (root page, sequence: uint64 each), the freelist page, the high
// water mark (the number of pages in use), the transaction ID and an
// FNV-64a checksum of everything before it (uint64 each). Integers are in
// the machine's byte order, as bbolt writes them through unsafe pointers.
const (
	pageHeaderSize   = 16
	metaSize         = 64
	metaChecksummed  = 56 // the meta's bytes before its checksum
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	freelistPageFlag = 0x10
	noFreelist       = ^uint64(0)
)

// meta is the part of a meta page that checkFile needs.
type meta struct {
	magic, version, pageSize uint32
	root, freelist, pgid     uint64
	txid, checksum, sum      uint64
}

// parseMeta reads the meta of a meta page; a page too short to hold one
// gives a meta that is not valid.
func parseMeta(page []byte) meta {
	if len(page) < pageHeaderSize+metaSize {
		return meta{}
	}
	b := page[pageHeaderSize : pageHeaderSize+metaSize]
	e := binary.NativeEndian
	h := fnv.New64a()
	h.Write(b[:metaChecksummed])
	return meta{
		magic: e.Uint32(b[0:]), version: e.Uint32(b[4:]), pageSize: e.Uint32(b[8:]),
		root: e.Uint64(b[16:]), freelist: e.Uint64(b[32:]), pgid: e.Uint64(b[40:]),
		txid: e.Uint64(b[48:]), checksum: e.Uint64(b[56:]), sum: h.Sum64(),
	}
}

// valid is bbolt's own test of a meta page (common.Meta.Validate).
func (m meta) valid() bool {
	return m.magic == boltMagic && m.version == boltVersion && m.checksum == m.sum
}

// checkFile reads the file's header the way bbolt will, and says whether
// bbolt can map and load it without reading past its end or loading a
// freelist that is not one: the meta page bbolt will choose must be
// whole, the file must hold every page below its high water mark, and its
// freelist must be a freelist naming pages in the file. It writes nothing.
// A file it cannot read, a missing or an empty one, is left to bbolt,
// which creates the missing and the empty one and reports the others.
func checkFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() || info.Size() == 0 {
		return nil
	}
	size := info.Size()
	readAt := func(off int64, n int) []byte {
		buf := make([]byte, n)
		got, _ := f.ReadAt(buf, off)
		return buf[:got]
	}

	// The page size comes from the first valid meta page: page 0, else
	// page 1 wherever a page size would put it (bbolt's getPageSize).
	const metaPage = pageHeaderSize + metaSize
	first := parseMeta(readAt(0, metaPage))
	pageSize := int64(0)
	if first.valid() && first.pageSize >= 1024 {
		pageSize = int64(first.pageSize)
	} else {
		for i := range 15 {
			pos := int64(1024) << i
			if pos >= size-1024 {
				break
			}
			if m := parseMeta(readAt(pos, metaPage)); m.valid() && m.pageSize >= 1024 {
				pageSize = int64(m.pageSize)
				break
			}
		}
	}
	if pageSize == 0 {
		switch {
		case size < metaPage:
			return damaged("it is truncated: at %d bytes it is shorter than a database file's header", size)
		case first.magic != boltMagic:
			return damaged("it does not begin as a bbolt database file does: it is another kind of file, or it is damaged (its first page overwritten)")
		case first.version != boltVersion:
			return damaged("it is in bbolt's file format version %d; this cognate reads version %d", first.version, boltVersion)
		}
		return damaged("it is damaged: both of its header pages fail their checksum")
	}
	if size < 2*pageSize {
		return damaged("it is truncated: at %d bytes it is shorter than its two header pages of %d bytes", size, pageSize)
	}

	// bbolt uses the valid meta page with the higher transaction ID.
	m0, m1 := parseMeta(readAt(0, metaPage)), parseMeta(readAt(pageSize, metaPage))
	m := m0
	switch {
	case m0.valid() && m1.valid():
		if m1.txid > m0.txid {
			m = m1
		}
	case m1.valid():
		m = m1
	case !m0.valid():
		return damaged("it is damaged: both of its header pages fail their checksum")
	}

	pages := m.pgid
	if pages < 2 || pages > uint64(size) {
		return damaged("it is damaged: its header says it has %d pages, which cannot be", pages)
	}
	if uint64(size)/uint64(pageSize) < pages {
		return damaged("it is truncated: it is %d bytes long, but its header says its %d pages of %d bytes take %d bytes",
			size, pages, pageSize, pages*uint64(pageSize))
	}
	if m.root < 2 || m.root >= pages {
		return damaged("it is damaged: its header names page %d as the root of its tree, but it has pages 2 to %d", m.root, pages-1)
	}
	if m.freelist == noFreelist {
		return nil // bbolt rebuilds the freelist by walking the tree
	}
	if m.freelist < 2 || m.freelist >= pages {
		return damaged("it is damaged: its header names page %d as its list of free pages, but it has pages 2 to %d", m.freelist, pages-1)
	}
	return checkFreelist(readAt, m.freelist, pageSize, pages)
}

// checkFreelist checks the freelist page that bbolt loads on open: its
// header, and that every page it names is one of the file's own.
func checkFreelist(readAt func(off int64, n int) []byte, id uint64, pageSize int64, pages uint64) error {
	e := binary.NativeEndian
	header := readAt(int64(id)*pageSize, pageHeaderSize)
	if len(header) < pageHeaderSize || e.Uint64(header) != id || e.Uint16(header[8:]) != freelistPageFlag {
		return damaged("it is damaged: page %d, which its header names as its list of free pages, is not one (the page has been overwritten)", id)
	}
	overflow := uint64(e.Uint32(header[12:]))
	if id+overflow >= pages {
		return damaged("it is damaged: its list of free pages, at page %d, runs past its last page", id)
	}
	span := int64(1+overflow) * pageSize
	body := readAt(int64(id)*pageSize, int(span))
	count, skip := uint64(e.Uint16(header[10:])), uint64(0)
	if count == 0xFFFF && len(body) >= pageHeaderSize+8 {
		count, skip = e.Uint64(body[pageHeaderSize:]), 1
	}
	if count > uint64(span)/8 || pageHeaderSize+(skip+count)*8 > uint64(len(body)) {
		return damaged("it is damaged: its list of free pages, at page %d, says it holds more than fits in it", id)
	}
	for i := range count {
		free := e.Uint64(body[pageHeaderSize+(skip+i)*8:])
		if free < 2 || free >= pages {
			return damaged("it is damaged: its list of free pages names page %d, but it has pages 2 to %d", free, pages-1)
		}
	}
	return nil
}

// openChecked is bbolt.Open with its panics, and memory faults turned into
// panics, returned as a *DamagedError. checkFile has already refused the
// files that would make it fault; this is the net under it.
func openChecked(path string, options *bbolt.Options) (db *bbolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, damaged("it is damaged: bbolt could not load it (%v)", r)
		}
	}()
	return bbolt.Open(path, 0o600, options)
}

// checkTree reads the skeleton of the store's tree: every tenant's bucket,
// every collection's bucket in it, and the first and last record of each
// collection, which reads its root page and the pages down to its first
// and last leaf. These are the pages every start-up and nearly every
// request reads, so a damaged one is found here, with a plain message,
// before the server writes anything (dev mode's token files, the demo
// tenant). A damaged page elsewhere is found when a request reads it, and
// fails that request.
//
// Not bbolt's tx.Check, which reads every page: on a 1.3 GB file (10
// tenants, 3 collections of 100,000 records each) it took 2.2 to 3.9 s with
// the file in the page cache and 76 s from disk, on every start; this walk
// took 0.5 ms and 36 ms (2026-11-29). BenchmarkCheckTree and
// BenchmarkTxCheck compare the two on a smaller file.
func checkTree(db *bbolt.DB) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = damaged("it is damaged: a page of its tree has been overwritten or lost (bbolt: %v)", r)
		}
	}()
	return db.View(func(btx *bbolt.Tx) error {
		return btx.ForEach(func(name []byte, tb *bbolt.Bucket) error {
			if tb == nil {
				return nil
			}
			return tb.ForEachBucket(func(coll []byte) error {
				if b := tb.Bucket(coll); b != nil {
					c := b.Cursor()
					c.First()
					c.Last()
				}
				return nil
			})
		})
	})
}
