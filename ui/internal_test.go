package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf8"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/password"
)

// Every msgKey constant used from Go code must be in every language.
func TestCatalogueHasEveryKey(t *testing.T) {
	if err := checkCatalogue(); err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	n := 0
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(node ast.Node) bool {
			// A key written as a string literal where a msgKey goes
			// would escape this check: the message keys of error
			// pages and their links are constants.
			if cl, ok := node.(*ast.CompositeLit); ok {
				if lit := literalKey(cl); lit != nil {
					t.Errorf("%s: message key %s written as a literal; declare a msgKey constant", fset.Position(lit.Pos()), lit.Value)
				}
			}
			spec, ok := node.(*ast.ValueSpec)
			if !ok || spec.Type == nil {
				return true
			}
			if id, ok := spec.Type.(*ast.Ident); !ok || id.Name != "msgKey" {
				return true
			}
			for _, v := range spec.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					continue
				}
				key := msgKey(strings.Trim(lit.Value, `"`))
				n++
				for l, msgs := range catalogue {
					if _, ok := msgs[key]; !ok {
						t.Errorf("%s lacks %q", l, key)
					}
				}
			}
			return true
		})
	}
	if n < 20 {
		t.Fatalf("found only %d msgKey constants; is the test still reading them?", n)
	}
	for rule := range ruleKeys {
		if got := langNL.ruleText(rule, password.DefaultPolicy()); got == "" || strings.Contains(got, "%!") {
			t.Errorf("rule %s reads %q", rule, got)
		}
	}
}

// A new password refused by the policy lists the rules it broke, or the
// whole policy when the refusal names none.
func TestFailedRules(t *testing.T) {
	policy := password.Policy{MinimumLength: 10, RequireUppercase: true, RequireNumbers: true}
	whole := langEN.policyText(policy)
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"the rules broken", &password.PolicyError{Rules: []password.Rule{password.RuleTooShort, password.RuleNumber}},
			[]string{langEN.ruleText(password.RuleTooShort, policy), langEN.ruleText(password.RuleNumber, policy)}},
		{"wrapped", fmt.Errorf("confirm: %w", &password.PolicyError{Rules: []password.Rule{password.RuleReused}}),
			[]string{langEN.ruleText(password.RuleReused, policy)}},
		{"no rules named", &password.PolicyError{}, whole},
		{"the bare sentinel", fmt.Errorf("change: %w", password.ErrPolicy), whole},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := langEN.failedRules(tt.err, policy); !slices.Equal(got, tt.want) {
				t.Errorf("failedRules = %q, want %q", got, tt.want)
			}
		})
	}
	if len(whole) != 3 || !strings.Contains(whole[0], "10") {
		t.Errorf("policyText = %q", whole)
	}
}

// literalKey is the string literal cl gives as a message key, if any: a
// next's text, or a pageError's heading or msg.
func literalKey(cl *ast.CompositeLit) *ast.BasicLit {
	typ, ok := cl.Type.(*ast.Ident)
	if !ok || (typ.Name != "next" && typ.Name != "pageError") {
		return nil
	}
	for i, elt := range cl.Elts {
		field := ""
		if kv, ok := elt.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok {
				field = id.Name
			}
			elt = kv.Value
		} else if typ.Name == "next" && i == 1 {
			field = "text"
		}
		lit, ok := elt.(*ast.BasicLit)
		if ok && lit.Kind == token.STRING && (field == "text" || field == "heading" || field == "msg") {
			return lit
		}
	}
	return nil
}

