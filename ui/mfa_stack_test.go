package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/cmd/example-rp/rp"
	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
	"github.com/cognate-idp/cognate/ui"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// mfaStack is the stack of stack_test.go with MFA wired as cmd/cognate
// wires it (a Sealer, per-tenant relying parties), and two tenants with a
// relying party each: acme (Acme BV) and beta (Beta GmbH). Both get policy.
type mfaStack struct {
	acme, beta *stack // sharing the server, store and service
	machine    *auth.Machine
	// machineStore is the store as the state machine reaches it: the
	// store itself, until a test has it run a change first (BeforeUpdate).
	machineStore *uitest.InterposingStore
	// log holds what every part logged, as t.Output() gets it too.
	log *uitest.Log
}

func newMFAStack(t *testing.T, policy tenant.MFAPolicy) *mfaStack {
	t.Helper()
	ctx := t.Context()
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
	log := &uitest.Log{}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), log), &slog.HandlerOptions{Level: slog.LevelDebug}))
	hasher, err := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	hosts := provider.Hosts{Base: base}
	prov, err := provider.New(provider.Config{Hosts: hosts, Store: store, Logger: logger, Now: time.Now,
		CryptoKey: [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}})
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := mfa.NewSealer(bytes.Repeat([]byte{9}, mfa.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	rps := &auth.RelyingParties{Origin: hosts.TenantURL}
	svc := &tenant.Service{Store: store, Hasher: hasher, Logger: logger, Now: time.Now,
		Changed: func(ctx context.Context, slug string) { prov.Invalidate(ctx, slug); rps.Forget(slug) }, RevokeUser: prov.RevokeUser}
	machineStore := &uitest.InterposingStore{Store: store}
	machine := &auth.Machine{Store: machineStore, Hasher: hasher, Logger: logger, Now: time.Now, Sealer: sealer, RelyingParty: rps.For,
		SSOSessions: true, Audit: tenant.RecordAudit}
	pages, err := ui.New(ui.Pages{Provider: prov, Auth: machine, Service: svc, Logger: logger, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	prov.ErrorPage = pages.ProviderError
	router := &provider.Router{Provider: prov, Apex: pages.Apex(), Tenant: pages.Tenant(), NotFound: pages.NotFound()}
	srv := httptest.NewUnstartedServer(router)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	ms := &mfaStack{machine: machine, machineStore: machineStore, log: log}
	for _, tn := range []struct {
		slug, name string
		into       **stack
	}{{"acme", "Acme BV", &ms.acme}, {"beta", "Beta GmbH", &ms.beta}} {
		if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: tn.slug, Name: tn.name, Settings: tenant.Settings{MFA: policy}}); err != nil {
			t.Fatal(err)
		}
		s := &stack{base: base.String(), tenantURL: hosts.TenantURL(tn.slug), svc: svc, store: store, pages: pages}
		var app *rp.RP
		rpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { app.ServeHTTP(w, r) }))
		t.Cleanup(rpSrv.Close)
		s.rpURL = rpSrv.URL
		client, _, err := svc.CreateClient(ctx, tn.slug, tenant.NewClient{Name: "Example App", Public: true,
			RedirectURIs: []string{rpSrv.URL + "/callback"}})
		if err != nil {
			t.Fatal(err)
		}
		s.clientID = client.ID
		if app, err = rp.New(ctx, rp.Config{Issuer: s.tenantURL, ClientID: client.ID, RedirectURL: rpSrv.URL + "/callback"}); err != nil {
			t.Fatal(err)
		}
		*tn.into = s
	}
	return ms
}

// slug is the tenant a stack of mfaStack stands for.
func (s *stack) slug() string {
	u, _ := url.Parse(s.tenantURL)
	label, _, _ := strings.Cut(u.Hostname(), ".")
	return label
}

// addUserAt creates a user with a permanent password at s's tenant.
func (s *stack) addUserAt(t *testing.T, username string) tenant.User {
	t.Helper()
	u, err := s.svc.CreateUser(t.Context(), s.slug(), tenant.NewUser{Username: username, Email: username + "@example.com",
		EmailVerified: true, Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// enrolTOTP gives a user of s an authenticator app, as the account page
// does, and returns its secret. The confirming code spends the current
// time step: the next code to use is the following step's.
func (ms *mfaStack) enrolTOTP(t *testing.T, s *stack, sub string) string {
	t.Helper()
	res, err := ms.machine.BeginEnrolment(t.Context(), s.slug(), sub, auth.SoftwareTokenMFA)
	if err != nil {
		t.Fatal(err)
	}
	secret := res.MFA.TOTP.Secret
	if _, err := ms.machine.FinishEnrolment(t.Context(), s.slug(), sub, res.Session,
		auth.Answer{Code: oathtool(t, secret, time.Now()), FactorName: "Phone"}); err != nil {
		t.Fatal(err)
	}
	return secret
}

// requireOathtool skips t when the oathtool program is missing (fails
// instead under COGNATE_REQUIRE_OATHTOOL=1). It is Debian's oathtool, an
// implementation of RFC 6238 independent of Cognate's.
func requireOathtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv("COGNATE_REQUIRE_OATHTOOL") == "1" {
			t.Fatal("no oathtool on PATH and COGNATE_REQUIRE_OATHTOOL=1 (Debian: apt-get install oathtool)")
		}
		t.Skip("TOTP test skipped: no oathtool on PATH (Debian package oathtool; set COGNATE_REQUIRE_OATHTOOL=1 to fail instead)")
	}
	return path
}

// oathtool returns the TOTP code of a base32 secret (spaces allowed) at
// the given time, from the oathtool program.
func oathtool(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	out, err := exec.Command(requireOathtool(t), "--totp", "-b",
		"--now", at.UTC().Format("2006-01-02 15:04:05 UTC"), strings.ReplaceAll(secret, " ", "")).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

var (
	totpSecretRe = regexp.MustCompile(`<code class="secret" id="totp-secret">([^<]+)</code>`)
	codeListRe   = regexp.MustCompile(`<li><code>([0-9a-z-]+)</code></li>`)
	continueRe   = regexp.MustCompile(`id="recovery-continue" href="([^"]+)"`)
)

// pageSecret reads the TOTP key a set-up page shows for manual entry.
func pageSecret(t *testing.T, p page) string {
	t.Helper()
	m := totpSecretRe.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no TOTP key on the page (status %d):\n%s", p.Status, p.Body)
	}
	return strings.ReplaceAll(m[1], " ", "")
}

// recoveryCodes reads the codes of a recovery codes page and where it
// continues to.
func recoveryCodes(t *testing.T, p page) (codes []string, next string) {
	t.Helper()
	for _, m := range codeListRe.FindAllStringSubmatch(p.Body, -1) {
		codes = append(codes, m[1])
	}
	m := continueRe.FindStringSubmatch(p.Body)
	if len(codes) != 10 || m == nil {
		t.Fatalf("want a page of 10 recovery codes, got %d (status %d):\n%s", len(codes), p.Status, p.Body)
	}
	u, err := p.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return codes, u.String()
}

// postForm posts the page's hidden fields with values to path on the
// page's host (for the second and later forms of a page, which submit
// does not reach).
func (b *browser) postForm(p page, path string, values map[string]string) page {
	b.t.Helper()
	return b.PostForm(p, path, oneValueEach(values))
}
