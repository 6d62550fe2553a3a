package adminapi

import (
	"net/http"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// A user's second factors, as an operator sees them: what kind, when added
// and last used, and whether a security key is flagged as possibly cloned
// (then it is refused until the MFA is reset). Secrets, public keys and
// recovery code hashes never leave the server.

// MFAStatus is the body of GET /admin/v1/tenants/{slug}/users/{sub}/mfa.
type MFAStatus struct {
	Factors           []MFAFactor `json:"factors"`
	RecoveryCodesLeft int         `json:"recovery_codes_left"`
	// Preferred is the kind asked for first: TOTP, WEBAUTHN or "".
	Preferred string `json:"preferred"`
}

// MFAFactor is one second factor.
type MFAFactor struct {
	ID   string `json:"id"`   // "totp", or "webauthn:" and the credential ID
	Kind string `json:"kind"` // TOTP or WEBAUTHN
	Name string `json:"name"`
	// Passkey and Synced describe a WebAuthn credential: it may sign in
	// alone; a copy of its key may live in a cloud keychain.
	Passkey      bool      `json:"passkey"`
	Synced       bool      `json:"synced"`
	CloneWarning bool      `json:"clone_warning"`
	CreatedAt    time.Time `json:"created_at"`
	LastUsedAt   time.Time `json:"last_used_at,omitzero"`
}

func mfaOut(s tenant.MFAState) MFAStatus {
	out := MFAStatus{Factors: []MFAFactor{}, RecoveryCodesLeft: s.RecoveryCodesLeft(), Preferred: s.Preferred}
	if f := s.TOTP; f != nil {
		out.Factors = append(out.Factors, MFAFactor{ID: tenant.TOTPFactorID, Kind: tenant.FactorTOTP, Name: f.Name,
			CreatedAt: f.CreatedAt, LastUsedAt: f.LastUsedAt})
	}
	for _, f := range s.WebAuthn {
		out.Factors = append(out.Factors, MFAFactor{ID: f.FactorID(), Kind: tenant.FactorWebAuthn, Name: f.Name,
			Passkey: f.Passkey, Synced: f.Synced, CloneWarning: f.CloneWarning, CreatedAt: f.CreatedAt, LastUsedAt: f.LastUsedAt})
	}
	return out
}

func (a *API) getUserMFA(w http.ResponseWriter, r *http.Request) error {
	u, err := a.Service.User(r.Context(), r.PathValue("slug"), r.PathValue("sub"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, mfaOut(u.MFA))
}

// resetUserMFA removes the user's second factors and recovery codes; see
// tenant.Service.ResetMFA.
func (a *API) resetUserMFA(w http.ResponseWriter, r *http.Request) error {
	if err := a.Service.ResetMFA(r.Context(), r.PathValue("slug"), r.PathValue("sub")); err != nil {
		return err
	}
	return noContent(w)
}
