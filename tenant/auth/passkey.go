package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/tenant"
)

// WebAuthn: the tenants' relying parties, passwordless sign-in with a
// passkey, and the conversion between the store's WebAuthnFactor and the
// mfa package's Credential.

// RelyingParties makes each tenant's WebAuthn relying party and keeps it.
// The RP ID is the tenant's own host without its port (acme.example.com,
// acme.localhost), never a parent domain, so a credential made at one
// tenant is worthless at another; the one origin allowed is the tenant's
// origin, port included. Set Machine.RelyingParty to For.
type RelyingParties struct {
	// Origin returns a tenant's origin, scheme://host[:port]
	// (provider.Hosts.TenantURL).
	Origin func(slug string) string

	mu    sync.Mutex
	cache map[string]cachedRP // by slug
}

type cachedRP struct {
	name        string // the display name it was made with
	incarnation string // of the tenant it was made for
	rp          *mfa.RelyingParty
}

// For returns t's relying party. One made before t was renamed is made
// again, since browsers show the name when a credential is created, and so
// is one made for a tenant that had t's slug before it (as everything kept
// in memory of a tenant, it is the tenant's incarnation's).
func (r *RelyingParties) For(t tenant.Tenant) (*mfa.RelyingParty, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.cache[t.Slug]; ok && c.name == t.Name && c.incarnation == t.Incarnation {
		return c.rp, nil
	}
	origin := r.Origin(t.Slug)
	u, err := url.Parse(origin)
	if err != nil {
		return nil, fmt.Errorf("origin of tenant %q: %w", t.Slug, err)
	}
	name := t.Name
	if name == "" {
		name = t.Slug
	}
	rp, err := mfa.NewRelyingParty(strings.ToLower(u.Hostname()), name, []string{origin})
	if err != nil {
		return nil, err
	}
	if r.cache == nil {
		r.cache = make(map[string]cachedRP)
	}
	r.cache[t.Slug] = cachedRP{name: t.Name, incarnation: t.Incarnation, rp: rp}
	return rp, nil
}

// Forget drops what is kept of a tenant; wire it to tenant.Service.Changed
// so a deleted tenant leaves nothing behind.
func (r *RelyingParties) Forget(slug string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.cache, slug)
}

// BeginPasskey starts a passwordless sign-in where the tenant allows one:
// the browser offers the person's passkeys for this tenant, and the one
// chosen names the user. Answer it with FinishPasskey.
func (m *Machine) BeginPasskey(ctx context.Context, tenantID string) (Result, error) {
	var res Result
	err := m.Store.Update(ctx, func(tx tenant.Tx) error {
		t, err := tenant.GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		if !t.Settings.MFA.PasskeySignIn() {
			return ErrPasskeyNotAllowed
		}
		f := flow{Challenge: WebAuthn, MFA: mfaFlow{Passkey: true}}
		c, err := m.prepare(t, tenant.User{}, &f)
		if err != nil {
			return err
		}
		session, err := m.putNewFlow(tx, tenantID, &f)
		res = Result{Challenge: WebAuthn, Session: session, MFA: c}
		return err
	})
	return res, err
}

// FinishPasskey verifies the browser's answer to BeginPasskey and signs the
// passkey's user in. User verification was required, so possession of the
// key and the person's PIN or biometric make two factors: amr is
// ["hwk" or "swk", "user", "mfa"]. The flow is spent whatever the outcome;
// after a refusal the person starts again.
func (m *Machine) FinishPasskey(ctx context.Context, tenantID, session string, response []byte, clientIP string) (Result, error) {
	now := m.now()
	f, t, err := m.spendPasskeyFlow(ctx, tenantID, session, now)
	if err != nil {
		return Result{}, err
	}
	user, updated, err := m.verifyPasskey(ctx, tenantID, t, f, response, clientIP, now)
	if err != nil {
		return Result{}, err
	}
	cr := userCredentials(user, clientIP)
	if err := m.passkeyUserMaySignIn(ctx, tenantID, cr, user); err != nil {
		return Result{}, err
	}
	if updated.CloneWarning {
		return m.refuseClone(ctx, tenantID, "", t, cr, user, updated)
	}
	return m.commitPasskeySignIn(ctx, tenantID, t, cr, user, updated, now)
}

