package provider_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/tenant"
)

// Every refusal of the list of bad input logs one line: not none,
// as a wrong client secret or an unverifiable access token did, and not
// two, as a replayed code did (our line and the library's). The line names
// the tenant, or the host where there is no tenant, and the client's
// address, which tools that block addresses (fail2ban) read, and carries
// none of the request's secrets.
func TestEveryRefusalLogsOneLine(t *testing.T) {
	h := newHarness(t)
	// zitadel/oidc logs through slog's default; cmd/cognate sets it to the
	// server's logger, and so does this test.
	previous := slog.Default()
	slog.SetDefault(h.logger)
	t.Cleanup(func() { slog.SetDefault(previous) })

	pub := h.fixture("acme", true)
	conf := h.fixture("globex", false)
	pubCfg, confCfg := h.oauthConfig(pub), h.oauthConfig(conf)
	ctx := h.ctx()

	// get and post send a request (see h.send) and return its status; post
	// sends form to globex's endpoint at path.
	get := func(u string) int {
		resp, _ := h.send(http.MethodGet, u, "", "", "")
		return resp.StatusCode
	}
	post := func(path, form, id, secret string) int {
		resp, _ := h.send(http.MethodPost, h.issuer("globex")+path, form, id, secret)
		return resp.StatusCode
	}
	refused := func(t *testing.T, status int) {
		t.Helper()
		if status < 400 {
			t.Fatalf("status %d, want a refusal", status)
		}
	}
	authorize := func(t *testing.T, change func(q url.Values)) *http.Response {
		t.Helper()
		u, _ := url.Parse(pubCfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		q := u.Query()
		change(q)
		u.RawQuery = q.Encode()
		resp := h.get(u.String())
		resp.Body.Close()
		return resp
	}
	ccForm := func(scope string) string {
		return url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}.Encode()
	}

	other, otherSecret, err := h.svc.CreateClient(ctx, "globex", tenant.NewClient{Name: "other", RedirectURIs: []string{redirectURI},
		GrantTypes: []string{tenant.GrantAuthorizationCode, tenant.GrantRefreshToken}, Scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		want string // what the line says of where: the tenant, or the host
		// says, when set, is what else the line must say: why.
		says []string
		// refuse sends the refused request, after any preparation, calling
		// mark just before it; it returns the secrets the request carried.
		refuse func(t *testing.T, mark func()) (secrets []string)
	}{
		{"unknown organization", "host=nope.localhost", nil, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, get(h.issuer("nope")+"/.well-known/openid-configuration"))
			return nil
		}},
		{"reserved name", "host=auth.localhost", nil, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, get(h.issuer("auth")+"/.well-known/jwks.json"))
			return nil
		}},
		{"host not ours", "host=evil.example", nil, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, get(strings.Replace(h.base, "localhost", "evil.example", 1)+"/.well-known/openid-configuration"))
			return nil
		}},
		{"wrong redirect URI", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, authorize(t, func(q url.Values) { q.Set("redirect_uri", "http://rp.localhost/other") }).StatusCode)
			return nil
		}},
		{"redirect URI with an extra path", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, authorize(t, func(q url.Values) { q.Set("redirect_uri", redirectURI+"/x") }).StatusCode)
			return nil
		}},
		{"no PKCE", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			mark()
			resp := authorize(t, func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") })
			if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "invalid_request" {
				t.Fatalf("status %d, location %v: want invalid_request at the redirect URI", resp.StatusCode, loc)
			}
			return nil
		}},
		{"state over its limit", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			state := strings.Repeat("s", 30000)
			mark()
			resp := authorize(t, func(q url.Values) { q.Set("state", state) })
			if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "invalid_request" {
				t.Fatalf("status %d, location %v: want invalid_request at the redirect URI", resp.StatusCode, loc)
			}
			return []string{state[:4097]}
		}},
		{"repeated parameter", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			mark()
			resp := authorize(t, func(q url.Values) { q.Add("nonce", "a"); q.Add("nonce", "b") })
			if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "invalid_request" {
				t.Fatalf("status %d, location %v: want invalid_request at the redirect URI", resp.StatusCode, loc)
			}
			return nil
		}},
		{"broken percent-encoding", "tenant=acme", []string{"malformed parameters"}, func(t *testing.T, mark func()) []string {
			u, _ := url.Parse(pubCfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			u.RawQuery += "&nonce=%zz"
			mark()
			refused(t, get(u.String()))
			return nil
		}},
		{"code_challenge not of S256's form", "tenant=acme", []string{"RFC 7636"}, func(t *testing.T, mark func()) []string {
			mark()
			resp := authorize(t, func(q url.Values) { q.Set("code_challenge", "abc") })
			if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "invalid_request" {
				t.Fatalf("status %d, location %v: want invalid_request at the redirect URI", resp.StatusCode, loc)
			}
			return nil
		}},
		{"repeated client_id", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, authorize(t, func(q url.Values) { q.Add("client_id", "other") }).StatusCode)
			return nil
		}},
		{"request_uri", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			mark()
			resp := authorize(t, func(q url.Values) { q.Set("request_uri", "https://rp.example/r.jwt") })
			if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "request_uri_not_supported" {
				t.Fatalf("status %d, location %v: want request_uri_not_supported at the redirect URI", resp.StatusCode, loc)
			}
			return nil
		}},
		{"unsupported response type", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			mark()
			resp := authorize(t, func(q url.Values) { q.Set("response_type", "token") })
			if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "unsupported_response_type" {
				t.Fatalf("status %d, location %v: want unsupported_response_type at the redirect URI", resp.StatusCode, loc)
			}
			return nil
		}},
		{"standard scope the client may not have", "tenant=acme", []string{"invalid_scope", "scope phone is not allowed"}, func(t *testing.T, mark func()) []string {
			mark()
			resp := authorize(t, func(q url.Values) { q.Set("scope", "openid phone") })
			if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "invalid_scope" {
				t.Fatalf("status %d, location %v: want invalid_scope at the redirect URI", resp.StatusCode, loc)
			}
			return nil
		}},
		{"logout that names nothing", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			tok := h.signIn(pub, pubCfg)
			mark()
			resp, _ := h.send(http.MethodGet, h.issuer("acme")+"/logout?logout_uri="+url.QueryEscape("http://evil.localhost/"), "", "", "")
			if loc := resp.Header.Get("Location"); loc != "/logout/confirm" {
				t.Fatalf("status %d, Location %q: want the confirmation page", resp.StatusCode, loc)
			}
			return []string{tok.AccessToken, tok.RefreshToken}
		}},
		{"logout to sign in again at an unregistered address", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			mark()
			q := url.Values{"client_id": {pub.client.ID}, "redirect_uri": {"http://evil.localhost/cb"}, "response_type": {"code"}}
			refused(t, get(h.issuer("acme")+"/logout?"+q.Encode()))
			return nil
		}},
		{"wrong PKCE verifier", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			v, wrong := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
			code := h.login(pub, pubCfg, v)
			mark()
			if _, err := pubCfg.Exchange(ctx, code, oauth2.VerifierOption(wrong)); err == nil {
				t.Fatal("a wrong verifier was accepted")
			}
			return []string{code, v, wrong}
		}},
		{"replayed code", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			v := oauth2.GenerateVerifier()
			code := h.login(pub, pubCfg, v)
			tok, err := pubCfg.Exchange(ctx, code, oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			mark()
			if _, err := pubCfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err == nil {
				t.Fatal("a replayed code was accepted")
			}
			return []string{code, v, tok.AccessToken, tok.RefreshToken}
		}},
		{"used refresh token", "tenant=globex", nil, func(t *testing.T, mark func()) []string {
			tok := h.signIn(conf, confCfg)
			next, status := h.refresh(conf, tok.RefreshToken, "")
			if status != http.StatusOK {
				t.Fatalf("first refresh: status %d: %v", status, next)
			}
			mark()
			_, status = h.refresh(conf, tok.RefreshToken, "")
			refused(t, status)
			rotated, _ := next["refresh_token"].(string)
			return []string{tok.RefreshToken, rotated, tok.AccessToken}
		}},
		{"code of tenant A at tenant B", "tenant=globex", nil, func(t *testing.T, mark func()) []string {
			v := oauth2.GenerateVerifier()
			code := h.login(pub, pubCfg, v)
			other := h.oauthConfig(conf)
			other.ClientID, other.ClientSecret = pub.client.ID, ""
			mark()
			if _, err := other.Exchange(ctx, code, oauth2.VerifierOption(v)); err == nil {
				t.Fatal("tenant B redeemed tenant A's code")
			}
			return []string{code, v}
		}},
		{"access token of tenant A at tenant B", "tenant=globex", nil, func(t *testing.T, mark func()) []string {
			tok := h.signIn(pub, pubCfg)
			mark()
			refused(t, h.userinfo(conf, tok.AccessToken).StatusCode)
			return []string{tok.AccessToken, tok.RefreshToken}
		}},
		{"expired access token", "tenant=initech", nil, func(t *testing.T, mark func()) []string {
			// Issued two hours ago, by a tenant made then: it lived one.
			h.shift.Store(int64(-2 * time.Hour))
			old := h.fixture("initech", true)
			tok := h.exchange(old, h.oauthConfig(old))
			h.shift.Store(0)
			mark()
			refused(t, h.userinfo(old, tok["access_token"]).StatusCode)
			return []string{tok["access_token"], tok["refresh_token"]}
		}},
		{"tampered access token", "tenant=acme", nil, func(t *testing.T, mark func()) []string {
			tok := h.signIn(pub, pubCfg)
			parts := strings.Split(tok.AccessToken, ".")
			parts[2] = strings.Repeat("A", len(parts[2]))
			tampered := strings.Join(parts, ".")
			mark()
			refused(t, h.userinfo(pub, tampered).StatusCode)
			return []string{tampered, parts[1], tok.RefreshToken}
		}},
		{"oversized body", "tenant=globex", nil, func(t *testing.T, mark func()) []string {
			code := strings.Repeat("x", 200<<10)
			mark()
			refused(t, post("/oauth2/token", "grant_type=authorization_code&code="+code, conf.client.ID, conf.secret))
			return []string{code[:64]}
		}},
		{"malformed body", "tenant=globex", nil, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, post("/oauth2/token", "grant_type=client_credentials&%zz", conf.client.ID, conf.secret))
			return nil
		}},
		{"wrong client secret", "tenant=globex", nil, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, post("/oauth2/token", ccForm("planner/read"), conf.client.ID, "not-"+conf.secret))
			return []string{"not-" + conf.secret}
		}},
		{"unknown client", "tenant=globex", nil, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, post("/oauth2/token", ccForm("planner/read"), "nobody", "guessed-secret"))
			return []string{"guessed-secret"}
		}},
		{"scope the client may not have", "tenant=globex", nil, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, post("/oauth2/token", ccForm("admin/everything"), conf.client.ID, conf.secret))
			return nil
		}},
		{"refresh token in the URL", "tenant=globex", nil, func(t *testing.T, mark func()) []string {
			tok := h.signIn(conf, confCfg)
			mark()
			refused(t, get(h.issuer("globex")+"/oauth2/token?"+url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}.Encode()))
			return []string{tok.RefreshToken}
		}},
		{"introspection without client authentication", "tenant=globex", nil, func(t *testing.T, mark func()) []string {
			tok := h.signIn(conf, confCfg)
			mark()
			refused(t, post("/oauth2/introspect", url.Values{"token": {tok.AccessToken}}.Encode(), "", ""))
			return []string{tok.AccessToken}
		}},
		{"used code, its client with a wrong verifier", "tenant=globex", []string{"level=WARN", "wrong PKCE verifier", "nothing is revoked"}, func(t *testing.T, mark func()) []string {
			v := oauth2.GenerateVerifier()
			code := h.login(conf, confCfg, v)
			if _, err := confCfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil {
				t.Fatal(err)
			}
			wrong := oauth2.GenerateVerifier()
			mark()
			if _, err := confCfg.Exchange(ctx, code, oauth2.VerifierOption(wrong)); err == nil {
				t.Fatal("a used code was accepted")
			}
			return []string{code, v, wrong}
		}},
		{"code of another client", "tenant=globex", []string{"level=WARN", "issued to another client"}, func(t *testing.T, mark func()) []string {
			v := oauth2.GenerateVerifier()
			code := h.login(conf, confCfg, v)
			mark()
			refused(t, post("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {v},
				"redirect_uri": {redirectURI}}.Encode(), other.ID, otherSecret))
			return []string{code, v, otherSecret}
		}},
		{"refresh token of another client", "tenant=globex", []string{"level=WARN", "issued to another client", "nothing revoked"}, func(t *testing.T, mark func()) []string {
			tok := h.signIn(conf, confCfg)
			mark()
			refused(t, post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}.Encode(), other.ID, otherSecret))
			return []string{tok.RefreshToken, otherSecret}
		}},
		{"refresh asking for more than its grant", "tenant=globex",
			[]string{"token request refused", "client_id=" + conf.client.ID, "grant_type=refresh_token", "wider than the refresh token's grant"},
			func(t *testing.T, mark func()) []string {
				cfg := h.oauthConfig(conf)
				cfg.Scopes = []string{"openid"}
				tok := h.signIn(conf, cfg)
				mark()
				body, status := h.refresh(conf, tok.RefreshToken, "openid email")
				if status != http.StatusBadRequest || body["error"] != "invalid_scope" || body["error_description"] != "scope email is not in this refresh token's grant" {
					t.Fatalf("%d %v, want invalid_scope naming email", status, body)
				}
				return []string{tok.RefreshToken, tok.AccessToken}
			}},
		// Split on spaces only, as the library splits it: "openid\temail"
		// is one scope, which the grant does not hold, refused in our words.
		{"refresh scope joined by a tab", "tenant=globex",
			[]string{"token request refused", "client_id=" + conf.client.ID, "grant_type=refresh_token", "wider than the refresh token's grant"},
			func(t *testing.T, mark func()) []string {
				tok := h.signIn(conf, h.oauthConfig(conf))
				mark()
				body, status := h.refresh(conf, tok.RefreshToken, "openid\temail")
				if status != http.StatusBadRequest || body["error"] != "invalid_scope" || body["error_description"] == nil {
					t.Fatalf("%d %v, want invalid_scope with a description", status, body)
				}
				return []string{tok.RefreshToken, tok.AccessToken}
			}},
		{"client assertion", "tenant=globex", []string{"level=WARN", "client assertion"}, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"x"}}.Encode(), "", ""))
			return nil
		}},
		{"wrong client secret on a refresh", "tenant=globex", []string{"wrong client secret"}, func(t *testing.T, mark func()) []string {
			tok := h.signIn(conf, confCfg)
			mark()
			refused(t, post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}.Encode(), conf.client.ID, "not-"+conf.secret))
			return []string{tok.RefreshToken, "not-" + conf.secret}
		}},
		{"a parameter twice", "tenant=globex", []string{"repeated"}, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, post("/oauth2/token", "grant_type=client_credentials&grant_type=client_credentials", conf.client.ID, conf.secret))
			return nil
		}},
		{"revocation without a token", "tenant=globex", []string{"token missing"}, func(t *testing.T, mark func()) []string {
			mark()
			refused(t, post("/oauth2/revoke", url.Values{"token_type_hint": {"refresh_token"}}.Encode(), conf.client.ID, conf.secret))
			return nil
		}},
		{"revocation of another client's token", "tenant=globex", []string{"issued to another client"}, func(t *testing.T, mark func()) []string {
			tok := h.signIn(conf, confCfg)
			mark()
			refused(t, post("/oauth2/revoke", url.Values{"token": {tok.RefreshToken}}.Encode(), other.ID, otherSecret))
			return []string{tok.RefreshToken, otherSecret}
		}},
		{"revocation with a wrong client secret", "tenant=globex", nil, func(t *testing.T, mark func()) []string {
			tok := h.signIn(conf, confCfg)
			mark()
			refused(t, post("/oauth2/revoke", url.Values{"token": {tok.RefreshToken}}.Encode(), conf.client.ID, "not-"+conf.secret))
			return []string{tok.RefreshToken, "not-" + conf.secret}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := -1
			secrets := tc.refuse(t, func() { start = len(h.logs.String()) })
			if start < 0 {
				t.Fatal("the case never marked its request")
			}
			logged := h.logs.String()[start:]
			if n := strings.Count(logged, "\n"); n != 1 {
				t.Fatalf("the refusal logged %d lines, want 1:\n%s", n, logged)
			}
			for _, want := range append([]string{tc.want, "client_ip=127.0.0.1"}, tc.says...) {
				if !strings.Contains(logged, want) {
					t.Errorf("the line does not say %s:\n%s", want, logged)
				}
			}
			for _, s := range append(secrets, conf.secret, pub.password, conf.password) {
				if s != "" && strings.Contains(logged, s) {
					t.Errorf("the line carries a secret (%.12s…):\n%s", s, logged)
				}
			}
		})
	}
}
