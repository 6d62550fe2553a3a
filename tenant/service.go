package tenant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/tenant/password"
)

// Service is the one service layer over tenants, clients and users. The admin
// API, the admin console and the CLI (through the API) all call it, so every
// rule about what a valid change is lives here once.
type Service struct {
	Store  Store
	Hasher *password.Hasher
	Logger *slog.Logger
	Now    func() time.Time
	// Changed is told after a commit that changed a tenant's settings,
	// clients or keys, so caches elsewhere can drop what they hold. ctx is
	// the change's; the commit is done, so it may have been cancelled
	// since.
	Changed func(ctx context.Context, tenantID string)
	// RevokeUser ends a user's SSO sessions and token families inside tx;
	// the provider, which owns those records, supplies it. It runs when a
	// user is disabled or deleted, or an administrator sets the password.
	RevokeUser func(tx Tx, tenantID, sub string) error

	// Mail that activation and password resets queue (see onboarding.go):
	// Templates renders it; MailFrom is the address it comes from, with the
	// tenant's name put in front ("" leaves the sender's own From);
	// TenantURL is a tenant's origin, for the links in it; MailQueued is
	// told after a commit that queued mail, to wake the outbox.
	Templates *mail.Templates
	// TenantTemplates are the templates of tenants an operator gave their
	// own; the others use Templates.
	TenantTemplates map[string]*mail.Templates
	MailFrom        string
	TenantURL       func(slug string) string
	MailQueued      func()

	// GroupMoveQueued is told after a commit that renamed or deleted a
	// group with more members than one transaction moves, to wake the
	// GroupMover that moves the rest (group_move.go). Nil moves them
	// before the change returns.
	GroupMoveQueued func()

	// MailFromName is the sender's name on mail that comes from no tenant
	// (the apex's list of a person's organizations): the operator's own,
	// where tenants' mail has the tenant's name.
	MailFromName string

	// ReleaseLockout forgets a login name's failed sign-ins inside tx;
	// tenant/auth, which owns those counters, supplies it (auth.Unlock).
	ReleaseLockout func(tx Tx, tenantID, login string) error
	// Legacy reaches tenants' legacy pools, to bring over a user who
	// forgot a password before signing in here (legacyreset.go); nil
	// leaves such users unknown.
	Legacy LegacyDirectory
	// KeySealer seals tenants' signing keys, and LegacySealer their legacy
	// pools' secrets, before they are stored (seal.go): each under a key
	// of its own derived from the server key. Nil stores them in clear,
	// as versions before sealing did.
	KeySealer, LegacySealer Sealer
}

func (s *Service) revoke(tx Tx, tenantID, sub string) error {
	if s.RevokeUser == nil {
		return nil
	}
	return s.RevokeUser(tx, tenantID, sub)
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) changed(ctx context.Context, tenantID string) {
	if s.Changed != nil {
		s.Changed(ctx, tenantID)
	}
}

// NewTenant is the input of CreateTenant.
type NewTenant struct {
	Slug     string
	Name     string // the organization's name; empty for the slug
	Settings Settings
}

