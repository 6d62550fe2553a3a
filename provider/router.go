package provider

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cognate-idp/cognate/tenant"
)

// Router is the front door: it checks the Host against known tenants and
// sends each request to the apex pages, a tenant's OIDC endpoints or a
// tenant's pages. An unknown or reserved subdomain, or a host that is not
// ours at all, gets NotFound and never another tenant's data.
type Router struct {
	Provider *Provider
	// Apex serves the apex site ("find your organization").
	Apex http.Handler
	// Operator serves the operator's admin API on the apex under /admin/v1/.
	Operator http.Handler
	// Tenant serves a tenant's pages; the request carries its Site.
	Tenant http.Handler
	// NotFound answers for hosts and tenants that do not exist.
	NotFound http.Handler
	// Unavailable answers a browser for a tenant that exists but cannot be
	// served now (its signing key does not open, the store fails); the
	// cause is logged already. The endpoints that servers call answer such
	// a tenant with an OAuth error in JSON, as does every path when
	// Unavailable is nil.
	Unavailable http.Handler
}

// readByMachines reports whether path is an endpoint that relying parties'
// servers call, rather than one a browser is sent to.
func readByMachines(path string) bool {
	switch path {
	case PathToken, PathUserinfo, PathRevoke, PathIntrospect, PathJWKS, PathDiscovery:
		return true
	}
	return false
}

// maxEndpointBody bounds what an OIDC endpoint reads: its forms are small.
const maxEndpointBody = 64 << 10

// Header values every response carries, shared rather than allocated per
// request: net/http only reads them, and a handler that sets one of these
// headers replaces the slice instead of changing it.
var (
	headerNosniff       = []string{"nosniff"}
	headerNoReferrer    = []string{"no-referrer"}
	headerDeny          = []string{"DENY"}
	headerHSTS          = []string{"max-age=31536000"}
	headerJSON          = []string{"application/json"}
	headerNoStore       = []string{"no-store"}
	headerNoCache       = []string{"no-cache"}
	headerCacheDocument = []string{"public, max-age=300"}
	headerAnyOrigin     = []string{"*"}
)

// SetSecurityHeaders sets the headers every response carries: no MIME
// sniffing, no framing, no referrer, over https HSTS, and behind trusted
// proxies Vary: X-Forwarded-Host. The Router sets
// them on everything it serves; what answers in front of it (the health
// probes) sets them with this.
func (rt *Router) SetSecurityHeaders(h http.Header) {
	h["X-Content-Type-Options"] = headerNosniff
	h["Referrer-Policy"] = headerNoReferrer
	h["X-Frame-Options"] = headerDeny
	if rt.Provider.hosts.Secure() {
		h["Strict-Transport-Security"] = headerHSTS
	}
	if vary := rt.Provider.varyForwardedHost; vary != nil {
		// Behind a trusted proxy X-Forwarded-Host picks the site, so a
		// cache that keys on Host alone could give one tenant's discovery
		// document, keys or files for another's. Every answer gets it: the
		// Router cannot tell which ones caches may keep (the pages' static
		// files are), and to the others it makes no difference. Handlers
		// that add to Vary (rs/cors) append to a full slice, which copies.
		h["Vary"] = vary
	}
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt.SetSecurityHeaders(w.Header())

	hosts := rt.Provider.hosts
	// The host the browser asked for, which behind a proxy is not r.Host:
	// the log names that one.
	host := hosts.RequestHost(r)
	site, ok := hosts.Resolve(host)
	if !ok {
		rt.Provider.logger.InfoContext(r.Context(), "request for a host that is not ours", "host", host, "client_ip", hosts.ClientIP(r))
		if rt.Operator != nil && isOperatorPath(r.URL.Path) {
			writeOperatorElsewhere(w, hosts, host)
			return
		}
		rt.NotFound.ServeHTTP(w, r)
		return
	}
	if site.Apex {
		r = r.WithContext(WithSite(r.Context(), site))
		if rt.Operator != nil && isOperatorPath(r.URL.Path) {
			rt.Operator.ServeHTTP(w, r)
			return
		}
		rt.Apex.ServeHTTP(w, r)
		return
	}
	st, err := rt.Provider.cache.get(r.Context(), site.Slug)
	if err != nil {
		r = r.WithContext(WithSite(r.Context(), site))
		switch {
		case errors.Is(err, tenant.ErrNotFound):
			rt.Provider.logger.InfoContext(r.Context(), "request for an organization that does not exist", "host", host, "client_ip", hosts.ClientIP(r))
			rt.NotFound.ServeHTTP(w, r)
		case rt.Unavailable != nil && !readByMachines(r.URL.Path):
			rt.Unavailable.ServeHTTP(w, r)
		default:
			writeUnavailable(w)
		}
		return
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.URL.Path == PathDiscovery || r.URL.Path == PathJWKS) {
		rt.Provider.serveDocument(w, r, site.Slug, st)
		return
	}
	endpoint := IsEndpoint(r.URL.Path)
	clientIP := ""
	if endpoint {
		// The pages log the client's address themselves, in their own
		// words (tenant/auth's, say, in a group); at the endpoints every
		// line the provider or the library writes gets it from the log.
		clientIP = hosts.ClientIP(r)
	}
	ctx, lines := withRequestLog(WithSite(r.Context(), site), site.Slug, clientIP)
	r = r.WithContext(ctx)
	if endpoint {
		r.Body = http.MaxBytesReader(w, r.Body, maxEndpointBody)
		serveLogged(rt.Provider, w, r, rt.Provider.logger, lines)
		return
	}
	rt.Tenant.ServeHTTP(w, r)
}

// isOperatorPath reports whether path is the operator's admin API's.
func isOperatorPath(path string) bool {
	return strings.HasPrefix(path, "/admin/v1/") || path == "/admin/v1"
}

// operatorElsewhere is the answer to an admin API request for a host that
// is not ours, in the admin API's error shape with the base URL beside it.
type operatorElsewhere struct {
	Code    string `json:"error"`
	Message string `json:"message"`
	BaseURL string `json:"base_url"`
}

// writeOperatorElsewhere answers an admin API request made to the server's
// address rather than its name (http://127.0.0.1:8080 behind a proxy, a
// container's published port): the admin API answers on the apex host
// only, and this says which one, so that the operator's command line can
// say what to do instead of showing a bare 404. It is still a 404 with no
// data: the base URL it names is public, and the "not ours" page links
// to it as well.
func writeOperatorElsewhere(w http.ResponseWriter, hosts Hosts, host string) {
	apex := hosts.ApexURL()
	writeJSON(w, http.StatusNotFound, operatorElsewhere{
		Code: "unknown_host",
		Message: "the admin API answers on the host of this server's base URL, " + apex + ", not on host " + host +
			": call " + apex + "/admin/v1/, or send the header Host: " + hosts.baseHost(),
		BaseURL: apex,
	})
}
