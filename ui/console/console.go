package console

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui"
)

// Console serves the admin console. Set the fields, then call New.
type Console struct {
	Service *tenant.Service
	// Provider is the tenant's OpenID provider: the console signs in through
	// it and redeems its codes with it in-process.
	Provider *provider.Provider
	Logger   *slog.Logger
	Now      func() time.Time
	// IdleTimeout ends a console session nobody used for this long
	// (default 30 minutes); MaxAge ends any session (default 8 hours).
	IdleTimeout time.Duration
	MaxAge      time.Duration

	templates *ui.PageSet
	assets    ui.StaticFiles
	rp        *relyingParty
	mux       *http.ServeMux
}

// Base is the path the console is served under.
const Base = "/admin"

// importRoute is the one form whose post is not read by checkForm: the
// import streams its multipart upload and checks the token itself.
const importRoute = "POST " + Base + "/import"

// New checks c's fields, parses and checks the templates against the
// catalogue, and returns the console ready to serve.
func New(c Console) (*Console, error) {
	var missing []string
	if c.Service == nil {
		missing = append(missing, "Service")
	}
	if c.Provider == nil {
		missing = append(missing, "Provider")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("console: Console needs %s", strings.Join(missing, ", "))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 8 * time.Hour
	}
	if err := checkCatalogue(); err != nil {
		return nil, err
	}
	var err error
	if c.templates, err = parseTemplates(); err != nil {
		return nil, err
	}
	if c.assets, err = ui.LoadStaticFiles(files, "console.css", "console.js"); err != nil {
		return nil, err
	}
	c.rp = newRelyingParty(c.Provider, c.now)

	cc := &c
	m := http.NewServeMux()
	// Reachable without a session: the way in and out.
	m.HandleFunc("GET /admin/static/{name}", cc.serveStatic)
	m.Handle("GET /admin/login", cc.public(cc.startSignIn))
	m.Handle("GET /admin/callback", cc.public(cc.finishSignIn))
	m.Handle("GET /admin/signed-out", cc.public(cc.signedOut))

	// Everything else needs a console session of an administrator.
	routes := []struct {
		pattern string
		fn      handlerFunc
	}{
		{"GET /admin", redirectTo("/admin/users")},
		{"GET /admin/{$}", redirectTo("/admin/users")},
		{"POST /admin/logout", cc.logout},

		{"GET /admin/users", cc.listUsers},
		{"GET /admin/users/view", cc.viewSelected},
		{"GET /admin/users/new", cc.newUserForm},
		{"POST /admin/users/new", cc.createUser},
		{"GET /admin/users/{sub}", cc.showUser},
		{"GET /admin/users/{sub}/edit", cc.editUserForm},
		{"POST /admin/users/{sub}/edit", cc.saveUser},
		{"POST /admin/users/{sub}/activate", cc.activateUser},
		{"POST /admin/users/{sub}/disable", cc.disableUser},
		{"POST /admin/users/{sub}/resend", cc.resendInvitation},
		{"POST /admin/users/{sub}/reset-password", cc.resetPassword},
		{"POST /admin/users/{sub}/reset-mfa", cc.resetMFA},
		{"POST /admin/users/{sub}/unlock", cc.unlockUser},
		{"GET /admin/users/{sub}/delete", cc.confirmDeleteUser},
		{"POST /admin/users/{sub}/delete", cc.deleteUser},

		{"GET /admin/groups", cc.listGroups},
		{"POST /admin/groups", cc.createGroup},
		{"GET /admin/groups/{name}", cc.showGroup},
		{"POST /admin/groups/{name}/edit", cc.editGroup},
		{"POST /admin/groups/{name}/members", cc.addMember},
		{"POST /admin/groups/{name}/members/{sub}/remove", cc.removeMember},
		{"GET /admin/groups/{name}/delete", cc.confirmDeleteGroup},
		{"POST /admin/groups/{name}/delete", cc.deleteGroup},

		{"GET /admin/clients", cc.listClients},
		{"GET /admin/clients/new", cc.newClientForm},
		{"POST /admin/clients/new", cc.createClient},
		{"GET /admin/clients/{id}", cc.showClient},
		{"POST /admin/clients/{id}", cc.updateClient},
		{"POST /admin/clients/{id}/secret", cc.rotateSecret},
		{"GET /admin/clients/{id}/delete", cc.confirmDeleteClient},
		{"POST /admin/clients/{id}/delete", cc.deleteClient},

		{"GET /admin/settings", cc.settingsForm},
		{"POST /admin/settings", cc.saveSettings},
		{"GET /admin/audit", cc.auditLog},
		{"GET /admin/import", cc.importForm},
		{importRoute, cc.importUsers},
	}
	for _, rt := range routes {
		m.Handle(rt.pattern, cc.admin(rt.fn))
	}
	m.Handle(catchAll, cc.unrouted())
	cc.mux = m
	return cc, nil
}

