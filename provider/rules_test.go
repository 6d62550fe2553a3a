package provider_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/tenant"
)

// refresh posts a refresh_token grant for a confidential client, with the
// scope parameter when scope is not empty.
func (h *harness) refresh(f fixture, rt, scope string) (map[string]any, int) {
	h.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if scope != "" {
		form.Set("scope", scope)
	}
	resp, body := h.send(http.MethodPost, h.issuer(f.slug)+"/oauth2/token", form.Encode(), f.client.ID, f.secret)
	return body, resp.StatusCode
}

// A refresh that asks for fewer scopes narrows the tokens of that answer
// only: the new refresh token keeps the scope of the one it replaces
// (RFC 6749 §6), so the next refresh can ask for the whole grant again.
func TestRefreshWithFewerScopesKeepsTheGrant(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	tok := h.signIn(f, cfg)

	narrow, status := h.refresh(f, tok.RefreshToken, "openid")
	if status != http.StatusOK {
		t.Fatalf("refresh with scope openid: status %d, %v", status, narrow)
	}
	if sc := jwtClaims(t, narrow["access_token"].(string))["scope"]; sc != "openid" {
		t.Errorf("narrowed access token scope = %q, want openid", sc)
	}

	full, status := h.refresh(f, narrow["refresh_token"].(string), "")
	if status != http.StatusOK {
		t.Fatalf("refresh after a narrowed one: status %d, %v", status, full)
	}
	sc, _ := jwtClaims(t, full["access_token"].(string))["scope"].(string)
	for _, want := range []string{"openid", "email", "profile"} {
		if !strings.Contains(" "+sc+" ", " "+want+" ") {
			t.Errorf("access token after a narrowed refresh has scope %q, lacking %s: the grant shrank", sc, want)
		}
	}
	// And asking for the whole grant again is allowed.
	if body, status := h.refresh(f, full["refresh_token"].(string), "openid email"); status != http.StatusOK {
		t.Errorf("refresh asking for email again: status %d, %v", status, body)
	}
}

// A refresh's scope is read as an authorization request's: a scope named
// twice counts once, and was answered twice (e18 finding 4); an empty
// scope parameter is taken as none sent, the scope of the grant (RFC 6749
// §6), where it was refused with invalid_scope and no description.
func TestRefreshScopeIsReadAsAtAuthorize(t *testing.T) {
	h := newHarness(t)
	f := h.fixtureWith(fixtureOptions{slug: "acme", scopes: []string{"openid", "email", "profile"}})
	cfg := h.oauthConfig(f)
	cfg.Scopes = []string{"openid", "email"}
	rt := h.signIn(f, cfg).RefreshToken

	tests := []struct{ sent, want string }{
		{"openid openid", "openid"},
		{"email openid email", "email openid"},
		{" openid  email ", "openid email"},
		{"", "openid email"},
		{" ", "openid email"},
	}
	for _, tc := range tests {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {tc.sent}}
		resp, body := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/token", form.Encode(), f.client.ID, f.secret)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("refresh with scope=%q: %d %v, want 200", tc.sent, resp.StatusCode, body)
		}
		if body["scope"] != tc.want {
			t.Errorf("refresh with scope=%q answered scope %q, want %q", tc.sent, body["scope"], tc.want)
		}
		if sc := jwtClaims(t, body["access_token"].(string))["scope"]; sc != tc.want {
			t.Errorf("refresh with scope=%q: access token scope %q, want %q", tc.sent, sc, tc.want)
		}
		rt = body["refresh_token"].(string)
	}
}

