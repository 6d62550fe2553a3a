package provider_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// A password sign-in's records (its SSO session, audit event and last
// sign-in) are queued rather than committed on their own (tenant.Store.Later),
// but they must be on disk by the time the sign-in's code has been exchanged
// for tokens. A copy of the data file taken right after the exchange, as a
// crash would leave it, holds the session, the audit event and the tokens.
func TestExchangedSignInIsOnDisk(t *testing.T) {
	for _, noRefresh := range []bool{false, true} {
		t.Run(fmt.Sprintf("refresh token %t", !noRefresh), func(t *testing.T) { exchangedSignInIsOnDisk(t, noRefresh) })
	}
}

// exchangedSignInIsOnDisk checks it for a client with the refresh_token
// grant or without it (whose exchange writes only an access token).
func exchangedSignInIsOnDisk(t *testing.T, noRefresh bool) {
	h := newHarness(t)
	h.machine.Audit = tenant.RecordAudit
	f := h.fixtureWith(fixtureOptions{slug: "acme", noRefresh: noRefresh})
	cfg := h.oauthConfig(f)
	verifier := oauth2.GenerateVerifier()
	code := h.login(f, cfg, verifier)
	if _, err := cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange: %v", err)
	}

	raw, err := os.ReadFile(h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "after-crash.db")
	if err := os.WriteFile(copyPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	var sessionToken string
	for _, c := range h.http.Jar.Cookies(mustURL(h.issuer("acme"))) {
		if c.Name == "cognate_session" {
			sessionToken = c.Value
		}
	}
	if sessionToken == "" {
		t.Fatal("the sign-in set no session cookie")
	}
	var refreshRecords, accessRecords int
	err = store.View(context.Background(), func(tx tenant.Tx) error {
		if _, err := tenant.SessionByToken(tx, "acme", sessionToken); err != nil {
			t.Errorf("session after the exchange: %v", err)
		}
		u, err := tenant.GetUser(tx, "acme", f.user.Sub)
		if err != nil || u.LastSignInAt.IsZero() {
			t.Errorf("user after the exchange: last sign-in %v, %v; want it set", u.LastSignInAt, err)
		}
		if err := tx.Scan(tenant.CollAccessTokens, "acme", "", "", func(string, []byte) bool { accessRecords++; return true }); err != nil {
			return err
		}
		return tx.Scan(tenant.CollRefreshTokens, "acme", "", "", func(string, []byte) bool { refreshRecords++; return true })
	})
	if err != nil {
		t.Fatal(err)
	}
	if accessRecords == 0 || (refreshRecords == 0) != noRefresh {
		t.Errorf("after the exchange: %d access token and %d refresh token records", accessRecords, refreshRecords)
	}
	svc := &tenant.Service{Store: store}
	page, err := svc.AuditLog(context.Background(), "acme", tenant.AuditQuery{Action: string(tenant.AuditSignIn)})
	if err != nil || len(page.Events) != 1 || page.Events[0].Target.ID != f.user.Sub {
		t.Errorf("sign-in audit events after the exchange: %+v, %v; want the one of %s", page.Events, err, f.user.Username)
	}
}