// An error page that chose no heading gets one by its status, in both
// languages; the console's error pages take the same (StatusHeading; its
// catalogue is checked by its TestStatusHeadings).
func TestStatusHeadings(t *testing.T) {
	tests := []struct {
		status int
		want   msgKey
	}{
		{http.StatusBadRequest, "error.heading.400"},
		{http.StatusForbidden, "error.heading.403"},
		{http.StatusNotFound, "error.heading.404"},
		{http.StatusMethodNotAllowed, "error.heading.405"},
		{http.StatusConflict, "error.heading.400"},
		{http.StatusRequestEntityTooLarge, "error.heading.400"},
		{http.StatusUnprocessableEntity, "error.heading.400"},
		{http.StatusTooManyRequests, "error.heading.429"},
		{http.StatusInternalServerError, "error.heading.500"},
		{http.StatusServiceUnavailable, "error.heading.500"},
	}
	for _, tt := range tests {
		got := statusHeading(tt.status)
		if got != tt.want {
			t.Errorf("statusHeading(%d) = %q, want %q", tt.status, got, tt.want)
		}
		for l, msgs := range catalogue {
			if msgs[got] == "" {
				t.Errorf("%s lacks the heading %q", l, got)
			}
		}
	}
}

// ReadForm reads a form within its bound, and says which status refuses
// one too large or one that does not parse.
func TestReadForm(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       string // the form's field "a"
	}{
		{"a form", "a=1&b=2", http.StatusOK, "1"},
		{"at the bound", "a=" + strings.Repeat("x", 30), http.StatusOK, strings.Repeat("x", 30)},
		{"over the bound", "a=" + strings.Repeat("x", 31), http.StatusRequestEntityTooLarge, ""},
		{"not a form", "a=%zz", http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			status, err := ReadForm(httptest.NewRecorder(), r, 32)
			if status != tt.status || (err == nil) != (tt.status == http.StatusOK) {
				t.Fatalf("ReadForm = %d, %v; want %d", status, err, tt.status)
			}
			if err == nil && r.PostForm.Get("a") != tt.want {
				t.Errorf("a = %q, want %q", r.PostForm.Get("a"), tt.want)
			}
		})
	}
}

