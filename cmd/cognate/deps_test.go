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
	}{
		{mod + "tenant", []string{"net/http", mod + "provider", mod + "ui", mod + "tenant/bolt"},
			"the domain knows nothing of how it is served or stored"},
		{mod + "tenant/auth", []string{"net/http", mod + "provider", mod + "ui"},
			"the sign-in state machine is driven by pages and by APIs alike"},
		{mod + "provider", []string{mod + "ui", mod + "tenant/bolt"},
			"the provider adapts the domain to zitadel/oidc and nothing more"},
		{mod + "mail", []string{"net/http", mod + "tenant", mod + "provider", mod + "ui"},
			"mail is a leaf: it sends what it is given"},
		{mod + "mfa", []string{"net/http", mod + "tenant", mod + "provider", mod + "ui"},
			"mfa holds the factors' cryptography, no storage and no HTTP"},
		{mod + "ui", []string{mod + "tenant/bolt", "github.com/zitadel/oidc/v3/pkg/oidc", "github.com/zitadel/oidc/v3/pkg/op"},
			"pages reach storage through the service and the provider's small API"},
		{mod + "ui/console", []string{mod + "tenant/bolt", "github.com/zitadel/oidc/v3/pkg/oidc", "github.com/zitadel/oidc/v3/pkg/op"},
			"the console is a relying party of its tenant, speaking plain OpenID Connect; it changes things through the service"},
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
