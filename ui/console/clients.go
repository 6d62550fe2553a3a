package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/cognate-idp/cognate/tenant"
)

// Clients, the tenant's relying parties: the list, creating one (the
// secret of a confidential client is shown once), changing redirect and
// logout URIs, rotating the secret and deleting. Cognate's own clients are
// listed as built in and cannot be changed here.

type clientRow struct {
	tenant.Client
	Builtin bool
}

type clientsPage struct {
	frame
	Clients []clientRow
}

func (clientsPage) template() string { return tmplClients }

func clientPath(id string) string { return "/admin/clients/" + url.PathEscape(id) }

func (c *Console) listClients(w http.ResponseWriter, r *http.Request, q *request) error {
	clients, err := c.Service.Clients(r.Context(), q.slug())
	if err != nil {
		return err
	}
	page := &clientsPage{frame: c.frame(q, "clients")}
	for _, cl := range clients {
		page.Clients = append(page.Clients, clientRow{Client: cl, Builtin: tenant.IsBuiltinClient(cl.ID)})
	}
	page.Notice = notice(&page.frame, r)
	return c.render(w, http.StatusOK, page)
}

// clientForm is what the create and edit forms hold.
type clientForm struct {
	Name         string
	Public       bool
	RedirectURIs string // one per line
	LogoutURIs   string
}

// clientInput is a client form as read and checked at the edge.
type clientInput struct {
	name               string
	redirects, logouts []string
}

type clientNewPage struct {
	frame
	Form    clientForm
	Invalid map[string]bool
	// Once is the form's one-time token (once.go).
	Once string
}

func (clientNewPage) template() string { return tmplClientNew }

func (c *Console) newClientForm(w http.ResponseWriter, r *http.Request, q *request) error {
	return c.render(w, http.StatusOK, &clientNewPage{frame: c.frame(q, "clients"), Invalid: map[string]bool{},
		Once: newOnceToken()})
}

// MaxName is the most characters a client's name has, for the name
// field's maxlength.
func (clientForm) MaxName() int { return tenant.MaxClientNameLength }

