package mail

import (
	"errors"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func sampleData() map[string]any {
	return map[string]any{
		KindWelcome: Welcome{TenantName: "Acme", Username: "ann.jansen", TemporaryPassword: "Xq7#pL2!vR9z",
			LoginURL: "https://acme.example.com/login", ValidDays: 7},
		KindResetCode: ResetCode{TenantName: "Acme", Username: "ann.jansen", Code: "482913", ValidMinutes: 15},
		KindOrganizationLinks: OrganizationLinks{Email: "ann@example.org", Organizations: []OrgLink{
			{Name: "Acme", LoginURL: "https://acme.example.com/login"},
			{Name: "Globex", LoginURL: "https://globex.example.com/login"},
		}},
		KindAdminReset: AdminReset{TenantName: "Acme", Username: "ann.jansen", Code: "771204", ValidMinutes: 60,
			LoginURL: "https://acme.example.com/login"},
	}
}

func mustTemplates(t *testing.T, overrides fs.FS) *Templates {
	t.Helper()
	tpl, err := NewTemplates(overrides)
	if err != nil {
		t.Fatalf("NewTemplates() = %v", err)
	}
	return tpl
}

type rendered struct{ subject, text, html string }

func render(t *testing.T, tpl *Templates, kind, locale string, data any) rendered {
	t.Helper()
	s, txt, h, err := tpl.Render(kind, locale, data, Branding{})
	if err != nil {
		t.Fatalf("Render(%s, %s) = %v", kind, locale, err)
	}
	return rendered{s, txt, h}
}

// hrefs returns the link targets of an HTML part.
func hrefs(html string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?i)\b(?:href|src)="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		out = append(out, m[1])
	}
	return out
}

// secretOf returns the secret a kind's data carries, if any.
func secretOf(data any) string {
	switch d := data.(type) {
	case Welcome:
		return d.TemporaryPassword
	case ResetCode:
		return d.Code
	case AdminReset:
		return d.Code
	}
	return ""
}

func TestTemplatesRenderEveryKindAndLanguage(t *testing.T) {
	tpl := mustTemplates(t, nil)
	for kind, data := range sampleData() {
		t.Run(kind, func(t *testing.T) {
			en := render(t, tpl, kind, "en", data)
			nl := render(t, tpl, kind, "nl", data)
			for lang, r := range map[string]rendered{"en": en, "nl": nl} {
				if r.subject == "" || strings.ContainsAny(r.subject, "\r\n") {
					t.Errorf("%s subject = %q", lang, r.subject)
				}
				if !strings.HasSuffix(r.text, "\n") || len(r.text) < 50 {
					t.Errorf("%s text = %q", lang, r.text)
				}
				if !strings.Contains(r.html, `<html lang="`+lang+`">`) || !strings.Contains(r.html, "</html>") {
					t.Errorf("%s html is not a whole document in its language", lang)
				}
				if strings.Contains(r.html, "ZgotmplZ") {
					t.Errorf("%s html holds a value html/template refused", lang)
				}
				if secret := secretOf(data); secret != "" {
					if strings.Contains(r.subject, secret) {
						t.Errorf("%s subject holds the secret: subjects are logged", lang)
					}
					if !strings.Contains(r.text, "\n    "+secret+"\n") {
						t.Errorf("%s text does not show the secret on a line of its own", lang)
					}
					if !regexp.MustCompile(`<code[^>]*>` + regexp.QuoteMeta(escapeHTML(secret)) + `</code>`).MatchString(r.html) {
						t.Errorf("%s html does not show the secret in a <code> box", lang)
					}
					for _, h := range hrefs(r.html) {
						if strings.Contains(h, secret) || strings.Contains(h, escapeHTML(secret)) {
							t.Errorf("%s html puts the secret in a URL: %q", lang, h)
						}
					}
				}
			}
			if en.subject == nl.subject || en.text == nl.text || en.html == nl.html {
				t.Errorf("Dutch is the same as English:\n%s\n%s", en.text, nl.text)
			}
		})
	}
}

func escapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestWelcomeMailContents(t *testing.T) {
	tpl := mustTemplates(t, nil)
	data := sampleData()[KindWelcome].(Welcome)
	tests := []struct {
		locale string
		want   []string // in both parts
	}{
		{"en", []string{"Username", "Temporary password", "7 days"}},
		{"nl", []string{"Gebruikersnaam", "Uw tijdelijke wachtwoord", "7 dagen geldig"}},
	}
	for _, tt := range tests {
		t.Run(tt.locale, func(t *testing.T) {
			r := render(t, tpl, KindWelcome, tt.locale, data)
			for _, want := range append(tt.want, data.Username, data.LoginURL) {
				if !strings.Contains(r.text, want) {
					t.Errorf("text lacks %q:\n%s", want, r.text)
				}
				if !strings.Contains(r.html, want) {
					t.Errorf("html lacks %q", want)
				}
			}
			if !strings.Contains(r.text, data.TemporaryPassword) {
				t.Errorf("text lacks the temporary password")
			}
			if !strings.Contains(r.html, escapeHTML(data.TemporaryPassword)) {
				t.Errorf("html lacks the temporary password")
			}
			if !slices.Contains(hrefs(r.html), data.LoginURL) {
				t.Errorf("html does not link to %s: %q", data.LoginURL, hrefs(r.html))
			}
		})
	}

	one := data
	one.ValidDays = 1
	if r := render(t, tpl, KindWelcome, "nl", one); !strings.Contains(r.text, "1 dag geldig") {
		t.Errorf("singular Dutch: %s", r.text)
	}
	none := data
	none.ValidDays = 0
	if r := render(t, tpl, KindWelcome, "en", none); strings.Contains(r.text, "valid for") {
		t.Errorf("ValidDays 0 still gives a validity sentence: %s", r.text)
	}
}

func TestOrganizationLinks(t *testing.T) {
	tpl := mustTemplates(t, nil)
	tests := []struct {
		name   string
		locale string
		orgs   []OrgLink
		want   []string
		absent []string
	}{
		{"none en", "en", nil, []string{"could not find an organization", "administrator"}, []string{"You can sign in to"}},
		{"none nl", "nl", nil, []string{"geen organisatie gevonden", "beheerder"}, []string{"U kunt inloggen bij"}},
		{"some en", "en", sampleData()[KindOrganizationLinks].(OrganizationLinks).Organizations,
			[]string{"You can sign in to", "Globex", "https://globex.example.com/login"}, []string{"could not find"}},
		{"some nl", "nl", sampleData()[KindOrganizationLinks].(OrganizationLinks).Organizations,
			[]string{"U kunt inloggen bij", "Globex", "https://globex.example.com/login"}, []string{"geen organisatie"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := render(t, tpl, KindOrganizationLinks, tt.locale, OrganizationLinks{Email: "ann@example.org", Organizations: tt.orgs})
			for _, part := range []string{r.text, r.html} {
				for _, want := range append(tt.want, "ann@example.org") {
					if !strings.Contains(part, want) {
						t.Errorf("lacks %q:\n%s", want, part)
					}
				}
				for _, absent := range tt.absent {
					if strings.Contains(part, absent) {
						t.Errorf("holds %q:\n%s", absent, part)
					}
				}
			}
		})
	}
}

