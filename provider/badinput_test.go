package provider_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
)

func base64URLDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func TestDiscoveryAndJWKS(t *testing.T) {
	h := newHarness(t)
	h.fixture("acme", false)
	resp := h.get(h.issuer("acme") + "/.well-known/openid-configuration")
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for k, v := range map[string]string{
		"issuer":                 h.issuer("acme"),
		"authorization_endpoint": h.issuer("acme") + "/oauth2/authorize",
		"token_endpoint":         h.issuer("acme") + "/oauth2/token",
		"userinfo_endpoint":      h.issuer("acme") + "/oauth2/userInfo",
		"jwks_uri":               h.issuer("acme") + "/.well-known/jwks.json",
		"revocation_endpoint":    h.issuer("acme") + "/oauth2/revoke",
		"end_session_endpoint":   h.issuer("acme") + "/logout",
	} {
		if d[k] != v {
			t.Errorf("discovery %s = %v, want %s", k, d[k], v)
		}
	}
	if m, _ := d["code_challenge_methods_supported"].([]any); len(m) != 1 || m[0] != "S256" {
		t.Errorf("code_challenge_methods_supported = %v", d["code_challenge_methods_supported"])
	}
	// Every endpoint advertised is served: a relying party that finds one
	// in the document may call it.
	for k, v := range d {
		if u, ok := v.(string); ok && strings.HasSuffix(k, "_endpoint") {
			resp := h.get(u)
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound {
				t.Errorf("discovery advertises %s = %s, which answers 404", k, u)
			}
		}
	}
	claims, _ := d["claims_supported"].([]any)
	seen := map[any]bool{}
	for _, c := range claims {
		if seen[c] {
			t.Errorf("claims_supported lists %v twice", c)
		}
		seen[c] = true
	}
	// No client authenticates with a signed JWT, so no signing algorithms
	// for it are advertised.
	for _, k := range []string{"revocation_endpoint_auth_signing_alg_values_supported", "introspection_endpoint_auth_signing_alg_values_supported", "token_endpoint_auth_signing_alg_values_supported"} {
		if v, ok := d[k]; ok {
			t.Errorf("discovery %s = %v, want none", k, v)
		}
	}
	resp = h.get(h.issuer("acme") + "/.well-known/jwks.json")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), `"d":`) || !strings.Contains(string(body), `"RS256"`) {
		t.Fatalf("JWKS must hold public RS256 keys only: %s", body)
	}
	// Without trusted proxies the Host alone picks the tenant, which a
	// cache keys on anyway (TestRouterForwardedHost has them).
	if vary := resp.Header.Values("Vary"); len(vary) != 0 {
		t.Errorf("JWKS: Vary %q without trusted proxies, want none", vary)
	}
}

func TestUnknownHostsAndTenants(t *testing.T) {
	h := newHarness(t)
	h.fixture("acme", false)
	port := strings.TrimPrefix(h.base, "http://localhost:")
	for _, host := range []string{"globex.localhost:" + port, "auth.localhost:" + port, "evil.example:" + port, "a.acme.localhost:" + port} {
		req, _ := http.NewRequest("GET", h.base+"/.well-known/openid-configuration", nil)
		req.Host = host
		resp, err := h.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "acme") {
			t.Errorf("Host %s: status %d body %q; want 404 without another tenant's data", host, resp.StatusCode, body)
		}
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", true)
	cfg := h.oauthConfig(f)
	verifier := oauth2.GenerateVerifier()
	// Without the pages' ErrorPage, a refusal is Cognate's plain sentence,
	// not the library's own (the pages' version is in ui's browser tests).
	const refused = "This sign-in link is incomplete, or the application is not set up to sign in here."
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name   string
		mutate func(q url.Values)
		// redirected: the error goes back to the (valid) redirect URI;
		// otherwise it is shown at Cognate, never sent to an unknown URI.
		redirected bool
		wantErr    string
		// shown, when set, is what the refusal page must say.
		shown string
		// noState: the refusal does not send back the state, which is
		// itself what was refused.
		noState bool
	}{
		{"no client", func(q url.Values) { q.Del("client_id") }, false, "", refused, false},
		{"no redirect URI", func(q url.Values) { q.Del("redirect_uri") }, false, "", refused, false},
		{"wrong redirect URI", func(q url.Values) { q.Set("redirect_uri", "http://rp.localhost/other") }, false, "", refused, false},
		{"redirect URI with extra path", func(q url.Values) { q.Set("redirect_uri", redirectURI+"/x") }, false, "", refused, false},
		{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }, false, "", refused, false},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, true, "invalid_request", "", false},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, true, "invalid_request", "", false},
		// RFC 6749 §4.1.2.1: a response type the server does not serve.
		{"implicit flow", func(q url.Values) { q.Set("response_type", "token") }, true, "unsupported_response_type", "", false},
		{"hybrid flow", func(q url.Values) { q.Set("response_type", "code id_token") }, true, "unsupported_response_type", "", false},
		{"unknown response type", func(q url.Values) { q.Set("response_type", "foo") }, true, "unsupported_response_type", "", false},
		{"no response type", func(q url.Values) { q.Del("response_type") }, true, "invalid_request", "", false},
		{"unknown response mode", func(q url.Values) { q.Set("response_mode", "web_message") }, true, "invalid_request", "", false},
		// OpenID Connect Core §6.2: a request_uri the server cannot fetch.
		{"request_uri", func(q url.Values) { q.Set("request_uri", "https://rp.example/request.jwt") }, true, "request_uri_not_supported", "", false},
		// RFC 6749 §3.1: no parameter twice. Twice the client or the
		// redirect URI leaves nowhere known to send the error.
		{"client_id twice", func(q url.Values) { q.Add("client_id", q.Get("client_id")) }, false, "", refused, false},
		{"redirect_uri twice", func(q url.Values) { q.Add("redirect_uri", q.Get("redirect_uri")) }, false, "", refused, false},
		{"state twice", func(q url.Values) { q.Add("state", "other") }, true, "invalid_request", "", false},
		{"scope twice", func(q url.Values) { q.Add("scope", "openid") }, true, "invalid_request", "", false},
		{"code_challenge twice", func(q url.Values) { q.Add("code_challenge", strings.Repeat("b", 43)) }, true, "invalid_request", "", false},
		{"response_type twice", func(q url.Values) { q.Add("response_type", "code") }, true, "invalid_request", "", false},
		// What an anonymous request can make the server hold is bounded
		// (item 4 of the tester's report: 30,000-character states).
		{"state too long", func(q url.Values) { q.Set("state", long(4097)) }, true, "invalid_request", "", true},
		{"nonce too long", func(q url.Values) { q.Set("nonce", long(513)) }, true, "invalid_request", "", false},
		{"login_hint too long", func(q url.Values) { q.Set("login_hint", long(513)) }, true, "invalid_request", "", false},
		{"scope too long", func(q url.Values) { q.Set("scope", "openid"+strings.Repeat(" email", 700)) }, true, "invalid_request", "", false},
		{"code_challenge too long", func(q url.Values) { q.Set("code_challenge", long(129)) }, true, "invalid_request", "", false},
		// RFC 7636 §4.2: an S256 challenge is a SHA-256 digest in
		// base64url, 43 characters; no verifier matches another.
		{"code_challenge too short for S256", func(q url.Values) { q.Set("code_challenge", "abc") }, true, "invalid_request", "", false},
		{"code_challenge with padding", func(q url.Values) { q.Set("code_challenge", q.Get("code_challenge")+"=") }, true, "invalid_request", "", false},
		{"code_challenge in standard base64", func(q url.Values) { q.Set("code_challenge", "+/"+q.Get("code_challenge")[2:]) }, true, "invalid_request", "", false},
		{"code_challenge of 43 characters with stray bits", func(q url.Values) { q.Set("code_challenge", long(43)) }, true, "invalid_request", "", false},
		// Go's base64 decoders skip line breaks, even strict ones.
		{"code_challenge with a line break inside", func(q url.Values) { c := q.Get("code_challenge"); q.Set("code_challenge", c[:20]+"\n"+c[20:]) }, true, "invalid_request", "", false},
		{"ui_locales too long", func(q url.Values) { q.Set("ui_locales", strings.TrimSpace(strings.Repeat("nl-NL ", 50))) }, true, "invalid_request", "", false},
		{"prompt too long", func(q url.Values) { q.Set("prompt", strings.TrimSpace(strings.Repeat("login ", 30))) }, true, "invalid_request", "", false},
		{"id_token_hint too long", func(q url.Values) { q.Set("id_token_hint", long(16<<10+1)) }, true, "invalid_request", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := url.Parse(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
			q := u.Query()
			tc.mutate(q)
			u.RawQuery = q.Encode()
			heldBefore, _ := h.prov.HeldSignIns()
			resp := h.get(u.String())
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			loc, _ := resp.Location()
			if held, _ := h.prov.HeldSignIns(); held != heldBefore {
				t.Errorf("the refused request is held: %d sign-ins in memory, %d before", held, heldBefore)
			}
			if tc.shown != "" && !strings.HasPrefix(string(body), tc.shown) {
				t.Errorf("refusal page %q does not start %q", body, tc.shown)
			}
			if !tc.redirected {
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("status %d, want 400", resp.StatusCode)
				}
				if loc != nil && strings.HasPrefix(loc.String(), "http://rp.localhost") {
					t.Fatalf("error redirected to %s", loc)
				}
				if resp.StatusCode < 400 && (loc == nil || !strings.Contains(loc.String(), "error")) {
					t.Fatalf("status %d, location %v: want a refusal", resp.StatusCode, loc)
				}
				return
			}
			if loc == nil || loc.Query().Get("error") != tc.wantErr {
				t.Fatalf("status %d location %v: want error=%s at the redirect URI", resp.StatusCode, loc, tc.wantErr)
			}
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
				t.Errorf("error sent to %s, want %s", got, redirectURI)
			}
			switch state := loc.Query().Get("state"); {
			case tc.noState && loc.Query().Has("state"):
				t.Errorf("the refused state came back: %.40s…", state)
			case !tc.noState && tc.name != "state twice" && state != "s":
				t.Errorf("state %q, want s, the request's", state)
			}
		})
	}
}

