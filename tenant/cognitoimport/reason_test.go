package cognitoimport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
)

// Each bad line, and each line with a note, gives its reasons as codes and
// as the English the admin API has always shown: the texts below are the
// ones of the importer before it had codes, so they prove the English did
// not move.
func TestReasonCodes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	taken, err := f.svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "taken", Email: "taken@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "kept", Sub: "c0000000-0000-4000-8000-000000000003"}); err != nil {
		t.Fatal(err)
	}
	csvFile := func(row string) string { return csvHeader + "\n" + row + "\n" }
	type R = cognitoimport.Reason
	tests := []struct {
		name    string
		format  cognitoimport.Format
		file    string
		outcome cognitoimport.Outcome
		reasons []R
		text    string
	}{
		{"bad username", cognitoimport.FormatCSV, csvFile("bad user,b@example.com,TRUE,,,,,,FALSE"), cognitoimport.Failed,
			[]R{{Code: tenant.CodeUsernameSpaces}},
			"username: a username may not contain spaces"},
		{"bad email", cognitoimport.FormatCSV, csvFile("dave,dave@example,TRUE,,,,,,FALSE"), cognitoimport.Failed,
			[]R{{Code: tenant.CodeEmailInvalid, Args: []string{"dave@example"}}},
			`"dave@example" is not an email address`},
		{"an email address that cannot be mailed", cognitoimport.FormatJSON,
			`{"Username":"dot","Attributes":[{"Name":"email","Value":"a..b@example.com"},{"Name":"email_verified","Value":"true"}]}`, cognitoimport.Failed,
			[]R{{Code: tenant.CodeEmailInvalid, Args: []string{"a..b@example.com"}}},
			`"a..b@example.com" is not an email address`},
		{"bad email and phone", cognitoimport.FormatCSV, csvFile("erin,erin@x,TRUE,0612345678,,,,,FALSE"), cognitoimport.Failed,
			[]R{{Code: tenant.CodeEmailInvalid, Args: []string{"erin@x"}}, {Code: cognitoimport.CodePhoneNotE164, Args: []string{"0612345678"}}},
			`"erin@x" is not an email address; phone_number "0612345678" is not in E.164 form (+ and up to 15 digits, as +12345550100)`},
		{"too many values", cognitoimport.FormatCSV, csvFile("ann,ann@example.com,TRUE,,,Ann,,,FALSE,extra"), cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeCSVValueCount, Args: []string{"10", "9"}}},
			`the line has 10 values but the header has 9 columns (every column must be present, cells may be empty; write a comma inside a value as \,)`},
		{"a backslash at the end", cognitoimport.FormatCSV, csvFile(`ann,ann@example.com,TRUE,,,Ann,,,FALSE\`), cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeCSVTrailingBackslash}},
			`the line ends in a backslash, which escapes nothing (write \\ for a backslash)`},
		{"several problems of the reader", cognitoimport.FormatCSV, csvFile("x,,FALSE,,,,13/45/2000,,maybe"), cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeCSVBirthdate, Args: []string{"13/45/2000"}},
				{Code: cognitoimport.CodeNotBoolean, Args: []string{"cognito:mfa_enabled", "maybe"}},
				{Code: cognitoimport.CodeCSVNoVerifiedContact}},
			`birthdate "13/45/2000" is not a date written mm/dd/yyyy; cognito:mfa_enabled is "maybe"; it must be true or false; ` +
				`The User Record does not set any of the auto verified attributes to true (email_verified or phone_number_verified must be TRUE)`},
		{"email verified but empty", cognitoimport.FormatCSV, csvFile("fay,,TRUE,,,,,,FALSE"), cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeCSVEmailVerifiedEmpty}},
			"email_verified is TRUE but email is empty"},
		{"value too long", cognitoimport.FormatCSV, csvFile("gus,gus@example.com,TRUE,,," + strings.Repeat("g", 2049) + ",,,FALSE"), cognitoimport.Failed,
			[]R{{Code: tenant.CodeAttributeTooLong, Args: []string{"given_name"}}},
			`attribute "given_name" is longer than 2048 characters`},
		{"a bad password hash", cognitoimport.FormatCSV,
			"cognito:username,email,email_verified,cognito:mfa_enabled,cognate:password_hash\nhal,hal@example.com,TRUE,FALSE,hunter2\n", cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeHashUnknownScheme}},
			"cognate:password_hash is in no format Cognate verifies (argon2id, bcrypt, scrypt, PBKDF2-SHA256, Django pbkdf2_sha256; see docs/import.md)"},
		{"MFA to set up again", cognitoimport.FormatCSV, csvFile("mia,mia@example.com,TRUE,,,,,,TRUE"), cognitoimport.Created,
			[]R{{Code: cognitoimport.CodeNoteMFAReenroll, Args: []string{"custom:mfa_reenroll"}}},
			"MFA was enabled in Cognito and must be set up again (Cognito does not export MFA secrets); marked with custom:mfa_reenroll"},
		{"a username taken by another sub", cognitoimport.FormatJSON,
			`{"Username":"TAKEN","Attributes":[{"Name":"sub","Value":"d0000000-0000-4000-8000-000000000004"}]}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeConflictUsernameTaken, Args: []string{"TAKEN", taken.Sub}}},
			fmt.Sprintf(`username "TAKEN" belongs to another user here (sub %s)`, taken.Sub)},
		{"a sub taken by another username", cognitoimport.FormatJSON,
			`{"Username":"renamed","Attributes":[{"Name":"sub","Value":"c0000000-0000-4000-8000-000000000003"}]}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeConflictSubTaken, Args: []string{"c0000000-0000-4000-8000-000000000003", "kept"}}},
			`sub c0000000-0000-4000-8000-000000000003 belongs to user "kept" here, and a username cannot change`},
		{"an unknown attribute", cognitoimport.FormatJSON, `{"Username":"ida","Attributes":[{"Name":"shoe_size","Value":"44"}]}`, cognitoimport.Failed,
			[]R{{Code: tenant.CodeAttributeUnknown, Args: []string{"shoe_size"}}},
			`"shoe_size" is not a standard attribute (custom attributes start with "custom:")`},
		{"every bad attribute, in order of name", cognitoimport.FormatJSON,
			`{"Username":"ike","Attributes":[{"Name":"shoe_size","Value":"44"},{"Name":"phone_number","Value":"0612"},{"Name":"custom:a b","Value":"x"}]}`,
			cognitoimport.Failed,
			[]R{{Code: tenant.CodeAttributeCustomName, Args: []string{"custom:a b"}}, {Code: cognitoimport.CodePhoneNotE164, Args: []string{"0612"}},
				{Code: tenant.CodeAttributeUnknown, Args: []string{"shoe_size"}}},
			`attribute name "custom:a b" must be custom:<1 to 25 characters>; phone_number "0612" is not in E.164 form (+ and up to 15 digits, as +12345550100); ` +
				`"shoe_size" is not a standard attribute (custom attributes start with "custom:")`},
		{"a status Cognito does not have", cognitoimport.FormatJSON, `{"Username":"jo","UserStatus":"NOPE"}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeJSONStatus, Args: []string{"NOPE"}}},
			`UserStatus "NOPE" is not one of Cognito's statuses`},
		{"a value of the wrong JSON type", cognitoimport.FormatJSON, `{"Username":"kai","Enabled":"yes"}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeJSONWrongType, Args: []string{"Enabled", "string"}}},
			"Enabled is JSON string, which is not what Cognito writes there"},
		{"a negative precedence", cognitoimport.FormatJSON, `{"Username":"lee","Groups":[{"GroupName":"g","Precedence":-1}]}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeGroupPrecedence, Args: []string{"g"}}},
			`group "g": precedence must be a whole number from 0 to 2147483647`},
		{"a precedence past Cognito's highest", cognitoimport.FormatJSON, `{"Username":"lex","Groups":[{"GroupName":"g","Precedence":2147483648}]}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeGroupPrecedence, Args: []string{"g"}}},
			`group "g": precedence must be a whole number from 0 to 2147483647`},
		{"a sub that is a dot segment", cognitoimport.FormatJSON, `{"Username":"dotdot","Attributes":[{"Name":"sub","Value":".."}]}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeSubPathSegment, Args: []string{".."}}},
			`sub ".." cannot be part of a web address, where the user is named by sub: it must not be "." or ".." or contain "/"`},
		{"a sub with a slash", cognitoimport.FormatJSON, `{"Username":"sl","Attributes":[{"Name":"sub","Value":"a/b"}]}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeSubPathSegment, Args: []string{"a/b"}}},
			`sub "a/b" cannot be part of a web address, where the user is named by sub: it must not be "." or ".." or contain "/"`},
		{"a sub with a control character", cognitoimport.FormatJSON, `{"Username":"nul","Attributes":[{"Name":"sub","Value":"a\u0000b"}]}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeSubInvalid}},
			"sub must be 1 to 128 printable characters without spaces"},
		{"text that is not UTF-8", cognitoimport.FormatJSON, "{\"Username\":\"jos\xe9\",\"Attributes\":[{\"Name\":\"email\",\"Value\":\"jose@x.com\"}]}", cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeJSONNotUTF8, Args: []string{"Username"}}},
			"Username is not valid UTF-8 text; save the file as UTF-8"},
		{"a description that is not a string", cognitoimport.FormatJSON, `{"Username":"ola","Groups":[{"GroupName":"g","Description":42}]}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeJSONGroupDescriptionType, Args: []string{"g", "number"}}},
			`group "g": Description is JSON number; it must be a string`},
		{"a precedence that is a string", cognitoimport.FormatJSON, `{"Username":"pia","Groups":[{"GroupName":"g","Precedence":"1"}]}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeGroupPrecedence, Args: []string{"g"}}},
			`group "g": precedence must be a whole number from 0 to 2147483647`},
		{"a group name that is not a string", cognitoimport.FormatJSON, `{"Username":"quin","Groups":[{"GroupName":7}]}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeJSONGroupNameType, Args: []string{"number"}}},
			"Groups holds an entry whose GroupName is JSON number; it must be a string"},
		{"a group entry that is neither a name nor an object", cognitoimport.FormatJSON, `{"Username":"rex","Groups":[true]}`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeJSONGroupEntryType, Args: []string{"bool"}}},
			"Groups holds an entry that is JSON bool; an entry must be a group name or an object with a GroupName"},
		{"an array element that is not an object", cognitoimport.FormatJSON, `["notanobject"]`, cognitoimport.Failed,
			[]R{{Code: cognitoimport.CodeJSONElementNotObject, Args: []string{"1", "string"}}},
			"element 1 of the array is JSON string; it must be a user or a ListUsers page (an object)"},
		{"identities left behind", cognitoimport.FormatJSON, `{"Username":"max","Attributes":[{"Name":"identities","Value":"[]"},{"Name":"email","Value":"max@example.com"},{"Name":"email_verified","Value":"true"}]}`, cognitoimport.Created,
			[]R{{Code: cognitoimport.CodeNoteIdentitiesDropped}},
			"attribute identities (federated sign-in links) was not imported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, lines := f.mustRun(t, tc.format, tc.file, cognitoimport.Options{DryRun: true})
			if len(lines) != 1 {
				t.Fatalf("%d lines: %+v", len(lines), lines)
			}
			got := lines[0]
			if got.Outcome != tc.outcome {
				t.Errorf("outcome %s, want %s", got.Outcome, tc.outcome)
			}
			if !reflect.DeepEqual(got.Reasons, tc.reasons) {
				t.Errorf("reasons %#v\nwant %#v", got.Reasons, tc.reasons)
			}
			if got.Reason != tc.text {
				t.Errorf("reason %q\nwant %q", got.Reason, tc.text)
			}
		})
	}
}

// A file refused as a whole gives its reason, and the problems of a
// header row one by one, as codes, and as the English the admin API has
// always shown: the texts below are the importer's before file problems
// had codes, so they prove the English did not move. A cell that may be a
// user's value is in neither: the columns are named by number.
func TestFileReasonCodes(t *testing.T) {
	type R = cognitoimport.Reason
	type FE = cognitoimport.FileError
	const (
		csv  = cognitoimport.FormatCSV
		json = cognitoimport.FormatJSON
	)
	header := R{Code: cognitoimport.CodeCSVHeader}
	missing := func(column string) R { return R{Code: cognitoimport.CodeCSVColumnMissing, Args: []string{column}} }
	noVerified := R{Code: cognitoimport.CodeCSVNoVerifiedColumn}
	tests := []struct {
		name   string
		format cognitoimport.Format
		file   string
		want   FE
		text   string
	}{
		{"an empty CSV", csv, "", FE{Reason: R{Code: cognitoimport.CodeCSVEmpty}},
			"the file is empty; a Cognito CSV starts with a header row of column names (GetCSVHeader)"},
		{"a header row too long", csv, strings.Repeat("a", 90<<10) + "\n", FE{Line: 1, Reason: R{Code: cognitoimport.CodeCSVHeaderTooLong}},
			"the header row is longer than 16,000 characters, so this is not a Cognito user import CSV"},
		{"a header row that is not UTF-8", csv, "\xff,cognito:username\n", FE{Line: 1, Reason: R{Code: cognitoimport.CodeCSVHeaderNotUTF8}},
			"the header row is not UTF-8 text, so this is not a Cognito user import CSV"},
		{"a user's values instead of the header", csv, "alice,alice@example.com,TRUE,FALSE\n",
			FE{Line: 1, Reason: header, Details: []R{{Code: cognitoimport.CodeCSVColumnValues, Args: []string{"1, 2, 3", "4"}},
				missing("cognito:username"), missing("cognito:mfa_enabled"), noVerified}},
			"the header row is not Cognito's: columns 1, 2, 3 and 4 hold values, not column names: the first line must be the header of GetCSVHeader, " +
				"naming the columns (cognito:username, email, email_verified, …); the required column cognito:username is missing; " +
				"the required column cognito:mfa_enabled is missing; neither email_verified nor phone_number_verified is a column; " +
				"Cognito needs one of them true for every user"},
		{"a password among the names", csv, "cognito:username,cognito:mfa_enabled,email_verified,hunter2\n",
			FE{Line: 1, Reason: header, Details: []R{{Code: cognitoimport.CodeCSVColumnValue, Args: []string{"4"}}}},
			"the header row is not Cognito's: column 4 holds a value, not a column name: the first line must be the header of GetCSVHeader, " +
				"naming the columns (cognito:username, email, email_verified, …)"},
		{"every problem a column can have", csv, ",,sub,emial,email,email,custom:a b\n",
			FE{Line: 1, Reason: header, Details: []R{
				{Code: cognitoimport.CodeCSVColumnNoName, Args: []string{"1"}},
				{Code: cognitoimport.CodeCSVColumnNoName, Args: []string{"2"}},
				{Code: cognitoimport.CodeCSVColumnSub, Args: []string{"3"}},
				{Code: cognitoimport.CodeCSVColumnUnknown, Args: []string{"4", "emial"}},
				{Code: cognitoimport.CodeCSVColumnTwice, Args: []string{"6", "email", "5"}},
				{Code: cognitoimport.CodeCSVColumnCustomName, Args: []string{"7"}},
				missing("cognito:username"), missing("cognito:mfa_enabled"), noVerified}},
			"the header row is not Cognito's: column 1: a column has no name; column 2: a column has no name; " +
				"column 3: sub cannot be imported from CSV (Cognito gives every imported user a new sub); import a ListUsers JSON dump to keep subs; " +
				`column 4: "emial" is not a Cognito attribute (standard names, custom:<name>, cognito:username, cognito:mfa_enabled, cognate:password_hash); ` +
				`column 6: "email" is also column 5; column 7: a custom attribute's column is custom: and a name without spaces, 32 characters in all; ` +
				"the required column cognito:username is missing; the required column cognito:mfa_enabled is missing; " +
				"neither email_verified nor phone_number_verified is a column; Cognito needs one of them true for every user"},
		{"an empty JSON file", json, "  \n", FE{Reason: R{Code: cognitoimport.CodeJSONEmpty}},
			"the file is empty; want a JSON dump of ListUsers or AdminGetUser output"},
		{"a JSON string", json, `"Users"`, FE{Reason: R{Code: cognitoimport.CodeJSONFileNotContainer}},
			"the file is JSON but not an object or an array; want a dump of ListUsers or AdminGetUser output"},
		{"a number after a user", json, `{"Username":"ann"} 42`, FE{Line: 1, Reason: R{Code: cognitoimport.CodeJSONValueNotContainer}},
			"the file holds a JSON value that is not an object or an array; want ListUsers or AdminGetUser output"},
		{"two Users members", json, `{"Users":[],"Users":[]}`, FE{Reason: R{Code: cognitoimport.CodeJSONUsersTwice}},
			"a page has two Users members"},
		{"Username and Users", json, `{"Username":"a","Users":[]}`, FE{Reason: R{Code: cognitoimport.CodeJSONUsernameAndUsers}},
			"an object has both Username and Users, so it is neither a user nor a ListUsers page"},
		{"neither a page nor a user", json, `[{"Attributes":[]}]`, FE{Reason: R{Code: cognitoimport.CodeJSONNeitherPageNorUser}},
			"an object is neither a ListUsers page (it has no Users) nor a user (it has no Username)"},
		{"Users not an array", json, `{"Users":{}}`, FE{Reason: R{Code: cognitoimport.CodeJSONUsersNotArray}},
			"a ListUsers page's Users is not an array"},
		{"not JSON", json, "cognito:username,email\n", FE{Reason: R{Code: cognitoimport.CodeJSONSyntax, Args: []string{"1", "1"}}},
			"the file is not valid JSON at line 1, column 1"},
		{"a CSV in UTF-16, as PowerShell writes it", csv, "\xff\xfec\x00o\x00g\x00", FE{Reason: R{Code: cognitoimport.CodeFileEncoding, Args: []string{"UTF-16"}}},
			"the file is UTF-16 text, not UTF-8: save it as UTF-8 and import it again (PowerShell's > writes UTF-16; use Out-File -Encoding utf8)"},
		{"JSON in UTF-16 without a byte order mark", json, "\x00[\x00{", FE{Reason: R{Code: cognitoimport.CodeFileEncoding, Args: []string{"UTF-16"}}},
			"the file is UTF-16 text, not UTF-8: save it as UTF-8 and import it again (PowerShell's > writes UTF-16; use Out-File -Encoding utf8)"},
		{"JSON in UTF-32", json, "\xff\xfe\x00\x00[\x00\x00\x00", FE{Reason: R{Code: cognitoimport.CodeFileEncoding, Args: []string{"UTF-32"}}},
			"the file is UTF-32 text, not UTF-8: save it as UTF-8 and import it again (PowerShell's > writes UTF-16; use Out-File -Encoding utf8)"},
		{"a CSV in UTF-32 without a byte order mark", csv, "c\x00\x00\x00o\x00\x00\x00", FE{Reason: R{Code: cognitoimport.CodeFileEncoding, Args: []string{"UTF-32"}}},
			"the file is UTF-32 text, not UTF-8: save it as UTF-8 and import it again (PowerShell's > writes UTF-16; use Out-File -Encoding utf8)"},
		{"a CSV whose last line has no line break", csv, "cognito:username,email,email_verified,cognito:mfa_enabled\nann,ann@example.com,true,false",
			FE{Line: 2, Reason: R{Code: cognitoimport.CodeCSVNoFinalLineBreak}},
			"the last line has no line break at its end, so the file may have been cut short; if it is whole, add a line break at its end and import it again"},
		{"a truncated file", json, `{"Users":[{"Username":"a"},{"Username":"b`, FE{Line: 1, Reason: R{Code: cognitoimport.CodeJSONTruncated}},
			"the JSON ends in the middle of a value; the file may be incomplete"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := readFile(tc.format, tc.file)
			var fe *cognitoimport.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *FileError", err)
			}
			if !reflect.DeepEqual(*fe, tc.want) {
				t.Errorf("file error %#v\nwant %#v", *fe, tc.want)
			}
			if got := fe.Problem(); got != tc.text {
				t.Errorf("problem %q\nwant %q", got, tc.text)
			}
		})
	}
}

