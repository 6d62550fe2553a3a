package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	texttemplate "text/template"
)

// Mail kinds, the first argument of Templates.Render. Each has its own data
// struct, named in its comment.
const (
	// KindWelcome (Welcome): an administrator created an account.
	KindWelcome = "welcome"
	// KindResetCode (ResetCode): the user asked for a password reset.
	KindResetCode = "reset_code"
	// KindOrganizationLinks (OrganizationLinks): someone asked, on the apex
	// "find your organization" page, where an address can sign in.
	KindOrganizationLinks = "organization_links"
	// KindAdminReset (AdminReset): an administrator reset the password.
	KindAdminReset = "admin_reset"
)

// Welcome is the data of KindWelcome.
type Welcome struct {
	TenantName        string
	Username          string
	TemporaryPassword string
	LoginURL          string
	// ValidDays is how long the temporary password lasts; 0 leaves the
	// sentence out.
	ValidDays int
}

// ResetCode is the data of KindResetCode.
type ResetCode struct {
	TenantName   string
	Username     string
	Code         string
	ValidMinutes int
}

// OrganizationLinks is the data of KindOrganizationLinks. With no
// organization, the mail says none was found and suggests asking an
// administrator; sending it either way keeps the page from telling who has
// an account.
type OrganizationLinks struct {
	Email         string
	Organizations []OrgLink
}

// OrgLink is one organization the address can sign in to.
type OrgLink struct {
	Name     string
	LoginURL string
}

// AdminReset is the data of KindAdminReset.
type AdminReset struct {
	TenantName   string
	Username     string
	Code         string
	ValidMinutes int
	LoginURL     string
}

// Branding is a tenant's look in the HTML layout. A value that is not a hex
// colour or an http(s) URL is replaced by the default or left out, so a bad
// setting cannot break or inject into the layout.
type Branding struct {
	PrimaryColor string // "#rgb" or "#rrggbb" (with optional alpha)
	LogoURL      string
}

// DefaultPrimaryColor is used when Branding.PrimaryColor is empty or invalid.
const DefaultPrimaryColor = "#2563eb"

// Template errors.
var (
	// ErrMissingTemplate: a required template file, or a definition inside
	// one, is missing.
	ErrMissingTemplate = errors.New("mail: missing template")
	// ErrUnknownTemplate: an override file matches no template name, which
	// is most likely a typo that would otherwise be ignored.
	ErrUnknownTemplate = errors.New("mail: unknown template override")
	// ErrUnknownKind: Render got a kind that is not one of the Kind constants.
	ErrUnknownKind = errors.New("mail: unknown mail kind")
	// ErrWrongData: Render got data of another type than the kind's struct.
	ErrWrongData = errors.New("mail: wrong template data")
	// ErrSecretExposed: a template puts a secret (a temporary password, a
	// code) in the subject, which is logged and shown in mail lists, or in
	// the markup of the HTML part or a URL, which end up in browser history
	// and proxy logs.
	ErrSecretExposed = errors.New("mail: template exposes a secret")
)

//go:embed templates/*.tmpl
var embedded embed.FS

// The template files, one name per (kind, language, format) plus the HTML
// layout. An override file replaces the file of the same name.
//
// Every template sees a view: .Lang ("en" or "nl"), .Branding (normalized),
// .Data (the kind's struct) and, in HTML, .Subject. A text file defines
// "subject" and its body is the text part. An HTML file defines "content",
// which the layout's "layout" wraps; the layout also defines "copyable",
// which shows a code or password in a monospace box that one click selects.
// Secrets belong in "copyable", never in a subject (subjects are logged) nor
// in a URL (URLs end up in browser history and proxy logs); NewTemplates
// refuses a template that puts one there (see exposedSecrets).
const layoutName = "layout.html.tmpl"

func textName(kind, lang string) string { return kind + "." + lang + ".txt.tmpl" }
func htmlName(kind, lang string) string { return kind + "." + lang + ".html.tmpl" }

func kinds() []string {
	return []string{KindWelcome, KindResetCode, KindOrganizationLinks, KindAdminReset}
}

// Languages are the languages the mails are written in, a new slice each
// call; the first is the fallback. An organization chooses among them
// (tenant.Languages).
func Languages() []string { return []string{"en", "nl"} }

