package cognitoimport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// Users as Cognito's APIs write them (COGNITO.md §8).
const (
	annUserType = `{"Attributes":[{"Name":"sub","Value":"eaad0219-2117-439f-8d46-4db20e59268f"},` +
		`{"Name":"email","Value":"ann@example.com"},{"Name":"email_verified","Value":"true"},{"Name":"custom:org","Value":"acme-id"}],` +
		`"Enabled":true,"UserCreateDate":1.682955829578E9,"UserLastModifiedDate":1.68903018163E9,` +
		`"UserStatus":"CONFIRMED","Username":"ann"}`
	bobUserType = `{"Username":"bob","Attributes":[{"Name":"sub","Value":"b0b00000-0000-4000-8000-000000000000"}],` +
		`"Enabled":false,"UserStatus":"UNCONFIRMED","UserCreateDate":"2023-05-01T12:34:56.789000+00:00"}`
	carolAdminGetUser = `{"Username":"carol","UserAttributes":[{"Name":"sub","Value":"ca201000-0000-4000-8000-000000000000"},` +
		`{"Name":"phone_number","Value":"+31612345678"},{"Name":"phone_number_verified","Value":"TRUE"}],` +
		`"Enabled":true,"UserStatus":"FORCE_CHANGE_PASSWORD","UserMFASettingList":["SOFTWARE_TOKEN_MFA"],` +
		`"PreferredMfaSetting":"SOFTWARE_TOKEN_MFA","$metadata":{"httpStatusCode":200}}`
)

func TestJSONReaderShapes(t *testing.T) {
	page := func(users ...string) string {
		return `{"Users":[` + strings.Join(users, ",") + `],"PaginationToken":"abc"}`
	}
	tests := []struct {
		name  string
		file  string
		users []string // usernames in order
	}{
		{"one ListUsers response", page(annUserType, bobUserType), []string{"ann", "bob"}},
		{"the token before the users", `{"PaginationToken":"x","Users":[` + annUserType + `]}`, []string{"ann"}},
		{"an array of ListUsers responses", "[" + page(annUserType) + ",\n" + page(bobUserType) + "," + page() + "]", []string{"ann", "bob"}},
		{"ListUsers responses, one per line", page(annUserType) + "\n" + page(bobUserType) + "\n", []string{"ann", "bob"}},
		{"JSON lines of UserType", annUserType + "\n" + bobUserType + "\n", []string{"ann", "bob"}},
		{"AdminGetUser responses", carolAdminGetUser + "\n" + carolAdminGetUser, []string{"carol", "carol"}},
		{"an array of users", "[" + annUserType + "," + carolAdminGetUser + "]", []string{"ann", "carol"}},
		{"a mix", page(annUserType) + "[" + bobUserType + "]" + carolAdminGetUser, []string{"ann", "bob", "carol"}},
		{"an empty page", `{"Users":[]}`, nil},
		{"a page with null Users", `{"Users":null,"PaginationToken":"x"}`, nil},
		{"an empty array", `[]`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewJSONReader(strings.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, rec := range recs {
				if rec.Problem() != "" {
					t.Errorf("record %d: %s", i+1, rec.Problem())
				}
				if rec.Line != i+1 {
					t.Errorf("record %d: line %d", i+1, rec.Line)
				}
				got = append(got, rec.Username)
			}
			if strings.Join(got, ",") != strings.Join(tc.users, ",") {
				t.Errorf("users %q, want %q", got, tc.users)
			}
		})
	}
}

