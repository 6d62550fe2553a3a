package tenant

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The audit trail: every change an administrator or the operator makes,
// every change a person makes to the security of their own account
// (password, second factors, recovery codes), and every sign-in outcome, as
// one record per event in the tenant's CollAudit.
//
// A change is recorded inside the transaction that makes it, so the trail
// never claims a change that did not happen, nor misses one that did. The
// actor comes from the context (WithActor), set by each front end: the
// admin API for the operator, the console for an administrator. Sign-in
// outcomes come from tenant/auth through RecordAudit: a successful sign-in
// inside the transaction that finishes it, a refusal in a Store.Batch of
// its own, so concurrent refusals share commits.
//
// Events hold who, what, when and from where, never a password, code,
// token or secret: Details carry the names of changed fields and counts,
// not values that could be secret.
//
// Keys are time-ordered newest first (the nanosecond time subtracted from
// the largest int64, in fixed-width hex), so the common question, "what
// happened lately", is an ascending prefix scan that stops after a page.

// ActorKind says what kind of party acted.
type ActorKind string

const (
	ActorOperator ActorKind = "operator" // the operator's admin API token
	ActorAdmin    ActorKind = "admin"    // a tenant administrator in the console
	ActorUser     ActorKind = "user"     // a person signing in or changing their own account
	ActorSystem   ActorKind = "system"   // Cognate itself, or a caller that named no actor
)

// Actor is who made a change or attempted a sign-in.
type Actor struct {
	Kind ActorKind `json:"kind"`
	Sub  string    `json:"sub,omitempty"`
	Name string    `json:"name,omitempty"`
	IP   string    `json:"ip,omitempty"`
}

type actorKey struct{}

// WithActor returns ctx carrying a, for the Service methods to record.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, or the system actor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a.Kind != "" {
		return a
	}
	return Actor{Kind: ActorSystem}
}

// AuditAction names what happened. Values are stable: stored records and
// filters use them, and front ends translate them.
type AuditAction string

const (
	AuditTenantCreate       AuditAction = "tenant.create"
	AuditTenantUpdate       AuditAction = "tenant.update"
	AuditTenantDelete       AuditAction = "tenant.delete"
	AuditKeyRotate          AuditAction = "key.rotate"
	AuditClientCreate       AuditAction = "client.create"
	AuditClientUpdate       AuditAction = "client.update"
	AuditClientDelete       AuditAction = "client.delete"
	AuditClientSecretRotate AuditAction = "client.secret.rotate"
	AuditUserCreate         AuditAction = "user.create"
	AuditUserUpdate         AuditAction = "user.update"
	AuditUserEnable         AuditAction = "user.enable"
	AuditUserDisable        AuditAction = "user.disable"
	AuditUserDelete         AuditAction = "user.delete"
	AuditUserPasswordSet    AuditAction = "user.password.set"
	AuditUserActivate       AuditAction = "user.activate"
	AuditUserInviteResend   AuditAction = "user.invitation.resend"
	AuditUserPasswordReset  AuditAction = "user.password.reset"
	AuditUserMFAReset       AuditAction = "user.mfa.reset"
	AuditUserUnlock         AuditAction = "user.unlock"
	AuditUserImport         AuditAction = "user.import"
	AuditGroupCreate        AuditAction = "group.create"
	AuditGroupRename        AuditAction = "group.rename"
	AuditGroupUpdate        AuditAction = "group.update"
	AuditGroupDelete        AuditAction = "group.delete"
	AuditGroupMemberAdd     AuditAction = "group.member.add"
	AuditGroupMemberRemove  AuditAction = "group.member.remove"
	AuditSignIn             AuditAction = "signin.success"
	AuditSignInFailure      AuditAction = "signin.failure"
	AuditSignInLockout      AuditAction = "signin.lockout"
	AuditConsoleSignIn      AuditAction = "console.signin"
	AuditConsoleDenied      AuditAction = "console.denied"

	// What a person does to their own account: change the password (on the
	// account page, or a temporary one at the first sign-in), set one with
	// a reset code, add or remove a second factor, make new recovery codes.
	AuditUserPasswordChange  AuditAction = "user.password.change"
	AuditUserPasswordRecover AuditAction = "user.password.recover"
	AuditUserMFAEnrol        AuditAction = "user.mfa.enrol"
	AuditUserMFARemove       AuditAction = "user.mfa.remove"
	AuditUserRecoveryCodes   AuditAction = "user.mfa.recovery_codes"

	// The operator took a copy of the data file (GET /admin/v1/backup).
	// It holds every tenant, so its event is in the operator's own trail.
	AuditBackupDownload AuditAction = "backup.download"
)

