package cognitoimport_test

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
	"github.com/cognate-idp/cognate/tenant/password"
)

// fixture is a real service over a bbolt file with tenant acme.
type fixture struct {
	store  tenant.Store
	svc    *tenant.Service
	hasher *password.Hasher
	now    time.Time
}

func newFixture(t testing.TB) *fixture {
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
	f := &fixture{store: store, hasher: hasher, now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	f.svc = &tenant.Service{Store: store, Hasher: hasher, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return f.now }}
	es256 := "ES256"
	if _, err := f.svc.CreateTenant(context.Background(), tenant.NewTenant{
		Slug: "acme", Settings: tenant.SettingsChange{SigningAlg: &es256}.Apply(tenant.Settings{}),
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

// run imports file into acme and returns the summary and every line's result.
func (f *fixture) run(t testing.TB, format cognitoimport.Format, file string, opts cognitoimport.Options) (cognitoimport.Summary, []cognitoimport.LineResult, error) {
	t.Helper()
	src, err := cognitoimport.NewReader(strings.NewReader(file), format)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return f.now }
	}
	var lines []cognitoimport.LineResult
	sum, err := cognitoimport.Import(context.Background(), f.store, "acme", src, opts, func(r cognitoimport.LineResult) {
		lines = append(lines, r)
	})
	return sum, lines, err
}

// mustRun is run for imports that must succeed as a whole.
func (f *fixture) mustRun(t testing.TB, format cognitoimport.Format, file string, opts cognitoimport.Options) (cognitoimport.Summary, []cognitoimport.LineResult) {
	t.Helper()
	sum, lines, err := f.run(t, format, file, opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return sum, lines
}

// users lists every user of acme through the service, by username.
func (f *fixture) users(t testing.TB) map[string]tenant.User {
	t.Helper()
	out := map[string]tenant.User{}
	after := ""
	for {
		page, err := f.svc.ListUsers(context.Background(), "acme", after, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			if _, dup := out[u.Username]; dup {
				t.Fatalf("username %q twice", u.Username)
			}
			out[u.Username] = u
		}
		if page.Next == "" {
			return out
		}
		after = page.Next
	}
}

func (f *fixture) group(t testing.TB, name string) (tenant.Group, bool) {
	t.Helper()
	var g tenant.Group
	err := f.store.View(context.Background(), func(tx tenant.Tx) (err error) {
		g, err = tenant.GetJSON[tenant.Group](tx, tenant.CollGroups, "acme", name)
		return err
	})
	if err != nil && !errors.Is(err, tenant.ErrNotFound) {
		t.Fatal(err)
	}
	return g, err == nil
}

func summary(created, updated, skipped, failed int) cognitoimport.Summary {
	return cognitoimport.Summary{Created: created, Updated: updated, Skipped: skipped, Failed: failed}
}

func sameCounts(a, b cognitoimport.Summary) bool {
	return a.Created == b.Created && a.Updated == b.Updated && a.Skipped == b.Skipped && a.Failed == b.Failed
}

const csvHeader = "cognito:username,email,email_verified,phone_number,phone_number_verified,given_name,birthdate,custom:org,cognito:mfa_enabled"

func TestImportCSV(t *testing.T) {
	f := newFixture(t)
	file := csvHeader + "\n" +
		"ann,ann@example.com,TRUE,,,Ann,02/01/1985,acme-id,FALSE\n" +
		"bob,,FALSE,+31612345678,true,Bob\\, Jr.,,,TRUE\n" +
		"carol,carol@example.com,FALSE,,,,,,FALSE\n" +
		"dave,dave@example,TRUE,,,,,,FALSE\n" +
		"erin,erin@example.com,TRUE,0612345678,false,,,,FALSE\n"
	sum, lines := f.mustRun(t, cognitoimport.FormatCSV, file, cognitoimport.Options{})
	if !sameCounts(sum, summary(2, 0, 0, 3)) {
		t.Errorf("summary %+v", sum)
	}
	wantLines := []struct {
		line     int
		username string
		outcome  cognitoimport.Outcome
		reason   string
	}{
		{2, "ann", cognitoimport.Created, ""},
		{3, "bob", cognitoimport.Created, "MFA was enabled in Cognito"},
		{4, "carol", cognitoimport.Failed, "auto verified attributes"},
		{5, "dave", cognitoimport.Failed, "is not an email address"},
		{6, "erin", cognitoimport.Failed, "not in E.164 form"},
	}
	if len(lines) != len(wantLines) {
		t.Fatalf("%d line results, want %d: %+v", len(lines), len(wantLines), lines)
	}
	for i, w := range wantLines {
		got := lines[i]
		if got.Line != w.line || got.Username != w.username || got.Outcome != w.outcome || !strings.Contains(got.Reason, w.reason) ||
			(w.reason == "" && got.Reason != "") {
			t.Errorf("line result %+v, want %+v", got, w)
		}
		if (got.Outcome == cognitoimport.Created) != (got.Sub != "") {
			t.Errorf("line %d: sub %q", got.Line, got.Sub)
		}
	}

	users := f.users(t)
	if len(users) != 2 {
		t.Fatalf("%d users", len(users))
	}
	ann, bob := users["ann"], users["bob"]
	if ann.Sub != lines[0].Sub || ann.Status != tenant.StatusResetRequired || !ann.Enabled || ann.Email != "ann@example.com" || !ann.EmailVerified ||
		ann.PasswordHash != "" || !ann.CreatedAt.Equal(f.now) {
		t.Errorf("ann: %+v", ann)
	}
	if ann.Attributes["given_name"] != "Ann" || ann.Attributes["birthdate"] != "1985-02-01" || ann.Attributes["custom:org"] != "acme-id" ||
		len(ann.Attributes) != 3 {
		t.Errorf("ann attributes %v", ann.Attributes)
	}
	if bob.Email != "" || bob.EmailVerified || bob.Attributes["phone_number"] != "+31612345678" || bob.Attributes["phone_number_verified"] != "true" ||
		bob.Attributes["given_name"] != "Bob, Jr." || bob.Attributes[cognitoimport.AttrMFAReenroll] != "true" {
		t.Errorf("bob: %+v", bob)
	}
}

func TestImportIsIdempotent(t *testing.T) {
	csvFile := func(orgOfAnn string) string {
		return csvHeader + "\n" +
			"ann,ann@example.com,TRUE,,,Ann,," + orgOfAnn + ",TRUE\n" +
			"bob,bob@example.com,TRUE,,,Bob,,,FALSE\n" +
			"carol,carol@example.com,TRUE,,,,,,FALSE\n"
	}
	jsonFile := func(orgOfAnn string) string {
		return `{"Users":[` +
			`{"Username":"ann","Attributes":[{"Name":"sub","Value":"a0000000-0000-4000-8000-000000000001"},{"Name":"custom:org","Value":"` + orgOfAnn + `"}],"UserStatus":"CONFIRMED","Enabled":true,"Groups":[{"GroupName":"staff"}]},` +
			`{"Username":"bob","Attributes":[{"Name":"sub","Value":"b0000000-0000-4000-8000-000000000002"}],"UserStatus":"UNCONFIRMED","Enabled":true},` +
			`{"Username":"carol","Attributes":[],"UserStatus":"CONFIRMED","Enabled":false}]}`
	}
	for _, tc := range []struct {
		format cognitoimport.Format
		file   func(string) string
	}{{cognitoimport.FormatCSV, csvFile}, {cognitoimport.FormatJSON, jsonFile}} {
		t.Run(string(tc.format), func(t *testing.T) {
			f := newFixture(t)
			// Batches of 2, so the re-runs cross a batch boundary too.
			opts := cognitoimport.Options{BatchSize: 2}
			sum, first := f.mustRun(t, tc.format, tc.file("x"), opts)
			if !sameCounts(sum, summary(3, 0, 0, 0)) {
				t.Fatalf("first run: %+v %+v", sum, first)
			}
			subs := map[string]string{}
			for _, u := range f.users(t) {
				subs[u.Username] = u.Sub
			}

			f.now = f.now.Add(time.Hour)
			sum, second := f.mustRun(t, tc.format, tc.file("x"), opts)
			if !sameCounts(sum, summary(0, 0, 3, 0)) {
				t.Errorf("second run of the same file: %+v, want every line skipped as unchanged", sum)
			}
			for i, res := range second {
				if res.Sub != first[i].Sub {
					t.Errorf("second run: %s has sub %s, first run %s", res.Username, res.Sub, first[i].Sub)
				}
			}

			f.now = f.now.Add(time.Hour)
			sum, _ = f.mustRun(t, tc.format, tc.file("y"), opts)
			if !sameCounts(sum, summary(0, 1, 2, 0)) {
				t.Errorf("third run with one changed attribute: %+v", sum)
			}
			users := f.users(t)
			if len(users) != 3 {
				t.Fatalf("%d users after three runs, want 3", len(users))
			}
			for name, u := range users {
				if u.Sub != subs[name] {
					t.Errorf("%s: sub %s, was %s", name, u.Sub, subs[name])
				}
			}
			ann := users["ann"]
			if ann.Attributes["custom:org"] != "y" || !ann.UpdatedAt.Equal(f.now) || !ann.CreatedAt.Equal(f.now.Add(-2*time.Hour)) {
				t.Errorf("ann after the third run: %+v", ann)
			}
		})
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	f := newFixture(t)
	file := `[{"Username":"ann","Groups":["staff"],"UserStatus":"CONFIRMED"},` +
		`{"Username":"ann","Groups":["staff"],"UserStatus":"CONFIRMED","Attributes":[{"Name":"given_name","Value":"Ann"}]},` +
		`{"Username":"bob","UserStatus":"NOPE"},{"Username":"carol"}]`
	dry, dryLines := f.mustRun(t, cognitoimport.FormatJSON, file, cognitoimport.Options{DryRun: true})
	// The second ann sees the first, as in a real run: one transaction
	// holds both.
	if !sameCounts(dry, summary(2, 1, 0, 1)) || dry.GroupsCreated != 1 {
		t.Errorf("dry run: %+v %+v", dry, dryLines)
	}
	if users := f.users(t); len(users) != 0 {
		t.Errorf("a dry run wrote %d users", len(users))
	}
	if _, ok := f.group(t, "staff"); ok {
		t.Error("a dry run created a group")
	}
	real, realLines := f.mustRun(t, cognitoimport.FormatJSON, file, cognitoimport.Options{})
	if !sameCounts(real, dry) || real.GroupsCreated != dry.GroupsCreated {
		t.Errorf("real run %+v, dry run %+v", real, dry)
	}
	for i := range realLines {
		if realLines[i].Outcome != dryLines[i].Outcome || realLines[i].Reason != dryLines[i].Reason {
			t.Errorf("line %d: real %+v, dry %+v", i+1, realLines[i], dryLines[i])
		}
	}
}

// A username with an @ must not be another user's email address, which
// the tenant checks by scanning its email index: a dry run's scan sees the
// store and the lines before it, as a real run's does, and answers the
// same, line by line.
func TestImportDryRunScansEmailIndex(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.CreateUser(context.Background(), "acme", tenant.NewUser{Username: "bob", Email: "old@example.com"}); err != nil {
		t.Fatal(err)
	}
	file := csvHeader + "\n" +
		"ann@example.com,ann@example.com,TRUE,,,,,,FALSE\n" + // an @ in a new username
		"carol,dan@example.com,TRUE,,,,,,FALSE\n" +
		"dan@example.com,,FALSE,+31612345678,TRUE,,,,FALSE\n" + // carol's address, since the line before
		"bob,new@example.com,TRUE,,,,,,FALSE\n" +
		"old@example.com,,FALSE,+31612345679,TRUE,,,,FALSE\n" // bob's address no longer
	wantOutcomes := []cognitoimport.Outcome{cognitoimport.Created, cognitoimport.Created, cognitoimport.Failed, cognitoimport.Updated, cognitoimport.Created}

	dry, dryLines, err := f.run(t, cognitoimport.FormatCSV, file, cognitoimport.Options{DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if users := f.users(t); len(users) != 1 {
		t.Errorf("a dry run wrote users: %d", len(users))
	}
	real, realLines := f.mustRun(t, cognitoimport.FormatCSV, file, cognitoimport.Options{})
	if !sameCounts(dry, summary(3, 1, 0, 1)) || !sameCounts(real, dry) {
		t.Errorf("dry run %+v, real run %+v", dry, real)
	}
	for i, want := range wantOutcomes {
		if dryLines[i].Outcome != want || realLines[i].Outcome != want || dryLines[i].Reason != realLines[i].Reason {
			t.Errorf("line %d: dry %+v, real %+v, want %s", i+2, dryLines[i], realLines[i], want)
		}
	}
	if r := dryLines[2].Reasons; len(r) != 1 || r[0].Code != tenant.CodeUsernameIsEmail {
		t.Errorf("line 4: %+v", dryLines[2])
	}
}

func TestImportConflictFailsOnlyItsLine(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	taken, err := f.svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "taken", Email: "taken@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := f.svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "kept", Sub: "c0000000-0000-4000-8000-000000000003"})
	if err != nil {
		t.Fatal(err)
	}
	user := func(name, sub string) string {
		return `{"Username":"` + name + `","Attributes":[{"Name":"sub","Value":"` + sub + `"}],"UserStatus":"CONFIRMED"}`
	}
	file := `{"Users":[` + strings.Join([]string{
		user("ok1", "a0000000-0000-4000-8000-000000000001"),
		user("TAKEN", "d0000000-0000-4000-8000-000000000004"), // the username belongs to another sub
		user("ok2", "a0000000-0000-4000-8000-000000000002"),
		user("renamed", kept.Sub), // the sub belongs to another username
		user("ok3", "a0000000-0000-4000-8000-000000000003"),
		user("ok1-again", "a0000000-0000-4000-8000-000000000001"), // this file's ok1
	}, ",") + `]}`
	sum, lines := f.mustRun(t, cognitoimport.FormatJSON, file, cognitoimport.Options{BatchSize: 100})
	if !sameCounts(sum, summary(3, 0, 0, 3)) {
		t.Errorf("summary %+v", sum)
	}
	for i, want := range []string{"", "belongs to another user here (sub " + taken.Sub, "", `belongs to user "kept" here`, "", `belongs to user "ok1" here`} {
		got := lines[i]
		if (want == "") != (got.Outcome == cognitoimport.Created) || !strings.Contains(got.Reason, want) {
			t.Errorf("line %d: %+v, want reason %q", i+1, got, want)
		}
	}
	users := f.users(t)
	if len(users) != 5 {
		t.Errorf("%d users, want the 2 earlier ones and 3 imported", len(users))
	}
	if users["kept"].Status != tenant.StatusUnconfirmed {
		t.Errorf("the user whose sub was in the file changed: %+v", users["kept"])
	}
}

// refusingStore is the real store whose transactions refuse to store one
// username, as a rule only the store knows would: the importer cannot see
// it coming and must redo the batch without that line.
type refusingStore struct {
	tenant.Store
	refuse  string
	updates atomic.Int32
}

func (s *refusingStore) Update(ctx context.Context, fn func(tenant.Tx) error) error {
	s.updates.Add(1)
	return s.Store.Update(ctx, func(tx tenant.Tx) error { return fn(&refusingTx{Tx: tx, refuse: s.refuse}) })
}

type refusingTx struct {
	tenant.Tx
	refuse string
}

func (tx *refusingTx) Put(c tenant.Collection, tenantID, key string, value []byte) error {
	if c == tenant.CollUsersByName && key == tx.refuse {
		return fmt.Errorf("username %q: %w: reserved by policy", key, tenant.ErrInvalid)
	}
	return tx.Tx.Put(c, tenantID, key, value)
}

func TestImportRedoesBatchWithoutRefusedLine(t *testing.T) {
	f := newFixture(t)
	store := &refusingStore{Store: f.store, refuse: "bob"}
	file := csvHeader + "\nann,ann@example.com,TRUE,,,,,,FALSE\nbob,bob@example.com,TRUE,,,,,,FALSE\ncarol,carol@example.com,TRUE,,,,,,FALSE\n"
	src, err := cognitoimport.NewCSVReader(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var lines []cognitoimport.LineResult
	sum, err := cognitoimport.Import(context.Background(), store, "acme", src, cognitoimport.Options{},
		func(r cognitoimport.LineResult) { lines = append(lines, r) })
	if err != nil {
		t.Fatal(err)
	}
	if !sameCounts(sum, summary(2, 0, 0, 1)) || lines[1].Outcome != cognitoimport.Failed || !strings.Contains(lines[1].Reason, "reserved by policy") {
		t.Errorf("summary %+v, lines %+v", sum, lines)
	}
	if n := store.updates.Load(); n != 2 {
		t.Errorf("%d transactions, want 2: the batch, then the batch without bob", n)
	}
	users := f.users(t)
	if _, ok := users["bob"]; ok || len(users) != 2 {
		t.Errorf("users %v", slices.Collect(maps.Keys(users)))
	}
}

func TestImportPasswordHashes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const pw = "Tr0ub4dor&3"
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	argonHash, err := f.hasher.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	salt := []byte("0123456789abcdef")
	key, err := pbkdf2.Key(sha256.New, pw, salt, 1000, 32)
	if err != nil {
		t.Fatal(err)
	}
	pbkdf2Hash := fmt.Sprintf("$pbkdf2-sha256$i=1000$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	djangoHash := fmt.Sprintf("pbkdf2_sha256$1000$%s$%s", salt, base64.StdEncoding.EncodeToString(key))

	// argon2id and scrypt hashes hold commas, which a Cognito CSV escapes.
	header := "cognito:username,email,email_verified,cognito:mfa_enabled,cognate:password_hash\n"
	row := func(name, hash string) string { return name + "," + name + "@example.com,TRUE,FALSE," + hash + "\n" }
	file := header + row("bcrypt", string(bcryptHash)) + row("argon", strings.ReplaceAll(argonHash, ",", `\,`)) + row("pbkdf", pbkdf2Hash) + row("django", djangoHash) +
		row("short", string(bcryptHash[:59])) + row("plain", "hunter2-plaintext") + row("costly", "$2b$31$"+string(bcryptHash[7:]))
	sum, lines := f.mustRun(t, cognitoimport.FormatCSV, file, cognitoimport.Options{})
	if !sameCounts(sum, summary(4, 0, 0, 3)) {
		t.Errorf("summary %+v: %+v", sum, lines)
	}
	for _, l := range lines[4:] {
		if !strings.Contains(l.Reason, "cognate:password_hash is") || strings.Contains(l.Reason, "hunter2") {
			t.Errorf("line %d: reason %q", l.Line, l.Reason)
		}
	}
	if !strings.Contains(lines[5].Reason, "in no format Cognate verifies") || !strings.Contains(lines[4].Reason, "malformed: bcrypt") {
		t.Errorf("reasons %q, %q", lines[4].Reason, lines[5].Reason)
	}

	users := f.users(t)
	for _, name := range []string{"bcrypt", "argon", "pbkdf", "django"} {
		u := users[name]
		if u.Status != tenant.StatusConfirmed || u.PasswordHash == "" || !u.PasswordChangedAt.Equal(f.now) {
			t.Errorf("%s: %+v", name, u)
			continue
		}
		ok, _, err := f.hasher.Verify(ctx, u.PasswordHash, pw)
		if err != nil || !ok {
			t.Errorf("%s: the imported hash does not verify the password: %v, %v", name, ok, err)
		}
		if ok, _, _ := f.hasher.Verify(ctx, u.PasswordHash, pw+"x"); ok {
			t.Errorf("%s: a wrong password verifies", name)
		}
	}

	// The user signs in and changes the password here; a re-import keeps it.
	if err := f.svc.SetPassword(ctx, "acme", users["bcrypt"].Sub, "N3w-passw0rd", true); err != nil {
		t.Fatal(err)
	}
	changed := f.users(t)["bcrypt"].PasswordHash
	_, lines = f.mustRun(t, cognitoimport.FormatCSV, header+row("bcrypt", string(bcryptHash)), cognitoimport.Options{})
	if lines[0].Outcome != cognitoimport.Skipped || !strings.Contains(lines[0].Reason, "already has a password here") {
		t.Errorf("re-import over a changed password: %+v", lines[0])
	}
	if got := f.users(t)["bcrypt"]; got.PasswordHash != changed || got.Status != tenant.StatusConfirmed {
		t.Errorf("the password set here was replaced: %+v", got)
	}
}

func TestImportJSONStatusesAndGroups(t *testing.T) {
	f := newFixture(t)
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hash := string(bcryptHash)
	tests := []struct {
		username string
		status   string
		hash     string
		enabled  string
		want     tenant.UserStatus
	}{
		{"confirmed", "CONFIRMED", "", "true", tenant.StatusResetRequired},
		{"reset", "RESET_REQUIRED", "", "true", tenant.StatusResetRequired},
		{"force", "FORCE_CHANGE_PASSWORD", "", "true", tenant.StatusResetRequired},
		{"unconfirmed", "UNCONFIRMED", "", "true", tenant.StatusUnconfirmed},
		{"external", "EXTERNAL_PROVIDER", "", "true", tenant.StatusExternalProvider},
		{"compromised", "COMPROMISED", "", "true", tenant.StatusResetRequired},
		{"disabled", "CONFIRMED", "", "false", tenant.StatusResetRequired},
		{"confirmed-hash", "CONFIRMED", hash, "true", tenant.StatusConfirmed},
		{"force-hash", "FORCE_CHANGE_PASSWORD", hash, "true", tenant.StatusConfirmed},
		{"unconfirmed-hash", "UNCONFIRMED", hash, "true", tenant.StatusUnconfirmed},
	}
	var users []string
	for _, tc := range tests {
		attrs := `{"Name":"email","Value":"` + tc.username + `@example.com"}`
		if tc.hash != "" {
			attrs += `,{"Name":"cognate:password_hash","Value":"` + tc.hash + `"}`
		}
		users = append(users, `{"Username":"`+tc.username+`","UserStatus":"`+tc.status+`","Enabled":`+tc.enabled+
			`,"UserCreateDate":1682955829.578,"Attributes":[`+attrs+`]}`)
	}
	users = append(users, `{"Username":"badgroup","Groups":["a\u0000b"]}`)
	users = append(users, `{"Username":"grouped","UserStatus":"CONFIRMED","UserAttributes":[{"Name":"sub","Value":"9a000000-0000-4000-8000-000000000009"}],`+
		`"UserMFASettingList":["SOFTWARE_TOKEN_MFA"],"Groups":[{"GroupName":"admins","Precedence":0,"Description":"Admins"},{"GroupName":"staff"},{"GroupName":"staff"}]}`)
	sum, lines := f.mustRun(t, cognitoimport.FormatJSON, strings.Join(users, "\n"), cognitoimport.Options{})
	// staff is new; admins, the tenant's admin group, was made with the
	// tenant and takes the file's description and precedence.
	if !sameCounts(sum, summary(len(tests)+1, 0, 0, 1)) || sum.GroupsCreated != 1 {
		t.Errorf("summary %+v", sum)
	}
	if bad := lines[len(tests)]; bad.Outcome != cognitoimport.Failed || !strings.Contains(bad.Reason, "control characters") {
		t.Errorf("a group name with a NUL: %+v", bad)
	}
	got := f.users(t)
	for _, tc := range tests {
		u := got[tc.username]
		if u.Status != tc.want || u.Enabled != (tc.enabled == "true") || (u.PasswordHash != "") != (tc.hash != "") {
			t.Errorf("%s: status %s enabled %v hash %v; want %s", tc.username, u.Status, u.Enabled, u.PasswordHash != "", tc.want)
		}
		if want := time.UnixMilli(1682955829578).UTC(); !u.CreatedAt.Equal(want) {
			t.Errorf("%s: created %v, want Cognito's UserCreateDate %v", tc.username, u.CreatedAt, want)
		}
	}
	grouped := got["grouped"]
	if grouped.Sub != "9a000000-0000-4000-8000-000000000009" || !slices.Equal(grouped.Groups, []string{"admins", "staff"}) ||
		grouped.Attributes[cognitoimport.AttrMFAReenroll] != "true" {
		t.Errorf("grouped: %+v", grouped)
	}
	if g, ok := f.group(t, "admins"); !ok || g.Description != "Admins" || g.Precedence == nil || *g.Precedence != 0 {
		t.Errorf("group admins: %+v", g)
	}

	// Groups in the file replace the membership; a user without Groups
	// keeps the ones it has.
	sum, _ = f.mustRun(t, cognitoimport.FormatJSON,
		`{"Username":"grouped","UserStatus":"CONFIRMED","UserAttributes":[{"Name":"sub","Value":"9a000000-0000-4000-8000-000000000009"}],"Groups":["staff"]}`+"\n"+
			`{"Username":"confirmed","UserStatus":"CONFIRMED","Enabled":true,"Attributes":[]}`, cognitoimport.Options{})
	got = f.users(t)
	if !slices.Equal(got["grouped"].Groups, []string{"staff"}) || got["grouped"].Attributes[cognitoimport.AttrMFAReenroll] != "" {
		t.Errorf("grouped after the second import: %+v", got["grouped"])
	}
	if got["confirmed"].Email != "confirmed@example.com" {
		t.Errorf("an attribute the file does not mention was removed: %+v", got["confirmed"])
	}
	if !sameCounts(sum, summary(0, 1, 1, 0)) {
		t.Errorf("second import: %+v", sum)
	}
}

// A user who appears twice in a file, spelt the same, is created by the
// first line and updated by the second.
func TestImportSameUserTwiceInFile(t *testing.T) {
	f := newFixture(t)
	file := csvHeader + "\nann,ann@example.com,TRUE,,,First,,,FALSE\nann,ann@example.com,TRUE,,,Second,,,FALSE\n"
	sum, lines := f.mustRun(t, cognitoimport.FormatCSV, file, cognitoimport.Options{})
	if !sameCounts(sum, summary(1, 1, 0, 0)) || lines[0].Sub != lines[1].Sub {
		t.Errorf("summary %+v, lines %+v", sum, lines)
	}
	users := f.users(t)
	if len(users) != 1 || users["ann"].Attributes["given_name"] != "Second" {
		t.Errorf("users %+v", users)
	}
}

// Two usernames of one file that differ only in case are two users of a
// case-sensitive Cognito pool; here they would be one. The later line
// fails, naming the earlier, as JSON's users with their two subs do, and
// nothing is merged, in this run or the next (where the first line is
// skipped and the second fails again). A name matched in the tenant
// rather than in the file is still matched case-insensitively.
func TestImportUsernamesDifferingInCaseInFile(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.CreateUser(context.Background(), "acme", tenant.NewUser{Username: "Bea", Email: "bea@example.com"}); err != nil {
		t.Fatal(err)
	}
	file := csvHeader + "\n" +
		"josé,jose@example.com,TRUE,,,First,,,FALSE\n" +
		"bea,bea@example.com,TRUE,,,Bea,,,FALSE\n" +
		"JOSÉ,jose2@example.com,TRUE,,,Second,,,FALSE\n" +
		"José,jose3@example.com,TRUE,,,Third,,,FALSE\n"
	wantFailed := map[int]cognitoimport.Reason{
		4: {Code: cognitoimport.CodeConflictUsernameCase, Args: []string{"JOSÉ", "2"}},
		5: {Code: cognitoimport.CodeConflictUsernameCase, Args: []string{"José", "2"}},
	}
	for run, want := range []cognitoimport.Summary{summary(1, 1, 0, 2), summary(0, 0, 2, 2)} {
		sum, lines := f.mustRun(t, cognitoimport.FormatCSV, file, cognitoimport.Options{})
		if !sameCounts(sum, want) {
			t.Errorf("run %d: summary %+v, want %+v", run+1, sum, want)
		}
		for _, l := range lines {
			reason, failed := wantFailed[l.Line]
			if failed != (l.Outcome == cognitoimport.Failed) || failed && (len(l.Reasons) != 1 || !slices.Equal(l.Reasons[0].Args, reason.Args) || l.Reasons[0].Code != reason.Code) {
				t.Errorf("run %d: line %d: %s %v, want failed %v with %v", run+1, l.Line, l.Outcome, l.Reasons, failed, reason)
			}
		}
	}
	_, lines := f.mustRun(t, cognitoimport.FormatCSV, file, cognitoimport.Options{DryRun: true})
	if got := lines[2].Reason; got != `username "JOSÉ" differs only in case from the one on line 2; usernames are case-insensitive here, `+
		"so the two would be one user: give one of them another username" {
		t.Errorf("the reason in English: %q", got)
	}
	users := f.users(t)
	if len(users) != 2 || users["josé"].Email != "jose@example.com" || users["josé"].Attributes["given_name"] != "First" ||
		users["Bea"].Attributes["given_name"] != "Bea" {
		t.Errorf("users %+v", users)
	}
}

// A user who enrolled a factor here after a first import (which removed
// the re-enrolment mark) must not be marked again by a second run of the
// same file: the mark means "has not enrolled here since".
func TestImportDoesNotMarkEnrolledUserForReenrolment(t *testing.T) {
	for _, tc := range []struct {
		format cognitoimport.Format
		file   string
	}{
		{cognitoimport.FormatCSV, csvHeader + "\nann,ann@example.com,TRUE,,,Ann,,,TRUE\n"},
		{cognitoimport.FormatJSON, `{"Username":"ann","UserAttributes":[{"Name":"email","Value":"ann@example.com"},{"Name":"email_verified","Value":"true"}],` +
			`"UserMFASettingList":["SOFTWARE_TOKEN_MFA"],"PreferredMfaSetting":"SOFTWARE_TOKEN_MFA"}`},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			f := newFixture(t)
			f.mustRun(t, tc.format, tc.file, cognitoimport.Options{})
			ann := f.users(t)["ann"]
			if !ann.MFAReenrollDue() {
				t.Fatalf("after the first import ann is not marked: %v", ann.Attributes)
			}

			// Ann enrols an authenticator app here, which removes the mark.
			err := f.store.Update(context.Background(), func(tx tenant.Tx) error {
				u, err := tenant.GetUser(tx, "acme", ann.Sub)
				if err != nil {
					return err
				}
				u.MFA.TOTP = &tenant.TOTPFactor{Secret: "sealed", LastStep: 1, CreatedAt: f.now}
				delete(u.Attributes, cognitoimport.AttrMFAReenroll)
				return tenant.UpdateUser(tx, "acme", u)
			})
			if err != nil {
				t.Fatal(err)
			}

			f.now = f.now.Add(time.Hour)
			sum, lines := f.mustRun(t, tc.format, tc.file, cognitoimport.Options{})
			if !sameCounts(sum, summary(0, 0, 1, 0)) || lines[0].Reason != "" {
				t.Errorf("second run: %+v, lines %+v; want ann skipped without a note", sum, lines)
			}
			if ann := f.users(t)["ann"]; ann.MFAReenrollDue() || ann.MFA.TOTP == nil {
				t.Errorf("after the second run ann has an authenticator app and the mark %q: %v",
					cognitoimport.AttrMFAReenroll, ann.Attributes)
			}
		})
	}
}

func TestImportUnknownTenant(t *testing.T) {
	f := newFixture(t)
	src, err := cognitoimport.NewCSVReader(strings.NewReader(csvHeader + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cognitoimport.Import(context.Background(), f.store, "nope", src, cognitoimport.Options{}, nil)
	if !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("error %v, want ErrNotFound", err)
	}
}

func TestImportStopsAtBrokenFile(t *testing.T) {
	f := newFixture(t)
	file := `{"Username":"a1"}` + "\n" + `{"Username":"a2"}` + "\n" + `{"Username":"a3"}` + "\n" + `{"Username": nope}` + "\n" + `{"Username":"a5"}`
	sum, lines, err := f.run(t, cognitoimport.FormatJSON, file, cognitoimport.Options{BatchSize: 2})
	var fe *cognitoimport.FileError
	if !errors.As(err, &fe) || fe.Line != 3 {
		t.Fatalf("error %v, want a *FileError after record 3", err)
	}
	// The first batch is committed; the one being read when the file broke
	// is not written, and the summary says how far each got.
	if !sameCounts(sum, summary(2, 0, 0, 0)) || len(lines) != 2 || sum.LastCounted != 2 || sum.LastRead != 3 {
		t.Errorf("summary %+v, lines %+v; want users 1 and 2 written, 3 read but not", sum, lines)
	}
	if users := f.users(t); len(users) != 2 {
		t.Errorf("%d users", len(users))
	}
}

// failingStore is the real store whose writes fail, as a full disk's would.
type failingStore struct{ tenant.Store }

var errDiskFull = errors.New("disk full")

func (failingStore) Update(context.Context, func(tenant.Tx) error) error { return errDiskFull }

// The file's warnings come with every summary: of an import that ran to
// the end, and of one that stopped, whether at the file or at the store.
func TestImportWarnings(t *testing.T) {
	const bomFile = "\ufeff" + csvHeader + "\nann,ann@example.com,TRUE,,,,,,FALSE\n"
	for _, tc := range []struct {
		name    string
		file    string
		failing bool
		wantErr error
	}{
		{"imported", bomFile, false, nil},
		{"the file breaks", bomFile + "bob,bob@example.com,TRUE,,,,,,FALSE", false, cognitoimport.ErrMalformed},
		{"the store fails", bomFile, true, errDiskFull},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			src, err := cognitoimport.NewCSVReader(strings.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var store tenant.Store = f.store
			if tc.failing {
				store = failingStore{f.store}
			}
			sum, err := cognitoimport.Import(context.Background(), store, "acme", src, cognitoimport.Options{}, nil)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if len(sum.Warnings) != 1 || !strings.Contains(sum.Warnings[0].String(), "byte order mark") {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}

// How far an import got, when it stops and when it does not: every line
// up to LastCounted is counted (and written), the lines after it up to
// LastRead were read but not written.
func TestImportSaysHowFarItGot(t *testing.T) {
	jsonUsers := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `{"Username":"u%d"}`+"\n", i+1)
		}
		return b.String()
	}
	tests := []struct {
		name                  string
		format                cognitoimport.Format
		file                  string
		batch                 int
		broken                bool
		counted, read, stored int
	}{
		{"whole", cognitoimport.FormatJSON, jsonUsers(5), 2, false, 5, 5, 5},
		{"cut in the third batch", cognitoimport.FormatJSON, jsonUsers(5) + `{"Username":`, 2, true, 4, 5, 4},
		{"cut at a batch's end", cognitoimport.FormatJSON, jsonUsers(4) + `{"Username":`, 2, true, 4, 4, 4},
		{"cut in the first batch", cognitoimport.FormatJSON, jsonUsers(1) + `{"Username":`, 2, true, 0, 1, 0},
		{"CSV line numbers", cognitoimport.FormatCSV, csvHeader + "\na,a@example.com,TRUE,,,,,,FALSE\n\nb,b@example.com,TRUE,,,,,,FALSE\n", 1, false, 4, 4, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			sum, _, err := f.run(t, tc.format, tc.file, cognitoimport.Options{BatchSize: tc.batch})
			if (err != nil) != tc.broken {
				t.Fatalf("error %v", err)
			}
			if sum.LastCounted != tc.counted || sum.LastRead != tc.read || len(f.users(t)) != tc.stored {
				t.Errorf("LastCounted %d, LastRead %d, %d users; want %d, %d, %d", sum.LastCounted, sum.LastRead, len(f.users(t)), tc.counted, tc.read, tc.stored)
			}
		})
	}
}

// JSON text that is not UTF-8 (a file saved as Latin-1) fails its user:
// read as U+FFFD, "jos\xe9" and "jos\xe8" would be one user, the second
// overwriting the first. The other users are imported.
func TestImportRefusesTextThatIsNotUTF8(t *testing.T) {
	f := newFixture(t)
	file := "{\"Username\":\"jos\xe9\",\"Attributes\":[{\"Name\":\"email\",\"Value\":\"jose@x.com\"}]}\n" +
		"{\"Username\":\"jos\xe8\",\"Attributes\":[{\"Name\":\"email\",\"Value\":\"other@x.com\"}]}\n" +
		"{\"Username\":\"ann\",\"Attributes\":[{\"Name\":\"family_name\",\"Value\":\"M\xfcller\"}]}\n" +
		"{\"Username\":\"jos\u00e9\",\"Attributes\":[{\"Name\":\"email\",\"Value\":\"jose@x.com\"}]}\n"
	sum, lines := f.mustRun(t, cognitoimport.FormatJSON, file, cognitoimport.Options{})
	if !sameCounts(sum, summary(1, 0, 0, 3)) {
		t.Fatalf("summary %+v, lines %+v", sum, lines)
	}
	for i, want := range []string{"Username is not valid UTF-8 text", "Username is not valid UTF-8 text", "family_name is not valid UTF-8 text"} {
		if lines[i].Outcome != cognitoimport.Failed || !strings.Contains(lines[i].Reason, want) {
			t.Errorf("line %d: %+v, want failed: %s", i+1, lines[i], want)
		}
	}
	users := f.users(t)
	if len(users) != 1 || users["jos\u00e9"].Email != "jose@x.com" {
		t.Errorf("users %v", slices.Collect(maps.Keys(users)))
	}
}

// "Groups": null leaves the user's groups as they are, as an absent Groups
// does; an empty list removes them.
func TestImportGroupsNullKeepsGroups(t *testing.T) {
	tests := []struct {
		groups string
		want   []string
	}{
		{``, []string{"staff"}},
		{`,"Groups":null`, []string{"staff"}},
		{`,"Groups":{"Groups":null}`, []string{"staff"}}, // fails: not AdminListGroupsForUser's shape
		{`,"Groups":[]`, nil},
		{`,"Groups":["admins"]`, []string{"admins"}},
	}
	for _, tc := range tests {
		t.Run(tc.groups, func(t *testing.T) {
			f := newFixture(t)
			f.mustRun(t, cognitoimport.FormatJSON, `{"Username":"ann","Groups":["staff"]}`, cognitoimport.Options{})
			f.mustRun(t, cognitoimport.FormatJSON, `{"Username":"ann"`+tc.groups+`}`, cognitoimport.Options{})
			if got := f.users(t)["ann"].Groups; !slices.Equal(got, tc.want) {
				t.Errorf("groups %q, want %q", got, tc.want)
			}
		})
	}
}

// The tester's case: a file whose last line, "anna", was cut to "ann" and
// lost its line break. It stops the import at that line, which updates
// nobody: ann keeps her address and name. With the line in the first
// batch, as in any file of up to a batch of users, nothing is written.
func TestImportStopsAtCutLastLine(t *testing.T) {
	const header = "name,email,email_verified,cognito:mfa_enabled,cognito:username\n"
	f := newFixture(t)
	f.mustRun(t, cognitoimport.FormatCSV, header+"Ann,ann@example.com,true,false,ann\n", cognitoimport.Options{})
	sum, lines, err := f.run(t, cognitoimport.FormatCSV,
		header+"Bo,bo@example.com,true,false,bo\nAnna Other,anna@example.com,true,false,ann", cognitoimport.Options{})
	var fe *cognitoimport.FileError
	if !errors.As(err, &fe) || fe.Reason.Code != cognitoimport.CodeCSVNoFinalLineBreak || fe.Line != 3 {
		t.Fatalf("error %v, want a *FileError %s at line 3", err, cognitoimport.CodeCSVNoFinalLineBreak)
	}
	if len(lines) != 0 || sum.LastCounted != 0 || sum.LastRead != 2 {
		t.Errorf("summary %+v, lines %+v; want nothing written", sum, lines)
	}
	users := f.users(t)
	if len(users) != 1 || users["ann"].Email != "ann@example.com" || users["ann"].Attributes["name"] != "Ann" {
		t.Errorf("users %+v; want ann alone and as she was", users)
	}
}

// A user who must reset their password but has no verified email address
// to get the code at cannot sign in: the line says so, unless the
// tenant's legacy pool lets them sign in with their old password. A user
// with a hash, or whose address the file leaves verified, gets no note.
func TestImportNotesUsersWhoCannotReset(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	file := "cognito:username,email,email_verified,phone_number,phone_number_verified,cognito:mfa_enabled,cognate:password_hash\n" +
		"ph1,,,+12345550111,true,false,\n" +
		"nv2,typo@example.org,false,+12345550199,true,false,\n" +
		"ok3,ok3@example.com,true,,,false,\n" +
		"hh4,,,+12345550144,true,false," + string(hash) + "\n"
	jsonFile := `{"Username":"j3","UserStatus":"CONFIRMED"}` + "\n" +
		`{"Username":"j4","UserStatus":"UNCONFIRMED"}` + "\n" +
		`{"Username":"ok3","Attributes":[{"Name":"given_name","Value":"Only a name"}],"UserStatus":"CONFIRMED"}`
	want := map[string]bool{"ph1": true, "nv2": true, "ok3": false, "hh4": false, "j3": true, "j4": false}

	for _, legacy := range []bool{false, true} {
		f := newFixture(t)
		if legacy {
			err := f.store.Update(context.Background(), func(tx tenant.Tx) error {
				acme, err := tenant.GetTenant(tx, "acme")
				if err != nil {
					return err
				}
				acme.Settings.Legacy = tenant.LegacyPool{Kind: tenant.LegacyWebhook, WebhookURL: "https://old.example.com/migrate", WebhookSecret: "s"}
				return tenant.PutTenant(tx, acme)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		_, csvLines := f.mustRun(t, cognitoimport.FormatCSV, file, cognitoimport.Options{})
		_, jsonLines := f.mustRun(t, cognitoimport.FormatJSON, jsonFile, cognitoimport.Options{})
		for _, l := range append(csvLines, jsonLines...) {
			noted := slices.ContainsFunc(l.Reasons, func(r cognitoimport.Reason) bool { return r.Code == cognitoimport.CodeNoteNoVerifiedEmail })
			if noted != (want[l.Username] && !legacy) || l.Outcome == cognitoimport.Failed {
				t.Errorf("legacy pool %v: %s %s with notes %v; want the note %v", legacy, l.Username, l.Outcome, l.Reasons, want[l.Username] && !legacy)
			}
			if noted && !strings.Contains(l.Reason, "no verified email address") {
				t.Errorf("%s: %q", l.Username, l.Reason)
			}
		}
	}
}

// An import that stopped wrote the batches before the one it was reading
// and not that one; a CSV counts from line 2, after its header.
func TestSummaryStopped(t *testing.T) {
	type lines = cognitoimport.LineRange
	tests := []struct {
		name               string
		format             cognitoimport.Format
		sum                cognitoimport.Summary
		written, unwritten lines
	}{
		{"nothing read", cognitoimport.FormatCSV, cognitoimport.Summary{}, lines{}, lines{}},
		{"stopped in the first batch", cognitoimport.FormatJSON, cognitoimport.Summary{LastRead: 1}, lines{}, lines{1, 1}},
		{"stopped in the second batch", cognitoimport.FormatCSV, cognitoimport.Summary{LastCounted: 1001, LastRead: 1500}, lines{2, 1001}, lines{1002, 1500}},
		{"stopped at a batch's end", cognitoimport.FormatJSON, cognitoimport.Summary{LastCounted: 2000, LastRead: 2000}, lines{1, 2000}, lines{}},
	}
	for _, tt := range tests {
		written, unwritten := tt.sum.Stopped(tt.format)
		if written != tt.written || unwritten != tt.unwritten {
			t.Errorf("%s: written %v, not written %v; want %v and %v", tt.name, written, unwritten, tt.written, tt.unwritten)
		}
		if written.None() != (tt.written == lines{}) || unwritten.None() != (tt.unwritten == lines{}) {
			t.Errorf("%s: None is wrong", tt.name)
		}
	}
}

// In JSON, a user without a sub is matched by username: one whose name
// differs only in case from an earlier user's of the file fails, naming
// it, also when that earlier user came with a sub, rather than overwrite
// it. A user with a sub keeps its own rules: another sub under the name
// is a conflict with the tenant's user.
func TestImportJSONUsernameDifferingInCaseFromAUserWithASub(t *testing.T) {
	f := newFixture(t)
	attrs := func(sub, email, verified string) string {
		a := `[{"Name":"email","Value":"` + email + `"},{"Name":"email_verified","Value":"` + verified + `"}`
		if sub != "" {
			a += `,{"Name":"sub","Value":"` + sub + `"}`
		}
		return a + "]"
	}
	file := `{"Username":"kim","UserStatus":"CONFIRMED","Attributes":` + attrs("aaaa0000-0000-4000-8000-000000000001", "kim@example.com", "true") + "}\n" +
		`{"Username":"KIM","UserStatus":"CONFIRMED","Attributes":` + attrs("", "kim2@example.com", "false") + "}\n" +
		`{"Username":"Kim","UserStatus":"CONFIRMED","Attributes":` + attrs("bbbb0000-0000-4000-8000-000000000002", "kim3@example.com", "true") + "}\n"
	sum, lines := f.mustRun(t, cognitoimport.FormatJSON, file, cognitoimport.Options{})
	if !sameCounts(sum, summary(1, 0, 0, 2)) {
		t.Errorf("summary %+v, want kim created and the other two failed", sum)
	}
	if l := lines[1]; l.Outcome != cognitoimport.Failed || len(l.Reasons) != 1 || l.Reasons[0].Code != cognitoimport.CodeConflictUsernameCase ||
		!slices.Equal(l.Reasons[0].Args, []string{"KIM", "1"}) {
		t.Errorf("KIM: %s %v, want failed for differing in case from user 1", l.Outcome, l.Reasons)
	}
	if l := lines[2]; l.Outcome != cognitoimport.Failed || len(l.Reasons) != 1 || l.Reasons[0].Code == cognitoimport.CodeConflictUsernameCase {
		t.Errorf("Kim: %s %v, want failed for the tenant's user of another sub", l.Outcome, l.Reasons)
	}
	if users := f.users(t); len(users) != 1 || users["kim"].Email != "kim@example.com" || !users["kim"].EmailVerified {
		t.Errorf("users %+v, want kim as the file's first user has it", users)
	}
}

// A group renamed a moment ago whose members still move keeps its old
// name until they have: a line that would make a new group of that name
// is refused, and names what to do; a line with the new name is applied.
func TestImportRefusesTheNameOfAGroupStillMoving(t *testing.T) {
	f := newFixture(t)
	f.svc.GroupMoveQueued = func() {} // no mover: the move stays unfinished
	var file strings.Builder
	for i := range 1001 { // more than one transaction of the rename moves
		fmt.Fprintf(&file, "{\"Username\":\"u%04d\",\"Groups\":[\"all\"]}\n", i)
	}
	f.mustRun(t, cognitoimport.FormatJSON, file.String(), cognitoimport.Options{})
	if _, err := f.svc.UpdateGroup(context.Background(), "acme", "all", tenant.GroupChange{Name: new("everyone")}); err != nil {
		t.Fatal(err)
	}
	sum, lines := f.mustRun(t, cognitoimport.FormatJSON,
		`{"Username":"old","Groups":["all"]}`+"\n"+`{"Username":"new","Groups":["everyone"]}`, cognitoimport.Options{})
	if !sameCounts(sum, summary(1, 0, 0, 1)) {
		t.Errorf("summary %+v", sum)
	}
	const want = `the group name "all" was another group's until a moment ago, and its members are still being moved out of it; import this line again in a moment`
	if len(lines) != 2 || lines[0].Outcome != cognitoimport.Failed || lines[0].Reason != want ||
		len(lines[0].Reasons) != 1 || lines[0].Reasons[0].Code != cognitoimport.CodeGroupNameMoving {
		t.Errorf("the line naming the old group: %+v", lines)
	}
	if _, found := f.group(t, "all"); found {
		t.Error("the import made a group of the old name")
	}
	if got := f.users(t)["new"].Groups; !slices.Equal(got, []string{"everyone"}) {
		t.Errorf("new is in %v", got)
	}
}