// trialData returns the kind's data struct with every field set, each
// secret to a placeholder of its own that no escaper changes, and those
// placeholders by field name.
func trialData(kind string) (any, map[string]string) {
	const (
		loginURL = "https://tenant.example.com/sign-in?login_hint=ann"
		// Letters and digits only: the same in text, HTML and URLs.
		placeholder = "Zq9SecretPlaceholder"
	)
	switch kind {
	case KindWelcome:
		return Welcome{TenantName: "Example", Username: "ann", TemporaryPassword: placeholder + "TemporaryPassword",
			LoginURL: loginURL, ValidDays: 7}, map[string]string{"TemporaryPassword": placeholder + "TemporaryPassword"}
	case KindResetCode:
		return ResetCode{TenantName: "Example", Username: "ann", Code: placeholder + "Code", ValidMinutes: 15},
			map[string]string{"Code": placeholder + "Code"}
	case KindOrganizationLinks:
		return OrganizationLinks{Email: "ann@example.com", Organizations: []OrgLink{{Name: "Example", LoginURL: loginURL}}}, nil
	case KindAdminReset:
		return AdminReset{TenantName: "Example", Username: "ann", Code: placeholder + "Code", ValidMinutes: 60, LoginURL: loginURL},
			map[string]string{"Code": placeholder + "Code"}
	}
	return nil, nil
}

// zeroData returns the kind's data struct, zero.
func zeroData(kind string) (any, bool) {
	switch kind {
	case KindWelcome:
		return Welcome{}, true
	case KindResetCode:
		return ResetCode{}, true
	case KindOrganizationLinks:
		return OrganizationLinks{}, true
	case KindAdminReset:
		return AdminReset{}, true
	}
	return nil, false
}

func requiredTemplates() []string {
	names := []string{layoutName}
	for _, kind := range kinds() {
		for _, lang := range Languages() {
			names = append(names, textName(kind, lang), htmlName(kind, lang))
		}
	}
	return names
}

// Templates renders mails. It is safe for concurrent use.
type Templates struct {
	sets map[setKey]templateSet
}

type setKey struct{ kind, lang string }

type templateSet struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// view is what every template sees; see layoutName.
type view struct {
	Lang     string
	Subject  string
	Branding Branding
	Data     any
}

// NewTemplates parses the embedded templates, each replaced by the file of
// the same name in overrides (nil for none; files at its root, named like
// "welcome.nl.html.tmpl"). It fails when a template is missing, does not
// parse, does not render with empty or full data, or puts a secret in a
// subject, an HTML attribute or a URL (ErrSecretExposed), so that a broken
// or careless override stops start-up instead of the first mail.
func NewTemplates(overrides fs.FS) (*Templates, error) {
	base, err := fs.Sub(embedded, "templates")
	if err != nil {
		return nil, fmt.Errorf("mail: embedded templates: %w", err)
	}
	return newTemplates(base, overrides)
}

// LoadOverrides reads an operator's template directory: templates at its
// root replace the built-in ones for every tenant, and a directory named
// after a tenant's slug holds that tenant's own replacements, applied on top
// of the root ones. It returns the templates for every tenant and those of
// each tenant with a directory; every set is checked as NewTemplates checks.
func LoadOverrides(dir fs.FS) (all *Templates, perTenant map[string]*Templates, err error) {
	base, err := fs.Sub(embedded, "templates")
	if err != nil {
		return nil, nil, fmt.Errorf("mail: embedded templates: %w", err)
	}
	if all, err = newTemplates(base, dir); err != nil {
		return nil, nil, err
	}
	entries, err := fs.ReadDir(dir, ".")
	if err != nil {
		return nil, nil, fmt.Errorf("mail: read template directory: %w", err)
	}
	perTenant = map[string]*Templates{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub, err := fs.Sub(dir, e.Name())
		if err != nil {
			return nil, nil, err
		}
		t, err := newTemplates(base, dir, sub)
		if err != nil {
			return nil, nil, fmt.Errorf("templates of %s: %w", e.Name(), err)
		}
		perTenant[e.Name()] = t
	}
	return all, perTenant, nil
}

