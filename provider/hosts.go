package provider

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Hosts maps a request's Host to a tenant or to the apex, and says which
// requests may speak for the client through X-Forwarded-* headers.
type Hosts struct {
	// Base is the apex URL, e.g. https://example.com or http://localhost:8080.
	Base *url.URL
	// TrustedProxies are the addresses whose X-Forwarded-Host and
	// X-Forwarded-Proto are believed; from anyone else they are ignored.
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
// not ours. Only a single label in front of the base host is a tenant.
func (h Hosts) Resolve(host string) (Site, bool) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	base := strings.ToLower(h.Base.Host)
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
func (h Hosts) TenantURL(slug string) string {
	return h.Base.Scheme + "://" + slug + "." + h.Base.Host
}

// ApexURL is the origin of the apex site.
func (h Hosts) ApexURL() string { return h.Base.Scheme + "://" + h.Base.Host }

// Secure reports whether cookies must be Secure (the site is served over
// https, directly or behind a TLS-terminating proxy).
func (h Hosts) Secure() bool { return h.Base.Scheme == "https" }

// effectiveHost is the Host the browser used: the request's own, or the one
// a trusted proxy forwarded.
func (h Hosts) effectiveHost(r *http.Request) string {
	if fwd := r.Header.Get("X-Forwarded-Host"); fwd != "" && h.fromTrustedProxy(r) {
		// A proxy chain appends; the first value is what the client asked for.
		first, _, _ := strings.Cut(fwd, ",")
		return strings.TrimSpace(first)
	}
	return r.Host
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
