package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// apiClient calls the admin API of a running server.
type apiClient struct {
	server string // base URL without a trailing slash
	token  string
	http   *http.Client
	// host is the Host the requests ask for when it is not server's: the
	// host of the server's base URL, when server is the address the server
	// listens on (see connection.client).
	host string
}

// tokenSources are the places the CLI takes the operator token from, for
// the messages that send the operator to them.
const tokenSources = "--token, --token-file, COGNATE_ADMIN_TOKEN or COGNATE_ADMIN_TOKEN_FILE"

// apiError is an error answer of the API; its Message was written for the
// person at the terminal.
type apiError struct {
	status int
	body   adminapi.Error
}

func (e *apiError) Error() string { return e.body.Message }

// maxResponse bounds what the CLI reads of a response; a page of 100 users
// with all their attributes is far below it.
const maxResponse = 32 << 20

// call sends body (if not nil) as JSON and decodes the answer into out (if
// not nil). It returns the answer's raw JSON for --json.
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) ([]byte, error) {
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		reader = bytes.NewReader(raw)
	}
	req, err := c.newRequest(ctx, method, path, reader, "application/json")
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.unreachable(err)
	}
	defer resp.Body.Close()
	return c.answer(resp, method, path, out)
}

// newRequest is a request of the admin API at path (with its query), with
// the operator token and accept as what the answer may be. A path with a
// segment pathSegment escaped from "." or ".." is named in
// adminapi.PathHeader too, for the server to refuse it should a proxy on
// the way have changed it.
func (c *apiClient) newRequest(ctx context.Context, method, path string, body io.Reader, accept string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", accept)
	if p, _, _ := strings.Cut(path, "?"); hasDotSegment(p) {
		req.Header.Set(adminapi.PathHeader, p)
	}
	return req, nil
}

// streamingClient is the client without its time limit, for a request
// whose body or answer is streamed (an import, a backup) and may take
// minutes: the server bounds those itself.
func (c *apiClient) streamingClient() *http.Client {
	hc := *c.http
	hc.Timeout = 0
	return &hc
}

// unreachable says why a request got no answer at all. A certificate the
// client does not trust is told apart from a server that is not running:
// the cure is another.
func (c *apiClient) unreachable(err error) error {
	var unknownAuthority x509.UnknownAuthorityError
	var wrongHost x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknownAuthority):
		return fmt.Errorf("the TLS certificate of %s is not trusted: it is signed by an authority this machine does not know "+
			"(a private CA, or a self-signed certificate). Give that authority's certificate (PEM) with --ca-cert FILE, "+
			"or name it in the environment variable SSL_CERT_FILE", c.server)
	case errors.As(err, &wrongHost):
		return fmt.Errorf("the TLS certificate of %s is for %s, not for %s: give --server with a name the certificate covers "+
			"(the server's base URL), or keep --server and add --base-url with the base URL, so that cognate asks for its host",
			c.server, certNames(wrongHost.Certificate), wrongHost.Host)
	case errors.As(err, &invalid):
		return fmt.Errorf("the TLS certificate of %s is not valid: %w", c.server, invalid)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http's words; it has no error value for this.
		return fmt.Errorf("%s speaks plain http, not https: give --server http://%s", c.server, strings.TrimPrefix(c.server, "https://"))
	}
	return fmt.Errorf("cannot reach the Cognate server at %s (is it running? --server names another): %w", c.server, err)
}

// httpsOnlyAnswer is the body net/http's server answers plain http with on
// a port where it speaks TLS.
const httpsOnlyAnswer = "Client sent an HTTP request to an HTTPS server"

// unknownHostAnswer is the admin API's answer to a request for a host that
// is not the server's (provider.Router): it names the base URL.
type unknownHostAnswer struct {
	adminapi.Error
	BaseURL string `json:"base_url"`
}

