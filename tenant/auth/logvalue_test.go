package auth_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant/auth"
)

// TestInputsKeepSecretsOutOfLogs logs a sign-in's inputs whole, as a
// careless log line would: the secrets they carry must not reach it.
func TestInputsKeepSecretsOutOfLogs(t *testing.T) {
	tests := []struct {
		name    string
		value   any
		secrets []string
		shown   []string
	}{
		{"credentials", auth.Credentials{Login: "ann", Password: "hunter2-secret", ClientIP: "192.0.2.1"},
			[]string{"hunter2-secret", "Password"}, []string{"ann", "192.0.2.1"}},
		{"answer", auth.Answer{Challenge: auth.NewPasswordRequired, NewPassword: "new-secret-pw", Code: "123456",
			RecoveryCode: "abcd-efgh-ijkl", Credential: []byte(`{"response":"sig-bytes"}`), ClientIP: "192.0.2.1"},
			[]string{"new-secret-pw", "123456", "abcd-efgh-ijkl", "Credential", "Code"}, []string{string(auth.NewPasswordRequired)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			// No time stamp, whose digits could hold a code by chance.
			opts := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}
			slog.New(slog.NewJSONHandler(&out, opts)).Info("signing in", "input", tt.value)
			slog.New(slog.NewTextHandler(&out, opts)).Info("signing in", "input", tt.value)
			for _, s := range tt.secrets {
				if strings.Contains(out.String(), s) {
					t.Errorf("%q reached the log: %s", s, out.String())
				}
			}
			for _, s := range tt.shown {
				if !strings.Contains(out.String(), s) {
					t.Errorf("%q is missing from the log: %s", s, out.String())
				}
			}
		})
	}
}