// CreateTenant creates a tenant with its first signing key, in one
// transaction.
func (s *Service) CreateTenant(ctx context.Context, in NewTenant) (Tenant, error) {
	if err := ValidateSlug(in.Slug); err != nil {
		return Tenant{}, err
	}
	// A name left out is the slug; a name given must be a name, so one of
	// white space alone is refused (as UpdateTenant refuses it), not read
	// as left out.
	name := in.Slug
	if in.Name != "" {
		name = strings.TrimSpace(in.Name)
	}
	if err := ValidateTenantName(name); err != nil {
		return Tenant{}, err
	}
	settings := in.Settings.WithDefaults()
	if err := ValidateSettings(settings); err != nil {
		return Tenant{}, err
	}
	now := s.now()
	key, err := NewSigningKey(settings.SigningAlg, now, now)
	if err != nil {
		return Tenant{}, err
	}
	t := Tenant{Slug: in.Slug, Name: name, Settings: settings, CreatedAt: now, UpdatedAt: now, Incarnation: NewSecret(16)}
	if t.Settings.Legacy, err = SealLegacyPool(s.LegacySealer, t.Slug, t.Settings.Legacy); err != nil {
		return Tenant{}, err
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		if _, err := tx.Get(CollTenants, "", t.Slug); err == nil {
			return fmt.Errorf("tenant %q: %w", t.Slug, ErrAlreadyExists)
		}
		if err := checkTenantNameFree(tx, t.Slug, t.Name); err != nil {
			return err
		}
		// A slug may have belonged to a deleted tenant, and a request in
		// flight when it went (a sign-in's session, audit event or lockout
		// counter) may have written under it since: none of that may
		// surface in the new tenant, which may be another organization.
		if err := tx.DeleteTenant(t.Slug); err != nil {
			return fmt.Errorf("tenant %q: clear records left by a deleted tenant: %w", t.Slug, err)
		}
		if err := PutTenant(tx, t); err != nil {
			return err
		}
		// A new tenant's indexes of its users are complete from the start.
		if err := tx.Put(CollGroupMembers, t.Slug, groupIndexMarker, []byte{}); err != nil {
			return err
		}
		if err := tx.Put(CollWebAuthnCreds, t.Slug, credentialIndexMarker, []byte{}); err != nil {
			return err
		}
		// The admin group exists from the start, as it must later (it
		// cannot be deleted, and another is chosen only if it exists), so
		// that making someone an administrator is adding them to it.
		if err := PutJSON(tx, CollGroups, t.Slug, t.Settings.AdminGroup, Group{Name: t.Settings.AdminGroup, CreatedAt: now}); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, t.Slug, AuditTenantCreate, AuditTarget{Kind: TargetTenant, ID: t.Slug, Name: t.Name}, nil); err != nil {
			return err
		}
		return s.storeSigningKey(tx, t.Slug, key)
	})
	if err != nil {
		return Tenant{}, err
	}
	s.changed(ctx, t.Slug)
	return t, nil
}

// ValidateSettings checks a tenant's policies and says every problem.
func ValidateSettings(st Settings) error {
	var problems []string
	if err := st.PasswordPolicy.Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if st.TempPasswordValidityDays < 1 || st.TempPasswordValidityDays > 365 {
		problems = append(problems, "temporary password validity must be 1 to 365 days")
	}
	if !slices.Contains([]string{MFAOff, MFAOptional, MFARequired}, st.MFA.Mode) {
		problems = append(problems, fmt.Sprintf("MFA mode %q must be OFF, OPTIONAL or ON", st.MFA.Mode))
	}
	for _, f := range st.MFA.Factors {
		if f != FactorTOTP && f != FactorWebAuthn {
			problems = append(problems, fmt.Sprintf("MFA factor %q must be TOTP or WEBAUTHN", f))
		}
	}
	// Refused rather than dropped, as a client's repeated grant type is:
	// what is stored is what was sent, and a repeat in a list written by
	// hand may be a slip for the other factor.
	for _, f := range repeated(st.MFA.Factors) {
		problems = append(problems, fmt.Sprintf("MFA factor %q is given twice", f))
	}
	if st.Locale != "en" && st.Locale != "nl" {
		problems = append(problems, fmt.Sprintf("language %q must be en or nl", st.Locale))
	}
	if st.SigningAlg != "RS256" && st.SigningAlg != "ES256" {
		problems = append(problems, fmt.Sprintf("signing algorithm %q must be RS256 or ES256", st.SigningAlg))
	}
	if st.Lockout.MaxFailures < 1 || st.Lockout.MaxFailures > 100 {
		problems = append(problems, "lockout threshold must be 1 to 100 failed attempts")
	}
	if st.Lockout.LockDuration < time.Minute || st.Lockout.LockDuration > 24*time.Hour {
		problems = append(problems, "lockout duration must be between 1 minute and 24 hours")
	}
	if err := ValidateGroupName(st.AdminGroup); err != nil {
		problems = append(problems, "admin group: "+InvalidReason(err))
	}
	problems = append(problems, brandingProblems(st.Branding)...)
	problems = append(problems, legacyProblems(st.Legacy)...)
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// Tenant reads one tenant.
func (s *Service) Tenant(ctx context.Context, slug string) (Tenant, error) {
	var t Tenant
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		t, err = GetTenant(tx, slug)
		return err
	})
	return t, err
}

// Tenants lists every tenant in slug order.
func (s *Service) Tenants(ctx context.Context) ([]Tenant, error) {
	var out []Tenant
	err := s.Store.View(ctx, func(tx Tx) error {
		return ScanJSON(tx, CollTenants, "", "", "", func(_ string, t Tenant) bool {
			t.Settings = t.Settings.WithDefaults()
			out = append(out, t)
			return true
		})
	})
	return out, err
}

