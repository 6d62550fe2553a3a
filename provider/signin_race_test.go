package provider_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/tenant"
)

// laterStore is the real store with one seam: the function set with arm
// runs once, right before the next write is queued with Later. It stands
// for a request that commits after a sign-in's last read of its user and
// before the commit of the sign-in's records.
type laterStore struct {
	tenant.Store
	mu          sync.Mutex
	beforeLater func()
}

func (s *laterStore) arm(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeLater = f
}

func (s *laterStore) Later(write func(tx tenant.Tx) error, failed func(error)) {
	s.mu.Lock()
	f := s.beforeLater
	s.beforeLater = nil
	s.mu.Unlock()
	if f != nil {
		f()
	}
	s.Store.Later(write, failed)
}

// A deactivation or a new password set by an administrator ends the
// user's sessions and tokens, and with them a sign-in under way or not yet
// exchanged for tokens: its code is refused (invalid_grant), so no token
// family is made that the revocation could not see, and its session does
// not answer the browser. Before, a sign-in that had read the user before
// the change started its session after it, and a code exchanged after the
// change gave working tokens.
func TestChangeEndsSignInUnderWay(t *testing.T) {
	changes := map[string]func(h *harness, f fixture) error{
		"password set": func(h *harness, f fixture) error {
			return h.svc.SetPassword(context.Background(), f.slug, f.user.Sub, "Another-Horse-7", true)
		},
		"deactivated": func(h *harness, f fixture) error {
			off := false
			_, err := h.svc.UpdateUser(context.Background(), f.slug, f.user.Sub, tenant.UserChange{Enabled: &off})
			return err
		},
	}
	for name, change := range changes {
		for _, when := range []string{"before the sign-in commits", "before the code is exchanged"} {
			t.Run(name+" "+when, func(t *testing.T) {
				var store *laterStore
				h := newHarnessOver(t, "http", func(real tenant.Store, _ string) tenant.Store {
					store = &laterStore{Store: real}
					return store
				})
				f := h.fixture("acme", false)
				cfg := h.oauthConfig(f)
				changeNow := func() {
					if err := change(h, f); err != nil {
						t.Errorf("change: %v", err)
					}
				}
				verifier := oauth2.GenerateVerifier()
				if when == "before the sign-in commits" {
					store.arm(changeNow)
				}
				code := h.login(f, cfg, verifier)
				if when == "before the code is exchanged" {
					// The sign-in's records are committed, its session
					// started; the change ends it.
					if err := h.svc.Store.Flush(context.Background()); err != nil {
						t.Fatal(err)
					}
					changeNow()
				}

				_, err := cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
					t.Fatalf("exchange after the change: %v; want invalid_grant", err)
				}
				if logs := h.logs.String(); !strings.Contains(logs, "its sign-in has ended") && !strings.Contains(logs, "the user is disabled") {
					t.Errorf("no log line says why the code was refused:\n%s", h.logs.String())
				}
				var token string
				for _, c := range h.http.Jar.Cookies(mustURL(h.issuer("acme"))) {
					if c.Name == "cognate_session" {
						token = c.Value
					}
				}
				err = h.svc.Store.View(context.Background(), func(tx tenant.Tx) error {
					_, err := tenant.SessionByToken(tx, "acme", token)
					return err
				})
				if !errors.Is(err, tenant.ErrNotFound) {
					t.Errorf("the sign-in's session after the change: %v; want none", err)
				}
				var families int
				err = h.svc.Store.View(context.Background(), func(tx tenant.Tx) error {
					return tx.Scan(tenant.CollRefreshTokens, "acme", "", "", func(string, []byte) bool { families++; return true })
				})
				if err != nil || families != 0 {
					t.Errorf("refresh-token records after the refused exchange: %d, %v; want none", families, err)
				}
			})
		}
	}
}
