//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An import FILE is opened once: the check before the token opens it and
// the run sends what it opened. A named pipe (or a shell's <(…)) can be
// read only once; opened for the check and again for the run, its users
// were lost with the first opening and the second waited for a writer
// that never came.
func TestImportReadsANamedPipeOnce(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	if code, _, stderr := s.cli(t, "", "tenant", "create", "acme"); code != exitOK {
		t.Fatalf("tenant create: %s", stderr)
	}
	pipe := filepath.Join(dir, "users.csv")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		w, err := os.OpenFile(pipe, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer w.Close()
		_, _ = w.WriteString("cognito:username,email,email_verified,cognito:mfa_enabled\nann,ann@example.com,TRUE,FALSE\n")
	}()

	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := s.importCLI(t, "", "import", "cognito", "--tenant", "acme", pipe)
		done <- result{code, stdout, stderr}
	}()
	select {
	case r := <-done:
		if r.code != exitOK || !strings.Contains(r.stdout, "Created 1, updated 0, unchanged 0, failed 0.") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	case <-time.After(10 * time.Second):
		// Let the import's second opening go on, empty, and end.
		if w, err := os.OpenFile(pipe, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("the import still waited for the pipe after 10s: it was opened a second time, after the check had read it")
	}
}
