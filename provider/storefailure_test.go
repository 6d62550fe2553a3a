package provider_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
)

// failingStore is a real store whose reads or writes fail, while fail says
// so, as those of a full or broken disk do: with an error that names the
// data file. Writes queued with Later are left alone.
type failingStore struct {
	tenant.Store
	path string

	mu   sync.Mutex
	fail func(write bool, c tenant.Collection) bool // nil: nothing fails
}

func (s *failingStore) setFail(fail func(write bool, c tenant.Collection) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

// failure is the error a read or write of c meets now, or nil.
func (s *failingStore) failure(write bool, c tenant.Collection) error {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	switch {
	case fail == nil || !fail(write, c):
		return nil
	case write:
		return &fs.PathError{Op: "write", Path: s.path, Err: syscall.ENOSPC}
	default:
		return &fs.PathError{Op: "read", Path: s.path, Err: syscall.EIO}
	}
}

// reads is a failingStore's fail that fails the reads of coll.
func reads(coll tenant.Collection) func(write bool, c tenant.Collection) bool {
	return func(write bool, c tenant.Collection) bool { return !write && c == coll }
}

// newFailingHarness is a harness over a failingStore, which it returns.
func newFailingHarness(t *testing.T) (*harness, *failingStore) {
	var store *failingStore
	h := newHarnessOver(t, "http", func(real tenant.Store, dbPath string) tenant.Store {
		store = &failingStore{Store: real, path: dbPath}
		return store
	})
	return h, store
}

// loggedOneError checks that logged is one ERROR line that names the
// store's data file (its error) and says each of says.
func loggedOneError(t *testing.T, logged string, store *failingStore, says ...string) {
	t.Helper()
	if n := strings.Count(logged, "\n"); n != 1 {
		t.Fatalf("the failure logged %d lines, want 1:\n%s", n, logged)
	}
	for _, s := range append([]string{"level=ERROR", store.path}, says...) {
		if !strings.Contains(logged, s) {
			t.Errorf("the line does not say %s:\n%s", s, logged)
		}
	}
}

func (s *failingStore) View(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.View(ctx, func(tx tenant.Tx) error { return fn(failingTx{tx, s}) })
}

func (s *failingStore) Update(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.Update(ctx, func(tx tenant.Tx) error { return fn(failingTx{tx, s}) })
}

func (s *failingStore) Batch(ctx context.Context, fn func(tenant.Tx) error) error {
	return s.Store.Batch(ctx, func(tx tenant.Tx) error { return fn(failingTx{tx, s}) })
}

type failingTx struct {
	tenant.Tx
	s *failingStore
}

func (t failingTx) Get(c tenant.Collection, tenantID, key string) ([]byte, error) {
	if err := t.s.failure(false, c); err != nil {
		return nil, err
	}
	return t.Tx.Get(c, tenantID, key)
}

func (t failingTx) Scan(c tenant.Collection, tenantID, prefix, after string, visit func(string, []byte) bool) error {
	if err := t.s.failure(false, c); err != nil {
		return err
	}
	return t.Tx.Scan(c, tenantID, prefix, after, visit)
}

func (t failingTx) Put(c tenant.Collection, tenantID, key string, value []byte) error {
	if err := t.s.failure(true, c); err != nil {
		return err
	}
	return t.Tx.Put(c, tenantID, key, value)
}

func (t failingTx) Delete(c tenant.Collection, tenantID, key string) error {
	if err := t.s.failure(true, c); err != nil {
		return err
	}
	return t.Tx.Delete(c, tenantID, key)
}

func (t failingTx) DeleteTenant(tenantID string) error {
	if err := t.s.failure(true, ""); err != nil {
		return err
	}
	return t.Tx.DeleteTenant(tenantID)
}

// A store that fails (a full disk) is a failure of the server's: the client
// is told server_error in words that say nothing of the server, not the
// store's error, which names the data file ("write /…/cognate.db: no space
// left on device"); the log has it, in one ERROR line, not in Cognate's and
// again in the library's.
func TestStoreFailureIsServerError(t *testing.T) {
	h, store := newFailingHarness(t)
	// zitadel/oidc logs through slog's default, as in cmd/cognate.
	previous := slog.Default()
	slog.SetDefault(h.logger)
	t.Cleanup(func() { slog.SetDefault(previous) })

	f := h.fixture("acme", false)
	cfg := h.oauthConfig(f)
	codeForm := func() string {
		v := oauth2.GenerateVerifier()
		code := h.login(f, cfg, v)
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}.Encode()
	}
	refreshForm := func() string {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {h.signIn(f, cfg).RefreshToken}}.Encode()
	}
	revokeForm := func() string { return url.Values{"token": {h.signIn(f, cfg).RefreshToken}}.Encode() }
	userinfoForm := func() string { return url.Values{"access_token": {h.signIn(f, cfg).AccessToken}}.Encode() }
	introspectAccessForm := func() string { return url.Values{"token": {h.signIn(f, cfg).AccessToken}}.Encode() }
	introspectRefreshForm := revokeForm // token: a refresh token
	writes := func(write bool, _ tenant.Collection) bool { return write }
	userReads := reads(tenant.CollUsers)

	cases := []struct {
		name string
		path string
		form func() string // sent while nothing fails
		fail func(write bool, c tenant.Collection) bool
		says string // what the log line says failed
	}{
		{"code exchange, writes fail", "/oauth2/token", codeForm, writes, "issue tokens"},
		// The user is read for the claims, after the tokens are stored
		// (storage.grantUser).
		{"code exchange, the user unreadable", "/oauth2/token", codeForm, userReads, "read the user"},
		{"refresh, writes fail", "/oauth2/token", refreshForm, writes, "issue tokens"},
		{"refresh, the refresh token unreadable", "/oauth2/token", refreshForm,
			func(write bool, c tenant.Collection) bool { return !write && c == tenant.CollRefreshTokens }, "read refresh token"},
		// Not invalid_grant, which would make the client drop a good
		// refresh token.
		{"refresh, the user unreadable", "/oauth2/token", refreshForm, userReads, "read the refresh token's user"},
		{"revocation, writes fail", "/oauth2/revoke", revokeForm, writes, "revoke token"},
		// Neither invalid_token nor active false, which would make a
		// resource server drop a good access or refresh token.
		{"userinfo, the access token unreadable", provider.PathUserinfo, userinfoForm, reads(tenant.CollAccessTokens), "read the access token"},
		{"userinfo, its family unreadable", provider.PathUserinfo, userinfoForm, reads(tenant.CollRefreshTokens), "read the access token's family"},
		{"userinfo, the user unreadable", provider.PathUserinfo, userinfoForm, userReads, "read the access token's user"},
		{"introspection, the access token unreadable", provider.PathIntrospect, introspectAccessForm, reads(tenant.CollAccessTokens), "read the access token"},
		{"introspection, the access token's user unreadable", provider.PathIntrospect, introspectAccessForm, userReads, "read the access token's user"},
		{"introspection, the refresh token unreadable", provider.PathIntrospect, introspectRefreshForm, reads(tenant.CollRefreshTokens), "read the refresh token"},
		{"introspection, the refresh token's user unreadable", provider.PathIntrospect, introspectRefreshForm, userReads, "read the refresh token's user"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := tc.form()
			// Let the sign-in's queued records reach the file, so they
			// are not the writes that fail.
			if err := store.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			start := len(h.logs.String())
			store.setFail(tc.fail)
			req, err := http.NewRequest(http.MethodPost, h.issuer(f.slug)+tc.path, strings.NewReader(form))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.path != provider.PathUserinfo { // its access token is in the form
				req.SetBasicAuth(f.client.ID, f.secret)
			}
			resp, err := h.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body strings.Builder
			_, _ = io.Copy(&body, resp.Body)
			resp.Body.Close()
			store.setFail(nil)

			want := `{"error":"server_error","error_description":"the server could not complete the request; try again later"}`
			if resp.StatusCode != http.StatusInternalServerError || strings.TrimSpace(body.String()) != want {
				t.Errorf("answer %d %s\nwant 500 %s", resp.StatusCode, body.String(), want)
			}
			loggedOneError(t, h.logs.String()[start:], store, tc.says, "tenant=acme")
		})
	}
}

