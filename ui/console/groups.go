package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/cognate-idp/cognate/tenant"
)

// Groups: the list, creating one, and a group's page with its members,
// its details (name, description, precedence) and deleting it.

type groupsPage struct {
	frame
	Groups     []tenant.Group
	AdminGroup string
	// Form is the create form, as typed when it is shown with a problem.
	Form groupForm
	// Invalid names the field with a problem, for aria-invalid.
	Invalid string
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
	form := readGroupForm(r.PostForm)
	g, prob := form.group()
	if prob == nil {
		if _, err := c.Service.CreateGroup(r.Context(), q.slug(), g); err != nil {
			if prob = groupSaveProblem(err, g.Name); prob == nil {
				return serviceError(groupsSection, err)
			}
		}
	}
	if prob != nil {
		page, err := c.groupsPage(r, q)
		if err != nil {
			return err
		}
		page.Form, page.Invalid, page.Problem = form, prob.field, page.Tf(prob.key, prob.args...)
		return c.render(w, prob.status(), page)
	}
	http.Redirect(w, r, groupPath(g.Name)+"?notice=groupSaved", http.StatusSeeOther)
	return nil
}

// groupForm is what the create and the details form hold, as text, so a
// value with a problem is shown back as it was typed.
type groupForm struct {
	Name, Description string
	// Precedence is empty for none.
	Precedence string
}

func groupFormOf(g tenant.Group) groupForm {
	form := groupForm{Name: g.Name, Description: g.Description}
	if g.Precedence != nil {
		form.Precedence = strconv.Itoa(*g.Precedence)
	}
	return form
}

func readGroupForm(f url.Values) groupForm {
	return groupForm{Name: f.Get("name"), Description: f.Get("description"), Precedence: f.Get("precedence")}
}

// group checks the form and returns the group it describes. The name is
// taken as typed: ValidateGroupName refuses surrounding spaces rather
// than the console dropping them unseen.
func (gf groupForm) group() (tenant.Group, *formProblem) {
	g := tenant.Group{Name: gf.Name}
	if err := tenant.ValidateGroupName(g.Name); err != nil {
		// The rule it broke: too long, spaces around it, …
		prob := formProblemOf(err)
		prob.field = "name"
		return g, prob
	}
	// Browsers send a textarea's line breaks as CRLF but count them as one
	// character against maxlength: as LF, a description that fit the field
	// fits the limit. Blank lines and spaces around it are never meant.
	g.Description = strings.TrimSpace(strings.ReplaceAll(gf.Description, "\r\n", "\n"))
	if err := tenant.ValidateGroupDescription(g.Description); err != nil {
		// Too long, or a control character: the rule it broke.
		prob := formProblemOf(err)
		prob.field = "description"
		return g, prob
	}
	if raw := strings.TrimSpace(gf.Precedence); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || tenant.ValidateGroupPrecedence(&n) != nil {
			return g, &formProblem{field: "precedence", key: "problem.groupPrecedence", args: []any{tenant.MaxGroupPrecedence}}
		}
		g.Precedence = &n
	}
	return g, nil
}

type groupPage struct {
	frame
	Group    tenant.Group
	IsAdmin  bool
	Members  []tenant.User
	NextURL  string
	FirstURL string
	// Form is the details form: the group's, or as typed when it is shown
	// with a problem.
	Form     groupForm
	AddLogin string
	// Invalid names the field with a problem, for aria-invalid: one of the
	// details form's or "login".
	Invalid string
}

func (groupPage) template() string { return tmplGroup }

const membersPerPage = 50

func (c *Console) groupPage(r *http.Request, q *request) (*groupPage, error) {
	name := r.PathValue("name")
	g, err := c.Service.Group(r.Context(), q.slug(), name)
	if err != nil {
		return nil, serviceError(groupsSection, err)
	}
	after, err := readCursor(r.URL.Query(), nil)
	if err != nil {
		return nil, err
	}
	members, err := c.Service.GroupMembers(r.Context(), q.slug(), name, after, membersPerPage)
	if err != nil {
		return nil, serviceError(groupsSection, err)
	}
	page := &groupPage{frame: c.frame(q, "groups"), Group: g, IsAdmin: g.Name == q.tenant.Settings.AdminGroup,
		Members: members.Users, Form: groupFormOf(g)}
	page.FirstURL, page.NextURL = pageLinks(groupPath(name), nil, after, members.Next)
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

// groupProblem shows the group page again with a problem, at the field it
// names if any, with the problem's status; keepTyped, when given, puts
// back what was typed into the form that was sent.
func (c *Console) groupProblem(w http.ResponseWriter, r *http.Request, q *request, prob formProblem, keepTyped func(*groupPage)) error {
	page, err := c.groupPage(r, q)
	if err != nil {
		return err
	}
	page.Invalid, page.Problem = prob.field, page.Tf(prob.key, prob.args...)
	if keepTyped != nil {
		keepTyped(page)
	}
	return c.render(w, prob.status(), page)
}

// groupConflict is the problem a group form shows (a clash: 409) when
// its change clashes with another under way (tenant.ErrConflict), nil when
// err is no such clash.
//
// A rename or deletion whose members still move refuses, for a moment,
// both the name they move out of (newName, the name asked for: at the
// name field) and renaming or deleting the group they move into; the
// group forms say which. Every other clash reads as on any form
// (formProblemOf).
func groupConflict(err error, newName string) *formProblem {
	var prob *formProblem
	switch {
	case !errors.Is(err, tenant.ErrConflict):
		return nil
	case errors.Is(err, tenant.ErrGroupNameMoving):
		prob = &formProblem{field: "name", key: "problem.groupNameMoving", args: []any{newName}}
	case errors.Is(err, tenant.ErrGroupMoving):
		prob = &formProblem{key: "problem.groupMembersMoving"}
	default:
		prob = formProblemOf(err) // never nil: problemKey words every ErrConflict
	}
	prob.clash = true
	return prob
}

// groupSaveProblem is the problem the create or the details form shows
// when saving the group named name fails with err: the name taken, or a
// clash (groupConflict); nil for any other error.
func groupSaveProblem(err error, name string) *formProblem {
	if errors.Is(err, tenant.ErrAlreadyExists) {
		return &formProblem{field: "name", key: "problem.groupExists", args: []any{name}}
	}
	return groupConflict(err, name)
}

// editGroup saves the details form in one UpdateGroup: a new name moves
// the members along, and an empty precedence removes it.
func (c *Console) editGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	form := readGroupForm(r.PostForm)
	g, prob := form.group()
	if prob == nil {
		change := tenant.GroupChange{Name: &g.Name, Description: &g.Description, SetPrecedence: true, Precedence: g.Precedence}
		if _, err := c.Service.UpdateGroup(r.Context(), q.slug(), r.PathValue("name"), change); err != nil {
			if prob = groupSaveProblem(err, g.Name); prob == nil {
				return serviceError(groupsSection, err)
			}
		}
	}
	if prob != nil {
		return c.groupProblem(w, r, q, *prob, func(p *groupPage) { p.Form = form })
	}
	http.Redirect(w, r, groupPath(g.Name)+"?notice=groupSaved", http.StatusSeeOther)
	return nil
}