// AuditActions lists every action, for filters.
func AuditActions() []AuditAction {
	return []AuditAction{
		AuditSignIn, AuditSignInFailure, AuditSignInLockout, AuditConsoleSignIn, AuditConsoleDenied,
		AuditUserCreate, AuditUserUpdate, AuditUserEnable, AuditUserDisable, AuditUserDelete,
		AuditUserPasswordSet, AuditUserActivate, AuditUserInviteResend, AuditUserPasswordReset,
		AuditUserMFAReset, AuditUserUnlock, AuditUserImport,
		AuditUserPasswordChange, AuditUserPasswordRecover, AuditUserMFAEnrol, AuditUserMFARemove, AuditUserRecoveryCodes,
		AuditGroupCreate, AuditGroupRename, AuditGroupUpdate, AuditGroupDelete, AuditGroupMemberAdd, AuditGroupMemberRemove,
		AuditClientCreate, AuditClientUpdate, AuditClientDelete, AuditClientSecretRotate,
		AuditTenantCreate, AuditTenantUpdate, AuditTenantDelete, AuditKeyRotate, AuditBackupDownload,
	}
}

// Reason codes of failed sign-ins (AuditEvent.Reason). The person signing
// in is told none of them; only the audit trail tells them apart.
const (
	ReasonUnknownUser         = "unknown_user"
	ReasonWrongPassword       = "wrong_password"
	ReasonDisabled            = "disabled"
	ReasonNotActivated        = "not_activated"
	ReasonLocked              = "locked"
	ReasonTempPasswordExpired = "temp_password_expired"
	ReasonChallengeFailed     = "challenge_failed"
	ReasonNotAdmin            = "not_admin"
	ReasonMFARequired         = "mfa_required"
	// ReasonChangedDuringSignIn: the right password, but the account
	// changed while it was checked (another password set, a reset, a
	// deactivation), and the sign-in no longer holds.
	ReasonChangedDuringSignIn = "changed_during_sign_in"
)

// Target kinds of AuditTarget.
const (
	TargetTenant = "tenant"
	TargetUser   = "user"
	TargetGroup  = "group"
	TargetClient = "client"
)

// AuditTarget is what an event is about.
type AuditTarget struct {
	Kind string `json:"kind,omitempty"`
	ID   string `json:"id,omitempty"`   // sub, client ID, group or tenant name
	Name string `json:"name,omitempty"` // a username, a client's name
}

// AuditEvent is one entry of the audit trail.
type AuditEvent struct {
	// ID is the event's key in the store; set when recorded.
	ID     string      `json:"id"`
	Time   time.Time   `json:"time"`
	Action AuditAction `json:"action"`
	Actor  Actor       `json:"actor"`
	Target AuditTarget `json:"target,omitzero"`
	// Reason is a failure's reason code (Reason… constants).
	Reason string `json:"reason,omitempty"`
	// Details are short facts: the names of changed fields, counts, a
	// client's AMR. Never secrets.
	Details map[string]string `json:"details,omitempty"`
}

// auditKeyTime is the time part of a key: newer events sort first.
func auditKeyTime(t time.Time) string {
	return fmt.Sprintf("%016x", uint64(math.MaxInt64-unixNanoClamped(t)))
}

