package cognitoimport

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cognate-idp/cognate/tenant"
)

// The JSON shapes accepted, in any mix and sequence (docs/import.md):
//
//	{"Users": [UserType, ...], "PaginationToken": "..."}   a ListUsers response
//	[{"Users": [...]}, {"Users": [...]}]                    an array of pages
//	{"Username": ..., "Attributes": [...]} per line         JSON lines of UserType
//	{"Username": ..., "UserAttributes": [...]}              AdminGetUser responses
//	[UserType, UserType, ...]                               an array of users
//
// The file is a sequence of JSON values (so JSON lines and concatenated
// dumps are the same thing to the decoder); each is an object or an array
// of objects, and each object is either a page, recognised by its Users
// member, or a user, recognised by Username. A page's Users array is
// streamed element by element, so one huge page costs no more memory than
// many small ones. An element of a page's Users, or of a top-level array,
// that is not an object fails alone, as a user of its own.

// frame is what the reader is inside of.
type frame int

const (
	inArray frame = iota // a top-level array of pages or users
	inPage               // a page object, after its Users array
	inUsers              // a page's Users array
)

// JSONReader reads JSON dumps of Cognito's ListUsers and AdminGetUser
// output. Build it with NewJSONReader.
type JSONReader struct {
	dec *json.Decoder
	// lines is what dec reads from, counted so that a syntax error can
	// be told as a line and column.
	lines *lineCounter
	stack []frame
	// pendingObject is set when NewJSONReader has read the '{' of a first
	// top-level object whose kind is not yet known.
	pendingObject bool
	index         int // users yielded so far
	element       int // elements of the current top-level array read so far
	err           error
	warnings      []Reason
}

var _ Reader = (*JSONReader)(nil)

// NewJSONReader reads the first token of r and fails with a *FileError
// unless it opens an object or an array. A file in UTF-16 or UTF-32 is
// refused as such (CodeFileEncoding).
func NewJSONReader(r io.Reader) (*JSONReader, error) {
	br := bufio.NewReader(r)
	j := &JSONReader{}
	head, _ := br.Peek(4)
	if enc := wideEncoding(head); enc != "" {
		return nil, &FileError{Reason: reason(CodeFileEncoding, enc)}
	}
	if bytes.HasPrefix(head, []byte(bom)) {
		_, _ = br.Discard(len(bom))
		j.warnings = append(j.warnings, reason(CodeJSONByteOrderMark))
	}
	j.lines = &lineCounter{r: br}
	j.dec = json.NewDecoder(j.lines)
	// Token reads a number as a float64 and fails, with no *FileError,
	// on one beyond its range (1e400): as a json.Number it is a number
	// like any other where a container belongs.
	j.dec.UseNumber()
	tok, err := j.dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil, &FileError{Reason: reason(CodeJSONEmpty)}
	case err != nil:
		return nil, j.fileError(err)
	}
	switch tok {
	case json.Delim('['):
		j.stack, j.element = append(j.stack, inArray), 0
	case json.Delim('{'):
		j.pendingObject = true
	default:
		return nil, &FileError{Reason: reason(CodeJSONFileNotContainer)}
	}
	return j, nil
}

// Warnings says what was odd about the file as a whole but did not stop it.
func (j *JSONReader) Warnings() []Reason { return j.warnings }

// Next returns the next user in the file.
func (j *JSONReader) Next() (Record, error) {
	if j.err != nil {
		return Record{}, j.err
	}
	j.lines.forget(j.dec.InputOffset())
	rec, err := j.next()
	if err != nil {
		j.err = err
	}
	return rec, err
}

