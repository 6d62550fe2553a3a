package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// notThere fails the test if any of paths exists.
func notThere(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists (or cannot be checked: %v)", p, err)
		}
	}
}

// A dev-mode first start on a port that is taken stops before it makes
// anything: no database, no secret files, and no demo whose one-time
// password would scroll by above the error and never be shown again.
func TestDevStartListensBeforeItMakesTheDemo(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"serve", "--listen", taken.Addr().String(), "--data", filepath.Join(dir, "cognate.db")},
		map[string]string{}, strings.NewReader(""), &out, &errOut)
	if code != exitError {
		t.Errorf("exit code %d, want %d", code, exitError)
	}
	if out.Len() > 0 {
		t.Errorf("printed before it could listen:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "another program uses that port; stop it, or give cognate another address with --listen") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
	notThere(t, filepath.Join(dir, "cognate.db"), filepath.Join(dir, devAdminTokenFile), filepath.Join(dir, devSecretKeyFile))
}

// The demo's "Try it" line names the demo organization's issuer, which
// follows the port: example-rp's default is port 8080's.
func TestDevTryItNamesTheIssuer(t *testing.T) {
	s := startServer(t, t.TempDir())
	_, port, _ := net.SplitHostPort(s.addr)
	want := "Try it: go run ./cmd/example-rp --issuer http://demo.localhost:" + port + " --client-id "
	if !strings.Contains(s.stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, s.stdout.String())
	}
}

// A data file whose organizations' signing keys are sealed under a dev
// server key is not given a new key when its key file is missing (a data
// file copied without it): the new key would open none of them. With the
// key file put back, it starts.
func TestDevRefusesANewKeyForSealedData(t *testing.T) {
	first := t.TempDir()
	s := startServer(t, first)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.log.String(), "dev mode: wrote a new server key") {
		t.Errorf("the first start did not say it made a server key:\n%s", s.log.String())
	}

	moved := t.TempDir()
	copyFile := func(name string) {
		raw, err := os.ReadFile(filepath.Join(first, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(moved, name), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("cognate.db")
	data, key := filepath.Join(moved, "cognate.db"), filepath.Join(moved, devSecretKeyFile)
	cfg, err := LoadConfig([]string{"--listen", "127.0.0.1:0", "--data", data}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Refused at once; a server that started instead is stopped after a
	// while, and the test fails.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err = runServe(ctx, cfg, nil, slog.New(slog.NewTextHandler(t.Output(), nil)), io.Discard)
	want := "the data file " + data + " holds organizations whose signing keys are sealed with the server key in " + key +
		", and that file is missing: a new key would open none of them. Put back the " + devSecretKeyFile +
		" that was next to the data file (it is made together with the data file), or, to start afresh, remove the data file " + data
	if err == nil || err.Error() != want {
		t.Errorf("runServe: %v\nwant: %s", err, want)
	}
	notThere(t, key)

	copyFile(devSecretKeyFile)
	again := startServer(t, moved)
	if !strings.Contains(again.stdout.String(), "created earlier") {
		t.Errorf("stdout:\n%s", again.stdout.String())
	}
	if log := again.log.String(); strings.Contains(log, "do not open") {
		t.Errorf("secrets do not open with the key put back:\n%s", log)
	}
}

// A mail template directory that is not there is a problem of the
// configuration, reported with the others (exit 2) before anything is
// written.
func TestMissingMailTemplatesStopTheStartFirst(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "templates")
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "cognate.db"), "--mail-templates", missing},
		map[string]string{}, strings.NewReader(""), &out, &errOut)
	if code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}
	if want := "cognate serve: the configuration has problems:\n  mail_templates: the directory " + missing + " does not exist\n"; errOut.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut.String(), want)
	}
	notThere(t, filepath.Join(dir, "cognate.db"), filepath.Join(dir, devAdminTokenFile), filepath.Join(dir, devSecretKeyFile))
}

// In dev mode /dev/mail answers browsers on this machine only, since its
// mails hold temporary passwords. A server that listens beyond it, as the
// container image's does (--listen :8080, reached through a published port
// from the bridge's gateway, never from loopback), says so once at
// start-up, with how to read the mail otherwise. On loopback, or with a
// relay that takes the mail, there is nothing to say.
func TestDevSaysWhenTheMailboxIsOutOfReach(t *testing.T) {
	const line = "dev mode: /dev/mail, which shows the mail sent (temporary passwords, reset codes), answers browsers on this machine only"
	relay := []string{"--smtp-host", "127.0.0.1", "--smtp-port", "1", "--smtp-tls", "none", "--smtp-from", "no-reply@example.com"}
	for _, tt := range []struct {
		name string
		args []string
		want bool
	}{
		{"on loopback", nil, false},
		{"on localhost", []string{"--listen", "localhost:{port}"}, false},
		{"on every address, as in the image", []string{"--listen", ":{port}"}, true},
		{"on every address, with a relay", append([]string{"--listen", ":{port}"}, relay...), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startServerWith(t, t.TempDir(), tt.args...)
			if err := s.stop(); err != nil {
				t.Fatal(err)
			}
			log := s.log.String()
			if got := strings.Count(log, line); got != map[bool]int{true: 1, false: 0}[tt.want] {
				t.Fatalf("the log says %d times that /dev/mail is out of reach, want it said: %v\n%s", got, tt.want, log)
			}
			if tt.want && !strings.Contains(log, "send it to an SMTP catcher such as Mailpit: smtp.host, smtp.port, smtp.tls none and smtp.from") {
				t.Errorf("the log does not say how to read the mail:\n%s", log)
			}
		})
	}
}
