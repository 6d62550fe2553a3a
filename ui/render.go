package ui

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

//go:embed templates/*.html static/*
var files embed.FS

// The pages, each a template file that defines "title" and "content" for the
// shared layout. New fails when one is missing.
const (
	tmplError         = "error"
	tmplLogin         = "login"
	tmplNewPassword   = "new_password"
	tmplResetRequired = "reset_required"
	tmplLoggedOut     = "logged_out"
	tmplTenantHome    = "tenant_home"
	tmplFindOrg       = "find_org"
	tmplDevMailList   = "dev_mail_list"
	tmplDevMail       = "dev_mail"
)

var requiredTemplates = []string{
	tmplError, tmplLogin, tmplNewPassword, tmplResetRequired, tmplLoggedOut,
	tmplTenantHome, tmplFindOrg, tmplDevMailList, tmplDevMail,
	tmplForgotPassword, tmplResetPassword, tmplResetDone, tmplWelcome, tmplFindOrgSent,
	tmplMFACode, tmplMFAWebAuthn, tmplMFASelect, tmplMFATOTPSetup, tmplRecoveryCodes, tmplAccount, // mfa.go
	tmplLogoutConfirm, // logout.go
}

// parseTemplates parses the layout, the shared partials and every page, and
// checks that every message key a template names exists in the catalogue.
func parseTemplates(fsys fs.FS) (*PageSet, error) {
	set, err := ParsePages(fsys, []string{"layout", "partials"}, requiredTemplates, func(key string) bool {
		_, known := catalogue[langEN][msgKey(key)]
		return known
	})
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	return set, nil
}

// frame is what the layout needs; every page's data struct embeds it.
type frame struct {
	Lang lang
	// Org is the organization's name; empty on the apex.
	Org string
	// CSRF is the form token; empty on pages without a form.
	CSRF      string
	StyleURL  string
	ScriptURL string
	AccentURL string
	// LogoURL is the organization's logo (Branding.LogoURL), when it has
	// a valid one; the CSP then admits its origin for images.
	LogoURL string
	// formAction lists where this page's forms may lead besides 'self' (the
	// CSP form-action directive also governs the redirects after a POST).
	formAction []string
	// Page is the page's own blocks, rendered, for the layout.
	Page PageBlocks
}

// T returns a sentence of the page's language.
func (f *frame) T(key string) string { return f.Lang.text(msgKey(key)) }

// Tf returns a sentence of the page's language with its %-verbs filled.
func (f *frame) Tf(key string, args ...any) string { return f.Lang.text(msgKey(key), args...) }

func (f *frame) base() *frame { return f }

// view is a page's data: it names its template and carries the frame.
type view interface {
	template() string
	base() *frame
}

// render executes a page into a buffer and only then writes the response
// (WritePage).
func (p *Pages) render(w http.ResponseWriter, status int, v view) error {
	var buf bytes.Buffer
	if err := p.templates.Render(&buf, v.template(), v, &v.base().Page); err != nil {
		return fmt.Errorf("ui: render %s: %w", v.template(), err)
	}
	WritePage(w, status, csp(v.base().formAction, origin(v.base().LogoURL)), buf.Bytes())
	return nil
}

// WritePage sends page, a whole HTML page, with status and the headers
// every page of the pages and of the console carries; policy is its
// Content-Security-Policy (ContentSecurityPolicy). A page is rendered
// into memory first and written only then, so that a template error
// becomes an error page, never half a page.
func WritePage(w http.ResponseWriter, status int, policy string, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", policy)
	// Pages hold form tokens and challenge sessions, and the console's
	// some a client secret shown once: never keep a copy.
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(status)
	_, _ = w.Write(page)
}

