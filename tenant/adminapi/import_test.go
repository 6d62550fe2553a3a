package adminapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
	"github.com/cognate-idp/cognate/tenant/password"
)

const importToken = "import-test-operator-token"

// importFixture is the API over a real bbolt file with tenant acme.
type importFixture struct {
	handler http.Handler
	svc     *tenant.Service
}

func newImportFixture(t *testing.T) *importFixture {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	hasher, err := password.NewHasher(password.Params{Memory: 64, Iterations: 1, Parallelism: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	svc := &tenant.Service{Store: store, Hasher: hasher, Logger: logger, Now: time.Now}
	es256 := "ES256"
	if _, err := svc.CreateTenant(context.Background(), tenant.NewTenant{
		Slug: "acme", Settings: tenant.SettingsChange{SigningAlg: &es256}.Apply(tenant.Settings{}),
	}); err != nil {
		t.Fatal(err)
	}
	api := &API{Service: svc, Logger: logger, TokenHash: sha256.Sum256([]byte(importToken))}
	return &importFixture{handler: api.Handler(), svc: svc}
}

func (f *importFixture) post(t *testing.T, query, contentType, body string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/admin/v1/tenants/acme/import"+query, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+importToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func (f *importFixture) userCount(t *testing.T) int {
	t.Helper()
	page, err := f.svc.ListUsers(context.Background(), "acme", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Users)
}

const importCSV = "cognito:username,email,email_verified,cognito:mfa_enabled\n" +
	"ann,ann@example.com,TRUE,FALSE\n" +
	"bob,bob@example.com,FALSE,FALSE\n" +
	"carol,carol@example.com,TRUE,TRUE\n"

func TestImportEndpoint(t *testing.T) {
	f := newImportFixture(t)
	steps := []struct {
		name        string
		query       string
		contentType string
		body        string
		status      int
		message     string // substring of an error's message
		check       func(t *testing.T, res ImportResult)
		users       int // users in acme afterwards
	}{
		{name: "a dry run writes nothing", query: "?format=csv&dry_run=true", body: importCSV, status: 200, users: 0,
			check: func(t *testing.T, res ImportResult) {
				if !res.DryRun || res.Summary != (ImportSummary{Created: 2, Failed: 1}) || len(res.Lines) != 3 {
					t.Errorf("%+v", res)
				}
			}},
		{name: "CSV", query: "?format=csv", body: importCSV, status: 200, users: 2,
			check: func(t *testing.T, res ImportResult) {
				if res.DryRun || res.Summary != (ImportSummary{Created: 2, Failed: 1}) || res.LinesOmitted != 0 || len(res.Warnings) != 0 {
					t.Errorf("%+v", res)
				}
				want := []ImportLine{
					{Line: 2, Username: "ann", Outcome: "created"},
					{Line: 3, Username: "bob", Outcome: "failed", Reason: "auto verified attributes"},
					{Line: 4, Username: "carol", Outcome: "created", Reason: "MFA was enabled in Cognito"},
				}
				for i, w := range want {
					got := res.Lines[i]
					if got.Line != w.Line || got.Username != w.Username || got.Outcome != w.Outcome || !strings.Contains(got.Reason, w.Reason) ||
						(got.Outcome == "created") != (got.Sub != "") {
						t.Errorf("line %+v, want %+v", got, w)
					}
				}
			}},
		{name: "the same file again changes nothing", query: "?format=csv", body: importCSV, status: 200, users: 2,
			check: func(t *testing.T, res ImportResult) {
				if res.Summary != (ImportSummary{Skipped: 2, Failed: 1}) {
					t.Errorf("%+v", res.Summary)
				}
			}},
		{name: "JSON by its content type, with groups", contentType: "application/json; charset=utf-8", status: 200, users: 3,
			body: `{"Users":[{"Username":"dave","Attributes":[{"Name":"sub","Value":"d0000000-0000-4000-8000-000000000004"}],` +
				`"UserStatus":"CONFIRMED","Enabled":false,"Groups":[{"GroupName":"staff"}]}]}`,
			check: func(t *testing.T, res ImportResult) {
				if res.Summary != (ImportSummary{Created: 1, GroupsCreated: 1}) || res.Lines[0].Sub != "d0000000-0000-4000-8000-000000000004" {
					t.Errorf("%+v", res)
				}
			}},
		{name: "a byte order mark is a warning", query: "?format=csv", body: "\ufeff" + importCSV, status: 200, users: 3,
			check: func(t *testing.T, res ImportResult) {
				if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "byte order mark") {
					t.Errorf("warnings %q", res.Warnings)
				}
			}},
		{name: "no format", body: importCSV, status: 400, message: "format=csv or format=json", users: 3},
		{name: "a wrong format", query: "?format=xml", body: importCSV, status: 400, message: "format must be csv or json", users: 3},
		{name: "a misspelt dry_run is refused, not ignored", query: "?format=csv&dryrun=true", body: importCSV, status: 400,
			message: `unknown query parameter "dryrun"`, users: 3},
		{name: "a bad dry_run", query: "?format=csv&dry_run=maybe", body: importCSV, status: 400, message: "dry_run must be true or false", users: 3},
		{name: "a dry_run without a value is refused, not read as false", query: "?format=csv&dry_run", body: importCSV, status: 400,
			message: "query parameter dry_run is empty", users: 3},
		{name: "an empty dry_run", query: "?format=csv&dry_run=", body: importCSV, status: 400, message: "query parameter dry_run is empty", users: 3},
		{name: "a CSV without Cognito's header writes nothing", query: "?format=csv", body: "username,email\nzed,zed@example.com\n",
			status: 400, message: "the file cannot be imported: line 1: the header row is not Cognito's", users: 3},
		{name: "not JSON", query: "?format=json", body: importCSV, status: 400, message: "not valid JSON at line 1, column 1", users: 3},
		{name: "JSON that breaks part-way", query: "?format=json", status: 400, users: 3,
			body: `{"Username":"ann"}` + "\n" + `{"Username":`, message: "after user 1: the JSON ends in the middle of a value"},
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			status, body := f.post(t, st.query, st.contentType, st.body)
			if status != st.status {
				t.Fatalf("status %d, want %d: %s", status, st.status, body)
			}
			if st.message != "" {
				var e Error
				if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Message, st.message) {
					t.Errorf("error %s, want a message with %q", body, st.message)
				}
			}
			if st.check != nil {
				var res ImportResult
				if err := json.Unmarshal(body, &res); err != nil {
					t.Fatalf("%v: %s", err, body)
				}
				st.check(t, res)
			}
			if n := f.userCount(t); n != st.users {
				t.Errorf("%d users in acme, want %d", n, st.users)
			}
		})
		if !ok {
			break
		}
	}
}