// newTemplates builds the templates of base with each override layer
// applied in order, a later layer's file replacing an earlier one's.
func newTemplates(base fs.FS, layers ...fs.FS) (*Templates, error) {
	sources, err := readTemplates(base)
	if err != nil {
		return nil, err
	}
	for _, overrides := range layers {
		if overrides == nil {
			continue
		}
		over, err := readTemplates(overrides)
		if err != nil {
			return nil, err
		}
		required := map[string]bool{}
		for _, name := range requiredTemplates() {
			required[name] = true
		}
		var unknown []string
		for name, src := range over {
			if !required[name] {
				unknown = append(unknown, name)
				continue
			}
			sources[name] = src
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("%w: %s", ErrUnknownTemplate, quoteList(unknown))
		}
	}

	var missing []string
	for _, name := range requiredTemplates() {
		if _, ok := sources[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrMissingTemplate, quoteList(missing))
	}

	t := &Templates{sets: map[setKey]templateSet{}}
	var problems []error
	for _, kind := range kinds() {
		for _, lang := range Languages() {
			set, err := parseSet(sources, kind, lang)
			if err != nil {
				problems = append(problems, err)
				continue
			}
			t.sets[setKey{kind, lang}] = set
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}

	// Trial runs find what parsing cannot: a misspelt field, a layout
	// without "copyable", with empty data and with full data; and with
	// full data, a secret put where it is logged or leaks.
	for _, kind := range kinds() {
		zero, _ := zeroData(kind)
		full, secrets := trialData(kind)
		for _, lang := range Languages() {
			if _, _, _, err := t.Render(kind, lang, zero, Branding{}); err != nil {
				problems = append(problems, err)
				continue
			}
			subject, text, html, err := t.Render(kind, lang, full, Branding{})
			if err != nil {
				problems = append(problems, err)
				continue
			}
			problems = append(problems, exposedSecrets(kind, lang, subject, text, html, secrets)...)
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return t, nil
}

// urlPattern finds URLs in a rendered part, where a mail client would make
// them links.
var urlPattern = regexp.MustCompile(`(?i)(?:\b[a-z][a-z0-9+.-]*://|\bmailto:|\bwww\.)[^\s<>"']+`)

// exposedSecrets reports each secret (field name → placeholder) that a
// trial rendering puts in the subject, in the HTML part's markup (every
// attribute: links, images, forms, styles) or in a URL. A secret belongs in
// the body's text only, in "copyable".
func exposedSecrets(kind, lang, subject, text, html string, secrets map[string]string) []error {
	var problems []error
	for _, field := range slices.Sorted(maps.Keys(secrets)) {
		secret := secrets[field]
		if strings.Contains(subject, secret) {
			problems = append(problems, fmt.Errorf("%w: %s puts .Data.%s in the subject, which is logged", ErrSecretExposed, textName(kind, lang), field))
		}
		for _, u := range urlPattern.FindAllString(text, -1) {
			if strings.Contains(u, secret) {
				problems = append(problems, fmt.Errorf("%w: %s puts .Data.%s in a URL", ErrSecretExposed, textName(kind, lang), field))
				break
			}
		}
		if inMarkup(html, secret) {
			problems = append(problems, fmt.Errorf("%w: %s puts .Data.%s in a tag's attribute, such as a link", ErrSecretExposed, htmlName(kind, lang), field))
		} else {
			for _, u := range urlPattern.FindAllString(html, -1) {
				if strings.Contains(u, secret) {
					problems = append(problems, fmt.Errorf("%w: %s puts .Data.%s in a URL", ErrSecretExposed, htmlName(kind, lang), field))
					break
				}
			}
		}
	}
	return problems
}

// inMarkup reports whether s occurs inside a tag of html, between its "<"
// and ">": in an attribute. html/template escapes those two characters
// everywhere else, so the tags are found without an HTML parser.
func inMarkup(html, s string) bool {
	rest := html
	for {
		start := strings.IndexByte(rest, '<')
		if start < 0 {
			return false
		}
		rest = rest[start:]
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			return strings.Contains(rest, s)
		}
		if strings.Contains(rest[:end], s) {
			return true
		}
		rest = rest[end+1:]
	}
}

// readTemplates returns the *.tmpl files at the root of fsys by name.
func readTemplates(fsys fs.FS) (map[string]string, error) {
	names, err := fs.Glob(fsys, "*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("mail: list templates: %w", err)
	}
	sources := make(map[string]string, len(names))
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("mail: read template: %w", err)
		}
		sources[name] = string(b)
	}
	return sources, nil
}

