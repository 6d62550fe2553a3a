package bolt

import "golang.org/x/sys/unix"

// dropMappedPages tells the kernel that the first size bytes of the map at
// addr are not needed. For a shared file map, Linux unmaps those pages from
// the process and reads them back from the page cache on the next access,
// so the map's contents do not change. (On the BSDs and macOS the same
// advice is only a hint, which is why this is Linux only.)
func dropMappedPages(addr uintptr, size int64) error {
	if size <= 0 {
		return nil
	}
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, uintptr(size), unix.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}
