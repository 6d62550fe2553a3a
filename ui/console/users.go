package console

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// The users module: the list with search and a status filter, the
// profile, the edit form with the activation toggle, and the actions.

// User states as the console shows and filters them. "Not activated" is
// Cognito's UNCONFIRMED: the user exists, has no password and cannot sign
// in until an administrator turns the status on.
const (
	stateNotActivated  = "not_activated"
	stateInvited       = "invited" // FORCE_CHANGE_PASSWORD: the welcome mail went out
	stateActive        = "active"
	stateResetRequired = "reset_required"
	stateDisabled      = "disabled"
	stateOther         = "other"
)

func stateOf(u tenant.User) string {
	switch {
	case u.Status == tenant.StatusUnconfirmed:
		return stateNotActivated
	case !u.Enabled:
		return stateDisabled
	case u.Status == tenant.StatusForceChangePassword:
		return stateInvited
	case u.Status == tenant.StatusConfirmed:
		return stateActive
	case u.Status == tenant.StatusResetRequired:
		return stateResetRequired
	}
	return stateOther
}

// active is what the status toggle shows: the user can sign in, or is on
// the way to (invited).
func active(u tenant.User) bool { return u.Enabled && u.Status != tenant.StatusUnconfirmed }

// stateFilters are the status filter's choices, in order, and what each
// asks of the service.
var stateFilters = []struct {
	value  string
	filter func() tenant.UserFilter
}{
	{stateNotActivated, func() tenant.UserFilter { return tenant.UserFilter{Status: tenant.StatusUnconfirmed} }},
	{stateInvited, func() tenant.UserFilter { return tenant.UserFilter{Status: tenant.StatusForceChangePassword} }},
	{stateActive, func() tenant.UserFilter {
		on := true
		return tenant.UserFilter{Status: tenant.StatusConfirmed, Enabled: &on}
	}},
	{stateResetRequired, func() tenant.UserFilter { return tenant.UserFilter{Status: tenant.StatusResetRequired} }},
	{stateDisabled, func() tenant.UserFilter {
		off := false
		return tenant.UserFilter{Enabled: &off}
	}},
}

// option is one choice of a select element.
type option struct {
	Value, Label string
	Selected     bool
}

type usersPage struct {
	frame
	Query    string
	By       string
	Filters  []option
	Fields   []option
	Users    []userRow
	NextURL  string
	FirstURL string
	// Examined is how many users the page looked at when BudgetSpent: the
	// filter matched fewer than a page among them.
	Examined    int
	BudgetSpent bool
	Searching   bool
}

// userRow is a user as the list shows it.
type userRow struct {
	tenant.User
	MFA string
}

func (usersPage) template() string { return tmplUsers }

const usersPerPage = 25

// listUsers serves the list: a page of users, by prefix of username or
// email when searching, filtered by state, with a cursor to the next page.
func (c *Console) listUsers(w http.ResponseWriter, r *http.Request, q *request) error {
	in := r.URL.Query()
	page := &usersPage{frame: c.frame(q, "users"), Query: strings.TrimSpace(in.Get("q")), By: in.Get("by")}
	if page.By != string(tenant.SearchEmail) {
		page.By = string(tenant.SearchUsername)
	}
	search := tenant.UserSearch{Limit: usersPerPage, Filter: tenant.UserFilter{Prefix: page.Query, By: tenant.SearchField(page.By)}}
	state := in.Get("status")
	page.Filters = []option{{Value: "", Label: page.T("users.filter.all"), Selected: state == ""}}
	for _, sf := range stateFilters {
		page.Filters = append(page.Filters, option{Value: sf.value, Label: page.T("status." + sf.value), Selected: sf.value == state})
		if sf.value == state {
			f := sf.filter()
			search.Filter.Status, search.Filter.Enabled = f.Status, f.Enabled
		}
	}
	page.Fields = []option{
		{Value: string(tenant.SearchUsername), Label: page.T("users.by.username"), Selected: page.By == string(tenant.SearchUsername)},
		{Value: string(tenant.SearchEmail), Label: page.T("users.by.email"), Selected: page.By == string(tenant.SearchEmail)},
	}
	after, err := readCursor(in, nil)
	if err != nil {
		return err
	}
	search.After = after
	page.Searching = page.Query != "" || state != ""
	result, err := c.Service.SearchUsers(r.Context(), q.slug(), search)
	if err != nil {
		return err
	}
	for _, u := range result.Users {
		page.Users = append(page.Users, userRow{User: u, MFA: page.mfaText(u)})
	}
	page.BudgetSpent, page.Examined = result.BudgetSpent, result.Examined
	page.Notice = notice(&page.frame, r)
	link := url.Values{}
	for k, v := range map[string]string{"q": page.Query, "by": page.By, "status": state} {
		if v != "" && !(k == "by" && v == string(tenant.SearchUsername)) {
			link.Set(k, v)
		}
	}
	page.FirstURL, page.NextURL = pageLinks("/admin/users", link, search.After, result.Next)
	return c.render(w, http.StatusOK, page)
}