// csp is the Content-Security-Policy of a page. Nothing inline runs or
// styles; the tenant's colour arrives as a stylesheet of its own. imgSrc
// adds origins images may come from (the tenant's logo).
func csp(formAction []string, imgSrc ...string) string {
	fa := "'self'"
	for _, src := range formAction {
		if cspSource.MatchString(src) {
			fa += " " + src
		}
	}
	img := "'self' data:"
	for _, src := range imgSrc {
		if cspSource.MatchString(src) {
			img += " " + src
		}
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img + "; " +
		"frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action " + fa
}

// cspSource accepts a scheme://host[:port] source, with an optional leading
// "*." label, and nothing that could end the directive.
var cspSource = regexp.MustCompile(`^https?://(\*\.)?[A-Za-z0-9.\-\[\]:]+$`)

// origin returns scheme://host of an absolute URL, or "".
func origin(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	host, _, _ = strings.Cut(host, "#")
	if host == "" || strings.Contains(host, "@") {
		return ""
	}
	return strings.ToLower(scheme) + "://" + host
}

func (p *Pages) assetURL(name string) string {
	return "/static/" + name + "?v=" + p.assets.Version(name)
}

// accentFile names the stylesheet of an accent colour: the colour is in the
// name, so the file never changes and may be cached for good.
var accentFile = regexp.MustCompile(`^accent-([0-9a-f]{6})\.css$`)

// defaultAccent is Cognate's own colour, for the apex and unbranded tenants.
const defaultAccent = "2557d6"

// accentURL returns the stylesheet URL for a tenant's Branding.PrimaryColor;
// anything but #rgb or #rrggbb gets the default.
func accentURL(color string) string {
	return "/static/accent-" + normalizeColor(color) + ".css"
}

func normalizeColor(c string) string {
	c = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(c), "#"))
	if len(c) == 3 {
		c = string([]byte{c[0], c[0], c[1], c[1], c[2], c[2]})
	}
	if len(c) != 6 || strings.Trim(c, "0123456789abcdef") != "" {
		return defaultAccent
	}
	return c
}

// accentCSS sets the accent and the colours that read well on and beside it:
// white or near-black text on accent buttons, and a darker shade for links
// when the accent itself is too light to read on white (WCAG AA, 4.5:1).
func accentCSS(hexColor string) []byte {
	r, g, b := hexRGB(hexColor)
	on := "#ffffff"
	if contrast(luminance(r, g, b), 1) < contrast(luminance(r, g, b), luminance(24, 24, 27)) {
		on = "#18181b"
	}
	ink := [3]float64{r, g, b}
	for i := 0; i < 20 && contrast(luminance(ink[0], ink[1], ink[2]), 1) < 4.5; i++ {
		for j := range ink {
			ink[j] *= 0.9
		}
	}
	return fmt.Appendf(nil, ":root{--accent:#%s;--on-accent:%s;--accent-ink:#%02x%02x%02x}\n",
		hexColor, on, int(ink[0]), int(ink[1]), int(ink[2]))
}

func hexRGB(h string) (r, g, b float64) {
	v, _ := strconv.ParseUint(h, 16, 32)
	return float64(v >> 16 & 0xff), float64(v >> 8 & 0xff), float64(v & 0xff)
}

// luminance is WCAG's relative luminance of an sRGB colour (0–255 channels).
func luminance(r, g, b float64) float64 {
	lin := func(c float64) float64 {
		c /= 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

func contrast(l1, l2 float64) float64 {
	if l1 < l2 {
		l1, l2 = l2, l1
	}
	return (l1 + 0.05) / (l2 + 0.05)
}

// serveStatic serves the embedded CSS and JS, and accent stylesheets. URLs
// carry a version or the colour, so a year of caching is safe.
func (p *Pages) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if p.assets.Serve(w, name) {
		return
	}
	if m := accentFile.FindStringSubmatch(name); m != nil {
		writeStatic(w, "text/css; charset=utf-8", accentCSS(m[1]))
		return
	}
	// A person may open an address under /static too: they read the
	// page of any unknown address, in their language.
	p.fail(w, r, errNotFound(w, r))
}