func TestJSONReaderValues(t *testing.T) {
	file := `{"Users":[` + annUserType + `,` + bobUserType + `]}` + "\n" + carolAdminGetUser + "\n" +
		`{"Username":"dave","Attributes":[{"Name":"email","Value":"dave@example.com"},{"Name":"identities","Value":"[]"},` +
		`{"Name":"cognate:password_hash","Value":"$2b$10$x"}],"UserStatus":"EXTERNAL_PROVIDER",` +
		`"Groups":[{"GroupName":"admins","Precedence":1,"Description":"Admins"},{"GroupName":"staff"}]}` + "\n" +
		`{"Username":"erin","Groups":{"Groups":[{"GroupName":"staff"}],"NextToken":null}}` + "\n" +
		`{"Username":"fred","Groups":["a","b"],"MFAOptions":[{"DeliveryMedium":"SMS","AttributeName":"phone_number"}]}` + "\n" +
		`{"Username":"gina","Groups":[]}`
	r, err := NewJSONReader(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 7 {
		t.Fatalf("%d records, want 7", len(recs))
	}
	ann, bob, carol, dave, erin, fred, gina := recs[0], recs[1], recs[2], recs[3], recs[4], recs[5], recs[6]

	if ann.Sub != "eaad0219-2117-439f-8d46-4db20e59268f" || ann.Status != tenant.StatusConfirmed || ann.Enabled == nil || !*ann.Enabled {
		t.Errorf("ann: %+v", ann)
	}
	if _, ok := ann.Attributes["sub"]; ok {
		t.Error("ann: sub is also an attribute")
	}
	if ann.Attributes["email"] != "ann@example.com" || ann.Attributes["email_verified"] != "true" || ann.Attributes["custom:org"] != "acme-id" {
		t.Errorf("ann attributes %v", ann.Attributes)
	}
	if want := time.UnixMilli(1682955829578).UTC(); !ann.CreatedAt.Equal(want) {
		t.Errorf("ann created %v, want %v", ann.CreatedAt, want)
	}
	if ann.MFAEnabled != nil || ann.GroupsKnown {
		t.Errorf("ann: a ListUsers user says nothing of TOTP or groups: %+v", ann)
	}

	if bob.Enabled == nil || *bob.Enabled || bob.Status != tenant.StatusUnconfirmed {
		t.Errorf("bob (disabled, unconfirmed): %+v", bob)
	}
	if want := time.Date(2023, 5, 1, 12, 34, 56, 789000000, time.UTC); !bob.CreatedAt.Equal(want) {
		t.Errorf("bob created %v, want %v (the AWS CLI's time format)", bob.CreatedAt, want)
	}

	if carol.Status != tenant.StatusForceChangePassword || carol.MFAEnabled == nil || !*carol.MFAEnabled ||
		carol.Attributes["phone_number_verified"] != "true" || carol.Sub == "" {
		t.Errorf("carol (AdminGetUser with TOTP): %+v", carol)
	}

	if dave.Status != tenant.StatusExternalProvider || dave.PasswordHash != "$2b$10$x" || !dave.GroupsKnown || len(dave.Groups) != 2 ||
		dave.Groups[0].Name != "admins" || dave.Groups[0].Precedence == nil || *dave.Groups[0].Precedence != 1 ||
		dave.Groups[0].Description != "Admins" || dave.Groups[1].Name != "staff" {
		t.Errorf("dave: %+v", dave)
	}
	if _, ok := dave.Attributes["identities"]; ok || len(dave.Notes) != 1 || !strings.Contains(dave.Notes[0].String(), "identities") {
		t.Errorf("dave: identities %v, notes %q", dave.Attributes, dave.Notes)
	}
	if _, ok := dave.Attributes[ColumnPasswordHash]; ok {
		t.Error("dave: the password hash is also an attribute")
	}
	if !erin.GroupsKnown || len(erin.Groups) != 1 || erin.Groups[0].Name != "staff" {
		t.Errorf("erin (AdminListGroupsForUser response): %+v", erin)
	}
	if !fred.GroupsKnown || len(fred.Groups) != 2 || fred.Groups[1].Name != "b" || fred.MFAEnabled == nil || !*fred.MFAEnabled {
		t.Errorf("fred (group names, SMS MFA): %+v", fred)
	}
	if !gina.GroupsKnown || len(gina.Groups) != 0 || gina.Enabled != nil || gina.Status != "" {
		t.Errorf("gina (no groups): %+v", gina)
	}
}

func TestJSONReaderProblems(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		problems []string // per record; "" for a good one
		fileErr  string   // a *FileError after the records, or from NewJSONReader
	}{
		{name: "a user with a wrong type fails alone",
			file:     `{"Users":[{"Username":"a","Enabled":"yes"},{"Username":"b"}]}`,
			problems: []string{"Enabled is JSON string", ""}},
		{name: "outside a page, an object without a username stops the file",
			file: `[{"Username":"a","UserStatus":"ACTIVE"},{"Attributes":[]},` +
				`{"Username":"c","Attributes":[{"Name":"email_verified","Value":"yes"}]}]`,
			problems: []string{`UserStatus "ACTIVE"`}, fileErr: "neither a ListUsers page"},
		{name: "inside a page, a user without a username is a line problem",
			file:     `{"Users":[{"Username":"a","UserStatus":"ACTIVE"},{"Attributes":[]},{"Username":"c","Attributes":[{"Name":"email_verified","Value":"yes"}]}]}`,
			problems: []string{`UserStatus "ACTIVE"`, "Username is missing", `email_verified is "yes"`}},
		{name: "both attribute lists, an attribute twice",
			file: `{"Username":"a","Attributes":[],"UserAttributes":[]}` + "\n" +
				`{"Username":"b","Attributes":[{"Name":"email","Value":"x@example.com"},{"Name":"email","Value":"y@example.com"}]}`,
			problems: []string{"both Attributes", "attribute email appears twice"}},
		{name: "a name that becomes no attribute, twice",
			file: `{"Username":"a","Attributes":[{"Name":"cognate:password_hash","Value":"$2b$10$x"},{"Name":"cognate:password_hash","Value":"$2b$10$y"}]}` + "\n" +
				`{"Username":"b","Attributes":[{"Name":"cognito:mfa_enabled","Value":"true"},{"Name":"cognito:mfa_enabled","Value":"false"}]}` + "\n" +
				`{"Username":"c","Attributes":[{"Name":"sub","Value":""},{"Name":"sub","Value":"c0000000-0000-4000-8000-000000000003"}]}` + "\n" +
				`{"Username":"d","Attributes":[{"Name":"sub","Value":"d0000000-0000-4000-8000-000000000004"},{"Name":"sub","Value":"d0000000-0000-4000-8000-000000000005"}]}`,
			problems: []string{"attribute cognate:password_hash appears twice", "attribute cognito:mfa_enabled appears twice",
				"attribute sub appears twice", "attribute sub appears twice"}},
		{name: "verified flags that are not booleans",
			file: `{"Username":"a","Attributes":[{"Name":"email_verified","Value":"yes"},{"Name":"phone_number_verified","Value":"1"}]}` + "\n" +
				`{"Username":"b","Attributes":[{"Name":"email_verified","Value":""},{"Name":"phone_number_verified","Value":"TRUE"}]}`,
			problems: []string{`email_verified is "yes"`, ""}},
		{name: "a group's wrongly typed members are named, not taken for a missing GroupName",
			file: `{"Username":"a","Groups":[{"GroupName":"g","Precedence":"1"}]}` + "\n" +
				`{"Username":"b","Groups":[{"GroupName":"g","Precedence":1.5}]}` + "\n" +
				`{"Username":"c","Groups":[{"GroupName":"g","Description":42}]}` + "\n" +
				`{"Username":"d","Groups":[{"GroupName":5}]}` + "\n" +
				`{"Username":"e","Groups":["ok",42]}` + "\n" +
				`{"Username":"f","Groups":[null]}` + "\n" +
				`{"Username":"g","Groups":[{"GroupName":"g","Description":false,"Precedence":[]},{"GroupName":"h","Precedence":null,"Description":null}]}`,
			problems: []string{`group "g": precedence must be a whole number`, `group "g": precedence must be a whole number`,
				`group "g": Description is JSON number; it must be a string`, "an entry whose GroupName is JSON number; it must be a string",
				"Groups holds an entry that is JSON number", "Groups holds an entry that is JSON null",
				`group "g": Description is JSON bool; it must be a string; group "g": precedence must be a whole number`}},
		{name: "bad timestamps and groups",
			file: `{"Username":"a","UserCreateDate":"yesterday"}` + "\n" + `{"Username":"b","UserCreateDate":-5}` + "\n" +
				`{"Username":"c","Groups":[{"Description":"x"}]}` + "\n" + `{"Username":"d","Groups":{"x":1}}` + "\n" +
				`{"Username":"e","Groups":7}`,
			problems: []string{"not an RFC 3339 time", "not a time in seconds", "without a GroupName", "without a Groups array", "not an array of groups"}},
		{name: "a syntax error after good records stops the file",
			file: annUserType + "\n" + bobUserType + "\n" + `{"Username": nope}`, problems: []string{"", ""},
			fileErr: "not valid JSON at line 3, column 15"},
		{name: "a truncated file", file: `{"Users":[` + annUserType + `,{"Username":"b`,
			problems: []string{""}, fileErr: "ends in the middle of a value"},
		{name: "an object with Username and Users", file: `{"Username":"a","Users":[]}`, fileErr: "both Username and Users"},
		{name: "an array of numbers: each element fails alone", file: `[1,2]`,
			problems: []string{"element 1 of the array is JSON number", "element 2 of the array is JSON number"}},
		{name: "a top-level array element that is not an object fails alone, like one in a page",
			file:     "[" + strings.Repeat(`{"Username":"u"},`, 16) + `"notanobject",{"Username":"v"}]`,
			problems: append(make([]string, 16), "element 17 of the array is JSON string; it must be a user or a ListUsers page (an object)", "")},
		{name: "a nested array is one element; numbering goes on across pages and arrays",
			file:     `[{"Users":[{"Username":"a"},{"Username":"b"}]},[1,[2,{"x":3}]],null,{"Username":"c"}]` + "\n" + `[true]`,
			problems: []string{"", "", "element 2 of the array is JSON array", "element 3 of the array is JSON null", "", "element 1 of the array is JSON bool"}},
		{name: "an array cut short inside a non-object element", file: `[{"Username":"a"},[1,2`,
			problems: []string{""}, fileErr: "ends in the middle of a value"},
		{name: "values that are not UTF-8 fail their user, naming the member or attribute",
			file: "{\"Username\":\"jos\xe9\",\"Attributes\":[{\"Name\":\"email\",\"Value\":\"jose@x.com\"}]}\n" +
				"{\"Username\":\"jos\xe8\",\"Attributes\":[{\"Name\":\"email\",\"Value\":\"other@x.com\"}]}\n" +
				"{\"Users\":[{\"Username\":\"ann\",\"Attributes\":[{\"Name\":\"given_name\",\"Value\":\"Ren\xe9e\"},{\"Name\":\"na\xefve\",\"Value\":\"x\"}]}]}\n" +
				"{\"Username\":\"bob\",\"UserStatus\":\"CONFIRMED\xa0\"}\n" +
				"{\"Username\":\"carl\",\"X-\xff\":\"a member name that is not UTF-8 is ignored, as unknown members are\"}\n" +
				"{\"Users\":[{\"Username\":\"dana\",\"X-\xff\":1}]}",
			problems: []string{"Username is not valid UTF-8 text", "Username is not valid UTF-8 text",
				"given_name is not valid UTF-8 text; save the file as UTF-8; Attributes is not valid UTF-8 text",
				"UserStatus is not valid UTF-8 text", "", ""}},
		{name: "Users that is not an array", file: `{"Users":{}}`, fileErr: "Users is not an array"},
		{name: "two Users members", file: `{"Users":[],"Users":[]}`, fileErr: "two Users members"},
		{name: "a scalar after the records", file: annUserType + ` 42`, problems: []string{""}, fileErr: "not an object or an array"},
		{name: "not JSON", file: "cognito:username,email\n", fileErr: "not valid JSON at line 1, column 1"},
		{name: "an empty file", file: "  \n", fileErr: "the file is empty"},
		{name: "a JSON string", file: `"Users"`, fileErr: "not an object or an array"},
		// Numbers beyond a float64 are numbers too, wherever they stand
		// (found by FuzzJSONReader: they were no *FileError).
		{name: "a huge number as the file", file: `10e1000`, fileErr: "not an object or an array"},
		{name: "a huge number after the records", file: annUserType + ` -1e400`, problems: []string{""}, fileErr: "not an object or an array"},
		{name: "a huge number in an array fails alone", file: `[1e400,{"Username":"a"}]`,
			problems: []string{"element 1 of the array is JSON number", ""}},
		{name: "Users that is a huge number", file: `{"Users":1e400}`, fileErr: "Users is not an array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewJSONReader(strings.NewReader(tc.file))
			var recs []Record
			if err == nil {
				recs, err = readAll(r)
			}
			var fe *FileError
			switch {
			case tc.fileErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.fileErr != "" && (!errors.As(err, &fe) || !errors.Is(err, ErrMalformed) || !strings.Contains(fe.Problem(), tc.fileErr)):
				t.Fatalf("error %v; want a *FileError saying %q", err, tc.fileErr)
			}
			if len(recs) != len(tc.problems) {
				t.Fatalf("%d records, want %d: %+v", len(recs), len(tc.problems), recs)
			}
			for i, want := range tc.problems {
				if got := recs[i].Problem(); (want == "") != (got == "") || !strings.Contains(got, want) {
					t.Errorf("record %d: problem %q, want %q", i+1, got, want)
				}
			}
			if fe != nil && fe.Line != len(recs) {
				t.Errorf("file error at %d, want after record %d", fe.Line, len(recs))
			}
			if fe != nil && strings.Contains(fe.Problem(), "after the last record") {
				// FileError.Line says where; "after the last record" was
				// wrong before the first one.
				t.Errorf("problem %q says where on its own", fe.Problem())
			}
		})
	}
}

