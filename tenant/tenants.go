package tenant

import (
	"context"
	"errors"
	"fmt"
	"github.com/cognate-idp/cognate/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant/password"
)

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
	now := s.Time()
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
		} else if !errors.Is(err, ErrNotFound) {
			// Not known to be free: the deletion below would wipe a
			// tenant that is there.
			return err
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

// SettingsChange changes some sections of a tenant's settings. A nil field
// keeps its section; a set field replaces that section whole, and zero values
// inside it mean Cognito's default, as everywhere in Settings. The password
// policy is the exception: it changes field by field (PasswordPolicyChange).
type SettingsChange struct {
	PasswordPolicy           *PasswordPolicyChange
	TempPasswordValidityDays *int
	MFA                      *MFAPolicy
	Locale                   *string
	Branding                 *Branding
	Lockout                  *LockoutPolicy
	// SigningAlg applies to keys made from now on: the next rotation
	// publishes a key of the new algorithm, the current key keeps signing
	// until then.
	SigningAlg *string
	// AdminGroup names the group whose members may use the admin console;
	// the group must exist.
	AdminGroup *string
	// Legacy replaces the legacy pool; see LegacyPoolChange for secrets.
	Legacy *LegacyPoolChange
}

// PasswordPolicyChange changes some fields of a tenant's password policy:
// a nil field keeps its value (Cognito's default on a new tenant), a set one
// takes the value given, which the policy's ranges must admit. An operator
// who lengthens the password history must not lose, unawares, the
// character classes the policy requires.
type PasswordPolicyChange struct {
	MinimumLength    *int
	RequireUppercase *bool
	RequireLowercase *bool
	RequireNumbers   *bool
	RequireSymbols   *bool
	HistorySize      *int
}

// SetPasswordPolicy is the change that sets every field of the policy to
// p's, for a front end that shows them all (the console's settings form).
func SetPasswordPolicy(p password.Policy) *PasswordPolicyChange {
	return &PasswordPolicyChange{
		MinimumLength: &p.MinimumLength, RequireUppercase: &p.RequireUppercase, RequireLowercase: &p.RequireLowercase,
		RequireNumbers: &p.RequireNumbers, RequireSymbols: &p.RequireSymbols, HistorySize: &p.HistorySize,
	}
}

// apply returns the policy the change makes of old; an unset (zero) old
// policy is Cognito's default, as WithDefaults reads it.
func (c PasswordPolicyChange) apply(old password.Policy) password.Policy {
	p := old
	if p == (password.Policy{}) {
		p = password.DefaultPolicy()
	}
	for _, f := range []struct {
		to    *int
		field *int
	}{{c.MinimumLength, &p.MinimumLength}, {c.HistorySize, &p.HistorySize}} {
		if f.to != nil {
			*f.field = *f.to
		}
	}
	for _, f := range []struct {
		to    *bool
		field *bool
	}{
		{c.RequireUppercase, &p.RequireUppercase}, {c.RequireLowercase, &p.RequireLowercase},
		{c.RequireNumbers, &p.RequireNumbers}, {c.RequireSymbols, &p.RequireSymbols},
	} {
		if f.to != nil {
			*f.field = *f.to
		}
	}
	return p
}

// Apply returns s with the change made and every unset policy at its default.
// A password policy the change names stays as named, even one whose every
// field is zero: ValidateSettings refuses it rather than WithDefaults
// reading it as unset.
func (c SettingsChange) Apply(s Settings) Settings {
	if c.PasswordPolicy != nil {
		s.PasswordPolicy = c.PasswordPolicy.apply(s.PasswordPolicy)
	}
	if c.TempPasswordValidityDays != nil {
		s.TempPasswordValidityDays = *c.TempPasswordValidityDays
	}
	if c.MFA != nil {
		s.MFA = *c.MFA
	}
	if c.Locale != nil {
		s.Locale = *c.Locale
	}
	if c.Branding != nil {
		s.Branding = *c.Branding
	}
	if c.Lockout != nil {
		s.Lockout = *c.Lockout
	}
	if c.SigningAlg != nil {
		s.SigningAlg = *c.SigningAlg
	}
	if c.AdminGroup != nil {
		s.AdminGroup = *c.AdminGroup
	}
	if c.Legacy != nil {
		s.Legacy = c.Legacy.apply(s.Legacy)
	}
	out := s.WithDefaults()
	if c.PasswordPolicy != nil {
		out.PasswordPolicy = s.PasswordPolicy
	}
	return out
}

// TenantChange is the input of UpdateTenant; nil fields stay as they are.
type TenantChange struct {
	Name     *string
	Settings SettingsChange
	// IfUnchanged, when set, makes the change conditional (see
	// UserChange.IfUnchanged).
	IfUnchanged func(Tenant) bool
}

// UpdateTenant renames a tenant or changes its settings. The slug never
// changes: it is the tenant's subdomain and its issuer.
func (s *Service) UpdateTenant(ctx context.Context, slug string, in TenantChange) (Tenant, error) {
	var name string
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
		if err := ValidateTenantName(name); err != nil {
			return Tenant{}, err
		}
	}
	now := s.Time()
	var (
		t        Tenant
		noChange bool
	)
	err := s.Store.Update(ctx, func(tx Tx) (err error) {
		noChange = false // the closure may run more than once
		t, err = GetTenant(tx, slug)
		if err != nil {
			return err
		}
		if in.IfUnchanged != nil && !in.IfUnchanged(t) {
			return fmt.Errorf("tenant %q: %w", slug, ErrStale)
		}
		stored := t
		// The legacy pool is changed, validated and compared in clear,
		// and sealed again (under the current server key) to be stored.
		// One that does not open is kept as stored unless the change
		// keeps one of its secrets, which then could not be carried over.
		opened, openErr := OpenLegacyPool(s.LegacySealer, slug, t.Settings.Legacy)
		if openErr == nil {
			t.Settings.Legacy = opened
		} else if in.Settings.Legacy.keepsSecretOf(t.Settings.Legacy) {
			return openErr
		}
		before := t
		if in.Name != nil {
			// Only a new name is checked: one that was taken twice before
			// names were kept apart may stay as it is while other
			// settings change (the apex then asks for the slug).
			if NameKey(name) != NameKey(t.Name) {
				if err := checkTenantNameFree(tx, slug, name); err != nil {
					return err
				}
			}
			t.Name = name
		}
		t.Settings = in.Settings.Apply(t.Settings)
		// Only an admin group chosen now is held to today's rules for a
		// group's name: one that an older version accepted stays while
		// other settings change.
		adminGroupChosen := t.Settings.AdminGroup != before.Settings.AdminGroup
		if err := settingsError(t.Settings, adminGroupChosen); err != nil {
			return err
		}
		if adminGroupChosen {
			// It must exist, or nobody could be let in; and an
			// administrator who moves it must move with it.
			if err := checkGroupsExist(tx, slug, []string{t.Settings.AdminGroup}); err != nil {
				return err
			}
			if actor := ActorFrom(ctx); actor.Kind == ActorAdmin {
				u, err := GetUser(tx, slug, actor.Sub)
				if err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
				if !slices.Contains(u.Groups, t.Settings.AdminGroup) {
					return ErrAdminGroupWithoutActor
				}
			}
		}
		changes := tenantChanges(before, t)
		if len(changes) == 0 {
			// A form sent again, or a value it already has: nothing to
			// store, nothing to record.
			t, noChange = stored, true
			return nil
		}
		if t.Settings.Legacy, err = SealLegacyPool(s.LegacySealer, slug, t.Settings.Legacy); err != nil {
			return err
		}
		t.UpdatedAt = now
		if err := PutTenant(tx, t); err != nil {
			return err
		}
		return s.audit(ctx, tx, slug, AuditTenantUpdate, AuditTarget{Kind: TargetTenant, ID: slug, Name: t.Name},
			map[string]string{"fields": strings.Join(changes, ",")})
	})
	if err != nil {
		return Tenant{}, err
	}
	if !noChange {
		s.changed(ctx, slug)
	}
	return t, nil
}

