package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// DevExampleRPURL is where cmd/example-rp listens by default. In development
// mode a tenant's start page links to it when the tenant has a client whose
// redirect URI is DevExampleRPURL + "/callback" (the demo client should).
const DevExampleRPURL = "http://127.0.0.1:9090"

// Pages serves the HTML pages. Set the fields, then call New.
type Pages struct {
	Provider *provider.Provider
	Auth     *auth.Machine
	Service  *tenant.Service
	Logger   *slog.Logger
	Now      func() time.Time
	// DevMail is the development mail sink whose mail /dev/mail shows; nil
	// outside development mode.
	DevMail *mail.DevSink
	// Dev turns on the development pages (/dev/mail, the example RP link).
	Dev bool
	// Console, when set, is the tenant admin console (ui/console), served
	// under /admin on tenant hosts. (The operator's admin API lives under
	// /admin/v1/ on the apex only, so the paths never meet.)
	Console http.Handler

	templates   *PageSet
	assets      StaticFiles
	tenantMux   http.Handler
	apexMux     http.Handler
	notFoundMux http.Handler
	// unavailableMux answers for an organization that cannot be served now.
	unavailableMux http.Handler
}

// New checks p's fields, parses and checks the templates and the message
// catalogue, and returns the pages ready to serve.
func New(p Pages) (*Pages, error) {
	var missing []string
	if p.Provider == nil {
		missing = append(missing, "Provider")
	}
	if p.Auth == nil {
		missing = append(missing, "Auth")
	}
	if p.Service == nil {
		missing = append(missing, "Service")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("ui: Pages needs %s", strings.Join(missing, ", "))
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if err := checkCatalogue(); err != nil {
		return nil, err
	}
	var err error
	if p.templates, err = parseTemplates(files); err != nil {
		return nil, err
	}
	if p.assets, err = LoadStaticFiles(files, "style.css", "app.js"); err != nil {
		return nil, err
	}

	pp := &p
	tm := http.NewServeMux()
	tm.Handle("GET /{$}", pp.handle(pp.tenantHome))
	tm.Handle("GET /login", pp.handle(pp.getLogin))
	tm.Handle("POST /login", pp.handle(pp.postLogin))
	tm.Handle("POST /login/new-password", pp.handle(pp.postNewPassword))
	tm.Handle("GET "+provider.PathLoggedOut, pp.handle(pp.loggedOut))
	tm.Handle("GET "+provider.PathLogoutConfirm, pp.handle(pp.getLogoutConfirm))
	tm.Handle("POST "+provider.PathLogoutConfirm, pp.handle(pp.postLogoutConfirm))
	tm.Handle("GET /forgot-password", pp.handle(pp.getForgotPassword))
	tm.Handle("POST /forgot-password", pp.handle(pp.postForgotPassword))
	tm.Handle("GET "+tenant.PathResetPassword, pp.handle(pp.getResetPassword))
	tm.Handle("POST "+tenant.PathResetPassword, pp.handle(pp.postResetPassword))
	tm.Handle("GET "+tenant.PathSignIn, pp.handle(pp.startSignIn))
	tm.Handle("GET "+tenant.PathWelcome, pp.handle(pp.welcome))
	pp.mountMFA(tm)
	// The addresses of forms are left in the address bar after a refused
	// POST, and reloaded or bookmarked from there: other methods get a
	// way on, not "page not found".
	for _, path := range []string{"/login/new-password", "/login/mfa/{step}", "/login/passkey", "/login/passkey/finish"} {
		tm.Handle(path, pp.handle(signInStepOnly))
	}
	for _, path := range []string{pathAccountPassword, "/account/mfa/{step}", "/account/recovery-codes"} {
		tm.Handle(path, pp.handle(accountFormOnly))
	}
	// A page's own address sent another method says which it takes, as
	// HTTP asks, rather than that the page does not exist.
	for _, page := range []struct{ path, allow string }{
		{"/{$}", "GET, HEAD"},
		{"/login", "GET, HEAD, POST"},
		{provider.PathLogoutConfirm, "GET, HEAD, POST"},
		{provider.PathLoggedOut, "GET, HEAD"},
		{"/forgot-password", "GET, HEAD, POST"},
		{tenant.PathResetPassword, "GET, HEAD, POST"},
		{tenant.PathSignIn, "GET, HEAD"},
		{tenant.PathWelcome, "GET, HEAD"},
		{"/account", "GET, HEAD"},
	} {
		tm.Handle(page.path, pp.handle(methodNotAllowed(page.allow)))
	}
	pp.mountStatic(tm)
	if p.Console != nil {
		tm.Handle("/admin", p.Console)
		tm.Handle("/admin/", p.Console)
	}
	tm.Handle("/", pp.handle(errNotFound))
	pp.tenantMux = tm

	am := http.NewServeMux()
	am.Handle("GET /{$}", pp.handle(pp.getFindOrg))
	am.Handle("POST /{$}", pp.handle(pp.postFindOrg))
	am.Handle("/{$}", pp.handle(methodNotAllowed("GET, HEAD, POST")))
	pp.mountStatic(am)
	if p.Dev {
		am.Handle("GET /dev/mail", pp.handle(pp.devMailList))
		am.Handle("GET /dev/mail/{id}", pp.handle(pp.devMail))
		am.HandleFunc("GET /dev/mail/{id}/html", pp.devMailHTML)
	}
	am.Handle("/", pp.handle(errNotFound))
	pp.apexMux = am

	pp.notFoundMux = pp.onePage(func(http.ResponseWriter, *http.Request) error { return pp.noOrganization(nil) })
	pp.unavailableMux = pp.onePage(func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Retry-After", "30")
		return &pageError{status: http.StatusServiceUnavailable, heading: msgOrgUnavailableHead, msg: msgOrgUnavailable, reported: true}
	})
	return pp, nil
}