// A query in which a parameter's percent-encoding is broken is refused on
// the page, and not sent to the redirect URI: Go's form parsing drops the
// pair it cannot decode and keeps the rest, so the sign-in went ahead
// without the state, or with every scope of the client for a scope that
// did not decode (e18 finding 3). What did decode of such a query is not
// trusted to say where the error may go.
func TestAuthorizeRefusesParametersThatDoNotDecode(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", true)
	cfg := h.oauthConfig(f)
	const refused = "This sign-in link is incomplete, or the application is not set up to sign in here."
	tests := []struct {
		name string
		// drop is the parameter taken from the good request, broken is
		// what takes its place.
		drop, broken string
	}{
		{"state", "state", "state=%zz"},
		{"scope", "scope", "scope=%zz"},
		{"scope cut off in an escape", "scope", "scope=openid%2"},
		{"a parameter Cognate does not read", "", "utm_source=%zz"},
		{"a semicolon for a separator", "state", "state=a;b=c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := url.Parse(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			q := u.Query()
			q.Del(tc.drop)
			query := q.Encode() + "&" + tc.broken
			heldBefore, _ := h.prov.HeldSignIns()
			resp := h.get(u.Scheme + "://" + u.Host + u.Path + "?" + query)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("status %d, location %q: want 400 and the page", resp.StatusCode, resp.Header.Get("Location"))
			}
			if !strings.HasPrefix(string(body), refused) {
				t.Errorf("refusal page %q does not start %q", body, refused)
			}
			// The same parameters in a POST's body (OpenID Connect Core
			// §3.1.2.1).
			resp, _ = h.send(http.MethodPost, u.Scheme+"://"+u.Host+u.Path, query, "", "")
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("POST: status %d, location %q: want 400 and the page", resp.StatusCode, resp.Header.Get("Location"))
			}
			if held, _ := h.prov.HeldSignIns(); held != heldBefore {
				t.Errorf("the refused request is held: %d sign-ins in memory, %d before", held, heldBefore)
			}
		})
	}
}

// What real applications send passes: every parameter at its limit at
// once, each response mode the library answers with (the discovery
// document lists the same), and parameters the server does not know,
// even repeated (RFC 6749 §3.1: ignored).
func TestAuthorizeAcceptsWhatApplicationsSend(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", true)
	cfg := h.oauthConfig(f)
	atLimits := func(q url.Values) {
		q.Set("state", "https://app.example/return?to="+strings.Repeat("p", 4096-len("https://app.example/return?to=")))
		q.Set("nonce", strings.Repeat("n", 512))
		q.Set("login_hint", strings.Repeat("l", 500)+"@example.com")
		q.Set("ui_locales", "nl-NL en")
		q.Set("prompt", "login")
	}
	tests := []struct {
		name   string
		mutate func(q url.Values)
	}{
		{"every parameter at its limit", atLimits},
		{"response_mode query", func(q url.Values) { q.Set("response_mode", "query") }},
		{"response_mode fragment", func(q url.Values) { q.Set("response_mode", "fragment") }},
		{"response_mode form_post", func(q url.Values) { q.Set("response_mode", "form_post") }},
		{"an unknown parameter, twice", func(q url.Values) { q["utm_source"] = []string{"a", "b"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := url.Parse(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			q := u.Query()
			tc.mutate(q)
			u.RawQuery = q.Encode()
			if loc := h.location(h.get(u.String()), http.StatusFound); loc.Path != "/login" {
				t.Fatalf("sent to %s, want the login page", loc)
			}
		})
	}
	resp := h.get(h.issuer("acme") + "/.well-known/openid-configuration")
	var d struct {
		Modes []string `json:"response_modes_supported"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if !slices.Equal(d.Modes, []string{"query", "fragment", "form_post"}) {
		t.Errorf("response_modes_supported = %v", d.Modes)
	}
}

// Cognito: "If no scope is requested, all client-allowed scopes are used."
func TestAuthorizeWithoutScopeGrantsTheClientsScopes(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	cfg.Scopes = nil
	tok := h.signIn(f, cfg)
	scope, _ := jwtClaims(t, tok.AccessToken)["scope"].(string)
	granted := strings.Fields(scope)
	for _, want := range f.client.Scopes {
		if !slices.Contains(granted, want) {
			t.Errorf("access token scope %q lacks the client's %s", scope, want)
		}
	}
	if tok.Extra("id_token") == nil {
		t.Error("no ID token, though the client's scopes include openid")
	}
}

// A client asks for the scopes it is allowed, and no others: the standard
// OpenID scopes are no exception, as in Cognito, whose AllowedOAuthScopes
// bound what an app client may request. A scope it may not have goes back
// to the application as invalid_scope, naming the scope, with the state
// (RFC 6749 §4.1.2.1). Before, the library let openid, profile, email,
// phone, address and offline_access through for every client, so a client
// allowed openid alone had its ID token and userinfo carry the person's
// email address and phone number; and it dropped the other scopes a
// client may not have without a word.
func TestAuthorizeRefusesScopesTheClientMayNotHave(t *testing.T) {
	h := newHarness(t)
	f := h.fixtureWith(fixtureOptions{slug: "acme", public: true, scopes: []string{"openid", "planner/read"},
		attributes: map[string]string{"phone_number": "+31612345678", "given_name": "Ann"}})
	authorize := func(scope string) *http.Response {
		cfg := h.oauthConfig(f)
		cfg.Scopes = strings.Fields(scope)
		return h.get(cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	}
	refusals := []struct {
		scope string
		// named is the scope the description names; "" for a scope no
		// client can have, which it does not repeat.
		named string
	}{
		{"openid email", "email"},
		{"openid profile", "profile"},
		{"openid phone", "phone"},
		{"openid address", "address"},
		{"openid offline_access", "offline_access"},
		{"email", "email"},
		{"openid planner/read planner/write", "planner/write"},
		{`openid "quoted"`, ""},
	}
	for _, tc := range refusals {
		t.Run(tc.scope, func(t *testing.T) {
			heldBefore, _ := h.prov.HeldSignIns()
			loc := h.location(authorize(tc.scope), http.StatusFound)
			q := loc.Query()
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI || q.Get("error") != "invalid_scope" {
				t.Fatalf("sent to %s, want invalid_scope at %s", loc, redirectURI)
			}
			if q.Get("state") != "st4te" {
				t.Errorf("state %q, want st4te", q.Get("state"))
			}
			description := q.Get("error_description")
			if tc.named != "" && !strings.Contains(description, "scope "+tc.named+" is not allowed") {
				t.Errorf("error_description %q does not name %s", description, tc.named)
			}
			if tc.named == "" && strings.Contains(description, `"`) {
				t.Errorf("error_description %q repeats what is no scope", description)
			}
			if held, _ := h.prov.HeldSignIns(); held != heldBefore {
				t.Errorf("the refused request is held: %d sign-ins in memory, %d before", held, heldBefore)
			}
		})
	}

	// What it may have it gets, and no claim of a scope it may not.
	for _, scope := range []string{"openid", "openid planner/read", ""} {
		name := scope
		if name == "" {
			name = "no scope: all the client's"
		}
		t.Run(name, func(t *testing.T) {
			cfg := h.oauthConfig(f)
			cfg.Scopes = strings.Fields(scope)
			tok := h.exchange(f, cfg)
			want := scope
			if want == "" {
				want = "openid planner/read"
			}
			if tok["scope"] != want {
				t.Errorf("scope %q, want %q", tok["scope"], want)
			}
			idClaims := jwtClaims(t, tok["id_token"])
			if idClaims["sub"] != f.user.Sub {
				t.Errorf("ID token sub %v, want %s", idClaims["sub"], f.user.Sub)
			}
			var info map[string]any
			if err := json.Unmarshal(h.userinfoBody(f, tok["access_token"]), &info); err != nil {
				t.Fatal(err)
			}
			for _, claim := range []string{"email", "email_verified", "phone_number", "given_name"} {
				if _, ok := idClaims[claim]; ok {
					t.Errorf("ID token carries %s, of a scope the client may not have", claim)
				}
				if _, ok := info[claim]; ok {
					t.Errorf("userinfo carries %s, of a scope the client may not have", claim)
				}
			}
		})
	}
}

