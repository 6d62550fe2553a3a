package provider_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/tenant"
)

// A code whose user was deleted or disabled after signing in is an
// invalid grant (RFC 6749 §5.2), as a refresh token of such a user is:
// not a failure of the server's (500 server_error and an ERROR line, for
// a deleted user), nor access_denied (for a disabled one), which is no
// token endpoint error. One WARN line says which.
func TestCodeOfAUserGoneMeanwhile(t *testing.T) {
	h := newHarness(t)
	// zitadel/oidc logs through slog's default, as in cmd/cognate.
	previous := slog.Default()
	slog.SetDefault(h.logger)
	t.Cleanup(func() { slog.SetDefault(previous) })
	ctx := context.Background()

	tests := []struct {
		name   string
		change func(t *testing.T, f fixture)
		says   string
	}{
		{"deleted", func(t *testing.T, f fixture) {
			if err := h.svc.DeleteUser(ctx, f.slug, f.user.Sub); err != nil {
				t.Fatal(err)
			}
		}, "the user no longer exists"},
		{"disabled", func(t *testing.T, f fixture) {
			off := false
			if _, err := h.svc.UpdateUser(ctx, f.slug, f.user.Sub, tenant.UserChange{Enabled: &off}); err != nil {
				t.Fatal(err)
			}
		}, "the user is disabled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := h.fixture(tc.name, false)
			cfg := h.oauthConfig(f)
			v := oauth2.GenerateVerifier()
			code := h.login(f, cfg, v)
			tc.change(t, f)
			start := len(h.logs.String())
			resp, body := h.send(http.MethodPost, cfg.Endpoint.TokenURL, codeForm(code, v).Encode(), f.client.ID, f.secret)
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
				t.Errorf("exchange: %d %v, want 400 invalid_grant", resp.StatusCode, body)
			}
			logged := h.logs.String()[start:]
			if n := strings.Count(logged, "\n"); n != 1 {
				t.Fatalf("the refusal logged %d lines, want 1:\n%s", n, logged)
			}
			for _, want := range []string{"level=WARN", tc.says, "tenant=" + f.slug} {
				if !strings.Contains(logged, want) {
					t.Errorf("the line does not say %s:\n%s", want, logged)
				}
			}
		})
	}
}
