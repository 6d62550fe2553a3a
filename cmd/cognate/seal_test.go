package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
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