// A logout the library refuses (an unregistered logout URI, an unknown
// client) tells the person "you have not been signed out": so it must not
// end the SSO session either.
func TestRefusedLogoutLeavesTheSession(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	h.login(f, cfg, oauth2.GenerateVerifier())

	sessionOf := func() (*http.Request, bool) {
		req, _ := http.NewRequest(http.MethodGet, h.issuer("acme")+"/", nil)
		for _, c := range h.http.Jar.Cookies(mustURL(h.issuer("acme"))) {
			req.AddCookie(c)
		}
		_, _, ok := h.prov.Session(req, "acme")
		return req, ok
	}
	if _, ok := sessionOf(); !ok {
		t.Fatal("no SSO session after the sign-in")
	}
	for name, query := range map[string]string{
		"unregistered logout URI": "client_id=" + f.client.ID + "&logout_uri=" + url.QueryEscape("http://evil.localhost/"),
		"unknown client":          "client_id=nope&logout_uri=" + url.QueryEscape("http://rp.localhost/bye"),
	} {
		resp := h.get(h.issuer("acme") + "/logout?" + query)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: status %d, want 400", name, resp.StatusCode)
		}
		if _, ok := sessionOf(); !ok {
			t.Errorf("%s: the refused logout ended the session (the page says it did not)", name)
		}
	}
	// An accepted one ends it.
	h.location(h.get(h.issuer("acme")+"/logout?client_id="+f.client.ID+"&logout_uri="+url.QueryEscape("http://rp.localhost/bye")), http.StatusFound)
	if _, ok := sessionOf(); ok {
		t.Error("the accepted logout left the session")
	}
}

