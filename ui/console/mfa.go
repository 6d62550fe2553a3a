package console

import (
	"net/http"

	"github.com/cognate-idp/cognate/tenant"
)

// The parts of the console that depend on a user's second factors.

// mfaText says whether a user has enrolled a second factor.
func (f *frame) mfaText(u tenant.User) string { return "" }

// canResetMFA reports whether the profile offers "Reset MFA" for u.
func (c *Console) canResetMFA(u tenant.User) bool { return false }

func (c *Console) resetMFA(w http.ResponseWriter, r *http.Request, q *request) error {
	return notFound(w, r, q)
}
