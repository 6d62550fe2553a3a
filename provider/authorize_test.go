package provider_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
)

// formPost reads a Form Post Response Mode page (§2): where it posts, and
// what.
func formPost(t *testing.T, resp *http.Response) (action string, params url.Values) {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200 and a form_post page: %s", resp.StatusCode, body)
	}
	form := regexp.MustCompile(`<form method="post" action="([^"]*)">`).FindSubmatch(body)
	if form == nil {
		t.Fatalf("no form that posts:\n%s", body)
	}
	params = url.Values{}
	for _, input := range regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`).FindAllSubmatch(body, -1) {
		params.Add(html.UnescapeString(string(input[1])), html.UnescapeString(string(input[2])))
	}
	return html.UnescapeString(string(form[1])), params
}

// loggedOneLine fails t unless the log has one line since start, a
// warning that names the tenant. It needs slog's default set to h.logger,
// as cmd/cognate sets it to the server's: the library logs through it.
func loggedOneLine(t *testing.T, h *harness, start int) {
	t.Helper()
	logged := h.logs.String()[start:]
	if n := strings.Count(logged, "\n"); n != 1 || !strings.Contains(logged, "level=WARN") || !strings.Contains(logged, "tenant=acme") {
		t.Errorf("the refusal logged %d lines, want one warning naming the tenant:\n%s", n, logged)
	}
}

// useHarnessLogger makes h.logger slog's default for the test.
func useHarnessLogger(t *testing.T, h *harness) {
	previous := slog.Default()
	slog.SetDefault(h.logger)
	t.Cleanup(func() { slog.SetDefault(previous) })
}

// An error goes back to the application as its code would have, in the
// response mode it asked for: with form_post, posted by the browser (Form
// Post Response Mode §2), never in the URL of a GET the application's
// callback may not take. Before, the library put every error in the query.
// The state comes back exactly, characters HTML and URLs give a meaning
// included.
func TestAuthorizeErrorsFollowTheResponseMode(t *testing.T) {
	h := newHarness(t)
	useHarnessLogger(t, h)
	f := h.fixture("acme", true)
	cfg := h.oauthConfig(f)
	const state = `s/+ &="<é>?#%`
	// authorizeURL is a request for a code in mode, refused for want of
	// PKCE (a public client) when refuse is set.
	authorizeURL := func(mode string, refuse bool) string {
		u, _ := url.Parse(cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		q := u.Query()
		if mode != "" {
			q.Set("response_mode", mode)
		}
		if refuse {
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	wantError := func(t *testing.T, params url.Values, code string) {
		t.Helper()
		if params.Get("error") != code || params.Get("state") != state || params.Has("code") || params.Get("iss") != h.issuer("acme") {
			t.Errorf("parameters %v, want error=%s, the state and the issuer (RFC 9207)", params, code)
		}
	}

	t.Run("form_post at the authorization endpoint", func(t *testing.T) {
		start := len(h.logs.String())
		action, params := formPost(t, h.get(authorizeURL("form_post", true)))
		loggedOneLine(t, h, start)
		if action != redirectURI {
			t.Errorf("posts to %s, want %s", action, redirectURI)
		}
		wantError(t, params, "invalid_request")
		if params.Get("error_description") == "" {
			t.Error("no error_description")
		}
	})
	t.Run("fragment at the authorization endpoint", func(t *testing.T) {
		loc := h.location(h.get(authorizeURL("fragment", true)), http.StatusFound)
		params, _ := url.ParseQuery(loc.EscapedFragment())
		wantError(t, params, "invalid_request")
		if loc.RawQuery != "" {
			t.Errorf("query %q, want the error in the fragment only", loc.RawQuery)
		}
	})
	t.Run("query at the authorization endpoint", func(t *testing.T) {
		loc := h.location(h.get(authorizeURL("", true)), http.StatusFound)
		wantError(t, loc.Query(), "invalid_request")
	})
	// prompt=none without a session, as the sign-in pages answer it.
	t.Run("form_post from the sign-in page", func(t *testing.T) {
		loc := h.location(h.get(authorizeURL("form_post", false)), http.StatusFound)
		rec := httptest.NewRecorder()
		start := len(h.logs.String())
		h.prov.FailLogin(rec, httptest.NewRequest(http.MethodGet, loc.String(), nil), "acme", loc.Query().Get("authRequestID"), provider.LoginRequired)
		action, params := formPost(t, rec.Result())
		if action != redirectURI {
			t.Errorf("posts to %s, want %s", action, redirectURI)
		}
		wantError(t, params, "login_required")
		// Its line names the application and the address, as a refusal at
		// the authorization endpoint does.
		if logged := h.logs.String()[start:]; !strings.Contains(logged, "auth_request.client_id="+cfg.ClientID) ||
			!strings.Contains(logged, "client_ip=192.0.2.1") {
			t.Errorf("the line does not name the client and its address:\n%s", logged)
		}
	})
	// A code goes the same way, on the same page.
	t.Run("form_post of a code", func(t *testing.T) {
		loc := h.location(h.get(authorizeURL("form_post", false)), http.StatusFound)
		resp, err := h.http.PostForm(h.issuer("acme")+"/login", url.Values{"authRequestID": {loc.Query().Get("authRequestID")},
			"username": {f.user.Username}, "password": {f.password}})
		if err != nil {
			t.Fatal(err)
		}
		action, params := formPost(t, h.get(h.location(resp, http.StatusSeeOther).String()))
		if action != redirectURI || params.Get("code") == "" || params.Get("state") != state || params.Has("error") ||
			params.Get("iss") != h.issuer("acme") {
			t.Errorf("posts %v to %s, want a code, the state and the issuer to %s", params, action, redirectURI)
		}
	})
}

// A max_age that is no whole number of seconds is the application's
// mistake, told to the application (RFC 6749 §4.1.2.1) once its client
// and redirect URI are good, in the response mode it asked for. Before,
// the library could not read the request and the person got the page for
// a sign-in link that does not work here.
func TestMalformedMaxAgeGoesBackToTheApplication(t *testing.T) {
	h := newHarness(t)
	useHarnessLogger(t, h)
	f := h.fixture("acme", true)
	cfg := h.oauthConfig(f)
	authorizeURL := func(maxAge, mode, clientID string) string {
		u, _ := url.Parse(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("max_age", maxAge)))
		q := u.Query()
		if mode != "" {
			q.Set("response_mode", mode)
		}
		if clientID != "" {
			q.Set("client_id", clientID)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for _, maxAge := range []string{"abc", "-1", "1.5", "+5", "18446744073709551616"} {
		t.Run(maxAge, func(t *testing.T) {
			start := len(h.logs.String())
			loc := h.location(h.get(authorizeURL(maxAge, "", "")), http.StatusFound)
			loggedOneLine(t, h, start)
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI || loc.Query().Get("error") != "invalid_request" ||
				loc.Query().Get("state") != "s" {
				t.Errorf("sent to %s, want invalid_request with the state at %s", loc, redirectURI)
			}
			if _, params := formPost(t, h.get(authorizeURL(maxAge, "form_post", ""))); params.Get("error") != "invalid_request" {
				t.Errorf("form_post: %v, want invalid_request", params)
			}
			// An unknown client: the person gets the page, as for any
			// fault, and nothing goes to the redirect URI.
			resp := h.get(authorizeURL(maxAge, "", "nobody"))
			resp.Body.Close()
			if loc, _ := resp.Location(); resp.StatusCode != http.StatusBadRequest || loc != nil {
				t.Errorf("unknown client: status %d, location %v; want 400 and the page", resp.StatusCode, loc)
			}
		})
	}
	for _, maxAge := range []string{"0", "300"} {
		if loc := h.location(h.get(authorizeURL(maxAge, "", "")), http.StatusFound); loc.Path != "/login" {
			t.Errorf("max_age=%s: sent to %s, want the login page", maxAge, loc)
		}
	}
}

// PKCE is required of public clients (issue 2) and optional for
// confidential ones, as in Cognito, where server-side applications with a
// secret often send no challenge. A challenge a confidential client sends
// is held to the same rule (S256, its verifier checked: the exchange
// tests), and a verifier for a code asked for without one is refused (RFC
// 9700 §2.1.1: a PKCE downgrade), without spending the code.
func TestPKCEIsOptionalForConfidentialClientsOnly(t *testing.T) {
	h := newHarness(t)
	c := h.tokenClients("acme")
	conf := c.conf

	t.Run("confidential client without PKCE", func(t *testing.T) {
		code := h.login(conf, c.confCfg, "")
		form := codeForm(code, "")
		form.Del("code_verifier")
		resp, tok := h.send(http.MethodPost, c.confCfg.Endpoint.TokenURL, form.Encode(), conf.client.ID, conf.secret)
		if resp.StatusCode != http.StatusOK || tok["access_token"] == nil || tok["id_token"] == nil {
			t.Fatalf("exchange: %d %v, want tokens", resp.StatusCode, tok)
		}
	})
	t.Run("a verifier for a code asked for without a challenge", func(t *testing.T) {
		code := h.login(conf, c.confCfg, "")
		resp, body := h.send(http.MethodPost, c.confCfg.Endpoint.TokenURL, codeForm(code, oauth2.GenerateVerifier()).Encode(), conf.client.ID, conf.secret)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("exchange: %d %v, want 400 invalid_grant", resp.StatusCode, body)
		}
		form := codeForm(code, "")
		form.Del("code_verifier")
		if resp, tok := h.send(http.MethodPost, c.confCfg.Endpoint.TokenURL, form.Encode(), conf.client.ID, conf.secret); resp.StatusCode != http.StatusOK {
			t.Fatalf("the correct exchange after the refused one: %d %v", resp.StatusCode, tok)
		}
	})

	refusals := []struct {
		name   string
		cfg    *oauth2.Config
		mutate func(q url.Values)
	}{
		{"public client without PKCE", c.pubCfg, func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }},
		{"public client with plain", c.pubCfg, func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"confidential client with plain", c.confCfg, func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"confidential client with a challenge and no method", c.confCfg, func(q url.Values) { q.Del("code_challenge_method") }},
		{"confidential client with a method and no challenge", c.confCfg, func(q url.Values) { q.Del("code_challenge") }},
		{"confidential client with a challenge not of S256's form", c.confCfg, func(q url.Values) { q.Set("code_challenge", "abc") }},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := url.Parse(tc.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			q := u.Query()
			tc.mutate(q)
			u.RawQuery = q.Encode()
			loc := h.location(h.get(u.String()), http.StatusFound)
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI || loc.Query().Get("error") != "invalid_request" {
				t.Errorf("sent to %s, want invalid_request at %s", loc, redirectURI)
			}
		})
	}
}