// onePage answers every path with page, but for the stylesheet and script
// that page needs, so that it is not left unstyled.
func (p *Pages) onePage(page handlerFunc) http.Handler {
	m := http.NewServeMux()
	p.mountStatic(m)
	m.Handle("/", p.handle(page))
	return m
}

// mountStatic serves the static files on m. Their addresses sent another
// method say which they take, as the pages' own do, rather than that the
// file does not exist.
func (p *Pages) mountStatic(m *http.ServeMux) {
	m.HandleFunc("GET /static/{name}", p.serveStatic)
	m.Handle("/static/{name}", p.handle(methodNotAllowed("GET, HEAD")))
}

// Tenant serves a tenant's pages. The request's context carries the tenant's
// provider.Site (the Router puts it there after checking the tenant exists).
func (p *Pages) Tenant() http.Handler { return p.tenantMux }

// Apex serves the apex site: "find your organization", and in development
// mode the mailbox.
func (p *Pages) Apex() http.Handler { return p.apexMux }

// NotFound answers for a host with no organization behind it. Its own
// stylesheet and script are served too, so the page is not left unstyled.
func (p *Pages) NotFound() http.Handler { return p.notFoundMux }

// Unavailable answers for an organization that exists but cannot be served
// now (see provider.Router), with its stylesheet and script as NotFound.
func (p *Pages) Unavailable() http.Handler { return p.unavailableMux }

// noOrganization is the page for a host no organization answers at; it
// points to the apex, where the person can look theirs up.
func (p *Pages) noOrganization(err error) error {
	return &pageError{status: http.StatusNotFound, heading: msgNoOrgHeading, msg: msgNoOrg,
		next: &next{p.Provider.Hosts().ApexURL() + "/", msgNoOrgLink}, err: err}
}

// env is what a page knows of its request: the site, its tenant and the
// language to speak.
type env struct {
	site   provider.Site
	tenant tenant.Tenant // zero on the apex
	lang   lang
	// langAsked reports that the person chose lang (an application's
	// ui_locales, the browser's preference) rather than the organization.
	langAsked bool
}

func (e env) slug() string { return e.site.Slug }

// mailLocale is the language a mail the person asks for on the page speaks
// before the user's own and the organization's: the page's, when the
// person chose it; "" when the page speaks the organization's language
// only because nobody chose another, so that a user's own language
// (the user's locale attribute) still comes first.
func (e env) mailLocale() string {
	if e.langAsked {
		return string(e.lang)
	}
	return ""
}

// env resolves the request's site and, on a tenant host, loads the tenant.
func (p *Pages) env(r *http.Request) (env, error) {
	site, ok := provider.SiteFromContext(r.Context())
	if !ok {
		return env{}, errors.New("ui: request carries no site; serve the pages behind provider.Router")
	}
	e := env{site: site}
	if !site.Apex {
		t, err := p.Service.Tenant(r.Context(), site.Slug)
		if errors.Is(err, tenant.ErrNotFound) {
			// Deleted between the Router's check and now.
			return env{}, p.noOrganization(err)
		}
		if err != nil {
			return env{}, fmt.Errorf("load tenant %q: %w", site.Slug, err)
		}
		t.Settings = t.Settings.WithDefaults()
		e.tenant = t
	}
	e.lang, e.langAsked = chooseLang(r, e.tenant.Settings.Locale)
	return e, nil
}

// envBestEffort is env for error pages: whatever could be learnt.
func (p *Pages) envBestEffort(r *http.Request) env {
	if e, err := p.env(r); err == nil {
		return e
	}
	l, asked := chooseLang(r, "")
	return env{site: provider.Site{Apex: true}, lang: l, langAsked: asked}
}

// origin is the address the request's site is served at.
func (p *Pages) origin(e env) string {
	if e.site.Apex {
		return p.Provider.Hosts().ApexURL()
	}
	return p.Provider.Hosts().TenantURL(e.slug())
}

// frame builds the layout data of a page; csrf is the form token, if the
// page has a form.
func (p *Pages) frame(e env, csrf string) frame {
	return frame{
		Lang:      e.lang,
		Org:       e.tenant.Name,
		CSRF:      csrf,
		StyleURL:  p.assetURL("style.css"),
		ScriptURL: p.assetURL("app.js"),
		AccentURL: accentURL(e.tenant.Settings.Branding.PrimaryColor),
		LogoURL:   logoURL(e.tenant.Settings.Branding.LogoURL),
	}
}

// logoURL is a tenant's logo address if it is one the settings accept;
// a record written before that check never reaches a page.
func logoURL(raw string) string {
	if raw == "" || !tenant.ValidLogoURL(raw) {
		return ""
	}
	return raw
}