func TestJSONReaderBOM(t *testing.T) {
	r, err := NewJSONReader(strings.NewReader(bom + annUserType))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readAll(r)
	if err != nil || len(recs) != 1 || recs[0].Username != "ann" {
		t.Fatalf("%+v, %v", recs, err)
	}
	if len(r.Warnings()) != 1 {
		t.Errorf("warnings %q", r.Warnings())
	}
}

// Groups: null says no more than an absent Groups (the user keeps their
// groups), as "Users": null is an empty page; an empty list says "none".
func TestJSONReaderGroupsNull(t *testing.T) {
	tests := []struct {
		groups string // the member, or "" for none
		known  bool
		n      int
	}{
		{``, false, 0},
		{`,"Groups":null`, false, 0},
		{`,"groups":null`, false, 0},
		{`,"Groups":[]`, true, 0},
		{`,"Groups":{"Groups":[],"NextToken":null}`, true, 0},
		{`,"Groups":["a"]`, true, 1},
	}
	for _, tc := range tests {
		for _, shape := range []string{`%s`, `{"Users":[%s]}`, `[%s]`} {
			file := fmt.Sprintf(shape, `{"Username":"ann"`+tc.groups+`}`)
			r, err := NewJSONReader(strings.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := readAll(r)
			if err != nil || len(recs) != 1 {
				t.Fatalf("%s: %+v, %v", file, recs, err)
			}
			if rec := recs[0]; rec.Problem() != "" || rec.GroupsKnown != tc.known || len(rec.Groups) != tc.n {
				t.Errorf("%s: problem %q, GroupsKnown %v with %d groups; want %v with %d", file, rec.Problem(), rec.GroupsKnown, len(rec.Groups), tc.known, tc.n)
			}
		}
	}
}

// A user that fails on a value still has their Username on the failure
// line, wherever Username is in the object and whichever member failed,
// at the top level and inside a page alike.
func TestJSONReaderFailedUserKeepsUsername(t *testing.T) {
	tests := []struct {
		name     string
		user     string
		username string
		problem  string
	}{
		{"UserCreateDate before Username", `{"UserCreateDate":"yesterday","Username":"ann"}`, "ann", `UserCreateDate "yesterday" is not an RFC 3339 time`},
		{"UserCreateDate after Username", `{"Username":"ann","UserCreateDate":-5}`, "ann", "UserCreateDate -5 is not a time in seconds"},
		{"Groups before Username", `{"Groups":[{"Description":"x"}],"Username":"bob"}`, "bob", "without a GroupName"},
		{"Groups after Username", `{"Username":"bob","Groups":7}`, "bob", "not an array of groups"},
		{"a precedence that is a string", `{"Groups":[{"GroupName":"g","Precedence":"1"}],"Username":"cy"}`, "cy", `group "g": precedence must be a whole number`},
		{"a wrong type before Username", `{"Enabled":"yes","Username":"dee"}`, "dee", "Enabled is JSON string"},
		{"a bad status", `{"UserStatus":"ACTIVE","Username":"eve"}`, "eve", `UserStatus "ACTIVE"`},
		{"a Username that is not a string", `{"Username":42}`, "", "Username is JSON number"},
		{"a Username that is not UTF-8", "{\"Attributes\":[],\"Username\":\"jos\xe9\"}", "jos\uFFFD", "Username is not valid UTF-8 text"},
		{"an attribute that is not UTF-8", "{\"Attributes\":[{\"Name\":\"name\",\"Value\":\"Jos\xe9\"}],\"Username\":\"jo\"}", "jo", "name is not valid UTF-8 text"},
	}
	for _, tc := range tests {
		for _, shape := range []string{`%s`, `{"Users":[%s]}`, `[%s]`} {
			file := fmt.Sprintf(shape, tc.user)
			r, err := NewJSONReader(strings.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := readAll(r)
			if err != nil || len(recs) != 1 {
				t.Fatalf("%s: %+v, %v", file, recs, err)
			}
			if got := recs[0]; got.Username != tc.username || !strings.Contains(got.Problem(), tc.problem) || got.Line != 1 {
				t.Errorf("%s, %s: line %d, username %q, problem %q; want username %q, problem %q",
					tc.name, file, got.Line, got.Username, got.Problem(), tc.username, tc.problem)
			}
		}
	}
}

// A syntax error is told by the line and column of the byte in error, as
// an editor shows them (the column in bytes), wherever the reader was:
// inside a user of a page, which it reads whole; among the members of a
// user outside a page, which it reads one by one; in a member's name; and
// far into a file, past lines it has forgotten. encoding/json's own offset
// pointed up to whole users before the error.
func TestJSONReaderSyntaxErrorPosition(t *testing.T) {
	// user is a user as the AWS CLI prints it, indented.
	user := func(i int) string {
		return fmt.Sprintf("        {\n            \"Username\": \"u%d\",\n            \"Attributes\": [\n"+
			"                {\"Name\": \"given_name\", \"Value\": \"Zoë\"}\n            ],\n            \"Enabled\": true\n        }", i)
	}
	var users []string
	for i := range 40 {
		users = append(users, user(i))
	}
	pretty := "{\n    \"Users\": [\n" + strings.Join(users, ",\n") + "\n    ]\n}\n"
	var jsonLines strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&jsonLines, `{"Username":"u%d","Attributes":[{"Name":"given_name","Value":"Zoë"}]}`+"\n", i)
	}
	// Each file has the error where ⟂ is; the mark is taken out.
	tests := []struct{ name, file string }{
		{"a missing comma in the 31st user of a page", strings.Replace(strings.Replace(pretty, "\"u30\",", "\"u30\"", 1), "\"u30\"\n            \"", "\"u30\"\n            ⟂\"", 1)},
		{"a missing comma between members outside a page", `{"Username":"a"}` + "\n" + `{"Username":"b" ⟂"Enabled":true}`},
		{"a bad escape in a member's name", `{"Username":"a"}` + "\n" + `{"User\⟂qname":"b"}`},
		{"inside a member's value", `{"Username":"a",` + "\n" + `"Attributes":[{"Name":"x" ⟂"Value":"y"}]}`},
		{"after 3,000 lines", jsonLines.String() + `{"Username":"last",⟂}`},
		{"after 3,000 lines in a page", "{\"Users\":[\n" + strings.ReplaceAll(strings.TrimSpace(jsonLines.String()), "\n", ",\n") + ",\n" + `{"Username":"last",⟂}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at := strings.Index(tc.file, "⟂")
			if at < 0 {
				t.Fatal("no mark")
			}
			file := strings.Replace(tc.file, "⟂", "", 1)
			line := strings.Count(file[:at], "\n") + 1
			column := at - strings.LastIndex(file[:at], "\n")
			r, err := NewJSONReader(strings.NewReader(file))
			if err == nil {
				_, err = readAll(r)
			}
			var fe *FileError
			want := []string{strconv.Itoa(line), strconv.Itoa(column)}
			if !errors.As(err, &fe) || fe.Reason.Code != CodeJSONSyntax || !slices.Equal(fe.Reason.Args, want) {
				t.Errorf("error %v; want a syntax error at line %d, column %d", err, line, column)
			}
		})
	}
}

// FormatOf tells a JSON dump from a CSV by the first character that is
// not white space or a byte order mark: no Cognito CSV header begins with
// a bracket. It only peeks: the reader it chose reads the whole file.
func TestFormatOf(t *testing.T) {
	tests := []struct {
		name, file string
		want       Format
	}{
		{"a ListUsers response", `{"Users":[` + annUserType + `]}`, FormatJSON},
		{"an array of users", "[" + annUserType + "]", FormatJSON},
		{"JSON lines after white space and a byte order mark", bom + "\n\t  " + annUserType + "\n", FormatJSON},
		{"a CSV header", "cognito:username,email\nann,ann@example.com\n", FormatCSV},
		{"a CSV with a byte order mark", bom + "name,cognito:username\n", FormatCSV},
		{"an empty file", "", FormatCSV},
		{"only white space", strings.Repeat(" ", 2*sniffBytes), FormatCSV},
		{"neither", "hello\x00world", FormatCSV},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tc.file))
			if got := FormatOf(br); got != tc.want {
				t.Fatalf("FormatOf = %q, want %q", got, tc.want)
			}
			if rest, _ := io.ReadAll(br); string(rest) != tc.file {
				t.Errorf("FormatOf consumed the file: %q left", rest)
			}
		})
	}
}
