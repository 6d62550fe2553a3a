package cognitoimport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// ErrMalformed means a file cannot be read as the format it claims to be:
// no header row, not JSON, or JSON of another shape. Errors wrapping it are
// *FileError values that say where.
var ErrMalformed = errors.New("cognitoimport: malformed file")

// FileError is a problem with the file as a whole, as opposed to one line of
// it. Callers show its Reason and Details to the person who sent the file,
// in that person's language (Problem is their English); Line says how far
// reading got.
type FileError struct {
	// Line is the CSV line or the JSON record index at which reading
	// stopped; 0 means the problem is at the very start (a header, the
	// first token).
	Line int
	// Reason is what is wrong with the file.
	Reason Reason
	// Details, when there are any, are the parts of Reason, each said on
	// its own: every problem of a CSV header row that is not Cognito's
	// (CodeCSVHeader).
	Details []Reason
}

// Problem is the English of the file's problem: Reason, then its Details
// after a colon.
func (e *FileError) Problem() string {
	if len(e.Details) == 0 {
		return e.Reason.String()
	}
	return e.Reason.String() + ": " + reasonsText(e.Details)
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: at %d: %s", ErrMalformed, e.Line, e.Problem())
	}
	return fmt.Sprintf("%s: %s", ErrMalformed, e.Problem())
}

func (e *FileError) Unwrap() error { return ErrMalformed }

// wideEncoding names the encoding of a file that starts with head when it
// is UTF-16 or UTF-32 instead of UTF-8 ("" when it is not): by its byte
// order mark, or by the NUL bytes that such text of ASCII characters, as
// both formats start with, has in every other byte or three bytes of four.
// Windows PowerShell's > writes UTF-16. Read as UTF-8, such a file is
// "not valid JSON at line 1" or a header that is not Cognito's, which says
// nothing of what to do.
func wideEncoding(head []byte) string {
	zero := func(i int) bool { return head[i] == 0 }
	switch {
	case bytes.HasPrefix(head, []byte{0xff, 0xfe, 0, 0}), bytes.HasPrefix(head, []byte{0, 0, 0xfe, 0xff}):
		return "UTF-32"
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}), bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return "UTF-16"
	case len(head) < 4:
		return ""
	case zero(0) && zero(1) && zero(2) && !zero(3), !zero(0) && zero(1) && zero(2) && zero(3):
		return "UTF-32"
	case zero(0) && !zero(1) && zero(2) && !zero(3), !zero(0) && zero(1) && !zero(2) && zero(3):
		return "UTF-16"
	}
	return ""
}

// Names that are not Cognito attributes but carry import data.
const (
	// ColumnUsername and ColumnMFAEnabled are Cognito's required CSV
	// columns.
	ColumnUsername   = "cognito:username"
	ColumnMFAEnabled = "cognito:mfa_enabled"
	// ColumnPasswordHash is Cognate's own optional column (or, in JSON,
	// attribute) holding a password hash that tenant/password verifies.
	ColumnPasswordHash = "cognate:password_hash"
	// AttrMFAReenroll is set to "true" on users who had MFA in Cognito
	// (see tenant.AttrMFAReenroll: their next sign-in asks them to enrol).
	AttrMFAReenroll = tenant.AttrMFAReenroll
)

// Reader yields the users of an export one at a time.
type Reader interface {
	// Next returns the next record, or io.EOF after the last one. A line
	// that cannot be read as a user is a Record with Problems set: it fails
	// alone and reading goes on. An error other than io.EOF means the file
	// cannot be read any further; it wraps ErrMalformed when the file is
	// at fault and is a read error otherwise.
	Next() (Record, error)
}

// warner is a Reader that has something to say about the file as a whole,
// such as a byte order mark it skipped.
type warner interface {
	Warnings() []Reason
}