func (j *JSONReader) next() (Record, error) {
	for {
		if j.pendingObject {
			j.pendingObject = false
			if rec, isUser, err := j.object(); err != nil || isUser {
				return rec, err
			}
			continue
		}
		if len(j.stack) == 0 {
			tok, err := j.dec.Token()
			if errors.Is(err, io.EOF) {
				return Record{}, io.EOF
			}
			if err != nil {
				return Record{}, j.fileError(err)
			}
			switch tok {
			case json.Delim('['):
				j.stack, j.element = append(j.stack, inArray), 0
			case json.Delim('{'):
				j.pendingObject = true
			default:
				return Record{}, &FileError{Line: j.index, Reason: reason(CodeJSONValueNotContainer)}
			}
			continue
		}

		// Whatever container the reader is in, its end closes it.
		if !j.dec.More() {
			if err := j.closing(); err != nil {
				return Record{}, err
			}
			continue
		}
		switch j.stack[len(j.stack)-1] {
		case inArray:
			tok, err := j.dec.Token()
			if err != nil {
				return Record{}, j.fileError(err)
			}
			j.element++
			if tok == json.Delim('{') {
				j.pendingObject = true
				continue
			}
			// Neither a page nor a user: it fails alone, as in a page.
			kind := tokenKind(tok)
			if tok == json.Delim('[') {
				if err := j.skipRest(); err != nil {
					return Record{}, err
				}
			}
			j.index++
			return Record{Line: j.index, Problems: []Reason{reason(CodeJSONElementNotObject, strconv.Itoa(j.element), kind)}}, nil

		case inUsers:
			var raw json.RawMessage
			if err := j.dec.Decode(&raw); err != nil {
				return Record{}, j.fileError(err)
			}
			j.index++
			return userRecord(raw, j.index)

		case inPage:
			tok, err := j.dec.Token()
			if err != nil {
				return Record{}, j.fileError(err)
			}
			if key, _ := tok.(string); strings.EqualFold(key, "Users") {
				return Record{}, &FileError{Line: j.index, Reason: reason(CodeJSONUsersTwice)}
			}
			if err := j.skipValue(); err != nil {
				return Record{}, err
			}
		}
	}
}

// object reads an object whose '{' has been read. A user is returned whole;
// for a page, the reader is left inside its Users array.
func (j *JSONReader) object() (rec Record, isUser bool, err error) {
	// The members are put back together as they came, so that the user
	// decodes exactly as one inside a page does.
	raw := []byte{'{'}
	hasUsername := false
	for j.dec.More() {
		tok, err := j.dec.Token()
		if err != nil {
			return Record{}, false, j.fileError(err)
		}
		key, _ := tok.(string)
		if strings.EqualFold(key, "Users") {
			if hasUsername {
				return Record{}, false, &FileError{Line: j.index, Reason: reason(CodeJSONUsernameAndUsers)}
			}
			return Record{}, false, j.openUsers()
		}
		hasUsername = hasUsername || strings.EqualFold(key, "Username")
		var value json.RawMessage
		if err := j.dec.Decode(&value); err != nil {
			return Record{}, false, j.fileError(err)
		}
		name, err := json.Marshal(key)
		if err != nil {
			return Record{}, false, err
		}
		if len(raw) > 1 {
			raw = append(raw, ',')
		}
		raw = append(append(append(raw, name...), ':'), value...)
	}
	if _, err := j.dec.Token(); err != nil { // the closing '}'
		return Record{}, false, j.fileError(err)
	}
	if !hasUsername {
		return Record{}, false, &FileError{Line: j.index, Reason: reason(CodeJSONNeitherPageNorUser)}
	}
	j.index++
	rec, err = userRecord(append(raw, '}'), j.index)
	return rec, err == nil, err
}

// userRecord reads one user, raw, the index-th of the file. A user that is
// not an object, or whose values are not what Cognito writes, is a Record
// with Problems: it fails alone. The Record then has the user's Username
// whenever the user has one, whatever else is wrong.
func userRecord(raw json.RawMessage, index int) (Record, error) {
	if len(raw) > 0 && raw[0] == '{' && !utf8.Valid(raw) {
		// encoding/json would read each bad byte as U+FFFD, and two
		// names that differ only there (jos\xe9, jos\xe8 in Latin-1)
		// as the same user.
		if problems := utf8Problems(raw); len(problems) > 0 {
			return Record{Line: index, Username: usernameOf(raw), Problems: problems}, nil
		}
	}
	var u userJSON
	if err := json.Unmarshal(raw, &u); err != nil {
		problems, ok := valueProblems(err)
		if !ok {
			return Record{}, err
		}
		return Record{Line: index, Username: usernameOf(raw), Problems: problems}, nil
	}
	return u.record(index), nil
}

// usernameOf is the Username of a user that could not be read whole, or ""
// when it has none that is a string.
func usernameOf(raw json.RawMessage) string {
	var u struct{ Username json.RawMessage }
	var name string
	if json.Unmarshal(raw, &u) != nil || json.Unmarshal(u.Username, &name) != nil {
		return ""
	}
	return name
}

