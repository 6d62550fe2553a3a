package provider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
)

// Only the apex and a single label in front of it are ours; every other
// Host is refused, however close it comes. Case, a trailing dot and the
// scheme's default port make no difference (RFC 3986, section 6.2.3).
func TestHostsResolve(t *testing.T) {
	base, _ := url.Parse("https://example.com")
	hosts := provider.Hosts{Base: base}
	tests := []struct {
		host string
		want provider.Site
		ok   bool
	}{
		{"example.com", provider.Site{Apex: true}, true},
		{"EXAMPLE.com.", provider.Site{Apex: true}, true},
		{"acme.example.com", provider.Site{Slug: "acme"}, true},
		{"Acme.Example.COM", provider.Site{Slug: "acme"}, true},
		{"example.com:443", provider.Site{Apex: true}, true},
		{"acme.example.com:443", provider.Site{Slug: "acme"}, true},
		{"ACME.example.com.:443", provider.Site{Slug: "acme"}, true},
		{"acme.example.com:", provider.Site{Slug: "acme"}, true},
		{"acme.example.com:80", provider.Site{}, false}, // http's default, not https's
		{"acme.example.com:8443", provider.Site{}, false},
		{"acme.example.com:0443", provider.Site{}, false},
		{"a.b.example.com", provider.Site{}, false},
		{".example.com", provider.Site{}, false},
		{"evilexample.com", provider.Site{}, false},
		{"acme.example.com.evil.net", provider.Site{}, false},
		{"acme.example.com.evil.net:443", provider.Site{}, false},
		{"example.org", provider.Site{}, false},
		{"[::1]:443", provider.Site{}, false},
		{"", provider.Site{}, false},
	}
	for _, tt := range tests {
		got, ok := hosts.Resolve(tt.host)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Resolve(%q) = %+v, %v; want %+v, %v", tt.host, got, ok, tt.want, tt.ok)
		}
	}
}

// Every cookie Cognate sets is host-only (no Domain), Path=/ and HttpOnly;
// over https it is Secure and named __Host-…, which a browser keeps only
// with those attributes; over plain http it can be neither. SameSite and
// the lifetime are the caller's; a negative lifetime deletes the cookie.
func TestHostsCookie(t *testing.T) {
	tests := []struct {
		base     string
		maxAge   time.Duration
		sameSite http.SameSite
		want     string // the Set-Cookie header
	}{
		{"https://example.com", time.Hour, http.SameSiteLaxMode,
			"__Host-cognate_x=v; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax"},
		{"https://example.com", 0, http.SameSiteStrictMode,
			"__Host-cognate_x=v; Path=/; HttpOnly; Secure; SameSite=Strict"},
		{"https://example.com", -time.Second, http.SameSiteLaxMode,
			"__Host-cognate_x=v; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"},
		{"http://localhost:8080", time.Hour, http.SameSiteLaxMode,
			"cognate_x=v; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax"},
		{"http://localhost:8080", 0, http.SameSiteStrictMode,
			"cognate_x=v; Path=/; HttpOnly; SameSite=Strict"},
		{"http://localhost:8080", -time.Second, http.SameSiteStrictMode,
			"cognate_x=v; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"},
	}
	for _, tt := range tests {
		base, _ := url.Parse(tt.base)
		hosts := provider.Hosts{Base: base}
		c := hosts.Cookie("cognate_x", "v", tt.maxAge, tt.sameSite)
		if c.Name != hosts.CookieName("cognate_x") || c.Path != "/" || c.Domain != "" || !c.HttpOnly || c.Secure != hosts.Secure() {
			t.Errorf("%s: %#v", tt.base, c)
		}
		if got := c.String(); got != tt.want {
			t.Errorf("%s, %v, %v: %q, want %q", tt.base, tt.maxAge, tt.sameSite, got, tt.want)
		}
	}
}

