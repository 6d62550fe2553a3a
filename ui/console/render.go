package console

import (
	"bytes"
	"embed"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui"
)

//go:embed templates/*.html static/*
var files embed.FS

// The pages, each a template file that defines "title" and "content" for
// the console's layout. New fails when one is missing or names a message
// key the catalogue lacks.
const (
	tmplMessage      = "message"
	tmplUsers        = "users"
	tmplUser         = "user"
	tmplUserEdit     = "user_edit"
	tmplUserNew      = "user_new"
	tmplConfirm      = "confirm"
	tmplGroups       = "groups"
	tmplGroup        = "group"
	tmplClients      = "clients"
	tmplClient       = "client"
	tmplClientNew    = "client_new"
	tmplClientSecret = "client_secret"
	tmplSettings     = "settings"
	tmplAudit        = "audit"
	tmplImport       = "import"
)

var requiredTemplates = []string{
	tmplMessage, tmplUsers, tmplUser, tmplUserEdit, tmplUserNew, tmplConfirm,
	tmplGroups, tmplGroup, tmplClients, tmplClient, tmplClientNew, tmplClientSecret,
	tmplSettings, tmplAudit, tmplImport,
}

func parseTemplates() (*ui.PageSet, error) {
	set, err := ui.ParsePages(files, []string{"layout"}, requiredTemplates, func(key string) bool {
		_, known := catalogue["en"][key]
		return known
	})
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return set, nil
}

// frame is what the layout needs; every page's data embeds it.
type frame struct {
	Lang string
	Org  string
	// Admin is the signed-in administrator's username; empty on pages
	// without a session, which then show no navigation.
	Admin string
	// CSRF is the session's form token.
	CSRF string
	// Section is the navigation entry of the page.
	Section string
	Notice  string
	Problem string
	// Unsaved are the values of a stale form that differ from the record
	// now (refuseStale), listed under Problem.
	Unsaved   []unsaved
	StyleURL  string
	ScriptURL string
	AccentURL string
	// Page is the page's own blocks, rendered, for the layout.
	Page ui.PageBlocks

	// keys remembers the catalogue key of each sentence the page was
	// given, by its text, so that the log line of a refusal names the key
	// of the Problem shown (problemKey), whichever handler chose it.
	keys map[string]string
}

// T returns a sentence of the page's language.
func (f *frame) T(key string) string { return f.said(key, text(f.Lang, key)) }

// Tf returns a sentence with its %-verbs filled.
func (f *frame) Tf(key string, args ...any) string { return f.said(key, text(f.Lang, key, args...)) }

func (f *frame) said(key, sentence string) string {
	if f.keys != nil {
		f.keys[sentence] = key
	}
	return sentence
}

// problemKey is the catalogue key of the page's Problem; "" when it has
// none.
func (f *frame) problemKey() string {
	if f.Problem == "" {
		return ""
	}
	return f.keys[f.Problem]
}

// When formats a time for the page; the zero time is a dash.
func (f *frame) When(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// Status is a user's state as the console names it.
func (f *frame) Status(u tenant.User) string { return f.T("status." + stateOf(u)) }

// StatusClass is a user's state for the badge's style.
func (f *frame) StatusClass(u tenant.User) string { return stateOf(u) }

func (f *frame) base() *frame { return f }

// view is a page's data: it names its template and carries the frame.
type view interface {
	template() string
	base() *frame
}

// frame builds the layout data of a page for q; section is the navigation
// entry it belongs to.
func (c *Console) frame(q *request, section string) frame {
	f := frame{
		Lang:      q.lang,
		Org:       q.tenant.Name,
		Section:   section,
		StyleURL:  c.assetURL("console.css"),
		ScriptURL: c.assetURL("console.js"),
		AccentURL: ui.AccentStylesheet(q.tenant.Settings.Branding.PrimaryColor),
		keys:      map[string]string{},
	}
	if q.sess != nil {
		f.Admin, f.CSRF = q.admin.Username, q.sess.CSRF
	}
	return f
}

// render executes a page into a buffer and only then writes it
// (ui.WritePage). A page written with a status of 400 or more is a refusal:
// its log line (logResponse) names the key of the Problem it shows, unless
// fail noted one already.
func (c *Console) render(w http.ResponseWriter, status int, v view) error {
	var buf bytes.Buffer
	if status >= http.StatusBadRequest {
		if o, ok := w.(*outcome); ok && o.key == "" {
			o.key = v.base().problemKey()
		}
	}
	// The templates' own sentences need no keys: stop noting them.
	v.base().keys = nil
	if err := c.templates.Render(&buf, v.template(), v, &v.base().Page); err != nil {
		return fmt.Errorf("console: render %s: %w", v.template(), err)
	}
	ui.WritePage(w, status, ui.ContentSecurityPolicy(), buf.Bytes())
	return nil
}

func (c *Console) assetURL(name string) string {
	return Base + "/static/" + name + "?v=" + c.assets.Version(name)
}

// serveStatic serves the console's CSS and JS; URLs carry a content hash,
// so a year of caching is safe.
func (c *Console) serveStatic(w http.ResponseWriter, r *http.Request) {
	if !c.assets.Serve(w, r.PathValue("name")) {
		http.NotFound(w, r)
	}
}

// Path escapes s as one segment of a URL path (a group name may hold a
// slash).
func (f *frame) Path(s string) string { return url.PathEscape(s) }