// maxNamedUsers is how many of the users who share an address the group
// page names (the first by sub), with "…" when there are more.
const maxNamedUsers = 10

// addMember adds the user with the username (or the one email address)
// typed into the form. An address several users share names them, by
// username, which the administrator may type instead.
func (c *Console) addMember(w http.ResponseWriter, r *http.Request, q *request) error {
	name, login := r.PathValue("name"), strings.TrimSpace(r.PostForm.Get("login"))
	query := tenant.UserQuery{Username: login}
	if strings.Contains(login, "@") {
		// Thousands may share an address: only those the page names are
		// read, and whether there are more.
		query = tenant.UserQuery{Email: login, Limit: maxNamedUsers}
	}
	found, err := c.Service.FindUsers(r.Context(), q.slug(), query)
	users := found.Users
	var prob *formProblem
	switch {
	case errors.Is(err, tenant.ErrInvalid), err == nil && len(users) == 0:
		prob = &formProblem{field: "login", key: "problem.noSuchUser", args: []any{login}}
	case err == nil && len(users) > 1:
		names := make([]string, len(users))
		for i, u := range users {
			names[i] = u.Username
		}
		slices.Sort(names)
		if found.Next != "" {
			names = append(names, "…")
		}
		prob = &formProblem{field: "login", key: "problem.sharedEmail", args: []any{login, strings.Join(names, ", ")}}
	case err != nil:
		return err
	}
	if prob != nil {
		return c.groupProblem(w, r, q, *prob, func(p *groupPage) { p.AddLogin = login })
	}
	if err := c.Service.AddUserToGroup(r.Context(), q.slug(), name, users[0].Sub); err != nil {
		return serviceError(groupsSection, err)
	}
	http.Redirect(w, r, groupPath(name)+"?notice=groupSaved", http.StatusSeeOther)
	return nil
}

func (c *Console) removeMember(w http.ResponseWriter, r *http.Request, q *request) error {
	name := r.PathValue("name")
	if err := c.Service.RemoveUserFromGroup(r.Context(), q.slug(), name, r.PathValue("sub")); err != nil {
		if errors.Is(err, tenant.ErrSelfLockout) {
			return c.groupProblem(w, r, q, formProblem{key: "problem.selfLockout"}, nil)
		}
		return serviceError(groupsSection, err)
	}
	http.Redirect(w, r, groupPath(name)+"?notice=groupSaved", http.StatusSeeOther)
	return nil
}

func (c *Console) confirmDeleteGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	g, err := c.Service.Group(r.Context(), q.slug(), r.PathValue("name"))
	if err != nil {
		return serviceError(groupsSection, err)
	}
	f := c.frame(q, "groups")
	return c.render(w, http.StatusOK, &confirmPage{frame: f,
		Heading: f.Tf("group.delete.heading", g.Name), Text: f.T("group.delete.text"),
		Action: groupPath(g.Name) + "/delete", Submit: f.T("group.delete.submit"), Cancel: groupPath(g.Name)})
}

func (c *Console) deleteGroup(w http.ResponseWriter, r *http.Request, q *request) error {
	name := r.PathValue("name")
	if err := c.Service.DeleteGroup(r.Context(), q.slug(), name); err != nil {
		if errors.Is(err, tenant.ErrAdminGroup) {
			return c.groupProblem(w, r, q, formProblem{key: "problem.adminGroup"}, nil)
		}
		if prob := groupConflict(err, name); prob != nil {
			return c.groupProblem(w, r, q, *prob, nil)
		}
		return serviceError(groupsSection, err)
	}
	http.Redirect(w, r, "/admin/groups?notice=groupDeleted", http.StatusSeeOther)
	return nil
}
