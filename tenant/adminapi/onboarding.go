package adminapi

import (
	"context"
	"net/http"

	"github.com/cognate-idp/cognate/tenant"
)

// Onboarding and recovery of one user: each is a POST without a body that
// makes one service call. The mails they queue carry the secrets; the
// responses never do. Those that mail answer with a MailedUser, whose
// repeated says that the call was taken for the same one of less than a
// minute before and sent nothing: still a 200, since what was asked for is
// so (a temporary password or code is on its way), but a client must not
// tell its user that a new one was sent.

// activateUser gives the user a temporary password and mails it
// (tenant.Service.ActivateUser); a deactivated CONFIRMED user is only
// enabled again.
func (a *API) activateUser(w http.ResponseWriter, r *http.Request) error {
	return a.userAction(w, r, a.Service.ActivateUser)
}

// resendInvitation is Cognito's AdminCreateUser with MessageAction RESEND.
func (a *API) resendInvitation(w http.ResponseWriter, r *http.Request) error {
	return a.userAction(w, r, a.Service.ResendInvitation)
}

// resetPassword is Cognito's AdminResetUserPassword: RESET_REQUIRED and a
// code by mail.
func (a *API) resetPassword(w http.ResponseWriter, r *http.Request) error {
	return a.userAction(w, r, a.Service.AdminResetPassword)
}

// unlockUser releases the user's sign-in lockout.
func (a *API) unlockUser(w http.ResponseWriter, r *http.Request) error {
	if err := a.Service.Unlock(r.Context(), r.PathValue("slug"), r.PathValue("sub")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) userAction(w http.ResponseWriter, r *http.Request, do func(ctx context.Context, tenantID, sub string) (tenant.User, bool, error)) error {
	u, repeated, err := do(r.Context(), r.PathValue("slug"), r.PathValue("sub"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, MailedUser{User: userOut(u), Repeated: repeated})
}
