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
	"strconv"
	"strings"
	"time"

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
// many small ones.

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
	dec   *json.Decoder
	stack []frame
	// pendingObject is set when NewJSONReader has read the '{' of a first
	// top-level object whose kind is not yet known.
	pendingObject bool
	index         int // users yielded so far
	err           error
	warnings      []string
}

var _ Reader = (*JSONReader)(nil)

// NewJSONReader reads the first token of r and fails with a *FileError
// unless it opens an object or an array.
func NewJSONReader(r io.Reader) (*JSONReader, error) {
	br := bufio.NewReader(r)
	j := &JSONReader{}
	if head, _ := br.Peek(len(bom)); string(head) == bom {
		_, _ = br.Discard(len(bom))
		j.warnings = append(j.warnings, "the file starts with a UTF-8 byte order mark (BOM); it was ignored")
	}
	j.dec = json.NewDecoder(br)
	tok, err := j.dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil, &FileError{Problem: "the file is empty; want a JSON dump of ListUsers or AdminGetUser output"}
	case err != nil:
		return nil, j.fileError(err)
	}
	switch tok {
	case json.Delim('['):
		j.stack = append(j.stack, inArray)
	case json.Delim('{'):
		j.pendingObject = true
	default:
		return nil, &FileError{Problem: "the file is JSON but not an object or an array; want a dump of ListUsers or AdminGetUser output"}
	}
	return j, nil
}

// Warnings says what was odd about the file as a whole but did not stop it.
func (j *JSONReader) Warnings() []string { return j.warnings }