func TestTemplatesFailStartUp(t *testing.T) {
	good, err := fs.Sub(files, ".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseTemplates(good); err != nil {
		t.Fatalf("embedded templates: %v", err)
	}
	mapFS := func(edit func(fstest.MapFS)) fstest.MapFS {
		m := fstest.MapFS{}
		_ = fs.WalkDir(files, "templates", func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := fs.ReadFile(files, path)
				m[path] = &fstest.MapFile{Data: b}
			}
			return nil
		})
		edit(m)
		return m
	}
	tests := []struct {
		name string
		edit func(fstest.MapFS)
		want string
	}{
		{"missing page", func(m fstest.MapFS) { delete(m, "templates/login.html") }, "login"},
		{"missing layout", func(m fstest.MapFS) { delete(m, "templates/layout.html") }, "layout"},
		{"unknown key", func(m fstest.MapFS) {
			m["templates/logged_out.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}x{{end}}{{define "content"}}{{if .Org}}{{$.T "no.such.key"}}{{end}}{{end}}`)}
		}, "no.such.key"},
		{"no content block", func(m fstest.MapFS) {
			m["templates/logged_out.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}x{{end}}`)}
		}, "content"},
		{"syntax", func(m fstest.MapFS) {
			m["templates/logged_out.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}{{end}`)}
		}, "logged_out"},
		{"a page defines a shared name", func(m fstest.MapFS) {
			m["templates/logged_out.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}x{{end}}{{define "content"}}y{{end}}{{define "flow_fields"}}z{{end}}`)}
		}, `logged_out: defines "flow_fields"`},
		{"text outside the blocks", func(m fstest.MapFS) {
			m["templates/logged_out.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}x{{end}}{{define "content"}}y{{end}}stray`)}
		}, "logged_out: text outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTemplates(mapFS(tt.edit))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

// asked is whether the browser chose the language, not the organization:
// a mail asked for on the page speaks it before the user's own language.
func TestChooseLang(t *testing.T) {
	tests := []struct {
		accept, locale string
		want           lang
		asked          bool
	}{
		{"", "", langEN, false},
		{"", "nl", langNL, false},
		{"nl", "en", langNL, true},
		{"nl", "nl", langNL, true},
		{"nl-BE,nl;q=0.9", "en", langNL, true},
		{"en-US,en;q=0.9,nl;q=0.8", "en", langEN, false},
		{"en-US,en;q=0.9", "nl", langNL, false}, // only Dutch overrides the organization
		{"de;q=0.5,nl;q=0.7", "en", langNL, true},
		{"fr", "en", langEN, false},
		{"nl;q=bogus, en", "en", langEN, false},
		{"nl;q=0", "en", langEN, false},
		{"nl;q=0, en;q=0", "en", langEN, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", tt.accept)
		if got, asked := chooseLang(r, tt.locale); got != tt.want || asked != tt.asked {
			t.Errorf("chooseLang(%q, %q) = %s, %v; want %s, %v", tt.accept, tt.locale, got, asked, tt.want, tt.asked)
		}
	}
}

// An entry weighted 0 is "not acceptable" (RFC 9110 §12.4.2): never the
// browser's choice, whatever comes before or after it.
func TestBrowserPrefers(t *testing.T) {
	tests := []struct {
		header string
		want   lang
	}{
		{"", ""},
		{"nl", langNL},
		{"nl;q=0", ""},
		{"nl;q=0.0", ""},
		{"nl;q=0, en;q=0", ""},
		{"nl;q=0, en;q=0.1", langEN},
		{"en;q=0.1, nl;q=0", langEN},
		{"nl;q=-1", ""},
		{"nl;q=0.001", langNL},
		{"nl-BE;q=0, en", langEN},
		{"en;q=0.5, nl;q=0.8", langNL},
		{"nl;q=bogus, en", langEN},
	}
	for _, tt := range tests {
		if got := browserPrefers(tt.header); got != tt.want {
			t.Errorf("browserPrefers(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestAccent(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", defaultAccent},
		{"#FC0", "ffcc00"},
		{"#0a7CFF", "0a7cff"},
		{"red", defaultAccent},
		{"#12345", defaultAccent},
		{"#11223344", defaultAccent},
		{"#zzzzzz", defaultAccent},
		{"#fff;}body{display:none", defaultAccent},
	}
	for _, tt := range tests {
		if got := normalizeColor(tt.in); got != tt.want {
			t.Errorf("normalizeColor(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for hex, want := range map[string]string{
		"000000": "--on-accent:#ffffff;--accent-ink:#000000",
		"ffffff": "--on-accent:#18181b;",
		"2557d6": "--on-accent:#ffffff;--accent-ink:#2557d6",
	} {
		if got := string(accentCSS(hex)); !strings.Contains(got, want) {
			t.Errorf("accentCSS(%s) = %s, want %s", hex, got, want)
		}
	}
	// A light accent gets a darker shade for links that reads on white.
	css := string(accentCSS("ffff00"))
	ink := css[strings.Index(css, "--accent-ink:#")+len("--accent-ink:#"):][:6]
	r, g, b := hexRGB(ink)
	if c := contrast(luminance(r, g, b), 1); c < 4.5 {
		t.Errorf("accent ink %s has contrast %.2f on white", ink, c)
	}
}

func TestCSP(t *testing.T) {
	got := csp([]string{"https://app.example.com", "http://*.localhost:8080", "https://x.example; script-src *", "javascript:alert(1)"})
	want := "form-action 'self' https://app.example.com http://*.localhost:8080"
	if !strings.HasSuffix(got, want) {
		t.Errorf("csp = %q, want it to end with %q", got, want)
	}
	for raw, want := range map[string]string{
		"https://app.example.com/callback?x=1": "https://app.example.com",
		"http://127.0.0.1:9090/callback":       "http://127.0.0.1:9090",
		"HTTPS://App.example.com":              "https://App.example.com",
		"com.example.app:/callback":            "",
		"https://user@evil.example/":           "",
	} {
		if got := origin(raw); got != want {
			t.Errorf("origin(%q) = %q, want %q", raw, got, want)
		}
	}
}

// A challenge without a page yet ends on a chosen sentence, not a blank
// or an "unavailable" stub, and the log learns which challenge it was.
func TestUnansweredChallenge(t *testing.T) {
	p := &Pages{}
	// The MFA challenges have pages (mfa.go); Cognito's others do not.
	for _, c := range []auth.Challenge{"SMS_MFA", "EMAIL_OTP", "CUSTOM_CHALLENGE"} {
		err := p.advance(nil, nil, env{}, provider.LoginRequest{}, auth.Result{Challenge: c, Session: "s"})
		var pe *pageError
		if !errors.As(err, &pe) || pe.status != http.StatusNotImplemented || pe.msg != msgStepUnavailable ||
			!errors.Is(err, errNoChallengePage) || !strings.Contains(err.Error(), string(c)) {
			t.Errorf("%s: %v", c, err)
		}
	}
}

// A request its client abandoned is not logged as our error: under a login
// storm, clients that time out while waiting for a hashing slot would
// otherwise fill the log with 500s.
func TestAbandonedRequestIsNotAnError(t *testing.T) {
	tests := []struct {
		name      string
		cancelled bool
		err       error
		wantError bool
	}{
		{"client gone while waiting", true, fmt.Errorf("start sign-in: %w", context.Canceled), false},
		{"our own failure after the client left", true, errors.New("store closed"), true},
		{"a cancellation the client did not cause", false, context.Canceled, true},
	}
	for _, tt := range tests {
		var log bytes.Buffer
		p := &Pages{Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})), Provider: &provider.Provider{}}
		ctx, cancel := context.WithCancel(context.Background())
		if tt.cancelled {
			cancel()
		}
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/login", nil)
		p.fail(httptest.NewRecorder(), r, tt.err)
		cancel()
		if got := strings.Contains(log.String(), "level=ERROR"); got != tt.wantError {
			t.Errorf("%s: error logged = %v, want %v; log:\n%s", tt.name, got, tt.wantError, log.String())
		}
	}
}

// A page error's line keeps its own message: the sentence the person was
// shown goes under "message", since an attribute named "msg" would repeat
// the line's message key, and in JSON the later one wins for most readers.
//
// Its host is the one the browser used: behind a trusted proxy, the
// X-Forwarded-Host, not the proxy's own Host header; and its client_ip the
// browser's address, X-Forwarded-For's, as every refusal's line says it.
func TestPageErrorLineKeepsItsMessage(t *testing.T) {
	var log bytes.Buffer
	p := &Pages{Logger: slog.New(slog.NewJSONHandler(&log, nil)), Provider: proxiedProvider(t)}
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.Host, r.RemoteAddr = "cognate.internal:8080", "10.0.0.5:41000"
	r.Header.Set("X-Forwarded-Host", "acme.example.com")
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	p.fail(httptest.NewRecorder(), r, &pageError{status: http.StatusForbidden, msg: msgCSRFExpired, err: errors.New("missing or wrong form token")})
	logged := log.String()
	var line map[string]any // the first line; a Pages without templates logs its failing render next
	if err := json.NewDecoder(strings.NewReader(logged)).Decode(&line); err != nil {
		t.Fatalf("%v:\n%s", err, logged)
	}
	if line["msg"] != "page error" || line["message"] != string(msgCSRFExpired) {
		t.Errorf("msg %q, message %q; want %q and %q:\n%s", line["msg"], line["message"], "page error", msgCSRFExpired, logged)
	}
	if line["host"] != "acme.example.com" {
		t.Errorf("host %q, want the forwarded acme.example.com:\n%s", line["host"], logged)
	}
	if line["client_ip"] != "203.0.113.7" {
		t.Errorf("client_ip %q, want the forwarded 203.0.113.7:\n%s", line["client_ip"], logged)
	}
}

// proxiedProvider is a provider for https://example.com behind a proxy at
// 10.0.0.5, for what needs only its hosts.
func proxiedProvider(t *testing.T) *provider.Provider {
	t.Helper()
	base, _ := url.Parse("https://example.com")
	prv, err := provider.New(provider.Config{
		Hosts: provider.Hosts{Base: base, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32")}},
		Now:   time.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return prv
}

// Static files get their type from our own table, so the same binary sends
// the same headers on every host, and a file of an unknown type stops the
// start rather than going out as something a browser must guess at.
func TestLoadStaticFilesTypes(t *testing.T) {
	tests := []struct {
		name, file, wantType, wantErr string
	}{
		{"stylesheet", "a.css", "text/css; charset=utf-8", ""},
		{"script", "a.js", "text/javascript; charset=utf-8", ""},
		{"image", "logo.svg", "image/svg+xml", ""},
		{"unknown extension", "notes.txt", "", "notes.txt: no content type"},
		{"no extension", "LICENSE", "", "LICENSE: no content type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := LoadStaticFiles(fstest.MapFS{"static/" + tt.file: {Data: []byte("x")}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			if !files.Serve(w, tt.file) || w.Header().Get("Content-Type") != tt.wantType {
				t.Fatalf("served with Content-Type %q, want %q", w.Header().Get("Content-Type"), tt.wantType)
			}
		})
	}
}

// All pages share one set: each page gets its own blocks however many pages
// define "title" and "content", a page may show its own blocks, and the
// blocks are escaped once, where they were written.
func TestPageSetRendersEachPageInTheLayout(t *testing.T) {
	fsys := fstest.MapFS{
		"templates/layout.html": {Data: []byte(`{{define "layout"}}<title>{{with .Page.FullTitle}}{{.}}{{else}}{{.Page.Title}} · site{{end}}</title><main>{{.Page.Content}}</main>{{end}}`)},
		"templates/a.html":      {Data: []byte(`{{define "title"}}A {{.Name}}{{end}}{{define "content"}}<h1>{{template "title" .}}</h1><a href="{{.Link}}">go</a>{{end}}`)},
		"templates/b.html":      {Data: []byte(`{{define "title"}}B{{end}}{{define "fulltitle"}}Only {{.Name}}{{end}}{{define "content"}}<p>{{.Name}}</p>{{end}}`)},
	}
	set, err := ParsePages(fsys, []string{"layout"}, []string{"a", "b"}, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	type data struct {
		Name, Link string
		Page       PageBlocks
	}
	tests := []struct{ page, want string }{
		{"a", `<title>A Tom &amp; &lt;Jerry&gt; · site</title><main><h1>A Tom &amp; &lt;Jerry&gt;</h1><a href="#ZgotmplZ">go</a></main>`},
		{"b", `<title>Only Tom &amp; &lt;Jerry&gt;</title><main><p>Tom &amp; &lt;Jerry&gt;</p></main>`},
	}
	for _, tt := range tests {
		d := &data{Name: "Tom & <Jerry>", Link: "javascript:alert(1)"}
		var buf bytes.Buffer
		if err := set.Render(&buf, tt.page, d, &d.Page); err != nil {
			t.Fatalf("%s: %v", tt.page, err)
		}
		if buf.String() != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.page, buf.String(), tt.want)
		}
	}
	var buf bytes.Buffer
	if err := set.Render(&buf, "c", &data{}, &PageBlocks{}); err == nil {
		t.Error("a page that is not in the set was rendered")
	}
}

// formText bounds a typed name by characters and makes it printable, valid
// UTF-8, whatever was sent.
func TestFormText(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "  ann@example.com ", 256, "ann@example.com"},
		{"invalid UTF-8", "\xff\xfeacme\xff", 256, "acme"},
		{"control characters", "de\x00mo\x1b[31m\r\n", 256, "demo[31m"},
		{"text turned around", "acme\u202egnp.exe", 256, "acmegnp.exe"},
		{"cut between characters", "a" + strings.Repeat("é", 300), 256, "a" + strings.Repeat("é", 255)},
		{"exactly max", strings.Repeat("ж", 64), 64, strings.Repeat("ж", 64)},
		{"space at the cut", strings.Repeat("x", 63) + " y", 64, strings.Repeat("x", 63)},
		{"only control", "\x00\x01", 256, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := formText(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("formText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("%q is not valid UTF-8", got)
			}
		})
	}
}