// An id_token_hint that does not verify (no token at all, another
// organization's, one signed by a key retired since, as docs/secrets.md
// has operators do after a leak) says nothing of whom to expect. Without
// prompt=none the person signs in as without a hint, and one line says the
// hint was ignored and why, without the token; with prompt=none the
// application gets login_required, with a description that says why.
// Before, the library answered every such request with login_required, so
// the login page never showed.
func TestUnverifiableIDTokenHintIsIgnored(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	other := h.fixture("other", false)
	cfg := h.oauthConfig(f)
	retired := h.signIn(f, cfg).Extra("id_token").(string)
	if _, err := h.svc.RotateSigningKey(h.ctx(), "acme", tenant.KeyRotation{RetirePrevious: true}); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, hint, reason string }{
		{"not a token", "garbage.x.y", "not an ID token"},
		{"another organization's", h.signIn(other, h.oauthConfig(other)).Extra("id_token").(string), "another organization"},
		{"signed by a retired key", retired, "retired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			authorize := func(prompt string) *url.URL {
				opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("id_token_hint", tc.hint)}
				if prompt != "" {
					opts = append(opts, oauth2.SetAuthURLParam("prompt", prompt))
				}
				return h.location(h.get(cfg.AuthCodeURL("s", opts...)), http.StatusFound)
			}
			start := len(h.logs.String())
			loc := authorize("")
			if loc.Path != "/login" {
				t.Fatalf("sent to %s, want the login page", loc)
			}
			logged := h.logs.String()[start:]
			if strings.Count(logged, "\n") != 1 || !strings.Contains(logged, "id_token_hint ignored") ||
				!strings.Contains(logged, "client_id="+f.client.ID) || !strings.Contains(logged, tc.reason) ||
				!strings.Contains(logged, "tenant=acme") {
				t.Errorf("want one line saying the hint was ignored (%s), naming the tenant and client:\n%s", tc.reason, logged)
			}
			if strings.Contains(logged, tc.hint) {
				t.Errorf("the line shows the hint:\n%s", logged)
			}
			lr, err := h.prov.LoginRequest(context.Background(), "acme", loc.Query().Get("authRequestID"))
			if err != nil {
				t.Fatal(err)
			}
			if lr.HintSubject != "" {
				t.Errorf("HintSubject %q, want none from a hint that does not verify", lr.HintSubject)
			}

			loc = authorize("none")
			if q := loc.Query(); q.Get("error") != "login_required" || !strings.Contains(q.Get("error_description"), "id_token_hint does not verify") ||
				!strings.Contains(q.Get("error_description"), tc.reason) {
				t.Errorf("prompt=none: %v, want login_required saying the hint does not verify (%s)", q, tc.reason)
			}
		})
	}
}
