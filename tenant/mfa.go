package tenant

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
)

// This file holds a user's second factors as the store keeps them, and the
// Service methods that change them without any cryptography: an
// administrator's reset, and removing, renaming and preferring a factor.
// Proving a factor, enrolling one and making recovery codes need the mfa
// package and live in tenant/auth; this package stays free of it, because
// go-webauthn brings net/http along, which the domain must not import.

// AttrMFAReenroll is "true" on a user who had MFA in Cognito. Cognito
// never exports TOTP secrets or passkeys, so such a user comes over without
// a second factor; where a tenant's MFA is optional, their next sign-in
// asks them to set one up again rather than quietly signing them in with a
// password alone, and enrolling a factor removes the mark. A custom:
// attribute, so the tenant's attribute rules accept it and the admin API
// shows who has yet to enrol.
const AttrMFAReenroll = "custom:mfa_reenroll"

// MFAReenrollDue reports whether u had MFA in Cognito and has not enrolled
// a factor here since.
func (u User) MFAReenrollDue() bool { return u.Attributes[AttrMFAReenroll] == "true" }

// MFAState is a user's second factors. The zero value is a user without any.
type MFAState struct {
	// TOTP is the authenticator app, if the user has one.
	TOTP *TOTPFactor `json:"totp,omitempty"`
	// WebAuthn are the user's security keys and passkeys.
	WebAuthn []WebAuthnFactor `json:"webauthn,omitempty"`
	// Handle is the WebAuthn user handle: random, made with the first
	// credential, indexed in CollWebAuthnHandle so that a passkey sign-in,
	// which starts without a username, finds the user.
	Handle []byte `json:"handle,omitempty"`
	// RecoveryCodes are the hashes of the one-time recovery codes (see
	// mfa.NewRecoveryCodes); a used code's entry is blanked, so the count of
	// codes made stays visible.
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
	// Preferred is the kind asked for first when the user has several
	// (FactorTOTP or FactorWebAuthn); empty lets the user choose.
	Preferred string `json:"preferred,omitempty"`
}

// TOTPFactor is an authenticator app.
type TOTPFactor struct {
	// Secret is the shared key, sealed (mfa.Sealer) with the tenant and the
	// user as associated data, so a copy onto another record does not open.
	Secret string `json:"secret"`
	// LastStep is the last time step a code was accepted for: a code of
	// that step or an earlier one is a replay (RFC 6238 §5.2).
	LastStep   int64     `json:"last_step"`
	Name       string    `json:"name,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// WebAuthnFactor is a registered security key or passkey.
//
// Credential is the full mfa.Credential (public key, sign count, flags,
// AAGUID, transports, backup state, attestation) as JSON. tenant/auth reads
// and writes it; this package only shows the fields beside it, which
// tenant/auth keeps in step whenever it writes Credential. Name is the one
// field owned here (a person renames a factor through the Service).
type WebAuthnFactor struct {
	ID   []byte `json:"id"`    // the credential ID
	RPID string `json:"rp_id"` // the tenant host it was registered at
	Name string `json:"name,omitempty"`
	// Passkey is a discoverable credential that verifies the user: it can
	// sign in alone where the tenant allows passwordless sign-in.
	Passkey bool `json:"passkey"`
	// Synced is a backup-eligible credential: a copy of its key may live in
	// a platform's cloud keychain.
	Synced bool `json:"synced"`
	// CloneWarning is set once a sign-in presented a signature counter that
	// did not advance: the key may exist twice. The factor is refused until
	// an administrator resets the user's MFA.
	CloneWarning bool            `json:"clone_warning,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	LastUsedAt   time.Time       `json:"last_used_at,omitzero"`
	Credential   json.RawMessage `json:"credential"`
}

// Factor IDs name one factor of a user on forms and in the API: "totp", or
// "webauthn:" and the credential ID in base64url.
const (
	TOTPFactorID         = "totp"
	webAuthnFactorPrefix = "webauthn:"
)

// WebAuthnFactorID is the factor ID of a credential.
func WebAuthnFactorID(credentialID []byte) string {
	return webAuthnFactorPrefix + base64.RawURLEncoding.EncodeToString(credentialID)
}

// FactorID is the factor ID of f.
func (f WebAuthnFactor) FactorID() string { return WebAuthnFactorID(f.ID) }

// HasFactor reports whether the user has any second factor.
func (s MFAState) HasFactor() bool { return s.TOTP != nil || len(s.WebAuthn) > 0 }

