//go:build !linux

package bolt

// dropMappedPages does nothing here: only Linux is known to drop a shared
// file map's pages without changing what it reads (see release_linux.go).
func dropMappedPages(addr uintptr, size int64) error { return nil }
