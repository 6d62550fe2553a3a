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
	"unicode/utf8"

	"github.com/cognate-idp/cognate/tenant"
)

// Cognito's CSV layout (COGNITO.md §1.2) is not RFC 4180: values are never
// quoted, a comma inside a value is written \, and every line is one user.
// So the file is read line by line and split by hand; encoding/csv would
// treat a quote in a value as the start of a quoted field.

// maxRowChars is Cognito's limit on a line.
const maxRowChars = 16000

// readBufferSize bounds what is held of one line: 16,000 characters are at
// most 64,000 bytes of UTF-8, so a line that does not fit is too long
// whatever it holds, and is skipped without being read into memory.
const readBufferSize = 80 << 10

// bom is the UTF-8 byte order mark some spreadsheet programs write.
const bom = "\xef\xbb\xbf"

// errNoLineBreak is readLine's word that the line it returns is the last
// and has no line ending: the file may have been cut in the middle of it.
var errNoLineBreak = errors.New("the last line has no line ending")

// columnKind says how a column's values are read.
type columnKind int

const (
	colAttribute    columnKind = iota // a string, kept as it is
	colUsername                       // cognito:username
	colMFAEnabled                     // cognito:mfa_enabled
	colPasswordHash                   // cognate:password_hash
	colBool                           // email_verified, phone_number_verified
	colBirthdate                      // mm/dd/yyyy
	colEpoch                          // updated_at, seconds since 1970
)

type column struct {
	name string
	kind columnKind
}

// CSVReader reads a user import CSV in the layout of Cognito's GetCSVHeader.
// Build it with NewCSVReader.
type CSVReader struct {
	r        *bufio.Reader
	columns  []column
	line     int      // number of the line read last
	values   []string // reused for each row's values
	warnings []Reason
}

var _ Reader = (*CSVReader)(nil)

// NewCSVReader reads the header row of r and checks it: every column a
// Cognito attribute, custom:<name>, or one of cognito:username,
// cognito:mfa_enabled and cognate:password_hash; the two cognito: columns
// and email_verified or phone_number_verified present; no column twice. A
// header that fails is a *FileError, and nothing has been imported.
//
// A leading byte order mark, which Cognito refuses, is skipped with a
// warning (see Warnings): spreadsheet programs add it when saving as "CSV
// UTF-8", and refusing the whole file for it would help nobody. A file in
// UTF-16 or UTF-32 is refused as such (CodeFileEncoding).
//
// Every line, the last one too, must end in a line break; see Next.
func NewCSVReader(r io.Reader) (*CSVReader, error) {
	c := &CSVReader{r: bufio.NewReaderSize(r, readBufferSize)}
	if head, _ := c.r.Peek(4); wideEncoding(head) != "" {
		return nil, &FileError{Reason: reason(CodeFileEncoding, wideEncoding(head))}
	}
	header, tooLong, err := c.readLine()
	unterminated := errors.Is(err, errNoLineBreak)
	switch {
	case errors.Is(err, io.EOF):
		return nil, &FileError{Reason: reason(CodeCSVEmpty)}
	case err != nil && !unterminated:
		return nil, err
	case tooLong:
		return nil, &FileError{Line: 1, Reason: reason(CodeCSVHeaderTooLong)}
	}
	if rest, found := bytes.CutPrefix(header, []byte(bom)); found {
		header = rest
		c.warnings = append(c.warnings, reason(CodeCSVByteOrderMark))
	}
	if !utf8.Valid(header) {
		return nil, &FileError{Line: 1, Reason: reason(CodeCSVHeaderNotUTF8)}
	}
	names := strings.Split(string(header), ",")
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	// The error is shown to whoever sent the file, and logged. A first
	// line that is not a header is usually a user's values (a file saved
	// without its header), which may hold a password or a hash: then no
	// cell is repeated, in the text or in the reasons' Args, and the
	// problem is said by column number.
	values := holdsValues(names)
	seen := make(map[string]int, len(names))
	var problems []Reason
	var valueColumns []int
	for i, name := range names {
		col, problem := headerColumn(name)
		num := strconv.Itoa(i + 1)
		switch {
		case problem == CodeCSVColumnUnknown && !values:
			problems = append(problems, reason(problem, num, name))
		case problem == CodeCSVColumnUnknown:
			valueColumns = append(valueColumns, i+1)
		case problem != "":
			problems = append(problems, reason(problem, num))
		default:
			// A Cognito column, so not a value: safe to name.
			if first, dup := seen[name]; dup {
				problems = append(problems, reason(CodeCSVColumnTwice, num, name, strconv.Itoa(first)))
			}
			seen[name] = i + 1
		}
		c.columns = append(c.columns, col)
	}
	if len(valueColumns) > 0 {
		problems = append(problems, valuesProblem(valueColumns))
	}
	for _, required := range []string{ColumnUsername, ColumnMFAEnabled} {
		if seen[required] == 0 {
			problems = append(problems, reason(CodeCSVColumnMissing, required))
		}
	}
	if seen["email_verified"] == 0 && seen["phone_number_verified"] == 0 {
		problems = append(problems, reason(CodeCSVNoVerifiedColumn))
	}
	if len(problems) > 0 {
		return nil, &FileError{Line: 1, Reason: reason(CodeCSVHeader), Details: problems}
	}
	if unterminated {
		// A header and nothing else; or a header, and the rest of the
		// file lost on the way.
		return nil, &FileError{Line: 1, Reason: reason(CodeCSVNoFinalLineBreak)}
	}
	c.values = make([]string, 0, len(c.columns))
	return c, nil
}

