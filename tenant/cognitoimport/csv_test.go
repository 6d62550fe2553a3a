package cognitoimport

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// cognitoHeader is GetCSVHeader's answer for a pool with one custom
// attribute (COGNITO.md §1.1).
const cognitoHeader = "name,given_name,family_name,middle_name,nickname,preferred_username,profile,picture,website," +
	"email,email_verified,gender,birthdate,zoneinfo,locale,phone_number,phone_number_verified,address,updated_at," +
	"custom:joinedOn,cognito:mfa_enabled,cognito:username"

// templateHeader is the console's template.csv: the username first.
const templateHeader = "cognito:username,name,given_name,family_name,middle_name,nickname,preferred_username,profile," +
	"picture,website,email,email_verified,gender,birthdate,zoneinfo,locale,phone_number,phone_number_verified,address," +
	"updated_at,cognito:mfa_enabled"

// docRow is the example row of Cognito's documentation, for templateHeader.
const docRow = "John,,John,Doe,,,,,,,johndoe@example.com,TRUE,,02/01/1985,,,+12345550100,TRUE,123 Any Street,,FALSE"

// readAll reads every record, stopping at the first error.
func readAll(r Reader) ([]Record, error) {
	var recs []Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
		recs = append(recs, rec)
	}
}

func TestCSVReader(t *testing.T) {
	type want struct {
		line     int
		username string
		attrs    map[string]string // a subset; "" means present and empty
		absent   []string          // attributes that must not be in the record
		mfa      *bool
		hash     string
		problem  string // substring; "" means no problem
	}
	yes, no := true, false
	// row pads prefix with x to n characters.
	row := func(n int, prefix string) string { return prefix + strings.Repeat("x", n-len(prefix)) }
	tests := []struct {
		name    string
		file    string
		fileErr string // substring of a *FileError from NewCSVReader
		warning string
		want    []want
	}{
		{
			name: "the console's template and the documented row",
			file: templateHeader + "\n" + docRow + "\n",
			want: []want{{line: 2, username: "John", mfa: &no, attrs: map[string]string{
				"name": "", "given_name": "John", "family_name": "Doe", "email": "johndoe@example.com",
				"email_verified": "true", "birthdate": "1985-02-01", "phone_number": "+12345550100",
				"phone_number_verified": "true", "address": "123 Any Street", "updated_at": "",
			}}},
		},
		{
			name: "GetCSVHeader's order with a custom attribute",
			file: cognitoHeader + "\n" +
				"Jane Roe,Jane,Roe,,,,,,,jane@example.com,true,,,,nl,,false,,1471453471,2016-08-17,true,jane\n",
			want: []want{{line: 2, username: "jane", mfa: &yes, attrs: map[string]string{
				"name": "Jane Roe", "email": "jane@example.com", "email_verified": "true", "locale": "nl",
				"phone_number": "", "phone_number_verified": "false", "updated_at": "1471453471", "custom:joinedOn": "2016-08-17",
			}}},
		},
		{
			name: "columns in any order, keyed by name (the console's template puts the username first)",
			file: "cognito:username,cognito:mfa_enabled,email_verified,email,custom:tier\nann,true,true,ann@example.com,gold\n",
			want: []want{{line: 2, username: "ann", mfa: &yes, attrs: map[string]string{"email": "ann@example.com", "custom:tier": "gold"}}},
		},
		{
			name: "an escaped comma and an escaped backslash inside values",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled,address,custom:path\n" +
				`bob,TRUE,bob@example.com,FALSE,1 Main St\, Apt 4\, Springfield,C:\\temp\\x` + "\n",
			want: []want{{line: 2, username: "bob", attrs: map[string]string{
				"address": "1 Main St, Apt 4, Springfield", "custom:path": `C:\temp\x`,
			}}},
		},
		{
			name: "a backslash before another character is kept",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled,custom:path\n" +
				`bob,TRUE,bob@example.com,FALSE,C:\temp` + "\n",
			want: []want{{line: 2, username: "bob", attrs: map[string]string{"custom:path": `C:\temp`}}},
		},
		{
			name: "a trailing backslash is a line error",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled,custom:x\n" +
				`bob,TRUE,bob@example.com,FALSE,oops\` + "\n" +
				"ann,TRUE,ann@example.com,FALSE,fine\n",
			want: []want{
				{line: 2, problem: "ends in a backslash"},
				{line: 3, username: "ann", attrs: map[string]string{"custom:x": "fine"}},
			},
		},
		{
			name: "empty cells are absent attributes; whitespace around values is trimmed",
			file: "cognito:username , email_verified,email,cognito:mfa_enabled,given_name,custom:x\n" +
				"  carol ,  TRUE , carol@example.com ,false,  ,\n",
			want: []want{{line: 2, username: "carol", mfa: &no, attrs: map[string]string{
				"email": "carol@example.com", "given_name": "", "custom:x": "",
			}}},
		},
		{
			name: "booleans in any case",
			file: "cognito:username,email_verified,phone_number_verified,phone_number,email,cognito:mfa_enabled\n" +
				"d1,True,fAlSe,,d1@example.com,TRUE\n" +
				"d2,false,TRUE,+31612345678,,False\n" +
				"d3,yes,TRUE,+31612345678,,FALSE\n",
			want: []want{
				{line: 2, username: "d1", mfa: &yes, attrs: map[string]string{"email_verified": "true", "phone_number_verified": "false"}},
				{line: 3, username: "d2", mfa: &no, attrs: map[string]string{"email_verified": "false", "phone_number_verified": "true"}},
				{line: 4, problem: `email_verified is "yes"`},
			},
		},
		{
			name: "email_verified false and no phone fails the line with Cognito's reason",
			file: "cognito:username,email_verified,email,phone_number,phone_number_verified,cognito:mfa_enabled\n" +
				"erin,FALSE,erin@example.com,,,FALSE\n",
			want: []want{{line: 2, username: "erin", problem: "does not set any of the auto verified attributes to true"}},
		},
		{
			name: "email_verified true needs an email, phone_number_verified a phone number",
			file: "cognito:username,email_verified,email,phone_number,phone_number_verified,cognito:mfa_enabled\n" +
				"f1,TRUE,,,,FALSE\n" +
				"f2,FALSE,,,TRUE,FALSE\n",
			want: []want{
				{line: 2, problem: "email_verified is TRUE but email is empty"},
				{line: 3, problem: "phone_number_verified is TRUE but phone_number is empty"},
			},
		},
		{
			name: "cognito:mfa_enabled must be true or false",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled\ng1,TRUE,g1@example.com,\ng2,TRUE,g2@example.com,1\n",
			want: []want{
				{line: 2, problem: "cognito:mfa_enabled is \"\""},
				{line: 3, problem: "cognito:mfa_enabled is \"1\""},
			},
		},
		{
			name: "an empty username",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled\n,TRUE,x@example.com,FALSE\n",
			want: []want{{line: 2, problem: "cognito:username is empty"}},
		},
		{
			name: "birthdate mm/dd/yyyy becomes YYYY-MM-DD; other forms fail; updated_at is epoch seconds",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled,birthdate,updated_at\n" +
				"h1,TRUE,h1@example.com,FALSE,12/31/1999,1471453471\n" +
				"h2,TRUE,h2@example.com,FALSE,1999-12-31,\n" +
				"h3,TRUE,h3@example.com,FALSE,13/01/1999,\n" +
				"h4,TRUE,h4@example.com,FALSE,,2016-08-17\n",
			want: []want{
				{line: 2, username: "h1", attrs: map[string]string{"birthdate": "1999-12-31", "updated_at": "1471453471"}},
				{line: 3, problem: "not a date written mm/dd/yyyy"},
				{line: 4, problem: "not a date written mm/dd/yyyy"},
				{line: 5, problem: "not a time in seconds since 1970"},
			},
		},
		{
			name: "updated_at must fit in an int64, as time.Unix takes it",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled,updated_at\n" +
				"e1,TRUE,e1@example.com,FALSE,9223372036854775807\n" +
				"e2,TRUE,e2@example.com,FALSE,9223372036854775808\n" +
				"e3,TRUE,e3@example.com,FALSE,9999999999999999999\n" +
				"e4,TRUE,e4@example.com,FALSE,+1471453471\n" +
				"e5,TRUE,e5@example.com,FALSE,-1\n" +
				"e6,TRUE,e6@example.com,FALSE,0\n",
			want: []want{
				{line: 2, username: "e1", attrs: map[string]string{"updated_at": "9223372036854775807"}},
				{line: 3, problem: `updated_at "9223372036854775808" is not a time in seconds since 1970`},
				{line: 4, problem: `updated_at "9999999999999999999" is not a time in seconds since 1970`},
				{line: 5, problem: `updated_at "+1471453471" is not a time in seconds since 1970`},
				{line: 6, problem: `updated_at "-1" is not a time in seconds since 1970`},
				{line: 7, username: "e6", attrs: map[string]string{"updated_at": "0"}},
			},
		},
		{
			name: "custom attributes and the password hash column are kept as strings",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled,custom:org,custom:joinedOn,cognate:password_hash\n" +
				"i1,TRUE,i1@example.com,FALSE,acme-id,08/17/2016,$2b$10$abc\n",
			want: []want{{line: 2, username: "i1", hash: "$2b$10$abc", attrs: map[string]string{"custom:org": "acme-id", "custom:joinedOn": "08/17/2016"},
				absent: []string{ColumnPasswordHash}}},
		},
		{
			name: "a value count that does not match the header",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled\nj1,TRUE,a@example.com,FALSE,extra\nj2,TRUE\n",
			want: []want{
				{line: 2, problem: "the line has 5 values but the header has 4 columns"},
				{line: 3, problem: "the line has 2 values"},
			},
		},
		{
			name: "CRLF line endings, blank lines skipped, line numbers as an editor shows them",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled\r\nk1,TRUE,k1@example.com,FALSE\r\n\r\n   \r\nk2,TRUE,k2@example.com,FALSE\r\n",
			want: []want{
				{line: 2, username: "k1", attrs: map[string]string{"email": "k1@example.com"}},
				{line: 5, username: "k2", attrs: map[string]string{"email": "k2@example.com"}},
			},
		},
		{
			name: "a row of 16,000 characters is fine, 16,001 is a line error, and the next line is still read",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled,custom:x\n" +
				row(16000, "u1,TRUE,u1@example.com,FALSE,") + "\n" +
				row(16001, "u2,TRUE,u2@example.com,FALSE,") + "\n" +
				"u3,TRUE,u3@example.com,FALSE,x\n",
			want: []want{
				{line: 2, username: "u1"},
				{line: 3, problem: "16001 characters long; Cognito allows at most 16,000"},
				{line: 4, username: "u3"},
			},
		},
		{
			name: "a line far longer than the buffer is skipped without reading it into memory",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled,custom:x\n" +
				"m1,TRUE,m1@example.com,FALSE," + strings.Repeat("é", 100_000) + "\n" +
				"m2,TRUE,m2@example.com,FALSE,ok\n",
			want: []want{
				{line: 2, problem: "longer than Cognito's limit of 16,000 characters"},
				{line: 3, username: "m2"},
			},
		},
		{
			name: "16,000 multi-byte characters count as characters, not bytes",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled,custom:x\n" +
				"n1,TRUE,n1@example.com,FALSE," + strings.Repeat("é", 16000-len("n1,TRUE,n1@example.com,FALSE,")) + "\n",
			want: []want{{line: 2, username: "n1"}},
		},
		{
			name: "a line that is not UTF-8",
			file: "cognito:username,email_verified,email,cognito:mfa_enabled\no1,TRUE,o1@example.com,FALSE\xff\n",
			want: []want{{line: 2, problem: "not valid UTF-8"}},
		},
		{
			name:    "a byte order mark is skipped with a warning",
			file:    bom + "cognito:username,email_verified,email,cognito:mfa_enabled\np1,TRUE,p1@example.com,FALSE\n",
			warning: "byte order mark",
			want:    []want{{line: 2, username: "p1"}},
		},
		{
			name: "a header only: no users",
			file: cognitoHeader + "\n",
		},
		{name: "an empty file", file: "", fileErr: "the file is empty"},
		{name: "a missing required column", file: "email,email_verified,cognito:username\na@example.com,TRUE,a\n",
			fileErr: "the required column cognito:mfa_enabled is missing"},
		{name: "no auto-verified column", file: "email,cognito:mfa_enabled,cognito:username\n", fileErr: "neither email_verified nor phone_number_verified"},
		{name: "an unknown column", file: "cognito:username,cognito:mfa_enabled,email_verified,emial\n", fileErr: `column 4: "emial" is not a Cognito attribute`},
		{name: "a column twice", file: "cognito:username,cognito:mfa_enabled,email_verified,email,email\n", fileErr: `column 5: "email" is also column 4`},
		{name: "a sub column", file: "cognito:username,cognito:mfa_enabled,email_verified,sub\n", fileErr: "sub cannot be imported from CSV"},
		{name: "a nameless column", file: "cognito:username,cognito:mfa_enabled,email_verified,\n", fileErr: "column 4: a column has no name"},
		{name: "JSON is not a CSV", file: `{"Users":[]}`, fileErr: "the required column cognito:username is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewCSVReader(strings.NewReader(tc.file))
			if tc.fileErr != "" {
				var fe *FileError
				if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) || !strings.Contains(fe.Problem(), tc.fileErr) {
					t.Fatalf("NewCSVReader: %v; want a *FileError saying %q", err, tc.fileErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewCSVReader: %v", err)
			}
			if got := reasonsText(r.Warnings()); !strings.Contains(got, tc.warning) || (tc.warning == "" && got != "") {
				t.Errorf("warnings %q, want %q", got, tc.warning)
			}
			recs, err := readAll(r)
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if len(recs) != len(tc.want) {
				t.Fatalf("%d records, want %d: %+v", len(recs), len(tc.want), recs)
			}
			for i, w := range tc.want {
				got := recs[i]
				if got.Line != w.line {
					t.Errorf("record %d: line %d, want %d", i, got.Line, w.line)
				}
				if w.problem == "" && got.Problem() != "" {
					t.Errorf("line %d: problem %q, want none", got.Line, got.Problem())
				}
				if !strings.Contains(got.Problem(), w.problem) {
					t.Errorf("line %d: problem %q, want %q", got.Line, got.Problem(), w.problem)
				}
				if w.username != "" && got.Username != w.username {
					t.Errorf("line %d: username %q, want %q", got.Line, got.Username, w.username)
				}
				for name, v := range w.attrs {
					if gv, ok := got.Attributes[name]; !ok || gv != v {
						t.Errorf("line %d: attribute %s = %q (present %v), want %q", got.Line, name, gv, ok, v)
					}
				}
				for _, name := range w.absent {
					if _, ok := got.Attributes[name]; ok {
						t.Errorf("line %d: attribute %s present", got.Line, name)
					}
				}
				if w.mfa != nil && (got.MFAEnabled == nil || *got.MFAEnabled != *w.mfa) {
					t.Errorf("line %d: MFAEnabled %v, want %v", got.Line, got.MFAEnabled, *w.mfa)
				}
				if got.PasswordHash != w.hash {
					t.Errorf("line %d: hash %q, want %q", got.Line, got.PasswordHash, w.hash)
				}
				if got.Sub != "" || got.Status != "" || got.Enabled != nil || got.GroupsKnown {
					t.Errorf("line %d: a CSV states no sub, status, enabled or groups: %+v", got.Line, got)
				}
			}
		})
	}
}

func TestSplitRow(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		problem bool
	}{
		{"a,b,c", []string{"a", "b", "c"}, false},
		{",,", []string{"", "", ""}, false},
		{`a\,b,c`, []string{"a,b", "c"}, false},
		{`a\\,b`, []string{`a\`, "b"}, false},
		{`a\\\,b`, []string{`a\,b`}, false},
		{`\,`, []string{","}, false},
		{` a\, ,b `, []string{"a,", "b"}, false},
		{`é\é,x`, []string{`é\é`, "x"}, false},
		{`a\`, nil, true},
		{`a,b\\\`, nil, true},
		{"", []string{""}, false},
	}
	for _, tc := range tests {
		got, problem := splitRow([]byte(tc.in), nil)
		if (problem != "") != tc.problem {
			t.Errorf("splitRow(%q): problem %q", tc.in, problem)
			continue
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("splitRow(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The header check's error is shown to whoever sent the file and logged.
// A first line that is a user's values (a file without its header) may
// hold a password or a hash: the error then says which columns are wrong
// without repeating them, in its text or in its reasons. A misspelt column
// name is still quoted.
func TestCSVHeaderKeepsValuesOut(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   []string // substrings of the problem
		secret []string // what it must not contain
	}{
		{name: "a Cognito user line instead of the header",
			header: "alice,alice@example.com,TRUE,FALSE",
			want: []string{"columns 1, 2, 3 and 4 hold values, not column names: the first line must be the header of GetCSVHeader",
				"the required column cognito:username is missing"},
			secret: []string{"alice", "TRUE", "FALSE"}},
		{name: "one value among names: a password in the hash column",
			header: "cognito:username,cognito:mfa_enabled,email_verified,hunter2",
			want:   []string{"column 4 holds a value, not a column name: the first line must be the header of GetCSVHeader"},
			secret: []string{"hunter2"}},
		{name: "a hash, and a word that could be a name on the same line",
			header: "bob,cognito:mfa_enabled,email_verified,$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
			want:   []string{"columns 1 and 4 hold values, not column names"},
			secret: []string{"bob", "$2b$", "N9qo8"}},
		{name: "a passphrase", header: "cognito:username,cognito:mfa_enabled,email_verified,correct horse battery staple",
			want: []string{"column 4 holds a value"}, secret: []string{"horse"}},
		{name: "a value twice is not quoted as a duplicate column", header: "x,TRUE,TRUE,FALSE",
			want: []string{"columns 1, 2, 3 and 4 hold values"}, secret: []string{`"TRUE"`, "also column"}},
		{name: "a misspelt name is quoted", header: "cognito:username,cognito:mfa_enabled,email_verified,emial,given-name",
			want: []string{`column 4: "emial" is not a Cognito attribute`, `column 5: "given-name" is not a Cognito attribute`}},
		{name: "a duplicate Cognito column is quoted", header: "cognito:username,cognito:mfa_enabled,email_verified,email,email",
			want: []string{`column 5: "email" is also column 4`}},
		{name: "a bad custom attribute name is not quoted",
			header: "cognito:username,cognito:mfa_enabled,email_verified,custom:pw=s3cret value",
			want:   []string{"column 4: a custom attribute's column is custom: and a name without spaces"}, secret: []string{"s3cret"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewCSVReader(strings.NewReader(tc.header + "\nann,TRUE,TRUE,FALSE\n"))
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *FileError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(fe.Problem(), w) {
					t.Errorf("problem %q\nwant %q", fe.Problem(), w)
				}
			}
			for _, s := range tc.secret {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q repeats %q", err, s)
				}
				// The console words the reasons itself, from their Args.
				for _, r := range append([]Reason{fe.Reason}, fe.Details...) {
					if slices.ContainsFunc(r.Args, func(a string) bool { return strings.Contains(a, s) }) {
						t.Errorf("reason %#v repeats %q", r, s)
					}
				}
			}
		})
	}
}

// A last line without a line break may have been cut short, and a cut line
// can look whole: with cognito:username the last column, as GetCSVHeader
// has it, "anna" cut to "ann" names another user. Such a file stops at
// that line, which is not returned, whatever the line holds; the lines
// before it are read as ever.
func TestCSVReaderLastLineWithoutLineBreak(t *testing.T) {
	const header = "name,email,email_verified,cognito:mfa_enabled,cognito:username"
	tests := []struct {
		name  string
		file  string
		lines []int // of the records read before the file stops
		stop  int   // the line the *FileError names
	}{
		{"a username cut short", header + "\nAnn,ann@example.com,true,false,ann\nAnna,anna@example.com,true,false,ann", []int{2}, 3},
		{"the only user", header + "\nAnna,anna@example.com,true,false,ann", nil, 2},
		{"cut between CR and LF", header + "\r\nAnn,ann@example.com,true,false,ann\r\nAnna,anna@example.com,true,false,anna\r", []int{2}, 3},
		{"a blank line cut short", header + "\nAnn,ann@example.com,true,false,ann\n  ", []int{2}, 3},
		{"a line too long, cut short", header + "\nAnn,ann@example.com,true,false,ann\n" + strings.Repeat("x", readBufferSize+10), []int{2}, 3},
		{"a header and nothing else", header, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var recs []Record
			r, err := NewCSVReader(strings.NewReader(tc.file))
			if err == nil {
				recs, err = readAll(r)
			}
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) || fe.Reason.Code != CodeCSVNoFinalLineBreak || fe.Line != tc.stop {
				t.Fatalf("error %v; want a *FileError %s at line %d", err, CodeCSVNoFinalLineBreak, tc.stop)
			}
			var lines []int
			for _, rec := range recs {
				lines = append(lines, rec.Line)
			}
			if !slices.Equal(lines, tc.lines) {
				t.Errorf("records of lines %v, want %v", lines, tc.lines)
			}
		})
	}
}
