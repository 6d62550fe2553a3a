package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/mail/mailtest"
	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
	"github.com/cognate-idp/cognate/ui"
	"github.com/cognate-idp/cognate/ui/console"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// stack is Cognate as cmd/cognate wires it, on a real listener, with mail
// going through the durable outbox to a real SMTP server: tenants acme
// (Acme BV) and globex (Globex), each with an "admins" group and an
// administrator whose password is adminPassword. Nothing in it is a fake.
//
// The binary's wiring (buildApp in cmd/cognate/serve.go) is in package
// main, which nothing can import, so newStack repeats it, part for part:
// one tenant.Service that the console and the pages share, signing keys
// sealed, mail through the outbox. Where it differs it says why, in
// newStack.
type stack struct {
	base  string // apex, http://localhost:<port>
	port  int
	svc   *tenant.Service
	store tenant.Store
	smtp  *mailtest.Server
	admin map[string]tenant.User // by tenant
	// machine is the sign-in state machine, for enrolling second factors.
	machine *auth.Machine
	// log holds every line the stack logged, for tests of what reaches
	// the log; the lines also go to the test's output.
	log *uitest.Log
	// vanishing is the store the service reads through: the stack's own,
	// until a test makes a user read as deleted in it (a user deleted
	// between the provider's read and the console's).
	vanishing *uitest.VanishingStore
	// ahead is how far the service's (and the outbox's) clock runs ahead
	// of the real one:
	// later moves it, for what the service does differently after a
	// while (an invitation sent again after a minute is a new one).
	ahead atomic.Int64
}

// later moves the service's clock d on.
func (s *stack) later(d time.Duration) { s.ahead.Add(int64(d)) }

// adminNames are the tenants' administrators: different names, so that
// one tenant's administrator signing in at the other is an unknown user.
var adminNames = map[string]string{"acme": "boss", "globex": "gil"}

const (
	adminPassword = "Admin-Pass-1!"
	newPassword   = "Brand-New-Pass-7!"
)