// viewSelected answers the list's "View profile" button with the selected
// user's profile.
func (c *Console) viewSelected(w http.ResponseWriter, r *http.Request, q *request) error {
	sub := r.URL.Query().Get("sub")
	if sub == "" {
		http.Redirect(w, r, "/admin/users?notice=select", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, userPath(sub), http.StatusSeeOther)
	return nil
}

func userPath(sub string) string { return "/admin/users/" + url.PathEscape(sub) }

// userPage is the profile.
type userPage struct {
	frame
	User        tenant.User
	Attributes  []attribute
	LockedUntil time.Time
	MFA         string
	// Actions that apply to the user in its state.
	CanResend, CanReset, CanResetMFA, CanUnlock bool
	Active                                      bool
}

type attribute struct {
	Name, Label, Value string
	// Multiline shows the value in a textarea: an address, or any value
	// with a line break, which a one-line field would drop unseen.
	Multiline bool
}

func (userPage) template() string { return tmplUser }

// notices are what the profile may say after a change, by the key the
// change's redirect names; no other text reaches the page from a URL.
var notices = map[string]string{
	"activated":      "notice.activated",
	"reenabled":      "notice.reenabled",
	"disabled":       "notice.disabled",
	"saved":          "notice.saved",
	"resent":         "notice.resent",
	"resentRecently": "notice.resentRecently",
	"reset":          "notice.reset",
	"resetRecently":  "notice.resetRecently",
	"mfaReset":       "notice.mfaReset",
	"unlocked":       "notice.unlocked",
	"created":        "notice.created",
	"invited":        "notice.invited",
	"deleted":        "notice.deleted",
	"select":         "notice.select",
	"groupSaved":     "notice.groupSaved",
	"groupDeleted":   "notice.groupDeleted",
	"clientSaved":    "notice.clientSaved",
	"clientDeleted":  "notice.clientDeleted",
	"settings":       "notice.settings",
}

// notice is the sentence of the request's ?notice=, its %s filled with
// arg (the user's email address) where it has one. A sentence that needs
// an address the page has not (a list, a user without one) is not shown:
// it came from a hand-made URL, and would show its bare %s.
func notice(f *frame, r *http.Request, arg ...any) string {
	key, ok := notices[r.URL.Query().Get("notice")]
	if !ok {
		return ""
	}
	s := f.T(key)
	verbs := strings.Count(s, "%")
	switch {
	case verbs == 0:
		return s
	case len(arg) < verbs || slices.Contains(arg, any("")):
		return ""
	}
	return f.Tf(key, arg...)
}

func (c *Console) showUser(w http.ResponseWriter, r *http.Request, q *request) error {
	page, err := c.userPage(r, q)
	if err != nil {
		return err
	}
	email := page.User.Email
	page.Notice = notice(&page.frame, r, email)
	return c.render(w, http.StatusOK, page)
}

// userPage loads the profile of the request's {sub}.
func (c *Console) userPage(r *http.Request, q *request) (*userPage, error) {
	u, err := c.Service.User(r.Context(), q.slug(), r.PathValue("sub"))
	if err != nil {
		return nil, serviceError(usersSection, err)
	}
	page := &userPage{frame: c.frame(q, "users"), User: u, Active: active(u)}
	page.MFA = page.mfaText(u)
	for _, name := range slices.Sorted(maps.Keys(u.Attributes)) {
		page.Attributes = append(page.Attributes, attribute{Name: name, Label: page.attrLabel(name), Value: u.Attributes[name]})
	}
	err = c.Service.Store.View(r.Context(), func(tx tenant.Tx) (err error) {
		page.LockedUntil, err = auth.LockedUntil(tx, q.slug(), u, c.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	page.CanResend = u.Enabled && u.Status == tenant.StatusForceChangePassword
	// The reset code goes by mail: without an address, there is no reset.
	page.CanReset = u.Enabled && u.Status == tenant.StatusConfirmed && u.Email != ""
	page.CanResetMFA = c.canResetMFA(u)
	page.CanUnlock = !page.LockedUntil.IsZero()
	return page, nil
}

// attrLabel names an attribute: the catalogue's name for a standard one,
// the attribute's own name for a custom one.
func (f *frame) attrLabel(name string) string {
	if _, ok := catalogue[f.Lang]["attr."+name]; ok {
		return f.T("attr." + name)
	}
	return name
}

// editableAttributes are the standard attributes the edit form always
// offers; others a user already has are shown as well.
var editableAttributes = []string{
	"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
	"phone_number", "locale", "zoneinfo", "birthdate", "gender", "website", "profile", "picture", "address",
}

type userEditPage struct {
	frame
	User tenant.User
	// Version is the version of what the form shows of User (userShownOf).
	Version  string
	Active   bool
	Standard []attribute
	Custom   []attribute
	Groups   []option
	Email    string
	Verified bool
	// NewName and NewValue are the new custom attribute's fields, as typed.
	NewName, NewValue string
	// Fields with a problem, for aria-invalid.
	Invalid map[string]bool
}

func (userEditPage) template() string { return tmplUserEdit }

// attributeField is what the template of an attribute's field needs.
type attributeField struct {
	Attr    attribute
	Invalid bool
}

// Field is the field of a, marked when the problem is in it.
func (p *userEditPage) Field(a attribute) attributeField {
	return attributeField{Attr: a, Invalid: p.Invalid["attr."+a.Name]}
}

func (c *Console) editUserForm(w http.ResponseWriter, r *http.Request, q *request) error {
	u, err := c.Service.User(r.Context(), q.slug(), r.PathValue("sub"))
	if err != nil {
		return serviceError(usersSection, err)
	}
	page, err := c.userEditPage(r, q, u)
	if err != nil {
		return err
	}
	return c.render(w, http.StatusOK, page)
}

func (c *Console) userEditPage(r *http.Request, q *request, u tenant.User) (*userEditPage, error) {
	groups, err := c.Service.Groups(r.Context(), q.slug())
	if err != nil {
		return nil, err
	}
	page := &userEditPage{frame: c.frame(q, "users"), User: u, Version: formVersion(userShownOf(u)), Active: active(u),
		Email: u.Email, Verified: u.EmailVerified, Invalid: map[string]bool{}}
	field := func(name, label string) attribute {
		value := u.Attributes[name]
		return attribute{Name: name, Label: label, Value: value, Multiline: name == "address" || strings.ContainsAny(value, "\r\n")}
	}
	for _, name := range editableAttributes {
		page.Standard = append(page.Standard, field(name, page.attrLabel(name)))
	}
	for _, name := range slices.Sorted(maps.Keys(u.Attributes)) {
		switch {
		case strings.HasPrefix(name, "custom:"):
			page.Custom = append(page.Custom, field(name, name))
		case !slices.Contains(editableAttributes, name):
			page.Standard = append(page.Standard, field(name, page.attrLabel(name)))
		}
	}
	for _, g := range groups {
		page.Groups = append(page.Groups, option{Value: g.Name, Label: g.Name, Selected: slices.Contains(u.Groups, g.Name)})
	}
	return page, nil
}

// formProblem is a field of a form that failed its check at the edge.
type formProblem struct {
	field string
	key   string
	args  []any
	// clash is a change that clashes with another under way (a group
	// form's groupConflict), not a value to mend.
	clash bool
}

// status is the HTTP status of a form shown again with the problem: 409
// for a clash, else 422.
func (p formProblem) status() int {
	if p.clash {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}

// userShown is what the edit form shows of a user, of which its version
// is made: a change to any of it since the page was made (by another
// administrator, a group's page, the user's first sign-in) makes the form
// stale.
type userShown struct {
	Email         string
	EmailVerified bool
	Attributes    map[string]string
	Groups        []string
	Active        bool
	State         string // the switch's hint, and what turning it on does
}

func userShownOf(u tenant.User) userShown {
	return userShown{Email: u.Email, EmailVerified: u.EmailVerified, Attributes: u.Attributes,
		Groups: slices.Sorted(slices.Values(u.Groups)), Active: active(u), State: stateOf(u)}
}

// saveUser saves the edit form in one transaction (UpdateUser): the
// attributes, email and groups, and the status. Turned on, the status
// activates the user (UserChange.Activate), which queues the welcome mail
// to the address saved with it; turned off, it disables the user and ends
// their sessions. A refused activation saves nothing. A form made from
// another version of the user than the one stored now is refused and shown
// again with the user as it is now (version.go): it would otherwise undo
// whatever changed meanwhile. The version being the stored one, what the
// form showed is what is stored, and only the fields that differ from it,
// the ones the administrator changed, are sent.
func (c *Console) saveUser(w http.ResponseWriter, r *http.Request, q *request) error {
	u, err := c.Service.User(r.Context(), q.slug(), r.PathValue("sub"))
	if err != nil {
		return serviceError(usersSection, err)
	}
	f := r.PostForm
	wantActive := f.Get("active") == "on"
	if staleForm(f, userShownOf(u)) {
		return c.staleUser(w, r, q, u)
	}
	change, prob := parseUserChange(u, f)
	if prob == nil {
		switch {
		case active(u) && !wantActive:
			off := false
			change.Enabled = &off
		case !active(u) && wantActive:
			change.Activate = true
		}
		posted := f.Get(versionField)
		change.IfUnchanged = func(u tenant.User) bool { return formVersion(userShownOf(u)) == posted }
		if _, err := c.Service.UpdateUser(r.Context(), q.slug(), u.Sub, change); err != nil {
			switch {
			case errors.Is(err, tenant.ErrNotFound):
				return notFoundPage(usersSection, err)
			case errors.Is(err, tenant.ErrStale):
				// Changed between the read above and the save.
				if u, err = c.Service.User(r.Context(), q.slug(), u.Sub); err != nil {
					return serviceError(usersSection, err)
				}
				return c.staleUser(w, r, q, u)
			}
			if prob = formProblemOf(err); prob == nil {
				return err
			}
			if errors.Is(err, tenant.ErrNoEmail) {
				prob.field = "email" // where the welcome mail would go
			}
		}
	}
	if prob != nil {
		page, err := c.userEditPage(r, q, u)
		if err != nil {
			return err
		}
		page.refill(f)
		page.Active = wantActive
		page.Problem = page.Tf(prob.key, prob.args...)
		if prob.field != "" {
			page.Invalid[prob.field] = true
		}
		return c.render(w, http.StatusUnprocessableEntity, page)
	}

	result := "saved"
	switch {
	case change.Activate && u.Status == tenant.StatusConfirmed:
		result = "reenabled" // a password of their own: no mail
	case change.Activate:
		result = "activated"
	case !wantActive && active(u):
		result = "disabled"
	}
	http.Redirect(w, r, userPath(u.Sub)+"?notice="+result, http.StatusSeeOther)
	return nil
}

// staleUser answers an edit form made from another version of the user
// than u, the user as stored now: the page shows u, and lists the fields
// sent that differ from it.
func (c *Console) staleUser(w http.ResponseWriter, r *http.Request, q *request, u tenant.User) error {
	page, err := c.userEditPage(r, q, u)
	if err != nil {
		return err
	}
	f := r.PostForm
	page.refuseStale("problem.stale.user", page.sent(f, u))
	// The new attribute is not the user's yet: it stays as typed.
	page.NewName, page.NewValue = f.Get("new_name"), f.Get("new_value")
	return c.render(w, http.StatusConflict, page)
}

// sent is the form f as posted beside what u, the user as stored now,
// holds: the fields a stale form lists where they differ. Attributes are
// those the form had fields for.
func (p *userEditPage) sent(f url.Values, u tenant.User) []unsaved {
	fields := []unsaved{
		{p.T("user.status"), p.onOff(f.Get("active") == "on"), p.onOff(active(u))},
		{p.T("attr.email"), strings.TrimSpace(f.Get("email")), u.Email},
		{p.T("edit.emailVerified"), p.onOff(f.Get("email_verified") == "on"), p.onOff(u.EmailVerified)},
	}
	for _, name := range slices.Sorted(maps.Keys(f)) {
		if name, ok := strings.CutPrefix(name, "attr."); ok {
			fields = append(fields, unsaved{p.attrLabel(name), lineBreaks(f.Get("attr." + name)), lineBreaks(u.Attributes[name])})
		}
	}
	groups := func(names []string) string { return strings.Join(slices.Sorted(slices.Values(names)), ", ") }
	return append(fields, unsaved{p.T("users.col.groups"), groups(f["groups"]), groups(u.Groups)})
}

// lineBreaks writes every line break of s as "\n": a browser sends a
// textarea's as "\r\n", and an HTML page's lone "\r" reaches its fields
// as "\n".
func lineBreaks(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// refill puts what was posted back into the form.
func (p *userEditPage) refill(f url.Values) {
	p.Email, p.Verified = f.Get("email"), f.Get("email_verified") == "on"
	p.NewName, p.NewValue = f.Get("new_name"), f.Get("new_value")
	for i := range p.Standard {
		p.Standard[i].Value = f.Get("attr." + p.Standard[i].Name)
	}
	for i := range p.Custom {
		p.Custom[i].Value = f.Get("attr." + p.Custom[i].Name)
	}
	for i := range p.Groups {
		p.Groups[i].Selected = slices.Contains(f["groups"], p.Groups[i].Value)
	}
}

// parseUserChange reads the edit form into the change it asks for. Empty
// attribute fields remove the attribute; a new custom attribute comes from
// the new_name/new_value pair.
func parseUserChange(u tenant.User, f url.Values) (tenant.UserChange, *formProblem) {
	var ch tenant.UserChange
	email := strings.TrimSpace(f.Get("email"))
	if email != "" {
		if err := tenant.ValidateEmail(email); err != nil {
			return ch, &formProblem{field: "email", key: "problem.email", args: []any{email}}
		}
	}
	if email != u.Email {
		ch.Email = &email
	}
	// The box means what it shows: the address, new or not, is verified
	// exactly when the box is ticked. A new address goes with it always,
	// since UpdateUser makes a new address unverified unless told.
	verified := f.Get("email_verified") == "on" && email != ""
	if verified != u.EmailVerified || ch.Email != nil {
		ch.EmailVerified = &verified
	}
	attrs := map[string]*string{}
	for name, values := range f {
		name, ok := strings.CutPrefix(name, "attr.")
		if !ok || len(values) != 1 {
			continue
		}
		old, had := u.Attributes[name]
		if lineBreaks(values[0]) == lineBreaks(old) {
			// As the form showed it: left alone, spaces and line breaks
			// and all (set through the admin API or an import).
			continue
		}
		value := strings.TrimSpace(lineBreaks(values[0]))
		switch {
		case value == "" && had:
			attrs[name] = nil
		case value != "" && value != old:
			attrs[name] = &value
		}
	}
	newName := strings.TrimSpace(f.Get("new_name"))
	if newName != "" {
		if !strings.HasPrefix(newName, "custom:") {
			newName = "custom:" + newName
		}
		value := strings.TrimSpace(f.Get("new_value"))
		attrs[newName] = &value
	}
	for name, v := range attrs {
		probe := map[string]string{name: ""}
		if v != nil {
			probe[name] = *v
		}
		if err := tenant.ValidateAttributes(probe); err != nil {
			// The new attribute has no field of its own name: its
			// problem belongs to the field it was typed into.
			field := "attr." + name
			if name == newName {
				field = "new_name"
			}
			prob := formProblemOf(err)
			if prob.key == "problem.invalid" {
				prob.key, prob.args = "problem.attribute", []any{name}
			}
			prob.field = field
			return ch, prob
		}
	}
	if len(attrs) > 0 {
		ch.Attributes = attrs
	}
	groups := slices.Sorted(slices.Values(f["groups"]))
	if !slices.Equal(groups, slices.Sorted(slices.Values(u.Groups))) {
		ch.Groups = &groups
	}
	return ch, nil
}

// The actions of the profile: each a form of its own, one service call,
// then back to the profile with what happened.

// activateUser turns the status on from the profile. A form sent twice
// (two tabs, a double click without the script) changes things once: a
// user no longer waiting for activation was activated by the first post,
// and the second answers as that one did, without activating again, which
// would make a new temporary password, mail it and leave the first mail's
// useless. (A new invitation for a user who has not signed in yet is what
// Resend is for.) Two posts at once that both find the user waiting are
// told apart by the service, which takes the same invitation again within
// a minute for one already made.
func (c *Console) activateUser(w http.ResponseWriter, r *http.Request, q *request) error {
	return c.act(w, r, q, func(sub string) (string, error) {
		before, err := c.Service.User(r.Context(), q.slug(), sub)
		if err != nil {
			return "", err
		}
		if active(before) {
			return activationNotice(before), nil
		}
		// A repeat (the other of two posts at once) says "activated" too,
		// which is true of it: the status is on and the mail has gone.
		if _, _, err := c.Service.ActivateUser(r.Context(), q.slug(), sub); err != nil {
			return "", err
		}
		if before.Status == tenant.StatusConfirmed {
			return "reenabled", nil // a password of their own: no mail
		}
		return "activated", nil
	})
}

// activationNotice is the notice of an activation whose user is now u:
// a user with a password of their own was only enabled again, one waiting
// for the first sign-in got the welcome mail. Of a user active in another
// way (reset required), there is nothing to add to the profile.
func activationNotice(u tenant.User) string {
	switch u.Status {
	case tenant.StatusConfirmed:
		return "reenabled"
	case tenant.StatusForceChangePassword:
		return "activated"
	}
	return ""
}

func (c *Console) disableUser(w http.ResponseWriter, r *http.Request, q *request) error {
	return c.act(w, r, q, func(sub string) (string, error) {
		off := false
		_, err := c.Service.UpdateUser(r.Context(), q.slug(), sub, tenant.UserChange{Enabled: &off})
		return "disabled", err
	})
}

func (c *Console) resendInvitation(w http.ResponseWriter, r *http.Request, q *request) error {
	return c.act(w, r, q, func(sub string) (string, error) {
		_, repeated, err := c.Service.ResendInvitation(r.Context(), q.slug(), sub)
		if err != nil {
			return "", err
		}
		if repeated {
			// The service took it for the invitation of a moment ago
			// sent again: no new password, no new mail.
			return "resentRecently", nil
		}
		return "resent", nil
	})
}

func (c *Console) resetPassword(w http.ResponseWriter, r *http.Request, q *request) error {
	return c.act(w, r, q, func(sub string) (string, error) {
		_, repeated, err := c.Service.AdminResetPassword(r.Context(), q.slug(), sub)
		switch {
		case errors.Is(err, tenant.ErrNoEmail):
			err = &saying{key: "problem.noEmailReset", err: err} // not the welcome mail
		case errors.Is(err, tenant.ErrEmailUnverified):
			err = &saying{key: "problem.unverifiedReset", err: err}
		case repeated:
			// A code went out less than a minute ago and stays good:
			// none was sent now.
			return "resetRecently", err
		}
		return "reset", err
	})
}

func (c *Console) unlockUser(w http.ResponseWriter, r *http.Request, q *request) error {
	return c.act(w, r, q, func(sub string) (string, error) {
		return "unlocked", c.Service.Unlock(r.Context(), q.slug(), sub)
	})
}

// act runs one action on the request's {sub} and shows the profile: after
// a redirect with the outcome, or at once with the problem.
func (c *Console) act(w http.ResponseWriter, r *http.Request, q *request, do func(sub string) (string, error)) error {
	sub := r.PathValue("sub")
	result, err := do(sub)
	if err != nil {
		return c.userProblem(w, r, q, err)
	}
	target := userPath(sub)
	if result != "" {
		target += "?notice=" + result
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

type confirmPage struct {
	frame
	Heading string
	Text    string
	Action  string
	Submit  string
	Cancel  string
}

func (confirmPage) template() string { return tmplConfirm }

func (c *Console) confirmDeleteUser(w http.ResponseWriter, r *http.Request, q *request) error {
	u, err := c.Service.User(r.Context(), q.slug(), r.PathValue("sub"))
	if err != nil {
		return serviceError(usersSection, err)
	}
	f := c.frame(q, "users")
	return c.render(w, http.StatusOK, &confirmPage{frame: f,
		Heading: f.Tf("user.delete.heading", u.Username), Text: f.T("user.delete.text"),
		Action: userPath(u.Sub) + "/delete", Submit: f.T("user.delete.submit"), Cancel: userPath(u.Sub)})
}

func (c *Console) deleteUser(w http.ResponseWriter, r *http.Request, q *request) error {
	sub := r.PathValue("sub")
	if err := c.Service.DeleteUser(r.Context(), q.slug(), sub); err != nil {
		return c.userProblem(w, r, q, err)
	}
	http.Redirect(w, r, "/admin/users?notice=deleted", http.StatusSeeOther)
	return nil
}

// userProblem answers an action on the request's user that the service
// refused: the profile again, with the refusal said on it (409). A user
// gone, or an error that is no refusal, is serviceError's.
func (c *Console) userProblem(w http.ResponseWriter, r *http.Request, q *request, err error) error {
	key := problemKey(err)
	if key == "" || errors.Is(err, tenant.ErrNotFound) {
		return serviceError(usersSection, err)
	}
	page, perr := c.userPage(r, q)
	if perr != nil {
		return perr
	}
	page.Problem = page.T(key)
	return c.render(w, http.StatusConflict, page)
}

type userNewPage struct {
	frame
	Username string
	Email    string
	Invite   bool
	Groups   []option
	Invalid  map[string]bool
}

func (userNewPage) template() string { return tmplUserNew }

func (c *Console) newUserForm(w http.ResponseWriter, r *http.Request, q *request) error {
	page, err := c.userNewPage(r, q, nil)
	if err != nil {
		return err
	}
	page.Invite = true
	return c.render(w, http.StatusOK, page)
}

func (c *Console) userNewPage(r *http.Request, q *request, chosen []string) (*userNewPage, error) {
	groups, err := c.Service.Groups(r.Context(), q.slug())
	if err != nil {
		return nil, err
	}
	page := &userNewPage{frame: c.frame(q, "users"), Invalid: map[string]bool{}}
	for _, g := range groups {
		page.Groups = append(page.Groups, option{Value: g.Name, Label: g.Name, Selected: slices.Contains(chosen, g.Name)})
	}
	return page, nil
}

// createUser adds a user, not activated; with "invite" checked it is
// activated as it is created, in the same transaction, which sends the
// welcome mail.
func (c *Console) createUser(w http.ResponseWriter, r *http.Request, q *request) error {
	f := r.PostForm
	username, email := strings.TrimSpace(f.Get("username")), strings.TrimSpace(f.Get("email"))
	invite := f.Get("invite") == "on"
	var prob *formProblem
	switch {
	case tenant.ValidateUsername(username) != nil:
		prob = &formProblem{field: "username", key: "problem.username"}
	case email != "" && tenant.ValidateEmail(email) != nil:
		prob = &formProblem{field: "email", key: "problem.email", args: []any{email}}
	case invite && email == "":
		prob = &formProblem{field: "email", key: "problem.noEmail"}
	}
	var u tenant.User
	if prob == nil {
		var err error
		u, err = c.Service.CreateUser(r.Context(), q.slug(), tenant.NewUser{Username: username, Email: email,
			EmailVerified: email != "", Groups: f["groups"], Invite: invite})
		switch {
		case errors.Is(err, tenant.ErrAlreadyExists):
			prob = &formProblem{field: "username", key: "problem.usernameTaken", args: []any{username}}
		case err != nil && formProblemOf(err) != nil:
			prob = formProblemOf(err)
		case err != nil:
			return err
		}
	}
	if prob != nil {
		page, err := c.userNewPage(r, q, f["groups"])
		if err != nil {
			return err
		}
		page.Username, page.Email, page.Invite = username, email, invite
		page.Problem = page.Tf(prob.key, prob.args...)
		page.Invalid[prob.field] = true
		return c.render(w, http.StatusUnprocessableEntity, page)
	}
	result := "created"
	if invite {
		result = "invited"
	}
	http.Redirect(w, r, userPath(u.Sub)+"?notice="+result, http.StatusSeeOther)
	return nil
}