// unixNanoClamped is t's UnixNano, which is undefined outside about
// 1678–2262; a time beyond either end (a console filter of year 1000)
// counts as that end, so it sorts before or after every event.
func unixNanoClamped(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// auditKeyTimeLen is the length of auditKeyTime's result, and
// auditKeyRandomLen that of the random part after it.
const (
	auditKeyTimeLen   = 16
	auditKeyRandomLen = 8 // NewSecret(6)
)

// RecordAudit writes ev into tx; ev.Time must be set. A closure that runs
// again writes a fresh key, so a retried transaction records once.
func RecordAudit(tx Tx, tenantID string, ev AuditEvent) error {
	// The random part keeps two events of one nanosecond apart.
	ev.ID = auditKeyTime(ev.Time) + "-" + NewSecret(auditKeyRandomLen*3/4)
	return PutJSON(tx, CollAudit, tenantID, ev.ID, ev)
}

// audit records an event of the actor in ctx inside tx.
func (s *Service) audit(ctx context.Context, tx Tx, tenantID string, action AuditAction, target AuditTarget, details map[string]string) error {
	return RecordAudit(tx, tenantID, AuditEvent{Time: s.Time(), Action: action, Actor: ActorFrom(ctx), Target: target, Details: details})
}

// auditSelf records an event of a person acting on their own account u: the
// actor is u, from the address ctx's actor carries (the front end sets it
// with WithActor).
func (s *Service) auditSelf(ctx context.Context, tx Tx, tenantID string, action AuditAction, u User, details map[string]string) error {
	actor := Actor{Kind: ActorUser, Sub: u.Sub, Name: u.Username, IP: ActorFrom(ctx).IP}
	return RecordAudit(tx, tenantID, AuditEvent{Time: s.Time(), Action: action, Actor: actor, Target: userTarget(u), Details: details})
}

// userTarget is the audit target of a user.
func userTarget(u User) AuditTarget {
	return AuditTarget{Kind: TargetUser, ID: u.Sub, Name: u.Username}
}

// RecordEvent records an event that changes nothing else (an import's
// summary, a console sign-in) in a transaction of its own, which the store may share with
// other requests' events (Store.Batch). A failure is logged, not returned:
// the work it records is done whether or not its record could be written.
func (s *Service) RecordEvent(ctx context.Context, tenantID string, ev AuditEvent) {
	if ev.Time.IsZero() {
		ev.Time = s.Time()
	}
	if ev.Actor.Kind == "" {
		ev.Actor = ActorFrom(ctx)
	}
	err := s.Store.Batch(ctx, func(tx Tx) error { return RecordAudit(tx, tenantID, ev) })
	if err != nil && s.Logger != nil {
		s.Logger.ErrorContext(ctx, "record audit event", "tenant", tenantID, "action", string(ev.Action), "err", err)
	}
}

// AuditQuery filters and pages the audit trail. Zero fields do not filter.
type AuditQuery struct {
	// Action matches an action exactly, or a family when it ends in "."
	// ("signin." matches every sign-in outcome).
	Action string
	// Actor matches the actor's sub or, case-insensitively, name.
	Actor string
	// Target matches the target's ID or, case-insensitively, name.
	Target string
	// From and To bound the time, both inclusive.
	From, To time.Time
	// After is the cursor of the previous page.
	After string
	// Limit is the page size: 1 to 200, default 50.
	Limit int
	// Budget bounds how many events one call examines, default
	// DefaultAuditBudget, so a filter that matches little stays fast.
	Budget int
}

// DefaultAuditBudget is how many events one page examines at most.
const DefaultAuditBudget = 5000

// AuditPage is one page of the audit trail, newest first.
type AuditPage struct {
	Events []AuditEvent
	// Next is the cursor of the following page; empty at the end.
	Next string
	// Examined is how many events this page looked at.
	Examined int
	// BudgetSpent says the page stopped at its budget before it was full:
	// more matches may follow Next.
	BudgetSpent bool
}

// ValidAuditFilter reports whether action is what AuditQuery.Action
// takes: an action, or a family of actions (a prefix of some action that
// ends in ".", such as "user.").
func ValidAuditFilter(action string) bool {
	return slices.ContainsFunc(AuditActions(), func(a AuditAction) bool { return actionMatches(action, a) })
}

// actionMatches reports whether filter, an AuditQuery's Action, takes
// action: the action itself, or a family ("user.") it is of.
func actionMatches(filter string, action AuditAction) bool {
	if strings.HasSuffix(filter, ".") {
		return strings.HasPrefix(string(action), filter)
	}
	return string(action) == filter
}

// ParseAuditBound reads a bound of AuditQuery's From or To: a date
// (2006-01-02, in UTC), or a time in RFC 3339. A date as To (end) means
// the whole of that day.
func ParseAuditBound(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.Add(24*time.Hour - time.Nanosecond)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q is neither a date (2006-01-02) nor a time (2006-01-02T15:04:05Z)", ErrInvalid, s)
	}
	return t, nil
}

