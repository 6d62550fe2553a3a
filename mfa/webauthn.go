package mfa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// ceremonyTimeout is how long a person has between Begin and Finish. It is
// sent to the browser and enforced here (Enforce: without it the library
// never sets SessionData.Expires and a ceremony would never expire).
const ceremonyTimeout = 5 * time.Minute

// Errors returned by the WebAuthn ceremonies.
var (
	// ErrCeremonyExpired means Finish came after the ceremony's deadline;
	// the person starts again.
	ErrCeremonyExpired = errors.New("mfa: webauthn ceremony expired")
	// ErrWebAuthnFailed means the response was refused: malformed, for
	// another origin, RP ID or challenge, a bad signature, a missing user
	// verification, a ceremony of another kind. The library's error is
	// wrapped for the log.
	ErrWebAuthnFailed = errors.New("mfa: webauthn response refused")
	// ErrUnknownCredential means the response names a credential that the
	// user does not have (removed, or another user's), or a passkey whose
	// user handle no user has.
	ErrUnknownCredential = errors.New("mfa: unknown webauthn credential")
)

// RelyingParty is one tenant's WebAuthn relying party. Build it once per
// tenant and keep it; it holds no per-request state and is safe for
// concurrent use.
type RelyingParty struct {
	wa *webauthn.WebAuthn
}

// NewRelyingParty builds the relying party for one tenant host.
//
// rpID is the tenant's own host (acme.example.com, acme.localhost), never a
// parent domain: a credential is valid for its RP ID and every host below
// it, so an RP ID of example.com would let one tenant's pages use another
// tenant's passkeys. To hold that line each origin must be on exactly the
// rpID host (any port), over https, or over http for localhost names, which
// browsers treat as secure.
func NewRelyingParty(rpID, displayName string, origins []string) (*RelyingParty, error) {
	if displayName == "" {
		// The library only notices at the first registration.
		return nil, errors.New("mfa: relying party needs a display name")
	}
	if len(origins) == 0 {
		return nil, errors.New("mfa: relying party needs at least one origin")
	}
	for _, o := range origins {
		if err := checkOrigin(rpID, o); err != nil {
			return nil, err
		}
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          rpID,
		RPDisplayName: displayName,
		RPOrigins:     slices.Clone(origins),
		// Attestation would only tell us the authenticator model, which we
		// do not act on, and asking for it makes browsers show a prompt.
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementPreferred,
			RequireResidentKey: protocol.ResidentKeyNotRequired(),
			UserVerification:   protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTimeout, TimeoutUVD: ceremonyTimeout},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTimeout, TimeoutUVD: ceremonyTimeout},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("mfa: relying party %q: %w", rpID, err)
	}
	return &RelyingParty{wa: wa}, nil
}

// checkOrigin enforces NewRelyingParty's rule for one origin.
func checkOrigin(rpID, origin string) error {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("mfa: origin %q is not scheme://host[:port]", origin)
	}
	host := strings.ToLower(u.Hostname())
	if host != strings.ToLower(rpID) {
		return fmt.Errorf("mfa: origin %q is not on the relying party host %q", origin, rpID)
	}
	localhost := host == "localhost" || strings.HasSuffix(host, ".localhost")
	if u.Scheme != "https" && !(u.Scheme == "http" && localhost) {
		return fmt.Errorf("mfa: origin %q must use https (http only for localhost)", origin)
	}
	return nil
}

// ID returns the relying party ID, the tenant host.
func (rp *RelyingParty) ID() string { return rp.wa.Config.RPID }

// User is what WebAuthn needs of a person. It implements webauthn.User.
type User struct {
	// Handle is the WebAuthn user handle: random (NewUserHandle), stable for
	// the user within the tenant, unrelated to the username, email or sub.
	// Passkey login finds the user by it, so the store indexes it.
	Handle []byte
	// Name is what the browser shows to pick an account (username or email).
	Name string
	// DisplayName is the person's name, for the same purpose.
	DisplayName string
	// Credentials are all of the user's WebAuthn credentials at this tenant.
	Credentials []Credential
}

