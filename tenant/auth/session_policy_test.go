package auth_test

import (
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// A password-only session in which the user set up a factor opens the
// account page, while the user has a factor; applications are not answered
// from it where the policy asks for a second step (SessionMeetsPolicy).
func TestSessionOpensAccount(t *testing.T) {
	withTOTP := tenant.User{MFA: tenant.MFAState{TOTP: &tenant.TOTPFactor{}}}
	tests := []struct {
		name            string
		mode            string
		user            tenant.User
		sess            tenant.Session
		account, policy bool
	}{
		{"optional, factor set up here", tenant.MFAOptional, withTOTP, tenant.Session{AMR: []string{"pwd"}, FactorSetUp: true}, true, false},
		{"optional, factor set up elsewhere", tenant.MFAOptional, withTOTP, tenant.Session{AMR: []string{"pwd"}}, false, false},
		{"optional, factor set up here and removed", tenant.MFAOptional, tenant.User{}, tenant.Session{AMR: []string{"pwd"}, FactorSetUp: true}, true, true},
		{"required, factor set up here and removed", tenant.MFARequired, tenant.User{}, tenant.Session{AMR: []string{"pwd"}, FactorSetUp: true}, false, false},
		{"required, second step proven", tenant.MFARequired, withTOTP, tenant.Session{AMR: []string{"pwd", "otp", "mfa"}}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := tenant.Tenant{Settings: tenant.Settings{MFA: tenant.MFAPolicy{Mode: tt.mode, Factors: []string{tenant.FactorTOTP, tenant.FactorWebAuthn}}}}
			if got := auth.SessionOpensAccount(tn, tt.user, tt.sess); got != tt.account {
				t.Errorf("opens the account page: %v, want %v", got, tt.account)
			}
			if got := auth.SessionMeetsPolicy(tn, tt.user, tt.sess.AMR); got != tt.policy {
				t.Errorf("answers applications: %v, want %v", got, tt.policy)
			}
		})
	}
}