// ValidAuditCursor reports whether after is what AuditQuery.After takes: a
// key of the trail, as AuditPage.Next hands it out (the time part in 16
// hexadecimal digits, "-", and 8 characters of base64url). Anything else
// was never handed out, and would start a page at some arbitrary point.
func ValidAuditCursor(after string) bool {
	timePart, random, ok := strings.Cut(after, "-")
	return ok && len(timePart) == auditKeyTimeLen && len(random) == auditKeyRandomLen &&
		strings.Trim(timePart, "0123456789abcdef") == "" &&
		strings.Trim(random, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}

// ValidAuditRange reports whether AuditQuery's From and To can hold an
// event: either is open (zero), or From is not after To. A range that ends
// before it starts matches nothing, which a front end had better say than
// show as an empty trail.
func ValidAuditRange(from, to time.Time) bool {
	return from.IsZero() || to.IsZero() || !from.After(to)
}

func (q AuditQuery) matches(ev AuditEvent) bool {
	if q.Action != "" && !actionMatches(q.Action, ev.Action) {
		return false
	}
	if q.Actor != "" && ev.Actor.Sub != q.Actor && !strings.EqualFold(ev.Actor.Name, q.Actor) {
		return false
	}
	if q.Target != "" && ev.Target.ID != q.Target && !strings.EqualFold(ev.Target.Name, q.Target) {
		return false
	}
	return true
}

// AuditLog returns a page of a tenant's audit trail, newest first. The
// empty tenant ID is the operator's own trail (deleted tenants). A cursor
// that is not one it handed out (ValidAuditCursor) is ErrInvalid.
func (s *Service) AuditLog(ctx context.Context, tenantID string, q AuditQuery) (AuditPage, error) {
	if q.After != "" && !ValidAuditCursor(q.After) {
		return AuditPage{}, fmt.Errorf("%w: %q is not a cursor of the audit trail: pass a page's Next as it is", ErrInvalid, q.After)
	}
	q.Limit = pageLimit(q.Limit, MaxAuditPageSize, DefaultPageSize)
	if q.Budget <= 0 {
		q.Budget = DefaultAuditBudget
	}
	after := q.After
	if !q.To.IsZero() {
		// Keys of events at or before To sort at or after its time part.
		if start := auditKeyTime(q.To); start > after {
			after = start
		}
	}
	var stop string
	if !q.From.IsZero() {
		stop = auditKeyTime(q.From)
	}
	var page AuditPage
	// more: the scan stopped with events left in range, so Next (the last
	// key examined) is where the following page starts.
	more := false
	err := s.Store.View(ctx, func(tx Tx) error {
		page, more = AuditPage{}, false
		if tenantID != "" {
			if _, err := GetTenant(tx, tenantID); err != nil {
				return err
			}
		}
		return ScanJSON(tx, CollAudit, tenantID, "", after, func(key string, ev AuditEvent) bool {
			switch {
			case stop != "" && len(key) >= auditKeyTimeLen && key[:auditKeyTimeLen] > stop:
				return false // older than From: the end of the range
			case len(page.Events) == q.Limit:
				more = true
				return false
			case page.Examined == q.Budget:
				more, page.BudgetSpent = true, true
				return false
			}
			page.Examined++
			page.Next = key
			if q.matches(ev) {
				page.Events = append(page.Events, ev)
			}
			return true
		})
	})
	if err != nil {
		return AuditPage{}, err
	}
	if !more {
		page.Next = ""
	}
	return page, nil
}

// auditUserChange records what UpdateUser changed: enabling or disabling
// as events of their own (they are what an auditor looks for), the rest as
// one user.update naming the fields, not their values.
func (s *Service) auditUserChange(ctx context.Context, tx Tx, tenantID string, before, after User) error {
	if before.Enabled != after.Enabled {
		action := AuditUserDisable
		if after.Enabled {
			action = AuditUserEnable
		}
		if err := s.audit(ctx, tx, tenantID, action, userTarget(after), nil); err != nil {
			return err
		}
	}
	fields := userChanges(before, after)
	if len(fields) == 0 {
		return nil
	}
	details := map[string]string{"fields": strings.Join(fields, ",")}
	if !sameGroups(before, after) {
		details["groups"] = strings.Join(after.Groups, ",")
	}
	return s.audit(ctx, tx, tenantID, AuditUserUpdate, userTarget(after), details)
}

// userChanges names what UpdateUser may change of a user that differs
// between before and after, but for whether it is enabled: the email
// address, whether it is verified, each attribute, and the groups, which
// are a set.
func userChanges(before, after User) []string {
	var fields []string
	if before.Email != after.Email {
		fields = append(fields, "email")
	}
	if before.EmailVerified != after.EmailVerified {
		fields = append(fields, "email_verified")
	}
	for _, name := range slices.Sorted(maps.Keys(after.Attributes)) {
		if v, ok := before.Attributes[name]; !ok || v != after.Attributes[name] {
			fields = append(fields, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(before.Attributes)) {
		if _, ok := after.Attributes[name]; !ok {
			fields = append(fields, name)
		}
	}
	if !sameGroups(before, after) {
		fields = append(fields, "groups")
	}
	return fields
}

// sameGroups reports whether two users are in the same groups, in any
// order.
func sameGroups(a, b User) bool {
	return slices.Equal(slices.Sorted(slices.Values(a.Groups)), slices.Sorted(slices.Values(b.Groups)))
}

// tenantChanges names the parts of a tenant's settings that differ.
func tenantChanges(before, after Tenant) []string {
	var fields []string
	a, b := before.Settings, after.Settings
	for _, f := range []struct {
		name    string
		changed bool
	}{
		{"name", before.Name != after.Name},
		{"password_policy", a.PasswordPolicy != b.PasswordPolicy},
		{"temp_password_validity_days", a.TempPasswordValidityDays != b.TempPasswordValidityDays},
		{"mfa", a.MFA.Mode != b.MFA.Mode || a.MFA.Passwordless != b.MFA.Passwordless || !slices.Equal(a.MFA.Factors, b.MFA.Factors)},
		{"locale", a.Locale != b.Locale},
		{"branding", a.Branding != b.Branding},
		{"lockout", a.Lockout != b.Lockout},
		{"signing_alg", a.SigningAlg != b.SigningAlg},
		{"admin_group", a.AdminGroup != b.AdminGroup},
		{"legacy", a.Legacy != b.Legacy},
	} {
		if f.changed {
			fields = append(fields, f.name)
		}
	}
	return fields
}

// ImportCounts are the outcomes of a bulk import, for its audit event.
type ImportCounts struct {
	Created, Updated, Skipped, Failed int
}

// RecordImport records a bulk import of users as one event. The importer
// (tenant/cognitoimport) writes in batches of its own, outside the
// service's methods, so its front ends (the admin API, the console) call
// this once it has run. Nothing is recorded when nothing was written.
// What was written is recorded even when ctx was cancelled meanwhile (the
// client left part-way): the batches written stay, and so must their
// record.
func (s *Service) RecordImport(ctx context.Context, tenantID string, n ImportCounts) {
	if n.Created+n.Updated == 0 {
		return
	}
	s.RecordEvent(context.WithoutCancel(ctx), tenantID, AuditEvent{Action: AuditUserImport, Details: map[string]string{
		"created": strconv.Itoa(n.Created), "updated": strconv.Itoa(n.Updated),
		"skipped": strconv.Itoa(n.Skipped), "failed": strconv.Itoa(n.Failed)}})
}
