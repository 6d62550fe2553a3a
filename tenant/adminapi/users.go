package adminapi

import (
	"net/http"
	"net/url"

	"github.com/cognate-idp/cognate/tenant"
)

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var req CreateUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	switch {
	case req.Temporary && req.Password == "":
		return badRequest("temporary needs a password")
	case req.Invite && req.Password != "":
		return badRequest("invite makes a temporary password of its own; give no password")
	}
	slug := r.PathValue("slug")
	u, err := a.Service.CreateUser(r.Context(), slug, tenant.NewUser{
		Username:      req.Username,
		Email:         req.Email,
		EmailVerified: req.EmailVerified,
		Attributes:    req.Attributes,
		Password:      req.Password,
		Temporary:     req.Temporary,
		Invite:        req.Invite,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", tenantPath(slug)+"/users/"+url.PathEscape(u.Sub))
	return writeJSON(w, http.StatusCreated, userOut(u))
}

// listUsers pages through the users, or, given ?username=, ?email= or
// ?sub=, finds the users with exactly that value (an empty page when none
// has). A search by email is paged as the listing is, since many users may
// share an address; one by username or sub finds one user at most, and
// the service refuses after and limit with it.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	slug := r.PathValue("slug")
	if q.Has("username") || q.Has("email") || q.Has("sub") {
		// None is empty or given twice (checkInput). A limit left out
		// stays 0, the service's default (tenant.DefaultPageSize as here): a
		// search by username or sub refuses one given.
		limit, _, err := queryInt(r, "limit", 1, tenant.MaxPageSize)
		if err != nil {
			return err
		}
		page, err := a.Service.FindUsers(r.Context(), slug, tenant.UserQuery{
			Username: q.Get("username"), Email: q.Get("email"), Sub: q.Get("sub"),
			After: q.Get("after"), Limit: limit,
		})
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, userPage(page.Users, page.Next))
	}
	limit, err := pageLimit(r, tenant.MaxPageSize)
	if err != nil {
		return err
	}
	page, err := a.Service.ListUsers(r.Context(), slug, q.Get("after"), limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userPage(page.Users, page.Next))
}

func userPage(users []tenant.User, next string) UserPage {
	out := UserPage{Users: make([]User, 0, len(users)), Next: next}
	for _, u := range users {
		out.Users = append(out.Users, userOut(u))
	}
	return out
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := a.Service.User(r.Context(), r.PathValue("slug"), r.PathValue("sub"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userOut(u))
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	var req UpdateUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	u, err := a.Service.UpdateUser(r.Context(), r.PathValue("slug"), r.PathValue("sub"), tenant.UserChange{
		Email:         req.Email,
		EmailVerified: req.EmailVerified,
		Attributes:    req.Attributes,
		Enabled:       req.Enabled,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userOut(u))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := a.Service.DeleteUser(r.Context(), r.PathValue("slug"), r.PathValue("sub")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) setPassword(w http.ResponseWriter, r *http.Request) error {
	var req SetPasswordRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	err := a.Service.SetPassword(r.Context(), r.PathValue("slug"), r.PathValue("sub"), req.Password, req.Permanent)
	if err != nil {
		return err
	}
	return noContent(w)
}