var _ webauthn.User = User{}

// handleSize is the user handle length: the WebAuthn maximum is 64 bytes,
// and 32 random bytes cannot collide.
const handleSize = 32

// NewUserHandle returns a new random user handle, read from rand.
func NewUserHandle(rand io.Reader) ([]byte, error) {
	h := make([]byte, handleSize)
	if _, err := io.ReadFull(rand, h); err != nil {
		return nil, fmt.Errorf("mfa: user handle: %w", err)
	}
	return h, nil
}

// WebAuthnID implements webauthn.User.
func (u User) WebAuthnID() []byte { return u.Handle }

// WebAuthnName implements webauthn.User.
func (u User) WebAuthnName() string { return u.Name }

// WebAuthnDisplayName implements webauthn.User.
func (u User) WebAuthnDisplayName() string { return u.DisplayName }

// WebAuthnCredentials implements webauthn.User.
func (u User) WebAuthnCredentials() []webauthn.Credential {
	creds := make([]webauthn.Credential, len(u.Credentials))
	for i, c := range u.Credentials {
		creds[i] = c.ToWebAuthn()
	}
	return creds
}

// credential returns the user's credential with the given ID.
func (u User) credential(id []byte) (Credential, bool) {
	for _, c := range u.Credentials {
		if bytes.Equal(c.ID, id) {
			return c, true
		}
	}
	return Credential{}, false
}

