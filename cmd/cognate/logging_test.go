package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// The server's log gives each refused request one line that names its
// tenant: lines of our own and those zitadel/oidc writes through slog's
// default, which run sets to the server's logger. The provider's tests
// cover each kind of refusal; this one shows the binary is wired so.
func TestRefusalsAreLoggedWithTheirTenant(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	dir := t.TempDir()
	c := startChild(t, dir)
	u, _ := url.Parse(c.base)
	demo := "demo." + u.Host // the development mode's demo organization
	raw, err := os.ReadFile(filepath.Join(dir, devAdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	var app adminapi.ClientWithSecret
	if code, err := adminCall(http.DefaultClient, c.base, strings.TrimSpace(string(raw)), "POST", "/tenants/demo/clients",
		adminapi.CreateClientRequest{Name: "app", Public: true, RedirectURIs: []string{"http://localhost:9999/cb"}}, &app); err != nil || code != http.StatusCreated {
		t.Fatalf("create client: %d %v", code, err)
	}

	refuse := func(form url.Values) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, c.base+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Host = demo
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("%s: status %d, want a refusal", form.Get("grant_type"), resp.StatusCode)
		}
	}
	// Refused by Cognate's client authentication, which logs why; by
	// Cognate's token endpoint without a line of its own, for which the
	// Router logs "request refused"; and by the library (a refresh token
	// it does not know), which logs "request error".
	refuse(url.Values{"grant_type": {"client_credentials"}, "client_id": {"nobody"}, "client_secret": {"guessed-secret"}})
	refuse(url.Values{"grant_type": {"password"}, "username": {"ann"}, "password": {"guessed-password"}})
	refuse(url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "refresh_token": {"stolen-refresh-token"}})

	// Stop the server before reading what it wrote.
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
	out := c.out.String()

	for _, msg := range []string{`msg="client authentication refused"`, `msg="request refused"`, `msg="request error"`} {
		var lines []string
		for line := range strings.Lines(out) {
			if strings.Contains(line, msg) {
				lines = append(lines, line)
			}
		}
		if len(lines) != 1 || !strings.Contains(lines[0], "tenant=demo") {
			t.Errorf("want one %s line naming tenant=demo, got %d:\n%s", msg, len(lines), strings.Join(lines, ""))
		}
	}
	for _, secret := range []string{"guessed-secret", "guessed-password", "stolen-refresh-token"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log carries %q:\n%s", secret, out)
		}
	}
}