// utf8Problems names the values of a user object that are not UTF-8: the
// member, or for Attributes and UserAttributes the attribute. Member names
// do not count: one that is not UTF-8 is no member Cognate reads, and is
// ignored as every unknown member is.
func utf8Problems(raw json.RawMessage) []Reason {
	var problems []Reason
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // '{'
		return nil
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return problems
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return problems
		}
		member, _ := tok.(string)
		if utf8.Valid(value) {
			continue
		}
		var attrs []struct{ Name, Value json.RawMessage }
		if !strings.EqualFold(member, "Attributes") && !strings.EqualFold(member, "UserAttributes") ||
			json.Unmarshal(value, &attrs) != nil {
			problems = append(problems, reason(CodeJSONNotUTF8, member))
			continue
		}
		for _, a := range attrs {
			var name string
			switch {
			case !utf8.Valid(a.Name) || json.Unmarshal(a.Name, &name) != nil:
				problems = append(problems, reason(CodeJSONNotUTF8, member))
			case !utf8.Valid(a.Value):
				problems = append(problems, reason(CodeJSONNotUTF8, name))
			}
		}
	}
	return problems
}

// openUsers enters a page's Users array; a null one is an empty page.
func (j *JSONReader) openUsers() error {
	tok, err := j.dec.Token()
	if err != nil {
		return j.fileError(err)
	}
	switch tok {
	case json.Delim('['):
		j.stack = append(j.stack, inPage, inUsers)
	case nil:
		j.stack = append(j.stack, inPage)
	default:
		return &FileError{Line: j.index, Reason: reason(CodeJSONUsersNotArray)}
	}
	return nil
}

// closing reads the ']' or '}' that ends the innermost frame.
func (j *JSONReader) closing() error {
	if _, err := j.dec.Token(); err != nil {
		return j.fileError(err)
	}
	j.stack = j.stack[:len(j.stack)-1]
	return nil
}

func (j *JSONReader) skipValue() error {
	var skip json.RawMessage
	if err := j.dec.Decode(&skip); err != nil {
		return j.fileError(err)
	}
	return nil
}

// skipRest reads to the end of an array or object whose opening token has
// been read.
func (j *JSONReader) skipRest() error {
	for depth := 1; depth > 0; {
		tok, err := j.dec.Token()
		if err != nil {
			return j.fileError(err)
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
	return nil
}

// tokenKind names the JSON type of a value by its first token, as
// encoding/json's errors do.
func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		if tok == json.Delim('{') {
			return "object"
		}
		return "array"
	case string:
		return "string"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return "number"
}

// rawKind names the JSON type of a value, as tokenKind does.
func rawKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "null"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// fileError explains a failure to read the JSON itself; errors that are not
// about the JSON (the connection, a size limit) are returned as they are.
func (j *JSONReader) fileError(err error) error {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		line, column := j.lines.position(j.syntaxOffset(syntax))
		return &FileError{Line: j.index, Reason: reason(CodeJSONSyntax, strconv.FormatInt(line, 10), strconv.FormatInt(column, 10))}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &FileError{Line: j.index, Reason: reason(CodeJSONTruncated)}
	}
	return fmt.Errorf("reading the JSON after record %d: %w", j.index, err)
}

// syntaxOffset is the offset in the stream of the byte a syntax error is
// about. encoding/json's own Offset is that only for an error of Token's
// grammar (a missing comma between members, say). For an error inside a
// value read by Decode, as the reader reads users, and as Token reads
// strings and numbers, it counts only the bytes its scanner saw, not the
// ones Token took, and points before the error, up to whole users before.
//
// Either way the decoder has not moved past where it began reading, and
// its buffer holds what it read from there to the error. Read again as one
// value, that shows an error inside a value as the same error, at its
// offset from there; an error of Token's grammar is at the decoder's
// position, where reading again finds no error or another one.
func (j *JSONReader) syntaxOffset(err *json.SyntaxError) int64 {
	at := j.dec.InputOffset()
	var raw json.RawMessage
	var again *json.SyntaxError
	if errors.As(json.NewDecoder(j.dec.Buffered()).Decode(&raw), &again) && again.Error() == err.Error() {
		return at + again.Offset - 1 // Offset counts the byte in error
	}
	return at
}

// lineCounter is the JSON decoder's source. It notes where the lines
// break in what it hands over, so that a position in the stream can be
// told as a line and column, as an editor shows them; it forgets those
// the decoder has gone past, so that a file of a million lines costs no
// more than one.
type lineCounter struct {
	r    io.Reader
	read int64 // bytes handed over
	// newlines are the offsets of the line breaks not yet forgotten,
	// ascending; forgotten counts the ones before them.
	newlines  []int64
	forgotten int
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			c.newlines = append(c.newlines, c.read+int64(i))
		}
	}
	c.read += int64(n)
	return n, err
}

// forget drops the line breaks before offset, where the decoder is, but
// the last of them, which starts the line offset is on: nothing asked of
// position later is before offset.
func (c *lineCounter) forget(offset int64) {
	i := c.before(offset)
	if i <= 1 {
		return
	}
	c.forgotten += i - 1
	c.newlines = c.newlines[:copy(c.newlines, c.newlines[i-1:])]
}