// An authorization request with an id_token_hint names the user it is
// about: an SSO session of someone else must not answer it (OpenID Connect
// Core §3.1.2.1), so that prompt=none gets login_required rather than
// another person's code.
func TestIDTokenHintOfAnotherUser(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	tok := h.signIn(f, cfg)
	bob, err := h.svc.CreateUser(context.Background(), "acme", tenant.NewUser{Username: "bob", Email: "bob@example.com",
		EmailVerified: true, Password: "Correct-Horse-9"})
	if err != nil {
		t.Fatal(err)
	}

	loc := h.location(h.get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", tok.Extra("id_token").(string)))), http.StatusFound)
	lr, err := h.prov.LoginRequest(context.Background(), "acme", loc.Query().Get("authRequestID"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if lr.SessionSatisfies(tenant.Session{Sub: bob.Sub, AuthTime: now}, now) {
		t.Error("bob's session answers a request whose id_token_hint names ann")
	}
	if !lr.SessionSatisfies(tenant.Session{Sub: f.user.Sub, AuthTime: now}, now) {
		t.Error("ann's session does not answer a request whose id_token_hint names her")
	}
}

// Userinfo refuses a bad access token as RFC 6750 §3.1 says, and as
// Cognito documents: 401 with WWW-Authenticate naming invalid_token, so a
// relying party knows to refresh or sign in again, whether the token is
// tampered with or revoked since.
func TestUserinfoRefusesBadTokensWithInvalidToken(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	tok := h.signIn(f, cfg)
	if resp := h.userinfo(f, tok.AccessToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with a good token: status %d", resp.StatusCode)
	}
	parts := strings.Split(tok.AccessToken, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))

	// Revoke the family: the access token's signature still verifies.
	if _, status := h.refresh(f, tok.RefreshToken, ""); status != http.StatusOK {
		t.Fatal("refresh failed")
	}
	if _, status := h.refresh(f, tok.RefreshToken, ""); status == http.StatusOK {
		t.Fatal("reused refresh token accepted")
	}
	for name, at := range map[string]string{"tampered": tampered, "revoked": tok.AccessToken} {
		resp := h.userinfo(f, at)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s token: status %d, WWW-Authenticate %q; want 401 and invalid_token",
				name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

// Userinfo describes a user, so it answers a user's access token only. A
// client_credentials access token, or an ID token, verifies but is refused
// with invalid_token (RFC 6750 §3.1) saying what it is, where it was told
// it was "revoked or expired", which sent developers looking for the
// wrong fault.
func TestUserinfoSaysWhichTokenItTakes(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	tok := h.signIn(f, h.oauthConfig(f))
	resp, body := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/token",
		url.Values{"grant_type": {"client_credentials"}, "scope": {"planner/read"}}.Encode(), f.client.ID, f.secret)
	machine, _ := body["access_token"].(string)
	if resp.StatusCode != http.StatusOK || machine == "" {
		t.Fatalf("client_credentials: %d %v", resp.StatusCode, body)
	}
	for name, token := range map[string]string{"client_credentials access token": machine, "ID token": tok.Extra("id_token").(string)} {
		resp, raw := h.userinfoRead(f, token)
		var refusal map[string]string
		_ = json.Unmarshal(raw, &refusal)
		if resp.StatusCode != http.StatusUnauthorized || refusal["error"] != "invalid_token" ||
			!strings.Contains(refusal["error_description"], "not a user's access token") {
			t.Errorf("%s: %d %s, want 401 invalid_token saying it is not a user's access token", name, resp.StatusCode, raw)
		}
	}
}

// Deleting a client ends what it was given: its refresh tokens (the token
// endpoint no longer knows it) and, at userinfo, its access tokens, which
// otherwise would answer until they expire.
func TestDeletedClientsTokensStop(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	tok := h.signIn(f, h.oauthConfig(f))
	if resp := h.userinfo(f, tok.AccessToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo before the delete: status %d", resp.StatusCode)
	}
	if err := h.svc.DeleteClient(h.ctx(), "acme", f.client.ID); err != nil {
		t.Fatal(err)
	}
	if resp := h.userinfo(f, tok.AccessToken); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("userinfo after the delete: status %d, WWW-Authenticate %q; want 401 and invalid_token",
			resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if _, status := h.refresh(f, tok.RefreshToken, ""); status == http.StatusOK {
		t.Error("the deleted client's refresh token was accepted")
	}
}

// userinfo asks f's tenant's userinfo endpoint with access token at; the
// body is closed, the status and headers are what the tests read.
func (h *harness) userinfo(f fixture, at string) *http.Response {
	h.t.Helper()
	resp, _ := h.userinfoRead(f, at)
	return resp
}

// userinfoRead is userinfo with the body it read.
func (h *harness) userinfoRead(f fixture, at string) (*http.Response, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.issuer(f.slug)+"/oauth2/userInfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// signIn signs f's user in through cfg, with PKCE, and returns the tokens.
func (h *harness) signIn(f fixture, cfg *oauth2.Config) *oauth2.Token {
	h.t.Helper()
	v := oauth2.GenerateVerifier()
	tok, err := cfg.Exchange(h.ctx(), h.login(f, cfg, v), oauth2.VerifierOption(v))
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// The operator's changes to a client reach what was issued before: a scope
// taken away is dropped from the next refresh and cannot be asked back, a
// grant taken away is refused at once, and a client without the code grant
// cannot send anyone to sign in for a code it could not redeem.
func TestClientChangesReachIssuedTokens(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	cfg.Scopes = append(cfg.Scopes, "planner/read")
	tok := h.signIn(f, cfg)
	if sc, _ := jwtClaims(t, tok.AccessToken)["scope"].(string); !strings.Contains(" "+sc+" ", " planner/read ") {
		t.Fatalf("scope %q lacks planner/read before the change", sc)
	}
	change := func(c tenant.ClientChange) {
		t.Helper()
		if _, err := h.svc.UpdateClient(h.ctx(), "acme", f.client.ID, c); err != nil {
			t.Fatal(err)
		}
	}

	change(tenant.ClientChange{Scopes: &[]string{"openid", "email", "profile"}})
	if body, status := h.refresh(f, tok.RefreshToken, "openid planner/read"); status != http.StatusBadRequest || body["error"] != "invalid_scope" {
		t.Errorf("asking for the scope taken away: %d %v, want 400 invalid_scope", status, body)
	}
	body, status := h.refresh(f, tok.RefreshToken, "")
	if status != http.StatusOK {
		t.Fatalf("refresh after the scope change: %d %v", status, body)
	}
	sc, _ := jwtClaims(t, body["access_token"].(string))["scope"].(string)
	if strings.Contains(sc, "planner/read") || !strings.Contains(" "+sc+" ", " email ") {
		t.Errorf("scope after the change %q: want email kept and planner/read gone", sc)
	}
	// Nor does the rotated refresh token carry it.
	body, status = h.refresh(f, body["refresh_token"].(string), "")
	if status != http.StatusOK {
		t.Fatalf("refresh with the rotated token: %d %v", status, body)
	}
	if sc, _ := jwtClaims(t, body["access_token"].(string))["scope"].(string); strings.Contains(sc, "planner/read") {
		t.Errorf("the rotated refresh token brought planner/read back: scope %q", sc)
	}

	// The refresh before this one rotated next; sign in again for a token,
	// asking for what the client still has.
	cfg.Scopes = []string{"openid", "email", "profile"}
	tok = h.signIn(f, cfg)
	change(tenant.ClientChange{GrantTypes: &[]string{tenant.GrantAuthorizationCode, tenant.GrantClientCredentials}})
	if body, status := h.refresh(f, tok.RefreshToken, ""); status != http.StatusBadRequest || body["error"] != "unauthorized_client" {
		t.Errorf("refresh after the grant was taken away: %d %v, want 400 unauthorized_client", status, body)
	}

	change(tenant.ClientChange{GrantTypes: &[]string{tenant.GrantClientCredentials}})
	resp := h.get(cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	loc := h.location(resp, http.StatusFound)
	if strings.HasPrefix(loc.Path, "/login") || loc.Query().Get("error") != "unauthorized_client" {
		t.Errorf("authorize for a client without the code grant sent the browser to %s, want an unauthorized_client error", loc)
	}
}

// A refresh never widens the grant (RFC 6749 §6): it may ask for what the
// sign-in granted, not for a scope the client is allowed but did not ask
// for then. And when the operator takes a standard scope from the client,
// as any other, the next refresh drops it (and its claims), the rotated
// refresh token does not bring it back, introspection no longer names it,
// and a new sign-in may not ask for it. Before, openid, email, profile,
// phone, address and offline_access stayed with a refresh token whatever
// the client's list said.
func TestRefreshStaysWithinTheGrantAndTheClientsScopes(t *testing.T) {
	h := newHarness(t)
	f := h.fixtureWith(fixtureOptions{slug: "acme", scopes: []string{"openid", "email", "profile", "phone", "planner/read"}})
	cfg := h.oauthConfig(f)
	cfg.Scopes = []string{"openid", "email"}
	tok := h.signIn(f, cfg)

	for _, wider := range []string{"openid email phone", "openid profile", "openid planner/read", "openid address"} {
		if body, status := h.refresh(f, tok.RefreshToken, wider); status != http.StatusBadRequest || body["error"] != "invalid_scope" {
			t.Errorf("refresh asking for %q beyond the grant: %d %v, want 400 invalid_scope", wider, status, body)
		}
	}

	if _, err := h.svc.UpdateClient(h.ctx(), "acme", f.client.ID,
		tenant.ClientChange{Scopes: &[]string{"openid", "profile", "phone", "planner/read"}}); err != nil {
		t.Fatal(err)
	}
	if body, status := h.refresh(f, tok.RefreshToken, "openid email"); status != http.StatusBadRequest || body["error"] != "invalid_scope" {
		t.Errorf("refresh asking for email, taken from the client: %d %v, want 400 invalid_scope", status, body)
	}
	body, status := h.refresh(f, tok.RefreshToken, "")
	if status != http.StatusOK {
		t.Fatalf("refresh after email was taken from the client: %d %v", status, body)
	}
	if body["scope"] != "openid" {
		t.Errorf("scope %q after email was taken from the client, want openid", body["scope"])
	}
	if _, ok := jwtClaims(t, body["id_token"].(string))["email"]; ok {
		t.Error("the refreshed ID token carries email, of a scope taken from the client")
	}
	rotated := body["refresh_token"].(string)
	resp, intro := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/introspect", url.Values{"token": {rotated}}.Encode(), f.client.ID, f.secret)
	if resp.StatusCode != http.StatusOK || intro["active"] != true || intro["scope"] != "openid" {
		t.Errorf("introspection of the rotated refresh token: %d %v, want active with scope openid", resp.StatusCode, intro)
	}
	if body, status := h.refresh(f, rotated, ""); status != http.StatusOK || body["scope"] != "openid" {
		t.Errorf("refresh with the rotated token: %d %v, want 200 with scope openid", status, body)
	}

	loc := h.location(h.get(cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))), http.StatusFound)
	if loc.Query().Get("error") != "invalid_scope" {
		t.Errorf("a new sign-in asking for email, taken from the client, sent the browser to %s, want invalid_scope", loc)
	}
}

// A sign-in request completed in one browser stays that browser's: the
// same browser may send the form again (the back button), but the request
// ID signed in from another browser, by anyone, is refused, and the first
// browser's callback still gives the first person's code.
func TestCompletedSignInStaysWithItsBrowser(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	if _, err := h.svc.CreateUser(h.ctx(), "acme", tenant.NewUser{Username: "bob", Password: "Battery-Staple-7"}); err != nil {
		t.Fatal(err)
	}
	cfg := h.oauthConfig(f)
	v := oauth2.GenerateVerifier()
	id := h.location(h.get(cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v))), http.StatusFound).Query().Get("authRequestID")
	signIn := func(browser *http.Client, username, password string) *http.Response {
		t.Helper()
		resp, err := browser.PostForm(h.issuer("acme")+"/login", url.Values{"authRequestID": {id}, "username": {username}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	h.location(signIn(h.http, f.user.Username, f.password), http.StatusSeeOther)
	cb := h.location(signIn(h.http, f.user.Username, f.password), http.StatusSeeOther) // sent again

	jar, _ := cookiejar.New(nil)
	other := &http.Client{Jar: jar, Transport: h.http.Transport, CheckRedirect: h.http.CheckRedirect}
	if resp := signIn(other, "bob", "Battery-Staple-7"); resp.StatusCode == http.StatusSeeOther {
		t.Errorf("another browser completed the request again: redirected to %s", resp.Header.Get("Location"))
	} else {
		resp.Body.Close()
	}
	if !strings.Contains(h.logs.String(), `msg="sign-in refused: another browser completed this request" tenant=acme client_ip=127.0.0.1`) {
		t.Errorf("the refusal is not logged with the client's address:\n%s", h.logs.String())
	}

	back := h.location(h.get(cb.String()), http.StatusFound)
	tok, err := cfg.Exchange(h.ctx(), back.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if sub := jwtClaims(t, tok.Extra("id_token").(string))["sub"]; sub != f.user.Sub {
		t.Errorf("the code is for %v, want ann (%s)", sub, f.user.Sub)
	}
}

// A client with a retry grace period (Cognito's RetryGracePeriodSeconds)
// may use a refresh token again for that long after its first use: a
// retry after a lost answer, or two refreshes at once, gets tokens, and
// what the first use gave stays valid. After the grace period a second use
// is a reuse again, and revokes the whole family.
func TestRefreshRetryGracePeriod(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	grace := 30 * time.Second
	if _, err := h.svc.UpdateClient(h.ctx(), "acme", f.client.ID, tenant.ClientChange{RefreshRetryGrace: &grace}); err != nil {
		t.Fatal(err)
	}
	tok := h.signIn(f, h.oauthConfig(f))
	refresh := func(name, rt string, want int) string {
		t.Helper()
		body, status := h.refresh(f, rt, "")
		if status != want {
			t.Fatalf("%s: status %d, want %d: %v", name, status, want, body)
		}
		next, _ := body["refresh_token"].(string)
		return next
	}

	first := refresh("first use", tok.RefreshToken, http.StatusOK)
	h.shift.Add(int64(20 * time.Second))
	retried := refresh("again, 20 s later", tok.RefreshToken, http.StatusOK)
	if retried == "" || retried == first {
		t.Fatalf("the retry gave refresh token %q beside %q", retried, first)
	}
	h.shift.Add(int64(9 * time.Second))
	refresh("a third time, 29 s after the first use", tok.RefreshToken, http.StatusOK)
	// Both successors live on, each rotating as usual.
	firstNext := refresh("the first use's successor", first, http.StatusOK)
	refresh("the retry's successor", retried, http.StatusOK)
	refresh("the retry's successor again, within its own grace", retried, http.StatusOK)

	// 31 s after its first use the original token is spent: a reuse, which
	// ends the session for every token of the family.
	h.shift.Add(int64(2 * time.Second))
	refresh("the original, 31 s after its first use", tok.RefreshToken, http.StatusBadRequest)
	refresh("a live token of the revoked family", firstNext, http.StatusBadRequest)
}

// The token response and the access token carry the scope granted, and an
// ID token only when it includes openid (OpenID Connect Core §3.1.2.1;
// COGNITO.md §6.5: "An ID token is issued only when openid is
// requested"). offline_access, which Cognate adds internally so that the
// library issues Cognito's refresh token to every client with the refresh
// grant, is not named unless the client asked for it and may refresh.
// Before, an ID token came whatever the scope, and every response and
// access token of such a client said offline_access. A client asks for
// offline_access only when it is among its scopes, as for any other
// (TestAuthorizeRefusesScopesTheClientMayNotHave).
func TestTokensFollowTheScope(t *testing.T) {
	h := newHarness(t)
	scopes := []string{"openid", "email", "profile", "offline_access"}
	f := h.fixtureWith(fixtureOptions{slug: "acme", scopes: scopes})
	noRefresh := h.fixtureWith(fixtureOptions{slug: "globex", scopes: scopes, noRefresh: true})
	tests := []struct {
		name        string
		f           fixture
		scopes      []string
		wantScope   string
		wantID      bool
		wantRefresh bool
	}{
		{"email without openid", f, []string{"email"}, "email", false, true},
		{"openid and email", f, []string{"openid", "email"}, "openid email", true, true},
		{"offline_access asked for", f, []string{"openid", "offline_access"}, "openid offline_access", true, true},
		{"offline_access asked for by a client that may not refresh", noRefresh, []string{"openid", "offline_access"}, "openid", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := h.oauthConfig(tc.f)
			cfg.Scopes = tc.scopes
			tok := h.exchange(tc.f, cfg)
			if tok["scope"] != tc.wantScope {
				t.Errorf("token response scope %q, want %q", tok["scope"], tc.wantScope)
			}
			if sc := jwtClaims(t, tok["access_token"])["scope"]; sc != tc.wantScope {
				t.Errorf("access token scope %q, want %q", sc, tc.wantScope)
			}
			if _, got := tok["id_token"]; got != tc.wantID {
				t.Errorf("id_token in the response: %t, want %t", got, tc.wantID)
			}
			if _, got := tok["refresh_token"]; got != tc.wantRefresh {
				t.Fatalf("refresh_token in the response: %t, want %t", got, tc.wantRefresh)
			}
			if !tc.wantRefresh {
				return
			}
			next, status := h.refresh(tc.f, tok["refresh_token"], "")
			if status != http.StatusOK {
				t.Fatalf("refresh: %d %v", status, next)
			}
			if next["scope"] != tc.wantScope {
				t.Errorf("refreshed scope %q, want %q", next["scope"], tc.wantScope)
			}
			if _, got := next["id_token"]; got != tc.wantID {
				t.Errorf("id_token in the refresh response: %t, want %t", got, tc.wantID)
			}
			if next["refresh_token"] == nil {
				t.Error("the refresh gave no new refresh token")
			}
		})
	}
	// A refresh narrowed to scopes without openid gets no ID token either.
	tok := h.exchange(f, h.oauthConfig(f))
	if next, status := h.refresh(f, tok["refresh_token"], "email"); status != http.StatusOK || next["id_token"] != nil {
		t.Errorf("a refresh narrowed to email: %d, id_token %v; want 200 and none", status, next["id_token"] != nil)
	}
}

// Every answer of the token endpoint, tokens or error, any grant, says
// Cache-Control: no-store and Pragma: no-cache (RFC 6749 §5.1). Before,
// only client_credentials' did.
func TestTokenResponsesAreNotCached(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	v := oauth2.GenerateVerifier()
	code := h.login(f, cfg, v)
	tokenURL := h.issuer("acme") + "/oauth2/token"
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {v}, "redirect_uri": {redirectURI}}
	resp, tok := h.send(http.MethodPost, tokenURL, form.Encode(), f.client.ID, f.secret)
	responses := map[string]*http.Response{"code exchange": resp}
	rt, _ := tok["refresh_token"].(string)
	responses["refresh"], _ = h.send(http.MethodPost, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode(), f.client.ID, f.secret)
	responses["code replay"], _ = h.send(http.MethodPost, tokenURL, form.Encode(), f.client.ID, f.secret)
	responses["unknown refresh token"], _ = h.send(http.MethodPost, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}.Encode(), f.client.ID, f.secret)
	responses["unknown client"], _ = h.send(http.MethodPost, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}, "client_id": {"x"}}.Encode(), "", "")
	responses["unknown grant"], _ = h.send(http.MethodPost, tokenURL, url.Values{"grant_type": {"password"}}.Encode(), f.client.ID, f.secret)
	for name, resp := range responses {
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
			t.Errorf("%s (%d): Cache-Control %q, Pragma %q; want no-store, no-cache", name, resp.StatusCode,
				resp.Header.Get("Cache-Control"), resp.Header.Get("Pragma"))
		}
	}
	if responses["code exchange"].StatusCode != http.StatusOK || responses["refresh"].StatusCode != http.StatusOK {
		t.Fatalf("exchange %d, refresh %d: want 200 for both", responses["code exchange"].StatusCode, responses["refresh"].StatusCode)
	}
}

// Media types are matched as RFC 9110 §8.3.1 says: case-insensitively, with
// parameters. HTTP Basic may come with the form's client_id when both name
// the same client, at every endpoint (client_id alone is no second
// authentication method, RFC 6749 §2.3.1). Before, client_credentials
// refused an upper-case form type as an unsupported grant, and
// client_credentials and introspection refused HTTP Basic with client_id.
func TestTokenEndpointFormAndBasicAuth(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	tokenURL := h.issuer("acme") + "/oauth2/token"
	post := func(u, contentType string, form url.Values, id, secret string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", contentType)
		if id != "" {
			req.SetBasicAuth(id, secret)
		}
		resp, err := h.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	const upper = "Application/X-WWW-Form-Urlencoded; charset=UTF-8"
	cc := url.Values{"grant_type": {"client_credentials"}}
	if status, body := post(tokenURL, upper, cc, f.client.ID, f.secret); status != http.StatusOK {
		t.Errorf("client_credentials with Content-Type %q: %d %v", upper, status, body)
	}
	v := oauth2.GenerateVerifier()
	code := url.Values{"grant_type": {"authorization_code"}, "code": {h.login(f, cfg, v)}, "code_verifier": {v}, "redirect_uri": {redirectURI}}
	if status, body := post(tokenURL, upper, code, f.client.ID, f.secret); status != http.StatusOK {
		t.Errorf("code exchange with Content-Type %q: %d %v", upper, status, body)
	}

	withID := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.client.ID}}
	status, tok := post(tokenURL, "application/x-www-form-urlencoded", withID, f.client.ID, f.secret)
	if status != http.StatusOK {
		t.Fatalf("client_credentials by HTTP Basic with client_id in the form: %d %v", status, tok)
	}
	intro := url.Values{"token": {tok["access_token"].(string)}, "client_id": {f.client.ID}}
	if status, body := post(h.issuer("acme")+"/oauth2/introspect", "application/x-www-form-urlencoded", intro, f.client.ID, f.secret); status != http.StatusOK || body["active"] != true {
		t.Errorf("introspection by HTTP Basic with client_id in the form: %d %v", status, body)
	}
	withID.Set("client_id", "someone-else")
	if status, body := post(tokenURL, "application/x-www-form-urlencoded", withID, f.client.ID, f.secret); status != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("HTTP Basic with another client's client_id: %d %v, want 400 invalid_request", status, body)
	}
}