// Credential is a registered WebAuthn credential as Cognate stores it. It
// converts to and from webauthn.Credential without loss (ToWebAuthn,
// FromWebAuthn), and encodes as plain JSON.
//
// FlagsByte is the authoritative record of the flags. It exists because
// webauthn.CredentialFlags keeps the raw flags byte in an unexported field
// that JSON drops; a credential restored from its booleans alone has a raw
// value of 0. BackupEligible and BackupState are copies of two of its bits,
// kept for display and queries ("synced passkey"); ToWebAuthn ignores them.
type Credential struct {
	ID                []byte   `json:"id"`
	PublicKey         []byte   `json:"public_key"` // COSE_Key
	AttestationType   string   `json:"attestation_type,omitempty"`
	AttestationFormat string   `json:"attestation_format,omitempty"`
	Transports        []string `json:"transports,omitempty"`
	FlagsByte         byte     `json:"flags"`
	AAGUID            []byte   `json:"aaguid,omitempty"`
	SignCount         uint32   `json:"sign_count"`
	// CloneWarning is set, and stays set, once an assertion came with a
	// signature counter that did not advance: the private key may exist
	// twice. See FinishLogin for what to do about it.
	CloneWarning   bool   `json:"clone_warning,omitempty"`
	Attachment     string `json:"attachment,omitempty"` // "platform" or "cross-platform"
	BackupEligible bool   `json:"backup_eligible"`
	BackupState    bool   `json:"backup_state"`

	// Attestation is the raw registration data, kept so the credential can
	// be re-verified against FIDO metadata later; Extensions are the
	// durable extension results (credProps rk: is it a passkey).
	Attestation webauthn.CredentialAttestation `json:"attestation"`
	Extensions  webauthn.CredentialExtensions  `json:"extensions"`

	// Name is the label the person gave it ("YubiKey", "Laptop").
	Name       string    `json:"name,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// FromWebAuthn converts a library credential to a Credential. Name,
// CreatedAt and LastUsedAt, which the library does not know, are left zero.
func FromWebAuthn(wc webauthn.Credential) Credential {
	var transports []string
	if wc.Transport != nil {
		transports = make([]string, len(wc.Transport))
		for i, t := range wc.Transport {
			transports[i] = string(t)
		}
	}
	return Credential{
		ID:                wc.ID,
		PublicKey:         wc.PublicKey,
		AttestationType:   wc.AttestationType,
		AttestationFormat: wc.AttestationFormat,
		Transports:        transports,
		FlagsByte:         byte(wc.Flags.ProtocolValue()),
		AAGUID:            wc.Authenticator.AAGUID,
		SignCount:         wc.Authenticator.SignCount,
		CloneWarning:      wc.Authenticator.CloneWarning,
		Attachment:        string(wc.Authenticator.Attachment),
		BackupEligible:    wc.Flags.BackupEligible,
		BackupState:       wc.Flags.BackupState,
		Attestation:       wc.Attestation,
		Extensions:        wc.Extensions,
	}
}

// ToWebAuthn converts the Credential to the library's type.
func (c Credential) ToWebAuthn() webauthn.Credential {
	var transports []protocol.AuthenticatorTransport
	if c.Transports != nil {
		transports = make([]protocol.AuthenticatorTransport, len(c.Transports))
		for i, t := range c.Transports {
			transports[i] = protocol.AuthenticatorTransport(t)
		}
	}
	return webauthn.Credential{
		ID:                c.ID,
		PublicKey:         c.PublicKey,
		AttestationType:   c.AttestationType,
		AttestationFormat: c.AttestationFormat,
		Transport:         transports,
		Flags:             webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(c.FlagsByte)),
		Authenticator: webauthn.Authenticator{
			AAGUID:       c.AAGUID,
			SignCount:    c.SignCount,
			CloneWarning: c.CloneWarning,
			Attachment:   protocol.AuthenticatorAttachment(c.Attachment),
		},
		Attestation: c.Attestation,
		Extensions:  c.Extensions,
	}
}

// Ceremony is the server's half of a WebAuthn ceremony, made by a Begin
// method and consumed by the matching Finish. The caller stores it
// server-side (it encodes as JSON), bound to the login or account session
// and the tenant, and deletes it when Finish is called, whatever the
// outcome: the library does not enforce single use. Never accept it from
// the client.
//
// Session.Expires is the deadline; a store may use it to sweep abandoned
// ceremonies.
type Ceremony struct {
	Kind    string               `json:"kind"`
	Session webauthn.SessionData `json:"session"`
}

// Ceremony kinds. A ceremony is only accepted by the Finish of its own
// kind, so a second-factor login ceremony cannot complete a passkey login.
const (
	kindRegistration = "registration"
	kindLogin        = "login"
	kindPasskeyLogin = "passkey_login"
)

// BeginRegistration starts adding a second factor for user: a security
// key or passkey proven after the password, so a discoverable credential is
// preferred but not required. It returns the
// PublicKeyCredentialCreationOptions as JSON, for the page's
// PublicKeyCredential.parseCreationOptionsFromJSON (or the Cognito API's
// CredentialCreationOptions), and the Ceremony to keep. The user's existing
// credentials are excluded, so the same authenticator is not registered
// twice.
func (rp *RelyingParty) BeginRegistration(user User) (options json.RawMessage, ceremony Ceremony, err error) {
	return rp.beginRegistration(user)
}

// BeginPasskeyRegistration starts adding a passkey for user, as
// BeginRegistration does a second factor, where passkeys may sign in
// alone: the credential must be stored on the authenticator (discoverable,
// so it can sign in without a username) and protected by user
// verification (so it can stand alone).
func (rp *RelyingParty) BeginPasskeyRegistration(user User) (options json.RawMessage, ceremony Ceremony, err error) {
	return rp.beginRegistration(user, webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
		ResidentKey:        protocol.ResidentKeyRequirementRequired,
		RequireResidentKey: protocol.ResidentKeyRequired(),
		UserVerification:   protocol.VerificationRequired,
	}))
}

// beginRegistration starts a registration ceremony with the options every
// registration has and those given.
func (rp *RelyingParty) beginRegistration(user User, more ...webauthn.RegistrationOption) (json.RawMessage, Ceremony, error) {
	exclude := webauthn.Credentials(user.WebAuthnCredentials()).CredentialDescriptors()
	opts := append([]webauthn.RegistrationOption{
		webauthn.WithExclusions(exclude),
		// credProps tells us whether the authenticator made the credential
		// discoverable, which "preferred" leaves open.
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()),
	}, more...)
	creation, session, err := rp.wa.BeginRegistration(user, opts...)
	if err != nil {
		return nil, Ceremony{}, fmt.Errorf("mfa: begin registration: %w", err)
	}
	return marshalCeremony(creation.Response, kindRegistration, session)
}

// FinishRegistration verifies the browser's response to BeginRegistration
// (the PublicKeyCredential as JSON, e.g. from toJSON()) and returns the new
// credential, with CreatedAt set to now. The caller sets Name and stores it;
// credential IDs are unique per relying party, so the store must refuse an
// ID it holds already, for any user (WebAuthn §7.1), in the transaction
// that stores it.
func (rp *RelyingParty) FinishRegistration(user User, ceremony Ceremony, responseJSON []byte, now time.Time) (Credential, error) {
	if err := rp.checkCeremony(ceremony, kindRegistration, now); err != nil {
		return Credential{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(responseJSON)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %w", ErrWebAuthnFailed, err)
	}
	wc, err := rp.wa.CreateCredential(user, ceremony.Session, parsed)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %w", ErrWebAuthnFailed, err)
	}
	cred := FromWebAuthn(*wc)
	cred.CreatedAt = now
	return cred, nil
}

// BeginLogin starts a second-factor login for a user who already gave a
// password: the browser may use any of the user's credentials. User
// verification is preferred, not required, since the password is the first
// factor; FinishLogin reports whether it happened (for amr).
func (rp *RelyingParty) BeginLogin(user User) (options json.RawMessage, ceremony Ceremony, err error) {
	assertion, session, err := rp.wa.BeginLogin(user, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		// The library refuses a user without credentials.
		return nil, Ceremony{}, fmt.Errorf("mfa: begin login: %w", err)
	}
	return marshalCeremony(assertion.Response, kindLogin, session)
}

// FinishLogin verifies the browser's response to BeginLogin. It returns
// the credential used, updated to store back (SignCount, CloneWarning,
// flags including BackupState, LastUsedAt = now), and whether this
// ceremony verified the user (PIN or biometric), read from this response's
// authenticator data, not from the credential's latched flag.
//
// Clone warning: when a credential that counts signatures presents a count
// that did not advance, the library still accepts the signature and only
// sets CloneWarning. Either a copy of the key is in use, or a ceremony was
// replayed because the caller did not delete it. Cognate's policy, for the
// caller to apply: store the returned credential (so the warning is kept),
// then refuse the login if CloneWarning is set, and leave the credential
// unusable until an administrator resets the user's MFA. Synced passkeys
// always count 0, which never warns.
func (rp *RelyingParty) FinishLogin(user User, ceremony Ceremony, responseJSON []byte, now time.Time) (updated Credential, userVerified bool, err error) {
	if err := rp.checkCeremony(ceremony, kindLogin, now); err != nil {
		return Credential{}, false, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(responseJSON)
	if err != nil {
		return Credential{}, false, fmt.Errorf("%w: %w", ErrWebAuthnFailed, err)
	}
	stored, ok := user.credential(parsed.RawID)
	if !ok {
		return Credential{}, false, ErrUnknownCredential
	}
	wc, err := rp.wa.ValidateLogin(user, ceremony.Session, parsed)
	if err != nil {
		return Credential{}, false, fmt.Errorf("%w: %w", ErrWebAuthnFailed, err)
	}
	return updatedCredential(stored, *wc, now), parsed.Response.AuthenticatorData.Flags.HasUserVerified(), nil
}

// BeginPasskeyLogin starts a login without a username: the browser offers
// the tenant's discoverable credentials, and user verification is required
// because the passkey is the only factor.
func (rp *RelyingParty) BeginPasskeyLogin() (options json.RawMessage, ceremony Ceremony, err error) {
	assertion, session, err := rp.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, Ceremony{}, fmt.Errorf("mfa: begin passkey login: %w", err)
	}
	return marshalCeremony(assertion.Response, kindPasskeyLogin, session)
}

// FinishPasskeyLogin verifies the browser's response to BeginPasskeyLogin.
// lookup finds the user by the user handle the authenticator returned (in
// this tenant only), given the credential ID too, so that it can check the
// credential is registered to that user and to no one else; it should
// return an error wrapping ErrUnknownCredential when no user has the handle
// or the credential, and any other error is passed through wrapped. It returns the user and the used credential, updated to store
// back as for FinishLogin, whose clone-warning policy applies here too. User
// verification was required, so a success is a verified user.
func (rp *RelyingParty) FinishPasskeyLogin(ceremony Ceremony, responseJSON []byte, lookup func(credentialID, userHandle []byte) (User, error), now time.Time) (User, Credential, error) {
	if err := rp.checkCeremony(ceremony, kindPasskeyLogin, now); err != nil {
		return User{}, Credential{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(responseJSON)
	if err != nil {
		return User{}, Credential{}, fmt.Errorf("%w: %w", ErrWebAuthnFailed, err)
	}
	handle := parsed.Response.UserHandle
	if len(handle) == 0 {
		return User{}, Credential{}, fmt.Errorf("%w: response carries no user handle", ErrWebAuthnFailed)
	}
	// The user is looked up here rather than in the library's handler so
	// that lookup's own errors reach the caller unchanged.
	user, err := lookup(parsed.RawID, handle)
	if err != nil {
		return User{}, Credential{}, fmt.Errorf("mfa: passkey user lookup: %w", err)
	}
	stored, ok := user.credential(parsed.RawID)
	if !ok {
		return User{}, Credential{}, ErrUnknownCredential
	}
	byHandle := func([]byte, []byte) (webauthn.User, error) { return user, nil }
	_, wc, err := rp.wa.ValidatePasskeyLogin(byHandle, ceremony.Session, parsed)
	if err != nil {
		return User{}, Credential{}, fmt.Errorf("%w: %w", ErrWebAuthnFailed, err)
	}
	return user, updatedCredential(stored, *wc, now), nil
}

// checkCeremony refuses a ceremony of another kind, from another tenant's
// relying party, or past its deadline. The deadline is checked against now
// so that callers and tests control the clock; the library checks it again
// against the wall clock.
func (rp *RelyingParty) checkCeremony(c Ceremony, kind string, now time.Time) error {
	if c.Kind != kind {
		return fmt.Errorf("%w: ceremony is %q, not %q", ErrWebAuthnFailed, c.Kind, kind)
	}
	if c.Session.RelyingPartyID != rp.ID() {
		return fmt.Errorf("%w: ceremony belongs to relying party %q", ErrWebAuthnFailed, c.Session.RelyingPartyID)
	}
	if !c.Session.Expires.IsZero() && !now.Before(c.Session.Expires) {
		return ErrCeremonyExpired
	}
	return nil
}

// updatedCredential carries what the library updated (counter, clone
// warning, flags) onto the stored record, keeping what it does not know.
func updatedCredential(stored Credential, wc webauthn.Credential, now time.Time) Credential {
	updated := FromWebAuthn(wc)
	updated.Name = stored.Name
	updated.CreatedAt = stored.CreatedAt
	updated.LastUsedAt = now
	return updated
}

func marshalCeremony(options any, kind string, session *webauthn.SessionData) (json.RawMessage, Ceremony, error) {
	data, err := json.Marshal(options)
	if err != nil {
		return nil, Ceremony{}, fmt.Errorf("mfa: encode webauthn options: %w", err)
	}
	return data, Ceremony{Kind: kind, Session: *session}, nil
}
