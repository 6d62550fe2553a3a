package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPackageBoundaries enforces the boundaries the package doc comments
// state, so a shortcut across them fails here with the reason rather than
// growing unnoticed.
func TestPackageBoundaries(t *testing.T) {
	const mod = "github.com/cognate-idp/cognate/"
	rules := []struct {
		pkg       string
		forbidden []string
		why       string
		// leaf: the package may import no other Cognate package at all.
		leaf bool
	}{
		{mod + "tenant", []string{"net/http", mod + "provider", mod + "ui", mod + "tenant/bolt"},
			"the domain knows nothing of how it is served or stored", false},
		{mod + "tenant/auth", []string{"net/http", mod + "provider", mod + "ui"},
			"the sign-in state machine is driven by pages and by APIs alike", false},
		{mod + "provider", []string{mod + "ui", mod + "tenant/bolt"},
			"the provider adapts the domain to zitadel/oidc and nothing more", false},
		{mod + "mail", []string{"net/http", "github.com/emersion/go-smtp"},
			"mail is a leaf: it sends what it is given (go-smtp is the test server's)", true},
		{mod + "tenant/password", []string{"net/http"},
			"hashing and policy are a leaf the domain builds on", true},
		{mod + "tenant/cognitoimport", []string{"net/http", "go.etcd.io/bbolt", mod + "tenant/adminapi", mod + "tenant/bolt", mod + "provider", mod + "ui"},
			"the import is domain code: the admin API serves it, tenant.Store stores it", false},
		{mod + "tenant/legacy", []string{"go.etcd.io/bbolt", mod + "tenant/auth", mod + "tenant/adminapi", mod + "tenant/bolt", mod + "provider", mod + "ui"},
			"the sign-in machine uses the legacy pools through tenant.LegacyDirectory, not the other way round", false},
		{mod + "mfa", []string{"net/http", mod + "tenant", mod + "provider", mod + "ui"},
			"mfa holds the factors' cryptography, no storage and no HTTP", false},
		{mod + "ui", []string{mod + "tenant/bolt", "github.com/zitadel/oidc/v3/pkg/oidc", "github.com/zitadel/oidc/v3/pkg/op"},
			"pages reach storage through the service and the provider's small API", false},
		{mod + "ui/console", []string{mod + "tenant/bolt", "github.com/zitadel/oidc/v3/pkg/oidc", "github.com/zitadel/oidc/v3/pkg/op"},
			"the console is a relying party of its tenant, speaking plain OpenID Connect; it changes things through the service", false},
	}
	for _, r := range rules {
		// Cognate's own packages are forbidden through any path; outside
		// packages only as direct imports, since libraries we use may
		// themselves use net/http.
		deps, err := exec.Command("go", "list", "-deps", r.pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", r.pkg, err)
		}
		direct, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, r.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", r.pkg, err)
		}
		if r.leaf {
			for _, d := range strings.Fields(string(deps)) {
				if d != r.pkg && strings.HasPrefix(d, mod) {
					t.Errorf("%s imports %s: %s", strings.TrimPrefix(r.pkg, mod), d, r.why)
				}
			}
		}
		for _, f := range r.forbidden {
			list := strings.Fields(string(direct))
			if strings.HasPrefix(f, mod) {
				list = strings.Fields(string(deps))
			}
			for _, d := range list {
				if d == f {
					t.Errorf("%s imports %s: %s", strings.TrimPrefix(r.pkg, mod), f, r.why)
				}
			}
		}
	}
	// Nothing but the binary may import the pages.
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/cognate-idp/cognate/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], mod+"cmd/") || strings.HasPrefix(fields[0], mod+"ui") {
			continue
		}
		for _, imp := range fields[1:] {
			if imp == mod+"ui" || strings.HasPrefix(imp, mod+"ui/") {
				t.Errorf("%s imports %s: only cmd/… may import the pages", fields[0], imp)
			}
		}
	}
}