// answer reads a response of the admin API: an error answer becomes an
// *apiError with the server's message, a success is decoded into out.
func (c *apiClient) answer(resp *http.Response, method, path string, out any) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", c.server, err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		// The client follows no redirect (see noRedirects); the admin API
		// never sends one.
		return nil, &apiError{status: resp.StatusCode, body: adminapi.Error{Code: "redirect", Message: fmt.Sprintf(
			"%s answered %s %s with a redirect to %s; cognate follows no redirect, as the admin API never sends one. "+
				"If the server has moved (to https, say), give its new address with --server",
			c.server, method, path, redirectTarget(resp))}}
	}
	if resp.StatusCode >= 300 {
		var answer unknownHostAnswer
		e := &answer.Error
		fromAPI := json.Unmarshal(raw, &answer) == nil && e.Message != ""
		switch {
		case resp.StatusCode == http.StatusUnauthorized:
			e.Message = "the server refused the operator token; check " + tokenSources
		case fromAPI && e.Code == "unknown_host" && answer.BaseURL != "":
			e.Message = c.notTheServersHost(answer.BaseURL)
		case fromAPI:
		case resp.StatusCode == http.StatusBadRequest && strings.Contains(string(raw), httpsOnlyAnswer):
			*e = adminapi.Error{Code: "http_error", Message: fmt.Sprintf("%s speaks https, not plain http: give --server https://%s",
				c.server, strings.TrimPrefix(c.server, "http://"))}
		case resp.StatusCode == http.StatusNotFound:
			// An older server, or a proxy: it did not say whose host it is.
			*e = adminapi.Error{Code: "http_error", Message: fmt.Sprintf("%s answered %s to %s %s. Is it the Cognate server? "+
				"Its admin API answers only on the host of its base URL: give that URL with --server, or, when --server is "+
				"the address the server listens on, add --base-url with its base URL (or set COGNATE_BASE_URL)",
				c.server, resp.Status, method, path)}
		default:
			// Not the admin API answering: a proxy, or another program.
			*e = adminapi.Error{Code: "http_error", Message: fmt.Sprintf("%s answered %s to %s %s", c.server, resp.Status, method, path)}
		}
		return nil, &apiError{status: resp.StatusCode, body: *e}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("the answer of %s to %s %s is not what this version of cognate expects: %w", c.server, method, path, err)
		}
	}
	return raw, nil
}

// notTheServersHost says what to do when the server at c.server has base
// URL base and was asked for another host.
func (c *apiClient) notTheServersHost(base string) string {
	if c.host != "" {
		return fmt.Sprintf("the server at %s has the base URL %s, but cognate asked it for host %s "+
			"(the host of --base-url or COGNATE_BASE_URL): give --base-url %s", c.server, base, c.host, base)
	}
	return fmt.Sprintf("the server at %s answers the admin API only on the host of its base URL, %s: give --server %s, "+
		"or keep --server %s and add --base-url %s (or set COGNATE_BASE_URL), so that cognate asks for that host",
		c.server, base, base, c.server, base)
}

// connection holds the flags every admin command takes.
type connection struct {
	server, token, tokenFile string
	// baseURL is the server's base URL, for a server reached at its
	// address (see client); caCert a CA certificate file to trust.
	baseURL, caCert string
	// data is the dev-mode server's data file: the server writes its
	// operator token next to it, and the client reads it from there.
	data string
	json bool
}

// defaultServer is where `cognate serve` listens without flags.
const defaultServer = "http://localhost:8080"

