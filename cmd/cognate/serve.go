package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
)

// Files that dev mode writes next to the data file, and where the CLI looks
// for the token by default.
const (
	devAdminTokenFile = "cognate-admin.token"
	devSecretKeyFile  = "cognate-secret.key"
)

// shutdownTimeout is how long requests in flight get to finish after
// SIGINT or SIGTERM; orchestrators commonly wait 30 s before SIGKILL.
const shutdownTimeout = 20 * time.Second

// runServe runs the server until ctx is cancelled, then drains it.
func runServe(ctx context.Context, cfg Config, logger *slog.Logger) error {
	store, err := bolt.Open(cfg.Data)
	if err != nil {
		return err
	}
	defer store.Close()

	secrets, err := loadSecrets(cfg, logger)
	if err != nil {
		return err
	}
	handler, err := buildServer(cfg, store, secrets, logger)
	if err != nil {
		return err
	}
	return listenAndServe(ctx, cfg, handler, logger)
}

// serverSecrets are the secrets the server runs with: from the
// configuration, or in dev mode from files generated on first start.
type serverSecrets struct {
	adminToken string
	secretKey  []byte // 32 bytes, for mfa.NewSealer
}

func loadSecrets(cfg Config, logger *slog.Logger) (serverSecrets, error) {
	var s serverSecrets
	dir := filepath.Dir(cfg.Data)

	s.adminToken = cfg.AdminToken
	if s.adminToken == "" {
		// Validate allows this only in dev mode.
		path, err := filepath.Abs(filepath.Join(dir, devAdminTokenFile))
		if err != nil {
			return s, err
		}
		token, created, err := devSecretFile(path, func() string { return randomBase64(32) })
		if err != nil {
			return s, fmt.Errorf("dev operator token: %w", err)
		}
		s.adminToken = token
		msg := "dev mode: the admin API operator token is in a file; the cognate CLI finds it when run in the same directory"
		if created {
			msg = "dev mode: wrote a new admin API operator token to a file; the cognate CLI finds it when run in the same directory"
		}
		logger.Info(msg, "file", path)
	}

	rawKey := cfg.SecretKey
	if rawKey == "" {
		path := filepath.Join(dir, devSecretKeyFile)
		key, _, err := devSecretFile(path, func() string { return randomBase64(secretKeySize) })
		if err != nil {
			return s, fmt.Errorf("dev server key: %w", err)
		}
		rawKey = key
	}
	key, err := decodeSecretKey(rawKey)
	if err != nil {
		return s, fmt.Errorf("server key: %w", err)
	}
	s.secretKey = key
	return s, nil
}

// devSecretFile returns the secret in path, creating the file (mode 0600)
// with generate's value when it does not exist yet, so a restart keeps it.
func devSecretFile(path string, generate func() string) (secret string, created bool, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		secret = generate()
		_, werr := f.WriteString(secret + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return "", false, fmt.Errorf("write %s: %w", path, werr)
		}
		return secret, true, nil
	case errors.Is(err, fs.ErrExist):
		raw, err := os.ReadFile(path)
		if err != nil {
			return "", false, err
		}
		secret = strings.TrimSpace(string(raw))
		if secret == "" {
			return "", false, fmt.Errorf("%s is empty; delete it to have a new one made", path)
		}
		return secret, false, nil
	}
	return "", false, err
}

func randomBase64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	return base64.RawURLEncoding.EncodeToString(b)
}

// buildServer wires every part into one handler. This is the one place
// where Cognate is assembled; each part mounts its own routes.
func buildServer(cfg Config, store tenant.Store, secrets serverSecrets, logger *slog.Logger) (http.Handler, error) {
	hasher, err := password.NewHasher(password.DefaultParams(), 0)
	if err != nil {
		return nil, err
	}
	service := &tenant.Service{
		Store:  store,
		Hasher: hasher,
		Logger: logger,
		Now:    time.Now,
		// Changed is where the provider's cache will be told of changes.
	}
	admin := &adminapi.API{
		Service:   service,
		Logger:    logger.With("component", "adminapi"),
		TokenHash: sha256.Sum256([]byte(secrets.adminToken)),
	}

	mux := http.NewServeMux()
	mux.Handle(adminapi.Prefix, admin.Handler())
	// Liveness: the process answers. Readiness: it can also read its store.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := store.View(r.Context(), func(tenant.Tx) error { return nil }); err != nil {
			logger.WarnContext(r.Context(), "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("store unavailable\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux, nil
}

// listenAndServe serves handler on cfg.Listen until ctx ends, then stops
// accepting connections and lets requests in flight finish.
func listenAndServe(ctx context.Context, cfg Config, handler http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler: handler,
		// A slow client may not hold a connection open for ever: headers
		// within 10 s, a body within 30 s, a response within 60 s (a login
		// under load waits for a hashing slot).
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if cfg.TLSCert != "" {
		// Loaded now, so a bad certificate fails start-up, not the first
		// handshake.
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}

	serveErr := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			serveErr <- srv.ServeTLS(ln, "", "")
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	logger.Info("cognate is serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "dev", cfg.Dev)

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight", "timeout", shutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}