// headerColumn recognises a column name, or gives the code of why it is not
// one: a CodeCSVColumn… code, whose reason NewCSVReader makes. Only with
// CodeCSVColumnUnknown, a name that is none of Cognito's, may the reason
// quote the name, and NewCSVReader has it do so only when the name cannot
// be a user's value.
func headerColumn(name string) (column, string) {
	col := column{name: name}
	switch name {
	case "":
		return col, CodeCSVColumnNoName
	case ColumnUsername:
		col.kind = colUsername
	case ColumnMFAEnabled:
		col.kind = colMFAEnabled
	case ColumnPasswordHash:
		col.kind = colPasswordHash
	case "email_verified", "phone_number_verified":
		col.kind = colBool
	case "birthdate":
		col.kind = colBirthdate
	case "updated_at":
		col.kind = colEpoch
	case "email":
	case "sub":
		return col, CodeCSVColumnSub
	default:
		// The tenant's rule for attribute names, so that whatever is
		// imported can later be edited through the service.
		if err := tenant.ValidateAttributes(map[string]string{name: ""}); err != nil {
			if strings.HasPrefix(name, "custom:") {
				return col, CodeCSVColumnCustomName
			}
			return col, CodeCSVColumnUnknown
		}
	}
	return col, ""
}

// holdsValues reports whether a first line is a user's values rather than
// column names: it has a cell that no column name looks like (an address,
// a hash, a sentence), or a true or false, which every line of a Cognito
// CSV has (cognito:mfa_enabled) and no column is called.
func holdsValues(cells []string) bool {
	for _, cell := range cells {
		if _, problem := headerColumn(cell); problem == CodeCSVColumnUnknown && !looksLikeName(cell) {
			return true
		}
		if _, isBool := parseBool(cell); isBool {
			return true
		}
	}
	return false
}

// looksLikeName reports whether s could be a misspelt column name: at most
// 32 characters (the longest a custom attribute's may be), of the letters,
// '_', ':' and '-' that Cognito's names are made of. It is the test for
// repeating a cell in an error: digits are left out because passwords
// have them and names do not.
func looksLikeName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', b == '_', b == ':', b == '-':
		default:
			return false
		}
	}
	return true
}

// valuesProblem says that columns hold values, not names, by their
// numbers alone.
func valuesProblem(columns []int) Reason {
	nums := make([]string, len(columns))
	for i, n := range columns {
		nums[i] = strconv.Itoa(n)
	}
	if len(nums) == 1 {
		return reason(CodeCSVColumnValue, nums[0])
	}
	return reason(CodeCSVColumnValues, strings.Join(nums[:len(nums)-1], ", "), nums[len(nums)-1])
}

// Warnings says what was odd about the file as a whole but did not stop it.
func (c *CSVReader) Warnings() []Reason { return c.warnings }

// Next returns the user on the next line that is not blank.
//
// A last line without a line break stops the file with a *FileError
// (CodeCSVNoFinalLineBreak), and the line is not imported: it may have
// been cut, and a cut line can look whole. cognito:username is the last
// column of GetCSVHeader, so "anna" cut to "ann" would update user ann.
func (c *CSVReader) Next() (Record, error) {
	for {
		line, tooLong, err := c.readLine()
		if errors.Is(err, errNoLineBreak) {
			return Record{}, &FileError{Line: c.line, Reason: reason(CodeCSVNoFinalLineBreak)}
		}
		if err != nil {
			return Record{}, err
		}
		if tooLong {
			return Record{Line: c.line, Problems: []Reason{reason(CodeCSVLineTooLong)}}, nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue // a blank line holds no user; Cognito's own files end with one
		}
		return c.parse(line), nil
	}
}

// readLine returns the next line without its line ending. The slice is
// valid until the next read. A line longer than the buffer is skipped and
// reported as too long. A last line without a line ending is returned, and
// counted, with errNoLineBreak.
func (c *CSVReader) readLine() (line []byte, tooLong bool, err error) {
	line, err = c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = c.r.ReadSlice('\n')
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, fmt.Errorf("reading line %d: %w", c.line+1, err)
		}
		c.line++
		if err != nil {
			return nil, true, errNoLineBreak
		}
		return nil, true, nil
	}
	unterminated := errors.Is(err, io.EOF) && len(line) > 0
	if err != nil && !unterminated {
		if errors.Is(err, io.EOF) {
			return nil, false, io.EOF
		}
		return nil, false, fmt.Errorf("reading line %d: %w", c.line+1, err)
	}
	c.line++
	if unterminated {
		return bytes.TrimSuffix(line, []byte("\r")), false, errNoLineBreak
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, false, nil
}