// parseSet parses one mail's text template, and its HTML content inside its
// own copy of the layout.
func parseSet(sources map[string]string, kind, lang string) (templateSet, error) {
	var problems []error

	tn := textName(kind, lang)
	text, err := texttemplate.New(tn).Parse(sources[tn])
	if err != nil {
		problems = append(problems, fmt.Errorf("mail: parse %s: %w", tn, err))
	} else if text.Lookup("subject") == nil {
		problems = append(problems, fmt.Errorf("%w: %s defines no \"subject\"", ErrMissingTemplate, tn))
	}

	hn := htmlName(kind, lang)
	html, err := htmltemplate.New(layoutName).Parse(sources[layoutName])
	if err != nil {
		problems = append(problems, fmt.Errorf("mail: parse %s: %w", layoutName, err))
	} else if html, err = html.New(hn).Parse(sources[hn]); err != nil {
		problems = append(problems, fmt.Errorf("mail: parse %s: %w", hn, err))
	} else {
		for _, def := range []string{"layout", "content"} {
			if html.Lookup(def) == nil {
				problems = append(problems, fmt.Errorf("%w: %s with %s defines no %q", ErrMissingTemplate, layoutName, hn, def))
			}
		}
	}

	if len(problems) > 0 {
		return templateSet{}, errors.Join(problems...)
	}
	return templateSet{text: text, html: html}, nil
}

// Render renders a mail of the given kind in the language of locale ("nl",
// "nl-BE", "en-GB"…; anything unsupported gets English). data must be the
// kind's struct (a Welcome for KindWelcome…). Nothing is returned unless all
// three parts rendered.
func (t *Templates) Render(kind, locale string, data any, branding Branding) (subject, text, html string, err error) {
	zero, ok := zeroData(kind)
	if !ok {
		return "", "", "", fmt.Errorf("%w: %q", ErrUnknownKind, kind)
	}
	if reflect.TypeOf(data) != reflect.TypeOf(zero) {
		return "", "", "", fmt.Errorf("%w: %q wants %T, got %T", ErrWrongData, kind, zero, data)
	}
	lang := matchLanguage(locale)
	set := t.sets[setKey{kind, lang}]
	v := view{Lang: lang, Branding: branding.normalized(), Data: data}

	var buf bytes.Buffer
	if err := set.text.ExecuteTemplate(&buf, "subject", v); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s subject: %w", textName(kind, lang), err)
	}
	// One line, whatever the template's layout: a line break would end the
	// header.
	subject = strings.Join(strings.Fields(buf.String()), " ")

	buf.Reset()
	if err := set.text.Execute(&buf, v); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s: %w", textName(kind, lang), err)
	}
	text = strings.TrimSpace(buf.String()) + "\n"

	buf.Reset()
	v.Subject = subject
	if err := set.html.ExecuteTemplate(&buf, "layout", v); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s: %w", htmlName(kind, lang), err)
	}
	html = buf.String()
	return subject, text, html, nil
}

// matchLanguage maps a locale to a supported language, English by default.
func matchLanguage(locale string) string {
	if lang, ok := supportedLanguage(locale); ok {
		return lang
	}
	return Languages()[0]
}

// Speaks reports whether the mails are written in locale's language ("nl",
// "nl-BE", "nl_NL"): whether Render writes that language rather than fall
// back to English. A sender that knows several languages for a mail (the
// one the person asked the pages in, the user's own, the organization's)
// renders in the first of them the mails speak.
func Speaks(locale string) bool {
	_, ok := supportedLanguage(locale)
	return ok
}

// supportedLanguage is the supported language of a locale, if it has one.
func supportedLanguage(locale string) (string, bool) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(locale)), "-")
	base, _, _ = strings.Cut(base, "_")
	for _, lang := range Languages() {
		if base == lang {
			return lang, true
		}
	}
	return "", false
}

func (b Branding) normalized() Branding {
	if !isHexColor(b.PrimaryColor) {
		b.PrimaryColor = DefaultPrimaryColor
	}
	if u, err := url.Parse(b.LogoURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		b.LogoURL = ""
	}
	return b
}

func isHexColor(s string) bool {
	digits, ok := strings.CutPrefix(s, "#")
	if !ok {
		return false
	}
	switch len(digits) {
	case 3, 4, 6, 8:
	default:
		return false
	}
	for _, c := range digits {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