// A live refresh token introspects, to its own client, as active with what
// a resource server decides on (RFC 7662 §2.2); to another client, once
// used, or once revoked, as inactive. Before, the library knew access
// tokens only and said {"active":false} of every refresh token.
func TestIntrospectionOfRefreshTokens(t *testing.T) {
	h := newHarness(t)
	c := h.tokenClients("acme")
	conf := c.conf
	tok := h.signIn(conf, c.confCfg)
	introspect := func(t *testing.T, form url.Values, id, secret string) (int, map[string]any) {
		t.Helper()
		resp, body := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/introspect", form.Encode(), id, secret)
		return resp.StatusCode, body
	}
	status, intro := introspect(t, url.Values{"token": {tok.RefreshToken}}, conf.client.ID, conf.secret)
	if status != http.StatusOK || intro["active"] != true {
		t.Fatalf("a live refresh token: %d %v, want active", status, intro)
	}
	at := jwtClaims(t, tok.AccessToken)
	want := map[string]any{"active": true, "token_type": "refresh_token", "client_id": conf.client.ID, "sub": conf.user.Sub,
		"username": "ann", "scope": at["scope"], "iss": h.issuer("acme"), "auth_time": at["auth_time"]}
	exp, _ := intro["exp"].(float64)
	if days := time.Until(time.Unix(int64(exp), 0)).Hours() / 24; days < 29 || days > 30.1 {
		t.Errorf("exp in %.1f days, want the refresh lifetime, 30", days)
	}
	delete(intro, "exp")
	if !reflect.DeepEqual(intro, want) {
		t.Errorf("introspection of a live refresh token:\n got %v\nwant %v", intro, want)
	}

	inactive := func(t *testing.T, what string, form url.Values, id, secret string) {
		t.Helper()
		if status, intro := introspect(t, form, id, secret); status != http.StatusOK || !reflect.DeepEqual(intro, map[string]any{"active": false}) {
			t.Errorf("%s: %d %v, want {\"active\":false}", what, status, intro)
		}
	}
	inactive(t, "another client's refresh token", url.Values{"token": {tok.RefreshToken}}, c.other.ID, c.otherSecret)
	if status, body := introspect(t, url.Values{"token": {tok.RefreshToken, tok.RefreshToken}}, conf.client.ID, conf.secret); status != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("the token twice: %d %v, want 400 invalid_request", status, body)
	}

	next, status := h.refresh(conf, tok.RefreshToken, "")
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, next)
	}
	inactive(t, "a used refresh token", url.Values{"token": {tok.RefreshToken}}, conf.client.ID, conf.secret)
	rotated := next["refresh_token"].(string)
	if _, intro := introspect(t, url.Values{"token": {rotated}}, conf.client.ID, conf.secret); intro["active"] != true {
		t.Errorf("the rotated refresh token: %v, want active", intro)
	}
	resp, _ := h.send(http.MethodPost, h.issuer("acme")+"/oauth2/revoke", url.Values{"token": {rotated}}.Encode(), conf.client.ID, conf.secret)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	inactive(t, "a revoked refresh token", url.Values{"token": {rotated}}, conf.client.ID, conf.secret)
}

