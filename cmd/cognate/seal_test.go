package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

// Each kind of secret has a sealing key of its own, derived from the server
// key: what one seals opens with none of the others, and none is the server
// key itself (which also encrypts authorization codes). Each follows a
// rotation of the server key: what the old key sealed opens while it is
// configured as previous_secret_key, and not once it is gone.
func TestSealersPerPurpose(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	infos := []string{sealKeyInfo, signingKeySealInfo, legacySealInfo}
	ad := []byte("acme")
	for _, info := range infos {
		t.Run(info, func(t *testing.T) {
			sealer, err := derivedSealer(serverSecrets{secretKey: oldKey}, info)
			if err != nil {
				t.Fatal(err)
			}
			sealed, err := sealer.Seal([]byte("secret"), ad)
			if err != nil {
				t.Fatal(err)
			}
			for _, other := range infos {
				if other == info {
					continue
				}
				o, err := derivedSealer(serverSecrets{secretKey: oldKey}, other)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := o.Open(sealed, ad); err == nil {
					t.Errorf("opens with the key of %q", other)
				}
			}
			raw, err := mfa.NewSealer(oldKey)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Open(sealed, ad); err == nil {
				t.Error("opens with the server key itself")
			}
			during, err := derivedSealer(serverSecrets{secretKey: newKey, previousKey: oldKey}, info)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := during.Open(sealed, ad); err != nil || string(got) != "secret" || !during.NeedsReseal(sealed) {
				t.Errorf("during a rotation: %q, %v", got, err)
			}
			after, err := derivedSealer(serverSecrets{secretKey: newKey}, info)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := after.Open(sealed, ad); !errors.Is(err, mfa.ErrSealKeyUnknown) {
				t.Errorf("after the previous key is dropped: %v, want ErrSealKeyUnknown", err)
			}
			if _, err := derivedSealer(serverSecrets{secretKey: oldKey, previousKey: oldKey}, info); err == nil {
				t.Error("the same key as current and previous was accepted")
			}
		})
	}
}

// sealTestConfig is a production-like configuration (not dev mode) on a data
// file in dir, with the server key made of key.
func sealTestConfig(t *testing.T, dir string, key byte, previous ...byte) Config {
	t.Helper()
	args := []string{"--data", filepath.Join(dir, "cognate.db"), "--base-url", "https://id.example.com",
		"--admin-token", strings.Repeat("operator-token-", 3),
		"--secret-key", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{key}, 32))}
	for _, p := range previous {
		args = append(args, "--previous-secret-key", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{p}, 32)))
	}
	cfg, err := LoadConfig(args, nil, io.Discard)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// start is what runServe does before it listens: the app as buildApp wires
