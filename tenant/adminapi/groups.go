package adminapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/cognate-idp/cognate/tenant"
)

// Groups and their members. Membership is what puts a group's name in the
// cognito:groups claim of a user's tokens. The service validates names,
// audits every change and keeps each change in one transaction; the
// handlers only translate.

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) error {
	var req CreateGroupRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	slug := r.PathValue("slug")
	g, err := a.Service.CreateGroup(r.Context(), slug, tenant.Group{Name: req.Name, Description: req.Description, Precedence: req.Precedence})
	if err != nil {
		return err
	}
	w.Header().Set("Location", groupPath(slug, g.Name))
	return writeJSON(w, http.StatusCreated, groupOut(g))
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) error {
	groups, err := a.Service.Groups(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	out := GroupList{Groups: make([]Group, 0, len(groups))}
	for _, g := range groups {
		out.Groups = append(out.Groups, groupOut(g))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := a.Service.Group(r.Context(), r.PathValue("slug"), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, groupOut(g))
}

// updateGroup changes a group's name, description or precedence; a request
// that changes nothing answers the group as it is.
func (a *API) updateGroup(w http.ResponseWriter, r *http.Request) error {
	var req UpdateGroupRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	slug, name := r.PathValue("slug"), r.PathValue("name")
	g, err := a.Service.UpdateGroup(r.Context(), slug, name, tenant.GroupChange{
		Name: req.Name, Description: req.Description,
		SetPrecedence: req.Precedence.Set, Precedence: req.Precedence.Value,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Location", groupPath(slug, g.Name))
	return writeJSON(w, http.StatusOK, groupOut(g))
}

// deleteGroup removes the group and every membership of it. The tenant's
// admin group is refused (tenant.ErrAdminGroup, a 400).
func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	if err := a.Service.DeleteGroup(r.Context(), r.PathValue("slug"), r.PathValue("name")); err != nil {
		return err
	}
	return noContent(w)
}

// listGroupMembers pages through a group's members in sub order, as
// listUsers pages through the users.
func (a *API) listGroupMembers(w http.ResponseWriter, r *http.Request) error {
	limit, err := pageLimit(r, tenant.MaxPageSize)
	if err != nil {
		return err
	}
	page, err := a.Service.GroupMembers(r.Context(), r.PathValue("slug"), r.PathValue("name"), r.URL.Query().Get("after"), limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userPage(page.Users, page.Next))
}

// addGroupMember is idempotent: a member already is one.
func (a *API) addGroupMember(w http.ResponseWriter, r *http.Request) error {
	return a.changeMembership(w, r, a.Service.AddUserToGroup)
}

// removeGroupMember is idempotent: a user who is no member stays none.
func (a *API) removeGroupMember(w http.ResponseWriter, r *http.Request) error {
	return a.changeMembership(w, r, a.Service.RemoveUserFromGroup)
}

func (a *API) changeMembership(w http.ResponseWriter, r *http.Request, change func(ctx context.Context, tenantID, group, sub string) error) error {
	slug, name, sub := r.PathValue("slug"), r.PathValue("name"), r.PathValue("sub")
	err := change(r.Context(), slug, name, sub)
	if errors.Is(err, tenant.ErrNotFound) {
		return a.memberNotFound(r.Context(), slug, name, sub)
	}
	if err != nil {
		return err
	}
	return noContent(w)
}

// memberNotFound says which of the group and the user is missing: the
// service's ErrNotFound is the same for both. The group is looked up again
// to tell; a tenant that does not exist has no such group either.
func (a *API) memberNotFound(ctx context.Context, slug, name, sub string) error {
	_, err := a.Service.Group(ctx, slug, name)
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		return notFound(groupNotFoundMessage(slug, name))
	case err != nil:
		return err
	}
	return notFound(userNotFoundMessage(slug, sub))
}

func groupPath(slug, name string) string { return tenantPath(slug) + "/groups/" + url.PathEscape(name) }
