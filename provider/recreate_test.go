package provider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
)

// A tenant deleted and created again under its slug, perhaps for another
// organization, inherits nothing the one before left in memory: not a code
// it issued and nobody redeemed, nor a sign-in page left open, nor a
// sign-in finished whose callback was not visited yet. The console client
// has the same ID in every tenant, and the new tenant's user here has the
// old one's sub (an import keeps subs), so only the tenant's identity
// tells them apart.
func TestRecreatedTenantInheritsNoSignIns(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const pw = "Correct-Horse-9"
	// setUp creates tenant acme with the console client, registered with
	// the harness's redirect URI, and ann, with sub when it is set.
	setUp := func(name, sub string) fixture {
		t.Helper()
		if _, err := h.svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Name: name}); err != nil {
			t.Fatal(err)
		}
		cl, err := h.svc.ConsoleClient(ctx, "acme", redirectURI, "http://rp.localhost/bye")
		if err != nil {
			t.Fatal(err)
		}
		u, err := h.svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", Password: pw, Sub: sub})
		if err != nil {
			t.Fatal(err)
		}
		return fixture{slug: "acme", client: cl, user: u, password: pw}
	}
	old := setUp("Old Org", "")
	cfg := h.oauthConfig(old)
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams // a public client

	// What the old tenant leaves: a code nobody redeemed, a login page
	// left open, and a sign-in whose callback was not visited.
	verifier := oauth2.GenerateVerifier()
	code := h.login(old, cfg, verifier)
	authorize := func() string {
		t.Helper()
		loc := h.location(h.get(cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier))), http.StatusFound)
		return loc.Query().Get("authRequestID")
	}
	openPage := authorize()
	signIn := func(id string) *http.Response {
		t.Helper()
		resp, err := h.http.PostForm(h.issuer("acme")+"/login", url.Values{"authRequestID": {id}, "username": {"ann"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	callback := h.location(signIn(authorize()), http.StatusSeeOther)

	if err := h.svc.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := h.prov.HeldSignIns(); entries != 0 {
		t.Errorf("after the tenant was deleted, %d sign-ins or codes of it are held", entries)
	}
	// The new tenant is another organization, with the same console
	// client and a user with the old one's sub.
	setUp("New Org", old.user.Sub)

	t.Run("the old code", func(t *testing.T) {
		resp, body := h.send(http.MethodPost, cfg.Endpoint.TokenURL, url.Values{"grant_type": {"authorization_code"},
			"code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirectURI}, "client_id": {tenant.ConsoleClientID}}.Encode(), "", "")
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("exchange of the deleted tenant's code: %d %v, want 400 invalid_grant", resp.StatusCode, body)
		}
	})
	t.Run("the old login page", func(t *testing.T) {
		if _, err := h.prov.LoginRequest(ctx, "acme", openPage); !errors.Is(err, provider.ErrUnknownLoginRequest) {
			t.Fatalf("LoginRequest of the deleted tenant's sign-in: %v, want ErrUnknownLoginRequest", err)
		}
		resp := signIn(openPage)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("the old login form, sent: status %d, want 400", resp.StatusCode)
		}
		// A page that signed the person in before it asked (none does)
		// still could not complete the old request.
		w := httptest.NewRecorder()
		r := httptest.NewRequestWithContext(provider.WithSite(ctx, provider.Site{Slug: "acme"}), http.MethodPost, "/login", nil)
		next, err := h.prov.CompleteLogin(w, r, "acme", openPage, tenant.Session{Sub: old.user.Sub, AMR: []string{"pwd"}, AuthTime: time.Now()})
		if !errors.Is(err, provider.ErrUnknownLoginRequest) || next != "" {
			t.Fatalf("CompleteLogin of the deleted tenant's sign-in: %q, %v; want ErrUnknownLoginRequest", next, err)
		}
	})
	t.Run("the old callback", func(t *testing.T) {
		resp := h.get(callback.String())
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("the deleted tenant's callback: status %d to %q, want 400 and a page", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("nobody is signed in", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, h.issuer("acme")+"/", nil)
		for _, c := range h.http.Jar.Cookies(r.URL) {
			r.AddCookie(c)
		}
		if sess, _, ok := h.prov.Session(r, "acme"); ok {
			t.Fatalf("the browser has a session at the new tenant: %+v", sess)
		}
	})
	t.Run("the new tenant's own sign-in", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		tok, err := cfg.Exchange(h.ctx(), h.login(old, cfg, verifier), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if claims := jwtClaims(t, tok.Extra("id_token").(string)); claims["sub"] != old.user.Sub {
			t.Fatalf("ID token sub %v, want %s", claims["sub"], old.user.Sub)
		}
	})
}
