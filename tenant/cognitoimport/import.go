package cognitoimport

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/password"
)

// DefaultBatchSize is how many users share one transaction. bbolt syncs the
// file once per commit, so a commit per user would cap an import at a few
// hundred users a second; a thousand keeps one batch's work small enough
// to redo when a line has to be left out.
const DefaultBatchSize = 1000

// Options tune an import. The zero value is a real import in batches of
// DefaultBatchSize, timed by the wall clock.
type Options struct {
	// DryRun checks every line against the file's rules and the tenant's
	// current users and reports what would happen, writing nothing.
	DryRun bool
	// BatchSize is the number of lines per transaction; 0 means
	// DefaultBatchSize.
	BatchSize int
	// Now stamps created and updated users; nil means time.Now.
	Now func() time.Time
}

// Outcome is what became of one line.
type Outcome string

// The outcomes of a line.
const (
	Created Outcome = "created" // a new user
	Updated Outcome = "updated" // an existing user (same sub, else same username) changed
	Skipped Outcome = "skipped" // an existing user the line would not change
	Failed  Outcome = "failed"  // nothing written for this line; Reason says why
)

// LineResult is what became of one line (CSV) or one user (JSON).
type LineResult struct {
	Line     int // as in Record.Line
	Username string
	Sub      string // the user's sub, for created, updated and skipped lines
	Outcome  Outcome
	// Reason says why a line failed; for other outcomes it holds notes,
	// such as an MFA enrolment that did not come over, or is empty. It is
	// the English of Reasons, joined with "; ".
	Reason string
	// Reasons are the same as codes, for front ends that word them in
	// the reader's language (the admin console). They are not part of the
	// admin API's answer, which gives Reason.
	Reasons []Reason `json:"-"`
}

// Summary counts the outcomes of an import.
type Summary struct {
	Created, Updated, Skipped, Failed int
	// GroupsCreated counts the groups the import added to the tenant.
	GroupsCreated int
	// LastCounted is the Line of the last line the counts include: when
	// Import stops early, every line up to it was written (in a dry run,
	// checked), and stays. 0 means none was.
	LastCounted int
	// LastRead is the Line of the last line read. When Import stops early,
	// the lines after LastCounted up to LastRead were read but not
	// written: they were in the batch being read, or being written, when
	// it stopped.
	LastRead int
	// Warnings are about the file as a whole (a byte order mark, say);
	// their String is the English.
	Warnings []Reason
}

// LineRange is the lines First to Last of a file, both included, as an
// import counts them (CSV lines, JSON users). The zero LineRange is none.
type LineRange struct{ First, Last int }

// None reports whether r holds no line.
func (r LineRange) None() bool { return r.Last == 0 }

// Stopped says, of an import of format that stopped early with s, what it
// had written and what not: the batches before the one being read were
// written and stay (in a dry run, were checked); the lines of that batch
// were read but not written. Either range may be none. The admin API and
// the console each word the two ranges in their own language.
func (s Summary) Stopped(format Format) (written, unwritten LineRange) {
	first := 1
	if format == FormatCSV {
		first = 2 // line 1 is the header
	}
	if s.LastCounted > 0 {
		written = LineRange{First: first, Last: s.LastCounted}
		first = s.LastCounted + 1
	}
	if s.LastRead >= first {
		unwritten = LineRange{First: first, Last: s.LastRead}
	}
	return written, unwritten
}

// Import reads every user from src and writes them into the tenant in
// batches of opts.BatchSize, one transaction per batch. Each line is
// checked before its batch's transaction begins, so a bad line fails
// alone; a conflict that only the tenant's data can show (a username that
// belongs to another sub) is found inside the transaction before the line
// writes anything, and fails that line alone too.
//
// report, if not nil, is called for every line in file order, after the
// line's batch is committed (or, in a dry run, checked).
//
// Running the same file again is safe: users are matched by sub (JSON) or
// by username, updated rather than duplicated, and left alone when nothing
// would change. A password the user already has here is never replaced.
//
// The error is nil unless the import could not run to the end: an unknown
// tenant (wrapping tenant.ErrNotFound) before anything is written, a file
// that stops being readable (a *FileError wrapping ErrMalformed, or a read
// error), a storage failure or the context's end. Batches committed before
// such an error stay; the batch being read is not written. The Summary
// counts what was, and says how far that and the reading got
// (LastCounted, LastRead).
func Import(ctx context.Context, store tenant.Store, tenantID string, src Reader, opts Options, report func(LineResult)) (Summary, error) {
	im := &importer{store: store, tenantID: tenantID, opts: opts, report: report,
		usernames: usernamesInFile{seed: maphash.MakeSeed(), first: map[uint64]spelling{}}}
	if im.opts.BatchSize <= 0 {
		im.opts.BatchSize = DefaultBatchSize
	}
	if im.opts.Now == nil {
		im.opts.Now = time.Now
	}
	err := im.run(ctx, src)
	// Said of the file whatever became of the import: a byte order mark
	// may explain why it stopped.
	im.sum.Warnings = warningsOf(src)
	return im.sum, err
}

