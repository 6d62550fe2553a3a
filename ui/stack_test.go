package ui_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/cmd/example-rp/rp"
	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/mail/mailtest"
	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
	"github.com/cognate-idp/cognate/ui"
	"github.com/cognate-idp/cognate/ui/uitest"
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
	// outbox delivers the mail the service queues to sink, or to smtp
	// when the stack has one; tests call deliver (or the outbox's
	// RunOnce), so that a mail is there when they look.
	outbox *mail.Outbox
	sink   *mail.DevSink
	smtp   *mailtest.Server
}

type stackOptions struct {
	dev      bool
	settings tenant.Settings
	// now is every part's clock; nil means time.Now.
	now func() time.Time
	// legacy reaches legacy pools for lazy migration; nil for none.
	legacy tenant.LegacyDirectory
	// log, when set, receives what the stack logs too.
	log *uitest.Log
	// smtp sends the mail to a real SMTP server (stack.smtp) instead of
	// the sink.
	smtp bool
	// providerStore is the store the provider reads and writes through,
	// given the stack's; nil: the stack's.
	providerStore func(tenant.Store) tenant.Store
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
	var logTo io.Writer = t.Output()
	if opts.log != nil {
		logTo = io.MultiWriter(t.Output(), opts.log)
	}
	logger := slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hasher, err := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var provStore tenant.Store = store
	if opts.providerStore != nil {
		provStore = opts.providerStore(store)
	}
	prov, err := provider.New(provider.Config{
		Hosts:     provider.Hosts{Base: base},
		Store:     provStore,
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
		RevokeUser: prov.RevokeUser, ReleaseLockout: auth.Unlock, Templates: templates, TenantURL: prov.Hosts().TenantURL}
	machine := &auth.Machine{Store: store, Hasher: hasher, Logger: logger, Now: now, Legacy: opts.legacy, SSOSessions: true,
		Audit: tenant.RecordAudit}
	s := &stack{base: base.String(), tenantURL: fmt.Sprintf("http://acme.localhost:%d", port), svc: svc, store: store,
		sink: mail.NewDevSink(logger)}
	var sender mail.Sender = s.sink
	if opts.smtp {
		s.smtp = mailtest.Start(t)
		sender, err = mail.NewSMTPSender(mail.SMTPConfig{Host: s.smtp.Host, Port: s.smtp.Port, From: "no-reply@cognate.test", TLS: "none"}, now)
		if err != nil {
			t.Fatal(err)
		}
	}
	s.outbox = &mail.Outbox{Queue: tenant.MailQueue{Store: store}, Sender: sender, Logger: logger, Now: now}
	if opts.dev {
		s.devMail = mail.NewDevSink(logger)
	}
	s.pages, err = ui.New(ui.Pages{Provider: prov, Auth: machine, Service: svc, Logger: logger,
		Now: now, DevMail: s.devMail, Dev: opts.dev})
	if err != nil {
		t.Fatal(err)
	}
	prov.ErrorPage = s.pages.ProviderError // as cmd/cognate wires it
	router := &provider.Router{Provider: prov, Apex: s.pages.Apex(), Tenant: s.pages.Tenant(), NotFound: s.pages.NotFound(),
		Unavailable: s.pages.Unavailable()}
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

// addUnservableTenant creates a tenant whose signing key is sealed with a
// server key the stack's provider does not have, as after the server key
// was lost or changed.
func (s *stack) addUnservableTenant(t *testing.T, slug string) {
	t.Helper()
	otherKey, err := mfa.NewSealer(bytes.Repeat([]byte{9}, mfa.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := *s.svc
	elsewhere.KeySealer = otherKey
	if _, err := elsewhere.CreateTenant(t.Context(), tenant.NewTenant{Slug: slug, Name: slug}); err != nil {
		t.Fatal(err)
	}
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

// browser is a uitest.Browser with the way these tests fill a form:
// submit, and postForm (mfa_stack_test.go), with one value a field.
type browser struct {
	*uitest.Browser
	t *testing.T
}

// page is a response as the browser reads it.
type page = uitest.Page

func newBrowser(t *testing.T) *browser {
	return &browser{Browser: uitest.NewBrowser(t), t: t}
}

// submit posts p's first form, to its action on p's host, with values and
// the hidden fields of the whole page (where forms share a field name, the
// later form's value, as uitest.Browser.PostForm sends them).
func (b *browser) submit(p page, values map[string]string) page {
	b.t.Helper()
	action, ok := uitest.FirstFormAction(p.Body)
	if !ok {
		b.t.Fatalf("no form on the page:\n%s", p.Body)
	}
	return b.PostForm(p, action, oneValueEach(values))
}

// oneValueEach is values as a form holds them.
func oneValueEach(values map[string]string) url.Values {
	form := url.Values{}
	for k, v := range values {
		form.Set(k, v)
	}
	return form
}

// startLogin has the relying party start a sign-in and returns Cognate's
// login page.
func (s *stack) startLogin(t *testing.T, b *browser) page {
	t.Helper()
	p := b.Follow(b.Get(s.rpURL + "/start"))
	if p.Status != http.StatusOK || !strings.Contains(p.URL.Path, "/login") {
		t.Fatalf("start: want the login page, got %d at %s:\n%s", p.Status, p.URL, p.Body)
	}
	return p
}
