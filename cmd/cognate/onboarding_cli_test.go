package main

import (
	"strings"
	"testing"
)

// The user verbs that send mail, against a running development server
// (whose mail goes to the development sink).
func TestOnboardingCommands(t *testing.T) {
	s := startServer(t, t.TempDir())
	steps := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{args: []string{"tenant", "create", "acme"}},
		{args: []string{"user", "create", "--tenant", "acme", "--username", "ann", "--email", "ann@example.com"}, stdout: "UNCONFIRMED"},
		{args: []string{"user", "create", "--tenant", "acme", "--username", "nomail"}},
		{args: []string{"user", "activate", "--tenant", "acme", "ann"}, stdout: "A welcome mail with a new temporary password is on its way to ann@example.com."},
		// Again within the minute: the server sent nothing, and the
		// command says so rather than that a new password is on its way.
		{args: []string{"user", "activate", "--tenant", "acme", "ann"},
			stdout: "An invitation was sent to ann@example.com less than a minute ago; no new mail was sent, and its temporary password stays valid."},
		{args: []string{"user", "resend", "--tenant", "acme", "ann"},
			stdout: "An invitation was sent to ann@example.com less than a minute ago; no new mail was sent, and its temporary password stays valid.\n" +
				"Run the command again after that minute to send a new temporary password."},
		{args: []string{"user", "resend", "--tenant", "acme", "ann"}, stdout: "FORCE_CHANGE_PASSWORD"},
		{args: []string{"user", "reset-password", "--tenant", "acme", "ann"}, code: exitError, stderr: "resend the invitation instead"},
		{args: []string{"user", "activate", "--tenant", "acme", "nomail"}, code: exitError, stderr: "needs an email address"},
		{args: []string{"user", "unlock", "--tenant", "acme", "ann"}, stdout: "Unlocked ann"},
		{args: []string{"user", "create", "--tenant", "acme", "--username", "rae", "--email", "rae@example.com", "--email-verified",
			"--password", "Correct-Horse-9!"}, stdout: "CONFIRMED"},
		{args: []string{"user", "reset-password", "--tenant", "acme", "rae"}, stdout: "A reset code is on its way to rae@example.com; rae must choose"},
		{args: []string{"user", "reset-password", "--tenant", "acme", "rae"},
			stdout: "A reset code was sent to rae@example.com less than a minute ago; no new code was sent, and that one stays valid.\n" +
				"Run the command again after that minute to send a new code."},
		{args: []string{"user", "activate", "ann"}, code: exitUsage, stderr: "-tenant is required"},
		{args: []string{"user", "create", "--tenant", "acme", "--username", "bea", "--email", "bea@example.com", "--invite"}, stdout: "FORCE_CHANGE_PASSWORD"},
		{args: []string{"user", "create", "--tenant", "acme", "--username", "cy", "--invite"}, code: exitUsage, stderr: "--invite needs --email"},
		{args: []string{"user", "create", "--tenant", "acme", "--username", "cy", "--email", "cy@example.com", "--invite", "--password", "Sup3r-secret!"},
			code: exitUsage, stderr: "give no --password"},
		{args: []string{"user", "-h"}, stdout: "reset-password"},
	}
	for _, st := range steps {
		code, stdout, stderr := s.cli(t, "", st.args...)
		if code != st.code || !strings.Contains(stdout, st.stdout) || !strings.Contains(stderr, st.stderr) {
			t.Errorf("cognate %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(st.args, " "), code, st.code, stdout, stderr)
		}
	}
	if _, stdout, _ := s.cli(t, "", "help"); !strings.Contains(stdout, "activate, resend, reset-password, unlock") {
		t.Errorf("usage lacks the new verbs:\n%s", stdout)
	}
}