func (o *connection) register(fs *flag.FlagSet, env map[string]string) {
	server := env["COGNATE_SERVER"]
	if server == "" {
		server = defaultServer
	}
	fs.StringVar(&o.server, "server", server, "URL of the Cognate server (env COGNATE_SERVER)")
	fs.StringVar(&o.token, "token", "", "operator token (default: env COGNATE_ADMIN_TOKEN, else --token-file)")
	fs.StringVar(&o.tokenFile, "token-file", "",
		"file holding the operator token (default: env COGNATE_ADMIN_TOKEN_FILE, else the "+devAdminTokenFile+
			" that a dev-mode server writes next to its data file, --data)")
	data := env["COGNATE_DATA"]
	if data == "" {
		data = defaultConfig().Data
	}
	fs.StringVar(&o.data, "data", data,
		"the dev-mode server's data file, which "+devAdminTokenFile+" is next to: the server's --data (env COGNATE_DATA)")
	fs.StringVar(&o.baseURL, "base-url", strings.TrimSpace(env["COGNATE_BASE_URL"]),
		"the server's base URL, for a --server that is the address the server listens on (http://127.0.0.1:8080 behind a proxy, say): "+
			"the admin API answers only on the base URL's host, so cognate asks for that host (env COGNATE_BASE_URL)")
	fs.StringVar(&o.caCert, "ca-cert", "",
		"file of a CA certificate (PEM) to trust, beside the system's, for an https --server with a private CA (or set SSL_CERT_FILE)")
	fs.BoolVar(&o.json, "json", false, "print the API's JSON instead of a summary")
}

// client finds the token: a flag beats the environment, a token beats a
// token file, and the file a dev-mode server writes comes last. That file
// is where the server puts it: in the directory of the data file, so the
// client takes the same --data (or COGNATE_DATA) as the server, with the
// same default, ./cognate.db. A relative path is relative to the directory
// each runs in.
func (o *connection) client(env map[string]string) (*apiClient, error) {
	u, err := url.Parse(o.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Sprintf("--server %q: want a URL such as %s", o.server, defaultServer)}
	}
	// The flags of the connection before the token, as a command's own
	// flags are, with the exit codes of checkFunc's rule: a wrong one is
	// what is said.
	host, tlsConfig, err := o.tls(u)
	if err != nil {
		return nil, err
	}
	token := o.token
	if token == "" && o.tokenFile == "" {
		token = env["COGNATE_ADMIN_TOKEN"]
	}
	if token == "" {
		file := o.tokenFile
		if file == "" {
			file = env["COGNATE_ADMIN_TOKEN_FILE"]
		}
		explicit := file != ""
		if !explicit {
			file = devTokenPath(o.data)
		}
		raw, err := os.ReadFile(file)
		switch {
		case err != nil && !explicit && os.IsNotExist(err):
			if abs, err := filepath.Abs(file); err == nil {
				file = abs
			}
			return nil, fmt.Errorf("no operator token: give it in "+tokenSources+"; "+
				"a dev-mode server writes %s next to its data file, but there is no %s "+
				"(give the server's data file with --data or COGNATE_DATA, as it was given to cognate serve)", devAdminTokenFile, file)
		case err != nil:
			return nil, fmt.Errorf("operator token: %w", err)
		}
		token = strings.TrimSpace(string(raw))
		if token == "" {
			return nil, fmt.Errorf("operator token file %s is empty", file)
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	var rt http.RoundTripper = transport
	if host != "" {
		rt = hostTransport{host: host, next: transport}
	}
	return &apiClient{
		server: strings.TrimRight(o.server, "/"),
		token:  token,
		http:   &http.Client{Timeout: 60 * time.Second, CheckRedirect: noRedirects, Transport: rt},
		host:   host,
	}, nil
}

// tls is the Host to ask server for, when it is not server's own, and the
// TLS configuration for it.
//
// The admin API answers on the host of the server's base URL only
// (provider.Router checks every request's Host). A server behind a proxy
// or in a container is often reached at the address it listens on
// (http://127.0.0.1:8080), whose host is not that one; given the base URL,
// cognate asks for its host there, and checks an https server's
// certificate against it. Only for a server named by an IP address or
// localhost, which no base URL can be: a --server that is a name is asked
// for that name, as typed.
func (o *connection) tls(server *url.URL) (host string, config *tls.Config, err error) {
	config = &tls.Config{MinVersion: tls.VersionTLS12}
	if o.baseURL != "" {
		base, err := parseBaseURL(o.baseURL)
		if err != nil {
			return "", nil, usageError{fmt.Sprintf("--base-url (or COGNATE_BASE_URL): %s", err)}
		}
		_, ipErr := netip.ParseAddr(server.Hostname())
		byAddress := ipErr == nil || strings.EqualFold(server.Hostname(), "localhost")
		if byAddress && !strings.EqualFold(server.Host, base.Host) {
			host = strings.ToLower(base.Host)
			config.ServerName = strings.ToLower(base.Hostname())
		}
	}
	if o.caCert != "" {
		raw, err := os.ReadFile(o.caCert)
		if err != nil {
			return "", nil, fmt.Errorf("--ca-cert %s: %w", o.caCert, pathProblem(err))
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool() // this system has no pool of its own
		}
		if !pool.AppendCertsFromPEM(raw) {
			return "", nil, fmt.Errorf("--ca-cert %s holds no certificate in PEM (-----BEGIN CERTIFICATE-----)", o.caCert)
		}
		config.RootCAs = pool
	}
	return host, config, nil
}

// hostTransport asks every request for host (see connection.tls).
type hostTransport struct {
	host string
	next http.RoundTripper
}

func (t hostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not change the request it is given.
	req = req.Clone(req.Context())
	req.Host = t.host
	return t.next.RoundTrip(req)
}

// noRedirects keeps the admin API client from following a redirect. Go's
// client would send a 307's or 308's method, body and Authorization header
// again to wherever the redirect points: ServeMux answers a path with a
// "." or ".." segment with a redirect to the path cleaned of it, so a
// DELETE of /tenants/acme/users/.. would go on to delete the tenant. The
// redirect comes back as the answer, and answer reports it.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// redirectTarget is where a redirect points, for the message.
func redirectTarget(resp *http.Response) string {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "nowhere (it has no Location)"
	}
	if u, err := resp.Request.URL.Parse(loc); err == nil {
		return u.String()
	}
	return loc
}