// Next returns the next user in the file.
func (j *JSONReader) Next() (Record, error) {
	if j.err != nil {
		return Record{}, j.err
	}
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
				j.stack = append(j.stack, inArray)
			case json.Delim('{'):
				j.pendingObject = true
			default:
				return Record{}, &FileError{Line: j.index, Problem: "after the last record: a JSON value that is not an object or an array"}
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
			if tok != json.Delim('{') {
				return Record{}, &FileError{Line: j.index, Problem: "after the last record: an array element that is not an object (a page or a user)"}
			}
			j.pendingObject = true

		case inUsers:
			var u userJSON
			err := j.dec.Decode(&u)
			if err != nil {
				if problem, ok := valueProblem(err); ok {
					j.index++
					return Record{Line: j.index, Username: u.Username, Problems: []Reason{problem}}, nil
				}
				return Record{}, j.fileError(err)
			}
			j.index++
			return u.record(j.index), nil

		case inPage:
			tok, err := j.dec.Token()
			if err != nil {
				return Record{}, j.fileError(err)
			}
			if key, _ := tok.(string); strings.EqualFold(key, "Users") {
				return Record{}, &FileError{Line: j.index, Problem: "a page has two Users members"}
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
	fields := map[string]json.RawMessage{}
	for j.dec.More() {
		tok, err := j.dec.Token()
		if err != nil {
			return Record{}, false, j.fileError(err)
		}
		key, _ := tok.(string)
		if strings.EqualFold(key, "Users") {
			if hasKey(fields, "Username") {
				return Record{}, false, &FileError{Line: j.index, Problem: "after the last record: an object with both Username and Users"}
			}
			return Record{}, false, j.openUsers()
		}
		var raw json.RawMessage
		if err := j.dec.Decode(&raw); err != nil {
			return Record{}, false, j.fileError(err)
		}
		fields[key] = raw
	}
	if _, err := j.dec.Token(); err != nil { // the closing '}'
		return Record{}, false, j.fileError(err)
	}
	if !hasKey(fields, "Username") {
		return Record{}, false, &FileError{Line: j.index,
			Problem: "after the last record: an object that is neither a ListUsers page (it has no Users) nor a user (it has no Username)"}
	}
	j.index++
	// Decoding the collected members as one object applies the same field
	// matching as for users inside a page.
	raw, err := json.Marshal(fields)
	if err != nil {
		return Record{}, false, err
	}
	var u userJSON
	if err := json.Unmarshal(raw, &u); err != nil {
		if problem, ok := valueProblem(err); ok {
			return Record{Line: j.index, Username: u.Username, Problems: []Reason{problem}}, true, nil
		}
		return Record{}, false, err
	}
	return u.record(j.index), true, nil
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
		return &FileError{Line: j.index, Problem: "after the last record: a page whose Users is not an array"}
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

// fileError explains a failure to read the JSON itself; errors that are not
// about the JSON (the connection, a size limit) are returned as they are.
func (j *JSONReader) fileError(err error) error {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return &FileError{Line: j.index, Problem: fmt.Sprintf("the file is not valid JSON at byte %d", syntax.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &FileError{Line: j.index, Problem: "the JSON ends in the middle of a value; the file may be incomplete"}
	}
	return fmt.Errorf("reading the JSON after record %d: %w", j.index, err)
}

// valueProblem reports whether err is about one user's values rather than
// the JSON, and says which.
func valueProblem(err error) (Reason, bool) {
	var typ *json.UnmarshalTypeError
	var bad *valueError
	switch {
	case errors.As(err, &bad):
		return bad.reason, true
	case errors.As(err, &typ):
		if typ.Field == "" {
			return reason(CodeJSONNotObject), true
		}
		return reason(CodeJSONWrongType, typ.Field, typ.Value), true
	}
	return Reason{}, false
}

// valueError is a user's value that decodes as JSON but means nothing.
type valueError struct{ reason Reason }

func (e *valueError) Error() string { return e.reason.String() }

// hasKey matches member names as encoding/json does: ignoring case.
func hasKey(m map[string]json.RawMessage, name string) bool {
	for k := range m {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

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
	for _, a := range attrs {
		if _, dup := rec.Attributes[a.Name]; dup || (a.Name == "sub" && rec.Sub != "") {
			problems = append(problems, reason(CodeJSONAttributeTwice, a.Name))
			continue
		}
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
			if a.Value == "" {
				rec.Attributes[a.Name] = ""
				break
			}
			b, ok := parseBool(a.Value)
			if !ok {
				problems = append(problems, reason(CodeNotBoolean, a.Name, a.Value))
			}
			rec.Attributes[a.Name] = strconv.FormatBool(b)
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
			return &valueError{reason(CodeJSONCreateDateFormat, s)}
		}
		t.Time = parsed.UTC()
		return nil
	}
	secs, err := strconv.ParseFloat(string(b), 64)
	if err != nil || secs < 0 || secs > 1e11 || math.IsNaN(secs) {
		return &valueError{reason(CodeJSONCreateDateSeconds, string(b))}
	}
	// Cognito's fraction is milliseconds; rounding there undoes the
	// float's noise.
	t.Time = time.UnixMilli(int64(math.Round(secs * 1000))).UTC()
	return nil
}

// groupsJSON reads a user's groups: an array of Cognito GroupType objects
// (as AdminListGroupsForUser's Groups), that whole response object, or an
// array of group names.
type groupsJSON struct {
	known bool
	refs  []GroupRef
}

func (g *groupsJSON) UnmarshalJSON(b []byte) error {
	g.known = true
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '{' {
		var resp struct{ Groups json.RawMessage }
		if err := json.Unmarshal(b, &resp); err != nil || len(resp.Groups) == 0 || resp.Groups[0] != '[' {
			return &valueError{reason(CodeJSONGroupsObject)}
		}
		b = resp.Groups
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return &valueError{reason(CodeJSONGroupsNotArray)}
	}
	for _, item := range items {
		var ref GroupRef
		if err := json.Unmarshal(item, &ref.Name); err != nil {
			var gt struct {
				GroupName   string
				Description string
				Precedence  *int
			}
			if err := json.Unmarshal(item, &gt); err != nil || gt.GroupName == "" {
				return &valueError{reason(CodeJSONGroupWithoutName)}
			}
			ref = GroupRef{Name: gt.GroupName, Description: gt.Description, Precedence: gt.Precedence}
		}
		g.refs = append(g.refs, ref)
	}
	return nil
}