// The API answers in English, whatever language the console speaks: a
// file's problem and its warnings read as they always have (the texts
// below are the importer's before they had codes), and warnings stay an
// array of strings, empty when there are none.
func TestImportEndpointSaysFileProblemsInEnglish(t *testing.T) {
	f := newImportFixture(t)
	refusals := []struct{ name, query, body, message string }{
		{"a user's values instead of the header", "?format=csv", "alice,alice@example.com,TRUE,FALSE\n",
			"the file cannot be imported: line 1: the header row is not Cognito's: columns 1, 2, 3 and 4 hold values, not column names: " +
				"the first line must be the header of GetCSVHeader, naming the columns (cognito:username, email, email_verified, …); " +
				"the required column cognito:username is missing; the required column cognito:mfa_enabled is missing; " +
				"neither email_verified nor phone_number_verified is a column; Cognito needs one of them true for every user. Nothing was written."},
		{"a misspelt column", "?format=csv", "cognito:username,cognito:mfa_enabled,email_verified,emial\n",
			`the file cannot be imported: line 1: the header row is not Cognito's: column 4: "emial" is not a Cognito attribute ` +
				"(standard names, custom:<name>, cognito:username, cognito:mfa_enabled, cognate:password_hash). Nothing was written."},
		{"an empty CSV", "?format=csv", "",
			"the file cannot be imported: the file is empty; a Cognito CSV starts with a header row of column names (GetCSVHeader). Nothing was written."},
		{"a JSON string", "?format=json", `"Users"`,
			"the file cannot be imported: the file is JSON but not an object or an array; want a dump of ListUsers or AdminGetUser output. Nothing was written."},
		{"a CSV cut short in its last line", "?format=csv", "cognito:username,email,email_verified,cognito:mfa_enabled\nann,ann@example.com,TRUE,FALSE",
			"the file cannot be imported: line 2: the last line has no line break at its end, so the file may have been cut short; " +
				"if it is whole, add a line break at its end and import it again. Nothing was written."},
		{"JSON in UTF-16, as PowerShell's > writes it", "?format=json", "\xff\xfe[\x00{\x00",
			"the file cannot be imported: the file is UTF-16 text, not UTF-8: save it as UTF-8 and import it again " +
				"(PowerShell's > writes UTF-16; use Out-File -Encoding utf8). Nothing was written."},
		{"JSON with a missing comma", "?format=json", "{\"Username\":\"ann\"}\n{\"Username\":\"bob\" \"Enabled\":true}\n",
			"the file cannot be imported: after user 1: the file is not valid JSON at line 2, column 19. " +
				"Nothing was written. Users 1 to 1 were read but not written: users are written 1000 at a time, and the import stopped in that batch. " +
				"Importing the corrected file again is safe."},
	}
	for _, tc := range refusals {
		status, body := f.post(t, tc.query, "", tc.body)
		var e Error
		if err := json.Unmarshal(body, &e); status != http.StatusBadRequest || err != nil || e.Message != tc.message {
			t.Errorf("%s: %d %s\nwant message %q", tc.name, status, body, tc.message)
		}
	}
	warnings := []struct{ name, query, body, warnings string }{
		{"a CSV with a byte order mark", "?format=csv&dry_run=true", "\ufeff" + importCSV,
			`"warnings":["the file starts with a UTF-8 byte order mark (BOM), which Cognito's import refuses; it was ignored"]`},
		{"a JSON file with a byte order mark", "?format=json&dry_run=true", "\ufeff" + `{"Username":"ann"}`,
			`"warnings":["the file starts with a UTF-8 byte order mark (BOM); it was ignored"]`},
		{"a file without warnings", "?format=csv&dry_run=true", importCSV, `"warnings":[]`},
	}
	for _, tc := range warnings {
		status, body := f.post(t, tc.query, "", tc.body)
		if status != http.StatusOK || !strings.Contains(string(body), tc.warnings) {
			t.Errorf("%s: %d %s\nwant %s", tc.name, status, body, tc.warnings)
		}
	}
}

