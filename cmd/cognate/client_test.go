package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// Token lifetimes and changes of a client from the command line, and that
// a changed access lifetime is what the token endpoint then issues.
func TestClientLifetimeAndUpdateCommands(t *testing.T) {
	s := startServer(t, t.TempDir())
	// The clients the steps make; their args name them {machine} and
	// {planner}.
	var machine adminapi.ClientWithSecret
	var planner adminapi.Client
	decode := func(t *testing.T, stdout string, v any) {
		t.Helper()
		if err := json.Unmarshal([]byte(stdout), v); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, stdout)
		}
	}
	tokenLives := func(want int64) func(t *testing.T, _ string) {
		return func(t *testing.T, _ string) {
			t.Helper()
			if got := s.machineTokenExpiresIn(t, "acme", machine.ClientID, machine.ClientSecret); got != want {
				t.Errorf("a new access token expires in %ds, want %ds", got, want)
			}
		}
	}

	steps := []cliStep{
		{name: "create tenant", args: []string{"tenant", "create", "acme"}},
		{name: "a lifetime with a fraction of a second", args: []string{"client", "create", "--tenant", "acme", "--name", "x",
			"--access-token-ttl", "1.5s"}, code: exitUsage, stderr: []string{"-access-token-ttl", "whole number of seconds"}},
		{name: "a negative lifetime", args: []string{"client", "create", "--tenant", "acme", "--name", "x",
			"--refresh-token-ttl", "-720h"}, code: exitUsage, stderr: []string{"-refresh-token-ttl", "positive whole number of seconds"}},
		{name: "a lifetime that is not a duration", args: []string{"client", "create", "--tenant", "acme", "--name", "x",
			"--id-token-ttl", "15"}, code: exitUsage, stderr: []string{"-id-token-ttl", "not a duration"}},
		{name: "a lifetime out of range", args: []string{"client", "create", "--tenant", "acme", "--name", "x",
			"--grant", "client_credentials", "--access-token-ttl", "1m"},
			code: exitUsage, stderr: []string{"access token lifetime must be between 5m0s and 24h0m0s"}},
		{name: "create with lifetimes", args: []string{"client", "create", "--tenant", "acme", "--name", "batch",
			"--grant", "client_credentials", "--scope", "reports/read",
			"--access-token-ttl", "15m", "--id-token-ttl", "10m", "--refresh-token-ttl", "48h", "--json"},
			check: func(t *testing.T, stdout string) {
				decode(t, stdout, &machine)
				if c := machine.Client; c.AccessTokenTTLSeconds != 900 || c.IDTokenTTLSeconds != 600 || c.RefreshTokenTTLSeconds != 172800 {
					t.Errorf("lifetimes %d, %d, %d; want 900, 600, 172800", c.AccessTokenTTLSeconds, c.IDTokenTTLSeconds, c.RefreshTokenTTLSeconds)
				}
			}},
		{name: "get shows the lifetimes", args: []string{"client", "get", "--tenant", "acme", "{machine}"},
			stdout: []string{"Access tokens   15m", "ID tokens       10m", "Refresh tokens  48h (2 days)"},
			check:  tokenLives(900)},
		{name: "change the access lifetime", args: []string{"client", "update", "--tenant", "acme", "{machine}", "--access-token-ttl", "20m"},
			stdout: []string{"Access tokens   20m", "ID tokens       10m"},
			check:  tokenLives(1200)},
		{name: "a change out of range", args: []string{"client", "update", "--tenant", "acme", "{machine}", "--access-token-ttl", "25h"},
			code: exitUsage, stderr: []string{"access token lifetime must be between 5m0s and 24h0m0s"},
			check: tokenLives(1200)},
		{name: "a change that is not whole seconds", args: []string{"client", "update", "--tenant", "acme", "{machine}", "--refresh-token-ttl", "90m0.5s"},
			code: exitUsage, stderr: []string{"whole number of seconds"}},
		{name: "a retry grace period", args: []string{"client", "update", "--tenant", "acme", "{machine}", "--refresh-retry-grace", "30s"},
			stdout: []string{"Retry grace     30s"}},
		{name: "a retry grace period out of range", args: []string{"client", "update", "--tenant", "acme", "{machine}", "--refresh-retry-grace", "90s"},
			code: exitUsage, stderr: []string{"the refresh token retry grace period must be 0 to 60 whole seconds"}},
		{name: "a negative retry grace period", args: []string{"client", "update", "--tenant", "acme", "{machine}", "--refresh-retry-grace", "-5s"},
			code: exitUsage, stderr: []string{"-refresh-retry-grace", "0 or a positive whole number of seconds"}},
		{name: "no retry grace period again", args: []string{"client", "update", "--tenant", "acme", "{machine}", "--refresh-retry-grace", "0s", "--json"},
			check: func(t *testing.T, stdout string) {
				var c adminapi.Client
				decode(t, stdout, &c)
				if c.RefreshTokenRetryGraceSeconds != 0 {
					t.Errorf("retry grace %ds after setting 0s", c.RefreshTokenRetryGraceSeconds)
				}
			}},
		{name: "replace the scopes", args: []string{"client", "update", "--tenant", "acme", "{machine}", "--scope", "reports/read", "--scope", "reports/write"},
			stdout: []string{"reports/read reports/write"}},
		{name: "no grant type left", args: []string{"client", "update", "--tenant", "acme", "{machine}", "--grant", ""},
			code: exitUsage, stderr: []string{"needs at least one grant type"}, check: tokenLives(1200)},

		{name: "create with the defaults", args: []string{"client", "create", "--tenant", "acme", "--name", "planner",
			"--redirect-uri", "https://planner.example.com/cb", "--json"},
			check: func(t *testing.T, stdout string) {
				decode(t, stdout, &planner)
				if planner.AccessTokenTTLSeconds != 3600 || planner.IDTokenTTLSeconds != 3600 || planner.RefreshTokenTTLSeconds != 30*24*3600 {
					t.Errorf("lifetimes %+v, want Cognito's", planner)
				}
			}},
		{name: "the defaults shown", args: []string{"client", "get", "--tenant", "acme", "{planner}"},
			stdout: []string{"Access tokens   1h", "Refresh tokens  720h (30 days)"}},
		{name: "rename and replace the URIs", args: []string{"client", "update", "{planner}", "--tenant", "acme", "--name", "Planner 2",
			"--redirect-uri", "https://planner.example.com/a", "--redirect-uri", "https://planner.example.com/b",
			"--logout-uri", "https://planner.example.com/bye", "--json"},
			check: func(t *testing.T, stdout string) {
				var c adminapi.Client
				decode(t, stdout, &c)
				if c.Name != "Planner 2" || !slices.Equal(c.RedirectURIs, []string{"https://planner.example.com/a", "https://planner.example.com/b"}) ||
					!slices.Equal(c.PostLogoutRedirectURIs, []string{"https://planner.example.com/bye"}) || c.AccessTokenTTLSeconds != 3600 {
					t.Errorf("client %+v", c)
				}
				if strings.Contains(stdout, "secret") {
					t.Errorf("the answer has a secret: %s", stdout)
				}
			}},
		{name: "remove the logout URIs", args: []string{"client", "update", "{planner}", "--tenant", "acme", "--logout-uri", "", "--json"},
			check: func(t *testing.T, stdout string) {
				var c adminapi.Client
				decode(t, stdout, &c)
				if len(c.PostLogoutRedirectURIs) != 0 || len(c.RedirectURIs) != 2 || c.Name != "Planner 2" {
					t.Errorf("client %+v", c)
				}
			}},
		{name: "take the refresh grant away", args: []string{"client", "update", "{planner}", "--tenant", "acme", "--grant", "authorization_code", "--json"},
			check: func(t *testing.T, stdout string) {
				var c adminapi.Client
				decode(t, stdout, &c)
				if !slices.Equal(c.GrantTypes, []string{"authorization_code"}) || c.Name != "Planner 2" {
					t.Errorf("client %+v", c)
				}
			}},
		{name: "nothing to change", args: []string{"client", "update", "--tenant", "acme", "{planner}"},
			code: exitUsage, stderr: []string{"nothing to change", "--name", "--redirect-uri", "--logout-uri", "--grant", "--scope", "--access-token-ttl", "--id-token-ttl", "--refresh-token-ttl"}},
		{name: "without a tenant", args: []string{"client", "update", "{planner}", "--name", "x"},
			code: exitUsage, stderr: []string{"--tenant is required"}},
		{name: "unknown client", args: []string{"client", "update", "--tenant", "acme", "nope", "--name", "x"},
			code: exitError, stderr: []string{`tenant "acme" has no client "nope"`}},
		{name: "built-in client", args: []string{"client", "update", "--tenant", "acme", "cognate-admin-console", "--access-token-ttl", "1h"},
			code: exitError, stderr: []string{"built in"}},
		{name: "group help", args: []string{"client", "--help"}, stdout: []string{"update CLIENT_ID"}},
		{name: "command help", args: []string{"client", "update", "-h"},
			stdout: []string{"Usage: cognate client update --tenant SLUG CLIENT_ID [flags]", "-logout-uri", "-access-token-ttl", "-refresh-token-ttl"}},
	}
	runSteps(t, steps, func(t *testing.T, st cliStep) (int, string, string) {
		ids := strings.NewReplacer("{machine}", machine.ClientID, "{planner}", planner.ClientID)
		args := make([]string, len(st.args))
		for i, a := range st.args {
			args[i] = ids.Replace(a)
		}
		return s.cli(t, st.stdin, args...)
	})
}

// machineTokenExpiresIn asks the tenant's token endpoint for a
// client_credentials token and returns its expires_in.
func (s *server) machineTokenExpiresIn(t *testing.T, slug, id, secret string) int64 {
	t.Helper()
	_, expiresIn := s.machineToken(t, slug, id, secret)
	return expiresIn
}

// machineToken asks the tenant's token endpoint for a client_credentials
// token and returns it and its expires_in.
func (s *server) machineToken(t *testing.T, slug, id, secret string) (accessToken string, expiresIn int64) {
	t.Helper()
	base, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	// The tenant is the subdomain; the connection goes to the server as is.
	req.Host = slug + "." + base.Host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("token request: %s, %+v (%v)", resp.Status, body, err)
	}
	return body.AccessToken, body.ExpiresIn
}