// spendPasskeyFlow deletes the flow of session, whatever comes of the
// answer, and returns it with its tenant once it is a live passkey sign-in
// that the tenant still allows.
func (m *Machine) spendPasskeyFlow(ctx context.Context, tenantID, session string, now time.Time) (flow, tenant.Tenant, error) {
	var (
		f flow
		t tenant.Tenant
	)
	err := m.Store.Update(ctx, func(tx tenant.Tx) error {
		var err error
		if f, t, err = readFlow(tx, tenantID, session); err != nil {
			return err
		}
		return tx.Delete(tenant.CollAuthFlows, tenantID, tenant.HashSecret(session))
	})
	if err := checkLive(f, err, now); err != nil {
		return flow{}, tenant.Tenant{}, err
	}
	if !f.MFA.Passkey || f.MFA.Ceremony == nil {
		return flow{}, tenant.Tenant{}, fmt.Errorf("%w: not a passkey sign-in", ErrWrongChallenge)
	}
	// Checked again, not only at BeginPasskey: an administrator who turns
	// passkey sign-in off means the sign-ins already begun too.
	if !t.Settings.MFA.PasskeySignIn() {
		return flow{}, tenant.Tenant{}, ErrPasskeyNotAllowed
	}
	return f, t, nil
}

// verifyPasskey verifies response, the browser's assertion, against the
// ceremony of f at t's relying party, and returns the user the passkey
// names, as read before the verification, and the credential as the
// assertion left it. An assertion the verification refuses is logged and
// recorded here, and returned wrapped in ErrFactorRefused.
func (m *Machine) verifyPasskey(ctx context.Context, tenantID string, t tenant.Tenant, f flow, response []byte, clientIP string, now time.Time) (tenant.User, mfa.Credential, error) {
	if len(response) == 0 || len(response) > maxCredentialJSON {
		return tenant.User{}, mfa.Credential{}, fmt.Errorf("%w: response of %d bytes", ErrFactorRefused, len(response))
	}
	rp, err := m.relyingParty(t)
	if err != nil {
		return tenant.User{}, mfa.Credential{}, err
	}
	var user tenant.User
	lookup := func(credentialID, handle []byte) (mfa.User, error) {
		var err error
		if user, err = m.passkeyOwner(ctx, tenantID, credentialID, handle); err != nil {
			return mfa.User{}, err
		}
		return webAuthnUser(user, rp.ID(), nil)
	}
	_, updated, err := rp.FinishPasskeyLogin(*f.MFA.Ceremony, response, lookup, now)
	if errors.Is(err, mfa.ErrWebAuthnFailed) || errors.Is(err, mfa.ErrUnknownCredential) || errors.Is(err, mfa.ErrCeremonyExpired) {
		m.logger().InfoContext(ctx, "passkey sign-in refused", "tenant", tenantID, "client_ip", clientIP, "err", err)
		m.recordOutcome(ctx, tenantID, tenant.AuditSignInFailure, Credentials{ClientIP: clientIP}, nil, tenant.ReasonChallengeFailed, nil)
		return tenant.User{}, mfa.Credential{}, fmt.Errorf("%w: %w", ErrFactorRefused, err)
	}
	if err != nil {
		return tenant.User{}, mfa.Credential{}, err
	}
	return user, updated, nil
}

