package console

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
)

// Edit forms carry the version of what they show, so that a form saved from
// an old copy of the page (a tab left open while another administrator, or
// the same one in another tab, changed the record) is refused instead of
// putting back every value the old page showed: a disabled user enabled
// again, a group membership undone, a policy set back.
//
// A version is a digest of the values the form shows, taken when the page
// is made and again when it is saved, not the record's UpdatedAt: a user's
// UpdatedAt moves at every sign-in, which is no reason to refuse an edit,
// and not at every change a form shows (the first sign-in ends "invited"
// without it). A form whose version is not the record's now is refused
// with 409 and shown again with the record as it is now, the values that
// were sent and differ from it listed beside the problem, so nothing typed
// is lost and nothing is saved unseen.
//
// A form puts formVersion(shown) in the hidden field versionField, where
// shown is what the page shows of the record (a plain struct, the same
// function of the record on both sides); its save handler reads the record,
// refuses when staleForm, and otherwise compares the posted values with the
// record's to send only what the administrator changed, with the same test
// as the change's IfUnchanged: the service makes it again in the save's
// transaction, so a change between the read and the save is caught too
// (tenant.ErrStale), and answered as a stale form.

// versionField is the hidden field of an edit form that holds its version.
const versionField = "version"

// formVersion is the version of a form that shows shown: a digest of its
// JSON, whose maps are written in key order. shown is plain data; one that
// JSON cannot encode is a fault of the form's code, which any test of it
// finds.
func formVersion(shown any) string {
	raw, err := json.Marshal(shown)
	if err != nil {
		panic(fmt.Sprintf("console: a form's version of %T: %v", shown, err))
	}
	sum := sha256.Sum256(raw)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// staleForm reports whether the posted form f was made from other values
// than shown, what the form would show of the record now. A form without
// a version (a page of an older Cognate, a hand-made post) is stale too.
func staleForm(f url.Values, shown any) bool {
	return f.Get(versionField) != formVersion(shown)
}

// unsaved is a field of a refused stale form: what was sent, and what the
// record holds now. The layout lists them under the problem.
type unsaved struct {
	Label, Sent, Now string
}

// refuseStale sets the problem of a page that shows a stale form again,
// with the record as it is now: key is the form's sentence ("this user was
// changed by someone else…"), fields the form's values as sent and as they
// are now, of which those that differ are listed.
func (f *frame) refuseStale(key string, fields []unsaved) {
	f.Problem = f.T(key)
	f.Unsaved = nil
	for _, field := range fields {
		if field.Sent != field.Now {
			f.Unsaved = append(f.Unsaved, unsaved{Label: field.Label, Sent: f.shownValue(field.Sent), Now: f.shownValue(field.Now)})
		}
	}
}

// shownValue is a value as the unsaved list shows it: an empty one is
// named, so that a removed value does not read as nothing at all.
func (f *frame) shownValue(s string) string {
	if s == "" {
		return f.T("conflict.empty")
	}
	return s
}

// onOff is a switch or box as the unsaved list shows it.
func (f *frame) onOff(on bool) string {
	if on {
		return f.T("conflict.on")
	}
	return f.T("conflict.off")
}