// position is the line and column, both from 1, of the byte at offset;
// the column counts bytes, as the decoder does.
func (c *lineCounter) position(offset int64) (line, column int64) {
	i := c.before(offset)
	start := int64(0) // of the line
	if i > 0 {
		start = c.newlines[i-1] + 1
	}
	return int64(c.forgotten+i) + 1, offset - start + 1
}

// before is how many of the remembered line breaks are before offset.
func (c *lineCounter) before(offset int64) int {
	return sort.Search(len(c.newlines), func(i int) bool { return c.newlines[i] >= offset })
}

// valueProblems reports whether err is about one user's values rather
// than the JSON, and says what.
func valueProblems(err error) ([]Reason, bool) {
	var typ *json.UnmarshalTypeError
	var bad *valueError
	switch {
	case errors.As(err, &bad):
		return bad.reasons, true
	case errors.As(err, &typ):
		if typ.Field == "" {
			return []Reason{reason(CodeJSONNotObject)}, true
		}
		return []Reason{reason(CodeJSONWrongType, typ.Field, typ.Value)}, true
	}
	return nil, false
}

// valueError is a user's value that decodes as JSON but means nothing.
type valueError struct{ reasons []Reason }

func (e *valueError) Error() string { return reasonsText(e.reasons) }

func badValue(rs ...Reason) *valueError { return &valueError{reasons: rs} }

// userJSON is the union of UserType (ListUsers) and AdminGetUserResponse,
// plus the Groups member this importer reads.
type userJSON struct {
	Username            string
	Attributes          []attributeJSON
	UserAttributes      []attributeJSON
	Enabled             *bool
	UserStatus          string
	UserCreateDate      cognitoTime
	Groups              groupsJSON
	MFAOptions          []json.RawMessage
	UserMFASettingList  []string
	PreferredMfaSetting string
	// UserLastModifiedDate is not read: Cognate keeps its own UpdatedAt.

	// Line is Cognate's own: the user's Record.Line in the file it was
	// taken from (WriteJSON), which becomes its Line here, so that a
	// file split from another reports the other's line numbers.
	Line int `json:"cognate:line"`
}

type attributeJSON struct {
	Name  string
	Value string
}

// The statuses Cognito can write (COGNITO.md §2).
var cognitoStatuses = []tenant.UserStatus{
	tenant.StatusUnconfirmed, tenant.StatusConfirmed, tenant.StatusForceChangePassword,
	tenant.StatusResetRequired, tenant.StatusExternalProvider, tenant.StatusArchived,
	tenant.StatusCompromised, tenant.StatusUnknown,
}

// record turns a decoded user into a Record, checking what JSON's types do
// not: which attributes, which status.
func (u *userJSON) record(index int) Record {
	if u.Line > 0 {
		index = u.Line
	}
	rec := Record{
		Line:        index,
		Username:    u.Username,
		Status:      tenant.UserStatus(u.UserStatus),
		Enabled:     u.Enabled,
		Groups:      u.Groups.refs,
		GroupsKnown: u.Groups.known,
		CreatedAt:   u.UserCreateDate.Time,
	}
	var problems []Reason
	if u.Username == "" {
		problems = append(problems, reason(CodeJSONUsernameMissing))
	}
	if rec.Status != "" && !slices.Contains(cognitoStatuses, rec.Status) {
		problems = append(problems, reason(CodeJSONStatus, u.UserStatus))
	}
	attrs := u.Attributes
	if u.UserAttributes != nil {
		if u.Attributes != nil {
			problems = append(problems, reason(CodeJSONBothAttributeLists))
		}
		attrs = u.UserAttributes
	}

	// MFA: AdminGetUser lists the user's MFA settings, so their absence
	// means none; ListUsers shows only the deprecated SMS MFAOptions, so
	// there absence says nothing about TOTP.
	mfa := len(u.MFAOptions) > 0 || len(u.UserMFASettingList) > 0 || u.PreferredMfaSetting != ""
	if mfa || u.UserAttributes != nil {
		rec.MFAEnabled = &mfa
	}

	rec.Attributes = make(map[string]string, len(attrs))
	// Every name counts, also those that do not become attributes (sub,
	// the password hash, MFA): given twice, which one the file means is
	// a guess.
	seen := make(map[string]bool, len(attrs))
	for _, a := range attrs {
		if seen[a.Name] {
			problems = append(problems, reason(CodeJSONAttributeTwice, a.Name))
			continue
		}
		seen[a.Name] = true
		switch a.Name {
		case "sub":
			rec.Sub = a.Value
		case ColumnPasswordHash:
			rec.PasswordHash = a.Value
		case ColumnMFAEnabled:
			b, ok := parseBool(a.Value)
			if !ok {
				problems = append(problems, reason(CodeNotBoolean, a.Name, a.Value))
			}
			rec.MFAEnabled = &b
		case "identities":
			// Links to federated identity providers; Cognate has none yet.
			rec.Notes = append(rec.Notes, reason(CodeNoteIdentitiesDropped))
		case "email_verified", "phone_number_verified":
			value, problem, bad := boolAttribute(a.Name, a.Value)
			if bad {
				problems = append(problems, problem)
			}
			rec.Attributes[a.Name] = value
		default:
			rec.Attributes[a.Name] = a.Value
		}
	}
	rec.Problems = problems
	return rec
}

