package console

import (
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// A refusal of tenant.ValidateClient marks the form's field for the first
// part of the client it judged that the form shows, and none for a part
// the form does not show (grant types, lifetimes).
func TestClientProblemMarksTheFieldJudged(t *testing.T) {
	good := tenant.Client{Name: "App", GrantTypes: []string{tenant.GrantAuthorizationCode},
		RedirectURIs: []string{"https://app.example/cb"}, AccessTokenTTL: time.Hour, IDTokenTTL: time.Hour,
		RefreshTokenTTL: 30 * 24 * time.Hour}
	if err := tenant.ValidateClient(good); err != nil {
		t.Fatalf("the test's good client is refused: %v", err)
	}
	tests := []struct {
		name       string
		change     func(c *tenant.Client)
		field, key string // key: "" for the refusal's own
	}{
		{"no name", func(c *tenant.Client) { c.Name = "" }, "name", ""},
		{"a name with a tab", func(c *tenant.Client) { c.Name = "A\tB" }, "name", ""},
		{"no redirect URI for the code grant", func(c *tenant.Client) { c.RedirectURIs = nil }, "redirect_uris", ""},
		{"a redirect URI twice", func(c *tenant.Client) { c.RedirectURIs = []string{"https://a.example/cb", "https://a.example/cb"} },
			"redirect_uris", "problem.redirectTwice"},
		{"too many redirect URIs", func(c *tenant.Client) {
			for i := range tenant.MaxClientURIs + 1 {
				c.RedirectURIs = append(c.RedirectURIs, "https://a.example/cb"+strings.Repeat("x", i))
			}
		}, "redirect_uris", ""},
		{"a logout URI twice", func(c *tenant.Client) {
			c.PostLogoutRedirectURIs = []string{"https://a.example/out", "https://a.example/out"}
		}, "logout_uris", "problem.logoutTwice"},
		{"a logout URI not https", func(c *tenant.Client) { c.PostLogoutRedirectURIs = []string{"http://a.example/out"} }, "logout_uris", ""},
		{"an access token lifetime out of range", func(c *tenant.Client) { c.AccessTokenTTL = time.Second }, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			c.RedirectURIs = append([]string(nil), good.RedirectURIs...)
			tt.change(&c)
			err := tenant.ValidateClient(c)
			prob := clientProblem(err)
			if prob == nil {
				t.Fatalf("no problem for %v", err)
			}
			if prob.field != tt.field {
				t.Errorf("field %q, want %q (%v)", prob.field, tt.field, err)
			}
			if tt.key != "" && prob.key != tt.key {
				t.Errorf("key %q, want %q", prob.key, tt.key)
			}
		})
	}
}
