// Command cognate is the Cognate server and its operator's command line.
//
// `cognate serve` runs the server. The other commands (tenant, client,
// user, group, backup, …) are clients of a running server's admin API:
// bbolt allows one process per database file, so the command line never
// opens the database behind the server's back. (`cognate backup` opens
// the copy it fetched, read-only, to check it.)
//
// This package is where Cognate is assembled (serve.go); it holds no rules
// of its own beyond reading its configuration.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/cognate-idp/cognate/provider"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // the command line was wrong
)

func main() {
	// The environment is read here, once; everything below gets a copy.
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	os.Exit(run(context.Background(), os.Args[1:], env, os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches to a sub-command and returns the exit code.
func run(ctx context.Context, args []string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	if _, ok := adminGroups()[cmd]; ok {
		return adminCommandLine(ctx, cmd, rest, env, stdin, stdout, stderr)
	}
	switch cmd {
	case "serve":
		return serveCommand(ctx, rest, env, stdout, stderr)
	case "version", "--version":
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "cognate %s takes no arguments or flags; got %s\n", cmd, strings.Join(rest, " "))
			return exitUsage
		}
		fmt.Fprintln(stdout, versionString())
		return exitOK
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			writeUsage(stdout)
			return exitOK
		}
		// cognate help TOPIC is cognate TOPIC -h.
		if len(rest) == 1 && (rest[0] == "serve" || adminGroups()[rest[0]].commands != nil) {
			return run(ctx, []string{rest[0], "-h"}, env, stdin, stdout, stderr)
		}
		fmt.Fprintf(stderr, "cognate help: no help on %q; the commands are listed below\n\n", strings.Join(rest, " "))
		writeUsage(stderr)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "cognate: unknown command %q\n\n", cmd)
		writeUsage(stderr)
		return exitUsage
	}
}

func writeUsage(w io.Writer) {
	fmt.Fprint(w, `Cognate, a multi-tenant OpenID Connect provider.

Usage:
  cognate serve [flags]       run the server (no flags: development mode)
  cognate tenant VERB         create, list, get, update, rotate-key, delete
  cognate client VERB         create, list, get, update, delete, rotate-secret
  cognate user VERB           create, list, get, set-password, disable, enable, delete,
                              activate, resend, reset-password, unlock, mfa, reset-mfa
  cognate group VERB          create, list, get, update, delete, members, add-user, remove-user
  cognate audit list          a tenant's audit trail (or, without --tenant, the operator's)
  cognate mail list           the mail waiting for delivery, and the mail given up on
  cognate import cognito      import users from a Cognito CSV or JSON export into a tenant
  cognate migrate cognito     import many Cognito pools or organizations, a tenant each
  cognate backup --out FILE   a checked copy of a running server's data file
  cognate version

The tenant, client, user, group, audit, mail, import, migrate and backup commands talk
to a running server's admin API.
Run "cognate COMMAND -h" or "cognate COMMAND VERB -h" for details.
`)
}

// stopSignals stop the server gracefully (listenAndServe). SIGHUP is one
// of them: a terminal that closes, or an operator who sends it out of
// habit, stops the server as SIGTERM does, draining requests and committing
// what is queued, rather than killing it. Cognate has nothing to reload:
// its configuration, certificate and templates are read at start-up.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// serveCommand loads and checks the configuration, then runs the server
// until one of stopSignals.
func serveCommand(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) int {
	// What the flag package writes: the usage asked for with -h, which
	// goes to standard output as every command's does, or a flag's
	// problem with the usage, which goes to standard error.
	var flagWords bytes.Buffer
	cfg, err := LoadConfig(args, env, &flagWords)
	if errors.Is(err, flag.ErrHelp) {
		_, _ = stdout.Write(flagWords.Bytes())
		return exitOK
	}
	_, _ = stderr.Write(flagWords.Bytes())
	var flagErr flagError
	if errors.As(err, &flagErr) {
		return exitUsage // the flag package has said what was wrong
	}
	var usage usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(stderr, "%s\nRun \"cognate serve -h\" for its settings.\n", usage)
		return exitUsage
	}
	if err = errors.Join(err, cfg.Validate()); err != nil {
		fmt.Fprintf(stderr, "cognate serve: the configuration has problems:\n  %s\n",
			strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return exitUsage
	}
	logger := newLogger(cfg, stderr)
	// Libraries that log through slog's default (zitadel/oidc does) then
	// write in the configured format and level, not plain text to stderr.
	slog.SetDefault(logger)
	for _, w := range cfg.Warnings() {
		logger.Warn(w)
	}
	if w := unknownVariables(env, settings()); w != "" {
		logger.Warn(w)
	}
	logger.Debug("configuration", "config", cfg)

	ctx, stop := signal.NotifyContext(ctx, stopSignals...)
	defer stop()
	if err := runServe(ctx, cfg, env, logger, stdout); err != nil {
		logger.Error("cognate stopped with an error", "err", err)
		return exitError
	}
	return exitOK
}

// newLogger writes JSON or text at the configured level. Validate has
// already checked both. provider.LogHandler makes each refused request log
// one line that names its tenant.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(provider.LogHandler(h))
}

// versionString reports what the Go toolchain recorded in the binary: the
// module version for `go install …@v1.2.3`, the VCS revision for a build
// from a checkout.
func versionString() string {
	version, revision := "(unknown)", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		version = info.Main.Version
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if revision != "" {
		version += " (" + revision + ")"
	}
	return fmt.Sprintf("cognate %s %s %s/%s", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