// The issuer and every URL built from the base URL are canonical whatever
// the operator typed: lower case, no default port, no trailing dot. OIDC
// Discovery (section 4.3) wants the issuer exactly as the relying party
// uses it.
func TestHostsCanonicalBase(t *testing.T) {
	tests := []struct {
		base       string
		wantApex   string
		wantTenant string
		hosts      []string // each must reach tenant acme
	}{
		{"https://example.test", "https://example.test", "https://acme.example.test", []string{"acme.example.test", "acme.example.test:443"}},
		{"https://Example.Test", "https://example.test", "https://acme.example.test", []string{"acme.example.test", "ACME.EXAMPLE.TEST"}},
		{"https://example.test:443", "https://example.test", "https://acme.example.test", []string{"acme.example.test", "acme.example.test:443"}},
		{"HTTPS://EXAMPLE.TEST.:443/", "https://example.test", "https://acme.example.test", []string{"acme.example.test"}},
		{"https://example.test:8443", "https://example.test:8443", "https://acme.example.test:8443", []string{"acme.example.test:8443"}},
		{"http://localhost:8080", "http://localhost:8080", "http://acme.localhost:8080", []string{"acme.localhost:8080"}},
		{"http://LocalHost:80", "http://localhost", "http://acme.localhost", []string{"acme.localhost", "acme.localhost:80"}},
		{"http://example.test:443", "http://example.test:443", "http://acme.example.test:443", []string{"acme.example.test:443"}},
	}
	for _, tt := range tests {
		base, err := url.Parse(tt.base)
		if err != nil {
			t.Fatal(err)
		}
		h := provider.Hosts{Base: base}
		if got := h.ApexURL(); got != tt.wantApex {
			t.Errorf("base %s: ApexURL() = %s, want %s", tt.base, got, tt.wantApex)
		}
		if got := h.TenantURL("acme"); got != tt.wantTenant {
			t.Errorf("base %s: TenantURL(acme) = %s, want %s", tt.base, got, tt.wantTenant)
		}
		for _, host := range tt.hosts {
			if site, ok := h.Resolve(host); !ok || site.Slug != "acme" {
				t.Errorf("base %s: Resolve(%q) = %+v, %v; want acme", tt.base, host, site, ok)
			}
		}
		// What TenantURL gives, Resolve takes (the console's own relying
		// party reaches the provider that way).
		u, _ := url.Parse(h.TenantURL("acme"))
		if site, ok := h.Resolve(u.Host); !ok || site.Slug != "acme" {
			t.Errorf("base %s: Resolve(host of TenantURL) = %+v, %v", tt.base, site, ok)
		}
	}
}