// An import logs one line: what it did, or, when it stopped, the refusal
// or failure, which says how far it got.
func TestImportLogsOneLine(t *testing.T) {
	f := newImportFixture(t)
	var log bytes.Buffer
	api := &API{Service: f.svc, Logger: slog.New(slog.NewTextHandler(&log, nil)), TokenHash: sha256.Sum256([]byte(importToken))}
	f.handler = api.Handler()
	tests := []struct{ name, query, body, want string }{
		{"a whole file", "?format=csv", importCSV, `level=INFO msg="user import" tenant=acme format=csv dry_run=false created=2 updated=0 skipped=0 failed=1`},
		{"a header that is not Cognito's", "?format=csv", "username,email\n", `level=WARN msg="admin API request refused"`},
		{"JSON that stops part-way", "?format=json", `{"Username":"zed"}` + "\n" + `{"Username":`,
			`level=WARN msg="admin API request refused" method=POST path=/admin/v1/tenants/acme/import remote=192.0.2.1 status=400 error=invalid_request ` +
				`description="the file cannot be imported: after user 1: the JSON ends in the middle of a value; the file may be incomplete. Nothing was written. ` +
				`Users 1 to 1 were read but not written`},
		{"a dry run that stops part-way", "?format=json&dry_run=true", `{"Username":"zed"}` + "\n" + `{"Username":`,
			`description="the file cannot be imported: after user 1: the JSON ends in the middle of a value; the file may be incomplete."`},
	}
	for _, tc := range tests {
		log.Reset()
		f.post(t, tc.query, "", tc.body)
		if lines := strings.Split(strings.TrimSpace(log.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
			t.Errorf("%s: log\n%s\nwant one line with\n%s", tc.name, log.String(), tc.want)
		}
	}
}

func TestImportEndpointRefusals(t *testing.T) {
	f := newImportFixture(t)
	req := httptest.NewRequest(http.MethodPost, "/admin/v1/tenants/nope/import?format=csv", strings.NewReader(importCSV))
	req.Header.Set("Authorization", "Bearer "+importToken)
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `tenant \"nope\" does not exist`) {
		t.Errorf("unknown tenant: %d %s", rec.Code, rec.Body)
	}

	req = httptest.NewRequest(http.MethodPost, "/admin/v1/tenants/acme/import?format=csv", strings.NewReader(importCSV))
	rec = httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || f.userCount(t) != 0 {
		t.Errorf("without a token: %d, %d users", rec.Code, f.userCount(t))
	}

	// The limit itself is too large to send in a test; its error is not.
	err := importError(&http.MaxBytesError{Limit: maxImportBody}, cognitoimport.FormatCSV, cognitoimport.Summary{Created: 7, LastCounted: 8, LastRead: 8}, false)
	status, body := classify(httptest.NewRequest(http.MethodPost, "/", nil), err)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body.Message, "512 MiB") || !strings.Contains(body.Message, "7 created") {
		t.Errorf("too large: %d %+v", status, body)
	}
}

