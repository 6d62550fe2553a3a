package cognitoimport

import (
	"errors"
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
		{name: "bad timestamps and groups",
			file: `{"Username":"a","UserCreateDate":"yesterday"}` + "\n" + `{"Username":"b","UserCreateDate":-5}` + "\n" +
				`{"Username":"c","Groups":[{"Description":"x"}]}` + "\n" + `{"Username":"d","Groups":{"x":1}}` + "\n" +
				`{"Username":"e","Groups":7}`,
			problems: []string{"not an RFC 3339 time", "not a time in seconds", "without a GroupName", "without a Groups array", "not an array of groups"}},
		{name: "a syntax error after good records stops the file",
			file: annUserType + "\n" + bobUserType + "\n" + `{"Username": nope}`, problems: []string{"", ""},
			fileErr: "not valid JSON at byte"},
		{name: "a truncated file", file: `{"Users":[` + annUserType + `,{"Username":"b`,
			problems: []string{""}, fileErr: "ends in the middle of a value"},
		{name: "an object with Username and Users", file: `{"Username":"a","Users":[]}`, fileErr: "both Username and Users"},
		{name: "an array of numbers", file: `[1,2]`, fileErr: "not an object"},
		{name: "Users that is not an array", file: `{"Users":{}}`, fileErr: "Users is not an array"},
		{name: "two Users members", file: `{"Users":[],"Users":[]}`, fileErr: "two Users members"},
		{name: "a scalar after the records", file: annUserType + ` 42`, problems: []string{""}, fileErr: "not an object or an array"},
		{name: "not JSON", file: "cognito:username,email\n", fileErr: "not valid JSON at byte"},
		{name: "an empty file", file: "  \n", fileErr: "the file is empty"},
		{name: "a JSON string", file: `"Users"`, fileErr: "not an object or an array"},
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
			case tc.fileErr != "" && (!errors.As(err, &fe) || !errors.Is(err, ErrMalformed) || !strings.Contains(fe.Problem, tc.fileErr)):
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
