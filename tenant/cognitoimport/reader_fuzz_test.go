package cognitoimport

import (
	"bytes"
	"errors"
	"hash/maphash"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/password"
)

// Fuzz targets for the import readers: a file to import is whatever an
// operator exported, edited in a spreadsheet, or was sent. Whatever the
// bytes, reading ends (every Next either advances or stops), a file-level
// problem is a *FileError and nothing else, and a line that import would
// write gives a user that every rule of tenant accepts: what an import
// lets in, the service could have let in.

// readFuzzed reads every record of r, at most limit of them (a reader
// that never stops is a failure), and checks each one that import would
// write (checkImportable). It returns the records read.
func readFuzzed(t *testing.T, r Reader, limit int) []Record {
	t.Helper()
	im := &importer{usernames: usernamesInFile{seed: maphash.MakeSeed(), first: map[uint64]spelling{}}}
	var recs []Record
	for range limit {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			// Read from memory, nothing can fail but the file.
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Next: %v (%T), want a *FileError wrapping ErrMalformed", err, err)
			}
			if again, err2 := r.Next(); err2 == nil {
				t.Fatalf("Next after %v gave a record (line %d), want the error again", err, again.Line)
			}
			return recs
		}
		recs = append(recs, rec)
		checkImportable(t, im.prepare(rec))
	}
	t.Fatalf("the reader gave more than %d records: it does not advance", limit)
	return nil
}

// checkImportable checks a prepared line: when prepare found nothing wrong,
// the user it makes (a new one) passes tenant's own rules for every field
// the file set.
func checkImportable(t *testing.T, c *change) {
	t.Helper()
	if len(c.failure) > 0 {
		if reasonsText(c.failure) == "" {
			t.Fatalf("line %d fails with no words for why: %#v", c.line, c.failure)
		}
		return
	}
	if err := tenant.ValidateUsername(c.username); err != nil {
		t.Fatalf("line %d imports username %q: %v", c.line, c.username, err)
	}
	if c.sub != "" {
		if err := tenant.ValidateSub(c.sub); err != nil {
			t.Fatalf("line %d imports sub %q: %v", c.line, c.sub, err)
		}
	}
	if c.hash != "" {
		if err := password.CheckHash(c.hash); err != nil {
			t.Fatalf("line %d imports a hash Verify cannot check: %v", c.line, err)
		}
	}
	u := tenant.User{Sub: "00000000-0000-7000-8000-000000000000", Username: c.username, Enabled: true}
	c.applyTo(&u, time.Unix(1_700_000_000, 0))
	if u.Email != "" {
		if err := tenant.ValidateEmail(u.Email); err != nil {
			t.Fatalf("line %d imports email %q: %v", c.line, u.Email, err)
		}
	}
	if u.EmailVerified && u.Email == "" {
		t.Fatalf("line %d: a verified email without an address", c.line)
	}
	if err := tenant.ValidateAttributes(u.Attributes); err != nil {
		t.Fatalf("line %d imports attributes %q: %v", c.line, u.Attributes, err)
	}
	for _, g := range c.groups {
		if err := errors.Join(tenant.ValidateGroupName(g.Name), tenant.ValidateGroupDescription(g.Description),
			tenant.ValidateGroupPrecedence(g.Precedence)); err != nil {
			t.Fatalf("line %d imports group %q: %v", c.line, g.Name, err)
		}
	}
	if !slices.Contains(cognitoStatuses, u.Status) {
		t.Fatalf("line %d gives the user status %q", c.line, u.Status)
	}
}

func FuzzCSVReader(f *testing.F) {
	for _, file := range []string{
		templateHeader + "\n" + docRow + "\n",
		cognitoHeader + "\nJane Roe,Jane,Roe,,,,,,,jane@example.com,true,,,,nl,,false,,1471453471,2016-08-17,true,jane\n",
		"cognito:username,email_verified,email,cognito:mfa_enabled,address,custom:path\n" +
			`bob,TRUE,bob@example.com,FALSE,1 Main St\, Apt 4,C:\\temp\x` + "\r\n\n",
		"cognito:username,email_verified,email,cognito:mfa_enabled,cognate:password_hash\n" +
			"ann,true,ann@example.com,false,$2b$10$abcdefghijklmnopqrstuu5Z8gO1XkJ8ZQ7w2w0lEJZ4dX2b0n2QW\n",
		"cognito:username,email_verified,phone_number_verified,phone_number,email,cognito:mfa_enabled,birthdate,updated_at\n" +
			"d1,True,fAlSe,,d1@example.com,TRUE,02/29/2000,0\nd2,false,TRUE,+31612345678,,False,13/01/2000,-1\n",
		bom + "cognito:username,email_verified,email,cognito:mfa_enabled\nann,true,ann@example.com,false",
		"cognito:username,email_verified,email,cognito:mfa_enabled\nann\\,x,true,a@b.c,false\\\nbob,true,b@x.y\n",
		"ann,true,ann@example.com,false\n",
		"\xff\xfec\x00o\x00",
		"cognito:username,cognito:username,sub,custom:,email_verified\n",
		"",
	} {
		f.Add([]byte(file))
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		r, err := NewCSVReader(bytes.NewReader(file))
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.Problem() == "" {
				t.Fatalf("NewCSVReader: %v (%T), want a *FileError", err, err)
			}
			return
		}
		lines := bytes.Count(file, []byte("\n")) + 1
		header := make(map[string]bool, len(r.columns))
		for _, col := range r.columns {
			header[col.name] = true
		}
		last := 1
		for _, rec := range readFuzzed(t, r, lines) {
			if rec.Line <= last || rec.Line > lines {
				t.Fatalf("record at line %d after line %d, of a file of %d lines", rec.Line, last, lines)
			}
			last = rec.Line
			if len(rec.Problems) > 0 {
				continue
			}
			for name, v := range rec.Attributes {
				if !header[name] {
					t.Fatalf("line %d has attribute %q, which is no column", rec.Line, name)
				}
				if strings.ContainsAny(v, "\n") || strings.TrimSpace(v) != v {
					t.Fatalf("line %d: %s = %q: a line break, or space around the value", rec.Line, name, v)
				}
			}
		}
	})
}