// NewClient is the input of CreateClient.
type NewClient struct {
	Name                   string
	Public                 bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	Scopes                 []string
	AccessTokenTTL         time.Duration
	IDTokenTTL             time.Duration
	RefreshTokenTTL        time.Duration
	RefreshRetryGrace      time.Duration
}

// Cognito's token lifetimes (COGNITO.md §6.4) are the defaults.
const (
	DefaultAccessTokenTTL  = time.Hour
	DefaultIDTokenTTL      = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	// MaxRefreshRetryGrace bounds Client.RefreshRetryGrace, as Cognito
	// bounds RetryGracePeriodSeconds.
	MaxRefreshRetryGrace = time.Minute
)

// CreateClient registers a relying party. For a confidential client the
// secret is returned once and only its hash is kept.
func (s *Service) CreateClient(ctx context.Context, tenantID string, in NewClient) (Client, string, error) {
	now := s.now()
	c := Client{
		ID:                     NewClientID(),
		Name:                   strings.TrimSpace(in.Name),
		RedirectURIs:           in.RedirectURIs,
		PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		GrantTypes:             in.GrantTypes,
		Scopes:                 in.Scopes,
		AccessTokenTTL:         in.AccessTokenTTL,
		IDTokenTTL:             in.IDTokenTTL,
		RefreshTokenTTL:        in.RefreshTokenTTL,
		RefreshRetryGrace:      in.RefreshRetryGrace,
		CreatedAt:              now,
		UpdatedAt:              now,
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "email", "profile", "phone", "aws.cognito.signin.user.admin"}
	}
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = DefaultAccessTokenTTL
	}
	if c.IDTokenTTL == 0 {
		c.IDTokenTTL = DefaultIDTokenTTL
	}
	if c.RefreshTokenTTL == 0 {
		c.RefreshTokenTTL = DefaultRefreshTokenTTL
	}
	var secret string
	if !in.Public {
		secret = NewSecret(32)
		c.SecretHash = HashSecret(secret)
	}
	if err := ValidateClient(c); err != nil {
		return Client{}, "", err
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditClientCreate, clientTarget(c), nil); err != nil {
			return err
		}
		return PutClient(tx, tenantID, c)
	})
	if err != nil {
		return Client{}, "", err
	}
	s.changed(ctx, tenantID)
	return c, secret, nil
}

// ValidateClient checks a client's settings and says every problem: its
// error is InvalidErrors, in the order of the checks (the name, the grant
// types, the redirect and logout URIs, the scopes, the lifetimes), so a
// form that shows one problem shows the first field's.
func ValidateClient(c Client) error {
	var problems InvalidErrors
	switch {
	case c.Name == "":
		problems = append(problems, invalid(CodeClientNameMissing))
	case utf8.RuneCountInString(c.Name) > MaxClientNameLength || !PlainText(c.Name):
		problems = append(problems, invalid(CodeClientNameRule, strconv.Itoa(MaxClientNameLength)))
	}
	if len(c.GrantTypes) == 0 {
		problems = append(problems, invalid(CodeClientNoGrant))
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains([]string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}, g) {
			problems = append(problems, invalid(CodeClientGrantUnsupported, g).in(FieldGrantTypes))
		}
	}
	problems = append(problems, twice(FieldGrantTypes, c.GrantTypes)...)
	if c.Public() && c.AllowsGrant(GrantClientCredentials) {
		problems = append(problems, invalid(CodeClientPublicCredentials))
	}
	problems = append(problems, uriProblems(FieldRedirectURIs, c.RedirectURIs, CodeClientRedirectsTooMany)...)
	problems = append(problems, uriProblems(FieldLogoutURIs, c.PostLogoutRedirectURIs, CodeClientLogoutsTooMany)...)
	if c.AllowsGrant(GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		problems = append(problems, invalid(CodeClientNoRedirect))
	}
	for _, sc := range c.Scopes {
		if !ValidScope(sc) {
			problems = append(problems, invalid(CodeClientScope, sc, strconv.Itoa(MaxScopeLength)).in(FieldScopes))
		}
	}
	problems = append(problems, twice(FieldScopes, c.Scopes)...)
	problems = append(problems, tooMany(c.Scopes, MaxClientScopes, CodeClientScopesTooMany)...)
	for _, ttl := range []struct {
		code          string
		got, min, max time.Duration
	}{
		{CodeClientAccessTokenTTL, c.AccessTokenTTL, 5 * time.Minute, maxSignedTokenTTL},
		{CodeClientIDTokenTTL, c.IDTokenTTL, 5 * time.Minute, maxSignedTokenTTL},
		{CodeClientRefreshTokenTTL, c.RefreshTokenTTL, time.Hour, 10 * 365 * 24 * time.Hour},
	} {
		if ttl.got < ttl.min || ttl.got > ttl.max {
			problems = append(problems, invalid(ttl.code, ttl.min.String(), ttl.max.String()))
		}
	}
	if g := c.RefreshRetryGrace; g < 0 || g > MaxRefreshRetryGrace || g%time.Second != 0 {
		problems = append(problems, invalid(CodeClientRetryGrace, strconv.Itoa(int(MaxRefreshRetryGrace/time.Second))))
	}
	return problems.orNil()
}