func TestTokenEndpointRefusals(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", true)
	g := h.fixture("globex", true)
	ctx := h.ctx()
	cfg := h.oauthConfig(f)

	t.Run("wrong verifier", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := h.login(f, cfg, v)
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Fatal("exchange with a wrong verifier succeeded")
		}
		// The code is left as it was: TestRefusedCodeExchangesChangeNothing.
	})
	t.Run("missing verifier", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := h.login(f, cfg, v)
		if _, err := cfg.Exchange(ctx, code); err == nil {
			t.Fatal("exchange without a verifier succeeded")
		}
	})
	t.Run("replayed code revokes its tokens", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := h.login(f, cfg, v)
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err == nil {
			t.Fatal("a replayed code was accepted")
		}
		if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("tokens of a replayed code still work")
		}
	})
	t.Run("code of tenant A at tenant B", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := h.login(f, cfg, v)
		other := h.oauthConfig(g)
		other.ClientID = f.client.ID
		if _, err := other.Exchange(ctx, code, oauth2.VerifierOption(v)); err == nil {
			t.Fatal("tenant B redeemed tenant A's code")
		}
	})
	t.Run("refresh token of tenant A at tenant B", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		tok, err := cfg.Exchange(ctx, h.login(f, cfg, v), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		other := h.oauthConfig(g)
		other.ClientID = f.client.ID
		if _, err := other.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("tenant B accepted tenant A's refresh token")
		}
		// And A's access token at B's userinfo.
		provB, err := oidc.NewProvider(ctx, h.issuer("globex"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := provB.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Fatal("tenant B's userinfo accepted tenant A's access token")
		}
		// A's ID token does not verify against B's keys.
		if _, err := provB.Verifier(&oidc.Config{ClientID: f.client.ID, SkipIssuerCheck: true}).Verify(ctx, tok.Extra("id_token").(string)); err == nil {
			t.Fatal("tenant A's ID token verified with tenant B's keys")
		}
		// Revoking A's refresh token at B, with B's client, ends nothing:
		// B answers as for any token it does not know (RFC 7009 §2.2).
		resp, err := h.http.PostForm(h.issuer("globex")+"/oauth2/revoke", url.Values{"token": {tok.RefreshToken}, "client_id": {g.client.ID}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revocation at tenant B: status %d, want 200", resp.StatusCode)
		}
		if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
			t.Fatalf("a revocation at tenant B ended tenant A's refresh token: %v", err)
		}
		// B's introspection, asked by a client of B, knows nothing of A's
		// access token.
		api, secret, err := h.svc.CreateClient(context.Background(), "globex", tenant.NewClient{Name: "api",
			GrantTypes: []string{tenant.GrantClientCredentials}, Scopes: []string{"api/read"}})
		if err != nil {
			t.Fatal(err)
		}
		resp, intro := h.send(http.MethodPost, h.issuer("globex")+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}}.Encode(), api.ID, secret)
		if resp.StatusCode != http.StatusOK || intro["active"] != false || len(intro) != 1 {
			t.Fatalf("tenant B's introspection of tenant A's access token: %d %v, want 200 {\"active\":false}", resp.StatusCode, intro)
		}
	})
	t.Run("tampered ID token", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		tok, err := cfg.Exchange(ctx, h.login(f, cfg, v), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		raw := tok.Extra("id_token").(string)
		parts := strings.Split(raw, ".")
		payload, _ := base64URLDecode(parts[1])
		forged := strings.Replace(string(payload), `"ann"`, `"bob"`, 1)
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
		prov, _ := oidc.NewProvider(ctx, h.issuer("acme"))
		if _, err := prov.Verifier(&oidc.Config{ClientID: f.client.ID}).Verify(ctx, strings.Join(parts, ".")); err == nil {
			t.Fatal("a tampered ID token verified")
		}
		// A tampered access token is refused at userinfo.
		atParts := strings.Split(tok.AccessToken, ".")
		atParts[2] = strings.Repeat("A", len(atParts[2]))
		if _, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: strings.Join(atParts, "."), TokenType: "Bearer"})); err == nil {
			t.Fatal("userinfo accepted a tampered access token")
		}
	})
	t.Run("oversized body", func(t *testing.T) {
		body := "grant_type=authorization_code&code=" + strings.Repeat("x", 200<<10)
		resp, err := h.http.Post(h.issuer("acme")+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("oversized token request: status %d", resp.StatusCode)
		}
	})
}

func TestClientCredentials(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	ctx := h.ctx()
	cc := clientcredentials.Config{ClientID: f.client.ID, ClientSecret: f.secret, TokenURL: h.issuer("acme") + "/oauth2/token",
		Scopes: []string{"planner/read"}, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	claims := jwtClaims(t, tok.AccessToken)
	if claims["scope"] != "planner/read" || claims["token_use"] != "access" || claims["sub"] != f.client.ID ||
		claims["iss"] != h.issuer("acme") || claims["client_id"] != f.client.ID {
		t.Errorf("claims = %v", claims)
	}
	// Like Cognito's, it has no aud: the client is its client_id.
	if aud, ok := claims["aud"]; ok {
		t.Errorf("machine token aud = %#v; Cognito's have none", aud)
	}
	// The token verifies against the tenant's published keys, as a
	// resource server verifies Cognito's access tokens: with no audience
	// to check.
	keys := oidc.NewRemoteKeySet(ctx, h.issuer("acme")+"/.well-known/jwks.json")
	verifier := oidc.NewVerifier(h.issuer("acme"), keys, &oidc.Config{SkipClientIDCheck: true})
	if _, err := verifier.Verify(ctx, tok.AccessToken); err != nil {
		t.Errorf("machine token does not verify against JWKS: %v", err)
	}
	// client_secret_post works too; both methods at once do not.
	post := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.client.ID}, "client_secret": {f.secret}}
	resp, err := h.http.PostForm(h.issuer("acme")+"/oauth2/token", post)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("client_secret_post: status %d", resp.StatusCode)
	}
	// A token response is never cached (RFC 6749 §5.1).
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("token response headers = %v", resp.Header)
	}
	both, _ := http.NewRequest("POST", h.issuer("acme")+"/oauth2/token", strings.NewReader(post.Encode()))
	both.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	both.SetBasicAuth(f.client.ID, f.secret)
	resp, err = h.http.Do(both)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("two authentication methods: status %d, want 400", resp.StatusCode)
	}
	if tok.RefreshToken != "" || tok.Extra("id_token") != nil {
		t.Error("client credentials must give an access token only")
	}

	bad := cc
	bad.Scopes = []string{"admin/everything"}
	if _, err := bad.Token(ctx); err == nil || !strings.Contains(err.Error(), "invalid_scope") {
		t.Errorf("a scope the client may not have: %v, want invalid_scope", err)
	}
	bad = cc
	bad.ClientSecret = "wrong"
	if _, err := bad.Token(ctx); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("wrong secret: %v, want invalid_client", err)
	}

	// Introspection by the client itself.
	form := url.Values{"token": {tok.AccessToken}}
	req, _ := http.NewRequest("POST", h.issuer("acme")+"/oauth2/introspect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.client.ID, f.secret)
	resp, err = h.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var intro map[string]any
	json.NewDecoder(resp.Body).Decode(&intro)
	resp.Body.Close()
	// RFC 7662 §2.2: what a resource server needs to decide, taken from
	// the token the client was given.
	issued := jwtClaims(t, tok.AccessToken)
	if issued["scope"] == nil || issued["exp"] == nil {
		t.Fatalf("the machine token lacks scope or exp: %v", issued)
	}
	want := map[string]any{"active": true, "token_type": "Bearer"}
	for _, claim := range []string{"client_id", "sub", "scope", "exp", "iat", "nbf", "iss", "jti"} {
		want[claim] = issued[claim]
	}
	if !reflect.DeepEqual(intro, want) {
		t.Errorf("introspection of a live machine token:\n got %v\nwant %v", intro, want)
	}
}

