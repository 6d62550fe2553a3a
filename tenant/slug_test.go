package tenant

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateSlug(t *testing.T) {
	tests := []struct {
		slug    string
		wantErr error
		wantMsg string
	}{
		{"acme", nil, ""},
		{"acme-bv", nil, ""},
		{"a1b", nil, ""},
		{strings.Repeat("a", 63), nil, ""},
		{"ab", ErrSlugInvalid, "3 to 63"},
		{strings.Repeat("a", 64), ErrSlugInvalid, "3 to 63"},
		{"Acme", ErrSlugInvalid, "lowercase"},
		{"acme_bv", ErrSlugInvalid, "lowercase"},
		{"acme.bv", ErrSlugInvalid, "lowercase"},
		{"-acme", ErrSlugInvalid, "hyphen"},
		{"acme-", ErrSlugInvalid, "hyphen"},
		{"xn--acme", ErrSlugInvalid, "third and fourth"},
		{"auth", ErrSlugReserved, "reserved"},
		{"www", ErrSlugReserved, "reserved"},
		{"admin", ErrSlugReserved, "reserved"},
		{"static", ErrSlugReserved, "reserved"},
	}
	for _, tc := range tests {
		err := ValidateSlug(tc.slug)
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
			t.Errorf("ValidateSlug(%q) = %v, want %v", tc.slug, err, tc.wantErr)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), tc.wantMsg) {
			t.Errorf("ValidateSlug(%q) says %q; want it to mention %q", tc.slug, err, tc.wantMsg)
		}
	}
}

func TestValidateRedirectURI(t *testing.T) {
	tests := []struct {
		uri string
		ok  bool
	}{
		{"https://planner.example.com/callback", true},
		{"http://localhost:3000/cb", true},
		{"http://127.0.0.1/cb", true},
		{"http://app.localhost:3000/cb", true},
		{"http://[::1]:8080/cb", true},
		{"http://127.0.0.2/cb", true}, // all of 127.0.0.0/8 is this machine
		{"http://planner.example.com/callback", false},
		{"http://127.0.0.attacker/cb", false}, // a DNS name, which may point anywhere
		{"http://127.1/cb", false},
		{"https://planner.example.com/cb#frag", false},
		{"/relative", false},
		{"myapp://callback", false},
		{"", false},
	}
	for _, tc := range tests {
		if err := ValidateRedirectURI(tc.uri); (err == nil) != tc.ok {
			t.Errorf("ValidateRedirectURI(%q) = %v, want ok=%v", tc.uri, err, tc.ok)
		}
	}
}

// One rule says which hosts plain http may go to, for redirect URIs, logos
// and the legacy pools that receive passwords: loopback addresses, and the
// names localhost and *.localhost. What only looks like an address is a
// DNS name and may point anywhere.
func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost":                 true,
		"LocalHost":                 true,
		"demo.localhost":            true,
		"127.0.0.1":                 true,
		"127.0.0.2":                 true,
		"127.255.255.254":           true,
		"::1":                       true,
		"::ffff:127.0.0.1":          true,
		"127.0.0.attacker":          false,
		"127.evil.attacker.example": false,
		"127.1":                     false, // not an address netip reads; a name to the resolver
		"0x7f.0.0.1":                false,
		"127.0.0.1.nip.io":          false,
		"localhost.example.com":     false,
		"notlocalhost":              false,
		"128.0.0.1":                 false,
		"::2":                       false,
		"":                          false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
