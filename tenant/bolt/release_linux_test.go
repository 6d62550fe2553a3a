package bolt_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// Pages read through the map leave the process's resident set when
// released, and reading them again gives back what was written.
func TestReleaseFilePagesDropsThemFromTheResidentSet(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cognate.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const records, size = 1000, 4096 // 4 MB of values, one page or more each
	value := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, size) }
	err = s.Update(ctx, func(tx tenant.Tx) error {
		for i := range records {
			if err := tx.Put(tenant.CollSessions, "acme", fmt.Sprintf("s%04d", i), value(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	readAll := func() {
		t.Helper()
		n := 0
		err := s.View(ctx, func(tx tenant.Tx) error {
			return tx.Scan(tenant.CollSessions, "acme", "", "", func(key string, got []byte) bool {
				i, _ := strconv.Atoi(strings.TrimPrefix(key, "s"))
				if !bytes.Equal(got, value(i)) {
					t.Errorf("%s reads %q…, want %q…", key, got[:8], value(i)[:8])
				}
				n++
				return true
			})
		})
		if err != nil || n != records {
			t.Fatalf("read %d of %d records: %v", n, records, err)
		}
	}

	readAll()
	before := mappedResident(t, path)
	if before < 3<<20 {
		t.Fatalf("after reading every record %d bytes of the file are resident; the test expects the map to hold the 4 MB it read", before)
	}
	if err := s.ReleaseFilePages(); err != nil {
		t.Fatal(err)
	}
	if after := mappedResident(t, path); after > 64<<10 {
		t.Errorf("after the release %d bytes of the file are still resident (%d before)", after, before)
	}
	readAll()
}

// mappedResident is the resident size of this process's maps of path,
// from /proc/self/smaps.
func mappedResident(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps to read the resident set from: %v", err)
	}
	defer f.Close()
	var total int64
	inMap, found := false, false
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-"):
			// A map's header: address range, permissions, offset, device, inode, path.
			inMap = len(fields) == 6 && fields[5] == path
			found = found || inMap
		case inMap && len(fields) == 3 && fields[0] == "Rss:":
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			total += kb << 10
		}
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("%s is not mapped in /proc/self/smaps", path)
	}
	return total
}