func TestRevocationAndLogout(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", true)
	ctx := h.ctx()
	cfg := h.oauthConfig(f)
	v := oauth2.GenerateVerifier()
	tok, err := cfg.Exchange(ctx, h.login(f, cfg, v), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"token": {tok.RefreshToken}, "client_id": {f.client.ID}}
	resp, err := h.http.PostForm(h.issuer("acme")+"/oauth2/revoke", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("a revoked refresh token still works")
	}
	// Revoking an unknown token is fine (RFC 7009).
	resp, _ = h.http.PostForm(h.issuer("acme")+"/oauth2/revoke", url.Values{"token": {"nonsense"}, "client_id": {f.client.ID}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke unknown: status %d", resp.StatusCode)
	}

	// The SSO session lets a second authorize through without the login
	// page... (the minimal login page here does not read sessions; the real
	// pages are tested in package ui). Logout must clear the cookie and
	// redirect only to a registered logout URI.
	u := h.issuer("acme") + "/logout?client_id=" + f.client.ID + "&logout_uri=" + url.QueryEscape("http://rp.localhost/bye")
	loc := h.location(h.get(u), http.StatusFound)
	if loc.String() != "http://rp.localhost/bye" {
		t.Fatalf("logout redirected to %s", loc)
	}
	for _, c := range h.http.Jar.Cookies(mustURL(h.issuer("acme"))) {
		if c.Name == "cognate_session" {
			t.Fatal("logout left the session cookie")
		}
	}
	// A refused logout is a page for the person, not OAuth's JSON (the
	// pages' version of it is in ui's browser tests).
	for name, query := range map[string]string{
		"unregistered logout URI": "client_id=" + f.client.ID + "&logout_uri=" + url.QueryEscape("http://evil.localhost/"),
		"unknown client":          "client_id=nope&logout_uri=" + url.QueryEscape("http://rp.localhost/bye"),
	} {
		resp = h.get(h.issuer("acme") + "/logout?" + query)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if l, _ := resp.Location(); l != nil {
			t.Fatalf("%s: logout redirected to %s", name, l)
		}
		const refused = "This sign-out link does not work here, so you have not been signed out."
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(string(body), refused) {
			t.Errorf("%s: status %d, body %q; want 400 and %q", name, resp.StatusCode, body, refused)
		}
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

var _ = context.Background
var _ = tenant.ErrNotFound

func TestDisablingAUserRevokesEverything(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", true)
	ctx := h.ctx()
	cfg := h.oauthConfig(f)
	v := oauth2.GenerateVerifier()
	tok, err := cfg.Exchange(ctx, h.login(f, cfg, v), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	off := false
	if _, err := h.svc.UpdateUser(context.Background(), "acme", f.user.Sub, tenant.UserChange{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("a disabled user's refresh token still works")
	}
	prov, _ := oidc.NewProvider(ctx, h.issuer("acme"))
	if _, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("a disabled user's access token still passes userinfo")
	}
	// The SSO session is gone from the store too: turning the user back on
	// does not bring it back.
	on := true
	h.svc.UpdateUser(context.Background(), "acme", f.user.Sub, tenant.UserChange{Enabled: &on})
	req, _ := http.NewRequest("GET", h.issuer("acme")+"/", nil)
	for _, c := range h.http.Jar.Cookies(mustURL(h.issuer("acme"))) {
		req.AddCookie(c)
	}
	if _, _, ok := h.prov.Session(req, "acme"); ok {
		t.Error("the SSO session survived deactivation")
	}
}

func TestClientIP(t *testing.T) {
	proxies, _ := provider.ParsePrefixes([]string{"10.0.0.0/8", "192.0.2.1"})
	h := provider.Hosts{Base: mustURL("https://example.com"), TrustedProxies: proxies}
	tests := []struct {
		remote, xff, want string
	}{
		{"203.0.113.9:5555", "", "203.0.113.9"},
		{"203.0.113.9:5555", "198.51.100.1", "203.0.113.9"},        // not a proxy: header ignored
		{"10.1.2.3:5555", "198.51.100.1", "198.51.100.1"},          // trusted proxy
		{"10.1.2.3:5555", "6.6.6.6, 198.51.100.1", "198.51.100.1"}, // spoofed first hop ignored
		{"10.1.2.3:5555", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"192.0.2.1:80", "garbage", "192.0.2.1"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := h.ClientIP(r); got != tc.want {
			t.Errorf("ClientIP(remote %s, XFF %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestClientCredentialsNotAllowed(t *testing.T) {
	h := newHarness(t)
	pub := h.fixture("acme", true) // public client, code flow only
	ctx := context.Background()
	web, secret, err := h.svc.CreateClient(ctx, "acme", tenant.NewClient{Name: "web", RedirectURIs: []string{redirectURI}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"public client", url.Values{"client_id": {pub.client.ID}}, http.StatusUnauthorized, "invalid_client"},
		{"code-flow client", url.Values{"client_id": {web.ID}, "client_secret": {secret}}, http.StatusBadRequest, "unauthorized_client"},
		{"unknown client", url.Values{"client_id": {"nobody"}, "client_secret": {"x"}}, http.StatusUnauthorized, "invalid_client"},
	}
	for _, tc := range tests {
		tc.form.Set("grant_type", "client_credentials")
		resp, err := h.http.PostForm(h.issuer("acme")+"/oauth2/token", tc.form)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || body["error"] != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.name, resp.StatusCode, body, tc.status, tc.code)
		}
	}
}

// Introspection refuses a client it cannot authenticate with the JSON error
// of RFC 6749 §5.2 (RFC 7662 §2.3), as the token endpoint does; the library
// alone answered in plain text.
func TestIntrospectionRefusesClientsInJSON(t *testing.T) {
	h := newHarness(t)
	conf := h.fixture("acme", false)
	pub, _, err := h.svc.CreateClient(context.Background(), "acme", tenant.NewClient{Name: "spa", Public: true, RedirectURIs: []string{redirectURI}})
	if err != nil {
		t.Fatal(err)
	}
	tok := h.signIn(conf, h.oauthConfig(conf))
	tests := []struct {
		name        string
		form        url.Values
		id, secret  string // HTTP Basic, when id is not empty
		status      int
		code        string
		basicDemand bool // a WWW-Authenticate: Basic challenge
	}{
		{"no client authentication", url.Values{}, "", "", http.StatusUnauthorized, "invalid_client", true},
		{"wrong secret", url.Values{}, conf.client.ID, "not-" + conf.secret, http.StatusUnauthorized, "invalid_client", true},
		{"wrong secret in the form", url.Values{"client_id": {conf.client.ID}, "client_secret": {"x"}}, "", "", http.StatusUnauthorized, "invalid_client", true},
		{"public client", url.Values{"client_id": {pub.ID}}, "", "", http.StatusUnauthorized, "invalid_client", true},
		{"two methods at once", url.Values{"client_id": {conf.client.ID}, "client_secret": {conf.secret}}, conf.client.ID, conf.secret, http.StatusBadRequest, "invalid_request", false},
		// RFC 7662 §2.1: the token is required.
		{"no token", url.Values{"token": {""}}, conf.client.ID, conf.secret, http.StatusBadRequest, "invalid_request", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.form.Has("token") {
				tc.form.Set("token", tok.AccessToken)
			}
			resp, body := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/introspect", tc.form.Encode(), tc.id, tc.secret)
			if body == nil {
				t.Fatalf("status %d, Content-Type %q: the body is not JSON", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if resp.StatusCode != tc.status || body["error"] != tc.code {
				t.Errorf("%d %v, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if _, active := body["active"]; active {
				t.Errorf("a refused client was told about the token: %v", body)
			}
			if got := strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic"); got != tc.basicDemand {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}

	// The methods the discovery document advertises for introspection
	// work: client_secret_post too, which openid-client uses at every
	// endpoint when the token endpoint is set to it.
	resp := h.get(h.issuer("acme") + "/.well-known/openid-configuration")
	var d struct {
		Methods []string `json:"introspection_endpoint_auth_methods_supported"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if !slices.Equal(d.Methods, []string{"client_secret_basic", "client_secret_post"}) {
		t.Errorf("introspection_endpoint_auth_methods_supported = %v, want client_secret_basic and client_secret_post", d.Methods)
	}
	resp, intro := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/introspect",
		url.Values{"token": {tok.AccessToken}, "client_id": {conf.client.ID}, "client_secret": {conf.secret}}.Encode(), "", "")
	if resp.StatusCode != http.StatusOK || intro["active"] != true {
		t.Errorf("introspection by client_secret_post: %d %v", resp.StatusCode, intro)
	}
	resp, intro = h.send(http.MethodPost, h.issuer("acme")+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}}.Encode(), conf.client.ID, conf.secret)
	if resp.StatusCode != http.StatusOK || intro["active"] != true {
		t.Errorf("introspection by client_secret_basic: %d %v", resp.StatusCode, intro)
	}
	// A user's access token is introspected with the claims a resource
	// server decides on, the same as in the token.
	issued := jwtClaims(t, tok.AccessToken)
	for _, claim := range []string{"sub", "client_id", "exp", "iss", "auth_time", "username"} {
		if issued[claim] == nil || intro[claim] != issued[claim] {
			t.Errorf("introspection's %s = %v, the token's %v", claim, intro[claim], issued[claim])
		}
	}
}

// The token, revocation and introspection endpoints take their parameters
// (client secrets, codes, tokens) in a POST body only, and userinfo its
// access token in the header or a POST body: a URL is kept in access logs.
// A request with them in its URL is refused before anything is done with
// them: the refresh token it carried is neither rotated nor revoked.
func TestSecretsTravelInTheBodyOnly(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	tok := h.signIn(f, h.oauthConfig(f))
	rt := tok.RefreshToken
	tests := []struct {
		name, method, path string
		query, body        url.Values
		status             int
	}{
		{"refresh by GET", http.MethodGet, "/oauth2/token",
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, nil, http.StatusMethodNotAllowed},
		{"refresh with its token in the URL", http.MethodPost, "/oauth2/token",
			url.Values{"refresh_token": {rt}}, url.Values{"grant_type": {"refresh_token"}}, http.StatusBadRequest},
		{"client credentials in the URL", http.MethodPost, "/oauth2/token",
			url.Values{"client_id": {f.client.ID}, "client_secret": {f.secret}}, url.Values{"grant_type": {"client_credentials"}}, http.StatusBadRequest},
		{"revocation by GET", http.MethodGet, "/oauth2/revoke", url.Values{"token": {rt}}, nil, http.StatusMethodNotAllowed},
		{"revocation by DELETE", http.MethodDelete, "/oauth2/revoke", nil, url.Values{"token": {rt}}, http.StatusMethodNotAllowed},
		{"revocation with the token in the URL", http.MethodPost, "/oauth2/revoke", url.Values{"token": {rt}}, url.Values{}, http.StatusBadRequest},
		{"introspection by GET", http.MethodGet, "/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, nil, http.StatusMethodNotAllowed},
		{"access token in the userinfo URL", http.MethodGet, "/oauth2/userInfo", url.Values{"access_token": {tok.AccessToken}}, nil, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := h.issuer("acme") + tc.path
			if tc.query != nil {
				u += "?" + tc.query.Encode()
			}
			id, secret := f.client.ID, f.secret
			if tc.path == "/oauth2/userInfo" {
				id, secret = "", "" // the access token is the credential
			}
			resp, refusal := h.send(tc.method, u, tc.body.Encode(), id, secret)
			if resp.StatusCode != tc.status || refusal["error"] != "invalid_request" {
				t.Fatalf("status %d, error %q; want %d invalid_request", resp.StatusCode, refusal["error"], tc.status)
			}
			if tc.status == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != http.MethodPost {
				t.Errorf("Allow %q, want POST", resp.Header.Get("Allow"))
			}
		})
	}
	// None of them rotated or revoked the refresh token.
	if next, status := h.refresh(f, rt, ""); status != http.StatusOK {
		t.Fatalf("the refresh token after the refused requests: %d %v", status, next)
	}
	// Userinfo takes the access token in a POST body (RFC 6750 §2.2).
	resp, err := h.http.PostForm(h.issuer("acme")+"/oauth2/userInfo", url.Values{"access_token": {tok.AccessToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with the access token in a POST body: status %d", resp.StatusCode)
	}
}

// Expired tokens and codes are refused everywhere they can be presented.
// Each is issued with the clock set back (h.shift) by more than its
// lifetime and used on the real clock. The tenant is made a month back, so
// that its signing key is in force at every time the test sets.
func TestExpiredTokensAreRefused(t *testing.T) {
	h := newHarness(t)
	month := 31 * 24 * time.Hour
	h.shift.Store(int64(-month))
	f := h.fixture("acme", false)
	h.shift.Store(0)
	cfg := h.oauthConfig(f)
	ctx := h.ctx()
	issuedAgo := func(d time.Duration) (reset func()) {
		h.shift.Store(int64(-d))
		return func() { h.shift.Store(0) }
	}
	introspect := func(t *testing.T, token string) map[string]any {
		t.Helper()
		resp, intro := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/introspect", url.Values{"token": {token}}.Encode(), f.client.ID, f.secret)
		if resp.StatusCode != http.StatusOK || intro == nil {
			t.Fatalf("introspection: status %d, %v", resp.StatusCode, intro)
		}
		return intro
	}

	t.Run("access token", func(t *testing.T) {
		reset := issuedAgo(2 * time.Hour) // it lives an hour
		tok := h.exchange(f, cfg)
		reset()
		resp := h.userinfo(f, tok["access_token"])
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("userinfo: status %d, WWW-Authenticate %q; want 401 invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		if intro := introspect(t, tok["access_token"]); intro["active"] != false || len(intro) != 1 {
			t.Errorf("introspection: %v, want {\"active\":false}", intro)
		}
	})
	t.Run("machine token", func(t *testing.T) {
		reset := issuedAgo(2 * time.Hour)
		resp, tok := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}.Encode(), f.client.ID, f.secret)
		reset()
		access, _ := tok["access_token"].(string)
		if resp.StatusCode != http.StatusOK || access == "" {
			t.Fatalf("client credentials: status %d", resp.StatusCode)
		}
		if intro := introspect(t, access); intro["active"] != false || len(intro) != 1 {
			t.Errorf("introspection: %v, want {\"active\":false}", intro)
		}
	})
	t.Run("refresh token", func(t *testing.T) {
		reset := issuedAgo(month) // it lives 30 days
		tok := h.exchange(f, cfg)
		reset()
		if body, status := h.refresh(f, tok["refresh_token"], ""); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("refresh: %d %v, want 400 invalid_grant", status, body)
		}
	})
	t.Run("authorization code", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		reset := issuedAgo(time.Hour) // it lives minutes
		code := h.login(f, cfg, v)
		reset()
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Errorf("exchange: %v, want invalid_grant", err)
		}
	})
}

// exchange signs f's user in through cfg and redeems the code by hand,
// returning the token response's strings. Unlike oauth2's Exchange, it
// reads tokens issued with the clock set back: the library counts their
// expires_in on the real clock, and it comes out negative.
func (h *harness) exchange(f fixture, cfg *oauth2.Config) map[string]string {
	h.t.Helper()
	v := oauth2.GenerateVerifier()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {h.login(f, cfg, v)}, "code_verifier": {v}, "redirect_uri": {cfg.RedirectURL}}
	id, secret := f.client.ID, f.secret
	if f.secret == "" {
		form.Set("client_id", f.client.ID) // a public client
		id = ""
	}
	resp, body := h.send(http.MethodPost, cfg.Endpoint.TokenURL, form.Encode(), id, secret)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("code exchange: status %d: %v", resp.StatusCode, body)
	}
	tok := map[string]string{}
	for k, v := range body {
		if s, ok := v.(string); ok {
			tok[k] = s
		}
	}
	return tok
}

// TestMachineTokensVerifyForEveryAlgorithm checks the hand-built JWS of
// machine tokens against each tenant's published JWKS, for RS256 and ES256.
func TestMachineTokensVerifyForEveryAlgorithm(t *testing.T) {
	h := newHarness(t)
	ctx := h.ctx()
	for _, alg := range []string{"RS256", "ES256"} {
		slug := "alg-" + strings.ToLower(alg)
		if _, err := h.svc.CreateTenant(context.Background(), tenant.NewTenant{Slug: slug, Settings: tenant.Settings{SigningAlg: alg}}); err != nil {
			t.Fatal(err)
		}
		cl, secret, err := h.svc.CreateClient(context.Background(), slug, tenant.NewClient{Name: "m2m",
			GrantTypes: []string{tenant.GrantClientCredentials}, Scopes: []string{"api/read"}})
		if err != nil {
			t.Fatal(err)
		}
		cc := clientcredentials.Config{ClientID: cl.ID, ClientSecret: secret, TokenURL: h.issuer(slug) + "/oauth2/token"}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		keys := oidc.NewRemoteKeySet(ctx, h.issuer(slug)+"/.well-known/jwks.json")
		v := oidc.NewVerifier(h.issuer(slug), keys, &oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{alg}})
		if _, err := v.Verify(ctx, tok.AccessToken); err != nil {
			t.Errorf("%s machine token: %v", alg, err)
		}
		if tok.Expiry.Before(time.Now().Add(59*time.Minute)) || tok.Expiry.After(time.Now().Add(61*time.Minute)) {
			t.Errorf("%s expires_in gives %v, want about an hour", alg, tok.Expiry)
		}
	}
}

// TestForwardedHostOnlyFromTrustedProxies: behind a TLS-terminating proxy
// the tenant comes from X-Forwarded-Host, but only when the proxy is one we
// trust; anyone else's header is ignored.
func TestForwardedHostOnlyFromTrustedProxies(t *testing.T) {
	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	proxies, _ := provider.ParsePrefixes([]string{"10.0.0.0/8"})
	prov, err := provider.New(provider.Config{Hosts: provider.Hosts{Base: mustURL("https://example.com"), TrustedProxies: proxies},
		Store: store, Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	hasher, _ := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 1)
	svc := &tenant.Service{Store: store, Hasher: hasher, Now: time.Now, Changed: prov.Invalidate}
	if _, err := svc.CreateTenant(context.Background(), tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	nf := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nothing here", http.StatusNotFound) })
	router := &provider.Router{Provider: prov, Apex: nf, Tenant: nf, NotFound: nf}
	tests := []struct {
		remote, host, fwd string
		want              int
	}{
		{"10.1.1.1:4000", "cognate.internal:8080", "acme.example.com", http.StatusOK},
		{"203.0.113.5:4000", "cognate.internal:8080", "acme.example.com", http.StatusNotFound},
		{"203.0.113.5:4000", "acme.example.com", "", http.StatusOK},
		{"10.1.1.1:4000", "acme.example.com", "evil.example.com", http.StatusNotFound},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
		r.RemoteAddr, r.Host = tc.remote, tc.host
		if tc.fwd != "" {
			r.Header.Set("X-Forwarded-Host", tc.fwd)
		}
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, r)
		if rec.Code != tc.want {
			t.Errorf("from %s, Host %s, X-Forwarded-Host %q: status %d, want %d", tc.remote, tc.host, tc.fwd, rec.Code, tc.want)
		}
	}
}

// TestCORSOnlyForRegisteredOrigins: browsers may call the token and
// revocation endpoints from the origin of a registered redirect URI of the
// tenant, and from no other.
func TestCORSOnlyForRegisteredOrigins(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", true)
	for _, path := range []string{"/oauth2/token", "/oauth2/revoke"} {
		for origin, allowed := range map[string]bool{"http://rp.localhost": true, "http://evil.localhost": false} {
			req, _ := http.NewRequest(http.MethodOptions, h.issuer("acme")+path, nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			resp, err := h.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := resp.Header.Get("Access-Control-Allow-Origin")
			if (got == origin) != allowed {
				t.Errorf("preflight to %s from %s: Access-Control-Allow-Origin %q, want allowed=%t", path, origin, got, allowed)
			}
			// And the request itself.
			req, _ = http.NewRequest(http.MethodPost, h.issuer("acme")+path, strings.NewReader(url.Values{"token": {"x"}, "client_id": {f.client.ID}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", origin)
			if resp, err = h.http.Do(req); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Access-Control-Allow-Origin"); path == "/oauth2/revoke" && (got == origin) != allowed {
				t.Errorf("revocation from %s: Access-Control-Allow-Origin %q, want allowed=%t", origin, got, allowed)
			}
		}
	}
}

// Every answer of the endpoints that browsers call carries the CORS headers
// for the origin of a registered redirect URI, whoever writes it, Cognate
// or the library: a single-page app then reads invalid_grant ("sign in
// again") where it saw a network failure ("Failed to fetch") for the
// refusals Cognate wrote itself. The headers are set once (Vary names
// Origin once). Another origin gets none; nor does introspection, which
// is not for browsers.
func TestCORSOnEveryAnswer(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", true)
	cfg := h.oauthConfig(f)
	cfg.ClientSecret = ""
	tok := h.signIn(f, cfg)
	const registered, other = "http://rp.localhost", "http://evil.localhost"

	type request struct {
		method, path, contentType, body string
		bearer                          string // sent as Authorization: Bearer
		basic                           bool   // the client's HTTP Basic, with an empty secret
	}
	form := func(path string, v url.Values) request {
		return request{method: http.MethodPost, path: path, contentType: "application/x-www-form-urlencoded", body: v.Encode()}
	}
	exchange := func(change func(v url.Values)) func() request {
		return func() request {
			verifier := oauth2.GenerateVerifier()
			v := codeForm(h.login(f, cfg, verifier), verifier)
			v.Set("client_id", f.client.ID)
			change(v)
			return form("/oauth2/token", v)
		}
	}
	fixed := func(r request) func() request { return func() request { return r } }
	usedCode := func() request {
		verifier := oauth2.GenerateVerifier()
		code := h.login(f, cfg, verifier)
		if _, err := cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier)); err != nil {
			t.Fatal(err)
		}
		v := codeForm(code, verifier)
		v.Set("client_id", f.client.ID)
		return form("/oauth2/token", v)
	}
	tests := []struct {
		name   string
		send   func() request
		status int
		cors   bool // whether a registered origin may read the answer
	}{
		{"token: a code exchanged", exchange(func(url.Values) {}), http.StatusOK, true},
		{"token: wrong verifier", exchange(func(v url.Values) { v.Set("code_verifier", oauth2.GenerateVerifier()) }), http.StatusBadRequest, true},
		{"token: no verifier", exchange(func(v url.Values) { v.Del("code_verifier") }), http.StatusBadRequest, true},
		{"token: unknown code", exchange(func(v url.Values) { v.Set("code", "bogus") }), http.StatusBadRequest, true},
		{"token: unknown client", exchange(func(v url.Values) { v.Set("client_id", "nobody") }), http.StatusUnauthorized, true},
		{"token: a used code (the library's answer)", usedCode, http.StatusBadRequest, true},
		{"token: unsupported grant", fixed(form("/oauth2/token", url.Values{"grant_type": {"password"}})), http.StatusBadRequest, true},
		{"token: a body that is not a form", fixed(request{method: http.MethodPost, path: "/oauth2/token", contentType: "application/json", body: `{"grant_type":"authorization_code"}`}), http.StatusBadRequest, true},
		{"token: a GET", fixed(request{method: http.MethodGet, path: "/oauth2/token"}), http.StatusMethodNotAllowed, true},
		{"token: parameters in the URL", fixed(request{method: http.MethodPost, path: "/oauth2/token?grant_type=client_credentials"}), http.StatusBadRequest, true},
		{"userinfo: answered", fixed(request{method: http.MethodGet, path: "/oauth2/userInfo", bearer: tok.AccessToken}), http.StatusOK, true},
		{"userinfo: a bad token", fixed(request{method: http.MethodGet, path: "/oauth2/userInfo", bearer: "bogus"}), http.StatusUnauthorized, true},
		{"userinfo: the token in the URL", fixed(request{method: http.MethodGet, path: "/oauth2/userInfo?access_token=" + tok.AccessToken}), http.StatusBadRequest, true},
		{"userinfo: the token twice", fixed(request{method: http.MethodPost, path: "/oauth2/userInfo", bearer: tok.AccessToken,
			contentType: "application/x-www-form-urlencoded", body: url.Values{"access_token": {tok.AccessToken}}.Encode()}), http.StatusBadRequest, true},
		{"revocation: no token", fixed(form("/oauth2/revoke", url.Values{"client_id": {f.client.ID}})), http.StatusBadRequest, true},
		{"introspection", fixed(request{method: http.MethodPost, path: "/oauth2/introspect", basic: true,
			contentType: "application/x-www-form-urlencoded", body: url.Values{"token": {tok.AccessToken}}.Encode()}), http.StatusUnauthorized, false},
	}
	for _, tc := range tests {
		for _, origin := range []string{registered, other} {
			t.Run(tc.name+" from "+origin, func(t *testing.T) {
				r := tc.send()
				var body io.Reader
				if r.body != "" {
					body = strings.NewReader(r.body)
				}
				req, _ := http.NewRequest(r.method, h.issuer("acme")+r.path, body)
				req.Header.Set("Origin", origin)
				if r.contentType != "" {
					req.Header.Set("Content-Type", r.contentType)
				}
				if r.bearer != "" {
					req.Header.Set("Authorization", "Bearer "+r.bearer)
				}
				if r.basic {
					req.SetBasicAuth(f.client.ID, "")
				}
				resp, err := h.http.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
				}
				want := ""
				if tc.cors && origin == registered {
					want = origin
				}
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
					t.Errorf("Access-Control-Allow-Origin %q, want %q", got, want)
				}
				if n := slices.Index(resp.Header.Values("Vary"), "Origin"); tc.cors && (n < 0 || slices.Contains(resp.Header.Values("Vary")[n+1:], "Origin")) {
					t.Errorf("Vary %q, want Origin once", resp.Header.Values("Vary"))
				}
			})
		}
	}
}

// tokenClients is a tenant with the fixture's confidential client, ann, a
// second confidential client and a public client, all with the code and
// refresh grants and the same redirect URI.
type tokenClients struct {
	conf            fixture
	other, public   tenant.Client
	otherSecret     string
	confCfg, pubCfg *oauth2.Config
}

func (h *harness) tokenClients(slug string) tokenClients {
	h.t.Helper()
	conf := h.fixture(slug, false)
	grants := []string{tenant.GrantAuthorizationCode, tenant.GrantRefreshToken}
	other, otherSecret, err := h.svc.CreateClient(context.Background(), slug, tenant.NewClient{Name: "other",
		RedirectURIs: []string{redirectURI}, GrantTypes: grants, Scopes: []string{"openid", "email"}})
	if err != nil {
		h.t.Fatal(err)
	}
	public, _, err := h.svc.CreateClient(context.Background(), slug, tenant.NewClient{Name: "spa", Public: true,
		RedirectURIs: []string{redirectURI}, GrantTypes: grants, Scopes: []string{"openid", "email"}})
	if err != nil {
		h.t.Fatal(err)
	}
	pubCfg := h.oauthConfig(conf)
	// What the public client is allowed, no more: profile would be refused.
	pubCfg.ClientID, pubCfg.ClientSecret, pubCfg.Scopes = public.ID, "", public.Scopes
	return tokenClients{conf: conf, other: other, otherSecret: otherSecret, public: public, confCfg: h.oauthConfig(conf), pubCfg: pubCfg}
}

// codeForm is the form of a correct exchange of code.
func codeForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirectURI}}
}

// A refused code exchange changes nothing (the issue's "What bad input
// gets"; RFC 6749 §4.1.3 checks the client, and that the code is its,
// before anything is done with the code): the code is not consumed, so the
// correct exchange that follows succeeds and is not taken for a replay,
// and no family is revoked. Before, every one of these spent the code
// (the library consumes it before it checks anything), a client assertion
// got a 500, upper-case media types and the verifier's form went
// unchecked, and 401s lacked WWW-Authenticate.
func TestRefusedCodeExchangesChangeNothing(t *testing.T) {
	h := newHarness(t)
	c := h.tokenClients("acme")
	conf := c.conf
	unreserved := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
	tests := []struct {
		name string
		// change makes the bad request from the correct form; id and
		// secret are its HTTP Basic, none when id is empty.
		change      func(form url.Values, verifier string) (id, secret string)
		contentType string // when not the form's
		status      int
		code        string
	}{
		{"wrong verifier", func(f url.Values, _ string) (string, string) {
			f.Set("code_verifier", oauth2.GenerateVerifier())
			return conf.client.ID, conf.secret
		}, "", http.StatusBadRequest, "invalid_grant"},
		{"no verifier", func(f url.Values, _ string) (string, string) {
			f.Del("code_verifier")
			return conf.client.ID, conf.secret
		}, "", http.StatusBadRequest, "invalid_request"},
		{"verifier of 3 characters", func(f url.Values, _ string) (string, string) {
			f.Set("code_verifier", "abc")
			return conf.client.ID, conf.secret
		}, "", http.StatusBadRequest, "invalid_request"},
		{"verifier of 129 characters", func(f url.Values, _ string) (string, string) {
			f.Set("code_verifier", strings.Repeat("a", 129))
			return conf.client.ID, conf.secret
		}, "", http.StatusBadRequest, "invalid_request"},
		{"verifier with reserved characters", func(f url.Values, v string) (string, string) {
			f.Set("code_verifier", v[:40]+" !/")
			return conf.client.ID, conf.secret
		}, "", http.StatusBadRequest, "invalid_request"},
		{"mismatched redirect URI", func(f url.Values, _ string) (string, string) {
			f.Set("redirect_uri", "http://rp.localhost/other")
			return conf.client.ID, conf.secret
		}, "", http.StatusBadRequest, "invalid_grant"},
		{"no redirect URI", func(f url.Values, _ string) (string, string) {
			f.Del("redirect_uri")
			return conf.client.ID, conf.secret
		}, "", http.StatusBadRequest, "invalid_grant"},
		{"another client's credentials", func(url.Values, string) (string, string) {
			return c.other.ID, c.otherSecret
		}, "", http.StatusBadRequest, "invalid_grant"},
		{"a public client's ID", func(f url.Values, _ string) (string, string) {
			f.Set("client_id", c.public.ID)
			return "", ""
		}, "", http.StatusBadRequest, "invalid_grant"},
		{"wrong client secret", func(url.Values, string) (string, string) {
			return conf.client.ID, "not-" + conf.secret
		}, "", http.StatusUnauthorized, "invalid_client"},
		{"unknown client", func(f url.Values, _ string) (string, string) {
			f.Set("client_id", "nobody")
			return "", ""
		}, "", http.StatusUnauthorized, "invalid_client"},
		{"confidential client without its secret", func(f url.Values, _ string) (string, string) {
			f.Set("client_id", conf.client.ID)
			return "", ""
		}, "", http.StatusUnauthorized, "invalid_client"},
		{"no client at all", func(url.Values, string) (string, string) { return "", "" }, "", http.StatusUnauthorized, "invalid_client"},
		{"client assertion", func(f url.Values, _ string) (string, string) {
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			f.Set("client_assertion", "x")
			return "", ""
		}, "", http.StatusUnauthorized, "invalid_client"},
		{"HTTP Basic and client_secret", func(f url.Values, _ string) (string, string) {
			f.Set("client_id", conf.client.ID)
			f.Set("client_secret", conf.secret)
			return conf.client.ID, conf.secret
		}, "", http.StatusBadRequest, "invalid_request"},
		{"HTTP Basic and another client_id", func(f url.Values, _ string) (string, string) {
			f.Set("client_id", c.other.ID)
			return conf.client.ID, conf.secret
		}, "", http.StatusBadRequest, "invalid_request"},
		{"code twice", func(f url.Values, _ string) (string, string) {
			f.Add("code", "another")
			return conf.client.ID, conf.secret
		}, "", http.StatusBadRequest, "invalid_request"},
		{"verifier twice", func(f url.Values, _ string) (string, string) {
			f.Add("code_verifier", unreserved[:43])
			return conf.client.ID, conf.secret
		}, "", http.StatusBadRequest, "invalid_request"},
		{"a JSON body", func(url.Values, string) (string, string) { return conf.client.ID, conf.secret },
			"application/json", http.StatusBadRequest, "invalid_request"},
	}
	descriptions := map[string]bool{} // of the invalid_client refusals
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			code := h.login(conf, c.confCfg, v)
			form := codeForm(code, v)
			id, secret := tc.change(form, v)
			req, _ := http.NewRequest(http.MethodPost, c.confCfg.Endpoint.TokenURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if id != "" {
				req.SetBasicAuth(id, secret)
			}
			resp, err := h.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]string
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || body["error"] != tc.code {
				t.Errorf("status %d %v, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
				t.Errorf("Cache-Control %q, Pragma %q on a token error", resp.Header.Get("Cache-Control"), resp.Header.Get("Pragma"))
			}
			if tc.status == http.StatusUnauthorized {
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("a 401 without a Basic challenge: WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
				}
				if tc.name != "client assertion" {
					descriptions[body["error_description"]] = true
				}
			}
			// The code is still the client's: the correct exchange works,
			// and its tokens are not revoked as a replay's would be.
			resp, tok := h.send(http.MethodPost, c.confCfg.Endpoint.TokenURL, codeForm(code, v).Encode(), conf.client.ID, conf.secret)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("the correct exchange after the refused one: %d %v", resp.StatusCode, tok)
			}
			if next, status := h.refresh(conf, tok["refresh_token"].(string), ""); status != http.StatusOK {
				t.Errorf("the tokens of the correct exchange were revoked: %d %v", status, next)
			}
		})
	}
	if len(descriptions) != 1 {
		t.Errorf("invalid_client refusals say %d different things, want one for every cause: %v", len(descriptions), descriptions)
	}
}

// A used code revokes the tokens it gave only when its own client
// presents it again, authenticated, with its redirect URI and verifier
// (RFC 6749 §4.1.2, §10.5): anyone else who holds it, a client of the
// tenant or not, is refused and ends nothing. Before, any request naming
// the used code, with no client authentication at all, revoked the
// user's tokens.
func TestUsedCodeRevokesOnlyForItsClient(t *testing.T) {
	h := newHarness(t)
	c := h.tokenClients("acme")
	conf := c.conf
	v := oauth2.GenerateVerifier()
	code := h.login(conf, c.confCfg, v)
	resp, tok := h.send(http.MethodPost, c.confCfg.Endpoint.TokenURL, codeForm(code, v).Encode(), conf.client.ID, conf.secret)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange: %d %v", resp.StatusCode, tok)
	}
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)
	alive := func(t *testing.T) {
		t.Helper()
		if r := h.userinfo(conf, access); r.StatusCode != http.StatusOK {
			t.Fatalf("the access token no longer works: userinfo %d", r.StatusCode)
		}
	}
	for _, tc := range []struct {
		name       string
		form       url.Values
		id, secret string
	}{
		{"an unknown client, without a secret", url.Values{"client_id": {"nobody"}}, "", ""},
		{"a public client's ID", url.Values{"client_id": {c.public.ID}}, "", ""},
		{"another client", nil, c.other.ID, c.otherSecret},
		{"its client with a wrong verifier", url.Values{"code_verifier": {oauth2.GenerateVerifier()}}, conf.client.ID, conf.secret},
		{"its client with another redirect URI", url.Values{"redirect_uri": {"http://rp.localhost/other"}}, conf.client.ID, conf.secret},
		{"its client with a wrong secret", nil, conf.client.ID, "not-" + conf.secret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := codeForm(code, v)
			for k, vs := range tc.form {
				form[k] = vs
			}
			resp, body := h.send(http.MethodPost, c.confCfg.Endpoint.TokenURL, form.Encode(), tc.id, tc.secret)
			if resp.StatusCode == http.StatusOK {
				t.Fatalf("the used code was accepted: %v", body)
			}
			alive(t)
		})
	}
	if next, status := h.refresh(conf, refresh, ""); status != http.StatusOK {
		t.Fatalf("the refresh token no longer works after the refused replays: %d %v", status, next)
	} else {
		refresh = next["refresh_token"].(string)
	}

	// Its own client replaying it, everything right, revokes.
	resp, _ = h.send(http.MethodPost, c.confCfg.Endpoint.TokenURL, codeForm(code, v).Encode(), conf.client.ID, conf.secret)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("the replay by its client: status %d, want 400", resp.StatusCode)
	}
	if _, status := h.refresh(conf, refresh, ""); status == http.StatusOK {
		t.Fatal("the replay by the code's own client did not revoke its tokens")
	}
}

// A used refresh token revokes its family only when its own client
// presents it again. Before, the library looked the token up, and revoked
// the family of a used one, before it checked that the token was the
// client's: a public client's ID, with no secret, revoked a confidential
// client's family; a client assertion got a 500.
func TestUsedRefreshTokenRevokesOnlyForItsClient(t *testing.T) {
	h := newHarness(t)
	c := h.tokenClients("acme")
	conf := c.conf
	tok := h.signIn(conf, c.confCfg)
	next, status := h.refresh(conf, tok.RefreshToken, "")
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, next)
	}
	rotated := next["refresh_token"].(string)
	used := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
	for _, tc := range []struct {
		name       string
		extra      url.Values
		id, secret string
		status     int
		code       string
	}{
		{"a public client's ID", url.Values{"client_id": {c.public.ID}}, "", "", http.StatusBadRequest, "invalid_grant"},
		{"another client", nil, c.other.ID, c.otherSecret, http.StatusBadRequest, "invalid_grant"},
		{"unknown client", url.Values{"client_id": {"nobody"}}, "", "", http.StatusUnauthorized, "invalid_client"},
		{"its client with a wrong secret", nil, conf.client.ID, "not-" + conf.secret, http.StatusUnauthorized, "invalid_client"},
		{"its client without its secret", url.Values{"client_id": {conf.client.ID}}, "", "", http.StatusUnauthorized, "invalid_client"},
		{"a client assertion", url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"x"}},
			"", "", http.StatusUnauthorized, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{}
			for k, vs := range used {
				form[k] = vs
			}
			for k, vs := range tc.extra {
				form[k] = vs
			}
			resp, body := h.send(http.MethodPost, c.confCfg.Endpoint.TokenURL, form.Encode(), tc.id, tc.secret)
			if resp.StatusCode != tc.status || body["error"] != tc.code {
				t.Errorf("%d %v, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if tc.status == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("a 401 without a Basic challenge: WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
			if tc.name == "unknown client" {
				// The same words as a wrong secret's (authenticateRequest).
				_, wrong := h.send(http.MethodPost, c.confCfg.Endpoint.TokenURL, used.Encode(), conf.client.ID, "not-"+conf.secret)
				if body["error_description"] != wrong["error_description"] {
					t.Errorf("unknown client %q, wrong secret %q: want the same description", body["error_description"], wrong["error_description"])
				}
			}
		})
	}
	// None of them revoked the family: the rotated token still works.
	again, status := h.refresh(conf, rotated, "")
	if status != http.StatusOK {
		t.Fatalf("the family was revoked by a refused request: %d %v", status, again)
	}
	// Its own client reusing it does.
	if _, status := h.refresh(conf, tok.RefreshToken, ""); status != http.StatusBadRequest {
		t.Fatalf("reuse by its own client: status %d", status)
	}
	if _, status := h.refresh(conf, again["refresh_token"].(string), ""); status == http.StatusOK {
		t.Fatal("reuse by its own client did not revoke the family")
	}
}

// Ten exchanges of one code at once give tokens once: the checks made
// before the library consumes the code must not let two through, nor the
// losers' replay handling stop the winner. (A guard for the code locks of
// exchangeCode, which pass before the change as after.)
func TestConcurrentExchangesOfOneCode(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	for round := 0; round < 5; round++ {
		v := oauth2.GenerateVerifier()
		form := codeForm(h.login(f, cfg, v), v).Encode()
		var wg sync.WaitGroup
		var ok atomic.Int32
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, cfg.Endpoint.TokenURL, strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(f.client.ID, f.secret)
				resp, err := h.http.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := ok.Load(); n != 1 {
			t.Fatalf("round %d: %d of 10 concurrent exchanges of one code got tokens, want exactly 1", round, n)
		}
	}
}

// A revocation that answers 200 has ended the token, whatever
// token_type_hint says (RFC 7009 §2.1: a server that does not find the
// token under the hint searches the other types). Before, the library
// took a refresh token sent with hint access_token for an opaque access
// token, "decrypted" it with an unauthenticated cipher, and about one time
// in sixteen got an ID it then revoked instead: 200, and the token kept
// working. Each attempt needs a token never seen before, so each is a new
// sign-in.
func TestRevocationEndsTheTokenWhateverTheHint(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	revoke := func(t *testing.T, form url.Values, id, secret string) (*http.Response, map[string]any) {
		t.Helper()
		return h.send(http.MethodPost, h.issuer("acme")+"/oauth2/revoke", form.Encode(), id, secret)
	}
	const attempts = 100
	for _, hint := range []string{"", "access_token", "refresh_token", "garbage"} {
		t.Run("refresh token, hint "+strconv.Quote(hint), func(t *testing.T) {
			for i := range attempts {
				tok := h.signIn(f, cfg)
				form := url.Values{"token": {tok.RefreshToken}}
				if hint != "" {
					form.Set("token_type_hint", hint)
				}
				if resp, body := revoke(t, form, f.client.ID, f.secret); resp.StatusCode != http.StatusOK {
					t.Fatalf("attempt %d: revocation answered %d %v", i, resp.StatusCode, body)
				}
				if body, status := h.refresh(f, tok.RefreshToken, ""); status == http.StatusOK {
					t.Fatalf("attempt %d of %d: the revocation answered 200 and the refresh token still works (%v)", i, attempts, body["token_type"])
				}
			}
		})
		t.Run("access token, hint "+strconv.Quote(hint), func(t *testing.T) {
			tok := h.signIn(f, cfg)
			form := url.Values{"token": {tok.AccessToken}}
			if hint != "" {
				form.Set("token_type_hint", hint)
			}
			if resp, body := revoke(t, form, f.client.ID, f.secret); resp.StatusCode != http.StatusOK {
				t.Fatalf("revocation answered %d %v", resp.StatusCode, body)
			}
			if resp := h.userinfo(f, tok.AccessToken); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("the revoked access token still passes userinfo: %d", resp.StatusCode)
			}
		})
	}
}

// Revocation refuses what it cannot do rather than answer 200: a token of
// another client (RFC 7009 §2.1; before, 401 or 200 by chance, and the
// token kept working either way), a machine token, which is stateless and
// only expires, a request without a token (RFC 7009 §2.1 requires one;
// before, 200) or with a parameter twice (RFC 6749 §3.2). A public client
// revokes its own tokens by its client_id, in the form or as HTTP Basic
// with no password.
func TestRevocationRefusals(t *testing.T) {
	h := newHarness(t)
	c := h.tokenClients("acme")
	conf := c.conf
	tok := h.signIn(conf, c.confCfg)
	revoke := func(t *testing.T, form url.Values, id, secret string) (*http.Response, map[string]any) {
		t.Helper()
		return h.send(http.MethodPost, h.issuer("acme")+"/oauth2/revoke", form.Encode(), id, secret)
	}
	cc, ccBody := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}.Encode(), conf.client.ID, conf.secret)
	if cc.StatusCode != http.StatusOK {
		t.Fatalf("client credentials: %d %v", cc.StatusCode, ccBody)
	}
	for _, tc := range []struct {
		name       string
		form       url.Values
		id, secret string
		status     int
		code       string
	}{
		{"another client's refresh token", url.Values{"token": {tok.RefreshToken}}, c.other.ID, c.otherSecret, http.StatusBadRequest, "invalid_grant"},
		{"another client's refresh token, hint access_token", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"access_token"}},
			c.other.ID, c.otherSecret, http.StatusBadRequest, "invalid_grant"},
		{"another client's access token", url.Values{"token": {tok.AccessToken}}, c.other.ID, c.otherSecret, http.StatusBadRequest, "invalid_grant"},
		{"a public client's ID and another client's token", url.Values{"token": {tok.RefreshToken}, "client_id": {c.public.ID}}, "", "", http.StatusBadRequest, "invalid_grant"},
		{"a machine token", url.Values{"token": {ccBody["access_token"].(string)}}, conf.client.ID, conf.secret, http.StatusBadRequest, "unsupported_token_type"},
		{"no token", url.Values{}, conf.client.ID, conf.secret, http.StatusBadRequest, "invalid_request"},
		{"the token twice", url.Values{"token": {tok.RefreshToken, tok.RefreshToken}}, conf.client.ID, conf.secret, http.StatusBadRequest, "invalid_request"},
		{"a wrong secret", url.Values{"token": {tok.RefreshToken}}, conf.client.ID, "not-" + conf.secret, http.StatusUnauthorized, "invalid_client"},
		{"a client assertion", url.Values{"token": {tok.RefreshToken}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"x"}},
			"", "", http.StatusUnauthorized, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := revoke(t, tc.form, tc.id, tc.secret)
			if resp.StatusCode != tc.status || body["error"] != tc.code {
				t.Errorf("%d %v, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if tc.status == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("a 401 without a Basic challenge: WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
			if r := h.userinfo(conf, tok.AccessToken); r.StatusCode != http.StatusOK {
				t.Fatalf("the refused revocation ended the access token: userinfo %d", r.StatusCode)
			}
		})
	}
	if next, status := h.refresh(conf, tok.RefreshToken, ""); status != http.StatusOK {
		t.Fatalf("a refused revocation ended the refresh token: %d %v", status, next)
	}

	for name, send := range map[string]func(rt string) *http.Response{
		"client_id in the form": func(rt string) *http.Response {
			resp, _ := revoke(t, url.Values{"token": {rt}, "client_id": {c.public.ID}}, "", "")
			return resp
		},
		"HTTP Basic without a password": func(rt string) *http.Response {
			resp, _ := revoke(t, url.Values{"token": {rt}}, c.public.ID, "")
			return resp
		},
	} {
		pubFixture := fixture{slug: "acme", client: c.public, user: conf.user, password: conf.password}
		pubTok := h.signIn(pubFixture, c.pubCfg)
		if resp := send(pubTok.RefreshToken); resp.StatusCode != http.StatusOK {
			t.Errorf("a public client revoking its token by %s: status %d", name, resp.StatusCode)
		}
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pubTok.RefreshToken}, "client_id": {c.public.ID}}
		if resp, _ := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/token", form.Encode(), "", ""); resp.StatusCode == http.StatusOK {
			t.Errorf("a public client's refresh token revoked by %s still works", name)
		}
	}
}