// A store that cannot be read reads as no SSO session, which lets the pages
// go on (the person signs in again), but not unsaid: it is logged, in one
// ERROR line. A session that is simply not there logs nothing. ReadSession,
// for the pages that must not go on (the logout confirmation), tells the
// two apart (ErrNoSession) and logs neither.
func TestSessionStoreFailureIsLogged(t *testing.T) {
	h, store := newFailingHarness(t)
	f := h.fixture("acme", false)
	h.signIn(f, h.oauthConfig(f))
	if err := store.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		fail     func(write bool, c tenant.Collection) bool
		cookie   string // replaces the browser's session cookie when set
		signedIn bool
		logged   bool
		gone     bool // the browser gave up on the request
	}{
		{name: "readable", signedIn: true},
		{name: "the session unreadable", fail: reads(tenant.CollSessions), logged: true},
		{name: "the session's user unreadable", fail: reads(tenant.CollUsers), logged: true},
		{name: "no such session", cookie: "not-a-session"},
		{name: "a request the browser gave up on", gone: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reqCtx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.gone {
				cancel()
			}
			req, _ := http.NewRequestWithContext(reqCtx, http.MethodGet, h.issuer(f.slug)+"/", nil)
			for _, c := range h.http.Jar.Cookies(mustURL(h.issuer(f.slug))) {
				if c.Name == "cognate_session" && tc.cookie != "" {
					c.Value = tc.cookie
				}
				req.AddCookie(c)
			}
			start := len(h.logs.String())
			store.setFail(tc.fail)
			_, _, readErr := h.prov.ReadSession(req, f.slug)
			if logged := h.logs.String()[start:]; logged != "" {
				t.Errorf("ReadSession logged:\n%s", logged)
			}
			sess, user, ok := h.prov.Session(req, f.slug)
			store.setFail(nil)
			// Unknown, not none, when the store failed or the request
			// was given up on.
			wantNoSession := !tc.signedIn && !tc.logged && !tc.gone
			if (readErr == nil) != tc.signedIn || errors.Is(readErr, provider.ErrNoSession) != wantNoSession {
				t.Errorf("ReadSession: %v; want signed in %v, no session %v", readErr, tc.signedIn, wantNoSession)
			}
			if ok != tc.signedIn {
				t.Errorf("signed in: %v, want %v", ok, tc.signedIn)
			}
			if ok && (user.Sub != sess.Sub || user.Username == "") {
				t.Errorf("the session of %s comes with user %+v, want its own", sess.Sub, user)
			}
			logged := h.logs.String()[start:]
			if !tc.logged {
				if logged != "" {
					t.Errorf("logged:\n%s", logged)
				}
				return
			}
			loggedOneError(t, logged, store, "read the SSO session", "tenant=acme")
		})
	}
}

