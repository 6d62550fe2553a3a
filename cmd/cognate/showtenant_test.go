package main

import (
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// tenant get and create say the whole password policy, its history too:
// how many earlier passwords a new one may not be.
func TestShowTenantSaysThePasswordHistory(t *testing.T) {
	tests := []struct {
		history int
		want    string
	}{
		{0, "at least 8 characters; needs number\n"},
		{1, "at least 8 characters; needs number; not the current password again\n"},
		{3, "at least 8 characters; needs number; none of the last 3 passwords\n"},
	}
	for _, tt := range tests {
		var out strings.Builder
		var ten adminapi.Tenant
		ten.Slug, ten.Name = "acme", "Acme BV"
		ten.Settings.PasswordPolicy = adminapi.PasswordPolicy{MinimumLength: 8, RequireNumbers: true, HistorySize: tt.history}
		showTenant(&out, ten)
		if !strings.Contains(out.String(), "Password policy  "+tt.want) {
			t.Errorf("history %d: got\n%s\nwant the policy %q", tt.history, out.String(), tt.want)
		}
	}
}