// uriProblems checks one of a client's lists of URIs, field: each URI, in
// order, and then that none is given twice and that there are not more
// than MaxClientURIs (tooManyCode).
func uriProblems(field string, uris []string, tooManyCode string) InvalidErrors {
	var problems InvalidErrors
	for _, u := range uris {
		var inv *InvalidError
		if errors.As(ValidateRedirectURI(u), &inv) {
			problems = append(problems, inv.in(field))
		}
	}
	problems = append(problems, twice(field, uris)...)
	return append(problems, tooMany(uris, MaxClientURIs, tooManyCode)...)
}

// twice is a problem for each value given more than once in the list
// field of a client.
func twice(field string, list []string) InvalidErrors {
	var problems InvalidErrors
	for _, v := range repeated(list) {
		problems = append(problems, invalid(CodeClientTwice, v).in(field))
	}
	return problems
}

// tooMany is code's problem when list is longer than max.
func tooMany(list []string, max int, code string) InvalidErrors {
	if len(list) <= max {
		return nil
	}
	return InvalidErrors{invalid(code, strconv.Itoa(max), strconv.Itoa(len(list)))}
}

// Cognito's limits on a client (UserPoolClientType): a scope of at most 256
// characters (ScopeType), at most 50 scopes (AllowedOAuthScopes), and at
// most 100 redirect and 100 logout URIs (CallbackURLs, LogoutURLs) of at
// most 1024 characters each (RedirectUrlType). A client within them moves
// between Cognito and Cognate either way.
const (
	MaxScopeLength  = 256
	MaxClientScopes = 50
	MaxClientURIs   = 100
	MaxURILength    = 1024
)

// MaxClientNameLength is the most characters a client's name has, as
// Cognito's ClientName.
const MaxClientNameLength = 128

