package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A server outside dev mode answers the admin API on its base URL's host
// only. Reached at the address it listens on (behind a proxy, a published
// container port), it says which host that is, and the command line says
// what to give: with --base-url (or COGNATE_BASE_URL) it asks for that
// host and is answered.
func TestCLIReachesAServerAtItsAddress(t *testing.T) {
	const token = "operator-token-0123456789"
	s := startServerWith(t, t.TempDir(), "--base-url", "https://cognate.test", "--admin-token", token,
		"--secret-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	address := "http://" + s.addr

	steps := []cliStep{
		{name: "at its address alone", args: []string{"tenant", "list"}, code: exitError,
			stderr: []string{"the server at " + address + " answers the admin API only on the host of its base URL, https://cognate.test: " +
				"give --server https://cognate.test, or keep --server " + address + " and add --base-url https://cognate.test (or set COGNATE_BASE_URL)"}},
		{name: "with its base URL", args: []string{"tenant", "create", "acme", "--base-url", "https://cognate.test"},
			stdout: []string{"Tenant ", "acme"}},
		{name: "with its base URL in the environment", args: []string{"tenant", "list", "{env}"},
			stdout: []string{"acme"}},
		{name: "with another base URL", args: []string{"tenant", "list", "--base-url", "https://other.test"}, code: exitError,
			stderr: []string{"the server at " + address + " has the base URL https://cognate.test, but cognate asked it for host other.test " +
				"(the host of --base-url or COGNATE_BASE_URL): give --base-url https://cognate.test"}},
		{name: "with a base URL that is none", args: []string{"tenant", "list", "--base-url", "cognate.test"}, code: exitUsage,
			stderr: []string{"--base-url (or COGNATE_BASE_URL): \"cognate.test\" must start with http:// or https://"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) {
		env := map[string]string{}
		var args []string
		for _, a := range st.args {
			if a == "{env}" {
				env["COGNATE_BASE_URL"] = "https://cognate.test"
				continue
			}
			args = append(args, a)
		}
		var out, errOut bytes.Buffer
		code := run(t.Context(), append(args, "--server", address, "--token", token), env, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	})

	// The server's side: still a 404 with no data for a host that is not
	// its own, but one that names the base URL; other paths get the page.
	get := func(path, host string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, address+path, nil)
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := (&http.Client{CheckRedirect: noRedirects}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		return resp, body.Bytes()
	}
	resp, body := get("/admin/v1/tenants", s.addr)
	var answer struct {
		Code, Message string
		BaseURL       string `json:"base_url"`
	}
	if resp.StatusCode != http.StatusNotFound || json.Unmarshal(body, &answer) != nil || answer.BaseURL != "https://cognate.test" ||
		strings.Contains(string(body), "acme") {
		t.Errorf("admin API at the address: %s %s", resp.Status, body)
	}
	if resp, body := get("/", s.addr); resp.StatusCode != http.StatusNotFound || json.Valid(body) {
		t.Errorf("a page at the address: %s %s", resp.Status, body)
	}
	if resp, body := get("/admin/v1/tenants", "acme.cognate.test"); resp.StatusCode == http.StatusOK {
		t.Errorf("admin API on a tenant's host: %s %s", resp.Status, body)
	}
}

// The base URL's host is asked for only where no base URL can be: at an
// IP address or localhost. A --server that is a name is asked for that
// name, as typed.
func TestConnectionAsksForTheBaseURLsHost(t *testing.T) {
	tests := []struct {
		server, baseURL string
		host            string // "" for the server's own
	}{
		{"http://127.0.0.1:8080", "https://example.com", "example.com"},
		{"http://[::1]:8080", "https://Example.com:8443", "example.com:8443"},
		{"http://localhost:8080", "https://example.com", "example.com"},
		{"https://10.0.0.5", "https://example.com", "example.com"},
		{"http://localhost:8080", "http://localhost:8080", ""},
		{"https://example.com", "https://example.com", ""},
		{"https://proxy.example.net", "https://example.com", ""},
		{"http://127.0.0.1:8080", "", ""},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.server)
		c := connection{server: tt.server, baseURL: tt.baseURL}
		host, config, err := c.tls(u)
		if err != nil {
			t.Fatalf("%s with %q: %v", tt.server, tt.baseURL, err)
		}
		if host != tt.host {
			t.Errorf("%s with base URL %q asks for host %q, want %q", tt.server, tt.baseURL, host, tt.host)
		}
		if wantName, _, _ := strings.Cut(tt.host, ":"); config.ServerName != wantName {
			t.Errorf("%s with base URL %q checks the certificate for %q, want %q", tt.server, tt.baseURL, config.ServerName, wantName)
		}
	}
}

// A certificate the command line does not trust is not "cannot reach the
// server": it says so and how to trust it; and a URL with the other
// scheme than the server speaks is named as such.
func TestCLISaysWhatIsWrongWithTLS(t *testing.T) {
	tenants := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"tenants":[]}`))
	})
	tlsServer := httptest.NewTLSServer(tenants)
	defer tlsServer.Close()
	plainServer := httptest.NewServer(tenants)
	defer plainServer.Close()

	dir := t.TempDir()
	caCert := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsServer.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := writeFile(t, "not.pem", "hello\n")
	port := tlsServer.URL[strings.LastIndexByte(tlsServer.URL, ':')+1:]
	plainAddr := strings.TrimPrefix(plainServer.URL, "http://")

	steps := []cliStep{
		{name: "a certificate of an authority not known", args: []string{"--server", tlsServer.URL}, code: exitError,
			stderr: []string{"the TLS certificate of " + tlsServer.URL + " is not trusted: it is signed by an authority this machine does not know",
				"--ca-cert FILE", "SSL_CERT_FILE"},
		},
		{name: "that authority given", args: []string{"--server", tlsServer.URL, "--ca-cert", caCert},
			stdout: []string{"No tenants yet."}},
		{name: "a name the certificate does not cover", args: []string{"--server", "https://localhost:" + port, "--ca-cert", caCert}, code: exitError,
			stderr: []string{"the TLS certificate of https://localhost:" + port + " is for example.com, *.example.com, not for localhost: give --server with a name the certificate covers"}},
		{name: "a CA file that is no certificate", args: []string{"--server", tlsServer.URL, "--ca-cert", notPEM}, code: exitError,
			stderr: []string{"--ca-cert " + notPEM + " holds no certificate in PEM"}},
		{name: "http to a server that speaks https", args: []string{"--server", "http://127.0.0.1:" + port}, code: exitError,
			stderr: []string{"http://127.0.0.1:" + port + " speaks https, not plain http: give --server https://127.0.0.1:" + port + "\n"}},
		{name: "https to a server that speaks http", args: []string{"--server", "https://" + plainAddr}, code: exitError,
			stderr: []string{"https://" + plainAddr + " speaks plain http, not https: give --server http://" + plainAddr + "\n"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), append([]string{"tenant", "list", "--token", "any-token-0123456789"}, st.args...),
			map[string]string{}, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	})
}