func TestTemplatesLocale(t *testing.T) {
	tpl := mustTemplates(t, nil)
	data := sampleData()[KindResetCode]
	en := render(t, tpl, KindResetCode, "en", data)
	nl := render(t, tpl, KindResetCode, "nl", data)
	// speaks: whether the mails speak the locale's language, rather than
	// fall back to English.
	tests := []struct {
		locale string
		want   rendered
		speaks bool
	}{
		{"nl-NL", nl, true}, {"nl_BE", nl, true}, {"NL", nl, true},
		{"en-GB", en, true}, {"en", en, true}, {"de", en, false}, {"", en, false}, {"zz-nl", en, false},
	}
	for _, tt := range tests {
		if got := render(t, tpl, KindResetCode, tt.locale, data); got != tt.want {
			t.Errorf("locale %q rendered %q, want %q", tt.locale, got.subject, tt.want.subject)
		}
		if got := Speaks(tt.locale); got != tt.speaks {
			t.Errorf("Speaks(%q) = %t, want %t", tt.locale, got, tt.speaks)
		}
	}
}

func TestTemplatesBranding(t *testing.T) {
	tpl := mustTemplates(t, nil)
	data := sampleData()[KindWelcome]
	tests := []struct {
		name     string
		branding Branding
		want     []string
		absent   []string
	}{
		{"default", Branding{}, []string{DefaultPrimaryColor}, []string{"<img"}},
		{"tenant colour and logo", Branding{PrimaryColor: "#ff6600", LogoURL: "https://cdn.example.com/acme.png"},
			[]string{"#ff6600", `<img src="https://cdn.example.com/acme.png"`}, []string{DefaultPrimaryColor}},
		{"bad values are dropped", Branding{PrimaryColor: "red;background:url(https://evil.example)", LogoURL: "javascript:alert(1)"},
			[]string{DefaultPrimaryColor}, []string{"evil", "javascript", "<img"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, html, err := tpl.Render(KindWelcome, "en", data, tt.branding)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.want {
				if !strings.Contains(html, want) {
					t.Errorf("html lacks %q", want)
				}
			}
			for _, absent := range tt.absent {
				if strings.Contains(html, absent) {
					t.Errorf("html holds %q", absent)
				}
			}
		})
	}
}

func TestTemplatesRenderRejectsBadInput(t *testing.T) {
	tpl := mustTemplates(t, nil)
	tests := []struct {
		name string
		kind string
		data any
		want error
	}{
		{"unknown kind", "newsletter", Welcome{}, ErrUnknownKind},
		{"data of another kind", KindWelcome, ResetCode{}, ErrWrongData},
		{"pointer instead of value", KindWelcome, &Welcome{}, ErrWrongData},
		{"nil data", KindWelcome, nil, ErrWrongData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, txt, h, err := tpl.Render(tt.kind, "en", tt.data, Branding{})
			if !errors.Is(err, tt.want) || s != "" || txt != "" || h != "" {
				t.Errorf("Render() = %q, %q, %q, %v; want only %v", s, txt, h, err, tt.want)
			}
		})
	}
}

func TestTemplatesOverride(t *testing.T) {
	overrides := fstest.MapFS{
		"welcome.en.txt.tmpl":  {Data: []byte(`{{define "subject"}}Hi from {{.Data.TenantName}}{{end}}Custom: {{.Data.TemporaryPassword}}`)},
		"welcome.en.html.tmpl": {Data: []byte(`{{define "content"}}<p>Custom {{.Data.Username}}</p>{{template "copyable" .Data.TemporaryPassword}}{{end}}`)},
		"README.md":            {Data: []byte("not a template: ignored")},
	}
	tpl := mustTemplates(t, overrides)
	data := sampleData()[KindWelcome].(Welcome)

	r := render(t, tpl, KindWelcome, "en", data)
	if r.subject != "Hi from Acme" || r.text != "Custom: "+data.TemporaryPassword+"\n" {
		t.Errorf("text override not used: %q, %q", r.subject, r.text)
	}
	if !strings.Contains(r.html, "<p>Custom ann.jansen</p>") || !strings.Contains(r.html, "<!DOCTYPE html>") {
		t.Errorf("html override not used inside the layout:\n%s", r.html)
	}
	if nl := render(t, tpl, KindWelcome, "nl", data); !strings.Contains(nl.text, "Gebruikersnaam") {
		t.Errorf("the Dutch template was replaced too:\n%s", nl.text)
	}
}