// ValidScope reports whether sc is a scope-token of RFC 6749 §3.3,
// 1*( %x21 / %x23-5B / %x5D-7E ): printable ASCII without spaces, quotes
// or backslashes, which is also the pattern of Cognito's ScopeType, of at
// most MaxScopeLength characters. Anything else is no scope a client can
// ask for, and would reach the tokens as it is.
func ValidScope(sc string) bool {
	if sc == "" || len(sc) > MaxScopeLength {
		return false
	}
	for i := range len(sc) {
		if b := sc[i]; b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}

// repeated lists the values that occur more than once in list, each once,
// in the order of their second occurrence.
func repeated(list []string) []string {
	var out []string
	seen := make(map[string]int, len(list))
	for _, v := range list {
		if seen[v]++; seen[v] == 2 {
			out = append(out, v)
		}
	}
	return out
}

// ValidateRedirectURI enforces Cognito's rule: absolute, no fragment, at
// most MaxURILength characters, and https except for loopback addresses
// used in development.
// The error is an *InvalidError naming the rule broken (CodeURI…).
func ValidateRedirectURI(raw string) error {
	if n := utf8.RuneCountInString(raw); n > MaxURILength {
		// Named by its start: a client's list may hold several too long.
		return invalid(CodeURITooLong, Shorten(raw, ShownURILength), strconv.Itoa(MaxURILength), strconv.Itoa(n))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return invalid(CodeURINotAbsolute, raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return invalid(CodeURIFragment, raw)
	}
	if !HTTPSOrLoopback(u) {
		return invalid(CodeURINotHTTPS, raw)
	}
	return nil
}

// ShownURILength bounds a URI quoted in a message (see Shorten): one over
// MaxURILength is too long to read in a sentence.
const ShownURILength = 80

// Shorten cuts s to at most n characters, marking the cut with "…", for a
// message that names a long value by its start.
func Shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// HTTPSOrLoopback reports whether u is https, or plain http to this machine
// (IsLoopbackHost), where development runs and where nothing crosses a
// network in clear. It is the one rule for every URL Cognate sends
// something to or lets a browser go to: redirect URIs, logos and legacy
// pools (which receive passwords).
func HTTPSOrLoopback(u *url.URL) bool {
	return u.Scheme == "https" || u.Scheme == "http" && IsLoopbackHost(u.Hostname())
}

// IsLoopbackHost reports whether host, as url.URL.Hostname gives it, names
// this machine: an IP address that is loopback (all of 127.0.0.0/8 and ::1,
// also written IPv4-mapped), or the name localhost or a name under it
// (RFC 6761 §6.3). A name that only looks like an address, such as
// 127.0.0.attacker, is a DNS name like any other and may point anywhere.
//
// For redirect URIs RFC 8252 §7.3 names 127.0.0.1 and ::1; the rest of
// 127.0.0.0/8 is as much this machine (a code sent there never leaves it),
// so one rule serves every use.
func IsLoopbackHost(host string) bool {
	if addr, err := netip.ParseAddr(host); err == nil {
		return addr.IsLoopback()
	}
	host = strings.ToLower(host)
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// Client reads one client.
func (s *Service) Client(ctx context.Context, tenantID, id string) (Client, error) {
	var c Client
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		c, err = GetClient(tx, tenantID, id)
		return err
	})
	return c, err
}

// Clients lists a tenant's clients.
func (s *Service) Clients(ctx context.Context, tenantID string) ([]Client, error) {
	var out []Client
	err := s.Store.View(ctx, func(tx Tx) error {
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		return ScanJSON(tx, CollClients, tenantID, "", "", func(_ string, c Client) bool {
			out = append(out, c)
			return true
		})
	})
	return out, err
}

// DeleteClient removes a client; Cognate's own (IsBuiltinClient) are
// refused with ErrBuiltinClient.
func (s *Service) DeleteClient(ctx context.Context, tenantID, id string) error {
	if IsBuiltinClient(id) {
		return ErrBuiltinClient
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		c, err := GetClient(tx, tenantID, id)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditClientDelete, clientTarget(c), nil); err != nil {
			return err
		}
		return tx.Delete(CollClients, tenantID, id)
	})
	if err == nil {
		s.changed(ctx, tenantID)
	}
	return err
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Username      string
	Email         string
	EmailVerified bool
	Attributes    map[string]string
	Groups        []string
	// Password, when set, is stored as the user's password. Temporary makes
	// it a temporary password that must be changed at the first sign-in.
	Password  string
	Temporary bool
	// Invite activates the user as they are created, as ActivateUser
	// would: a temporary password of its own making, mailed in the welcome
	// mail queued in the same transaction, so that no user is ever left
	// behind who was meant to be invited and was not. It needs Email, and
	// no Password.
	Invite bool
	// Sub keeps an existing subject (imports); empty means a new UUID.
	Sub string
}

// LogValue keeps the password out of logs whatever logs a new user.
func (in NewUser) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", in.Username), slog.Bool("invite", in.Invite))
}