// run is Import after its options are settled.
func (im *importer) run(ctx context.Context, src Reader) error {
	err := im.store.View(ctx, func(tx tenant.Tx) error {
		t, err := tenant.GetTenant(tx, im.tenantID)
		im.legacyPool = t.Settings.Legacy.Enabled()
		return err
	})
	if err != nil {
		return err
	}

	batch := make([]*change, 0, im.opts.BatchSize)
	for {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		im.sum.LastRead = rec.Line
		batch = append(batch, im.prepare(rec))
		if len(batch) == im.opts.BatchSize {
			if err := im.write(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return im.write(ctx, batch)
	}
	return nil
}

func warningsOf(src Reader) []Reason {
	if w, ok := src.(warner); ok {
		return w.Warnings()
	}
	return nil
}

type importer struct {
	store    tenant.Store
	tenantID string
	opts     Options
	report   func(LineResult)
	sum      Summary
	// legacyPool is whether the tenant has one, which lets imported
	// users who must reset their password sign in with their old one.
	legacyPool bool
	usernames  usernamesInFile
}

// usernamesInFile remembers the usernames of the file's lines, so that a
// line matched by username that spells an earlier line's name otherwise
// (josé and JOSÉ, two users of a case-sensitive Cognito pool) does not
// become that user here, silently overwriting it. By hash, so
// that it costs 24 bytes a line, not the names.
type usernamesInFile struct {
	seed  maphash.Seed
	first map[uint64]spelling // by the hash of tenant.FoldKey(username)
}

// spelling is a username as the file first writes it: its hash, and where.
type spelling struct {
	exact uint64
	line  int
}

// conflict says why username, on line, cannot be imported: it differs only
// in case from a username of an earlier line. Otherwise it remembers the
// username, when its line is the first to have it, and ok is true.
func (u *usernamesInFile) conflict(username string, line int) (Reason, bool) {
	folded, exact := maphash.String(u.seed, tenant.FoldKey(username)), maphash.String(u.seed, username)
	first, seen := u.first[folded]
	switch {
	case !seen:
		u.first[folded] = spelling{exact: exact, line: line}
	case first.exact != exact:
		return reason(CodeConflictUsernameCase, username, strconv.Itoa(first.line)), false
	}
	return Reason{}, true
}

// change is one line made ready to apply: checked, and reduced to what it
// sets on the user. Fields the file does not speak about are nil.
type change struct {
	line     int
	username string
	sub      string // "" means match by username, and a new sub if new
	// failure, when set, fails the line before any transaction.
	failure []Reason
	notes   []Reason

	set           map[string]string // attributes to set
	remove        []string          // attributes to remove
	email         *string
	emailVerified *bool
	enabled       *bool
	groups        []GroupRef
	groupsKnown   bool
	// status is what a user without a password here gets; hash, when
	// set, is given to such a user.
	status    tenant.UserStatus
	hash      string
	createdAt time.Time
}

// prepare checks a record against every rule that needs no store, and
// works out what it changes. The steps each check and take one part of
// the record; the problems of all of them fail the line, in their order.
func (im *importer) prepare(rec Record) *change {
	c := &change{line: rec.Line, username: rec.Username, sub: rec.Sub, notes: slices.Clone(rec.Notes),
		enabled: rec.Enabled, groupsKnown: rec.GroupsKnown, createdAt: rec.CreatedAt}
	spelling := im.spellingProblems(rec)
	if len(rec.Problems) > 0 {
		c.failure = slices.Concat(rec.Problems, spelling)
		return c
	}
	problems := slices.Concat(spelling, identityProblems(rec), c.prepareAttributes(rec.Attributes))
	c.prepareMFA(rec.MFAEnabled)
	problems = append(problems, c.preparePassword(rec.PasswordHash, rec.Status)...)
	c.failure = append(problems, c.prepareGroups(rec.Groups)...)
	return c
}

// spellingProblems says why rec's username cannot be imported for the
// lines before it: a username that differs from an earlier one only in
// case.
func (im *importer) spellingProblems(rec Record) []Reason {
	if rec.Username == "" {
		return nil
	}
	// Every line counts, whether it fails or not, so that what fails
	// depends on the file alone: once the first line is corrected, the
	// second must not take its place. A line with a sub counts too, since
	// a later line without one, matched by username, would update its
	// user; the line itself is matched by its sub, under that sub's own
	// rules, and conflicts with no spelling.
	if conflict, ok := im.usernames.conflict(rec.Username, rec.Line); !ok && rec.Sub == "" {
		return []Reason{conflict}
	}
	return nil
}

// identityProblems checks what names the user: the username and the sub.
func identityProblems(rec Record) []Reason {
	var problems []Reason
	if err := tenant.ValidateUsername(rec.Username); err != nil {
		problems = append(problems, invalidReason(err))
	}
	if rec.Sub != "" {
		if problem, bad := subProblem(rec.Sub); bad {
			problems = append(problems, problem)
		}
	}
	return problems
}

// prepareAttributes takes the attributes to set and remove, the email
// address and whether it is verified.
func (c *change) prepareAttributes(attrs map[string]string) []Reason {
	var problems []Reason
	c.set = make(map[string]string, len(attrs))
	for name, v := range attrs {
		switch name {
		case "email":
			c.email = &v
			if v != "" {
				if err := tenant.ValidateEmail(v); err != nil {
					problems = append(problems, invalidReason(err))
				}
			}
		case "email_verified":
			verified := v == "true"
			c.emailVerified = &verified
		default:
			if v == "" {
				c.remove = append(c.remove, name)
			} else {
				c.set[name] = v
			}
		}
	}
	if err := tenant.ValidateAttributes(c.set); err != nil {
		// ValidateAttributes names the first bad attribute the map
		// gives; say every one, in an order that does not change.
		for _, name := range slices.Sorted(maps.Keys(c.set)) {
			if err := tenant.ValidateAttributes(map[string]string{name: c.set[name]}); err != nil {
				problems = append(problems, invalidReason(err))
			}
		}
	}
	return problems
}

// prepareMFA marks a user who had MFA in Cognito for enrolment here, and
// unmarks one who had not; it comes after prepareAttributes, whose checks
// the mark is not part of.
func (c *change) prepareMFA(enabled *bool) {
	switch {
	case enabled == nil:
	case *enabled:
		c.set[AttrMFAReenroll] = "true"
		c.notes = append(c.notes, reason(CodeNoteMFAReenroll, AttrMFAReenroll))
	default:
		c.remove = append(c.remove, AttrMFAReenroll)
	}
}

// preparePassword takes the password hash, if any, and the status a user
// without a password here gets.
func (c *change) preparePassword(hash string, status tenant.UserStatus) []Reason {
	var problems []Reason
	if hash != "" {
		if problem, bad := checkHash(hash); bad {
			problems = append(problems, problem)
		}
		c.hash = hash
	}
	c.status = importedStatus(status, c.hash != "")
	return problems
}

// prepareGroups takes the groups, each once.
func (c *change) prepareGroups(groups []GroupRef) []Reason {
	var problems []Reason
	seen := make(map[string]bool, len(groups))
	for _, g := range groups {
		switch {
		case tenant.ValidateGroupName(g.Name) != nil:
			problems = append(problems, reason(CodeGroupName, g.Name))
		case tenant.ValidateGroupDescription(g.Description) != nil:
			problems = append(problems, reason(CodeGroupDescription, g.Name))
		case tenant.ValidateGroupPrecedence(g.Precedence) != nil:
			problems = append(problems, reason(CodeGroupPrecedence, g.Name))
		case !seen[g.Name]:
			seen[g.Name] = true
			c.groups = append(c.groups, g)
		}
	}
	return problems
}

// importedStatus maps Cognito's status to the one an imported user gets
// when it has no password here yet (COGNITO.md §1.4, §2). Without a hash,
// whoever could sign in at Cognito must reset their password; with one,
// they sign in with it as before.
func importedStatus(cognito tenant.UserStatus, hasHash bool) tenant.UserStatus {
	switch cognito {
	case tenant.StatusUnconfirmed, tenant.StatusExternalProvider:
		// Not yet signed up properly, or signing in elsewhere: a hash
		// changes neither.
		return cognito
	case "", tenant.StatusConfirmed, tenant.StatusResetRequired, tenant.StatusForceChangePassword:
		if hasHash {
			return tenant.StatusConfirmed
		}
	}
	// ARCHIVED, COMPROMISED and UNKNOWN are "no longer used" by Cognito;
	// a reset is the safe way back in.
	return tenant.StatusResetRequired
}

// checkHash says what is wrong with an imported hash; bad is false when
// tenant/password can verify it.
func checkHash(hash string) (problem Reason, bad bool) {
	return hashProblem(password.CheckHash(hash))
}

// hashProblem reads password.CheckHash's error. Any error is a bad hash:
// one CheckHash did not sort would otherwise let a hash through that no
// sign-in can verify.
func hashProblem(err error) (problem Reason, bad bool) {
	var malformed *password.MalformedHashError
	switch {
	case err == nil:
		return Reason{}, false
	case errors.Is(err, password.ErrUnknownScheme):
		return reason(CodeHashUnknownScheme), true
	case errors.As(err, &malformed):
		// It names the part that is wrong, never the hash. It stays
		// tenant/password's English: the scheme's own terms.
		return reason(CodeHashMalformed, malformed.Part), true
	default:
		// Not the error's text, which no one chose for this reader.
		return reason(CodeHashUnchecked), true
	}
}

// write applies one batch in one transaction and reports its lines.
func (im *importer) write(ctx context.Context, batch []*change) error {
	results := make([]LineResult, len(batch))
	pending := make([]int, 0, len(batch))
	for i, c := range batch {
		if len(c.failure) > 0 {
			results[i] = LineResult{Line: c.line, Username: c.username, Outcome: Failed, Reason: reasonsText(c.failure), Reasons: c.failure}
			continue
		}
		pending = append(pending, i)
	}

	now := im.opts.Now().UTC()
	var applied []LineResult
	var groupsCreated int
	for len(pending) > 0 {
		current := -1
		err := im.transaction(ctx, func(tx tenant.Tx) error {
			// The closure may run more than once; start afresh each time.
			applied, groupsCreated = applied[:0], 0
			if _, err := tenant.GetTenant(tx, im.tenantID); err != nil {
				return err // deleted while the import ran
			}
			for _, i := range pending {
				current = i
				res, n, err := im.apply(tx, batch[i], now)
				if err != nil {
					return err
				}
				applied = append(applied, res)
				groupsCreated += n
			}
			return nil
		})
		var refused *refusedError
		if errors.As(err, &refused) {
			// The store refused a line that passed every check (a rule
			// only it knows). The transaction is gone; redo the batch
			// without that line.
			results[current] = LineResult{Line: batch[current].line, Username: batch[current].username, Outcome: Failed,
				Reason: refused.reason.String(), Reasons: []Reason{refused.reason}}
			pending = slices.DeleteFunc(pending, func(i int) bool { return i == current })
			continue
		}
		if err != nil {
			return err
		}
		for k, i := range pending {
			results[i] = applied[k]
		}
		break
	}

	im.sum.GroupsCreated += groupsCreated
	im.sum.LastCounted = batch[len(batch)-1].line
	for _, res := range results {
		switch res.Outcome {
		case Created:
			im.sum.Created++
		case Updated:
			im.sum.Updated++
		case Skipped:
			im.sum.Skipped++
		case Failed:
			im.sum.Failed++
		}
		if im.report != nil {
			im.report(res)
		}
	}
	return nil
}

// transaction runs fn in a write transaction, or for a dry run in a read
// transaction whose writes go to a scratch layer that is thrown away.
func (im *importer) transaction(ctx context.Context, fn func(tenant.Tx) error) error {
	if !im.opts.DryRun {
		return im.store.Update(ctx, fn)
	}
	return im.store.View(ctx, func(tx tenant.Tx) error {
		return fn(&dryTx{Tx: tx, writes: map[dryCollection]map[string][]byte{}})
	})
}

// refusedError is a line the store refused inside the transaction.
type refusedError struct{ reason Reason }

func (e *refusedError) Error() string { return e.reason.String() }

// apply writes one line. A conflict with the tenant's users is a failed
// LineResult, found before the line writes anything; the error is for the
// store failing, or refusing (a *refusedError).
func (im *importer) apply(tx tenant.Tx, c *change, now time.Time) (LineResult, int, error) {
	res := LineResult{Line: c.line, Username: c.username}
	m, err := im.match(tx, c)
	if err != nil {
		return res, 0, err
	}
	if m.conflict.Code != "" {
		res.Outcome, res.Reason, res.Reasons = Failed, m.conflict.String(), []Reason{m.conflict}
		return res, 0, nil
	}
	old, found := m.user, m.found

	u := old
	if !found {
		u = tenant.User{Sub: c.sub, Username: c.username, Enabled: true, CreatedAt: c.createdAt}
		if u.Sub == "" {
			u.Sub = newSub(now)
		}
		if u.CreatedAt.IsZero() {
			u.CreatedAt = now
		}
	}
	notes := c.notes
	if u.MFA.HasFactor() {
		// Enrolled here since (which removed the mark): nothing to redo.
		notes = slices.DeleteFunc(slices.Clone(notes), func(r Reason) bool { return r.Code == CodeNoteMFAReenroll })
	}
	if u.PasswordHash != "" && c.hash != "" && u.PasswordHash != c.hash {
		notes = append(slices.Clone(notes), reason(CodeNotePasswordKept))
	}
	c.applyTo(&u, now)
	if u.Status == tenant.StatusResetRequired && !u.EmailVerified && !im.legacyPool {
		// Said of the user as the line leaves them, whatever the file
		// gave: a line may leave an earlier verified address as it is.
		notes = append(slices.Clone(notes), reason(CodeNoteNoVerifiedEmail))
	}
	res.Sub, res.Reason, res.Reasons = u.Sub, reasonsText(notes), notes

	if found {
		// Compared as stored, so that every field counts, present and future.
		u.UpdatedAt = old.UpdatedAt
		if raw, err := json.Marshal(u); err == nil && bytes.Equal(raw, m.raw) {
			res.Outcome = Skipped
			return res, 0, nil
		}
	}
	u.UpdatedAt = now
	groupsCreated, err := im.ensureGroups(tx, c.groups, now)
	if err != nil {
		return res, 0, err // a *refusedError for a name still moving
	}
	if found {
		res.Outcome, err = Updated, tenant.UpdateUser(tx, im.tenantID, u)
	} else {
		res.Outcome, err = Created, tenant.InsertUser(tx, im.tenantID, u)
	}
	switch {
	case errors.Is(err, tenant.ErrAlreadyExists):
		return res, 0, &refusedError{reason(CodeRefusedTaken, c.username)}
	case errors.Is(err, tenant.ErrInvalid):
		if r := invalidReason(err); r.Code != CodeInvalid {
			return res, 0, &refusedError{r} // one of the rules a code says
		}
		// A rule of the store's, in its words: no code can say it.
		return res, 0, &refusedError{reason(CodeRefusedInvalid, tenant.InvalidReason(err))}
	case err != nil:
		return res, 0, err
	}
	return res, groupsCreated, nil
}

// matched is the user a line is about, as match found it.
type matched struct {
	user  tenant.User
	raw   []byte // user as stored, to tell whether the line changes it
	found bool
	// conflict, when it has a code, says why the line cannot be applied.
	conflict Reason
}

// match finds the user a line is about: by sub when the file has one, else
// by username. The error is for the store failing.
func (im *importer) match(tx tenant.Tx, c *change) (matched, error) {
	sub := c.sub
	var raw []byte
	if sub != "" {
		var err error
		raw, err = tx.Get(tenant.CollUsers, im.tenantID, sub)
		switch {
		case errors.Is(err, tenant.ErrNotFound):
			// A new sub: its username must be free.
			other, err := tx.Get(tenant.CollUsersByName, im.tenantID, tenant.FoldKey(c.username))
			switch {
			case err == nil:
				return matched{conflict: reason(CodeConflictUsernameTaken, c.username, string(other))}, nil
			case !errors.Is(err, tenant.ErrNotFound):
				return matched{}, err
			}
			return matched{}, nil
		case err != nil:
			return matched{}, err
		}
	} else {
		subRaw, err := tx.Get(tenant.CollUsersByName, im.tenantID, tenant.FoldKey(c.username))
		switch {
		case errors.Is(err, tenant.ErrNotFound):
			return matched{}, nil
		case err != nil:
			return matched{}, err
		}
		sub = string(subRaw)
		if raw, err = tx.Get(tenant.CollUsers, im.tenantID, sub); err != nil {
			return matched{}, fmt.Errorf("user %s in the username index: %w", sub, err)
		}
	}
	var u tenant.User
	if err := json.Unmarshal(raw, &u); err != nil {
		return matched{}, fmt.Errorf("decode user %s: %w", sub, err)
	}
	if tenant.FoldKey(u.Username) != tenant.FoldKey(c.username) {
		return matched{conflict: reason(CodeConflictSubTaken, sub, u.Username)}, nil
	}
	return matched{user: u, raw: raw, found: true}, nil
}

// applyTo makes the changes of c to u, which is a fresh copy.
func (c *change) applyTo(u *tenant.User, now time.Time) {
	if c.email != nil {
		if tenant.FoldKey(*c.email) != tenant.FoldKey(u.Email) {
			u.EmailVerified = false // a new address, unless the file says otherwise
		}
		u.Email = *c.email
	}
	if c.emailVerified != nil {
		u.EmailVerified = *c.emailVerified
	}
	u.EmailVerified = u.EmailVerified && u.Email != ""

	attrs := maps.Clone(u.Attributes)
	if attrs == nil {
		attrs = make(map[string]string, len(c.set))
	}
	maps.Copy(attrs, c.set)
	for _, name := range c.remove {
		delete(attrs, name)
	}
	if u.MFA.HasFactor() {
		// The mark means "had MFA in Cognito and has not enrolled here
		// since"; a user with a factor here has (enrolling removed it).
		delete(attrs, AttrMFAReenroll)
	}
	u.Attributes = attrs
	if len(attrs) == 0 {
		u.Attributes = nil
	}

	if c.enabled != nil {
		u.Enabled = *c.enabled
	}
	if c.groupsKnown {
		u.Groups = nil
		for _, g := range c.groups {
			u.Groups = append(u.Groups, g.Name)
		}
	}
	// A password the user has here was set here (a reset, a sign-in that
	// re-hashed, an earlier import) and is newer than any export: keep it,
	// and the status that goes with it.
	if u.PasswordHash == "" {
		u.Status = c.status
		if c.hash != "" {
			u.SetPassword(c.hash, now)
		}
	}
}

// ensureGroups creates the groups that do not exist yet. A group that
// exists keeps what it has, and takes from the file the description and
// precedence it lacks: a tenant's admin group, made with the tenant,
// takes the Cognito group's of the same name. A name whose members are
// still moving out of it (tenant.ErrGroupNameMoving) refuses the line
// (a *refusedError).
func (im *importer) ensureGroups(tx tenant.Tx, groups []GroupRef, now time.Time) (int, error) {
	created := 0
	for _, g := range groups {
		group, err := tenant.GetJSON[tenant.Group](tx, tenant.CollGroups, im.tenantID, g.Name)
		switch {
		case err == nil:
			if (group.Description != "" || g.Description == "") && (group.Precedence != nil || g.Precedence == nil) {
				continue
			}
			group.Description = cmp.Or(group.Description, g.Description)
			group.Precedence = cmp.Or(group.Precedence, g.Precedence)
		case errors.Is(err, tenant.ErrNotFound):
			if err := tenant.CheckGroupNameFree(tx, im.tenantID, g.Name); errors.Is(err, tenant.ErrGroupNameMoving) {
				return 0, &refusedError{reason(CodeGroupNameMoving, g.Name)}
			} else if err != nil {
				return 0, err
			}
			group = tenant.Group{Name: g.Name, Description: g.Description, Precedence: g.Precedence, CreatedAt: now}
			created++
		default:
			return 0, err
		}
		if err := tenant.PutJSON(tx, tenant.CollGroups, im.tenantID, g.Name, group); err != nil {
			return 0, err
		}
	}
	return created, nil
}

// newSub returns a version 7 UUID (RFC 9562) for a user the file gives no
// sub: as random as Cognito's version 4 subs where it matters (74 random
// bits), but starting with the time in milliseconds. A batch of new users
// then lands at the end of the users collection instead of all over it, so
// a commit rewrites a few pages instead of one per user; with version 4
// subs an import of 200,000 users ran at less than half the speed, and
// slower the larger the tenant. Relying parties treat a sub as an opaque
// string; what the prefix tells is only when the user was imported.
func newSub(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never returns an error
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return tenant.FormatUUID(b)
}

// subProblem says what is wrong with a sub from a file, by tenant's rule
// (tenant.ValidateSub), in the importer's reason codes; bad is false for a
// sub Cognate can keep.
func subProblem(s string) (problem Reason, bad bool) {
	switch err := tenant.ValidateSub(s); {
	case err == nil:
		return Reason{}, false
	case errors.Is(err, tenant.ErrSubPathSegment):
		return reason(CodeSubPathSegment, s), true // printable ASCII: safe to repeat
	default:
		return reason(CodeSubInvalid), true
	}
}

// dryTx is a transaction whose writes land in memory, where later reads of
// the same transaction (Get and Scan) see them, and are dropped at the end:
// a dry run then runs exactly the code of a real one.
type dryTx struct {
	tenant.Tx
	writes map[dryCollection]map[string][]byte // by key; nil value: deleted
}

// dryCollection is one collection of one tenant.
type dryCollection struct {
	c        tenant.Collection
	tenantID string
}

func (d *dryTx) Get(c tenant.Collection, tenantID, key string) ([]byte, error) {
	if v, ok := d.writes[dryCollection{c, tenantID}][key]; ok {
		if v == nil {
			return nil, fmt.Errorf("%s %q: %w", c, key, tenant.ErrNotFound)
		}
		return bytes.Clone(v), nil
	}
	return d.Tx.Get(c, tenantID, key)
}

func (d *dryTx) Put(c tenant.Collection, tenantID, key string, value []byte) error {
	stored := bytes.Clone(value)
	if stored == nil {
		stored = []byte{} // an empty value, which nil would read as deleted
	}
	d.write(c, tenantID, key, stored)
	return nil
}

func (d *dryTx) Delete(c tenant.Collection, tenantID, key string) error {
	d.write(c, tenantID, key, nil)
	return nil
}

func (d *dryTx) write(c tenant.Collection, tenantID, key string, value []byte) {
	coll := dryCollection{c, tenantID}
	if d.writes[coll] == nil {
		d.writes[coll] = map[string][]byte{}
	}
	d.writes[coll][key] = value
}

// Scan visits the store's keys and the scratch writes together, as
// tenant.Tx's Scan does the store's alone: the keys that start with prefix
// and sort after `after`, in ascending order, a scratch value in place of
// the store's, none that the scratch layer deleted. (tenant.InsertUser
// scans the email index for a username with an @.)
func (d *dryTx) Scan(c tenant.Collection, tenantID, prefix, after string, visit func(string, []byte) bool) error {
	written := d.writes[dryCollection{c, tenantID}]
	var scratch []string
	for key := range written {
		if strings.HasPrefix(key, prefix) && (after == "" || key > after) {
			scratch = append(scratch, key)
		}
	}
	slices.Sort(scratch)

	// visitScratch visits the scratch keys that sort before key, or all
	// that are left when all is set, and reports whether visit wants more.
	visitScratch := func(key string, all bool) bool {
		for len(scratch) > 0 && (all || scratch[0] < key) {
			k := scratch[0]
			scratch = scratch[1:]
			if v := written[k]; v != nil && !visit(k, bytes.Clone(v)) {
				return false
			}
		}
		return true
	}
	stopped := false
	err := d.Tx.Scan(c, tenantID, prefix, after, func(key string, value []byte) bool {
		if !visitScratch(key, false) {
			stopped = true
			return false
		}
		if len(scratch) > 0 && scratch[0] == key {
			// Written in this transaction: the scratch value counts.
			v := written[key]
			scratch = scratch[1:]
			if v == nil {
				return true // deleted
			}
			value = bytes.Clone(v)
		}
		stopped = !visit(key, value)
		return !stopped
	})
	if err != nil || stopped {
		return err
	}
	visitScratch("", true)
	return nil
}

// errDryRunUnsupported guards against a change to the code above that
// deletes a tenant: the store would not see the scratch writes.
var errDryRunUnsupported = errors.New("cognitoimport: not supported in a dry run")

func (d *dryTx) DeleteTenant(string) error { return errDryRunUnsupported }