// A logout meets a store that fails as it must end the session: the person
// is told they have not been signed out (503), the session and its cookie
// stay, and one ERROR line says why. One that cannot read the session does
// not know whether to ask: it asks (the confirmation page), and logs it.
func TestLogoutStoreFailure(t *testing.T) {
	h, store := newFailingHarness(t)
	f := h.fixture("acme", true)
	cfg := h.oauthConfig(f)
	const refused = "Something went wrong on our side, so you have not been signed out."
	sessionWrites := func(write bool, c tenant.Collection) bool { return write && c == tenant.CollSessions }
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	cases := []struct {
		name     string
		fail     func(write bool, c tenant.Collection) bool
		query    func(hint string) url.Values
		status   int
		location string // with 302
	}{
		{"the hint's logout, the session not deleted", sessionWrites,
			func(hint string) url.Values { return url.Values{"id_token_hint": {hint}} }, http.StatusServiceUnavailable, ""},
		{"Cognito's sign in again, the session not deleted", sessionWrites, func(string) url.Values {
			return url.Values{"client_id": {f.client.ID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
				"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		}, http.StatusServiceUnavailable, ""},
		{"the hint's logout, the session unreadable", reads(tenant.CollSessions),
			func(hint string) url.Values { return url.Values{"id_token_hint": {hint}} }, http.StatusFound, "/logout/confirm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hint := h.signIn(f, cfg).Extra("id_token").(string)
			if err := store.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			start := len(h.logs.String())
			store.setFail(tc.fail)
			resp := h.get(h.issuer("acme") + "/logout?" + tc.query(hint).Encode())
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			store.setFail(nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, body %q; want %d", resp.StatusCode, body, tc.status)
			}
			if tc.location != "" && resp.Header.Get("Location") != tc.location {
				t.Errorf("Location %q, want %q", resp.Header.Get("Location"), tc.location)
			}
			if tc.status == http.StatusServiceUnavailable && !strings.HasPrefix(string(body), refused) {
				t.Errorf("body %q, want %q", body, refused)
			}
			for _, c := range resp.Cookies() {
				if c.Name == "cognate_session" {
					t.Errorf("the session cookie was changed: %v", c)
				}
			}
			if !h.signedIn("acme") {
				t.Error("signed out, though the store kept the session")
			}
			loggedOneError(t, h.logs.String()[start:], store, "tenant=acme")
		})
	}
}
