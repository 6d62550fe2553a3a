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
		{"http://planner.example.com/callback", false},
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
