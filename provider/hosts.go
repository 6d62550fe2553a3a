package provider

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Hosts maps a request's Host to a tenant or to the apex, and says which
// requests may speak for the client through X-Forwarded-* headers.
//
// Hosts are compared, and URLs built, in one canonical form (see
// canonicalHost): lower case, no trailing dot, no default port. So
// https://Example.COM:443 as a base URL gives the issuer
// https://acme.example.com, and a request for acme.example.com:443 reaches
// the same tenant as one for acme.example.com.
type Hosts struct {
	// Base is the apex URL, e.g. https://example.com or http://localhost:8080,
	// as the operator wrote it; its host is used in canonical form only.
	Base *url.URL
	// TrustedProxies are the addresses whose X-Forwarded-Host and
	// X-Forwarded-For are believed; from anyone else they are ignored. (The
	// RFC 7239 Forwarded header is never read; X-Forwarded-Proto neither:
	// the scheme is the base URL's.)
	TrustedProxies []netip.Prefix
}

// Site is what a request addresses.
type Site struct {
	Apex bool
	Slug string // the tenant's slug when not Apex
}

type siteKey struct{}

// SiteFromContext returns the site the Hosts middleware resolved.
func SiteFromContext(ctx context.Context) (Site, bool) {
	s, ok := ctx.Value(siteKey{}).(Site)
	return s, ok
}

// WithSite stores s in ctx (for background work and tests).
func WithSite(ctx context.Context, s Site) context.Context {
	return context.WithValue(ctx, siteKey{}, s)
}

// Resolve returns the site a Host header names, or false for a host that is
// not ours. Only a single label in front of the base host is a tenant. The
// host is compared in canonical form, so case, a trailing dot and the
// scheme's default port make no difference.
func (h Hosts) Resolve(host string) (Site, bool) {
	host = canonicalHost(h.Base.Scheme, host)
	base := h.baseHost()
	if host == base {
		return Site{Apex: true}, true
	}
	// host must be "<label>." + base; checked without building that string,
	// since every request comes through here.
	label, ok := strings.CutSuffix(host, base)
	if !ok || len(label) < 2 || label[len(label)-1] != '.' {
		return Site{}, false
	}
	label = label[:len(label)-1]
	if strings.Contains(label, ".") {
		return Site{}, false
	}
	return Site{Slug: label}, true
}

// TenantURL is the origin of a tenant: its issuer and login site.
// TenantURL("*") is the pattern of every tenant's origin, for a
// Content-Security-Policy source.
func (h Hosts) TenantURL(slug string) string {
	return h.Base.Scheme + "://" + slug + "." + h.baseHost()
}

// ApexURL is the origin of the apex site.
func (h Hosts) ApexURL() string { return h.Base.Scheme + "://" + h.baseHost() }

// Secure reports whether cookies must be Secure (the site is served over
// https, directly or behind a TLS-terminating proxy).
func (h Hosts) Secure() bool { return h.Base.Scheme == "https" }

// CookieName is the name under which a cookie called name is set and read.
// Over https it carries the __Host- prefix: a browser keeps such a cookie
// only when the host itself set it, Secure, with Path=/ and no Domain. A
// cookie without the prefix may be planted by any sibling subdomain (another
// tenant's host, the apex) with Domain set to the parent domain, and would
// sign the victim in to the planter's session (session fixation, login
// CSRF). Plain http (development) cannot carry the prefix, which requires
// Secure: there the name is name itself. Cookies are set through Cookie,
// which gives them what the prefix asks.
func (h Hosts) CookieName(name string) string {
	if h.Secure() {
		return "__Host-" + name
	}
	return name
}

// Cookie builds the cookie called name (named as CookieName names it) that
// every Cognate cookie is: host-only (no Domain attribute, so one tenant's
// cookie never reaches another subdomain), Path=/, HttpOnly, and Secure
// over https; a browser drops a __Host- cookie that is not all of these.
// maxAge 0 makes it last as long as the browser session; a negative maxAge
// deletes it. sameSite is the caller's to choose: whether it must come
// along when another site sends the browser here.
func (h Hosts) Cookie(name, value string, maxAge time.Duration, sameSite http.SameSite) *http.Cookie {
	return &http.Cookie{Name: h.CookieName(name), Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: h.Secure(), SameSite: sameSite}
}

// baseHost is the base URL's host[:port] in canonical form. It is worked out
// on each call rather than kept, so that a Hosts built as a struct literal
// is canonical too; when the base is canonical already, it costs no
// allocation.
func (h Hosts) baseHost() string { return canonicalHost(h.Base.Scheme, h.Base.Host) }

// canonicalHost returns host[:port] in the one form Cognate compares and
// prints: lower case (RFC 3986, section 6.2.2.1), without a trailing dot,
// and without the port when it is empty or the scheme's default (section
// 6.2.3; RFC 9110, section 4.2): https://Example.COM.:443 is
// https://example.com.
func canonicalHost(scheme, hostport string) string {
	host, port := hostport, ""
	// The port follows the last colon, unless that colon is inside an IPv6
	// literal ("[::1]").
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		host, port = hostport[:i], hostport[i:]
	}
	trimmed := strings.TrimSuffix(host, ".")
	switch {
	case port == ":" || port == defaultPort(scheme):
		port = ""
	case trimmed == host:
		// Nothing to take out: no new string.
		return strings.ToLower(hostport)
	}
	return strings.ToLower(trimmed + port)
}

// defaultPort is ":443" for https and ":80" for http.
func defaultPort(scheme string) string {
	switch scheme {
	case "https":
		return ":443"
	case "http":
		return ":80"
	}
	return ""
}

// RequestHost is the Host the browser used: the request's own, or, from
// a trusted proxy, the X-Forwarded-Host that proxy set. A proxy chain
// appends, and the first values may be the client's own (anyone can send
// X-Forwarded-Host), so the value that counts is the last one, across
// repeated headers and comma-separated lists, as ClientIP reads
// X-Forwarded-For from the right.
func (h Hosts) RequestHost(r *http.Request) string {
	values := r.Header.Values("X-Forwarded-Host")
	if len(values) == 0 || !h.fromTrustedProxy(r) {
		return r.Host
	}
	last := values[len(values)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	if last = strings.TrimSpace(last); last == "" {
		return r.Host
	}
	return last
}

func (h Hosts) fromTrustedProxy(r *http.Request) bool {
	if len(h.TrustedProxies) == 0 {
		return false
	}
	hostPort := r.RemoteAddr
	ipStr, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		ipStr = hostPort
	}
	ip, err := netip.ParseAddr(ipStr)
	if err != nil {
		return false
	}
	return h.trusted(ip.Unmap())
}

// ClientIP is the address of the person's browser: the request's peer, or,
// when that peer is a trusted proxy, the last address in X-Forwarded-For
// that is not itself a trusted proxy. Lockout counts failures against it,
// so behind a proxy it must not be the proxy's own address.
func (h Hosts) ClientIP(r *http.Request) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	if !h.fromTrustedProxy(r) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !h.trusted(ip.Unmap()) {
			return ip.Unmap().String()
		}
	}
	return peer
}

func (h Hosts) trusted(ip netip.Addr) bool {
	for _, p := range h.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ParsePrefixes parses CIDRs or single addresses for TrustedProxies.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
