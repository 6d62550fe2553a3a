package tenant

import (
	"log/slog"
	"time"

	"github.com/cognate-idp/cognate/tenant/password"
)

// Tenant is one customer organization: its subdomain, its issuer and its user
// pool. The slug is the subdomain label and never changes, so it is the ID.
type Tenant struct {
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Settings  Settings  `json:"settings"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Incarnation tells this tenant from every other that had its slug:
	// random, set when the tenant is created and never changed, so that a
	// tenant deleted and created again under the same slug (perhaps for
	// another organization) is a different incarnation. What a process
	// keeps in memory of a tenant (sign-ins in progress, caches) it keeps
	// under slug and incarnation, and checks both when it reads, so that
	// nothing a deleted tenant left behind reaches the next one: the store
	// forgets a tenant's records in the transaction that deletes it, but
	// memory cannot be forgotten there. Tenants created before it existed
	// have none, which no tenant created since has.
	Incarnation string `json:"incarnation,omitempty"`
}

// Settings are a tenant's policies. Zero values mean "Cognito's default",
// which WithDefaults fills in, so records written by older versions still work.
type Settings struct {
	PasswordPolicy           password.Policy `json:"password_policy"`
	TempPasswordValidityDays int             `json:"temp_password_validity_days"`
	MFA                      MFAPolicy       `json:"mfa"`
	Locale                   string          `json:"locale"` // "en" or "nl"
	Branding                 Branding        `json:"branding"`
	Lockout                  LockoutPolicy   `json:"lockout"`
	SigningAlg               string          `json:"signing_alg"` // "RS256" (default) or "ES256"
	// AdminGroup is the group whose members may use the tenant's admin
	// console ("admins" unless set).
	AdminGroup string `json:"admin_group,omitempty"`
	// Legacy is the user pool the tenant's users came from, which checks
	// the passwords of users not migrated yet (legacypool.go).
	Legacy LegacyPool `json:"legacy,omitzero"`
}

// DefaultAdminGroup is the admin console's group when Settings names none.
const DefaultAdminGroup = "admins"

// MFA modes, as Cognito's MfaConfiguration.
const (
	MFAOff      = "OFF"
	MFAOptional = "OPTIONAL"
	MFARequired = "ON"
)

// MFA factors a tenant may allow.
const (
	FactorTOTP     = "TOTP"
	FactorWebAuthn = "WEBAUTHN"
)

// MFAPolicy says whether a second factor is asked for and which ones count.
type MFAPolicy struct {
	Mode         string   `json:"mode"`
	Factors      []string `json:"factors"`
	Passwordless bool     `json:"passwordless"` // discoverable passkeys may sign in alone
}

// Branding is what the login pages and mails show of the organization.
type Branding struct {
	PrimaryColor string `json:"primary_color"`
	LogoURL      string `json:"logo_url"`
}

// LockoutPolicy is the brute-force protection of sign-in.
type LockoutPolicy struct {
	MaxFailures  int           `json:"max_failures"`
	LockDuration time.Duration `json:"lock_duration"`
}

// TempPasswordValidity is how long a temporary password signs in from the
// moment it is set: TempPasswordValidityDays.
func (s Settings) TempPasswordValidity() time.Duration {
	return time.Duration(s.TempPasswordValidityDays) * 24 * time.Hour
}

// WithDefaults returns s with every unset policy at Cognito's default.
func (s Settings) WithDefaults() Settings {
	if s.PasswordPolicy == (password.Policy{}) {
		s.PasswordPolicy = password.DefaultPolicy()
	}
	if s.TempPasswordValidityDays == 0 {
		s.TempPasswordValidityDays = 7
	}
	if s.MFA.Mode == "" {
		s.MFA.Mode = MFAOff
	}
	if len(s.MFA.Factors) == 0 {
		s.MFA.Factors = []string{FactorTOTP, FactorWebAuthn}
	}
	if s.Locale == "" {
		s.Locale = "en"
	}
	if s.Lockout.MaxFailures == 0 {
		s.Lockout.MaxFailures = 5
	}
	if s.Lockout.LockDuration == 0 {
		s.Lockout.LockDuration = 15 * time.Minute
	}
	if s.SigningAlg == "" {
		s.SigningAlg = "RS256"
	}
	if s.AdminGroup == "" {
		s.AdminGroup = DefaultAdminGroup
	}
	return s
}

// UserStatus is Cognito's UserStatusType. UNCONFIRMED is what Cognate calls
// "not activated": the user exists, has no password and cannot sign in.
type UserStatus string

const (
	StatusUnconfirmed         UserStatus = "UNCONFIRMED"
	StatusConfirmed           UserStatus = "CONFIRMED"
	StatusForceChangePassword UserStatus = "FORCE_CHANGE_PASSWORD"
	StatusResetRequired       UserStatus = "RESET_REQUIRED"
	StatusExternalProvider    UserStatus = "EXTERNAL_PROVIDER"
	StatusArchived            UserStatus = "ARCHIVED"
	StatusCompromised         UserStatus = "COMPROMISED"
	StatusUnknown             UserStatus = "UNKNOWN"
)

// User is one person in a tenant's user pool. Sub is assigned once and never
// changes, because relying parties key their data on it.
type User struct {
	Sub           string            `json:"sub"`
	Username      string            `json:"username"`
	Email         string            `json:"email,omitempty"`
	EmailVerified bool              `json:"email_verified"`
	Attributes    map[string]string `json:"attributes,omitempty"` // other standard and custom:* attributes
	Status        UserStatus        `json:"status"`
	Enabled       bool              `json:"enabled"`
	Groups        []string          `json:"groups,omitempty"`

	PasswordHash      string    `json:"password_hash,omitempty"`
	PasswordHistory   []string  `json:"password_history,omitempty"`
	PasswordChangedAt time.Time `json:"password_changed_at,omitzero"`
	// PasswordVersion counts the passwords set (SetPassword); a rehash of
	// the same password keeps it. A sign-in checks it to know the password
	// it proved is still the user's, which the hash cannot tell: another
	// sign-in of the user's may have rehashed it meanwhile.
	PasswordVersion       int       `json:"password_version,omitempty"`
	TempPasswordExpiresAt time.Time `json:"temp_password_expires_at,omitzero"`
	// TempPasswordMailedTo is the address the welcome mail carried the
	// current temporary password to; empty for one an administrator set
	// and handed over. Signing in with it proves that address
	// (ProveMailedAddress).
	TempPasswordMailedTo string `json:"temp_password_mailed_to,omitempty"`

	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	LastSignInAt time.Time `json:"last_sign_in_at,omitzero"`

	MFA MFAState `json:"mfa,omitzero"` // second factors and recovery codes (mfa.go)
}

// LogValue keeps password hashes out of logs whatever logs a user.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("sub", u.Sub), slog.String("username", u.Username))
}

// Group is a named set of users; membership shows in cognito:groups.
type Group struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Precedence  *int      `json:"precedence,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Grant types a client may use.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Client is a relying party of one tenant.
type Client struct {
	ID                     string        `json:"id"`
	Name                   string        `json:"name"`
	SecretHash             string        `json:"secret_hash,omitempty"` // hex SHA-256; empty for a public client
	RedirectURIs           []string      `json:"redirect_uris"`
	PostLogoutRedirectURIs []string      `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes             []string      `json:"grant_types"`
	Scopes                 []string      `json:"scopes"` // scopes the client may ask for
	AccessTokenTTL         time.Duration `json:"access_token_ttl"`
	IDTokenTTL             time.Duration `json:"id_token_ttl"`
	RefreshTokenTTL        time.Duration `json:"refresh_token_ttl"`
	CreatedAt              time.Time     `json:"created_at"`
	UpdatedAt              time.Time     `json:"updated_at"`

	// RefreshRetryGrace is how long a refresh token, once used, may be
	// used again: a client whose answer was lost on the way, or two of its
	// requests that refreshed at once, then get tokens instead of a
	// revoked session. Cognito's RetryGracePeriodSeconds, 0 to 60 seconds;
	// 0, the default, makes every second use a reuse that revokes the
	// token's family.
	RefreshRetryGrace time.Duration `json:"refresh_retry_grace,omitempty"`
}

// Public reports whether the client has no secret (a browser or native app).
func (c Client) Public() bool { return c.SecretHash == "" }

// AllowsGrant reports whether the client may use grant.
func (c Client) AllowsGrant(grant string) bool {
	for _, g := range c.GrantTypes {
		if g == grant {
			return true
		}
	}
	return false
}

// AllowsScope reports whether the client may ask for scope.
func (c Client) AllowsScope(scope string) bool {
	for _, s := range c.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// SigningKey is one of a tenant's token signing keys. Keys are published in
// JWKS from creation until RetireAt, and sign from ActiveFrom until a newer
// key becomes active, so relying parties see a key before it is used.
type SigningKey struct {
	ID  string `json:"id"`
	Alg string `json:"alg"` // RS256 or ES256
	// PrivateDER is the PKCS #8 private key in clear: a new key before it
	// is stored, or a key an older version stored so. A service with a
	// KeySealer stores SealedPrivate instead (seal.go); OpenSigningKey
	// reads either.
	PrivateDER []byte `json:"private_der,omitempty"`
	// SealedPrivate is PrivateDER sealed for this tenant and key ID.
	SealedPrivate string    `json:"sealed_private,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	ActiveFrom    time.Time `json:"active_from"`
	RetireAt      time.Time `json:"retire_at,omitzero"`
}

// LogValue keeps private key material out of logs.
func (k SigningKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", k.ID), slog.String("alg", k.Alg))
}

// Session is a single sign-on session of a browser at one tenant.
type Session struct {
	ID        string    `json:"id"` // SHA-256 of the cookie value, hex
	Sub       string    `json:"sub"`
	AMR       []string  `json:"amr"`
	AuthTime  time.Time `json:"auth_time"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// FactorSetUp: a second factor was set up, and proven, in this session
	// (the account page). The account page counts it
	// (auth.SessionOpensAccount), so that setting up a first factor does
	// not sign the person out of it. AMR does not gain it, and
	// applications are not answered from it: whoever held the session's
	// cookie could have set that factor up, so it proves nothing the
	// sign-in did not.
	FactorSetUp bool `json:"factor_set_up,omitempty"`
}

// SetPassword gives u the password of hash, set at, or takes u's password
// away (hash empty). Every way of setting a password goes through here, so
// that PasswordVersion counts them; a rehash of the same password assigns
// PasswordHash itself.
func (u *User) SetPassword(hash string, at time.Time) {
	u.PasswordHash, u.PasswordChangedAt = hash, at
	u.PasswordVersion++
}

// SetPermanentPassword gives u a password of their own (or one an
// administrator set as permanent), of hash, set at: the one it replaces
// joins the history (PushHistory, historySize), and u is CONFIRMED, with
// nothing left of a temporary password (its expiry, the address it was
// mailed to). A forced change proves that address first
// (ProveMailedAddress), which needs what this clears.
func (u *User) SetPermanentPassword(hash string, historySize int, at time.Time) {
	u.PasswordHistory = PushHistory(u.PasswordHistory, u.PasswordHash, historySize)
	u.SetPassword(hash, at)
	u.Status, u.TempPasswordExpiresAt, u.TempPasswordMailedTo = StatusConfirmed, time.Time{}, ""
}
