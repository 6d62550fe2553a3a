package tenant_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/bolt"
	bbolt "go.etcd.io/bbolt"
)

// Legacy pool secrets of the tests: distinctive, to be searched for in the
// data file.
const (
	sealTestClientSecret = "CLIENT-SECRET-4f1c9b7e2a"
	sealTestAdminSecret  = "ADMIN-SECRET-8d3e6a0b5c"
)

func sealTestPool() tenant.LegacyPool {
	return tenant.LegacyPool{Kind: tenant.LegacyCognito, UserPoolID: "eu-west-1_AbC123", ClientID: "client1",
		ClientSecret: sealTestClientSecret, Admin: tenant.AWSKeys{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: sealTestAdminSecret}}
}

// testSealer is a real sealer whose key is n repeated; previous keys open.
func testSealer(t *testing.T, n byte, previous ...byte) *mfa.Sealer {
	t.Helper()
	var prev [][]byte
	for _, p := range previous {
		prev = append(prev, bytes.Repeat([]byte{p}, mfa.KeySize))
	}
	s, err := mfa.NewSealer(bytes.Repeat([]byte{n}, mfa.KeySize), prev...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sealedService is a service on a bbolt file in t.TempDir() whose signing
// keys and legacy secrets are sealed by keys and legacy (nil: in clear).
func sealedService(t *testing.T, keys, legacy tenant.Sealer) (*tenant.Service, string) {
	t.Helper()
	svc, _ := newService(t)
	path := filepath.Join(t.TempDir(), "sealed.db")
	store, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc.Store, svc.KeySealer, svc.LegacySealer = store, keys, legacy
	return svc, path
}

// withSealers is svc over the same store with other sealers, as after a
// restart with another server key configured.
func withSealers(svc *tenant.Service, keys, legacy tenant.Sealer) *tenant.Service {
	again := *svc
	again.KeySealer, again.LegacySealer = keys, legacy
	return &again
}

func storedKeys(t *testing.T, svc *tenant.Service, slug string) []tenant.SigningKey {
	t.Helper()
	var keys []tenant.SigningKey
	err := svc.Store.View(context.Background(), func(tx tenant.Tx) (err error) {
		keys, err = tenant.SigningKeys(tx, slug)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func storedTenant(t *testing.T, svc *tenant.Service, slug string) tenant.Tenant {
	t.Helper()
	var tn tenant.Tenant
	err := svc.Store.View(context.Background(), func(tx tenant.Tx) (err error) {
		tn, err = tenant.GetTenant(tx, slug)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// With sealers, neither a signing key (raw or as JSON's base64) nor a legacy
// secret is anywhere in the data file; without, they are: the search finds
// what it looks for. The keys still open and parse.
func TestSecretsNotInDataFile(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sealer    tenant.Sealer
		wantClear bool
	}{
		{"without sealer, as before", nil, true},
		{"with sealer", testSealer(t, 1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			svc, path := sealedService(t, tc.sealer, tc.sealer)
			for _, alg := range []string{"RS256", "ES256"} {
				slug := "t-" + strings.ToLower(alg)
				if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: slug, Settings: tenant.Settings{SigningAlg: alg, Legacy: sealTestPool()}}); err != nil {
					t.Fatal(err)
				}
				if _, err := svc.RotateSigningKey(ctx, slug, tenant.KeyRotation{Overlap: time.Hour}); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, slug := range []string{"t-rs256", "t-es256"} {
				keys := storedKeys(t, svc, slug)
				if len(keys) != 2 {
					t.Fatalf("%s: %d keys", slug, len(keys))
				}
				for _, k := range keys {
					der, err := tenant.OpenSigningKey(tc.sealer, slug, k)
					if err != nil {
						t.Fatal(err)
					}
					inFile := bytes.Contains(data, der) || bytes.Contains(data, []byte(base64.StdEncoding.EncodeToString(der)))
					if inFile != tc.wantClear || (k.SealedPrivate == "") != tc.wantClear {
						t.Errorf("%s key %s: in the file in clear %t, sealed %t", slug, k.ID, inFile, k.SealedPrivate != "")
					}
				}
			}
			for _, secret := range []string{sealTestClientSecret, sealTestAdminSecret} {
				if bytes.Contains(data, []byte(secret)) != tc.wantClear {
					t.Errorf("%s in the file in clear: %t", secret, !tc.wantClear)
				}
			}
		})
	}
}

// A sealed value copied to another tenant's record, or to another key ID,
// does not open: the associated data names tenant and key (or field).
func TestSealedSecretsBoundToTheirRecord(t *testing.T) {
	ctx := context.Background()
	sealer := testSealer(t, 1)
	svc, _ := sealedService(t, sealer, sealer)
	for _, slug := range []string{"acme", "globex"} {
		if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: slug, Settings: tenant.Settings{Legacy: sealTestPool()}}); err != nil {
			t.Fatal(err)
		}
	}
	acmeKey := storedKeys(t, svc, "acme")[0]
	// acme's key, stored in globex's keys as an attacker with write access
	// to the file would, under its own ID and under a globex key's ID.
	globexKey := storedKeys(t, svc, "globex")[0]
	renamed := acmeKey
	renamed.ID = globexKey.ID
	err := svc.Store.Update(ctx, func(tx tenant.Tx) error {
		if err := tenant.PutJSON(tx, tenant.CollKeys, "globex", acmeKey.ID, acmeKey); err != nil {
			return err
		}
		return tenant.PutJSON(tx, tenant.CollKeys, "globex", renamed.ID, renamed)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range storedKeys(t, svc, "globex") {
		_, err := tenant.OpenSigningKey(sealer, "globex", k)
		if !errors.Is(err, mfa.ErrSealedInvalid) || !strings.Contains(err.Error(), `tenant "globex"`) {
			t.Errorf("acme's key as globex's %s: %v", k.ID, err)
		}
	}
	if _, err := tenant.OpenSigningKey(sealer, "acme", acmeKey); err != nil {
		t.Errorf("in its own place: %v", err)
	}

	acmePool := storedTenant(t, svc, "acme").Settings.Legacy
	if _, err := tenant.OpenLegacyPool(sealer, "globex", acmePool); !errors.Is(err, mfa.ErrSealedInvalid) {
		t.Errorf("acme's legacy pool as globex's: %v", err)
	}
	swapped := acmePool
	swapped.ClientSecret = acmePool.Admin.SecretAccessKey
	if _, err := tenant.OpenLegacyPool(sealer, "acme", swapped); !errors.Is(err, mfa.ErrSealedInvalid) {
		t.Errorf("the admin secret as the client secret: %v", err)
	}
	if p, err := tenant.OpenLegacyPool(sealer, "acme", acmePool); err != nil || p.ClientSecret != sealTestClientSecret || p.SecretsSealed {
		t.Errorf("in its own place: %v", err)
	}
}

// A data file written before sealing holds signing keys and legacy secrets
// in clear. They are read as they are; the start-up pass seals them once,
// and the records then hold only sealed values that open to the same.
func TestSealStoredSecretsOfOlderFile(t *testing.T) {
	ctx := context.Background()
	old, _ := sealedService(t, nil, nil) // a version without sealing
	if _, err := old.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Settings: tenant.Settings{Legacy: sealTestPool()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := old.CreateTenant(ctx, tenant.NewTenant{Slug: "globex"}); err != nil {
		t.Fatal(err)
	}
	clearKeys := map[string][]byte{}
	for _, slug := range []string{"acme", "globex"} {
		k := storedKeys(t, old, slug)[0]
		if len(k.PrivateDER) == 0 || k.SealedPrivate != "" {
			t.Fatalf("the old version's key is not in clear")
		}
		clearKeys[slug] = k.PrivateDER
	}

	keySealer, legacySealer := testSealer(t, 1), testSealer(t, 2)
	svc := withSealers(old, keySealer, legacySealer)
	// Before the pass: read as they are.
	if der, err := tenant.OpenSigningKey(keySealer, "acme", storedKeys(t, svc, "acme")[0]); err != nil || !bytes.Equal(der, clearKeys["acme"]) {
		t.Fatalf("clear key: %v", err)
	}
	if p, err := tenant.OpenLegacyPool(legacySealer, "acme", storedTenant(t, svc, "acme").Settings.Legacy); err != nil || p.ClientSecret != sealTestClientSecret {
		t.Fatalf("clear pool: %v", err)
	}

	report, err := svc.SealStoredSecrets(ctx)
	if err != nil || report.Unopened != nil || report.SigningKeys != 2 || report.LegacyPools != 1 {
		t.Fatalf("first pass: %+v, %v", report, err)
	}
	for slug, want := range clearKeys {
		k := storedKeys(t, svc, slug)[0]
		der, err := tenant.OpenSigningKey(keySealer, slug, k)
		if len(k.PrivateDER) != 0 || k.SealedPrivate == "" || err != nil || !bytes.Equal(der, want) {
			t.Errorf("%s after the pass: clear %d bytes, %v", slug, len(k.PrivateDER), err)
		}
	}
	var raw []byte
	err = svc.Store.View(ctx, func(tx tenant.Tx) (err error) {
		raw, err = tx.Get(tenant.CollTenants, "", "acme")
		return err
	})
	if err != nil || bytes.Contains(raw, []byte(sealTestClientSecret)) || bytes.Contains(raw, []byte(sealTestAdminSecret)) {
		t.Errorf("the tenant's record still holds a secret in clear (%v)", err)
	}
	// Only the secrets changed: the record keeps what it had.
	if tn := storedTenant(t, svc, "acme"); tn.Settings.Legacy.UserPoolID != "eu-west-1_AbC123" || tn.Settings.Legacy.Admin.AccessKeyID != "AKIAEXAMPLE" {
		t.Errorf("pool after the pass: %+v", tn.Settings.Legacy.LogValue())
	}

	// With nothing left to seal, a pass (every later start-up) commits
	// nothing: the file's last transaction stays the same.
	before := lastTxID(t, svc)
	if report, err := svc.SealStoredSecrets(ctx); err != nil || report != (tenant.SealReport{}) {
		t.Errorf("second pass: %+v, %v", report, err)
	}
	if after := lastTxID(t, svc); after != before {
		t.Errorf("second pass committed: transaction %d, then %d", before, after)
	}
}

// lastTxID is the ID of the last transaction committed to svc's bbolt file.
func lastTxID(t *testing.T, svc *tenant.Service) int {
	t.Helper()
	var id int
	if err := svc.Store.(*bolt.Store).DB().View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

// Rotating the server key: what the previous key sealed opens while it is
// configured; the start-up pass, or the next write, seals it again under the
// current key; after that the previous key can go.
func TestSealRotation(t *testing.T) {
	ctx := context.Background()
	before, _ := sealedService(t, testSealer(t, 1), testSealer(t, 2))
	for _, slug := range []string{"acme", "globex"} {
		if _, err := before.CreateTenant(ctx, tenant.NewTenant{Slug: slug, Settings: tenant.Settings{Legacy: sealTestPool()}}); err != nil {
			t.Fatal(err)
		}
	}
	oldKeyDER, err := tenant.OpenSigningKey(before.KeySealer, "acme", storedKeys(t, before, "acme")[0])
	if err != nil {
		t.Fatal(err)
	}

	during := withSealers(before, testSealer(t, 3, 1), testSealer(t, 4, 2))
	if der, err := tenant.OpenSigningKey(during.KeySealer, "acme", storedKeys(t, during, "acme")[0]); err != nil || !bytes.Equal(der, oldKeyDER) {
		t.Fatalf("a key of the previous server key: %v", err)
	}
	// On the next write: a rename of acme seals its pool again, and a
	// signing key rotation the keys it writes.
	name := "Acme BV"
	if _, err := during.UpdateTenant(ctx, "acme", tenant.TenantChange{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := during.RotateSigningKey(ctx, "acme", tenant.KeyRotation{}); err != nil {
		t.Fatal(err)
	}
	after := withSealers(before, testSealer(t, 3), testSealer(t, 4))
	if p, err := tenant.OpenLegacyPool(after.LegacySealer, "acme", storedTenant(t, after, "acme").Settings.Legacy); err != nil || p.ClientSecret != sealTestClientSecret {
		t.Errorf("acme's pool after a rename: %v", err)
	}
	for _, k := range storedKeys(t, after, "acme") {
		if _, err := tenant.OpenSigningKey(after.KeySealer, "acme", k); err != nil {
			t.Errorf("acme's key %s after a key rotation: %v", k.ID, err)
		}
	}
	// globex was not written: the start-up pass moves it.
	if _, err := tenant.OpenSigningKey(after.KeySealer, "globex", storedKeys(t, after, "globex")[0]); !errors.Is(err, mfa.ErrSealKeyUnknown) {
		t.Fatalf("globex before the pass: %v", err)
	}
	report, err := during.SealStoredSecrets(ctx)
	if err != nil || report.Unopened != nil || report.SigningKeys != 1 || report.LegacyPools != 1 {
		t.Fatalf("pass: %+v, %v", report, err)
	}
	if der, err := tenant.OpenSigningKey(after.KeySealer, "globex", storedKeys(t, after, "globex")[0]); err != nil || len(der) == 0 {
		t.Errorf("globex's key after the pass: %v", err)
	}
	if p, err := tenant.OpenLegacyPool(after.LegacySealer, "globex", storedTenant(t, after, "globex").Settings.Legacy); err != nil || p.Admin.SecretAccessKey != sealTestAdminSecret {
		t.Errorf("globex's pool after the pass: %v", err)
	}
}

// Another server key than the data file was written with: every attempt to
// open says which tenant and key, nothing panics, and nothing is used or
// overwritten in its place. The tenant's other settings can still change,
// and its legacy secrets can be set anew.
func TestWrongServerKey(t *testing.T) {
	ctx := context.Background()
	right, _ := sealedService(t, testSealer(t, 1), testSealer(t, 2))
	if _, err := right.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Settings: tenant.Settings{Legacy: sealTestPool()}}); err != nil {
		t.Fatal(err)
	}
	storedKey := storedKeys(t, right, "acme")[0]
	storedPool := storedTenant(t, right, "acme").Settings.Legacy

	wrong := withSealers(right, testSealer(t, 5), testSealer(t, 6))
	_, err := tenant.OpenSigningKey(wrong.KeySealer, "acme", storedKey)
	if !errors.Is(err, mfa.ErrSealKeyUnknown) || !strings.Contains(err.Error(), `tenant "acme"`) || !strings.Contains(err.Error(), storedKey.ID) {
		t.Errorf("signing key: %v", err)
	}
	if _, err := tenant.OpenSigningKey(nil, "acme", storedKey); !errors.Is(err, tenant.ErrSealerMissing) {
		t.Errorf("signing key without sealer: %v", err)
	}
	if _, err := tenant.OpenLegacyPool(wrong.LegacySealer, "acme", storedPool); !errors.Is(err, mfa.ErrSealKeyUnknown) || !strings.Contains(err.Error(), `tenant "acme"`) {
		t.Errorf("legacy pool: %v", err)
	}

	report, err := wrong.SealStoredSecrets(ctx)
	if err != nil || report.SigningKeys != 0 || report.LegacyPools != 0 || report.Unopened == nil ||
		!strings.Contains(report.Unopened.Error(), `tenant "acme"`) || strings.Contains(report.Unopened.Error(), sealTestClientSecret) {
		t.Errorf("pass: %+v, %v", report, err)
	}
	if k := storedKeys(t, wrong, "acme")[0]; k.SealedPrivate != storedKey.SealedPrivate {
		t.Error("the pass overwrote a key it could not open")
	}

	name := "Acme BV"
	if _, err := wrong.UpdateTenant(ctx, "acme", tenant.TenantChange{Name: &name}); err != nil {
		t.Errorf("rename: %v", err)
	}
	if p := storedTenant(t, wrong, "acme").Settings.Legacy; p != storedPool {
		t.Error("a rename changed secrets it could not open")
	}
	keep := &tenant.LegacyPoolChange{Pool: tenant.LegacyPool{Kind: tenant.LegacyCognito, UserPoolID: "eu-west-1_AbC123", ClientID: "client2",
		Admin: tenant.AWSKeys{AccessKeyID: "AKIAEXAMPLE"}}, KeepClientSecret: true, KeepAdminSecret: true}
	if _, err := wrong.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Legacy: keep}}); !errors.Is(err, mfa.ErrSealKeyUnknown) {
		t.Errorf("keeping secrets that do not open: %v", err)
	}
	// Removing the pool, as the admin API sends it (every secret kept),
	// needs nothing opened and removes the secrets with it.
	remove := &tenant.LegacyPoolChange{KeepClientSecret: true, KeepAdminSecret: true, KeepWebhookSecret: true}
	if _, err := wrong.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Legacy: remove}}); err != nil {
		t.Errorf("removing the pool: %v", err)
	}
	if p := storedTenant(t, wrong, "acme").Settings.Legacy; p != (tenant.LegacyPool{}) {
		t.Error("the removed pool left its secrets behind")
	}
	anew := &tenant.LegacyPoolChange{Pool: sealTestPool()}
	if _, err := wrong.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Legacy: anew}}); err != nil {
		t.Errorf("setting the secrets anew: %v", err)
	}
	if p, err := tenant.OpenLegacyPool(wrong.LegacySealer, "acme", storedTenant(t, wrong, "acme").Settings.Legacy); err != nil || p.ClientSecret != sealTestClientSecret {
		t.Errorf("the secrets set anew: %v", err)
	}
}

