package tenant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Lazy migration: a tenant may name the user pool it came from (its
// "legacy pool"), an Amazon Cognito user pool or any other system behind a
// webhook. A person whom Cognate does not know yet, or who was imported
// without a password, signs in with the password they always had: the
// legacy pool checks it and, when it is right, the user is created (or
// completed) here in one transaction, with an argon2id hash of that
// password, and signs in as if nothing happened (tenant/auth, migrate.go).
// A forgotten password works the same way: the legacy pool is asked who the
// person is, and the user is created here to receive a reset code.
//
// This file holds the configuration, the account a legacy pool describes and
// the one function that writes such an account into the store. Reaching the
// pool over the network is tenant/legacy's job, behind LegacyDirectory.

// Kinds of legacy pool.
const (
	LegacyCognito = "cognito"
	LegacyWebhook = "webhook"
)

// Cognito app client authentication flows a legacy pool may be asked with.
const (
	FlowUserPassword = "USER_PASSWORD_AUTH"
	FlowUserSRP      = "USER_SRP_AUTH"
)

// LegacyPool is where a tenant's users came from. The zero value means there
// is none. Secrets (ClientSecret, Admin.SecretAccessKey, WebhookSecret) are
// never logged (LogValue) and never shown by the admin API.
type LegacyPool struct {
	Kind string `json:"kind,omitempty"` // "", LegacyCognito or LegacyWebhook

	// Cognito. Region may be left out: a pool ID starts with its region
	// (eu-west-1_AbC123). Endpoint replaces the regional endpoint, for a
	// VPC endpoint or a stand-in such as cognito-local.
	Region       string `json:"region,omitempty"`
	Endpoint     string `json:"endpoint,omitempty"`
	UserPoolID   string `json:"user_pool_id,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	// AuthFlow is "" to try USER_PASSWORD_AUTH and fall back to SRP when
	// the app client does not allow it, or one of the two to use only it.
	AuthFlow string `json:"auth_flow,omitempty"`
	// Admin, when set, lets Cognate read a user's full profile and groups
	// (AdminGetUser, AdminListGroupsForUser) and look users up for a
	// forgotten password. Without it, what the ID token carries comes over.
	Admin AWSKeys `json:"admin,omitzero"`

	// Webhook: the URL receives Cognito's user migration event, signed
	// with WebhookSecret (see docs/migration.md).
	WebhookURL    string `json:"webhook_url,omitempty"`
	WebhookSecret string `json:"webhook_secret,omitempty"`

	// SecretsSealed says that the secrets above hold values sealed for
	// the tenant (seal.go), as they are stored, rather than the secrets
	// themselves. Records of older versions hold them in clear. A flag
	// rather than a guess from the value's form: a webhook secret may be
	// any string. (A version from before sealing drops the flag when it
	// rewrites the tenant; sealLegacyPool then tells a sealed value by
	// opening it.) OpenLegacyPool gives the pool ready for use.
	SecretsSealed bool `json:"secrets_sealed,omitempty"`
}

// AWSKeys is an IAM access key pair.
type AWSKeys struct {
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
}

// Set reports whether both halves of the key pair are there.
func (k AWSKeys) Set() bool { return k.AccessKeyID != "" && k.SecretAccessKey != "" }

// Enabled reports whether the tenant has a legacy pool.
func (p LegacyPool) Enabled() bool { return p.Kind != "" }

// AWSRegion is the pool's region: as configured, else the prefix of the
// pool ID.
func (p LegacyPool) AWSRegion() string {
	if p.Region != "" {
		return p.Region
	}
	region, _, _ := strings.Cut(p.UserPoolID, "_")
	return region
}

// LogValue names the pool without any of its secrets.
func (p LegacyPool) LogValue() slog.Value {
	switch p.Kind {
	case LegacyCognito:
		return slog.GroupValue(slog.String("kind", p.Kind), slog.String("user_pool_id", p.UserPoolID),
			slog.String("client_id", p.ClientID), slog.Bool("admin_keys", p.Admin.Set()))
	case LegacyWebhook:
		return slog.GroupValue(slog.String("kind", p.Kind), slog.String("webhook_url", RedactURL(p.WebhookURL)))
	}
	return slog.StringValue("none")
}

// redacted is p with its secrets masked and its URLs as RedactURL shows
// them.
func (p LegacyPool) redacted() LegacyPool {
	mask := func(s *string) {
		if *s != "" {
			*s = "********"
		}
	}
	mask(&p.ClientSecret)
	mask(&p.Admin.SecretAccessKey)
	mask(&p.WebhookSecret)
	for _, u := range []*string{&p.WebhookURL, &p.Endpoint} {
		if *u != "" {
			*u = RedactURL(*u)
		}
	}
	return p
}

// LogValue logs settings without the legacy pool's secrets, which they hold
// since lazy migration. (The plain types have no LogValue of their own, so
// slog encodes them as they are stored, field by field.)
func (s Settings) LogValue() slog.Value {
	type plain Settings
	s.Legacy = s.Legacy.redacted()
	return slog.AnyValue(plain(s))
}

// LogValue logs a tenant without the secrets in its settings.
func (t Tenant) LogValue() slog.Value {
	type plain Tenant
	t.Settings.Legacy = t.Settings.Legacy.redacted()
	return slog.AnyValue(plain(t))
}

// LegacyPoolChange replaces a tenant's legacy pool. A front end that never
// shows secrets sends the other fields with Keep… set, and the secret stays
// as it is.
type LegacyPoolChange struct {
	Pool                                                 LegacyPool
	KeepClientSecret, KeepAdminSecret, KeepWebhookSecret bool
}

// apply returns the pool the change makes of old. Removing the pool
// (Kind "") removes its secrets too: nothing keeps them for a pool that
// is not there. Nor does a pool of another kind keep them: a webhook's
// signing secret means nothing to a Cognito pool, nor the other way round,
// and a secret kept for what the new kind lacks would only be refused.
func (c LegacyPoolChange) apply(old LegacyPool) LegacyPool {
	p := c.Pool
	if !p.Enabled() || p.Kind != old.Kind {
		if !p.Enabled() {
			return LegacyPool{}
		}
		return p
	}
	if c.KeepClientSecret {
		p.ClientSecret = old.ClientSecret
	}
	if c.KeepAdminSecret {
		p.Admin.SecretAccessKey = old.Admin.SecretAccessKey
	}
	if c.KeepWebhookSecret {
		p.WebhookSecret = old.WebhookSecret
	}
	return p
}

// keepsSecretOf reports whether the change (nil: none) carries one of
// old's secrets over.
func (c *LegacyPoolChange) keepsSecretOf(old LegacyPool) bool {
	return c != nil && c.Pool.Enabled() && c.Pool.Kind == old.Kind && (c.KeepClientSecret && old.ClientSecret != "" ||
		c.KeepAdminSecret && old.Admin.SecretAccessKey != "" ||
		c.KeepWebhookSecret && old.WebhookSecret != "")
}

// Cognito's patterns for pool and client IDs, and AWS region names.
var (
	poolIDPattern   = regexp.MustCompile(`^[\w-]+_[0-9a-zA-Z]+$`)
	clientIDPattern = regexp.MustCompile(`^[\w+]{1,128}$`)
	regionPattern   = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
)

// minWebhookSecret is the shortest webhook signing secret accepted: 128
// bits when it is random base64 or hex.
const minWebhookSecret = 24

// legacyProblems says everything that is wrong with a legacy pool.
func legacyProblems(p LegacyPool) []string {
	var problems []string
	switch p.Kind {
	case "":
		return nil
	case LegacyCognito:
		if !poolIDPattern.MatchString(p.UserPoolID) || len(p.UserPoolID) > 55 {
			problems = append(problems, fmt.Sprintf("legacy pool: user pool ID %q must look like eu-west-1_AbC123", p.UserPoolID))
		} else if !regionPattern.MatchString(p.AWSRegion()) {
			problems = append(problems, fmt.Sprintf("legacy pool: region %q is not an AWS region name", p.AWSRegion()))
		}
		if !clientIDPattern.MatchString(p.ClientID) {
			problems = append(problems, "legacy pool: an app client ID is required (letters, digits, _ and +)")
		}
		if p.Endpoint != "" {
			if err := checkServiceURL(p.Endpoint); err != nil {
				problems = append(problems, "legacy pool: endpoint "+err.Error())
			}
		}
		if p.AuthFlow != "" && p.AuthFlow != FlowUserPassword && p.AuthFlow != FlowUserSRP {
			problems = append(problems, fmt.Sprintf("legacy pool: auth flow %q must be %s, %s or empty (both)", p.AuthFlow, FlowUserPassword, FlowUserSRP))
		}
		if (p.Admin.AccessKeyID == "") != (p.Admin.SecretAccessKey == "") {
			problems = append(problems, "legacy pool: admin credentials need both the access key ID and the secret access key")
		}
		if p.WebhookURL != "" || p.WebhookSecret != "" {
			problems = append(problems, "legacy pool: a Cognito pool has no webhook")
		}
	case LegacyWebhook:
		if err := checkServiceURL(p.WebhookURL); err != nil {
			problems = append(problems, "legacy pool: webhook URL "+err.Error())
		}
		if len(p.WebhookSecret) < minWebhookSecret {
			problems = append(problems, fmt.Sprintf("legacy pool: the webhook signing secret must be at least %d characters", minWebhookSecret))
		}
		if p.UserPoolID != "" || p.ClientID != "" || p.ClientSecret != "" || p.Endpoint != "" || p.Admin != (AWSKeys{}) {
			problems = append(problems, "legacy pool: a webhook has no Cognito settings")
		}
	default:
		problems = append(problems, fmt.Sprintf("legacy pool: kind %q must be %s or %s", p.Kind, LegacyCognito, LegacyWebhook))
	}
	return problems
}

// checkServiceURL accepts an absolute https URL, or http to a loopback
// address: passwords travel to it. Its messages go to the operator and to
// the log, so they show the URL as RedactURL does, never its credentials
// or query: a URL refused for carrying a password must not pass it on.
func checkServiceURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("cannot be read as a URL (it is not shown: it may hold a secret)")
	case u.Host == "":
		return fmt.Errorf("%q must be an absolute URL (https://host/path)", RedactURL(raw))
	case u.User != nil:
		return fmt.Errorf("%q may not hold credentials (user:password@ before the host, left out here)", RedactURL(raw))
	case u.Fragment != "":
		return fmt.Errorf("%q may not have a fragment (#…)", RedactURL(raw))
	case !HTTPSOrLoopback(u):
		return fmt.Errorf("%q must use https (http only for localhost): passwords are sent to it", RedactURL(raw))
	}
	return nil
}

// RedactURL is raw without its query, fragment and credentials, for logs
// and messages: serverless endpoints often carry a key in the query
// (Azure's ?code=).
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// Errors of a LegacyDirectory.
var (
	// ErrLegacyRefused means the legacy pool answered and did not accept:
	// a wrong password, a user it does not know or has disabled, or one it
	// cannot hand over (no verified address for a reset). Nothing is
	// created here.
	ErrLegacyRefused = errors.New("the legacy user pool refused")
	// ErrLegacyUnavailable means no answer could be had: the pool is down,
	// slow, throttling, failing, misconfigured, or answered something
	// Cognate cannot read. Whether the password was right is unknown.
	ErrLegacyUnavailable = errors.New("the legacy user pool is unavailable")
)

// LegacyAccount is a user as a legacy pool describes them, after it accepted
// their password (or, for a reset, found them).
type LegacyAccount struct {
	// Username is the pool's own name for the user, which may differ from
	// what the person typed (an email address, for a pool whose usernames
	// are UUIDs); empty when the pool did not say.
	Username string
	// Sub is the pool's subject; kept as the user's sub here so that
	// relying parties keep their data. Empty when the pool did not say.
	Sub string
	// SubWithheld says that the pool has a sub for this user but did not
	// tell it (an MFA challenge names the user and nothing more). Such an
	// account only completes a user imported here: a new user would get
	// another sub, and relying parties would not know them.
	SubWithheld   bool
	Email         string
	EmailVerified bool
	// EmailVerifiedUnknown says that the pool named Email but not
	// whether it is verified (an MFA challenge only echoes the address
	// typed): a user here keeps the verification of that same address.
	EmailVerifiedUnknown bool
	// Attributes are the other standard and custom:* attributes.
	Attributes map[string]string
	// Groups are the user's groups when GroupsKnown.
	Groups      []string
	GroupsKnown bool
	// Status is what the user becomes here: StatusConfirmed (the password
	// counts), StatusForceChangePassword (the pool required a new
	// password: the one typed becomes a temporary one) or
	// StatusResetRequired.
	Status UserStatus
}

// Unkept names what of the account PutLegacyUser leaves out because no user
// here can hold it: an email that is not an address, and attributes of
// names that are neither standard nor custom:<name>, or with values that
// break their attribute's rule. Each name maps to the code of the rule it
// breaks (an InvalidError's Code), never to the value, which is the
// person's data and must not reach a log.
func (a LegacyAccount) Unkept() UnkeptAttributes {
	unkept := UnkeptAttributes{}
	if _, err := normalizeEmail(a.Email); err != nil {
		unkept["email"] = ruleBroken(err)
	}
	for name, value := range a.Attributes {
		if code := legacyAttributeProblem(name, value); code != "" {
			unkept[name] = code
		}
	}
	return unkept
}

// UnkeptAttributes maps the names of attributes a legacy pool told but
// that were not kept to the code of the rule each breaks.
type UnkeptAttributes map[string]string

// LogValue lists the names with their rules, sorted by name.
func (u UnkeptAttributes) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(u))
	for _, name := range slices.Sorted(maps.Keys(u)) {
		attrs = append(attrs, slog.String(name, u[name]))
	}
	return slog.GroupValue(attrs...)
}

// legacyAttributeProblem is the code of the rule that a legacy account's
// attribute name, with value, breaks, so that it cannot be kept; "" when
// it can. One attribute Cognate cannot hold does not keep the person out:
// it is left out, and logged.
func legacyAttributeProblem(name, value string) string {
	return ruleBroken(ValidateAttributes(map[string]string{name: value}))
}

// ruleBroken is the code of the rule a validator's err names (an
// InvalidError, as they all return), "" for nil.
func ruleBroken(err error) string {
	var invalid *InvalidError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &invalid):
		return invalid.Code
	}
	return "invalid"
}

// LegacyDirectory reaches legacy pools; tenant/legacy implements it. Both
// methods return the account, an error wrapping ErrLegacyRefused or
// ErrLegacyUnavailable, or the context's error.
type LegacyDirectory interface {
	// Authenticate checks login and password at the pool.
	Authenticate(ctx context.Context, tenantID string, pool LegacyPool, login, password string) (LegacyAccount, error)
	// Lookup finds the user login names, for a forgotten password. It
	// refuses users without a verified email address.
	Lookup(ctx context.Context, tenantID string, pool LegacyPool, login string) (LegacyAccount, error)
}

// Errors of PutLegacyUser besides the store's.
var (
	// ErrLegacyConflict means a legacy account cannot be written because
	// it contradicts a user here: its username belongs to a user who
	// already signs in here some other way, or its sub to a user of
	// another name.
	ErrLegacyConflict = errors.New("the legacy account conflicts with a user here")
	// ErrLegacyIncomplete means the pool vouched for a user it did not
	// describe well enough to create here (LegacyAccount.SubWithheld).
	ErrLegacyIncomplete = errors.New("the legacy pool did not tell the user's sub")
)

// PutLegacyUser writes the account a legacy pool vouched for, in tx: it
// creates the user, or completes the one here that was imported without a
// password (matched by the pool's username, else by sub, else by login).
// finish then sets what the caller proved (a password hash and status).
// Groups the user is in are created when missing. What Cognate cannot hold
// is left out, and the caller logs acct.Unkept().
//
// When the user is already complete here (a concurrent sign-in migrated
// them a moment ago) it returns that user and an error wrapping
// ErrAlreadyExists, writing nothing: the caller checks the password here.
// It returns ErrLegacyConflict when the account contradicts a user here,
// and ErrLegacyUnavailable when the pool named a sub no user can have here
// (ValidateSub): an answer Cognate cannot use, as one it cannot read.
func PutLegacyUser(tx Tx, tenantID, login string, acct LegacyAccount, now time.Time, finish func(*User)) (User, error) {
	if acct.Sub != "" {
		if err := ValidateSub(acct.Sub); err != nil {
			return User{}, fmt.Errorf("%w: the pool's sub: %w", ErrLegacyUnavailable, err)
		}
	}
	username := acct.Username
	if username == "" {
		username = strings.TrimSpace(login)
	}
	if err := ValidateUsername(username); err != nil {
		return User{}, fmt.Errorf("%w: %w", ErrLegacyConflict, err)
	}
	local, found, err := findLegacyMatch(tx, tenantID, username, acct.Sub, login)
	if err != nil {
		return User{}, err
	}
	if found {
		// Usernames never change, here or in Cognito: the same sub under
		// another name is someone else. Checked before the password here,
		// which the caller would otherwise try on that other user.
		if acct.Username != "" && FoldKey(local.Username) != FoldKey(acct.Username) {
			return User{}, fmt.Errorf("%w: the pool's user %q is %q here", ErrLegacyConflict, acct.Username, local.Username)
		}
		if local.PasswordHash != "" {
			return local, fmt.Errorf("user %q already signs in here: %w", local.Username, ErrAlreadyExists)
		}
		if local.Status != StatusResetRequired || !local.Enabled {
			return User{}, fmt.Errorf("%w: user %q here is %s (enabled %t)", ErrLegacyConflict, local.Username, local.Status, local.Enabled)
		}
	}

	u := local
	if !found && acct.Sub == "" && acct.SubWithheld {
		return User{}, fmt.Errorf("%w: %q is not imported here, and without the sub a new one would break relying parties' links", ErrLegacyIncomplete, username)
	}
	if !found {
		// No user here has the pool's sub: findLegacyMatch looked it up.
		u = User{Sub: acct.Sub, Username: username, Enabled: true, CreatedAt: now}
		if u.Sub == "" {
			u.Sub = NewUUID()
		}
	}
	// What the pool says now is newer than what an export said before.
	if email, err := normalizeEmail(acct.Email); err == nil && email != "" {
		if FoldKey(email) != FoldKey(u.Email) {
			u.EmailVerified = false
		}
		u.Email = email
		// A pool that named the address without saying whether it is
		// verified leaves the same address as verified as it was here.
		if !acct.EmailVerifiedUnknown {
			u.EmailVerified = acct.EmailVerified
		}
	}
	attrs := maps.Clone(u.Attributes)
	if attrs == nil {
		attrs = make(map[string]string, len(acct.Attributes))
	}
	for name, value := range acct.Attributes {
		if legacyAttributeProblem(name, value) == "" {
			attrs[name] = value
		}
	}
	u.Attributes = attrs
	if len(attrs) == 0 {
		u.Attributes = nil
	}
	if acct.GroupsKnown {
		// A group renamed or deleted here a moment ago, whose members
		// still move, is read as every member of it reads it now
		// (group_move.go): its old name may not be taken before they have.
		moves, err := groupMoves(tx, tenantID)
		if err != nil {
			return User{}, err
		}
		u.Groups = nil
		for _, g := range movedGroups(acct.Groups, moves) {
			if ValidateGroupName(g) != nil || slices.Contains(u.Groups, g) {
				continue
			}
			if err := ensureGroup(tx, tenantID, g, now); err != nil {
				return User{}, err
			}
			u.Groups = append(u.Groups, g)
		}
	}
	finish(&u)
	u.UpdatedAt = now

	action := AuditUserCreate
	if found {
		action = AuditUserUpdate
		err = UpdateUser(tx, tenantID, u)
	} else {
		err = InsertUser(tx, tenantID, u)
	}
	if errors.Is(err, ErrAlreadyExists) {
		return User{}, fmt.Errorf("%w: %w", ErrLegacyConflict, err)
	}
	if err != nil {
		return User{}, err
	}
	return u, RecordAudit(tx, tenantID, AuditEvent{Time: now, Action: action, Actor: Actor{Kind: ActorSystem},
		Target: userTarget(u), Details: map[string]string{"source": "legacy_pool", "status": string(u.Status)}})
}

// findLegacyMatch finds the user here whom a legacy account is about.
func findLegacyMatch(tx Tx, tenantID, username, sub, login string) (User, bool, error) {
	u, err := UserByUsername(tx, tenantID, username)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return u, err == nil, err
	}
	if sub != "" {
		u, err := GetUser(tx, tenantID, sub)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return u, err == nil, err
		}
	}
	if FoldKey(login) != FoldKey(username) {
		u, err := FindUser(tx, tenantID, login)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return u, err == nil, err
		}
	}
	return User{}, false, nil
}

// ensureGroup creates group name unless it exists.
func ensureGroup(tx Tx, tenantID, name string, now time.Time) error {
	_, err := tx.Get(CollGroups, tenantID, name)
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	return PutJSON(tx, CollGroups, tenantID, name, Group{Name: name, CreatedAt: now})
}