// readFile reads file to its end, or to the error that stops it.
func readFile(format cognitoimport.Format, file string) error {
	src, err := cognitoimport.NewReader(strings.NewReader(file), format)
	if err != nil {
		return err
	}
	for {
		if _, err := src.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// A warning about the file as a whole is a reason with a code too, in the
// English the admin API has always shown.
func TestWarningCodes(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		format cognitoimport.Format
		file   string
		want   cognitoimport.Reason
		text   string
	}{
		{cognitoimport.FormatCSV, "\ufeff" + csvHeader + "\nann,ann@example.com,TRUE,,,,,,FALSE\n", cognitoimport.Reason{Code: cognitoimport.CodeCSVByteOrderMark},
			"the file starts with a UTF-8 byte order mark (BOM), which Cognito's import refuses; it was ignored"},
		{cognitoimport.FormatJSON, "\ufeff" + `{"Username":"bob"}`, cognitoimport.Reason{Code: cognitoimport.CodeJSONByteOrderMark},
			"the file starts with a UTF-8 byte order mark (BOM); it was ignored"},
	}
	for _, tc := range tests {
		sum, _ := f.mustRun(t, tc.format, tc.file, cognitoimport.Options{DryRun: true})
		if len(sum.Warnings) != 1 || !reflect.DeepEqual(sum.Warnings[0], tc.want) || sum.Warnings[0].String() != tc.text {
			t.Errorf("%s: warnings %#v, want %#v, %q", tc.format, sum.Warnings, tc.want, tc.text)
		}
	}
}

// The store refusing a line is a reason with a code too; what the store
// said is its argument, as no code can say it.
func TestReasonOfRefusedLine(t *testing.T) {
	f := newFixture(t)
	store := &refusingStore{Store: f.store, refuse: "bob"}
	src, err := cognitoimport.NewCSVReader(strings.NewReader(csvHeader + "\nbob,bob@example.com,TRUE,,,,,,FALSE\n"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []cognitoimport.LineResult
	if _, err := cognitoimport.Import(context.Background(), store, "acme", src, cognitoimport.Options{},
		func(r cognitoimport.LineResult) { lines = append(lines, r) }); err != nil {
		t.Fatal(err)
	}
	want := []cognitoimport.Reason{{Code: cognitoimport.CodeRefusedInvalid, Args: []string{`username "bob": invalid input: reserved by policy`}}}
	if len(lines) != 1 || !reflect.DeepEqual(lines[0].Reasons, want) ||
		lines[0].Reason != `the tenant refused the user: username "bob": invalid input: reserved by policy` {
		t.Errorf("lines %+v", lines)
	}
}

// Every code has English of its own: none reads as its code, and every
// argument it is given appears in it.
func TestEveryReasonCodeHasEnglish(t *testing.T) {
	codes := cognitoimport.ReasonCodes()
	if len(codes) == 0 {
		t.Fatal("no codes")
	}
	for _, code := range codes {
		r, ok := cognitoimport.SampleReason(code)
		if !ok {
			t.Errorf("%s: its English takes no number of arguments from 0 to 3 cleanly", code)
			continue
		}
		text := r.String()
		if text == code || text == "" {
			t.Errorf("%s: no English", code)
		}
		for _, a := range r.Args {
			if !strings.Contains(text, a) {
				t.Errorf("%s: %q leaves out %s", code, text, a)
			}
		}
	}
}

// Every rule of the tenant's validators that a line can break is one of
// this package's codes, so that front ends which word the codes themselves
// (the console) are held to have it.
func TestEveryTenantRuleIsAReasonCode(t *testing.T) {
	codes := cognitoimport.ReasonCodes()
	// The importer checks phone numbers and a group's name, description
	// and precedence itself, under codes of its own (CodePhoneNotE164,
	// CodeGroupName…), and creates the groups a line names, so none is
	// unknown. It makes no clients, so it meets no rule of theirs or of
	// their URIs.
	own := []string{tenant.CodeAttributePhone, tenant.CodeGroupDescLength, tenant.CodeGroupDescText, tenant.CodeGroupUnknown,
		tenant.CodeGroupNameLength, tenant.CodeGroupNameDots, tenant.CodeGroupNameSpaces, tenant.CodeGroupNameText,
		tenant.CodeGroupPrecedenceRange}
	for _, code := range tenant.InvalidCodes() {
		if strings.HasPrefix(code, "client.") || strings.HasPrefix(code, "uri.") {
			continue
		}
		if !slices.Contains(own, code) && !slices.Contains(codes, code) {
			t.Errorf("tenant rule %s is not among ReasonCodes", code)
		}
	}
}