// An import that stops says exactly what it wrote and what it read but did
// not write: users are written 1,000 at a time, so the ones read since the
// last full batch are not.
func TestImportErrorSaysWhatWasWritten(t *testing.T) {
	truncated := &cognitoimport.FileError{Line: 1500, Reason: cognitoimport.Reason{Code: cognitoimport.CodeJSONTruncated}}
	tests := []struct {
		name    string
		err     error
		format  cognitoimport.Format
		sum     cognitoimport.Summary
		dryRun  bool
		want    string // the whole message
		wantNot string
	}{
		{name: "cut after one and a half batches", err: truncated, format: cognitoimport.FormatJSON,
			sum: cognitoimport.Summary{Created: 990, Updated: 4, Skipped: 3, Failed: 3, LastCounted: 1000, LastRead: 1500},
			want: "the file cannot be imported: after user 1500: the JSON ends in the middle of a value; the file may be incomplete. " +
				"Users 1 to 1000 were imported (990 created, 4 updated, 3 skipped, 3 failed) and stay. " +
				"Users 1001 to 1500 were read but not written: users are written 1000 at a time, and the import stopped in that batch. " +
				"Importing the corrected file again is safe."},
		{name: "cut in the first batch", err: &cognitoimport.FileError{Line: 500, Reason: cognitoimport.Reason{Code: cognitoimport.CodeJSONSyntax, Args: []string{"3001", "77"}}},
			format: cognitoimport.FormatJSON, sum: cognitoimport.Summary{LastRead: 500},
			want: "the file cannot be imported: after user 500: the file is not valid JSON at line 3001, column 77. Nothing was written. " +
				"Users 1 to 500 were read but not written: users are written 1000 at a time, and the import stopped in that batch. " +
				"Importing the corrected file again is safe."},
		{name: "cut at a batch's end", err: &cognitoimport.FileError{Line: 2000, Reason: cognitoimport.Reason{Code: cognitoimport.CodeJSONTruncated}},
			format: cognitoimport.FormatJSON, sum: cognitoimport.Summary{Created: 2000, LastCounted: 2000, LastRead: 2000},
			want: "the file cannot be imported: after user 2000: the JSON ends in the middle of a value; the file may be incomplete. " +
				"Users 1 to 2000 were imported (2000 created, 0 updated, 0 skipped, 0 failed) and stay. Importing the corrected file again is safe."},
		{name: "a CSV too large, in lines", err: &http.MaxBytesError{Limit: maxImportBody}, format: cognitoimport.FormatCSV,
			sum: cognitoimport.Summary{Created: 1000, LastCounted: 1003, LastRead: 1700},
			want: "the file is larger than the import limit of 512 MiB; split it. " +
				"Lines 2 to 1003 were imported (1000 created, 0 updated, 0 skipped, 0 failed) and stay. " +
				"Lines 1004 to 1700 were read but not written: lines are written 1000 at a time, and the import stopped in that batch. " +
				"Importing the corrected file again is safe."},
		{name: "a bad header", err: &cognitoimport.FileError{Line: 1, Reason: cognitoimport.Reason{Code: cognitoimport.CodeCSVHeader}}, format: cognitoimport.FormatCSV,
			want: "the file cannot be imported: line 1: the header row is not Cognito's. Nothing was written."},
		{name: "a dry run wrote nothing and says nothing of batches", err: truncated, format: cognitoimport.FormatJSON, dryRun: true,
			sum:  cognitoimport.Summary{Created: 1000, LastCounted: 1000, LastRead: 1500},
			want: "the file cannot be imported: after user 1500: the JSON ends in the middle of a value; the file may be incomplete."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, body := classify(httptest.NewRequest(http.MethodPost, "/", nil), importError(tc.err, tc.format, tc.sum, tc.dryRun))
			if body.Message != tc.want {
				t.Errorf("message %q\nwant    %q", body.Message, tc.want)
			}
		})
	}
}

