package ui_test

import (
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/cmd/example-rp/rp"
	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
	"github.com/cognate-idp/cognate/ui"
)

// stack is Cognate as cmd/cognate wires it, on a real listener, with the
// tenant "acme" (Acme BV), a public client, and the example relying party
// registered as that client. Nothing in it is a fake.
type stack struct {
	base      string // apex, http://localhost:<port>
	tenantURL string // http://acme.localhost:<port>
	svc       *tenant.Service
	store     tenant.Store
	pages     *ui.Pages
	devMail   *mail.DevSink
	rpURL     string // the relying party, http://127.0.0.1:<port>
	clientID  string
	// outbox delivers the mail the service queues to sink; tests call
	// deliver, so that a mail is there when they look.
	outbox *mail.Outbox
	sink   *mail.DevSink
}

type stackOptions struct {
	dev      bool
	settings tenant.Settings
	// now is every part's clock; nil means time.Now.
	now func() time.Time
	// legacy reaches legacy pools for lazy migration; nil for none.
	legacy tenant.LegacyDirectory
}

const (
	tempPassword = "Temp-Pass-1!"
	goodPassword = "Correct-Horse-9!"
)

func newStack(t *testing.T, opts stackOptions) *stack {
	t.Helper()
	ctx := t.Context()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	base, _ := url.Parse(fmt.Sprintf("http://localhost:%d", port))
	now := opts.now
	if now == nil {
		now = time.Now
	}

	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	hasher, err := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	prov, err := provider.New(provider.Config{
		Hosts:     provider.Hosts{Base: base},
		Store:     store,
		Logger:    logger,
		Now:       now,
		CryptoKey: [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	})
	if err != nil {
		t.Fatal(err)
	}
	templates, err := mail.NewTemplates(nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := &tenant.Service{Store: store, Hasher: hasher, Logger: logger, Now: now, Changed: prov.Invalidate,
		RevokeUser: provider.RevokeUser, ReleaseLockout: auth.Unlock, Templates: templates, TenantURL: prov.Hosts().TenantURL}
	machine := &auth.Machine{Store: store, Hasher: hasher, Logger: logger, Now: now, Legacy: opts.legacy, SSOSessions: true}
	s := &stack{base: base.String(), tenantURL: fmt.Sprintf("http://acme.localhost:%d", port), svc: svc, store: store,
		sink: mail.NewDevSink(logger)}
	s.outbox = &mail.Outbox{Queue: tenant.MailQueue{Store: store}, Sender: s.sink, Logger: logger, Now: now}
	if opts.dev {
		s.devMail = mail.NewDevSink(logger)
	}
	s.pages, err = ui.New(ui.Pages{Provider: prov, Auth: machine, Service: svc, Store: store, Logger: logger,
		Now: now, DevMail: s.devMail, Dev: opts.dev})
	if err != nil {
		t.Fatal(err)
	}
	router := &provider.Router{Provider: prov, Apex: s.pages.Apex(), Tenant: s.pages.Tenant(), NotFound: s.pages.NotFound()}
	srv := httptest.NewUnstartedServer(router)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: "Acme BV", Settings: opts.settings}); err != nil {
		t.Fatal(err)
	}

	// The relying party's address must be known before its client is
	// registered, and the client before the RP can be built.
	var app *rp.RP
	rpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { app.ServeHTTP(w, r) }))
	t.Cleanup(rpSrv.Close)
	s.rpURL = rpSrv.URL
	client, _, err := svc.CreateClient(ctx, "acme", tenant.NewClient{Name: "Example App", Public: true,
		RedirectURIs: []string{rpSrv.URL + "/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	s.clientID = client.ID
	app, err = rp.New(ctx, rp.Config{Issuer: s.tenantURL, ClientID: client.ID, RedirectURL: rpSrv.URL + "/callback"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// addUser creates a user of acme; temporary makes the password one that must
// be changed at the first sign-in.
func (s *stack) addUser(t *testing.T, username, pw string, temporary bool) tenant.User {
	t.Helper()
	u, err := s.svc.CreateUser(t.Context(), "acme", tenant.NewUser{Username: username, Email: username + "@example.com",
		EmailVerified: true, Password: pw, Temporary: temporary})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// browser is an HTTP client with a cookie jar that, like a browser, sends
// *.localhost to the loopback address. It does not follow redirects on its
// own, so each step can be checked.
type browser struct {
	t      *testing.T
	client *http.Client
	// header is sent with every request (Accept-Language, Sec-Fetch-Site…).
	header http.Header
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := rp.LoopbackClient()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, client: c, header: http.Header{}}
}

// page is a response with its body read.
type page struct {
	status   int
	header   http.Header
	body     string
	location string // absolute, for redirects
	url      *url.URL
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	for k, v := range b.header {
		if req.Header.Get(k) == "" {
			req.Header[k] = v
		}
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := page{status: resp.StatusCode, header: resp.Header, body: string(body), url: req.URL}
	if loc, err := resp.Location(); err == nil {
		p.location = loc.String()
	}
	return p
}

func (b *browser) get(rawURL string) page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(rawURL string, form url.Values, header ...string) page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// follow follows redirects from p until a page that is not one.
func (b *browser) follow(p page) page {
	b.t.Helper()
	for i := 0; p.location != "" && p.status >= 300 && p.status < 400; i++ {
		if i == 10 {
			b.t.Fatalf("too many redirects, last to %s", p.location)
		}
		p = b.get(p.location)
	}
	return p
}

// submit posts p's form (the first one) with its hidden fields and the
// given values, to the form's action on p's host.
func (b *browser) submit(p page, values map[string]string) page {
	b.t.Helper()
	form := hiddenFields(p.body)
	for k, v := range values {
		form.Set(k, v)
	}
	m := formAction.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no form on the page:\n%s", p.body)
	}
	action, err := p.url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		b.t.Fatal(err)
	}
	return b.post(action.String(), form)
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

func hiddenFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// startLogin has the relying party start a sign-in and returns Cognate's
// login page.
func (s *stack) startLogin(t *testing.T, b *browser) page {
	t.Helper()
	p := b.follow(b.get(s.rpURL + "/start"))
	if p.status != http.StatusOK || !strings.Contains(p.url.Path, "/login") {
		t.Fatalf("start: want the login page, got %d at %s:\n%s", p.status, p.url, p.body)
	}
	return p
}

func mustContain(t *testing.T, p page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.body, html.EscapeString(w)) && !strings.Contains(p.body, w) {
			t.Errorf("page %s (status %d) lacks %q:\n%s", p.url, p.status, w, p.body)
		}
	}
}