// DeleteTenant removes a tenant with every record it holds: users, clients,
// keys, tokens and sessions. Its issuer stops answering at once.
func (s *Service) DeleteTenant(ctx context.Context, slug string) error {
	err := s.Store.Update(ctx, func(tx Tx) error {
		t, err := GetTenant(tx, slug)
		if err != nil {
			return err
		}
		if err := tx.DeleteTenant(slug); err != nil {
			return err
		}
		// The outbox belongs to no tenant; the users' mail in it goes too.
		if err := deleteOwnedMail(tx, slug, ""); err != nil {
			return err
		}
		// The tenant's own trail goes with it; the operator's keeps this.
		if err := s.audit(ctx, tx, "", AuditTenantDelete, AuditTarget{Kind: TargetTenant, ID: slug}, nil); err != nil {
			return err
		}
		return deleteTenantRecord(tx, t)
	})
	if err != nil {
		return err
	}
	s.changed(ctx, slug)
	return nil
}

// Limits of a tenant's settings. ValidateSettings holds a tenant to them;
// the admin console's settings form names them when a value is outside.
const (
	MinTempPasswordValidityDays = 1
	MaxTempPasswordValidityDays = 365
	MinLockoutFailures          = 1
	MaxLockoutFailures          = 100
	MinLockDuration             = time.Minute
	MaxLockDuration             = 24 * time.Hour
)

// Languages are the languages a tenant's pages and mails may speak
// (Settings.Locale), a new slice each call: those the mails are written in
// (the pages' catalogues are tested to hold every one of them).
func Languages() []string { return mail.Languages() }