// cognitoTime reads Cognito's timestamps: seconds since 1970 as a number
// with a fraction (the API) or an RFC 3339 string (the AWS CLI's output).
type cognitoTime struct{ time.Time }

func (t *cognitoTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		parsed, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return badValue(reason(CodeJSONCreateDateFormat, s))
		}
		t.Time = parsed.UTC()
		return nil
	}
	secs, err := strconv.ParseFloat(string(b), 64)
	if err != nil || secs < 0 || secs > 1e11 || math.IsNaN(secs) {
		return badValue(reason(CodeJSONCreateDateSeconds, string(b)))
	}
	// Cognito's fraction is milliseconds; rounding there undoes the
	// float's noise.
	t.Time = time.UnixMilli(int64(math.Round(secs * 1000))).UTC()
	return nil
}

// groupsJSON reads a user's groups: an array of Cognito GroupType objects
// (as AdminListGroupsForUser's Groups), that whole response object, or an
// array of group names. null, like an absent Groups, says nothing about
// the user's groups.
type groupsJSON struct {
	known bool
	refs  []GroupRef
}

func (g *groupsJSON) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	g.known = true
	if len(b) > 0 && b[0] == '{' {
		var resp struct{ Groups json.RawMessage }
		if err := json.Unmarshal(b, &resp); err != nil || len(resp.Groups) == 0 || resp.Groups[0] != '[' {
			return badValue(reason(CodeJSONGroupsObject))
		}
		b = resp.Groups
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return badValue(reason(CodeJSONGroupsNotArray))
	}
	var problems []Reason
	for _, item := range items {
		ref, bad := groupRef(item)
		problems = append(problems, bad...)
		g.refs = append(g.refs, ref)
	}
	if len(problems) > 0 {
		return badValue(problems...)
	}
	return nil
}

// groupRef reads one entry of Groups: a group name, or a GroupType object.
// problems say what is wrong with it, naming the group when it has a name.
func groupRef(item json.RawMessage) (ref GroupRef, problems []Reason) {
	switch kind := rawKind(item); kind {
	case "string":
		_ = json.Unmarshal(item, &ref.Name) // a string: it cannot fail
		return ref, nil
	case "object":
	default:
		return ref, []Reason{reason(CodeJSONGroupEntryType, kind)}
	}
	// GroupType's members, matched as encoding/json matches them, each
	// checked on its own so that a problem is told as what it is. null
	// is an absent member, as Cognito's SDKs write it.
	var gt struct{ GroupName, Description, Precedence json.RawMessage }
	_ = json.Unmarshal(item, &gt) // an object: it cannot fail
	absent := func(v json.RawMessage) bool { return len(v) == 0 || string(v) == "null" }
	switch {
	case absent(gt.GroupName):
		return ref, []Reason{reason(CodeJSONGroupWithoutName)}
	case json.Unmarshal(gt.GroupName, &ref.Name) != nil:
		return ref, []Reason{reason(CodeJSONGroupNameType, rawKind(gt.GroupName))}
	case ref.Name == "":
		return ref, []Reason{reason(CodeJSONGroupWithoutName)}
	}
	if !absent(gt.Description) && json.Unmarshal(gt.Description, &ref.Description) != nil {
		problems = append(problems, reason(CodeJSONGroupDescriptionType, ref.Name, rawKind(gt.Description)))
	}
	if !absent(gt.Precedence) {
		var p int
		if json.Unmarshal(gt.Precedence, &p) != nil {
			// "1", 1.5, 1e3: not the whole number the rule asks for.
			problems = append(problems, reason(CodeGroupPrecedence, ref.Name))
		} else {
			ref.Precedence = &p
		}
	}
	return ref, problems
}
