package adminapi

import (
	"encoding/json"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// The wire types of the admin API, exported so that its clients (the
// cognate CLI) decode exactly what the server encodes. They are separate
// from the tenant types on purpose: a field added to tenant.User or
// tenant.Client appears here only when someone writes it here, so a password
// hash, secret hash or private key cannot leak by accident. Durations are
// whole seconds, named so.

// Error is the body of every error response.
type Error struct {
	Code    string `json:"error"`   // stable, for programs: not_found, invalid_request, …
	Message string `json:"message"` // for the person running the command
}

// Tenant is a tenant as the API shows it.
type Tenant struct {
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Settings  Settings  `json:"settings"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TenantList is the body of GET /admin/v1/tenants.
type TenantList struct {
	Tenants []Tenant `json:"tenants"`
}

// Settings are a tenant's policies, every section filled in.
type Settings struct {
	PasswordPolicy           PasswordPolicy `json:"password_policy"`
	TempPasswordValidityDays int            `json:"temp_password_validity_days"`
	MFA                      MFAPolicy      `json:"mfa"`
	Locale                   string         `json:"locale"`
	Branding                 Branding       `json:"branding"`
	Lockout                  LockoutPolicy  `json:"lockout"`
	SigningAlg               string         `json:"signing_alg"`
	// AdminGroup is the group whose members may use the tenant's admin
	// console ("admins" unless set).
	AdminGroup string     `json:"admin_group"`
	Legacy     LegacyPool `json:"legacy"`
}

// PasswordPolicy is Cognito's password policy.
type PasswordPolicy struct {
	MinimumLength    int  `json:"minimum_length"`
	RequireUppercase bool `json:"require_uppercase"`
	RequireLowercase bool `json:"require_lowercase"`
	RequireNumbers   bool `json:"require_numbers"`
	RequireSymbols   bool `json:"require_symbols"`
	HistorySize      int  `json:"history_size"`
}

// MFAPolicy says whether a second factor is asked for and which count.
type MFAPolicy struct {
	Mode         string   `json:"mode"` // OFF, OPTIONAL or ON
	Factors      []string `json:"factors"`
	Passwordless bool     `json:"passwordless"`
}

// Branding is what the login pages and mails show of the organization.
type Branding struct {
	PrimaryColor string `json:"primary_color"`
	LogoURL      string `json:"logo_url"`
}

// LockoutPolicy is the brute-force protection of sign-in.
type LockoutPolicy struct {
	MaxFailures         int   `json:"max_failures"`
	LockDurationSeconds int64 `json:"lock_duration_seconds"`
}

// PasswordPolicyChange is the password policy part of a SettingsChange:
// fields left out keep their value (on creation: Cognito's default), so a
// change of one field leaves the others as they are.
type PasswordPolicyChange struct {
	MinimumLength    *int  `json:"minimum_length,omitempty"`
	RequireUppercase *bool `json:"require_uppercase,omitempty"`
	RequireLowercase *bool `json:"require_lowercase,omitempty"`
	RequireNumbers   *bool `json:"require_numbers,omitempty"`
	RequireSymbols   *bool `json:"require_symbols,omitempty"`
	HistorySize      *int  `json:"history_size,omitempty"`
}

// SettingsChange is the settings part of creating or changing a tenant. A
// section left out keeps its value (on creation: the default); a section
// sent replaces that section whole, and zero values in it mean the default.
// The password policy changes field by field instead (PasswordPolicyChange).
type SettingsChange struct {
	PasswordPolicy           *PasswordPolicyChange `json:"password_policy,omitempty"`
	TempPasswordValidityDays *int                  `json:"temp_password_validity_days,omitempty"`
	MFA                      *MFAPolicy            `json:"mfa,omitempty"`
	Locale                   *string               `json:"locale,omitempty"`
	Branding                 *Branding             `json:"branding,omitempty"`
	Lockout                  *LockoutPolicy        `json:"lockout,omitempty"`
	SigningAlg               *string               `json:"signing_alg,omitempty"`
	// AdminGroup must name an existing group when a tenant is changed; a
	// new tenant is made with it.
	AdminGroup *string     `json:"admin_group,omitempty"`
	Legacy     *LegacyPool `json:"legacy,omitempty"`
}

// CreateTenantRequest is the body of POST /admin/v1/tenants.
type CreateTenantRequest struct {
	Slug     string          `json:"slug"`
	Name     string          `json:"name,omitempty"`
	Settings *SettingsChange `json:"settings,omitempty"`
}

// UpdateTenantRequest is the body of PATCH /admin/v1/tenants/{slug}.
type UpdateTenantRequest struct {
	Name     *string         `json:"name,omitempty"`
	Settings *SettingsChange `json:"settings,omitempty"`
}

// Client is a relying party as the API shows it: never its secret hash.
type Client struct {
	ClientID               string   `json:"client_id"`
	Name                   string   `json:"name"`
	Public                 bool     `json:"public"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	GrantTypes             []string `json:"grant_types"`
	Scopes                 []string `json:"scopes"`
	AccessTokenTTLSeconds  int64    `json:"access_token_ttl_seconds"`
	IDTokenTTLSeconds      int64    `json:"id_token_ttl_seconds"`
	RefreshTokenTTLSeconds int64    `json:"refresh_token_ttl_seconds"`
	// RefreshTokenRetryGraceSeconds is how long a used refresh token may
	// be used again (0 to 60; 0, the default, revokes the session at any
	// second use). Cognito's RefreshTokenRotation.RetryGracePeriodSeconds.
	RefreshTokenRetryGraceSeconds int64     `json:"refresh_token_retry_grace_seconds"`
	CreatedAt                     time.Time `json:"created_at"`
	UpdatedAt                     time.Time `json:"updated_at"`
}

// ClientWithSecret is a client as created or after a secret rotation: the
// only two responses that carry the secret, which is not kept in clear.
type ClientWithSecret struct {
	Client
	ClientSecret string `json:"client_secret,omitempty"` // empty for a public client
}

// ClientList is the body of GET /admin/v1/tenants/{slug}/clients.
type ClientList struct {
	Clients []Client `json:"clients"`
}

// CreateClientRequest is the body of POST /admin/v1/tenants/{slug}/clients.
// Empty lists and zero lifetimes take the defaults.
type CreateClientRequest struct {
	Name                   string   `json:"name"`
	Public                 bool     `json:"public,omitempty"`
	RedirectURIs           []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes             []string `json:"grant_types,omitempty"`
	Scopes                 []string `json:"scopes,omitempty"`
	AccessTokenTTLSeconds  int64    `json:"access_token_ttl_seconds,omitempty"`
	IDTokenTTLSeconds      int64    `json:"id_token_ttl_seconds,omitempty"`
	RefreshTokenTTLSeconds int64    `json:"refresh_token_ttl_seconds,omitempty"`

	RefreshTokenRetryGraceSeconds int64 `json:"refresh_token_retry_grace_seconds,omitempty"`
}

// UpdateClientRequest is the body of PATCH /admin/v1/tenants/{slug}/clients/{id}.
// Fields left out stay as they are; a list sent replaces the list. The
// lifetimes have the ranges of CreateClientRequest, and apply to tokens
// issued from then on.
type UpdateClientRequest struct {
	Name                   *string   `json:"name,omitempty"`
	RedirectURIs           *[]string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs *[]string `json:"post_logout_redirect_uris,omitempty"`
	// GrantTypes and Scopes take effect at once, for refresh tokens
	// already issued too. Whether the client is public cannot change.
	GrantTypes             *[]string `json:"grant_types,omitempty"`
	Scopes                 *[]string `json:"scopes,omitempty"`
	AccessTokenTTLSeconds  *int64    `json:"access_token_ttl_seconds,omitempty"`
	IDTokenTTLSeconds      *int64    `json:"id_token_ttl_seconds,omitempty"`
	RefreshTokenTTLSeconds *int64    `json:"refresh_token_ttl_seconds,omitempty"`

	RefreshTokenRetryGraceSeconds *int64 `json:"refresh_token_retry_grace_seconds,omitempty"`
}

// User is a user as the API shows it: never its password hash or history.
type User struct {
	Sub                   string            `json:"sub"`
	Username              string            `json:"username"`
	Email                 string            `json:"email,omitempty"`
	EmailVerified         bool              `json:"email_verified"`
	Attributes            map[string]string `json:"attributes"`
	Status                string            `json:"status"`
	Enabled               bool              `json:"enabled"`
	Groups                []string          `json:"groups"`
	PasswordChangedAt     time.Time         `json:"password_changed_at,omitzero"`
	TempPasswordExpiresAt time.Time         `json:"temp_password_expires_at,omitzero"`
	CreatedAt             time.Time         `json:"created_at"`
	UpdatedAt             time.Time         `json:"updated_at"`
	LastSignInAt          time.Time         `json:"last_sign_in_at,omitzero"`
}

// MailedUser is the body of the actions that mail a user a temporary
// password or a code: POST …/users/{sub}/activate, resend-invitation and
// reset-password.
type MailedUser struct {
	User
	// Repeated: the user, unchanged since, was mailed the same less than
	// a minute before (an invitation, by activate or resend; a reset
	// code), and this call was taken for that one sent again (a double
	// click, two administrators). Nothing changed and no mail was sent;
	// the one sent then, and what it carries, stays good. After the
	// minute the call sends a new one.
	Repeated bool `json:"repeated"`
}

// UserPage is the body of GET /admin/v1/tenants/{slug}/users.
type UserPage struct {
	Users []User `json:"users"`
	// Next, when set, is the after= value that fetches the following page.
	Next string `json:"next,omitempty"`
}

// CreateUserRequest is the body of POST /admin/v1/tenants/{slug}/users.
// Without a password or an invitation the user is created UNCONFIRMED and
// cannot sign in.
type CreateUserRequest struct {
	Username      string            `json:"username"`
	Email         string            `json:"email,omitempty"`
	EmailVerified bool              `json:"email_verified,omitempty"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	Password      string            `json:"password,omitempty"`
	// Temporary makes Password one the user must change at first sign-in.
	Temporary bool `json:"temporary,omitempty"`
	// Invite activates the user as they are created: a temporary password
	// of the server's making, mailed in the welcome mail (as Cognito's
	// AdminCreateUser does). Needs Email; takes no Password.
	Invite bool `json:"invite,omitempty"`
}

// UpdateUserRequest is the body of PATCH /admin/v1/tenants/{slug}/users/{sub}.
// Fields left out stay as they are.
type UpdateUserRequest struct {
	Email         *string `json:"email,omitempty"` // "" removes the address
	EmailVerified *bool   `json:"email_verified,omitempty"`
	// Attributes are merged: a null value removes that attribute.
	Attributes map[string]*string `json:"attributes,omitempty"`
	Enabled    *bool              `json:"enabled,omitempty"`
}

// SetPasswordRequest is the body of POST …/users/{sub}/password.
type SetPasswordRequest struct {
	Password string `json:"password"`
	// Permanent makes the user CONFIRMED; otherwise the password is
	// temporary and must be changed at the next sign-in, as in Cognito's
	// AdminSetUserPassword.
	Permanent bool `json:"permanent,omitempty"`
}

// Group is a group of a tenant's users; its members' tokens carry its name
// in cognito:groups.
type Group struct {
	Name string `json:"name"`
	// Description and Precedence are Cognito's: a note for people, and
	// the group's rank among a user's groups (0 first; none is last),
	// which Cognito uses to choose an IAM role. Cognate keeps and shows
	// it; tokens carry every group of a user whatever their precedence.
	Description string    `json:"description,omitempty"`
	Precedence  *int      `json:"precedence,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// GroupList is the body of GET /admin/v1/tenants/{slug}/groups.
type GroupList struct {
	Groups []Group `json:"groups"`
}

// CreateGroupRequest is the body of POST /admin/v1/tenants/{slug}/groups.
type CreateGroupRequest struct {
	Name string `json:"name"`
	// Description is at most 2048 characters.
	Description string `json:"description,omitempty"`
	// Precedence is 0 to 2^31-1; left out, the group has none.
	Precedence *int `json:"precedence,omitempty"`
}

// UpdateGroupRequest is the body of PATCH …/groups/{name}. Fields left out
// stay as they are.
type UpdateGroupRequest struct {
	// Name renames the group: its members move with it, and so does the
	// tenant's admin group setting if it named this group.
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	// Precedence sets the precedence; null removes it.
	Precedence Nullable[int] `json:"precedence,omitzero"`
}

// Nullable is a field of a change request that null removes: Set tells
// a field sent as null (Set, Value nil) from one left out (not Set), which
// encoding/json alone does not. Left out, it is also left out of the JSON
// written (with omitzero).
type Nullable[T any] struct {
	Set   bool
	Value *T
}

// UnmarshalJSON is called only for a field that is in the body, null
// included.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set, n.Value = true, nil
	if string(b) == "null" {
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}

// MarshalJSON writes the value, or null.
func (n Nullable[T]) MarshalJSON() ([]byte, error) { return json.Marshal(n.Value) }

// RotateKeyRequest is the optional body of POST …/keys/rotate.
type RotateKeyRequest struct {
	// OverlapSeconds is how long the new key is published before it signs,
	// so relying parties that cache the JWKS see it first. Default 3600,
	// and 0 with RetirePrevious.
	OverlapSeconds *int64 `json:"overlap_seconds,omitempty"`
	// RetirePrevious withdraws every other key of the tenant at once: out
	// of the JWKS, and tokens they signed no longer verify. For a key that
	// may have leaked; the new key signs at once.
	RetirePrevious bool `json:"retire_previous,omitempty"`
}

// SigningKey is a signing key's public facts: never the key material.
type SigningKey struct {
	KeyID      string    `json:"kid"`
	Alg        string    `json:"alg"`
	CreatedAt  time.Time `json:"created_at"`
	ActiveFrom time.Time `json:"active_from"`
	RetireAt   time.Time `json:"retire_at,omitzero"`
}

// ---- conversions from the domain ----

func tenantOut(t tenant.Tenant) Tenant {
	s := t.Settings.WithDefaults()
	p := s.PasswordPolicy
	return Tenant{
		Slug: t.Slug,
		Name: t.Name,
		Settings: Settings{
			PasswordPolicy: PasswordPolicy{
				MinimumLength:    p.MinimumLength,
				RequireUppercase: p.RequireUppercase,
				RequireLowercase: p.RequireLowercase,
				RequireNumbers:   p.RequireNumbers,
				RequireSymbols:   p.RequireSymbols,
				HistorySize:      p.HistorySize,
			},
			TempPasswordValidityDays: s.TempPasswordValidityDays,
			MFA:                      MFAPolicy{Mode: s.MFA.Mode, Factors: nonNil(s.MFA.Factors), Passwordless: s.MFA.Passwordless},
			Locale:                   s.Locale,
			Branding:                 Branding{PrimaryColor: s.Branding.PrimaryColor, LogoURL: s.Branding.LogoURL},
			Lockout: LockoutPolicy{
				MaxFailures:         s.Lockout.MaxFailures,
				LockDurationSeconds: int64(s.Lockout.LockDuration / time.Second),
			},
			SigningAlg: s.SigningAlg,
			AdminGroup: s.AdminGroup,
			Legacy:     legacyOut(s.Legacy),
		},
		CreatedAt: t.CreatedAt,
		UpdatedAt: t.UpdatedAt,
	}
}

func clientOut(c tenant.Client) Client {
	return Client{
		ClientID:                      c.ID,
		Name:                          c.Name,
		Public:                        c.Public(),
		RedirectURIs:                  nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs:        nonNil(c.PostLogoutRedirectURIs),
		GrantTypes:                    nonNil(c.GrantTypes),
		Scopes:                        nonNil(c.Scopes),
		AccessTokenTTLSeconds:         int64(c.AccessTokenTTL / time.Second),
		IDTokenTTLSeconds:             int64(c.IDTokenTTL / time.Second),
		RefreshTokenTTLSeconds:        int64(c.RefreshTokenTTL / time.Second),
		RefreshTokenRetryGraceSeconds: int64(c.RefreshRetryGrace / time.Second),
		CreatedAt:                     c.CreatedAt,
		UpdatedAt:                     c.UpdatedAt,
	}
}

func userOut(u tenant.User) User {
	attrs := u.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	return User{
		Sub:                   u.Sub,
		Username:              u.Username,
		Email:                 u.Email,
		EmailVerified:         u.EmailVerified,
		Attributes:            attrs,
		Status:                string(u.Status),
		Enabled:               u.Enabled,
		Groups:                nonNil(u.Groups),
		PasswordChangedAt:     u.PasswordChangedAt,
		TempPasswordExpiresAt: u.TempPasswordExpiresAt,
		CreatedAt:             u.CreatedAt,
		UpdatedAt:             u.UpdatedAt,
		LastSignInAt:          u.LastSignInAt,
	}
}

func groupOut(g tenant.Group) Group {
	return Group{Name: g.Name, Description: g.Description, Precedence: g.Precedence, CreatedAt: g.CreatedAt}
}

func keyOut(k tenant.SigningKey) SigningKey {
	return SigningKey{KeyID: k.ID, Alg: k.Alg, CreatedAt: k.CreatedAt, ActiveFrom: k.ActiveFrom, RetireAt: k.RetireAt}
}

// nonNil makes an absent list encode as [] rather than null, which is what
// clients that iterate over it expect.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ---- conversions to the domain ----

func (c *SettingsChange) domain() tenant.SettingsChange {
	if c == nil {
		return tenant.SettingsChange{}
	}
	out := tenant.SettingsChange{
		TempPasswordValidityDays: c.TempPasswordValidityDays,
		Locale:                   c.Locale,
		SigningAlg:               c.SigningAlg,
		AdminGroup:               c.AdminGroup,
		Legacy:                   c.Legacy.domain(),
	}
	if p := c.PasswordPolicy; p != nil {
		out.PasswordPolicy = &tenant.PasswordPolicyChange{
			MinimumLength:    p.MinimumLength,
			RequireUppercase: p.RequireUppercase,
			RequireLowercase: p.RequireLowercase,
			RequireNumbers:   p.RequireNumbers,
			RequireSymbols:   p.RequireSymbols,
			HistorySize:      p.HistorySize,
		}
	}
	if m := c.MFA; m != nil {
		out.MFA = &tenant.MFAPolicy{Mode: m.Mode, Factors: m.Factors, Passwordless: m.Passwordless}
	}
	if b := c.Branding; b != nil {
		out.Branding = &tenant.Branding{PrimaryColor: b.PrimaryColor, LogoURL: b.LogoURL}
	}
	if l := c.Lockout; l != nil {
		out.Lockout = &tenant.LockoutPolicy{MaxFailures: l.MaxFailures, LockDuration: seconds(l.LockDurationSeconds)}
	}
	return out
}

func (c UpdateClientRequest) domain() tenant.ClientChange {
	return tenant.ClientChange{
		Name:                   c.Name,
		RedirectURIs:           c.RedirectURIs,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		GrantTypes:             c.GrantTypes,
		Scopes:                 c.Scopes,
		AccessTokenTTL:         optionalSeconds(c.AccessTokenTTLSeconds),
		IDTokenTTL:             optionalSeconds(c.IDTokenTTLSeconds),
		RefreshTokenTTL:        optionalSeconds(c.RefreshTokenTTLSeconds),
		RefreshRetryGrace:      optionalSeconds(c.RefreshTokenRetryGraceSeconds),
	}
}

// optionalSeconds is seconds for a field that may be left out.
func optionalSeconds(n *int64) *time.Duration {
	if n == nil {
		return nil
	}
	d := seconds(*n)
	return &d
}

// seconds converts a count of seconds from a request, saturating instead of
// overflowing so that an absurd value fails validation as "too long".
func seconds(n int64) time.Duration {
	const limit = int64(1<<63-1) / int64(time.Second)
	switch {
	case n > limit:
		return time.Duration(1<<63 - 1)
	case n < -limit:
		return -time.Duration(1<<63 - 1)
	}
	return time.Duration(n) * time.Second
}

// AuditPage is the body of GET …/audit: events newest first.
type AuditPage struct {
	Events []AuditEvent `json:"events"`
	// Next, when set, is the after of the following page.
	Next string `json:"next,omitempty"`
	// Partial says the page stopped at the server's bound on events
	// examined before it was full: more matches may follow Next.
	Partial bool `json:"partial,omitempty"`
}

// AuditEvent is one entry of the audit trail: who did what, when, from
// where, to what. Details hold names of changed fields and counts, never
// secrets.
type AuditEvent struct {
	ID      string            `json:"id"`
	Time    time.Time         `json:"time"`
	Action  string            `json:"action"`
	Actor   AuditActor        `json:"actor"`
	Target  *AuditTarget      `json:"target,omitempty"`
	Reason  string            `json:"reason,omitempty"`
	Details map[string]string `json:"details,omitempty"`
}

// AuditActor is who acted: the operator, an administrator, a user, or
// Cognate itself (system).
type AuditActor struct {
	Kind string `json:"kind"`
	Sub  string `json:"sub,omitempty"`
	Name string `json:"name,omitempty"`
	IP   string `json:"ip,omitempty"`
}

// AuditTarget is what an event is about.
type AuditTarget struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}