// Has reports whether the user has a factor of kind (FactorTOTP or
// FactorWebAuthn).
func (s MFAState) Has(kind string) bool {
	switch kind {
	case FactorTOTP:
		return s.TOTP != nil
	case FactorWebAuthn:
		return len(s.WebAuthn) > 0
	}
	return false
}

// RecoveryCodesLeft counts the unused recovery codes.
func (s MFAState) RecoveryCodesLeft() int {
	n := 0
	for _, h := range s.RecoveryCodes {
		if h != "" {
			n++
		}
	}
	return n
}

// Allows reports whether the policy counts factors of kind.
func (p MFAPolicy) Allows(kind string) bool { return slices.Contains(p.Factors, kind) }

// PasskeySignIn reports whether a passkey may sign someone in alone,
// without a password: passwordless sign-in is on and WebAuthn counts as a
// factor. Then the login page offers a passkey, and auth's BeginPasskey and
// FinishPasskey accept one.
func (p MFAPolicy) PasskeySignIn() bool { return p.Passwordless && p.Allows(FactorWebAuthn) }

// Errors of the MFA changes.
var (
	// ErrLastFactor refuses to remove a user's last second factor while the
	// tenant requires one: the next sign-in would make the user enrol again
	// with nothing but a password, which is what MFA is there to prevent.
	ErrLastFactor = errors.New("the last second factor cannot be removed while MFA is required")
	// ErrNoFactor means the user has no such factor.
	ErrNoFactor = fmt.Errorf("second factor: %w", ErrNotFound)
	// ErrCredentialInUse refuses a WebAuthn credential whose ID is
	// registered already, to another user of the tenant or to the same
	// one. Genuine authenticators make a new random ID for every
	// registration, so a repeated ID is a broken or forged authenticator;
	// WebAuthn §7.1 (registering a new credential) says to fail the
	// ceremony, so that one credential ID never names two accounts.
	ErrCredentialInUse = fmt.Errorf("webauthn credential registered already: %w", ErrAlreadyExists)
)

// PutWebAuthnHandle indexes a user handle, so a passkey finds its user.
func PutWebAuthnHandle(tx Tx, tenantID string, handle []byte, sub string) error {
	return tx.Put(CollWebAuthnHandle, tenantID, hex.EncodeToString(handle), []byte(sub))
}

// UserByWebAuthnHandle finds the user a WebAuthn user handle belongs to.
func UserByWebAuthnHandle(tx Tx, tenantID string, handle []byte) (User, error) {
	sub, err := tx.Get(CollWebAuthnHandle, tenantID, hex.EncodeToString(handle))
	if err != nil {
		return User{}, fmt.Errorf("webauthn user handle: %w", err)
	}
	return GetUser(tx, tenantID, string(sub))
}

// deleteWebAuthnHandle drops the index entry of u's handle, if it has one.
func deleteWebAuthnHandle(tx Tx, tenantID string, u User) error {
	if len(u.MFA.Handle) == 0 {
		return nil
	}
	return tx.Delete(CollWebAuthnHandle, tenantID, hex.EncodeToString(u.MFA.Handle))
}

// credentialKey is a credential ID as CollWebAuthnCreds keys it.
func credentialKey(id []byte) string { return hex.EncodeToString(id) }

// WebAuthnCredentialOwner returns the sub of the user that credential ID id
// is registered to, or an error wrapping ErrNotFound.
func WebAuthnCredentialOwner(tx Tx, tenantID string, id []byte) (string, error) {
	sub, err := tx.Get(CollWebAuthnCreds, tenantID, credentialKey(id))
	if err != nil {
		return "", fmt.Errorf("webauthn credential: %w", err)
	}
	return string(sub), nil
}

