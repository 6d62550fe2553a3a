package bolt

import (
	"fmt"
	"strconv"

	"github.com/cognate-idp/cognate/tenant"
	bbolt "go.etcd.io/bbolt"
)

// The store's own records live in a top-level bucket beside the tenants'
// ("_" and "t/…"), under a name no tenant ID gives.
var (
	metaBucket = []byte("meta")
	// formatKey holds the file's tenant.DataFormat, in decimal.
	formatKey = []byte("data_format")
)

// NewerFormatError is a data file that a newer version of cognate wrote:
// its data format is higher than tenant.DataFormat, so this version could
// misread its records and, writing them back, damage them.
type NewerFormatError struct {
	// Format is the file's data format.
	Format int
}

func (e *NewerFormatError) Error() string {
	return fmt.Sprintf("it is in data format %d, which a newer version of cognate wrote; this version knows data formats up to %d",
		e.Format, tenant.DataFormat)
}

// checkFormat refuses a file of a newer data format with a
// *NewerFormatError, before anything is written to it, and records this
// build's format in a file of an older one: a new file, or one that a
// version from before format versions wrote. A file already of this
// build's format is not written to.
func checkFormat(db *bbolt.DB) error {
	var stored int
	err := db.View(func(btx *bbolt.Tx) error {
		var err error
		stored, err = storedFormat(btx)
		return err
	})
	switch {
	case err != nil:
		return err
	case stored > tenant.DataFormat:
		return &NewerFormatError{Format: stored}
	case stored == tenant.DataFormat:
		return nil
	}
	return db.Update(func(btx *bbolt.Tx) error {
		b, err := btx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return fmt.Errorf("record the data format: %w", err)
		}
		return b.Put(formatKey, []byte(strconv.Itoa(tenant.DataFormat)))
	})
}

// storedFormat is the data format recorded in the file; 0 when there is
// none.
func storedFormat(btx *bbolt.Tx) (int, error) {
	b := btx.Bucket(metaBucket)
	if b == nil {
		return 0, nil
	}
	v := b.Get(formatKey)
	if v == nil {
		return 0, nil
	}
	format, err := strconv.Atoi(string(v))
	if err != nil || format < 1 {
		return 0, damaged("it is damaged: its data format is recorded as %q, which is not a format version", v)
	}
	return format, nil
}
