package provider_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
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
		_, ok := h.prov.Session(req, "acme")
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
	req, _ := http.NewRequest(http.MethodGet, h.issuer(f.slug)+"/oauth2/userInfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
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

	// The refresh before this one rotated next; sign in again for a token.
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