// syncCredentialIndex keeps CollWebAuthnCreds in step with user sub's
// WebAuthn credentials, as they were (before) and are to be (after): an ID
// gone from the user is dropped, a new one added. A new ID that the index
// gives to anyone, or that after holds twice, is ErrCredentialInUse: the
// registration fails in the transaction that would store it, so no second
// writer can slip in between the check and the write. UpdateUser,
// InsertUser and DeleteUser call it, so every change of a user's
// credentials (a registration, a removal, an MFA reset, a deleted user)
// keeps the index whole; a deleted tenant takes its index along.
func syncCredentialIndex(tx Tx, tenantID, sub string, before, after []WebAuthnFactor) error {
	count := func(fs []WebAuthnFactor, id []byte) int {
		n := 0
		for _, f := range fs {
			if bytes.Equal(f.ID, id) {
				n++
			}
		}
		return n
	}
	has := func(fs []WebAuthnFactor, id []byte) bool { return count(fs, id) > 0 }
	for _, f := range before {
		if has(after, f.ID) {
			continue
		}
		// Only the user's own entry: where an older version let two users
		// share an ID, the index names the other one (IndexWebAuthnCredentials).
		owner, err := WebAuthnCredentialOwner(tx, tenantID, f.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case err != nil:
			return err
		case owner != sub:
			continue
		}
		if err := tx.Delete(CollWebAuthnCreds, tenantID, credentialKey(f.ID)); err != nil {
			return err
		}
	}
	for _, f := range after {
		// Compared with before, so that a record some older writer left
		// with a copy does not make every later change of the user fail.
		if n := count(after, f.ID); n > 1 && n > count(before, f.ID) {
			return fmt.Errorf("credential %s twice on the user: %w", f.FactorID(), ErrCredentialInUse)
		}
		if has(before, f.ID) {
			continue
		}
		owner, err := WebAuthnCredentialOwner(tx, tenantID, f.ID)
		switch {
		case err == nil && owner != sub:
			return fmt.Errorf("credential %s is registered to user %s: %w", f.FactorID(), owner, ErrCredentialInUse)
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		}
		if err := tx.Put(CollWebAuthnCreds, tenantID, credentialKey(f.ID), []byte(sub)); err != nil {
			return err
		}
	}
	return nil
}

// credentialIndexMarker, in a tenant's CollWebAuthnCreds, says the index
// was built from the users. It cannot be a credential's key, which is hex.
const credentialIndexMarker = "\x00indexed"

// SharedCredential is a credential ID that an older version registered to
// two users of one tenant. The index gives it to Owner (the first by sub);
// Other's copy no longer signs in with a passkey until Other's MFA is reset.
type SharedCredential struct {
	Tenant, FactorID, Owner, Other string
}

// IndexWebAuthnCredentials builds the credential ID index of every tenant
// whose users were written before the index existed, and returns how many
// tenants it indexed and the credential IDs it found on two users. It runs
// at start-up, before requests are served; a tenant indexed before is
// skipped at once, as IndexGroupMembers does.
func IndexWebAuthnCredentials(ctx context.Context, store Store) (int, []SharedCredential, error) {
	// A set, since a transaction that runs again visits its users again.
	found := make(map[SharedCredential]bool)
	n, err := indexUsers(ctx, store, CollWebAuthnCreds, credentialIndexMarker, func(tx Tx, slug string, u User) error {
		for _, f := range u.MFA.WebAuthn {
			owner, err := WebAuthnCredentialOwner(tx, slug, f.ID)
			switch {
			case err == nil && owner != u.Sub:
				found[SharedCredential{Tenant: slug, FactorID: f.FactorID(), Owner: owner, Other: u.Sub}] = true
				continue
			case err == nil:
				continue
			case !errors.Is(err, ErrNotFound):
				return err
			}
			if err := tx.Put(CollWebAuthnCreds, slug, credentialKey(f.ID), []byte(u.Sub)); err != nil {
				return err
			}
		}
		return nil
	})
	shared := slices.SortedFunc(maps.Keys(found), func(a, b SharedCredential) int {
		return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.Other, b.Other), cmp.Compare(a.FactorID, b.FactorID))
	})
	return n, shared, err
}

// ResetMFA removes all of a user's second factors and recovery codes, as an
// administrator does for a lost phone or a key flagged as cloned. The user's
// passkeys stop finding the account at once (the handle index goes too), and
// the user's sessions and refresh tokens end: whoever held the factors may
// have been signed in with them. Where the tenant requires MFA, the next
// sign-in enrols a new factor.
func (s *Service) ResetMFA(ctx context.Context, tenantID, sub string) error {
	now := s.Time()
	err := s.Store.Update(ctx, func(tx Tx) error {
		u, err := GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		if err := deleteWebAuthnHandle(tx, tenantID, u); err != nil {
			return err
		}
		u.MFA, u.UpdatedAt = MFAState{}, now
		if err := s.revoke(tx, tenantID, sub); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditUserMFAReset, userTarget(u), nil); err != nil {
			return err
		}
		return UpdateUser(tx, tenantID, u)
	})
	if err != nil {
		return err
	}
	if s.Logger != nil {
		s.Logger.InfoContext(ctx, "MFA reset by an administrator", "tenant", tenantID, "sub", sub)
	}
	return nil
}