// The tester's case, end to end: 1,500 JSON-lines users and a truncated
// record. Users 1 to 1,000 are written and the message says so; it says
// that 1,001 to 1,500 are not, and they are not.
func TestImportEndpointStoppedPartWay(t *testing.T) {
	f := newImportFixture(t)
	var b strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&b, `{"Username":"u%d"}`+"\n", i+1)
	}
	b.WriteString(`{"Username":"u1501","Attri`)
	status, body := f.post(t, "?format=json", "", b.String())
	var e Error
	if err := json.Unmarshal(body, &e); err != nil || status != http.StatusBadRequest {
		t.Fatalf("%d %s", status, body)
	}
	for _, want := range []string{"after user 1500: the JSON ends in the middle of a value",
		"Users 1 to 1000 were imported (1000 created, 0 updated, 0 skipped, 0 failed) and stay.",
		"Users 1001 to 1500 were read but not written"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q\nwant %q", e.Message, want)
		}
	}
	n, after := 0, ""
	for {
		page, err := f.svc.ListUsers(context.Background(), "acme", after, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			n++
			if u.Username == "u1001" {
				t.Error("user 1001 is stored, but was in the batch that was not written")
			}
		}
		if after = page.Next; after == "" {
			break
		}
	}
	if n != 1000 {
		t.Errorf("%d users stored, want 1000", n)
	}
}

func TestImportEndpointCapsLines(t *testing.T) {
	f := newImportFixture(t)
	var b strings.Builder
	b.WriteString("cognito:username,email,email_verified,cognito:mfa_enabled\n")
	const good, bad = 1500, 20
	for i := range good + bad {
		verified := "TRUE"
		if i%((good+bad)/bad) == 0 {
			verified = "FALSE" // fails: nothing verified
		}
		fmt.Fprintf(&b, "u%d,u%d@example.com,%s,FALSE\n", i, i, verified)
	}
	status, body := f.post(t, "?format=csv", "", b.String())
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var res ImportResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, l := range res.Lines {
		if l.Outcome == "failed" {
			failed++
		}
	}
	if res.Summary.Created != good || res.Summary.Failed != bad || failed != bad ||
		len(res.Lines) != maxReportedOthers+bad || res.LinesOmitted != good-maxReportedOthers {
		t.Errorf("summary %+v, %d lines (%d failed), %d omitted", res.Summary, len(res.Lines), failed, res.LinesOmitted)
	}
	if !slices.IsSortedFunc(res.Lines, func(a, b ImportLine) int { return a.Line - b.Line }) {
		t.Error("lines are not in file order")
	}
}

// TestImportOpenAPISchemas holds the import's wire types to docs/openapi.yaml,
// as TestOpenAPIMatches does for the others.
func TestImportOpenAPISchemas(t *testing.T) {
	var doc struct {
		Components struct{ Schemas map[string]schema } `yaml:"components"`
	}
	ReadOpenAPI(t, &doc)
	for name, v := range map[string]any{"ImportResult": ImportResult{}, "ImportSummary": ImportSummary{}, "ImportLine": ImportLine{}} {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s is not documented", name)
			continue
		}
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		slices.Sort(props)
		if fields := jsonFields(reflect.TypeOf(v)); !slices.Equal(props, fields) {
			t.Errorf("schema %s has properties %v, the type has %v", name, props, fields)
		}
	}
}

// cancelOnRead cancels the request's context when the import reads it:
// the client left part way through the file.
type cancelOnRead struct{ cancel context.CancelFunc }

func (c cancelOnRead) Read([]byte) (int, error) {
	c.cancel()
	return 0, io.EOF
}

// An import the client leaves part way keeps what it wrote, and its event
// in the trail says so: the record is not the request's to cancel.
func TestImportLeftPartWayIsAudited(t *testing.T) {
	f := newImportFixture(t)
	users := func(from, to int) io.Reader {
		var b strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, `{"Username":"u%d"}`+"\n", i)
		}
		return strings.NewReader(b.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Batches of 1000 users: those read before the client leaves are
	// written, the last one is not.
	body := io.MultiReader(users(1, 2000), cancelOnRead{cancel}, users(2001, 2010))
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/admin/v1/tenants/acme/import?format=json", body)
	req.Header.Set("Authorization", "Bearer "+importToken)
	f.handler.ServeHTTP(httptest.NewRecorder(), req)

	stored, after := 0, ""
	for {
		page, err := f.svc.ListUsers(context.Background(), "acme", after, 100)
		if err != nil {
			t.Fatal(err)
		}
		stored += len(page.Users)
		if after = page.Next; after == "" {
			break
		}
	}
	if stored == 0 || stored == 2010 {
		t.Fatalf("%d users stored: the client did not leave part way", stored)
	}
	page, err := f.svc.AuditLog(context.Background(), "acme", tenant.AuditQuery{Action: string(tenant.AuditUserImport)})
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(stored); len(page.Events) != 1 || page.Events[0].Details["created"] != want {
		t.Fatalf("import events %+v, want one of %s created", page.Events, want)
	}
}
