package main

import (
	"strings"
	"testing"
)

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