func TestNewTemplatesFails(t *testing.T) {
	embeddedFiles := func(t *testing.T) fstest.MapFS {
		base, err := fs.Sub(embedded, "templates")
		if err != nil {
			t.Fatal(err)
		}
		files := fstest.MapFS{}
		sources, err := readTemplates(base)
		if err != nil {
			t.Fatal(err)
		}
		for name, src := range sources {
			files[name] = &fstest.MapFile{Data: []byte(src)}
		}
		return files
	}
	tests := []struct {
		name      string
		remove    string            // from the base set
		overrides map[string]string // name → source
		want      error
		mention   string
	}{
		{name: "missing file", remove: "admin_reset.nl.html.tmpl", want: ErrMissingTemplate, mention: "admin_reset.nl.html.tmpl"},
		{name: "missing layout", remove: "layout.html.tmpl", want: ErrMissingTemplate, mention: "layout.html.tmpl"},
		{name: "override without subject", overrides: map[string]string{"reset_code.nl.txt.tmpl": "Code: {{.Data.Code}}"},
			want: ErrMissingTemplate, mention: `"subject"`},
		{name: "override without content", overrides: map[string]string{"reset_code.nl.html.tmpl": "<p>{{.Data.Code}}</p>"},
			want: ErrMissingTemplate, mention: `"content"`},
		{name: "layout override without copyable", overrides: map[string]string{"layout.html.tmpl": `{{define "layout"}}{{template "content" .}}{{end}}`},
			mention: "copyable"},
		{name: "misspelt field", overrides: map[string]string{"welcome.nl.txt.tmpl": `{{define "subject"}}x{{end}}{{.Data.Usernaam}}`},
			mention: "Usernaam"},
		{name: "syntax error", overrides: map[string]string{"welcome.en.txt.tmpl": `{{define "subject"}}x{{end}}{{if}}`},
			mention: "welcome.en.txt.tmpl"},
		{name: "unknown override name", overrides: map[string]string{"welcom.nl.txt.tmpl": `x`},
			want: ErrUnknownTemplate, mention: "welcom.nl.txt.tmpl"},
		// Secrets go in the body's text only: not in the subject, which is
		// logged, nor in a link, which ends up in history and proxy logs.
		{name: "secret in the subject", overrides: map[string]string{
			"welcome.en.txt.tmpl": `{{define "subject"}}Your password: {{.Data.TemporaryPassword}}{{end}}{{.Data.TemporaryPassword}}`},
			want: ErrSecretExposed, mention: "welcome.en.txt.tmpl puts .Data.TemporaryPassword in the subject"},
		{name: "secret in the subject, on a branch", overrides: map[string]string{
			"admin_reset.nl.txt.tmpl": `{{define "subject"}}Reset{{with .Data.ValidMinutes}}: {{$.Data.Code}}{{end}}{{end}}{{.Data.Code}}`},
			want: ErrSecretExposed, mention: "admin_reset.nl.txt.tmpl puts .Data.Code in the subject"},
		{name: "secret in a link of the text", overrides: map[string]string{
			"reset_code.en.txt.tmpl": `{{define "subject"}}Reset{{end}}Go to https://example.com/reset?code={{.Data.Code}}`},
			want: ErrSecretExposed, mention: "reset_code.en.txt.tmpl puts .Data.Code in a URL"},
		{name: "secret in a link of the HTML", overrides: map[string]string{
			"reset_code.nl.html.tmpl": `{{define "content"}}<a href="https://example.com/reset?code={{.Data.Code}}">reset</a>{{end}}`},
			want: ErrSecretExposed, mention: "reset_code.nl.html.tmpl puts .Data.Code in a tag's attribute"},
		{name: "secret in a relative link", overrides: map[string]string{
			"welcome.nl.html.tmpl": `{{define "content"}}<a href="/reset?p={{.Data.TemporaryPassword}}">x</a>{{end}}`},
			want: ErrSecretExposed, mention: "welcome.nl.html.tmpl puts .Data.TemporaryPassword in a tag's attribute"},
		{name: "secret in an image address", overrides: map[string]string{
			"admin_reset.en.html.tmpl": `{{define "content"}}{{template "copyable" .Data.Code}}<img src="https://t.example.com/{{.Data.Code}}.png">{{end}}`},
			want: ErrSecretExposed, mention: "admin_reset.en.html.tmpl puts .Data.Code in a tag's attribute"},
		{name: "secret in a bare URL of the HTML", overrides: map[string]string{
			"welcome.en.html.tmpl": `{{define "content"}}<p>https://example.com/p/{{.Data.TemporaryPassword}}</p>{{end}}`},
			want: ErrSecretExposed, mention: "welcome.en.html.tmpl puts .Data.TemporaryPassword in a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := embeddedFiles(t)
			delete(base, tt.remove)
			var overrides fs.FS
			if tt.overrides != nil {
				o := fstest.MapFS{}
				for name, src := range tt.overrides {
					o[name] = &fstest.MapFile{Data: []byte(src)}
				}
				overrides = o
			}
			tpl, err := newTemplates(base, overrides)
			if err == nil || tpl != nil {
				t.Fatalf("newTemplates() = %v, %v; want an error", tpl, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("newTemplates() = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("newTemplates() = %v, want it to mention %s", err, tt.mention)
			}
		})
	}
}

func TestLoadOverridesPerTenant(t *testing.T) {
	dir := fstest.MapFS{
		// Every tenant: a new English subject.
		"welcome.en.txt.tmpl": {Data: []byte(`{{define "subject"}}Welcome to {{.Data.TenantName}}{{end}}All: {{.Data.TemporaryPassword}}`)},
		// Acme alone: its own text on top of that.
		"acme/welcome.en.txt.tmpl": {Data: []byte(`{{define "subject"}}Acme says hi{{end}}Acme: {{.Data.TemporaryPassword}}`)},
		// Globex: only the Dutch HTML; its English text is the root's.
		"globex/welcome.nl.html.tmpl": {Data: []byte(`{{define "content"}}<p>Globex</p>{{template "copyable" .Data.TemporaryPassword}}{{end}}`)},
	}
	all, perTenant, err := LoadOverrides(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := sampleData()[KindWelcome].(Welcome)
	if r := render(t, all, KindWelcome, "en", data); r.subject != "Welcome to Acme" {
		t.Errorf("root override: subject %q", r.subject)
	}
	if r := render(t, perTenant["acme"], KindWelcome, "en", data); r.subject != "Acme says hi" || !strings.HasPrefix(r.text, "Acme: ") {
		t.Errorf("acme's override: %q %q", r.subject, r.text)
	}
	g := perTenant["globex"]
	if r := render(t, g, KindWelcome, "en", data); r.subject != "Welcome to Acme" {
		t.Errorf("globex without its own English text should get the root one: %q", r.subject)
	}
	if r := render(t, g, KindWelcome, "nl", data); !strings.Contains(r.html, "<p>Globex</p>") {
		t.Errorf("globex's Dutch HTML not used")
	}
	if _, ok := perTenant["initech"]; ok {
		t.Error("a tenant without a directory has templates of its own")
	}

	broken := fstest.MapFS{"acme/welcome.en.txt.tmpl": {Data: []byte(`{{define "subject"}}{{.Data.NoSuchField}}{{end}}x`)}}
	if _, _, err := LoadOverrides(broken); err == nil || !strings.Contains(err.Error(), "acme") {
		t.Errorf("a broken tenant override: %v, want an error naming the tenant", err)
	}
}