// ServeHTTP serves the console. The request's context must carry the
// tenant's provider.Site, as provider.Router sets it.
//
// Every response with a status of 400 or more logs one line, as its status
// is written (outcome, logResponse): form refusals, missing pages and
// faults alike.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mux.ServeHTTP(&outcome{ResponseWriter: w, c: c, r: r}, r)
}

func (c *Console) now() time.Time { return c.Now().UTC() }

// handlerFunc is a console page: it writes a response, or returns an
// error that fail turns into a page.
type handlerFunc func(w http.ResponseWriter, r *http.Request, q *request) error

// request is what a console handler knows of its request.
type request struct {
	tenant tenant.Tenant
	lang   string
	origin string // the tenant's origin, e.g. https://acme.example.com
	// sess and admin are set on pages behind a session.
	sess  *session
	admin tenant.User
}

func (q *request) slug() string { return q.tenant.Slug }

// resolve finds the request's tenant, from the Host alone.
func (c *Console) resolve(r *http.Request) (*request, error) {
	site, ok := provider.SiteFromContext(r.Context())
	if !ok || site.Apex {
		return nil, &pageError{status: http.StatusNotFound, msg: "error.notFound", err: errors.New("console request without a tenant site")}
	}
	t, err := c.Service.Tenant(r.Context(), site.Slug)
	if errors.Is(err, tenant.ErrNotFound) {
		return nil, &pageError{status: http.StatusNotFound, msg: "error.notFound", err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("load tenant %q: %w", site.Slug, err)
	}
	return &request{
		tenant: t,
		lang:   ui.ChooseLanguage(r, t.Settings.Locale),
		origin: c.Provider.Hosts().TenantURL(t.Slug),
	}, nil
}

// public serves a page that needs no session.
func (c *Console) public(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := c.resolve(r)
		if err == nil {
			err = fn(w, r, q)
		}
		if err != nil {
			c.fail(w, r, q, err)
		}
	})
}

func redirectTo(path string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *request) error {
		http.Redirect(w, r, path, http.StatusFound)
		return nil
	}
}

func notFound(http.ResponseWriter, *http.Request, *request) error {
	return &pageError{status: http.StatusNotFound, msg: "error.notFound"}
}

// catchAll is the pattern of what no route of the console takes.
const catchAll = Base + "/"

// unrouted answers what no route takes. A path the console has, asked
// with a method it does not take, is 405 with the methods it does (this
// catch-all would otherwise hide ServeMux's own 405), with or without a
// session: which methods a path takes is no secret. Any other path is
// not found, behind the session like every console page.
func (c *Console) unrouted() http.Handler {
	missing := c.admin(notFound)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allow := c.allowed(r)
		if allow == "" {
			missing.ServeHTTP(w, r)
			return
		}
		c.public(func(http.ResponseWriter, *http.Request, *request) error {
			return &pageError{status: http.StatusMethodNotAllowed, msg: "error.method", allow: allow}
		}).ServeHTTP(w, r)
	})
}

// allowed lists the methods a route takes at r's path, for an Allow
// header; "" when none does.
func (c *Console) allowed(r *http.Request) string {
	var methods []string
	for _, m := range []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodPost, http.MethodPut} {
		probe := *r
		probe.Method = m
		if _, pattern := c.mux.Handler(&probe); pattern != "" && pattern != catchAll {
			methods = append(methods, m)
		}
	}
	return strings.Join(methods, ", ")
}