// Behind trusted proxies the tenant is the one the nearest proxy names:
// the last X-Forwarded-Host value, across repeated headers and lists, as
// ClientIP reads X-Forwarded-For; earlier values are whatever the client
// sent. The issuer comes out canonical from a base URL written with capitals
// and a default port, and the log names the host the browser asked for and
// the client's address. Every answer, found or not, says that it varies
// with X-Forwarded-Host, so that a cache keyed on Host alone does not keep
// one tenant's document for another.
func TestRouterForwardedHost(t *testing.T) {
	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var logs bytes.Buffer
	proxies, _ := provider.ParsePrefixes([]string{"10.0.0.0/8"})
	base, _ := url.Parse("https://Example.Test:443")
	prov, err := provider.New(provider.Config{Hosts: provider.Hosts{Base: base, TrustedProxies: proxies},
		Store: store, Logger: slog.New(slog.NewTextHandler(io.MultiWriter(&logs, t.Output()), nil)), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	hasher, _ := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 1)
	svc := &tenant.Service{Store: store, Hasher: hasher, Now: time.Now, Changed: prov.Invalidate}
	for _, slug := range []string{"acme", "globex"} {
		if _, err := svc.CreateTenant(context.Background(), tenant.NewTenant{Slug: slug}); err != nil {
			t.Fatal(err)
		}
	}
	nf := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nothing here", http.StatusNotFound) })
	router := &provider.Router{Provider: prov, Apex: nf, Tenant: nf, NotFound: nf}

	const proxy, client = "10.1.1.1:4000", "203.0.113.5:4000"
	tests := []struct {
		name       string
		remote     string
		host       string
		fwd        []string // X-Forwarded-Host headers, in order
		wantIssuer string   // empty: 404
		wantLogged string   // the host a refusal logs
	}{
		{name: "direct", remote: client, host: "acme.example.test", wantIssuer: "https://acme.example.test"},
		{name: "direct with default port", remote: client, host: "acme.example.test:443", wantIssuer: "https://acme.example.test"},
		{name: "direct in capitals", remote: client, host: "GLOBEX.Example.Test", wantIssuer: "https://globex.example.test"},
		{name: "one proxy", remote: proxy, host: "cognate.internal:8080", fwd: []string{"acme.example.test"},
			wantIssuer: "https://acme.example.test"},
		{name: "proxy passing $host:$server_port", remote: proxy, host: "cognate.internal:8080", fwd: []string{"acme.example.test:443"},
			wantIssuer: "https://acme.example.test"},
		{name: "client's header, then the proxy's", remote: proxy, host: "acme.example.test",
			fwd: []string{"globex.example.test", "acme.example.test"}, wantIssuer: "https://acme.example.test"},
		{name: "client's value, then the proxy's, in one list", remote: proxy, host: "acme.example.test",
			fwd: []string{"globex.example.test, acme.example.test"}, wantIssuer: "https://acme.example.test"},
		{name: "lists in repeated headers", remote: proxy, host: "acme.example.test",
			fwd: []string{"acme.example.test, evil.example.org", "x.example.test,globex.example.test"}, wantIssuer: "https://globex.example.test"},
		{name: "empty last value", remote: proxy, host: "acme.example.test", fwd: []string{"globex.example.test, "},
			wantIssuer: "https://acme.example.test"},
		{name: "untrusted peer's header ignored", remote: client, host: "acme.example.test", fwd: []string{"globex.example.test"},
			wantIssuer: "https://acme.example.test"},
		{name: "forwarded host not ours", remote: proxy, host: "acme.example.test", fwd: []string{"acme.example.test, evil.example.org"},
			wantLogged: "evil.example.org"},
		{name: "forwarded organization unknown", remote: proxy, host: "cognate.internal:8080", fwd: []string{"initech.example.test"},
			wantLogged: "initech.example.test"},
		{name: "untrusted peer, host not ours", remote: client, host: "evil.example.org", fwd: []string{"acme.example.test"},
			wantLogged: "evil.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/.well-known/openid-configuration", nil)
			r.RemoteAddr, r.Host = tt.remote, tt.host
			for _, v := range tt.fwd {
				r.Header.Add("X-Forwarded-Host", v)
			}
			logs.Reset()
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, r)
			if vary := rec.Header().Values("Vary"); !slices.Contains(vary, "X-Forwarded-Host") {
				t.Errorf("Vary %q, want X-Forwarded-Host", vary)
			}
			if tt.wantIssuer == "" {
				if rec.Code != http.StatusNotFound {
					t.Fatalf("status %d, want 404", rec.Code)
				}
				peer, _, _ := net.SplitHostPort(tt.remote)
				if !strings.Contains(logs.String(), "host="+tt.wantLogged+" client_ip="+peer+"\n") {
					t.Errorf("log does not name host %s and client %s:\n%s", tt.wantLogged, peer, logs.String())
				}
				return
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
			}
			var doc struct {
				Issuer string `json:"issuer"`
				JWKS   string `json:"jwks_uri"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Issuer != tt.wantIssuer || doc.JWKS != tt.wantIssuer+provider.PathJWKS {
				t.Errorf("issuer %s, jwks_uri %s; want %s", doc.Issuer, doc.JWKS, tt.wantIssuer)
			}
		})
	}
}