// Tokens carry Cognito's jti, origin_jti and event_id (COGNITO.md §6.2,
// §6.3): every token its own jti; origin_jti and event_id the same in
// every token of one sign-in, refreshes included, and new at the next
// sign-in. Before, the ID token had none of them and the access token
// only jti.
func TestSignInIdentifiersInTokens(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	tokensOf := func(body map[string]string) (id, access map[string]any) {
		return jwtClaims(t, body["id_token"]), jwtClaims(t, body["access_token"])
	}
	first := h.exchange(f, cfg)
	id1, at1 := tokensOf(first)
	for name, claims := range map[string]map[string]any{"ID token": id1, "access token": at1} {
		for _, claim := range []string{"jti", "origin_jti", "event_id"} {
			if s, _ := claims[claim].(string); s == "" {
				t.Errorf("the %s has no %s: %v", name, claim, claims)
			}
		}
		for _, claim := range []string{"origin_jti", "event_id"} {
			if s, _ := claims[claim].(string); !uuid.MatchString(s) {
				t.Errorf("the %s's %s %q is not a UUID", name, claim, s)
			}
		}
	}
	if id1["origin_jti"] != at1["origin_jti"] || id1["event_id"] != at1["event_id"] || id1["jti"] == at1["jti"] {
		t.Errorf("ID token %v/%v/%v, access token %v/%v/%v: want one origin_jti and event_id, two jti",
			id1["jti"], id1["origin_jti"], id1["event_id"], at1["jti"], at1["origin_jti"], at1["event_id"])
	}

	next, status := h.refresh(f, first["refresh_token"], "")
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, next)
	}
	id2, at2 := jwtClaims(t, next["id_token"].(string)), jwtClaims(t, next["access_token"].(string))
	for name, claims := range map[string]map[string]any{"refreshed ID token": id2, "refreshed access token": at2} {
		if claims["origin_jti"] != id1["origin_jti"] || claims["event_id"] != id1["event_id"] {
			t.Errorf("the %s has origin_jti %v and event_id %v; the sign-in's are %v and %v", name,
				claims["origin_jti"], claims["event_id"], id1["origin_jti"], id1["event_id"])
		}
	}
	if id2["jti"] == id1["jti"] || at2["jti"] == at1["jti"] {
		t.Error("a refreshed token repeats a jti")
	}

	id3, at3 := tokensOf(h.exchange(f, cfg)) // the next sign-in
	if id3["origin_jti"] == id1["origin_jti"] || id3["event_id"] == id1["event_id"] || at3["event_id"] == at1["event_id"] {
		t.Errorf("another sign-in has origin_jti %v and event_id %v, as the first had", id3["origin_jti"], id3["event_id"])
	}
}