// Record is one user as the file states it. Fields the file does not speak
// about are left zero or nil, so that a re-import changes only what the
// file says.
type Record struct {
	// Line is the CSV line number (the header is line 1) or, for JSON,
	// the 1-based index of the user in the file; a JSON user that carries
	// cognate:line (WriteJSON) has that line, of the file it was split
	// from.
	Line int
	// Problems, when there are any, are why this line cannot be imported
	// (Problem is their English, for the person who sent the file). The
	// other fields may then be partial.
	Problems []Reason

	Username string
	// Sub is Cognito's sub attribute; only JSON exports carry it. Empty
	// means the user is matched by username and, if new, gets a new sub.
	Sub string
	// Attributes are the attributes the file states, including email and
	// email_verified. An empty value means the file says the attribute is
	// absent (an empty CSV cell), which removes it on re-import.
	Attributes map[string]string
	// Status is Cognito's UserStatus; empty for CSV, which has none.
	Status tenant.UserStatus
	// Enabled is nil when the file does not say (CSV).
	Enabled *bool
	// MFAEnabled is nil when the file does not say (a ListUsers dump,
	// which does not show TOTP enrolment).
	MFAEnabled *bool
	// Groups are the user's groups when GroupsKnown; otherwise the file
	// says nothing about groups and the user keeps the ones it has.
	Groups      []GroupRef
	GroupsKnown bool
	// PasswordHash is the cognate:password_hash column or attribute.
	PasswordHash string
	// CreatedAt is Cognito's UserCreateDate; zero for CSV (Cognito's own
	// importer sets the import time).
	CreatedAt time.Time
	// Notes are things worth telling about a line that imports fine, such
	// as an attribute that cannot come over.
	Notes []Reason
}

// Problem is the English of the record's problems, or "" when it has none.
func (r Record) Problem() string { return reasonsText(r.Problems) }

// GroupRef is a group a user belongs to, with what Cognito's GroupType says
// of it; Description and Precedence are used when the group is created.
type GroupRef struct {
	Name        string
	Description string
	Precedence  *int
}

// Format is the kind of file a Reader reads.
type Format string

// The formats NewReader knows.
const (
	FormatCSV  Format = "csv"
	FormatJSON Format = "json"
)

// ParseFormat reads a format name as an operator types it.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatCSV, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("%w: format %q: want csv or json", tenant.ErrInvalid, s)
}

// NewReader returns the Reader for format f. It reads the start of r (the
// CSV header, the first JSON token) and fails with a *FileError if that is
// not the format's.
func NewReader(r io.Reader, f Format) (Reader, error) {
	switch f {
	case FormatCSV:
		return NewCSVReader(r)
	case FormatJSON:
		return NewJSONReader(r)
	}
	return nil, fmt.Errorf("%w: format %q: want csv or json", tenant.ErrInvalid, f)
}

// sniffBytes is how much of a file FormatOf reads to tell its format: any
// white space before a JSON dump's first bracket is far shorter.
const sniffBytes = 512

// FormatOf tells the format of a file by its content, for a front end
// that has no format named (the console's upload): JSON when its first
// character, after a byte order mark and white space, opens an array or
// an object, which no Cognito CSV header does; else CSV, whose reader
// then says what is wrong with a file that is neither. It only peeks: br
// still holds the whole file.
func FormatOf(br *bufio.Reader) Format {
	head, _ := br.Peek(sniffBytes) // a shorter file gives what it has
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte(bom)), " \t\r\n")
	if len(head) > 0 && (head[0] == '[' || head[0] == '{') {
		return FormatJSON
	}
	return FormatCSV
}

// boolAttribute reads a boolean attribute (email_verified,
// phone_number_verified) as both formats write it: empty says the
// attribute is absent, and stays empty; otherwise true or false in any
// case, kept as "true" or "false". bad is set for any other value, which
// problem then names.
func boolAttribute(name, v string) (value string, problem Reason, bad bool) {
	if v == "" {
		return "", Reason{}, false
	}
	b, ok := parseBool(v)
	if !ok {
		return "", reason(CodeNotBoolean, name, v), true
	}
	return strconv.FormatBool(b), Reason{}, false
}