// readURIs reads a textarea of URIs, one a line, leaving out blank lines
// and the spaces around each.
func readURIs(raw string) []string {
	var out []string
	for line := range strings.Lines(raw) {
		if u := strings.TrimSpace(line); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// readClientForm reads the create or the edit form. The service checks it
// (tenant.ValidateClient), and clientProblem says where it is wrong.
func readClientForm(f url.Values) (clientForm, clientInput) {
	form := clientForm{Name: strings.TrimSpace(f.Get("name")), Public: f.Get("type") == "public",
		RedirectURIs: f.Get("redirect_uris"), LogoutURIs: f.Get("logout_uris")}
	return form, clientInput{name: form.Name, redirects: readURIs(form.RedirectURIs), logouts: readURIs(form.LogoutURIs)}
}

// clientProblem is the problem the client form shows for a refusal of the
// service: the first rule of the client's it broke (formProblemOf), at the
// first field of the form among the parts of the client the rule judged
// (tenant.InvalidError.Parts), a URI given twice said with the list's
// name; nil when the error is no refusal.
func clientProblem(err error) *formProblem {
	prob := formProblemOf(err)
	var inv *tenant.InvalidError
	if prob == nil || !errors.As(err, &inv) {
		return prob
	}
	for _, part := range inv.Parts {
		if field := clientFormField(part); field != "" {
			prob.field = field
			break
		}
	}
	if inv.Code == tenant.CodeClientTwice {
		switch inv.Field {
		case tenant.FieldRedirectURIs:
			prob.key = "problem.redirectTwice"
		case tenant.FieldLogoutURIs:
			prob.key = "problem.logoutTwice"
		}
	}
	return prob
}

// clientFormField is the client form's field that edits part of a client,
// "" for a part the form does not show.
func clientFormField(part string) string {
	switch part {
	case tenant.FieldName:
		return "name"
	case tenant.FieldRedirectURIs:
		return "redirect_uris"
	case tenant.FieldLogoutURIs:
		return "logout_uris"
	}
	return ""
}

type clientSecretPage struct {
	frame
	Client tenant.Client
	Secret string
}

func (clientSecretPage) template() string { return tmplClientSecret }

// createClient registers an application with the service's default grants,
// the authorization code among them, so it needs a redirect URI. The form
// acts once (once.go): sent again, it registers nothing more.
func (c *Console) createClient(w http.ResponseWriter, r *http.Request, q *request) error {
	ctx := r.Context()
	token := r.PostForm.Get(onceField)
	form, in := readClientForm(r.PostForm)
	used, first, err := c.claimOnce(ctx, q, token)
	if err != nil {
		return err
	}
	if !first {
		return sentAlready("once.clientCreated", used.Result)
	}
	cl, secret, err := c.Service.CreateClient(ctx, q.slug(), tenant.NewClient{Name: in.name, Public: form.Public,
		RedirectURIs: in.redirects, PostLogoutRedirectURIs: in.logouts})
	if err == nil {
		if err := c.settleOnce(ctx, q, token, cl.ID); err != nil {
			return err
		}
		if secret == "" {
			http.Redirect(w, r, clientPath(cl.ID)+"?notice=clientSaved", http.StatusSeeOther)
			return nil
		}
		// The secret is shown in this response, once, and never again:
		// the service keeps only its hash. The page is not cached
		// (render).
		return c.render(w, http.StatusOK, &clientSecretPage{frame: c.frame(q, "clients"), Client: cl, Secret: secret})
	}
	if err := c.releaseOnce(ctx, q, token); err != nil {
		return err
	}
	prob := clientProblem(err)
	if prob == nil {
		return err
	}
	// What was typed stays, and so does the token: nothing was made.
	page := &clientNewPage{frame: c.frame(q, "clients"), Form: form, Invalid: map[string]bool{prob.field: true}, Once: token}
	page.Problem = page.Tf(prob.key, prob.args...)
	return c.render(w, http.StatusUnprocessableEntity, page)
}

type clientPage struct {
	frame
	Client  tenant.Client
	Builtin bool
	Form    clientForm
	Invalid map[string]bool
	// Version is the version of the client the edit form was made from
	// (version.go); Once the rotation form's one-time token (once.go).
	Version string
	Once    string
}

// clientShown is what the edit form shows of a client: the input of its
// version. The type is fixed at creation, and the secret is not shown: a
// new one does not make an open form stale.
type clientShown struct {
	Name                     string
	RedirectURIs, LogoutURIs []string
}

func clientShownOf(c tenant.Client) clientShown {
	return clientShown{Name: c.Name, RedirectURIs: c.RedirectURIs, LogoutURIs: c.PostLogoutRedirectURIs}
}

func (clientPage) template() string { return tmplClient }

func (c *Console) clientPage(r *http.Request, q *request) (*clientPage, error) {
	cl, err := c.Service.Client(r.Context(), q.slug(), r.PathValue("id"))
	if err != nil {
		return nil, serviceError(clientsSection, err)
	}
	return &clientPage{frame: c.frame(q, "clients"), Client: cl, Builtin: tenant.IsBuiltinClient(cl.ID),
		Form: clientForm{Name: cl.Name, Public: cl.Public(), RedirectURIs: strings.Join(cl.RedirectURIs, "\n"),
			LogoutURIs: strings.Join(cl.PostLogoutRedirectURIs, "\n")},
		Invalid: map[string]bool{}, Version: formVersion(clientShownOf(cl)), Once: newOnceToken()}, nil
}

func (c *Console) showClient(w http.ResponseWriter, r *http.Request, q *request) error {
	page, err := c.clientPage(r, q)
	if err != nil {
		return err
	}
	page.Notice = notice(&page.frame, r)
	return c.render(w, http.StatusOK, page)
}

// updateClient saves the edit form. A form made from another version of
// the client than the one stored (version.go) is refused and shown again
// with the client as it is now, what was sent listed beside it: it would
// otherwise undo whatever changed meanwhile. The service checks the
// version again in its transaction, so a change made between this read and
// the save is not undone either.
func (c *Console) updateClient(w http.ResponseWriter, r *http.Request, q *request) error {
	page, err := c.clientPage(r, q)
	if err != nil {
		return err
	}
	posted := r.PostForm.Get(versionField)
	form, in := readClientForm(r.PostForm)
	if !page.Builtin && staleForm(r.PostForm, clientShownOf(page.Client)) {
		// (A built-in client has no form: the service says it cannot
		// change.)
		return c.staleClient(w, page, form)
	}
	unchanged := func(cl tenant.Client) bool { return formVersion(clientShownOf(cl)) == posted }
	_, err = c.Service.UpdateClient(r.Context(), q.slug(), page.Client.ID, tenant.ClientChange{Name: &in.name,
		RedirectURIs: &in.redirects, PostLogoutRedirectURIs: &in.logouts, IfUnchanged: unchanged})
	switch {
	case err == nil:
		http.Redirect(w, r, clientPath(page.Client.ID)+"?notice=clientSaved", http.StatusSeeOther)
		return nil
	case errors.Is(err, tenant.ErrStale):
		if page, err = c.clientPage(r, q); err != nil {
			return err
		}
		return c.staleClient(w, page, form)
	case errors.Is(err, tenant.ErrNotFound):
		return serviceError(clientsSection, err)
	}
	prob := clientProblem(err)
	if prob == nil {
		return err
	}
	// The form keeps what was typed, and the version it was made from: a
	// change made meanwhile is still to be refused when it is sent again.
	form.Public = page.Client.Public()
	page.Form, page.Version, page.Problem = form, posted, page.Tf(prob.key, prob.args...)
	page.Invalid[prob.field] = true
	return c.render(w, http.StatusUnprocessableEntity, page)
}

// staleClient answers an edit form made from another version of the
// client: page is the client as it is now, with its form made anew, and
// the fields sent that differ from it are listed under the problem.
func (c *Console) staleClient(w http.ResponseWriter, page *clientPage, sent clientForm) error {
	now := page.Form
	page.refuseStale("problem.stale.client", []unsaved{
		{page.T("clients.col.name"), sent.Name, now.Name},
		{page.T("clients.col.redirects"), lineBreaks(sent.RedirectURIs), lineBreaks(now.RedirectURIs)},
		{page.T("clients.logouts"), lineBreaks(sent.LogoutURIs), lineBreaks(now.LogoutURIs)},
	})
	return c.render(w, http.StatusConflict, page)
}

// rotateSecret gives a confidential client a new secret, shown once. A
// public client has none (its page offers no rotation): the request is
// answered with the client's page, saying so. The form acts once
// (once.go): sent again, it leaves the secret shown the first time.
func (c *Console) rotateSecret(w http.ResponseWriter, r *http.Request, q *request) error {
	page, err := c.clientPage(r, q)
	if err != nil {
		return err
	}
	if page.Client.Public() {
		page.Problem = page.T("problem.publicClientSecret")
		return c.render(w, http.StatusConflict, page)
	}
	ctx, token := r.Context(), r.PostForm.Get(onceField)
	_, first, err := c.claimOnce(ctx, q, token)
	if err != nil {
		return err
	}
	if !first {
		return sentAlready("once.secretRotated", page.Client.ID)
	}
	cl, secret, err := c.Service.RotateClientSecret(ctx, q.slug(), page.Client.ID)
	if err != nil {
		if err := c.releaseOnce(ctx, q, token); err != nil {
			return err
		}
		return serviceError(clientsSection, err)
	}
	return c.render(w, http.StatusOK, &clientSecretPage{frame: c.frame(q, "clients"), Client: cl, Secret: secret})
}

func (c *Console) confirmDeleteClient(w http.ResponseWriter, r *http.Request, q *request) error {
	page, err := c.clientPage(r, q)
	if err != nil {
		return err
	}
	if page.Builtin {
		return serviceError(clientsSection, tenant.ErrBuiltinClient)
	}
	f := c.frame(q, "clients")
	return c.render(w, http.StatusOK, &confirmPage{frame: f,
		Heading: f.Tf("client.delete.heading", page.Client.Name), Text: f.T("client.delete.text"),
		Action: clientPath(page.Client.ID) + "/delete", Submit: f.T("client.delete.submit"), Cancel: clientPath(page.Client.ID)})
}

func (c *Console) deleteClient(w http.ResponseWriter, r *http.Request, q *request) error {
	if err := c.Service.DeleteClient(r.Context(), q.slug(), r.PathValue("id")); err != nil {
		return serviceError(clientsSection, err)
	}
	http.Redirect(w, r, "/admin/clients?notice=clientDeleted", http.StatusSeeOther)
	return nil
}
