package adminapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// The legacy pool's secrets go in and never come out: responses mask them,
// a masked value sent back keeps the secret, "" removes it.
func TestLegacyPoolSecretsAreWriteOnly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const clientSecret, adminSecret = "cl1ent-s3cret-do-not-show", "adm1n-s3cret-do-not-show"
	body := `{"settings":{"legacy":{"kind":"cognito","user_pool_id":"eu-west-1_AbC123","client_id":"legacyclient",
		"client_secret":"` + clientSecret + `","admin_access_key_id":"AKIDEXAMPLE","admin_secret_access_key":"` + adminSecret + `"}}}`
	rec := f.do(t, "PATCH", "/admin/v1/tenants/acme", body, bearer)
	if rec.Code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
	}
	get := f.do(t, "GET", "/admin/v1/tenants/acme", "", bearer)
	for name, rec := range map[string]string{"PATCH": rec.Body.String(), "GET": get.Body.String()} {
		if strings.Contains(rec, clientSecret) || strings.Contains(rec, adminSecret) {
			t.Errorf("%s shows a secret: %s", name, rec)
		}
	}
	var tn adminapi.Tenant
	if err := json.Unmarshal(get.Body.Bytes(), &tn); err != nil {
		t.Fatal(err)
	}
	l := tn.Settings.Legacy
	if l.Kind != "cognito" || l.UserPoolID != "eu-west-1_AbC123" || l.AdminAccessKeyID != "AKIDEXAMPLE" ||
		l.ClientSecret == nil || *l.ClientSecret != adminapi.SecretMask || l.AdminSecretAccessKey == nil || l.WebhookSecret != nil {
		t.Fatalf("legacy pool shown as %+v", l)
	}
	stored, err := f.svc.Tenant(ctx, "acme")
	if err != nil || stored.Settings.Legacy.ClientSecret != clientSecret || stored.Settings.Legacy.Admin.SecretAccessKey != adminSecret {
		t.Fatalf("stored %+v, %v", stored.Settings.Legacy.LogValue(), err)
	}

	// What was read, changed and sent back keeps the secrets.
	l.ClientID = "otherclient"
	change, _ := json.Marshal(map[string]any{"settings": map[string]any{"legacy": l}})
	if rec := f.do(t, "PATCH", "/admin/v1/tenants/acme", string(change), bearer); rec.Code != http.StatusOK {
		t.Fatalf("PATCH back: %d %s", rec.Code, rec.Body)
	}
	stored, _ = f.svc.Tenant(ctx, "acme")
	if s := stored.Settings.Legacy; s.ClientID != "otherclient" || s.ClientSecret != clientSecret || s.Admin.SecretAccessKey != adminSecret {
		t.Errorf("after a masked round trip: client %s, secrets kept %t %t", s.ClientID, s.ClientSecret == clientSecret, s.Admin.SecretAccessKey == adminSecret)
	}
	// "" removes a secret.
	rec = f.do(t, "PATCH", "/admin/v1/tenants/acme", `{"settings":{"legacy":{"kind":"cognito","user_pool_id":"eu-west-1_AbC123","client_id":"legacyclient","client_secret":"","admin_access_key_id":"AKIDEXAMPLE"}}}`, bearer)
	stored, _ = f.svc.Tenant(ctx, "acme")
	if rec.Code != http.StatusOK || stored.Settings.Legacy.ClientSecret != "" || stored.Settings.Legacy.Admin.SecretAccessKey != adminSecret {
		t.Errorf("remove the client secret: %d %s", rec.Code, rec.Body)
	}
	// Off again.
	if rec := f.do(t, "PATCH", "/admin/v1/tenants/acme", `{"settings":{"legacy":{"kind":""}}}`, bearer); rec.Code != http.StatusOK {
		t.Errorf("turn off: %d %s", rec.Code, rec.Body)
	}
}

func TestLegacyPoolValidation(t *testing.T) {
	for name, legacy := range map[string]string{
		"unknown kind":         `{"kind":"ldap"}`,
		"bad pool ID":          `{"kind":"cognito","user_pool_id":"nounderscore","client_id":"c"}`,
		"no client":            `{"kind":"cognito","user_pool_id":"eu-west-1_AbC123"}`,
		"plain http endpoint":  `{"kind":"cognito","user_pool_id":"eu-west-1_AbC123","client_id":"c","endpoint":"http://cognito.example.com"}`,
		"bad auth flow":        `{"kind":"cognito","user_pool_id":"eu-west-1_AbC123","client_id":"c","auth_flow":"CUSTOM_AUTH"}`,
		"half an admin key":    `{"kind":"cognito","user_pool_id":"eu-west-1_AbC123","client_id":"c","admin_access_key_id":"AKID"}`,
		"plain http webhook":   `{"kind":"webhook","webhook_url":"http://legacy.example.com/migrate","webhook_secret":"0123456789abcdef0123456789"}`,
		"short webhook secret": `{"kind":"webhook","webhook_url":"https://legacy.example.com/migrate","webhook_secret":"short"}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.do(t, "PATCH", "/admin/v1/tenants/acme", `{"settings":{"legacy":`+legacy+`}}`, bearer)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "legacy pool") {
				t.Errorf("%d %s", rec.Code, rec.Body)
			}
		})
	}
}
