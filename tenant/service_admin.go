package tenant

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cognate-idp/cognate/tenant/password"
)

// This file holds the Service methods the operator's admin API needs beyond
// creating and reading: changing and deleting tenants, users and clients.

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
	now := s.now()
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
		if err := ValidateSettings(t.Settings); err != nil {
			return err
		}
		if t.Settings.AdminGroup != before.Settings.AdminGroup {
			// The admin group must exist, or nobody could be let in; and an
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

// RotateClientSecret gives a confidential client a new secret and returns it;
// the old secret stops working at once, as only the new hash is kept.
func (s *Service) RotateClientSecret(ctx context.Context, tenantID, id string) (Client, string, error) {
	secret := NewSecret(32)
	now := s.now()
	var c Client
	err := s.Store.Update(ctx, func(tx Tx) (err error) {
		c, err = GetClient(tx, tenantID, id)
		if err != nil {
			return err
		}
		if c.Public() {
			return fmt.Errorf("%w: client %q is public: it has no secret to rotate", ErrInvalid, id)
		}
		c.SecretHash, c.UpdatedAt = HashSecret(secret), now
		if err := s.audit(ctx, tx, tenantID, AuditClientSecretRotate, clientTarget(c), nil); err != nil {
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

// UserQuery finds users by an exact value; exactly one of Username, Email
// and Sub is set.
type UserQuery struct {
	Username string // case-insensitive, as sign-in matches it
	Email    string // case-insensitive; several users may share an address
	// Sub is exact. A search by sub answers "is there such a user?"
	// with an empty list rather than ErrNotFound, as Cognito's ListUsers
	// filter `sub = "…"` does.
	Sub string
	// After and Limit page the users of an email search as ListUsers
	// pages a tenant's users: in sub order, those whose sub sorts after
	// After (the previous page's Next), Limit of them (1 to 100, default
	// 50). Thousands of users may share an address; a search by username
	// or sub finds one at most, and takes neither.
	After string
	Limit int
}

// FindUsers returns a page of the users that match q, in sub order. An
// unknown tenant is ErrNotFound; no match is an empty page.
func (s *Service) FindUsers(ctx context.Context, tenantID string, q UserQuery) (UserPage, error) {
	given := 0
	for _, v := range []string{q.Username, q.Email, q.Sub} {
		if v != "" {
			given++
		}
	}
	switch {
	case given != 1:
		return UserPage{}, fmt.Errorf("%w: search by one of username, email or sub", ErrInvalid)
	case q.Email == "" && (q.After != "" || q.Limit != 0):
		return UserPage{}, fmt.Errorf("%w: a search by username or sub finds one user at most; it takes no after or limit", ErrInvalid)
	}
	if q.Limit <= 0 || q.Limit > 100 {
		q.Limit = 50
	}
	var page UserPage
	err := s.Store.View(ctx, func(tx Tx) error {
		page = UserPage{}
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		if q.Email != "" {
			var err error
			page, err = UsersByEmail(tx, tenantID, q.Email, q.After, q.Limit)
			return err
		}
		var u User
		var err error
		if q.Sub != "" {
			u, err = GetUser(tx, tenantID, q.Sub)
		} else {
			u, err = UserByUsername(tx, tenantID, q.Username)
		}
		switch {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		page.Users = []User{u}
		return nil
	})
	return page, err
}

// errVerifiedWithoutEmail refuses a verified email address that is not
// there, on creation as on a change.
var errVerifiedWithoutEmail = fmt.Errorf("%w: a user without an email address cannot have a verified one", ErrInvalid)

// UserChange is the input of UpdateUser; nil fields stay as they are.
type UserChange struct {
	// Email replaces the address; "" removes it. A new address is
	// unverified unless EmailVerified says otherwise.
	Email         *string
	EmailVerified *bool
	// Attributes are merged into the user's: a nil value removes that
	// attribute, others are set.
	Attributes map[string]*string
	// Enabled false keeps the user from signing in, whatever the password.
	Enabled *bool
	// Groups replaces the user's group memberships; every group must exist.
	Groups *[]string
	// Activate activates the user once the rest is changed, as
	// ActivateUser does (a temporary password and the welcome mail, or only
	// enabling a deactivated CONFIRMED user again), in the same
	// transaction: a change and its activation commit together or not at
	// all. It cannot go with Enabled false.
	Activate bool
	// IfUnchanged, when set, makes the change conditional: it is called
	// in the change's transaction with the record as stored, and false
	// refuses the change with ErrStale. An edit form passes a test that
	// the record still shows what the form showed, so that a form opened
	// before someone else's change cannot undo that change.
	IfUnchanged func(User) bool
}

// UpdateUser changes a user's email, attributes or whether it is enabled.
// A change to what the user has already (a form saved untouched) writes
// nothing, records nothing, and returns the user as stored.
func (s *Service) UpdateUser(ctx context.Context, tenantID, sub string, in UserChange) (User, error) {
	var email string
	if in.Email != nil {
		email = strings.TrimSpace(*in.Email)
		if email != "" {
			if err := ValidateEmail(email); err != nil {
				return User{}, err
			}
		}
	}
	var inv invitation
	if in.Activate {
		if in.Enabled != nil && !*in.Enabled {
			return User{}, fmt.Errorf("%w: a user cannot be activated and deactivated at once", ErrInvalid)
		}
		t, u, err := s.tenantAndUser(ctx, tenantID, sub)
		if err != nil {
			return User{}, err
		}
		if in.Email != nil {
			u.Email = email // the address the invitation will go to
		}
		if inv, err = s.prepareInvitation(ctx, t, u, false); err != nil {
			return User{}, err
		}
	}
	now := s.now()
	var u User
	err := s.Store.Update(ctx, func(tx Tx) (err error) {
		u, err = GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		if in.IfUnchanged != nil && !in.IfUnchanged(u) {
			return fmt.Errorf("user %q: %w", sub, ErrStale)
		}
		before := u
		before.Attributes = maps.Clone(u.Attributes) // u's is changed in place below
		if in.Email != nil {
			if FoldKey(email) != FoldKey(u.Email) {
				u.EmailVerified = false // a new address, not just new capitals
			}
			u.Email = email
		}
		if in.EmailVerified != nil {
			u.EmailVerified = *in.EmailVerified
		}
		if u.Email == "" && u.EmailVerified {
			return errVerifiedWithoutEmail
		}
		if len(in.Attributes) > 0 {
			// u was decoded afresh in this run of the closure, so changing
			// its map in place cannot leak into a retry.
			if u.Attributes == nil {
				u.Attributes = make(map[string]string, len(in.Attributes))
			}
			for name, value := range in.Attributes {
				if value == nil {
					delete(u.Attributes, name)
				} else {
					u.Attributes[name] = *value
				}
			}
			if err := ValidateAttributes(u.Attributes); err != nil {
				return err
			}
		}
		if in.Enabled != nil {
			if u.Enabled && !*in.Enabled {
				if selfLockout(ctx, sub) {
					return ErrSelfLockout
				}
				// Deactivation stops sign-in at once: sessions and
				// refresh tokens end with it.
				if err := s.revoke(tx, tenantID, sub); err != nil {
					return err
				}
			}
			u.Enabled = *in.Enabled
		}
		if in.Groups != nil {
			groups := uniqueGroups(*in.Groups)
			if err := checkGroupsExist(tx, tenantID, groups); err != nil {
				return err
			}
			if t, err := GetTenant(tx, tenantID); err != nil {
				return err
			} else if selfLockout(ctx, sub) && slices.Contains(u.Groups, t.Settings.AdminGroup) && !slices.Contains(groups, t.Settings.AdminGroup) {
				return ErrSelfLockout
			}
			u.Groups = groups
		}
		if !in.Activate && u.Enabled == before.Enabled && len(userChanges(before, u)) == 0 {
			// A form saved untouched, or values the user has already:
			// nothing to store, nothing to record.
			u = before
			return nil
		}
		u.UpdatedAt = now
		if err := UpdateUser(tx, tenantID, u); err != nil {
			return err
		}
		if err := s.auditUserChange(ctx, tx, tenantID, before, u); err != nil {
			return err
		}
		if !in.Activate {
			return nil
		}
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		// UpdatedAt is now, later than any earlier invitation: a user
		// changed by this call is invited anew, never taken for a repeat.
		_, err = s.writeInvitation(ctx, tx, t, &u, inv)
		return err
	})
	if err != nil {
		return User{}, err
	}
	if in.Activate && inv.mails() {
		s.mailQueued()
	}
	return u, nil
}

// DeleteUser removes a user from a tenant's pool.
func (s *Service) DeleteUser(ctx context.Context, tenantID, sub string) error {
	if selfLockout(ctx, sub) {
		return ErrSelfLockout
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		u, err := GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		if err := s.revoke(tx, tenantID, sub); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditUserDelete, userTarget(u), nil); err != nil {
			return err
		}
		// A stale entry would lead the passkeys to a user created later
		// under the same sub (an import keeps subs).
		if err := deleteWebAuthnHandle(tx, tenantID, u); err != nil {
			return err
		}
		// So would a live reset code: it would set the password of that
		// later user for whoever read this one's mail.
		if err := tx.Delete(CollPasswordResets, tenantID, resetKey(sub)); err != nil {
			return err
		}
		return DeleteUser(tx, tenantID, sub)
	})
}