// CreateUser adds a user to a tenant's pool. Without a password the user is
// not activated (UNCONFIRMED) and cannot sign in.
func (s *Service) CreateUser(ctx context.Context, tenantID string, in NewUser) (User, error) {
	if err := ValidateUsername(in.Username); err != nil {
		return User{}, err
	}
	if in.Email != "" {
		if err := ValidateEmail(in.Email); err != nil {
			return User{}, err
		}
	}
	if in.EmailVerified && strings.TrimSpace(in.Email) == "" {
		return User{}, errVerifiedWithoutEmail
	}
	if err := ValidateAttributes(in.Attributes); err != nil {
		return User{}, err
	}
	if in.Sub != "" {
		if err := ValidateSub(in.Sub); err != nil {
			return User{}, err
		}
	}
	now := s.now()
	u := User{
		Sub:           in.Sub,
		Username:      in.Username,
		Email:         strings.TrimSpace(in.Email),
		EmailVerified: in.EmailVerified,
		Attributes:    in.Attributes,
		Groups:        uniqueGroups(in.Groups),
		Status:        StatusUnconfirmed,
		Enabled:       true,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if u.Sub == "" {
		u.Sub = NewUUID()
	}
	if in.Invite && in.Password != "" {
		return User{}, fmt.Errorf("%w: an invitation makes its own temporary password; give no password", ErrInvalid)
	}
	var t Tenant
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		t, err = GetTenant(tx, tenantID)
		return err
	})
	if err != nil {
		return User{}, err
	}
	var inv invitation
	switch {
	case in.Invite:
		// Created not activated, then activated in the same transaction,
		// as ActivateUser would.
		if inv, err = s.prepareInvitation(ctx, t, u, false); err != nil {
			return User{}, err
		}
	case in.Password != "":
		if err := t.Settings.PasswordPolicy.Check(in.Password); err != nil {
			return User{}, err
		}
		hash, err := s.Hasher.Hash(ctx, in.Password)
		if err != nil {
			return User{}, err
		}
		if in.Temporary {
			setTemporaryPassword(&u, t, hash, now)
		} else {
			u.SetPassword(hash, now)
			u.Status = StatusConfirmed
		}
	}
	created := u // as invited, when it is
	err = s.Store.Update(ctx, func(tx Tx) error {
		// Read again: the tenant may have been deleted while the password
		// was hashed, and a user written now would be left behind for
		// whoever takes the slug next.
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		// A group deleted or renamed since the form was shown is a
		// refusal to explain, not a fault.
		if err := checkGroupsExist(tx, tenantID, u.Groups); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditUserCreate, userTarget(u), map[string]string{"status": string(u.Status)}); err != nil {
			return err
		}
		if err := InsertUser(tx, tenantID, u); err != nil {
			return err
		}
		if !in.Invite {
			return nil
		}
		// On a copy: the store may run this function again, and each run
		// must start from the user as created.
		invited := u
		// A user just made cannot be an invitation repeated.
		if _, err := s.writeInvitation(ctx, tx, t, &invited, inv); err != nil {
			return err
		}
		created = invited
		return nil
	})
	if err != nil {
		return User{}, err
	}
	if in.Invite {
		s.mailQueued()
	}
	return created, nil
}

// ValidateUsername applies Cognito's rule: 1–128 characters, each a
// letter, mark, digit, symbol or punctuation ([\p{L}\p{M}\p{S}\p{N}\p{P}]).
// So no spaces, and nothing invisible (a zero-width space, a soft hyphen)
// that would make two names look alike in a list or the audit trail.
// Like ValidateEmail and ValidateAttributes, it fails with an *InvalidError.
func ValidateUsername(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 128 {
		return invalid(CodeUsernameLength)
	}
	if strings.ContainsFunc(name, unicode.IsSpace) {
		return invalid(CodeUsernameSpaces)
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool {
		return !unicode.In(r, unicode.L, unicode.M, unicode.S, unicode.N, unicode.P)
	}) {
		return invalid(CodeUsernameCharacters)
	}
	return nil
}

// ValidateEmail accepts a plain addr-spec such as ann@example.com, or
// jörg@exämple.test: one address that the mail package can send to, as
// it is written. So net/mail must read it (the mail package parses every
// recipient with it, and gives up at once on one it cannot read), and
// read it as exactly the text given: no display name, comment, angle
// brackets or quoted local part, which it would drop or change. Letters
// outside ASCII are allowed in both parts; the mail package sends them
// with SMTPUTF8, or the domain as IDNA A-labels. Beyond that the domain
// needs a dot, and the address may be at most 254 bytes of plain text.
func ValidateEmail(email string) error {
	at := strings.LastIndexByte(email, '@')
	if at < 1 || at == len(email)-1 || strings.ContainsFunc(email, unicode.IsSpace) || len(email) > 254 ||
		!strings.Contains(email[at+1:], ".") || strings.ContainsAny(email, "<>,;\"") || !PlainText(email) {
		return invalid(CodeEmailInvalid, email)
	}
	if parsed, err := netmail.ParseAddress(email); err != nil || parsed.Address != email {
		return invalid(CodeEmailInvalid, email)
	}
	return nil
}

// PlainText reports whether s is text a person typed: valid UTF-8 without
// control characters. Names and descriptions must be, or a byte that
// cannot be shown (and may be stored as U+FFFD) would name a record nobody
// can address again.
func PlainText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// validTextValue reports whether s may be an attribute's value or a
// description: valid UTF-8 without control characters but line breaks and
// tabs, which an address (OIDC's formatted address) holds.
func validTextValue(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	})
}

// StandardAttributes are Cognito's standard user attributes besides the ones
// User holds in fields of its own (email, email_verified): the names an
// attribute may have other than custom:<name>.
func StandardAttributes() []string {
	return []string{
		"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale",
		"phone_number", "phone_number_verified", "address", "updated_at",
	}
}