// passkeyOwner is the user a passkey's assertion names by its user handle,
// provided the credential is registered to them; otherwise the passkey is
// unknown here (mfa.ErrUnknownCredential).
func (m *Machine) passkeyOwner(ctx context.Context, tenantID string, credentialID, handle []byte) (tenant.User, error) {
	var (
		user  tenant.User
		owner string
	)
	err := m.Store.View(ctx, func(tx tenant.Tx) (err error) {
		if user, err = tenant.UserByWebAuthnHandle(tx, tenantID, handle); err != nil {
			return err
		}
		owner, err = tenant.WebAuthnCredentialOwner(tx, tenantID, credentialID)
		return err
	})
	if errors.Is(err, tenant.ErrNotFound) {
		// Another tenant's passkey, or one whose user was reset or deleted.
		return tenant.User{}, fmt.Errorf("%w: no user here has this handle or credential", mfa.ErrUnknownCredential)
	}
	if err != nil {
		return tenant.User{}, err
	}
	if owner != user.Sub {
		// The handle and the credential ID name two users: a copy that
		// an older version let another user register (see
		// tenant.IndexWebAuthnCredentials). The index decides.
		return tenant.User{}, fmt.Errorf("%w: the credential is registered to another user than the handle's", mfa.ErrUnknownCredential)
	}
	return user, nil
}

// passkeyUserMaySignIn refuses, and records, the sign-in of user, whom a
// passkey named, when their account may not sign in or sign-in is locked
// for them.
func (m *Machine) passkeyUserMaySignIn(ctx context.Context, tenantID string, cr Credentials, user tenant.User) error {
	if !user.Enabled || user.Status != tenant.StatusConfirmed {
		// Disabled, or owing a password change or reset, which a passkey
		// does not settle: the same refusal as a wrong password.
		m.logger().InfoContext(ctx, "passkey sign-in refused: the account may not sign in", "tenant", tenantID, "sub", user.Sub)
		reason := tenant.ReasonDisabled
		if user.Enabled {
			reason = tenant.ReasonChallengeFailed
		}
		m.recordOutcome(ctx, tenantID, tenant.AuditSignInFailure, cr, &user, reason, map[string]string{"status": string(user.Status)})
		return ErrNotAuthorized
	}
	return m.refuseIfLocked(ctx, tenantID, cr, user)
}

// commitPasskeySignIn signs user in with the passkey whose assertion left
// it updated, in one transaction that stores the credential's new state
// (storeCredential) and the sign-in (commitSignIn).
func (m *Machine) commitPasskeySignIn(ctx context.Context, tenantID string, t tenant.Tenant, cr Credentials, user tenant.User, updated mfa.Credential, now time.Time) (Result, error) {
	amr := append(keyAMR(updated, true), "mfa")
	sso := m.newSession()
	voided := false
	err := m.Store.Update(ctx, func(tx tenant.Tx) error {
		u, gone, err := rereadSigningIn(tx, tenantID, user.Sub)
		if voided = gone; gone || err != nil {
			return err
		}
		// Checked on the user the passkey named, read before the
		// ceremony was verified: they must still stand so now.
		voided, err = m.commitSignIn(tx, tenantID, cr, &u, standing(user), amr, sso, now, func(u *tenant.User) error {
			if err := storeCredential(u, updated); err != nil {
				return err
			}
			u.UpdatedAt = now
			return nil
		})
		return err
	})
	if errors.Is(err, errCloneMeanwhile) {
		return m.refuseClone(ctx, tenantID, "", t, cr, user, updated)
	}
	if err != nil {
		return Result{}, err
	}
	if voided {
		return Result{}, m.voided(ctx, tenantID, user.Sub, WebAuthn)
	}
	return Result{Sub: user.Sub, Username: user.Username, AMR: amr, AuthTime: now, SSOSession: sso}, nil
}

