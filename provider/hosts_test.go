package provider_test

import (
	"net/url"
	"testing"

	"github.com/cognate-idp/cognate/provider"
)

// Only the apex and a single label in front of it are ours; every other
// Host is refused, however close it comes.
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
		{"a.b.example.com", provider.Site{}, false},
		{".example.com", provider.Site{}, false},
		{"evilexample.com", provider.Site{}, false},
		{"acme.example.com.evil.net", provider.Site{}, false},
		{"example.org", provider.Site{}, false},
		{"", provider.Site{}, false},
	}
	for _, tt := range tests {
		got, ok := hosts.Resolve(tt.host)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Resolve(%q) = %+v, %v; want %+v, %v", tt.host, got, ok, tt.want, tt.ok)
		}
	}
}
