package mfa_test

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/mfa"
)

// TestSecretsStayOutOfLogs logs an enrollment and a sealer the careless
// way, whole, through both of slog's handlers: neither the TOTP secret nor
// anything of the sealing keys may reach the output.
func TestSecretsStayOutOfLogs(t *testing.T) {
	enrollment, err := mfa.NewTOTPKey("Acme", "ann", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sealer := newSealer(t, testKey(1), testKey(2))

	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	}
	for name, handler := range handlers {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			slog.New(handler(&out)).Info("enrolling", "enrollment", enrollment, "sealer", sealer)
			line := out.String()
			if strings.Contains(line, enrollment.Secret) || strings.Contains(line, "otpauth") {
				t.Errorf("the TOTP secret reached the log: %s", line)
			}
			// The sealer shows its current key's ID and how many keys it
			// has, nothing of the AEADs it holds.
			for _, field := range []string{"aeads", "enc", "Block", "&{"} {
				if strings.Contains(line, field) {
					t.Errorf("the sealer's insides (%q) reached the log: %s", field, line)
				}
			}
			if !strings.Contains(line, "keys") || !strings.Contains(line, "current") {
				t.Errorf("the sealer is not named: %s", line)
			}
		})
	}
}
