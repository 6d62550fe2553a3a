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

type clientNewPage struct {
	frame
	Form    clientForm
	Invalid map[string]bool
}

func (clientNewPage) template() string { return tmplClientNew }

func (c *Console) newClientForm(w http.ResponseWriter, r *http.Request, q *request) error {
	return c.render(w, http.StatusOK, &clientNewPage{frame: c.frame(q, "clients"), Invalid: map[string]bool{}})
}

// parseURIs reads a textarea of URIs, one per line, each checked as the
// service will check it, so the person reads which one is wrong.
func parseURIs(field, raw string) ([]string, *formProblem) {
	var out []string
	for line := range strings.Lines(raw) {
		u := strings.TrimSpace(line)
		if u == "" {
			continue
		}
		if err := tenant.ValidateRedirectURI(u); err != nil {
			return nil, &formProblem{field: field, key: "problem.uri", args: []any{u}}
		}
		out = append(out, u)
	}
	return out, nil
}

func readClientForm(f url.Values) (clientForm, []string, []string, *formProblem) {
	form := clientForm{Name: strings.TrimSpace(f.Get("name")), Public: f.Get("type") == "public",
		RedirectURIs: f.Get("redirect_uris"), LogoutURIs: f.Get("logout_uris")}
	redirects, prob := parseURIs("redirect_uris", form.RedirectURIs)
	if prob != nil {
		return form, nil, nil, prob
	}
	logouts, prob := parseURIs("logout_uris", form.LogoutURIs)
	if prob != nil {
		return form, nil, nil, prob
	}
	if len(redirects) == 0 {
		return form, nil, nil, &formProblem{field: "redirect_uris", key: "problem.noRedirect"}
	}
	return form, redirects, logouts, nil
}

type clientSecretPage struct {
	frame
	Client tenant.Client
	Secret string
}

func (clientSecretPage) template() string { return tmplClientSecret }

func (c *Console) createClient(w http.ResponseWriter, r *http.Request, q *request) error {
	form, redirects, logouts, prob := readClientForm(r.PostForm)
	if prob == nil && form.Name == "" {
		prob = &formProblem{field: "name", key: "problem.clientName"}
	}
	if prob != nil {
		page := &clientNewPage{frame: c.frame(q, "clients"), Form: form, Invalid: map[string]bool{prob.field: true}}
		page.Problem = page.Tf(prob.key, prob.args...)
		return c.render(w, http.StatusUnprocessableEntity, page)
	}
	cl, secret, err := c.Service.CreateClient(r.Context(), q.slug(), tenant.NewClient{Name: form.Name, Public: form.Public,
		RedirectURIs: redirects, PostLogoutRedirectURIs: logouts})
	if err != nil {
		return serviceError(clientsSection, err)
	}
	if secret == "" {
		http.Redirect(w, r, clientPath(cl.ID)+"?notice=clientSaved", http.StatusSeeOther)
		return nil
	}
	// The secret is shown in this response, once, and never again: the
	// service keeps only its hash. The page is not cached (render).
	f := c.frame(q, "clients")
	return c.render(w, http.StatusOK, &clientSecretPage{frame: f, Client: cl, Secret: secret})
}

type clientPage struct {
	frame
	Client  tenant.Client
	Builtin bool
	Form    clientForm
	Invalid map[string]bool
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
		Invalid: map[string]bool{}}, nil
}

func (c *Console) showClient(w http.ResponseWriter, r *http.Request, q *request) error {
	page, err := c.clientPage(r, q)
	if err != nil {
		return err
	}
	page.Notice = notice(&page.frame, r)
	return c.render(w, http.StatusOK, page)
}

func (c *Console) updateClient(w http.ResponseWriter, r *http.Request, q *request) error {
	page, err := c.clientPage(r, q)
	if err != nil {
		return err
	}
	form, redirects, logouts, prob := readClientForm(r.PostForm)
	if prob == nil && form.Name == "" {
		prob = &formProblem{field: "name", key: "problem.clientName"}
	}
	if prob == nil {
		_, err := c.Service.UpdateClient(r.Context(), q.slug(), page.Client.ID,
			tenant.ClientChange{Name: &form.Name, RedirectURIs: &redirects, PostLogoutRedirectURIs: &logouts})
		if err == nil {
			http.Redirect(w, r, clientPath(page.Client.ID)+"?notice=clientSaved", http.StatusSeeOther)
			return nil
		}
		key := problemKey(err)
		if key == "" || errors.Is(err, tenant.ErrNotFound) {
			return serviceError(clientsSection, err)
		}
		prob = &formProblem{key: key}
	}
	form.Public = page.Client.Public()
	page.Form, page.Problem = form, page.Tf(prob.key, prob.args...)
	page.Invalid[prob.field] = true
	return c.render(w, http.StatusUnprocessableEntity, page)
}

// rotateSecret gives a confidential client a new secret, shown once. A
// public client has none (its page offers no rotation): the request is
// answered with the client's page, saying so.
func (c *Console) rotateSecret(w http.ResponseWriter, r *http.Request, q *request) error {
	page, err := c.clientPage(r, q)
	if err != nil {
		return err
	}
	if page.Client.Public() {
		page.Problem = page.T("problem.publicClientSecret")
		return c.render(w, http.StatusConflict, page)
	}
	cl, secret, err := c.Service.RotateClientSecret(r.Context(), q.slug(), page.Client.ID)
	if err != nil {
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