// ValidateAttributes checks attribute names and values against Cognito's
// limits: standard names or custom:<name> (≤ 32 characters, as Cognito
// counts them, not bytes, of letters, digits, symbols and punctuation),
// values of ≤ 2048 characters of text.
func ValidateAttributes(attrs map[string]string) error {
	standard := StandardAttributes()
	for name, value := range attrs {
		custom, isCustom := strings.CutPrefix(name, "custom:")
		switch {
		case isCustom && (custom == "" || utf8.RuneCountInString(name) > 32 || ValidateUsername(custom) != nil):
			return invalid(CodeAttributeCustomName, name)
		case !isCustom && !slices.Contains(standard, name):
			return invalid(CodeAttributeUnknown, name)
		case utf8.RuneCountInString(value) > 2048:
			return invalid(CodeAttributeTooLong, name)
		case !validTextValue(value):
			return invalid(CodeAttributeNotText, name)
		case value != "":
			if code := attributeFormatProblem(name, value); code != "" {
				if code == CodeAttributePhone {
					return invalid(code, value)
				}
				return invalid(code, name, value)
			}
		}
	}
	return nil
}

// attributeFormatProblem is the code of the rule value breaks for the
// standard attributes with a form of their own (as Cognito checks them,
// and as the claims of the same name are read), or "".
func attributeFormatProblem(name, value string) string {
	switch name {
	case "phone_number":
		if !IsE164(value) {
			return CodeAttributePhone
		}
	case "phone_number_verified":
		if value != "true" && value != "false" {
			return CodeAttributeBoolean
		}
	case "updated_at":
		if _, err := strconv.ParseUint(value, 10, 63); err != nil {
			return CodeAttributeEpoch
		}
	case "birthdate":
		// OpenID Connect's form: YYYY-MM-DD, with 0000 for a year left
		// out, or the year alone.
		_, dateErr := time.Parse(time.DateOnly, strings.Replace(value, "0000-", "2000-", 1))
		_, yearErr := strconv.ParseUint(value, 10, 16)
		if dateErr != nil && (yearErr != nil || len(value) != 4) {
			return CodeAttributeDate
		}
	}
	return ""
}

// IsE164 reports whether s is a phone number as Cognito stores one: + and
// 2 to 15 digits.
func IsE164(s string) bool {
	digits, ok := strings.CutPrefix(s, "+")
	if !ok || len(digits) < 2 || len(digits) > 15 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// User reads one user.
func (s *Service) User(ctx context.Context, tenantID, sub string) (User, error) {
	var u User
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		u, err = GetUser(tx, tenantID, sub)
		return err
	})
	return u, err
}

// FindUser finds a user by username, or by email when exactly one user has
// that address (UserByEmail); the sign-in page accepts either.
func FindUser(tx Tx, tenantID, login string) (User, error) {
	u, err := UserByUsername(tx, tenantID, login)
	if err == nil || !errors.Is(err, ErrNotFound) || !strings.Contains(login, "@") {
		return u, err
	}
	return UserByEmail(tx, tenantID, login)
}

// UserPage is one page of a user listing.
type UserPage struct {
	Users []User
	// Next is the cursor of the following page, empty on the last one.
	Next string
}

// ListUsers pages through a tenant's users in sub order. A cursor walk over
// the key space keeps every page equally cheap, however many users there are.
func (s *Service) ListUsers(ctx context.Context, tenantID, after string, limit int) (UserPage, error) {
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	var page UserPage
	err := s.Store.View(ctx, func(tx Tx) error {
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		moves, err := groupMoves(tx, tenantID)
		if err != nil {
			return err
		}
		return ScanJSON(tx, CollUsers, tenantID, "", after, func(key string, u User) bool {
			if len(page.Users) == limit {
				page.Next = page.Users[limit-1].Sub
				return false
			}
			u.Groups = movedGroups(u.Groups, moves)
			page.Users = append(page.Users, u)
			return true
		})
	})
	return page, err
}