// pathSegment is value as one segment of an admin API path; what names the
// value for the person at the terminal ("tenant slug", "sub of user ann").
// "." and ".." are sent escaped, as %2E and %2E%2E: plain, a server reads
// them as "this level" and "the level above" and cleans them out of the
// path (DELETE /tenants/acme/users/.. would be a DELETE of the tenant),
// while escaped they are a name like any other to the admin API's router.
// Users that versions before the import refused such subs brought in have
// them. A proxy on the way might still resolve the escaped form; call
// names such a path in adminapi.PathHeader, and the server refuses the
// request if its path arrived changed. An empty value would leave "//",
// which is cleaned away: it is refused.
func pathSegment(what, value string) (string, error) {
	switch value {
	case "":
		return "", fmt.Errorf("the %s is empty", what)
	case ".", "..":
		return strings.Repeat(escapedDot, len(value)), nil
	}
	return url.PathEscape(value), nil
}

// escapedDot is "." as pathSegment escapes it.
const escapedDot = "%2E"

// hasDotSegment reports whether the admin API path p (without its query)
// has a segment that pathSegment escaped from "." or "..".
func hasDotSegment(p string) bool {
	return slices.ContainsFunc(strings.Split(p, "/"), func(seg string) bool {
		return seg == escapedDot || seg == escapedDot+escapedDot
	})
}

// devTokenPath is the operator token file of a dev-mode server whose data
// file is data: the one rule that loadSecrets writes by and the client
// reads by.
func devTokenPath(data string) string {
	return filepath.Join(filepath.Dir(data), devAdminTokenFile)
}

// devSecretKeyPath is the server key file of a dev-mode server whose data
// file is data: loadSecrets makes it there, and refuseNewKeyForSealedData
// looks for it there.
func devSecretKeyPath(data string) string {
	return filepath.Join(filepath.Dir(data), devSecretKeyFile)
}