// csvEscape writes v as a cell of Cognito's CSV: \ and , escaped.
func csvEscape(v string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`).Replace(v)
}

// FuzzCSVRowFields builds one row from chosen values, escaped as Cognito
// writes them, and checks that each value comes back in its own column
// (trimmed, as the reader trims), never shifted into another one; or that
// the line fails as a whole.
func FuzzCSVRowFields(f *testing.F) {
	f.Add("ann", "ann@example.com", "Ann, the First", `C:\temp\`, "true")
	f.Add(`b\ob`, "bob@example.com", `\,\\,`, ",", "FALSE")
	f.Add(" carol ", "", "", "", "false")
	f.Add("dé,jà", "x@y.z", "😀", "\\", "TRUE")
	f.Fuzz(func(t *testing.T, username, email, name, custom, mfa string) {
		values := []string{username, email, name, custom, mfa}
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n") {
				return // a cell cannot hold a line break
			}
		}
		file := "cognito:username,email,email_verified,name,custom:x,cognito:mfa_enabled\n" +
			csvEscape(username) + "," + csvEscape(email) + ",true," + csvEscape(name) + "," +
			csvEscape(custom) + "," + csvEscape(mfa) + "\n"
		r, err := NewCSVReader(strings.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		recs := readFuzzed(t, r, 2)
		if len(recs) != 1 {
			t.Fatalf("%d records from one row", len(recs))
		}
		rec := recs[0]
		if len(rec.Problems) > 0 {
			return
		}
		got := []string{rec.Username, rec.Attributes["email"], rec.Attributes["name"], rec.Attributes["custom:x"]}
		for i, want := range values[:4] {
			if want = strings.TrimSpace(want); got[i] != want {
				t.Fatalf("row %q: column %d reads %q, want %q", file, i+1, got[i], want)
			}
		}
		if b, ok := parseBool(strings.TrimSpace(mfa)); !ok || rec.MFAEnabled == nil || *rec.MFAEnabled != b {
			t.Fatalf("row %q: cognito:mfa_enabled %q read as %v", file, mfa, rec.MFAEnabled)
		}
	})
}

func FuzzJSONReader(f *testing.F) {
	for _, file := range []string{
		`{"Users":[` + annUserType + `,` + bobUserType + `],"PaginationToken":"abc"}`,
		"[" + annUserType + "," + carolAdminGetUser + "]",
		annUserType + "\n" + bobUserType + "\n" + carolAdminGetUser,
		`{"Username":"dave","Attributes":[{"Name":"email","Value":"d@x.y"},{"Name":"cognate:password_hash","Value":"pbkdf2_sha256$1000$salt$` +
			`AAAAAAAAAAAAAAAAAAAAAA=="}],"Groups":[{"GroupName":"ops","Precedence":1,"Description":"d"},"devs"],"cognate:line":7}`,
		`{"Username":"eve","Attributes":[{"Name":"sub","Value":".."},{"Name":"updated_at","Value":"1e3"}],"UserStatus":"ARCHIVED","UserCreateDate":1e300}`,
		`[1,"x",null,{"Users":[2,{}]}]`,
		`{"Users":[` + annUserType,
		bom + `[]`,
		"\x00[\x00]",
		`"just a string"`,
		``,
	} {
		f.Add([]byte(file))
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		r, err := NewJSONReader(bytes.NewReader(file))
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.Problem() == "" {
				t.Fatalf("NewJSONReader: %v (%T), want a *FileError", err, err)
			}
			return
		}
		// A user takes at least "{}", two bytes.
		readFuzzed(t, r, len(file)/2+2)
	})
}