// webAuthnUser is what the ceremonies need of user at the relying party
// rpID: credentials registered under another host are left out. handle is
// used when the user has none yet (the first registration).
func webAuthnUser(user tenant.User, rpID string, handle []byte) (mfa.User, error) {
	wu := mfa.User{Handle: user.MFA.Handle, Name: user.Username, DisplayName: displayName(user)}
	if len(wu.Handle) == 0 {
		wu.Handle = handle
	}
	for _, f := range user.MFA.WebAuthn {
		if f.RPID != rpID {
			continue
		}
		c, err := decodeCredential(f)
		if err != nil {
			return mfa.User{}, err
		}
		wu.Credentials = append(wu.Credentials, c)
	}
	return wu, nil
}

// displayName is the person's name as the browser shows it beside the
// account when offering a passkey.
func displayName(u tenant.User) string {
	if n := strings.TrimSpace(u.Attributes["name"]); n != "" {
		return n
	}
	if n := strings.TrimSpace(u.Attributes["given_name"] + " " + u.Attributes["family_name"]); n != "" {
		return n
	}
	if u.Email != "" {
		return u.Email
	}
	return u.Username
}

func decodeCredential(f tenant.WebAuthnFactor) (mfa.Credential, error) {
	var c mfa.Credential
	if err := json.Unmarshal(f.Credential, &c); err != nil {
		return mfa.Credential{}, fmt.Errorf("webauthn credential %s: %w", f.FactorID(), err)
	}
	c.Name = f.Name // renamed through the Service, which only sees the factor
	return c, nil
}

// newWebAuthnFactor makes the stored factor of a newly registered
// credential.
func newWebAuthnFactor(c mfa.Credential, rpID, name string, passkey bool) (tenant.WebAuthnFactor, error) {
	c.Name = name
	raw, err := json.Marshal(c)
	if err != nil {
		return tenant.WebAuthnFactor{}, fmt.Errorf("encode webauthn credential: %w", err)
	}
	return tenant.WebAuthnFactor{ID: c.ID, RPID: rpID, Name: name, Passkey: passkey, Synced: c.BackupEligible,
		CloneWarning: c.CloneWarning, CreatedAt: c.CreatedAt, LastUsedAt: c.LastUsedAt, Credential: raw}, nil
}

// errCloneMeanwhile: the credential's stored record moved on since the
// assertion was verified against an earlier read of it (see storeCredential).
var errCloneMeanwhile = errors.New("the credential's sign count or clone warning changed meanwhile")

// storeCredential writes back what a sign-in changed of a credential (sign
// count, clone warning, flags and backup state, last use).
//
// c was verified against the user as read before this transaction, so a
// sign-in that committed since may have stored a higher count, or a clone
// warning. Written over that, two assertions with the same count would both
// pass (the clone check defeated) and the warning would be lost; so unless c
// carries the warning itself, the library's counter rule is applied again to
// the record as it is now, and errCloneMeanwhile returned if it fails. The
// caller then refuses the sign-in as a clone (c with CloneWarning set).
func storeCredential(u *tenant.User, c mfa.Credential) error {
	i := slices.IndexFunc(u.MFA.WebAuthn, func(f tenant.WebAuthnFactor) bool { return bytes.Equal(f.ID, c.ID) })
	if i < 0 {
		return fmt.Errorf("%w: the credential was removed meanwhile", ErrSessionExpired)
	}
	f := &u.MFA.WebAuthn[i]
	current, err := decodeCredential(*f)
	if err != nil {
		return err
	}
	if !c.CloneWarning {
		counts := c.SignCount != 0 || current.SignCount != 0
		if current.CloneWarning || (counts && c.SignCount <= current.SignCount) {
			return errCloneMeanwhile
		}
	}
	// A warning's record keeps the highest count seen, so a later sign-in
	// with a stale count still fails the check above.
	c.SignCount = max(c.SignCount, current.SignCount)
	c.Name = f.Name
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode webauthn credential: %w", err)
	}
	f.Credential, f.CloneWarning, f.Synced, f.LastUsedAt = raw, c.CloneWarning, c.BackupEligible, c.LastUsedAt
	return nil
}
