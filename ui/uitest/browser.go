package uitest

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/cmd/example-rp/rp"
)

// Browser is an HTTP client with a cookie jar that, like a browser, sends
// *.localhost to the loopback address. It does not follow redirects on its
// own, so that a test can check each step; Follow does when asked.
type Browser struct {
	t testing.TB
	// Client sends the requests; tests reach its Jar to see or drop cookies.
	Client *http.Client
	// Header is sent with every request that does not set it itself
	// (Accept-Language, Sec-Fetch-Site…).
	Header http.Header
}

// NewBrowser returns a Browser for t with an empty cookie jar.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := rp.LoopbackClient()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Browser{t: t, Client: c, Header: http.Header{}}
}

// Page is a response with its body read.
type Page struct {
	Status   int
	Header   http.Header
	Body     string
	Location string   // absolute, for redirects; empty otherwise
	URL      *url.URL // the address requested, to resolve the page's links against
}

// Do sends req with the Browser's Header and reads the response. It fails
// the test when the request gets no response at all.
func (b *Browser) Do(req *http.Request) Page {
	b.t.Helper()
	for k, v := range b.Header {
		if req.Header.Get(k) == "" {
			req.Header[k] = v
		}
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := Page{Status: resp.StatusCode, Header: resp.Header, Body: string(body), URL: req.URL}
	if loc, err := resp.Location(); err == nil {
		p.Location = loc.String()
	}
	return p
}

// Get requests rawURL. header holds extra request headers as name, value
// pairs, as for Post.
func (b *Browser) Get(rawURL string, header ...string) Page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.Do(req)
}

// Post posts form to rawURL, url-encoded as an HTML form is. header holds
// extra request headers as name, value pairs.
func (b *Browser) Post(rawURL string, form url.Values, header ...string) Page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.Do(req)
}

// Follow follows redirects from p until a page that is not one, and fails
// the test after ten, as a loop would never end.
func (b *Browser) Follow(p Page) Page {
	b.t.Helper()
	for i := 0; p.Location != "" && p.Status >= 300 && p.Status < 400; i++ {
		if i == 10 {
			b.t.Fatalf("too many redirects, last to %s", p.Location)
		}
		p = b.Get(p.Location)
	}
	return p
}

// Submit posts the form of p whose action is action (the first form when
// action is empty) with that form's hidden fields and values, as a browser
// submits one form of a page.
func (b *Browser) Submit(p Page, action string, values url.Values) Page {
	b.t.Helper()
	for _, f := range Forms(p.Body) {
		if action != "" && f.Action != action {
			continue
		}
		for k, v := range values {
			f.Fields[k] = v
		}
		target, err := p.URL.Parse(f.Action)
		if err != nil {
			b.t.Fatal(err)
		}
		return b.Post(target.String(), f.Fields)
	}
	b.t.Fatalf("no form with action %q on %s:\n%s", action, p.URL, p.Body)
	return Page{}
}

// PostForm posts the hidden fields of all of p's forms, with values, to
// path on p's host. It reaches what Submit does not: a path no form of the
// page names, and a form's fields with another's hidden ones added (where
// two forms hold a field of the same name, the later form's value is sent).
func (b *Browser) PostForm(p Page, path string, values url.Values) Page {
	b.t.Helper()
	form := HiddenFields(p.Body)
	for k, v := range values {
		form[k] = v
	}
	target, err := p.URL.Parse(path)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.Post(target.String(), form)
}

// Form is one post form of a page as Forms reads it.
type Form struct {
	Action string     // as written, HTML-unescaped
	Fields url.Values // its hidden inputs
}

var (
	formRE      = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)"[^>]*>(.*?)</form>`)
	formStartRE = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenRE    = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

// Forms reads the post forms of an HTML page in their order. It knows the
// markup Cognate's templates write (method before action, hidden inputs
// with type, name and value in that order), not HTML at large.
func Forms(body string) []Form {
	var forms []Form
	for _, m := range formRE.FindAllStringSubmatch(body, -1) {
		forms = append(forms, Form{Action: html.UnescapeString(m[1]), Fields: HiddenFields(m[2])})
	}
	return forms
}

// FirstFormAction is the action of the first post form of an HTML page, and
// false when it has none. Unlike Forms it needs no closing tag.
func FirstFormAction(body string) (string, bool) {
	m := formStartRE.FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}

// HiddenFields reads the hidden inputs of HTML; where two share a name, the
// later one's value wins.
func HiddenFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// HiddenField is the value of p's hidden input name (the CSRF token, most
// often), for a test that builds a request by hand. It fails t when p has
// no such input.
func HiddenField(t testing.TB, p Page, name string) string {
	t.Helper()
	fields := HiddenFields(p.Body)
	if !fields.Has(name) {
		t.Fatalf("no hidden input %q on %s (status %d):\n%s", name, p.URL, p.Status, p.Body)
	}
	return fields.Get(name)
}

// MustContain marks t failed for each of want that p's body lacks, both as
// written and HTML-escaped.
func MustContain(t testing.TB, p Page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.Body, html.EscapeString(w)) && !strings.Contains(p.Body, w) {
			t.Errorf("page %s (status %d) lacks %q:\n%s", p.URL, p.Status, w, p.Body)
		}
	}
}

// MustNotContain marks t failed for each of unwanted that p's body shows,
// as written or HTML-escaped.
func MustNotContain(t testing.TB, p Page, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(p.Body, w) || strings.Contains(p.Body, html.EscapeString(w)) {
			t.Errorf("page %s (status %d) shows %q", p.URL, p.Status, w)
		}
	}
}