func newStack(t testing.TB) *stack {
	t.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	base, _ := url.Parse(fmt.Sprintf("http://localhost:%d", port))

	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	logs := &uitest.Log{}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), logs), &slog.HandlerOptions{Level: slog.LevelInfo}))
	// Cheap hashing (the binary's default costs 19 MiB and two passes a
	// password): a test signs in many times.
	hasher, err := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 4)
	if err != nil {
		t.Fatal(err)
	}
	// The binary derives its sealers from the server key; any key does here.
	keySealer, err := mfa.NewSealer(bytes.Repeat([]byte{7}, mfa.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	totpSealer, err := mfa.NewSealer(bytes.Repeat([]byte{9}, mfa.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	hosts := provider.Hosts{Base: base}
	prov, err := provider.New(provider.Config{Hosts: hosts, Store: store, Logger: logger,
		Now: time.Now, CryptoKey: [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, KeySealer: keySealer})
	if err != nil {
		t.Fatal(err)
	}
	templates, err := mail.NewTemplates(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{vanishing: &uitest.VanishingStore{Store: store}}
	// The service's clock, and the outbox's, which sends what the service
	// queued when its time has come; the binary has one clock for every
	// part, but a test moves only these (later).
	now := func() time.Time { return time.Now().Add(time.Duration(s.ahead.Load())) }
	// No legacy pools: the console reaches none.
	svc := &tenant.Service{Store: s.vanishing, Hasher: hasher, Logger: logger, Now: now, RevokeUser: prov.RevokeUser,
		Templates: templates, MailFrom: "no-reply@cognate.test", TenantURL: hosts.TenantURL,
		ReleaseLockout: auth.Unlock, KeySealer: keySealer}
	machine := &auth.Machine{Store: store, Hasher: hasher, Logger: logger, Now: time.Now, SSOSessions: true,
		Audit: tenant.RecordAudit, Sealer: totpSealer}
	// No group mover (GroupMoveQueued nil): the members of a renamed or
	// deleted group move before the change returns, so a test reads a
	// settled state, not a race with a mover (tenant tests the mover).
	rps := &auth.RelyingParties{Origin: hosts.TenantURL}
	machine.RelyingParty = rps.For
	svc.Changed = func(ctx context.Context, slug string) { prov.Invalidate(ctx, slug); rps.Forget(slug) }

	// A real SMTP server, where the binary's relay is the operator's.
	smtp := mailtest.Start(t)
	sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: smtp.Host, Port: smtp.Port, From: "no-reply@cognate.test",
		TLS: "none"}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	outbox := &mail.Outbox{Queue: tenant.MailQueue{Store: store, Now: now}, Sender: sender, Logger: logger, Now: now}
	svc.MailQueued = outbox.Wake
	background, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { outbox.Run(background) })
	t.Cleanup(func() { stop(); wg.Wait() })

	con, err := console.New(console.Console{Service: svc, Provider: prov, Logger: logger, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := ui.New(ui.Pages{Provider: prov, Auth: machine, Service: svc, Logger: logger,
		Now: time.Now, Console: con})
	if err != nil {
		t.Fatal(err)
	}
	prov.ErrorPage = pages.ProviderError
	// No operator's API (Operator): the console never calls it.
	router := &provider.Router{Provider: prov, Apex: pages.Apex(), Tenant: pages.Tenant(), NotFound: pages.NotFound(),
		Unavailable: pages.Unavailable()}
	srv := httptest.NewUnstartedServer(router)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	s.base, s.port, s.svc, s.store, s.smtp, s.admin, s.machine, s.log = base.String(), port, svc, store, smtp, map[string]tenant.User{}, machine, logs
	es256 := "ES256" // keys in microseconds; RSA would slow every test
	for slug, name := range map[string]string{"acme": "Acme BV", "globex": "Globex"} {
		settings := tenant.SettingsChange{SigningAlg: &es256}.Apply(tenant.Settings{})
		if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: slug, Name: name, Settings: settings}); err != nil {
			t.Fatal(err)
		}
		admin, err := svc.CreateUser(ctx, slug, tenant.NewUser{Username: adminNames[slug], Email: adminNames[slug] + "@" + slug + ".example",
			EmailVerified: true, Groups: []string{"admins"}, Password: adminPassword})
		if err != nil {
			t.Fatal(err)
		}
		s.admin[slug] = admin
	}
	return s
}

// url is the address of path at a tenant's host.
func (s *stack) url(slug, path string) string {
	return fmt.Sprintf("http://%s.localhost:%d%s", slug, s.port, path)
}

// user creates a user of a tenant.
func (s *stack) user(t testing.TB, slug string, in tenant.NewUser) tenant.User {
	t.Helper()
	u, err := s.svc.CreateUser(context.Background(), slug, in)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// browser is a uitest.Browser that also signs in to the console; t is
// for signIn's failures.
type browser struct {
	*uitest.Browser
	t testing.TB
}

// page is a response as the browser reads it.
type page = uitest.Page

func newBrowser(t testing.TB) *browser {
	return &browser{Browser: uitest.NewBrowser(t), t: t}
}

// signIn signs in to a tenant's console with username and password, the
// way a browser goes: the console, the tenant's authorization endpoint,
// its login page, the callback. It returns the page it lands on.
func (b *browser) signIn(s *stack, slug, username, pw string) page {
	b.t.Helper()
	login := b.Follow(b.Get(s.url(slug, "/admin/users")))
	if login.Status != http.StatusOK || login.URL.Path != "/login" {
		b.t.Fatalf("want the tenant's login page, got %d at %s:\n%s", login.Status, login.URL, login.Body)
	}
	return b.Follow(b.Submit(login, "/login", url.Values{"login": {username}, "password": {pw}}))
}