// The admin API and console send a pool back with its secrets kept (they
// never see them): the kept secrets are the ones stored, sealed again. The
// tenant they read holds a value where a secret is set, which they mask, and
// the audit trail lists the legacy pool as changed only when it did.
func TestUpdateTenantKeepsSealedSecrets(t *testing.T) {
	ctx := context.Background()
	sealer := testSealer(t, 1)
	svc, path := sealedService(t, sealer, sealer)
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Settings: tenant.Settings{Legacy: sealTestPool()}}); err != nil {
		t.Fatal(err)
	}
	change := &tenant.LegacyPoolChange{Pool: tenant.LegacyPool{Kind: tenant.LegacyCognito, UserPoolID: "eu-west-1_AbC123", ClientID: "client2",
		Admin: tenant.AWSKeys{AccessKeyID: "AKIAEXAMPLE"}}, KeepClientSecret: true, KeepAdminSecret: true}
	tn, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Legacy: change}})
	if err != nil {
		t.Fatal(err)
	}
	if l := tn.Settings.Legacy; l.ClientSecret == "" || l.ClientSecret == sealTestClientSecret || l.Admin.SecretAccessKey == "" {
		t.Errorf("the tenant returned does not hold sealed secrets")
	}
	p, err := tenant.OpenLegacyPool(sealer, "acme", storedTenant(t, svc, "acme").Settings.Legacy)
	if err != nil || p.ClientID != "client2" || p.ClientSecret != sealTestClientSecret || p.Admin.SecretAccessKey != sealTestAdminSecret {
		t.Errorf("kept secrets: %v", err)
	}
	name := "Acme BV"
	if _, err := svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Name: &name}); err != nil {
		t.Fatal(err)
	}
	events, err := svc.AuditLog(ctx, "acme", tenant.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, ev := range events.Events {
		if ev.Action == tenant.AuditTenantUpdate {
			fields = append(fields, ev.Details["fields"])
		}
	}
	if strings.Join(fields, " ") != "name legacy" && strings.Join(fields, " ") != "legacy name" {
		t.Errorf("audited changes %q, want legacy then name", fields)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(sealTestClientSecret)) || bytes.Contains(data, []byte(sealTestAdminSecret)) {
		t.Error("a kept secret is in the data file in clear")
	}
}

