package console

import "time"

// Edit forms carry the version of the record they were made from: its
// UpdatedAt, which every change of the record moves on. A save sends it
// back, and the service makes the change only if the record is still that
// version (tenant.ErrStale otherwise), so a form opened before someone
// else's change is refused, with the record as it is now, instead of
// silently undoing that change.

// versionField is the hidden input of an edit form that holds its version.
const versionField = "version"

// versionOf is the form value of a record's version.
func versionOf(updatedAt time.Time) string { return updatedAt.UTC().Format(time.RFC3339Nano) }

// formVersion is the version a posted form was made from. A form without
// one, or with one that is not a version, gives the zero time, which no
// stored record has: the save is refused as stale, and the person gets
// the record as it is now.
func formVersion(posted string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, posted)
	if err != nil {
		return time.Time{}
	}
	return t
}
