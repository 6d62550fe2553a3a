package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/mfa"
)

// Rotating the server key: what the old key sealed opens while it is
// configured as previous_secret_key, and not once it is gone.
func TestSealerRotation(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	ad := []byte("acme\x00ann")
	before, err := newSealer(serverSecrets{secretKey: oldKey})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := before.Seal([]byte("JBSWY3DPEHPK3PXP"), ad)
	if err != nil {
		t.Fatal(err)
	}

	during, err := newSealer(serverSecrets{secretKey: newKey, previousKey: oldKey})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := during.Open(sealed, ad); err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("during the rotation: %q, %v", got, err)
	}
	if !during.NeedsReseal(sealed) {
		t.Error("a value of the previous key does not ask to be sealed again")
	}

	after, err := newSealer(serverSecrets{secretKey: newKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := after.Open(sealed, ad); !errors.Is(err, mfa.ErrSealKeyUnknown) {
		t.Errorf("after the previous key is dropped: %v, want ErrSealKeyUnknown", err)
	}
	// The sealing key is derived, not the server key itself, which also
	// encrypts authorization codes.
	raw, err := mfa.NewSealer(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Open(sealed, ad); err == nil {
		t.Error("the server key itself opens a sealed TOTP secret")
	}
	if _, err := newSealer(serverSecrets{secretKey: oldKey, previousKey: oldKey}); err == nil {
		t.Error("the same key as current and previous was accepted")
	}
}

func TestPreviousSecretKeyConfig(t *testing.T) {
	const key1 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	const key2 = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
	tests := []struct {
		env  map[string]string
		want string // in the error; "" means valid
	}{
		{map[string]string{"COGNATE_SECRET_KEY": key2, "COGNATE_PREVIOUS_SECRET_KEY": key1}, ""},
		{map[string]string{"COGNATE_SECRET_KEY": key1, "COGNATE_PREVIOUS_SECRET_KEY": key1}, "different from the previous one"},
		{map[string]string{"COGNATE_SECRET_KEY": key2, "COGNATE_PREVIOUS_SECRET_KEY": "short"}, "previous_secret_key"},
		{map[string]string{"COGNATE_PREVIOUS_SECRET_KEY": key1}, "set secret_key to the new key"},
	}
	for _, tt := range tests {
		cfg, err := LoadConfig(nil, tt.env, nil)
		if err == nil {
			err = cfg.Validate()
		}
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%v: %v, want %q", tt.env, err, tt.want)
		}
		if tt.want == "" && cfg.PreviousSecretKey != key1 {
			t.Errorf("previous key %q", cfg.PreviousSecretKey)
		}
	}
}

// The MFA verbs against a running development server.
func TestMFACommands(t *testing.T) {
	s := startServer(t, t.TempDir())
	steps := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{args: []string{"tenant", "create", "acme"}},
		{args: []string{"user", "create", "--tenant", "acme", "--username", "ann", "--password", "Correct-Horse-9!"}},
		{args: []string{"user", "mfa", "--tenant", "acme", "ann"}, stdout: "ann has no second factor."},
		{args: []string{"user", "reset-mfa", "--tenant", "acme", "ann"}, stdout: "Second factors of ann removed"},
		{args: []string{"user", "reset-mfa", "--tenant", "acme", "nobody"}, code: exitError, stderr: "has no user"},
		{args: []string{"user", "reset-mfa", "ann"}, code: exitUsage, stderr: "-tenant is required"},
		{args: []string{"user", "-h"}, stdout: "reset-mfa"},
	}
	for _, st := range steps {
		code, stdout, stderr := s.cli(t, "", st.args...)
		if code != st.code || !strings.Contains(stdout, st.stdout) || !strings.Contains(stderr, st.stderr) {
			t.Errorf("cognate %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(st.args, " "), code, st.code, stdout, stderr)
		}
	}
}
