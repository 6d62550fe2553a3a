package adminapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/password"
)

// apiError is an error whose response is already decided: it comes from this
// package (a malformed body, a missing token), not from the domain.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

var errUnauthorized = &apiError{
	status: http.StatusUnauthorized, code: "unauthorized",
	message: "a valid operator token is required: send Authorization: Bearer <token>",
}

// badRequest is a request this package could not parse.
func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, code: "invalid_request", message: fmt.Sprintf(format, args...)}
}

// writeError is the one place where an error becomes a response, and
// where it is logged, once. The domain's validation messages are written
// for people and shown as they are; for anything unexpected the client
// reads a generic sentence and the log gets the detail. A refusal's line
// says what the client was told, which names fields and rules, never the
// values sent: the body may hold a password, and the Authorization header
// a real token with a typo.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := classify(r, err)
	switch {
	case status == http.StatusInternalServerError && r.Context().Err() != nil:
		// The client went away; there is nobody to answer and nothing
		// went wrong on this side.
		a.logger().DebugContext(r.Context(), "admin API request abandoned", "method", r.Method, "path", r.URL.Path)
		return
	case status == http.StatusInternalServerError:
		a.logger().ErrorContext(r.Context(), "admin API request failed",
			"method", r.Method, "path", r.URL.Path, "remote", a.clientIP(r), "err", err)
	default:
		a.logger().WarnContext(r.Context(), "admin API request refused",
			"method", r.Method, "path", r.URL.Path, "remote", a.clientIP(r),
			"status", status, "error", body.Code, "description", body.Message)
	}
	if err := writeJSON(w, status, body); err != nil {
		a.logger().ErrorContext(r.Context(), "admin API error response failed", "err", err)
	}
}

// classify maps an error to its status and body.
func classify(r *http.Request, err error) (int, Error) {
	var ae *apiError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae.status, Error{ae.code, ae.message}
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, Error{"request_too_large",
			fmt.Sprintf("the request body is larger than the limit of %d bytes", tooLarge.Limit)}
	case errors.Is(err, tenant.ErrNotFound):
		return http.StatusNotFound, Error{"not_found", notFoundMessage(r)}
	case errors.Is(err, tenant.ErrAlreadyExists):
		return http.StatusConflict, Error{"already_exists", conflictMessage(r)}
	case errors.Is(err, tenant.ErrTenantNameTaken):
		// The service's text names the tenant that has the name: the
		// operator may see every tenant.
		return http.StatusConflict, Error{"already_exists", err.Error()}
	case errors.Is(err, tenant.ErrSignInNameTaken):
		// Taken by another user as the other kind of sign-in name; the
		// rule's text names the value sent, never that user.
		msg := err.Error()
		if inv := (*tenant.InvalidError)(nil); errors.As(err, &inv) {
			msg = inv.Reason()
		}
		return http.StatusConflict, Error{"already_exists", msg}
	case errors.Is(err, tenant.ErrGroupNameMoving):
		// The name asked for (a new group's, or a rename's): its members
		// are still moving out of it to the group renamed, or out of the
		// group deleted. Said as conflictMessage says a name taken.
		return http.StatusConflict, Error{"conflict", fmt.Sprintf(
			"tenant %q had a group of that name until a moment ago, and its members are still being moved out of it; try again in a moment",
			r.PathValue("slug"))}
	case errors.Is(err, tenant.ErrGroupMoving):
		// Renaming or deleting the group of the path while the members of
		// its last rename still move to it.
		return http.StatusConflict, Error{"conflict", fmt.Sprintf(
			"the members of group %q of tenant %q are still being moved to it after its last rename; try again in a moment",
			r.PathValue("name"), r.PathValue("slug"))}
	case errors.Is(err, tenant.ErrConflict):
		return http.StatusConflict, Error{"conflict", "the record was changed at the same time; try again"}
	case errors.Is(err, tenant.ErrAdminGroup):
		// The service's sentence speaks of choosing another admin group;
		// this one says where an operator does that.
		return http.StatusBadRequest, Error{"invalid_request", fmt.Sprintf(
			"group %q is the admin group of tenant %q and cannot be deleted; first make another group the admin group (settings.admin_group of the tenant)",
			r.PathValue("name"), r.PathValue("slug"))}
	case errors.Is(err, tenant.ErrInvalid), errors.Is(err, tenant.ErrSlugInvalid),
		errors.Is(err, tenant.ErrSlugReserved), errors.Is(err, password.ErrPolicy):
		return http.StatusBadRequest, Error{"invalid_request", err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		if r.Context().Err() == nil {
			// Our own deadline (say, a hashing slot that never came free),
			// not the client's: the server is overloaded.
			return http.StatusServiceUnavailable, Error{"unavailable", "the server is busy; try again shortly"}
		}
	}
	return http.StatusInternalServerError, Error{"internal_error", "the server failed to handle the request; the details are in its log"}
}

// notFound is a 404 whose message the handler chose, where the path alone
// does not say what is missing.
func notFound(message string) error {
	return &apiError{status: http.StatusNotFound, code: "not_found", message: message}
}

// notFoundMessage names what was missing from the path the client asked for.
// A missing tenant reads correctly in every case: a tenant that does not
// exist has no such user, client or group either. On a membership path,
// which names a group and a user, the handler says which is missing.
func notFoundMessage(r *http.Request) string {
	slug, client, sub, group := r.PathValue("slug"), r.PathValue("id"), r.PathValue("sub"), r.PathValue("name")
	switch {
	case sub != "":
		return userNotFoundMessage(slug, sub)
	case client != "":
		return fmt.Sprintf("tenant %q has no client %q", slug, client)
	case group != "":
		return groupNotFoundMessage(slug, group)
	case slug != "":
		return fmt.Sprintf("tenant %q does not exist", slug)
	}
	return "not found"
}

func userNotFoundMessage(slug, sub string) string {
	return fmt.Sprintf("tenant %q has no user %q", slug, sub)
}

func groupNotFoundMessage(slug, name string) string {
	return fmt.Sprintf("tenant %q has no group %q", slug, name)
}

// conflictMessage says what already exists. Three requests create or
// rename a record under a name the client chose: a tenant (its slug), a
// user (its username) and a group (its name); client IDs, subs and key IDs
// are chosen by the server.
func conflictMessage(r *http.Request) string {
	slug := r.PathValue("slug")
	switch {
	case strings.Contains(r.Pattern, "/groups"):
		return fmt.Sprintf("tenant %q already has a group with that name", slug)
	case slug != "":
		return fmt.Sprintf("tenant %q already has a user with that username", slug)
	}
	return "a tenant with that slug already exists"
}

func (a *API) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}
