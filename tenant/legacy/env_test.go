package legacy_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/legacy"
	"github.com/cognate-idp/cognate/tenant/password"
)

// env is Cognate as cmd/cognate wires it for lazy migration: a bbolt store,
// the service, the sign-in machine and a legacy.Directory whose requests
// are counted, for tenant "acme".
type env struct {
	store    tenant.Store
	dataFile string
	svc      *tenant.Service
	m        *auth.Machine
	dir      *legacy.Directory
	clk      *clock
	// calls counts the HTTP requests that went to a legacy pool.
	calls atomic.Int64
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingTransport counts requests on their way out.
type countingTransport struct {
	n    *atomic.Int64
	next http.RoundTripper
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

var ctx = context.Background()

func newEnv(t *testing.T, pool tenant.LegacyPool) *env {
	t.Helper()
	dataFile := filepath.Join(t.TempDir(), "cognate.db")
	store, err := bolt.Open(dataFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// argon2id with small parameters: the tests look at the scheme.
	hasher, err := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 4)
	if err != nil {
		t.Fatal(err)
	}
	templates, err := mail.NewTemplates(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The pool's secrets are stored sealed and opened by the directory,
	// as in cmd/cognate: every test here goes through both.
	sealer, err := mfa.NewSealer(bytes.Repeat([]byte{7}, mfa.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: store, dataFile: dataFile, clk: &clock{t: time.Now().UTC()}}
	e.dir = &legacy.Directory{
		HTTPClient: &http.Client{Transport: countingTransport{&e.calls, http.DefaultTransport}},
		Timeout:    3 * time.Second,
		Sealer:     sealer,
	}
	e.svc = &tenant.Service{Store: store, Hasher: hasher, Now: e.clk.Now, Templates: templates,
		TenantURL: func(slug string) string { return "https://" + slug + ".example.com" }, ReleaseLockout: auth.Unlock, Legacy: e.dir,
		LegacySealer: sealer}
	e.m = &auth.Machine{Store: store, Hasher: hasher, Now: e.clk.Now, Legacy: e.dir}
	if _, err := e.svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	e.setPool(t, pool)
	return e
}

// setPool makes pool the tenant's legacy pool, through the service as the
// admin API does.
func (e *env) setPool(t *testing.T, pool tenant.LegacyPool) {
	t.Helper()
	_, err := e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Legacy: &tenant.LegacyPoolChange{Pool: pool}}})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) signIn(login, pw string) (auth.Result, error) {
	return e.m.Start(ctx, "acme", auth.Credentials{Login: login, Password: pw, ClientIP: "192.0.2.7"})
}

// mustSignIn signs in and expects to be done.
func (e *env) mustSignIn(t *testing.T, login, pw string) auth.Result {
	t.Helper()
	res, err := e.signIn(login, pw)
	if err != nil || !res.Done() {
		t.Fatalf("sign in as %s: %+v, %v", login, res, err)
	}
	return res
}

// find returns the user login names here, if any.
func (e *env) find(t *testing.T, login string) (tenant.User, bool) {
	t.Helper()
	var u tenant.User
	err := e.store.View(ctx, func(tx tenant.Tx) (err error) {
		u, err = tenant.FindUser(tx, "acme", login)
		return err
	})
	if errors.Is(err, tenant.ErrNotFound) {
		return u, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return u, true
}

// countUsers counts the tenant's users.
func (e *env) countUsers(t *testing.T) int {
	t.Helper()
	page, err := e.svc.ListUsers(ctx, "acme", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Users)
}

// queuedMail returns the mail waiting in the outbox.
func (e *env) queuedMail(t *testing.T) []mail.Queued {
	t.Helper()
	q, err := tenant.MailQueue{Store: e.store}.Due(ctx, e.clk.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	return q
}
