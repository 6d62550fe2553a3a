package adminapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
)

func TestUserMFA(t *testing.T) {
	f := newFixture(t)
	created := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	err := f.svc.Store.Update(t.Context(), func(tx tenant.Tx) error {
		u, err := tenant.GetUser(tx, "acme", f.sub)
		if err != nil {
			return err
		}
		u.MFA = tenant.MFAState{
			TOTP:          &tenant.TOTPFactor{Secret: "v1.sealed-secret", Name: "Phone", CreatedAt: created},
			WebAuthn:      []tenant.WebAuthnFactor{{ID: []byte{1, 2, 3}, Name: "Key", CloneWarning: true, CreatedAt: created, Credential: json.RawMessage(`{"public_key":"cHVibGljLWtleQ"}`)}},
			RecoveryCodes: []string{"hash1", "", "hash3"},
		}
		return tenant.UpdateUser(tx, "acme", u)
	})
	if err != nil {
		t.Fatal(err)
	}
	path := f.path("/admin/v1/tenants/acme/users/" + f.sub)

	rec := f.do(t, http.MethodGet, path+"/mfa", "", bearer)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET mfa: %d %s", rec.Code, rec.Body)
	}
	for _, secret := range []string{"sealed-secret", "hash1", "cHVibGljLWtleQ", "public_key"} {
		if strings.Contains(rec.Body.String(), secret) {
			t.Errorf("the MFA status shows %q:\n%s", secret, rec.Body)
		}
	}
	var st adminapi.MFAStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Factors) != 2 || st.RecoveryCodesLeft != 2 || st.Factors[0].ID != "totp" || st.Factors[1].ID != "webauthn:AQID" ||
		!st.Factors[1].CloneWarning || !st.Factors[1].CreatedAt.Equal(created) {
		t.Errorf("status %+v", st)
	}

	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, path + "/reset-mfa", http.StatusNoContent},
		{http.MethodPost, f.path("/admin/v1/tenants/acme/users/nobody/reset-mfa"), http.StatusNotFound},
		{http.MethodPost, f.path("/admin/v1/tenants/nope/users/" + f.sub + "/reset-mfa"), http.StatusNotFound},
		{http.MethodGet, path + "/reset-mfa", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		if rec := f.do(t, tt.method, tt.path, "", bearer); rec.Code != tt.want {
			t.Errorf("%s %s: %d, want %d: %s", tt.method, tt.path, rec.Code, tt.want, rec.Body)
		}
	}
	rec = f.do(t, http.MethodGet, path+"/mfa", "", bearer)
	if rec.Body.String() != `{"factors":[],"recovery_codes_left":0,"preferred":""}`+"\n" {
		t.Errorf("after the reset: %s", rec.Body)
	}
}