// RemoveMFAFactor removes one of a user's factors (a person does, on the
// account page; the audit trail names the user as the actor). Removing the
// last one of the kinds the tenant's policy counts is refused with
// ErrLastFactor while the tenant requires MFA; when no factor at all is left
// the recovery codes go with it, since they stand in for a factor the user
// no longer has.
func (s *Service) RemoveMFAFactor(ctx context.Context, tenantID, sub, factorID string) error {
	now := s.Time()
	return s.Store.Update(ctx, func(tx Tx) error {
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		u, err := GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		st := &u.MFA
		// Only factors of kinds the policy allows are asked for at sign-in:
		// one of another kind left behind would not keep MFA.
		counted := func(ms MFAState) bool { return slices.ContainsFunc(t.Settings.MFA.Factors, ms.Has) }
		hadCounted := counted(*st)
		var removed map[string]string // what the audit trail keeps of the factor
		switch {
		case factorID == TOTPFactorID && st.TOTP != nil:
			removed = map[string]string{"kind": FactorTOTP, "name": st.TOTP.Name}
			st.TOTP = nil
		case strings.HasPrefix(factorID, webAuthnFactorPrefix):
			i := slices.IndexFunc(st.WebAuthn, func(f WebAuthnFactor) bool { return f.FactorID() == factorID })
			if i < 0 {
				return ErrNoFactor
			}
			removed = map[string]string{"kind": FactorWebAuthn, "name": st.WebAuthn[i].Name}
			st.WebAuthn = slices.Delete(st.WebAuthn, i, i+1)
		default:
			return ErrNoFactor
		}
		if t.Settings.MFA.Mode == MFARequired && hadCounted && !counted(*st) {
			return ErrLastFactor
		}
		if !st.HasFactor() {
			st.RecoveryCodes = nil
		}
		if !st.Has(st.Preferred) {
			st.Preferred = ""
		}
		u.UpdatedAt = now
		if removed["name"] == "" {
			delete(removed, "name")
		}
		if err := s.auditSelf(ctx, tx, tenantID, AuditUserMFARemove, u, removed); err != nil {
			return err
		}
		return UpdateUser(tx, tenantID, u)
	})
}

// maxFactorName bounds a factor's name, which lists show.
const maxFactorName = 64

// RenameMFAFactor gives a factor the name a person chose ("YubiKey",
// "Work phone").
func (s *Service) RenameMFAFactor(ctx context.Context, tenantID, sub, factorID, name string) error {
	name, ok := NormalFactorName(name)
	if !ok || name == "" {
		return fmt.Errorf("%w: a factor's name must be 1 to %d characters, without control characters", ErrInvalid, maxFactorName)
	}
	now := s.Time()
	return s.Store.Update(ctx, func(tx Tx) error {
		u, err := GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		switch i := slices.IndexFunc(u.MFA.WebAuthn, func(f WebAuthnFactor) bool { return f.FactorID() == factorID }); {
		case factorID == TOTPFactorID && u.MFA.TOTP != nil:
			u.MFA.TOTP.Name = name
		case i >= 0:
			u.MFA.WebAuthn[i].Name = name
		default:
			return ErrNoFactor
		}
		u.UpdatedAt = now
		return UpdateUser(tx, tenantID, u)
	})
}

// SetPreferredMFA makes kind (FactorTOTP or FactorWebAuthn) the factor a
// sign-in asks for first; the person can still switch there.
func (s *Service) SetPreferredMFA(ctx context.Context, tenantID, sub, kind string) error {
	now := s.Time()
	return s.Store.Update(ctx, func(tx Tx) error {
		u, err := GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		if !u.MFA.Has(kind) {
			return ErrNoFactor
		}
		u.MFA.Preferred, u.UpdatedAt = kind, now
		return UpdateUser(tx, tenantID, u)
	})
}

// NormalFactorName is name as a factor keeps it, without the spaces around
// it, and whether it may name a factor: at most maxFactorName characters,
// none of them a control character. "" may: enrolment (tenant/auth) then
// leaves the factor unnamed; RenameMFAFactor refuses it.
func NormalFactorName(name string) (string, bool) {
	name = strings.TrimSpace(name)
	return name, len([]rune(name)) <= maxFactorName && !strings.ContainsFunc(name, unicode.IsControl)
}