// MFAModes are the modes of a tenant's MFA policy (MFAPolicy.Mode), a new
// slice each call.
func MFAModes() []string { return []string{MFAOff, MFAOptional, MFARequired} }

// ValidateSettings checks a tenant's settings and says every problem, the
// admin group's name among them: whole settings, as a new tenant's, choose
// their admin group. UpdateTenant checks that name only when the group is
// chosen anew.
func ValidateSettings(st Settings) error { return settingsError(st, true) }

// settingsError is ErrInvalid saying every problem of st at once, in one
// line, or nil; with checkAdminGroup the admin group's name is checked
// too, and a refusal of it is also the error (errors.As finds the
// *InvalidError that names FieldAdminGroup, for a front end to point at).
func settingsError(st Settings, checkAdminGroup bool) error {
	problems := settingsProblems(st)
	var refusal error
	if checkAdminGroup {
		if refusal = validateAdminGroupName(st.AdminGroup); refusal != nil {
			problems = append(problems, InvalidReason(refusal))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return &settingsInvalid{text: strings.Join(problems, "; "), refusal: refusal}
}

// settingsInvalid is settingsError's error.
type settingsInvalid struct {
	text    string
	refusal error // the admin group name's, or nil
}

func (e *settingsInvalid) Error() string { return ErrInvalid.Error() + ": " + e.text }

func (e *settingsInvalid) Unwrap() []error {
	if e.refusal != nil {
		return []error{ErrInvalid, e.refusal}
	}
	return []error{ErrInvalid}
}

// validateAdminGroupName is ValidateGroupName of the group chosen as the
// admin group; its refusal names the setting (FieldAdminGroup), so that a
// front end says the group name's rule at the admin group.
func validateAdminGroupName(name string) error {
	err := ValidateGroupName(name)
	if inv := (*InvalidError)(nil); errors.As(err, &inv) {
		inv.Field = FieldAdminGroup
	}
	return err
}

// settingsProblems says what is wrong with a tenant's settings, but for
// the admin group's name.
func settingsProblems(st Settings) []string {
	var problems []string
	if err := st.PasswordPolicy.Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if st.TempPasswordValidityDays < MinTempPasswordValidityDays || st.TempPasswordValidityDays > MaxTempPasswordValidityDays {
		problems = append(problems, fmt.Sprintf("temporary password validity must be %d to %d days",
			MinTempPasswordValidityDays, MaxTempPasswordValidityDays))
	}
	if !slices.Contains(MFAModes(), st.MFA.Mode) {
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
	if !slices.Contains(Languages(), st.Locale) {
		problems = append(problems, fmt.Sprintf("language %q must be %s", st.Locale, strings.Join(Languages(), " or ")))
	}
	if st.SigningAlg != "RS256" && st.SigningAlg != "ES256" {
		problems = append(problems, fmt.Sprintf("signing algorithm %q must be RS256 or ES256", st.SigningAlg))
	}
	if st.Lockout.MaxFailures < MinLockoutFailures || st.Lockout.MaxFailures > MaxLockoutFailures {
		problems = append(problems, fmt.Sprintf("lockout threshold must be %d to %d failed attempts",
			MinLockoutFailures, MaxLockoutFailures))
	}
	if st.Lockout.LockDuration < MinLockDuration || st.Lockout.LockDuration > MaxLockDuration {
		problems = append(problems, fmt.Sprintf("lockout duration must be between %d minute and %d hours",
			MinLockDuration/time.Minute, MaxLockDuration/time.Hour))
	}
	problems = append(problems, brandingProblems(st.Branding)...)
	return append(problems, legacyProblems(st.Legacy)...)
}

// brandingProblems says what is wrong with a tenant's branding: the login
// pages put the colour in a stylesheet name and the logo in an img element
// and the Content-Security-Policy, so both must be plain.
func brandingProblems(b Branding) []string {
	var problems []string
	if c := b.PrimaryColor; c != "" && !ValidColor(c) {
		problems = append(problems, fmt.Sprintf("primary colour %q must be #rgb or #rrggbb", c))
	}
	if l := b.LogoURL; l != "" && !ValidLogoURL(l) {
		problems = append(problems, fmt.Sprintf("logo URL %q must be an https address (http only for localhost) of at most 2048 characters", l))
	}
	return problems
}

// ValidColor reports whether c is a colour Branding accepts: #rgb or #rrggbb.
func ValidColor(c string) bool {
	hex, ok := strings.CutPrefix(c, "#")
	return ok && (len(hex) == 3 || len(hex) == 6) && strings.Trim(strings.ToLower(hex), "0123456789abcdef") == ""
}

// ValidLogoURL reports whether raw is a logo address Branding accepts: an
// absolute https URL (http only for loopback hosts, in development) with
// nothing that could end a CSP source or an attribute.
func ValidLogoURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || len(raw) > 2048 || strings.ContainsAny(raw, " '\";,") {
		return false
	}
	return HTTPSOrLoopback(u)
}
