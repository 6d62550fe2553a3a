package console

import (
	"net/http"
	"strings"

	"github.com/cognate-idp/cognate/tenant"
)

// A user's second factors as the console shows them, and the
// administrator's reset (tenant.Service.ResetMFA).

// mfaText says which second factors a user has enrolled, or that there is
// none.
func (f *frame) mfaText(u tenant.User) string {
	if !u.MFA.HasFactor() {
		return f.T("mfa.none")
	}
	var kinds []string
	if u.MFA.Has(tenant.FactorTOTP) {
		kinds = append(kinds, f.T("mfa.totp"))
	}
	if u.MFA.Has(tenant.FactorWebAuthn) {
		kinds = append(kinds, f.T("mfa.webauthn"))
	}
	return f.Tf("mfa.enrolled", strings.Join(kinds, ", "))
}

// canResetMFA reports whether the profile offers "Reset MFA": when the
// user has a factor to remove.
func (c *Console) canResetMFA(u tenant.User) bool { return u.MFA.HasFactor() }

func (c *Console) resetMFA(w http.ResponseWriter, r *http.Request, q *request) error {
	return c.act(w, r, q, func(sub string) (string, error) {
		return "mfaReset", c.Service.ResetMFA(r.Context(), q.slug(), sub)
	})
}
