package provider

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// A request that got past the Router's check of its organization, which
// is deleted before the request loads it, is refused as a request a moment
// later would be, and logged as one line at info level: not a failure of
// the server's, with its ERROR line and "try again later".
func TestOrganizationDeletedDuringRequest(t *testing.T) {
	p, svc, cl := newInternal(t, nil)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	p.logger, p.storage.logger = logger, logger
	ctx := WithSite(context.Background(), Site{Slug: "acme"})
	if err := svc.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		request func() error
	}{
		{"storage", func() error {
			_, err := p.storage.GetClientByClientID(ctx, cl.ID)
			return err
		}},
		{"endpoint's own handler", func() error {
			w := httptest.NewRecorder()
			r := httptest.NewRequestWithContext(ctx, http.MethodPost, PathToken, strings.NewReader("grant_type=client_credentials"))
			if _, _, ok := p.requestTenant(w, r, realmToken); ok {
				return errors.New("served")
			}
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"invalid_client"`) {
				return errors.New(w.Body.String())
			}
			return oidc.ErrInvalidClient()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			err := tt.request()
			var refusal *oidc.Error
			if !errors.As(err, &refusal) || refusal.ErrorType != oidc.InvalidClient {
				t.Errorf("answer: %v; want invalid_client", err)
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "level=INFO") || !strings.Contains(lines[0], "does not exist") {
				t.Errorf("logged %q; want one info line", logs.String())
			}
		})
	}
}

// A client that authenticates with HTTP Basic to an organization deleted
// while its request was on the way is answered 401 with the challenge of
// the endpoint it came to: Basic with that endpoint's realm, which RFC
// 7617 §2 requires, as the endpoint's other refusals say it.
func TestOrganizationDeletedDuringRequestChallengesWithTheRealm(t *testing.T) {
	p, svc, cl := newInternal(t, nil)
	ctx := WithSite(context.Background(), Site{Slug: "acme"})
	if err := svc.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, form string
		serve      http.HandlerFunc
		realm      string
	}{
		{PathToken, "grant_type=client_credentials", p.serveToken, realmToken},
		{PathToken, "grant_type=refresh_token&refresh_token=x", p.serveToken, realmToken},
		{PathRevoke, "token=x", p.serveRevoke, realmRevoke},
		{PathIntrospect, "token=x", p.serveIntrospect, realmIntrospect},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.form, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequestWithContext(ctx, http.MethodPost, tt.path, strings.NewReader(tt.form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.SetBasicAuth(cl.ID, "secret")
			tt.serve(w, r)
			want := `Basic realm="` + tt.realm + `"`
			if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != want ||
				!strings.Contains(w.Body.String(), `"invalid_client"`) {
				t.Errorf("answer %d, WWW-Authenticate %q, %s; want 401, %q and invalid_client",
					w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String(), want)
			}
		})
	}
}

// Invalidate is told of a change after it has committed, with the
// change's context: a request whose client has gone away since (its
// context cancelled) must still make the provider forget what it held for
// a tenant it deleted.
func TestInvalidateWithACancelledContextStillForgets(t *testing.T) {
	p, svc, cl := newInternal(t, nil)
	ctx := WithSite(context.Background(), Site{Slug: "acme"})
	st, err := p.cache.get(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ar := &authRequest{ID: "req", ClientID: cl.ID, FamilyID: "fam", ExpiresAt: now.Add(time.Minute)}
	if err := p.storage.pending.addRequest(st.key(), ar, now); err != nil {
		t.Fatal(err)
	}
	svc.Changed = nil // told below, cancelled
	if err := svc.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	p.Invalidate(cancelled, "acme")
	if _, held := p.storage.pending.request(st.key(), "req", now); held {
		t.Error("the deleted tenant's sign-in in progress is still held")
	}
}