// it, and the start-up pass, whose log it returns.
func startForSealTest(t *testing.T, cfg Config) (*app, string) {
	t.Helper()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	store, err := bolt.Open(cfg.Data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	secrets, err := loadSecrets(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	a, err := buildApp(cfg, store, secrets, logger, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := sealStoredSecrets(context.Background(), a.service, logger); err != nil {
		t.Fatal(err)
	}
	return a, logs.String()
}

// A data file of a version before sealing: the first start seals its
// signing keys and legacy secrets, and a start with the wrong server key
// names the tenant whose secrets do not open, and still starts.
func TestStartUpSealPass(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := sealTestConfig(t, dir, 1)
	webhookSecret := "WEBHOOK-SECRET-0123456789abcdef"

	// The older version: no sealers.
	store, err := bolt.Open(cfg.Data)
	if err != nil {
		t.Fatal(err)
	}
	old := &tenant.Service{Store: store, Now: time.Now}
	_, err = old.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Settings: tenant.Settings{Legacy: tenant.LegacyPool{
		Kind: tenant.LegacyWebhook, WebhookURL: "https://legacy.example.com/migrate", WebhookSecret: webhookSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	var clearDER []byte
	err = store.View(ctx, func(tx tenant.Tx) error {
		keys, err := tenant.SigningKeys(tx, "acme")
		if len(keys) == 1 {
			clearDER = keys[0].PrivateDER
		}
		return err
	})
	if err != nil || len(clearDER) == 0 {
		t.Fatalf("the old version's key: %v", err)
	}
	store.Close()

	a, log := startForSealTest(t, cfg)
	if !strings.Contains(log, "sealed secrets at rest") || !strings.Contains(log, "signing_keys=1") || !strings.Contains(log, "legacy_pools=1") {
		t.Errorf("first start's log:\n%s", log)
	}
	if strings.Contains(log, webhookSecret) || strings.Contains(log, base64.StdEncoding.EncodeToString(clearDER)) {
		t.Error("the log shows a secret")
	}
	var records [][]byte
	err = a.service.Store.View(ctx, func(tx tenant.Tx) error {
		tn, err := tx.Get(tenant.CollTenants, "", "acme")
		records = append(records, tn)
		return errors.Join(err, tx.Scan(tenant.CollKeys, "acme", "", "", func(_ string, v []byte) bool {
			records = append(records, bytes.Clone(v))
			return true
		}))
	})
	if err != nil || len(records) != 2 {
		t.Fatalf("%d records, %v", len(records), err)
	}
	for _, r := range records {
		if bytes.Contains(r, []byte(webhookSecret)) || bytes.Contains(r, []byte(base64.StdEncoding.EncodeToString(clearDER))) {
			t.Errorf("a record still holds a secret in clear: %.60s…", r)
		}
	}
	if err := a.service.Store.(*bolt.Store).Close(); err != nil {
		t.Fatal(err)
	}

	// Another server key, the one that sealed them not configured as the
	// previous one.
	_, log = startForSealTest(t, sealTestConfig(t, dir, 2))
	if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, `tenant \"acme\"`) || !strings.Contains(log, "does not open") {
		t.Errorf("wrong key's log:\n%s", log)
	}
	if _, err := os.Stat(cfg.Data); err != nil {
		t.Fatal(err)
	}
}

// A version from before sealing that changes a tenant drops secrets_sealed
// from its record and keeps the sealed webhook secret. The next start keeps
// that secret sealed once, with one line that says so, where it used to seal
// it again (and the webhook was then signed with the sealed value).
func TestStartUpAfterRollbackToAVersionBeforeSealing(t *testing.T) {
	ctx := context.Background()
	cfg := sealTestConfig(t, t.TempDir(), 1)
	webhookSecret := "WEBHOOK-SECRET-0123456789abcdef"
	a, _ := startForSealTest(t, cfg)
	_, err := a.service.CreateTenant(ctx, tenant.NewTenant{Slug: "acme", Settings: tenant.Settings{Legacy: tenant.LegacyPool{
		Kind: tenant.LegacyWebhook, WebhookURL: "https://legacy.example.com/migrate", WebhookSecret: webhookSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.service.Store.(*bolt.Store).Close(); err != nil {
		t.Fatal(err)
	}

	// The old version's rename of acme: its record, without the field.
	db, err := bbolt.Open(cfg.Data, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(btx *bbolt.Tx) error {
		tenants := btx.Bucket([]byte("_")).Bucket([]byte(tenant.CollTenants))
		var record map[string]any
		if err := json.Unmarshal(tenants.Get([]byte("acme")), &record); err != nil {
			return err
		}
		legacy := record["settings"].(map[string]any)["legacy"].(map[string]any)
		if legacy["secrets_sealed"] != true {
			return fmt.Errorf("the pool is not marked sealed: %v", legacy)
		}
		delete(legacy, "secrets_sealed")
		record["name"] = "Acme (rollback)"
		raw, err := json.Marshal(record)
		if err != nil {
			return err
		}
		return tenants.Put([]byte("acme"), raw)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	a, log := startForSealTest(t, cfg)
	if strings.Count(log, "\n") != 1 || !strings.Contains(log, "level=WARN") ||
		!strings.Contains(log, "legacy pool secrets were found sealed but not marked so") || !strings.Contains(log, "legacy_pools=1") {
		t.Errorf("the start after the rollback logged:\n%s\nwant one line saying the pool was sealed already", log)
	}
	var stored tenant.Tenant
	err = a.service.Store.View(ctx, func(tx tenant.Tx) (err error) {
		stored, err = tenant.GetTenant(tx, "acme")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := tenant.OpenLegacyPool(a.service.LegacySealer, "acme", stored.Settings.Legacy)
	if err != nil || pool.WebhookSecret != webhookSecret {
		t.Errorf("the webhook secret opens to %.20q… (%v), want %q", pool.WebhookSecret, err, webhookSecret)
	}
	if err := a.service.Store.(*bolt.Store).Close(); err != nil {
		t.Fatal(err)
	}
	if _, log := startForSealTest(t, cfg); log != "" {
		t.Errorf("the next start logged:\n%s", log)
	}
}