// A version from before sealing, changing a tenant, rewrites its record
// without the secrets_sealed it does not know and keeps the sealed values
// (or sets a new secret, in clear). The start-up pass opens what is sealed
// rather than seal it a second time, and says so in its report; a secret
// sealed twice by the pass of a version before that check is sealed once
// again. Afterwards the pool opens to its own secrets, and a second pass
// has nothing to do.
func TestSealStoredSecretsAfterRollback(t *testing.T) {
	const newClientSecret = "CLIENT-SECRET-set-by-the-old-version"
	for _, tc := range []struct {
		name string
		// previous is the server key before the one the pass runs with;
		// 0 for none.
		previous byte
		// rollback changes the stored pool as the other version left it.
		rollback   func(t *testing.T, s tenant.Sealer, p *tenant.LegacyPool)
		wantClient string
	}{
		{
			name:       "flag dropped",
			rollback:   func(t *testing.T, s tenant.Sealer, p *tenant.LegacyPool) { p.SecretsSealed = false },
			wantClient: sealTestClientSecret,
		},
		{
			name: "flag dropped, a new secret in clear",
			rollback: func(t *testing.T, s tenant.Sealer, p *tenant.LegacyPool) {
				p.SecretsSealed, p.ClientSecret = false, newClientSecret
			},
			wantClient: newClientSecret,
		},
		{
			name:       "flag dropped, sealed under the previous server key",
			previous:   2,
			rollback:   func(t *testing.T, s tenant.Sealer, p *tenant.LegacyPool) { p.SecretsSealed = false },
			wantClient: sealTestClientSecret,
		},
		{
			name:       "sealed twice",
			rollback:   sealAgain(1),
			wantClient: sealTestClientSecret,
		},
		{
			name:       "sealed three times, after two rollbacks",
			rollback:   sealAgain(2),
			wantClient: sealTestClientSecret,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			before := testSealer(t, 2)
			svc, _ := sealedService(t, testSealer(t, 1), before)
			if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Settings: tenant.Settings{Legacy: sealTestPool()}}); err != nil {
				t.Fatal(err)
			}
			err := svc.Store.Update(ctx, func(tx tenant.Tx) error {
				tn, err := tenant.GetJSON[tenant.Tenant](tx, tenant.CollTenants, "", "acme")
				if err != nil {
					return err
				}
				tc.rollback(t, before, &tn.Settings.Legacy)
				return tenant.PutTenant(tx, tn)
			})
			if err != nil {
				t.Fatal(err)
			}

			current := before
			if tc.previous != 0 {
				current = testSealer(t, 3, tc.previous)
			}
			svc = withSealers(svc, svc.KeySealer, current)
			report, err := svc.SealStoredSecrets(ctx)
			if err != nil || report.Unopened != nil || report.LegacyPoolsAlreadySealed != 1 || report.LegacyPools != 0 {
				t.Errorf("pass: %+v, %v; want one pool already sealed", report, err)
			}
			stored := storedTenant(t, svc, "acme").Settings.Legacy
			if !stored.SecretsSealed || current.NeedsReseal(stored.ClientSecret) || current.NeedsReseal(stored.Admin.SecretAccessKey) {
				t.Errorf("stored after the pass: marked sealed %v, client secret %.12s…", stored.SecretsSealed, stored.ClientSecret)
			}
			p, err := tenant.OpenLegacyPool(current, "acme", stored)
			if err != nil || p.ClientSecret != tc.wantClient || p.Admin.SecretAccessKey != sealTestAdminSecret {
				t.Errorf("pool after the pass opens to client secret %.16q, admin secret %.16q (%v); want %q and %q",
					p.ClientSecret, p.Admin.SecretAccessKey, err, tc.wantClient, sealTestAdminSecret)
			}
			if report, err := svc.SealStoredSecrets(ctx); err != nil || report != (tenant.SealReport{}) {
				t.Errorf("second pass: %+v, %v", report, err)
			}
		})
	}
}

// sealAgain seals the sealed secrets of a pool times more, as the start-up
// pass of versions before TestSealStoredSecretsAfterRollback's fix did
// after each rollback.
func sealAgain(times int) func(t *testing.T, s tenant.Sealer, p *tenant.LegacyPool) {
	return func(t *testing.T, s tenant.Sealer, p *tenant.LegacyPool) {
		for field, secret := range map[string]*string{"client_secret": &p.ClientSecret, "secret_access_key": &p.Admin.SecretAccessKey} {
			for range times {
				again, err := s.Seal([]byte(*secret), tenant.LegacySecretAD("acme", field))
				if err != nil {
					t.Fatal(err)
				}
				*secret = again
			}
		}
	}
}
