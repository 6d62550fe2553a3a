package console

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/cognate-idp/cognate/tenant"
)

// Groups: the list, creating one, and a group's page with its members,
// renaming and deleting.

type groupsPage struct {
	frame
	Groups     []tenant.Group
	AdminGroup string
	NewName    string
	Invalid    bool
}

func (groupsPage) template() string { return tmplGroups }

func groupPath(name string) string { return "/admin/groups/" + url.PathEscape(name) }

func (c *Console) groupsPage(r *http.Request, q *request) (*groupsPage, error) {
	groups, err := c.Service.Groups(r.Context(), q.slug())
	if err != nil {
		return nil, err
	}
	return &groupsPage{frame: c.frame(q, "groups"), Groups: groups, AdminGroup: q.tenant.Settings.AdminGroup}, nil
}

func (c *Console) listGroups(w http.ResponseWriter, r *http.Request, q *request) error {
	page, err := c.groupsPage(r, q)
	if err != nil {
		return err
	}
	page.Notice = notice(&page.frame, r)
	return c.render(w, http.StatusOK, page)
}

func (c *Console) createGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	name := r.PostForm.Get("name")
	key := ""
	if tenant.ValidateGroupName(name) != nil {
		key = "problem.groupName"
	} else if _, err := c.Service.CreateGroup(r.Context(), q.slug(), name); errors.Is(err, tenant.ErrAlreadyExists) {
		key = "problem.groupExists"
	} else if err != nil {
		return serviceError(err)
	}
	if key != "" {
		page, err := c.groupsPage(r, q)
		if err != nil {
			return err
		}
		page.NewName, page.Invalid, page.Problem = name, true, page.Tf(key, name)
		return c.render(w, http.StatusUnprocessableEntity, page)
	}
	http.Redirect(w, r, groupPath(name)+"?notice=groupSaved", http.StatusSeeOther)
	return nil
}

type groupPage struct {
	frame
	Group    tenant.Group
	IsAdmin  bool
	Members  []tenant.User
	NextURL  string
	FirstURL string
	NewName  string
	AddLogin string
	// Invalid names the form with a problem: "rename" or "add".
	Invalid string
}

func (groupPage) template() string { return tmplGroup }

const membersPerPage = 50

func (c *Console) groupPage(r *http.Request, q *request) (*groupPage, error) {
	name := r.PathValue("name")
	g, err := c.Service.Group(r.Context(), q.slug(), name)
	if err != nil {
		return nil, serviceError(err)
	}
	after := ""
	if raw := r.URL.Query().Get("after"); raw != "" {
		b, err := base64.RawURLEncoding.DecodeString(raw)
		if err != nil {
			return nil, &pageError{status: http.StatusBadRequest, msg: "error.badForm", err: err}
		}
		after = string(b)
	}
	members, err := c.Service.GroupMembers(r.Context(), q.slug(), name, after, membersPerPage)
	if err != nil {
		return nil, serviceError(err)
	}
	page := &groupPage{frame: c.frame(q, "groups"), Group: g, IsAdmin: g.Name == q.tenant.Settings.AdminGroup,
		Members: members.Users, NewName: g.Name}
	if after != "" {
		page.FirstURL = groupPath(name)
	}
	if members.Next != "" {
		page.NextURL = groupPath(name) + "?after=" + base64.RawURLEncoding.EncodeToString([]byte(members.Next))
	}
	return page, nil
}

func (c *Console) showGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	page, err := c.groupPage(r, q)
	if err != nil {
		return err
	}
	page.Notice = notice(&page.frame, r)
	return c.render(w, http.StatusOK, page)
}

// groupProblem shows the group page again with a problem at one form.
func (c *Console) groupProblem(w http.ResponseWriter, r *http.Request, q *request, form, key string, args ...any) error {
	page, err := c.groupPage(r, q)
	if err != nil {
		return err
	}
	page.Invalid, page.Problem = form, page.Tf(key, args...)
	if form == "rename" {
		page.NewName = r.PostForm.Get("name")
	} else {
		page.AddLogin = r.PostForm.Get("login")
	}
	return c.render(w, http.StatusUnprocessableEntity, page)
}

func (c *Console) renameGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	name, newName := r.PathValue("name"), r.PostForm.Get("name")
	if tenant.ValidateGroupName(newName) != nil {
		return c.groupProblem(w, r, q, "rename", "problem.groupName")
	}
	if _, err := c.Service.RenameGroup(r.Context(), q.slug(), name, newName); errors.Is(err, tenant.ErrAlreadyExists) {
		return c.groupProblem(w, r, q, "rename", "problem.groupExists", newName)
	} else if err != nil {
		return serviceError(err)
	}
	http.Redirect(w, r, groupPath(newName)+"?notice=groupSaved", http.StatusSeeOther)
	return nil
}

// addMember adds the user with the username (or the one email address)
// typed into the form.
func (c *Console) addMember(w http.ResponseWriter, r *http.Request, q *request) error {
	name, login := r.PathValue("name"), strings.TrimSpace(r.PostForm.Get("login"))
	query := tenant.UserQuery{Username: login}
	if strings.Contains(login, "@") {
		query = tenant.UserQuery{Email: login}
	}
	users, err := c.Service.FindUsers(r.Context(), q.slug(), query)
	if errors.Is(err, tenant.ErrInvalid) || (err == nil && len(users) != 1) {
		return c.groupProblem(w, r, q, "add", "problem.noSuchUser", login)
	}
	if err != nil {
		return err
	}
	if err := c.Service.AddUserToGroup(r.Context(), q.slug(), name, users[0].Sub); err != nil {
		return serviceError(err)
	}
	http.Redirect(w, r, groupPath(name)+"?notice=groupSaved", http.StatusSeeOther)
	return nil
}

func (c *Console) removeMember(w http.ResponseWriter, r *http.Request, q *request) error {
	name := r.PathValue("name")
	if err := c.Service.RemoveUserFromGroup(r.Context(), q.slug(), name, r.PathValue("sub")); err != nil {
		if errors.Is(err, tenant.ErrSelfLockout) {
			return c.groupProblem(w, r, q, "", "problem.selfLockout")
		}
		return serviceError(err)
	}
	http.Redirect(w, r, groupPath(name)+"?notice=groupSaved", http.StatusSeeOther)
	return nil
}

func (c *Console) confirmDeleteGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	g, err := c.Service.Group(r.Context(), q.slug(), r.PathValue("name"))
	if err != nil {
		return serviceError(err)
	}
	f := c.frame(q, "groups")
	return c.render(w, http.StatusOK, &confirmPage{frame: f,
		Heading: f.Tf("group.delete.heading", g.Name), Text: f.T("group.delete.text"),
		Action: groupPath(g.Name) + "/delete", Submit: f.T("group.delete.submit"), Cancel: groupPath(g.Name)})
}

func (c *Console) deleteGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	if err := c.Service.DeleteGroup(r.Context(), q.slug(), r.PathValue("name")); err != nil {
		if errors.Is(err, tenant.ErrAdminGroup) {
			return c.groupProblem(w, r, q, "", "problem.adminGroup")
		}
		return serviceError(err)
	}
	http.Redirect(w, r, "/admin/groups?notice=groupSaved", http.StatusSeeOther)
	return nil
}
