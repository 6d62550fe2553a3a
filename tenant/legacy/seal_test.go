package legacy_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/legacy"
)

// storedPool is the tenant's legacy pool as the data file holds it.
func (e *env) storedPool(t *testing.T) tenant.LegacyPool {
	t.Helper()
	var tn tenant.Tenant
	err := e.store.View(ctx, func(tx tenant.Tx) (err error) {
		tn, err = tenant.GetTenant(tx, "acme")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn.Settings.Legacy
}

// The webhook secret is stored sealed and opened by the directory for the
// call: the receiver checks the signature made with the secret itself. The
// sealed value opens only for its tenant and with its key, and a pool that
// does not open is never called.
func TestSealedWebhookSecret(t *testing.T) {
	l := newLegacySystem(t)
	l.users["ann"] = legacyUser{password: "Ann-Passw0rd!", final: "CONFIRMED", attrs: map[string]any{"email": "ann@example.com"}}
	e := newEnv(t, webhookPool(l))

	stored := e.storedPool(t)
	if !stored.SecretsSealed || stored.WebhookSecret == webhookSecret || !strings.HasPrefix(stored.WebhookSecret, "v1.") {
		t.Fatalf("stored pool: sealed %t, secret in clear %t", stored.SecretsSealed, stored.WebhookSecret == webhookSecret)
	}
	e.mustSignIn(t, "ann", "Ann-Passw0rd!")
	if l.count() != 1 {
		t.Fatalf("%d webhook calls, want 1", l.count())
	}

	otherKey, err := mfa.NewSealer(bytes.Repeat([]byte{8}, mfa.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		dir      *legacy.Directory
		tenantID string
		want     error
	}{
		{"no sealer", &legacy.Directory{}, "acme", tenant.ErrSealerMissing},
		{"another server key", &legacy.Directory{Sealer: otherKey}, "acme", mfa.ErrSealKeyUnknown},
		{"copied to another tenant", e.dir, "globex", mfa.ErrSealedInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := l.count()
			_, err := tc.dir.Authenticate(ctx, tc.tenantID, stored, "ann", "Ann-Passw0rd!")
			if !errors.Is(err, tenant.ErrLegacyUnavailable) || !errors.Is(err, tc.want) {
				t.Errorf("%v, want ErrLegacyUnavailable and %v", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), `tenant "`+tc.tenantID+`"`) {
				t.Errorf("the error does not name the tenant: %v", err)
			}
			if _, err := tc.dir.Lookup(ctx, tc.tenantID, stored, "ann"); !errors.Is(err, tc.want) {
				t.Errorf("lookup: %v, want %v", err, tc.want)
			}
			if l.count() != calls {
				t.Error("the webhook was called without its secret")
			}
		})
	}
}

// A data file of an older version holds the pool's secrets in clear: they
// keep working, and the start-up pass seals them, after which they still
// work. The secret is no longer in the tenant's record.
func TestClearPoolOfOlderVersion(t *testing.T) {
	l := newLegacySystem(t)
	l.users["ann"] = legacyUser{password: "Ann-Passw0rd!", final: "CONFIRMED", attrs: map[string]any{"email": "ann@example.com"}}
	l.users["bob"] = legacyUser{password: "Bob-Passw0rd!", final: "CONFIRMED", attrs: map[string]any{"email": "bob@example.com"}}
	e := newEnv(t, tenant.LegacyPool{})
	err := e.store.Update(ctx, func(tx tenant.Tx) error {
		tn, err := tenant.GetTenant(tx, "acme")
		if err != nil {
			return err
		}
		tn.Settings.Legacy = webhookPool(l) // as an older version wrote it
		return tenant.PutTenant(tx, tn)
	})
	if err != nil {
		t.Fatal(err)
	}
	e.mustSignIn(t, "ann", "Ann-Passw0rd!")

	report, err := e.svc.SealStoredSecrets(ctx)
	if err != nil || report.Unopened != nil || report.LegacyPools != 1 {
		t.Fatalf("seal: %+v, %v", report, err)
	}
	if p := e.storedPool(t); !p.SecretsSealed || p.WebhookSecret == webhookSecret {
		t.Fatalf("not sealed: %t", p.SecretsSealed)
	}
	var raw []byte
	err = e.store.View(ctx, func(tx tenant.Tx) (err error) {
		raw, err = tx.Get(tenant.CollTenants, "", "acme")
		return err
	})
	if err != nil || bytes.Contains(raw, []byte(webhookSecret)) {
		t.Fatalf("the tenant's record still holds the secret in clear (%v)", err)
	}
	e.mustSignIn(t, "bob", "Bob-Passw0rd!")
	if l.count() != 2 {
		t.Errorf("%d webhook calls, want 2", l.count())
	}
}

// The tenants' data file never holds the webhook secret in clear when it
// was set with a sealer.
func TestWebhookSecretNotInDataFile(t *testing.T) {
	l := newLegacySystem(t)
	e := newEnv(t, webhookPool(l))
	if _, err := e.signIn("nobody", "Passw0rd!"); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Fatalf("sign-in: %v", err)
	}
	path := e.dataFile
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(webhookSecret)) {
		t.Error("the data file holds the webhook secret in clear")
	}
}