// SetPassword sets a user's password as an administrator: permanent makes
// the user CONFIRMED, otherwise it is a temporary password.
func (s *Service) SetPassword(ctx context.Context, tenantID, sub, pw string, permanent bool) error {
	var t Tenant
	if err := s.Store.View(ctx, func(tx Tx) (err error) { t, err = GetTenant(tx, tenantID); return err }); err != nil {
		return err
	}
	if err := t.Settings.PasswordPolicy.Check(pw); err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	now := s.now()
	return s.Store.Update(ctx, func(tx Tx) error {
		u, err := GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		if permanent {
			u.SetPermanentPassword(hash, t.Settings.PasswordPolicy.HistorySize, now)
		} else {
			u.PasswordHistory = PushHistory(u.PasswordHistory, u.PasswordHash, t.Settings.PasswordPolicy.HistorySize)
			setTemporaryPassword(&u, t, hash, now)
		}
		u.UpdatedAt = now
		if err := s.revoke(tx, tenantID, sub); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditUserPasswordSet, userTarget(u), map[string]string{"permanent": fmt.Sprint(permanent)}); err != nil {
			return err
		}
		return UpdateUser(tx, tenantID, u)
	})
}

// maxSignedTokenTTL bounds the lifetime of the tokens a signing key signs
// (access and ID tokens; refresh tokens are opaque): a key that stopped
// signing keeps verifying for that long, then retires.
const maxSignedTokenTTL = 24 * time.Hour

// KeyRotation says how RotateSigningKey's new key takes over.
type KeyRotation struct {
	// Overlap is how long the new key is published before it signs, so
	// that relying parties that cache the JWKS for up to that long see it
	// before anything is signed with it.
	Overlap time.Duration
	// RetirePrevious withdraws every other key at once, for a key that may
	// have leaked: out of the JWKS, and tokens they signed no longer verify
	// here. It needs an Overlap of 0: the new key must sign at once.
	RetirePrevious bool
}

// RotateSigningKey publishes a new key that becomes active after
// r.Overlap. The key it replaces signs until then and verifies for the
// longest token lifetime after; a key published by an earlier rotation
// that would only take over later never signs. A key's retirement is never
// put off: several rotations in a row leave each key that signed published
// for its own day, no longer. With r.RetirePrevious every other key
// retires now instead.
func (s *Service) RotateSigningKey(ctx context.Context, tenantID string, r KeyRotation) (SigningKey, error) {
	if r.RetirePrevious && r.Overlap != 0 {
		return SigningKey{}, fmt.Errorf("%w: retiring the previous keys at once needs a new key that signs at once, with no overlap", ErrInvalid)
	}
	now := s.now()
	var next SigningKey
	err := s.Store.Update(ctx, func(tx Tx) error {
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		keys, err := SigningKeys(tx, tenantID)
		if err != nil {
			return err
		}
		next, err = NewSigningKey(t.Settings.SigningAlg, now, now.Add(r.Overlap))
		if err != nil {
			return err
		}
		current, ok := ActiveKey(keys, now)
		var retired []string
		for _, k := range keys {
			if !k.RetireAt.IsZero() && !k.RetireAt.After(now) {
				continue // retired already
			}
			// pending: published by an earlier rotation, due to sign later.
			pending := k.ActiveFrom.After(now) && (k.RetireAt.IsZero() || k.RetireAt.After(k.ActiveFrom))
			var retireAt time.Time
			switch {
			case r.RetirePrevious:
				retireAt = now
				retired = append(retired, k.ID)
			case pending && !k.ActiveFrom.Before(next.ActiveFrom):
				// It would only take over after the next one: superseded
				// before it signs, it retires as the next one takes over.
				retireAt = next.ActiveFrom
			case (ok && k.ID == current.ID) || pending:
				// It signs until the next one takes over, and verifies for
				// the longest token lifetime after that. When a key an
				// earlier rotation published takes over sooner, the
				// retirement set then stands (below).
				retireAt = next.ActiveFrom.Add(maxSignedTokenTTL)
			case k.RetireAt.IsZero() && !k.ActiveFrom.After(now):
				// Older keys, no longer signing, retire.
				retireAt = next.ActiveFrom
			default:
				continue
			}
			if !k.RetireAt.IsZero() && !retireAt.Before(k.RetireAt) {
				continue // retiring sooner already
			}
			k.RetireAt = retireAt
			if err := s.storeSigningKey(tx, tenantID, k); err != nil {
				return err
			}
		}
		details := map[string]string{"kid": next.ID}
		if len(retired) > 0 {
			details["retired"] = strings.Join(retired, ",")
		}
		if err := s.audit(ctx, tx, tenantID, AuditKeyRotate, AuditTarget{Kind: TargetTenant, ID: tenantID}, details); err != nil {
			return err
		}
		return s.storeSigningKey(tx, tenantID, next)
	})
	if err != nil {
		return SigningKey{}, err
	}
	s.changed(ctx, tenantID)
	return next, nil
}