// parse reads one row against the header and applies Cognito's rules for a
// row. Every problem of the line is reported, not just the first.
func (c *CSVReader) parse(line []byte) Record {
	rec := Record{Line: c.line}
	if !utf8.Valid(line) {
		rec.Problems = []Reason{reason(CodeCSVNotUTF8)}
		return rec
	}
	if n := utf8.RuneCount(line); n > maxRowChars {
		rec.Problems = []Reason{reason(CodeCSVLineLength, strconv.Itoa(n))}
		return rec
	}
	values, problem := splitRow(line, c.values[:0])
	c.values = values[:0]
	if problem != "" {
		rec.Problems = []Reason{reason(problem)}
		return rec
	}
	if len(values) != len(c.columns) {
		rec.Problems = []Reason{reason(CodeCSVValueCount, strconv.Itoa(len(values)), strconv.Itoa(len(c.columns)))}
		return rec
	}

	rec.Attributes = make(map[string]string, len(values))
	var problems []Reason
	for i, col := range c.columns {
		v := values[i]
		switch col.kind {
		case colUsername:
			rec.Username = v
			if v == "" {
				problems = append(problems, reason(CodeCSVUsernameEmpty))
			}
		case colMFAEnabled:
			b, ok := parseBool(v)
			if !ok {
				problems = append(problems, reason(CodeNotBoolean, col.name, v))
			}
			rec.MFAEnabled = &b
		case colPasswordHash:
			rec.PasswordHash = v
		case colBool:
			value, problem, bad := boolAttribute(col.name, v)
			if bad {
				problems = append(problems, problem)
			}
			rec.Attributes[col.name] = value
		case colBirthdate:
			if v == "" {
				rec.Attributes[col.name] = ""
				break
			}
			// Cognito's CSV writes mm/dd/yyyy; OpenID Connect's birthdate
			// claim, and Cognito's attribute, is YYYY-MM-DD.
			d, err := time.Parse("01/02/2006", v)
			if err != nil {
				problems = append(problems, reason(CodeCSVBirthdate, v))
				break
			}
			rec.Attributes[col.name] = d.Format(time.DateOnly)
		case colEpoch:
			if v != "" && !isEpoch(v) {
				problems = append(problems, reason(CodeCSVEpoch, col.name, v))
			}
			rec.Attributes[col.name] = v
		default:
			rec.Attributes[col.name] = v
		}
	}

	// Cognito's own row rules: someone the pool can reach, at an address
	// the row gives.
	emailVerified := rec.Attributes["email_verified"] == "true"
	phoneVerified := rec.Attributes["phone_number_verified"] == "true"
	if !emailVerified && !phoneVerified {
		problems = append(problems, reason(CodeCSVNoVerifiedContact))
	}
	if emailVerified && rec.Attributes["email"] == "" {
		problems = append(problems, reason(CodeCSVEmailVerifiedEmpty))
	}
	if phoneVerified && rec.Attributes["phone_number"] == "" {
		problems = append(problems, reason(CodeCSVPhoneVerifiedEmpty))
	}
	rec.Problems = problems
	return rec
}

// splitRow splits a row at the commas that are not escaped, undoes the
// escapes \, and \\, and trims each value; problem is the code of what
// is wrong with the row, or "". A backslash before anything else
// is kept as it is, so that "C:\temp" survives a file written without
// escapes; a backslash at the very end escapes nothing and most likely
// means the line was cut, so it is an error.
func splitRow(line []byte, values []string) (_ []string, problem string) {
	start, escaped := 0, false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			if i == len(line)-1 {
				return nil, CodeCSVTrailingBackslash
			}
			// Skip the escaped byte: it cannot split the value. (A byte of
			// a multi-byte character is never ',' or '\\' in UTF-8.)
			escaped = true
			i++
		case ',':
			values = append(values, unescape(line[start:i], escaped))
			start, escaped = i+1, false
		}
	}
	return append(values, unescape(line[start:], escaped)), ""
}

func unescape(raw []byte, escaped bool) string {
	if !escaped {
		return string(bytes.TrimSpace(raw))
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) && (raw[i+1] == ',' || raw[i+1] == '\\') {
			i++
		}
		b.WriteByte(raw[i])
	}
	return strings.TrimSpace(b.String())
}

// parseBool reads Cognito's booleans: true or false in any case.
func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// isEpoch reports whether s is seconds since 1970 as Cognito writes them:
// digits only, and a number that fits in an int64, as time.Unix takes it.
func isEpoch(s string) bool {
	if !isDigits(s) {
		return false
	}
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

func isDigits(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
