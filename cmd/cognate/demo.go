package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/password"
	"github.com/cognate-idp/cognate/ui"
)

// The development mode's demo: a tenant, a public client for the example
// relying party (cmd/example-rp) and an administrator, made on first start.
const (
	demoSlug  = "demo"
	demoAdmin = "admin"
)

// exampleRPRedirect is where cmd/example-rp listens by default.
const exampleRPRedirect = ui.DevExampleRPURL + "/callback"

// ensureDemo creates the demo tenant when it does not exist yet and prints
// the administrator's temporary password to out, once: on later starts the
// tenant exists and nothing is printed.
func ensureDemo(ctx context.Context, svc *tenant.Service, tenantURL string, out io.Writer) error {
	if _, err := svc.Tenant(ctx, demoSlug); err == nil {
		fmt.Fprintf(out, "\nDemo organization: %s (created earlier; its admin password was printed then)\n\n", tenantURL)
		return nil
	} else if !errors.Is(err, tenant.ErrNotFound) {
		return err
	}
	t, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: demoSlug, Name: "Demo Organization"})
	if err != nil {
		return fmt.Errorf("demo tenant: %w", err)
	}
	client, _, err := svc.CreateClient(ctx, demoSlug, tenant.NewClient{
		Name:                   "Example app",
		Public:                 true,
		RedirectURIs:           []string{exampleRPRedirect},
		PostLogoutRedirectURIs: []string{ui.DevExampleRPURL + "/"},
	})
	if err != nil {
		return fmt.Errorf("demo client: %w", err)
	}
	temp, err := password.GenerateTemporary(t.Settings.PasswordPolicy, nil)
	if err != nil {
		return err
	}
	_, err = svc.CreateUser(ctx, demoSlug, tenant.NewUser{
		Username: demoAdmin, Email: "admin@demo.invalid", EmailVerified: true,
		Groups: []string{t.Settings.AdminGroup}, Password: temp, Temporary: true,
	})
	if err != nil {
		return fmt.Errorf("demo admin: %w", err)
	}
	// Printed, not logged: logs are kept and shipped, this line is for the
	// developer at the terminal, and the password must be changed at once.
	fmt.Fprintf(out, `
Demo organization created: %s
  client ID (public, PKCE): %s   redirect URI: %s
  administrator: username %q, temporary password %s
  (shown this once; you choose a new password at the first sign-in)
Try it: go run ./cmd/example-rp --issuer %s --client-id %s
`, tenantURL, client.ID, exampleRPRedirect, demoAdmin, temp, tenantURL, client.ID)
	return nil
}
