package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/cognate-idp/cognate/cmd/internal/httplimits"
	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/legacy"
	"github.com/cognate-idp/cognate/tenant/password"
	"github.com/cognate-idp/cognate/ui"
	"github.com/cognate-idp/cognate/ui/console"
)

// Files that dev mode writes next to the data file, and where the CLI looks
// for the token by default.
const (
	devAdminTokenFile = "cognate-admin.token"
	devSecretKeyFile  = "cognate-secret.key"
)

// shutdownTimeout is how long requests in flight get to finish after one
// of stopSignals (SIGINT, SIGTERM or SIGHUP); orchestrators commonly wait
// 30 s before SIGKILL. The help of serve gives it in whole seconds.
const shutdownTimeout = 20 * time.Second

// runServe runs the server until ctx is cancelled, then drains it. In dev
// mode it makes the demo organization on first start and prints its
// administrator's temporary password to stdout. env is the environment
// run was given (main.go): the runtime's own memory settings in it leave
// the heap to the operator (manageMemory).
func runServe(ctx context.Context, cfg Config, env map[string]string, logger *slog.Logger, stdout io.Writer) error {
	// The certificate first: a bad one stops the start before the store
	// is opened or anything is written (dev mode's token files).
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		var warnings []string
		var err error
		if tlsConfig, warnings, err = loadCertificate(cfg, time.Now()); err != nil {
			return err
		}
		for _, w := range warnings {
			logger.Warn(w)
		}
	}
	// Then the port: a start that cannot listen stops before the store is
	// opened, and so before dev mode makes its demo and prints the demo
	// administrator's one-time password, which would scroll by above the
	// error and never be shown again.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w: another program uses that port; stop it, or give cognate another address with --listen", err)
		}
		return err
	}
	defer ln.Close() // Serve closes it too; a second close does no harm
	store, err := openStore(cfg.Data, logger)
	if err != nil {
		return err
	}
	defer store.Close()

	if err := refuseNewKeyForSealedData(ctx, cfg, store); err != nil {
		return err
	}
	secrets, err := loadSecrets(cfg, logger)
	if err != nil {
		return err
	}
	a, err := buildApp(cfg, store, secrets, logger, time.Now)
	if err != nil {
		return err
	}
	if err := sealStoredSecrets(ctx, a.service, logger); err != nil {
		return err
	}
	// Stores written before the index of organization names existed get
	// it now: the apex finds an organization by name, and a new name is
	// checked free, with it.
	if n, err := tenant.IndexTenantNames(ctx, store); err != nil {
		return err
	} else if n > 0 {
		logger.Info("indexed the names of organizations written by an older version", "tenants", n)
	}
	// Stores written before the group member index existed get it now.
	if n, err := tenant.IndexGroupMembers(ctx, store); err != nil {
		return err
	} else if n > 0 {
		logger.Info("indexed the group members of tenants written by an older version", "tenants", n)
	}
	// And the WebAuthn credential index, which refuses a credential ID
	// registered already.
	if err := indexWebAuthnCredentials(ctx, store, logger); err != nil {
		return err
	}
	// Lockout counters written before they had an expiry get one, so
	// that the sweeps delete them as any other.
	if n, err := tenant.UpgradeLockoutCounters(ctx, store); err != nil {
		return err
	} else if n > 0 {
		logger.Info("gave an expiry to the sign-in lockout counters written by an older version", "counters", n)
	}
	if cfg.Dev {
		if err := ensureDemo(ctx, a.service, a.hosts.TenantURL(demoSlug), stdout); err != nil {
			return err
		}
	}
	if a.devMail != nil && !loopbackOnly(ln.Addr()) {
		warnDevMailboxOutOfReach(ln.Addr(), logger)
	}
	background, stopBackground := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if a.outbox != nil {
		wg.Go(func() { a.outbox.Run(background) })
	}
	// Reads show a renamed or deleted group as it is now while its members
	// still move, so serving need not wait for a move a stop cut short.
	wg.Go(func() { a.groupMover.Run(background) })
	wg.Go(func() { sweep(background, store, a.provider, cfg.AuditRetention, logger, a.now) })
	wg.Go(func() { manageMemory(background, logger, store, !operatorTunesMemory(env)) })
	defer func() { stopBackground(); wg.Wait() }()
	return listenAndServe(ctx, ln, cfg, tlsConfig, a.handler, a.onShutdown, logger)
}

// loopbackOnly reports whether addr, where the server listens, is reached
// from this machine only: a loopback address, not all of them (":8080").
func loopbackOnly(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// warnDevMailboxOutOfReach says, once at start-up, that the development
// mailbox answers browsers on this machine only (ui's devMailClient: its
// mails hold temporary passwords and reset codes) while the server is
// reached from elsewhere too. In a container that is every browser: through
// a published port the peer is the bridge's gateway, never loopback. So
// the line says how to read the mail from elsewhere: a relay that catches
// it, set with the SMTP settings. (`cognate mail list` shows no mail that
// was delivered, and no body of any.)
func warnDevMailboxOutOfReach(addr net.Addr, logger *slog.Logger) {
	logger.Warn("dev mode: /dev/mail, which shows the mail sent (temporary passwords, reset codes), answers browsers on this machine only, "+
		"but the server listens beyond it (in a container, no browser is on its machine); to read the mail elsewhere, "+
		"send it to an SMTP catcher such as Mailpit: smtp.host, smtp.port, smtp.tls none and smtp.from (see docs/docker.md)",
		"listen", addr.String())
}

// openStore opens the database file, saying in plain words what kept it
// from opening. A new database is made in a missing file or an empty one
// (an operator may create the file first, to choose its owner and mode);
// the log says so, since an empty file where a database was expected may
// also be a restore that failed.
func openStore(path string, logger *slog.Logger) (*bolt.Store, error) {
	info, statErr := os.Stat(path)
	store, err := bolt.Open(path)
	var pathErr *fs.PathError
	var damaged *bolt.DamagedError
	var newer *bolt.NewerFormatError
	switch {
	case err == nil && errors.Is(statErr, fs.ErrNotExist):
		logger.Info("a new database file was made", "path", path)
		return store, nil
	case err == nil && statErr == nil && info.Mode().IsRegular() && info.Size() == 0:
		logger.Warn("the database file was empty: a new database was made in it; if it should have held data, stop the server and restore it from a backup", "path", path)
		return store, nil
	case err == nil:
		return store, nil
	case errors.As(err, &damaged):
		return nil, fmt.Errorf("the database file %s cannot be used: %s. Cognate has not changed it and cannot repair it: "+
			"move it aside and restore the file from a backup", path, damaged.Problem)
	case errors.As(err, &newer):
		return nil, fmt.Errorf("the database file %s cannot be used: %s. Cognate has not changed it: run the version "+
			"that wrote it, or go back to this one by restoring the copy of the data file made before the upgrade (docs/secrets.md, \"Going back to an older version\")",
			path, newer)
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("the database file %s is in use by another process, most likely another cognate serve: only one may open it", path)
	case errors.Is(err, fs.ErrNotExist):
		// The file is created if missing, so its directory is.
		return nil, fmt.Errorf("cannot create the database file %s: the directory %s does not exist", path, filepath.Dir(path))
	case errors.As(err, &pathErr):
		return nil, fmt.Errorf("cannot open the database file %s: %w", path, pathErr.Err)
	}
	// bolt.Open's error is "open PATH: " and bbolt's.
	if cause := errors.Unwrap(err); cause != nil {
		err = cause
	}
	return nil, fmt.Errorf("cannot open the database file %s: %w", path, err)
}

// sealStoredSecrets is the start-up pass of docs/secrets.md: signing keys
// and legacy secrets that an older version stored in clear, or that the
// previous server key sealed, are sealed under the current key. One that
// does not open is logged, not fatal: the other tenants go on working, and
// that tenant's requests fail naming the same key, until the right server
// key is configured or its signing key rotated. Only a store error stops
// the start.
func sealStoredSecrets(ctx context.Context, service *tenant.Service, logger *slog.Logger) error {
	report, err := service.SealStoredSecrets(ctx)
	if err != nil {
		return err
	}
	if report.SigningKeys > 0 || report.LegacyPools > 0 {
		logger.InfoContext(ctx, "sealed secrets at rest under the current server key",
			"signing_keys", report.SigningKeys, "legacy_pools", report.LegacyPools)
	}
	if report.LegacyPoolsAlreadySealed > 0 {
		logger.WarnContext(ctx, "legacy pool secrets were found sealed but not marked so, as a version from before sealing leaves them "+
			"when it changes a tenant: kept sealed once, not sealed again (see docs/secrets.md, \"Going back to an older version\")",
			"legacy_pools", report.LegacyPoolsAlreadySealed)
	}
	if report.Unopened != nil {
		logger.ErrorContext(ctx, "secrets that do not open with the server key (see docs/secrets.md)", "err", report.Unopened)
	}
	return nil
}

// indexWebAuthnCredentials builds the credential ID index of tenants an
// older version wrote. That version let a forged authenticator register one
// credential ID to two users; each such ID is logged, for an administrator
// to reset the MFA of the user named as other, whose copy no longer signs
// in with a passkey. Only a store error stops the start.
func indexWebAuthnCredentials(ctx context.Context, store tenant.Store, logger *slog.Logger) error {
	n, shared, err := tenant.IndexWebAuthnCredentials(ctx, store)
	if err != nil {
		return err
	}
	if n > 0 {
		logger.InfoContext(ctx, "indexed the security keys and passkeys of tenants written by an older version", "tenants", n)
	}
	for _, c := range shared {
		logger.WarnContext(ctx, "a security key or passkey ID is registered to two users; the other user's copy is refused for passkey sign-in until an administrator resets that user's MFA",
			"tenant", c.Tenant, "credential", c.FactorID, "owner", c.Owner, "other", c.Other)
	}
	return nil
}

// sweep deletes expired tokens, sessions and sign-in flows, and audit
// events and mails given up on past their retention, once a minute: bbolt has no TTL of its own.
// The provider's in-memory authorization requests and codes go with them.
// The minute's sweep reads only the expiry index; a full scan, in the first
// minute and then daily, finds what the index does not know of (records of
// older versions, the console's sessions) and orphaned index entries.
// now is the app's clock (buildApp).
func sweep(ctx context.Context, store tenant.Store, prov *provider.Provider, auditRetention time.Duration, logger *slog.Logger, now func() time.Time) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	sweepOnTicks(ctx, tick.C, store, prov, auditRetention, logger, now)
}

// sweepOnTicks is sweep's loop: a round at each tick, by the clock now
// (the tick's own time is the wall clock's), until ctx ends.
func sweepOnTicks(ctx context.Context, tick <-chan time.Time, store tenant.Store, prov *provider.Provider, auditRetention time.Duration, logger *slog.Logger, now func() time.Time) {
	var lastFullSweep time.Time // zero: the first round scans in full
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		prov.SweepPending()
		var n int
		var err error
		n, lastFullSweep, err = sweepOnce(ctx, store, auditRetention, now(), lastFullSweep)
		if err != nil && ctx.Err() == nil {
			logger.Error("sweep expired records", "err", err)
		} else if n > 0 {
			logger.Debug("swept expired records", "count", n)
		}
	}
}

// fullSweepEvery is how often sweep scans the store in full.
const fullSweepEvery = 24 * time.Hour

// sweepOnce is one round of sweep at now, the last full scan having run
// at lastFullSweep. It returns how many records it deleted and when the
// last full scan ran, now if it ran this round; a full scan that failed is
// tried again the next round.
func sweepOnce(ctx context.Context, store tenant.Store, auditRetention time.Duration, now, lastFullSweep time.Time) (int, time.Time, error) {
	var f int
	var ferr error
	if now.Sub(lastFullSweep) >= fullSweepEvery {
		if f, ferr = tenant.SweepExpiredFull(ctx, store, now); ferr == nil {
			lastFullSweep = now
		}
	}
	n, err := tenant.SweepExpired(ctx, store, now)
	m, merr := tenant.SweepOnboarding(ctx, store, now)
	a, aerr := tenant.SweepAudit(ctx, store, now, auditRetention)
	fm, fmerr := tenant.SweepFailedMail(ctx, store, now, auditRetention)
	return f + n + m + a + fm, lastFullSweep, errors.Join(ferr, err, merr, aerr, fmerr)
}

// serverSecrets are the secrets the server runs with: from the
// configuration, or in dev mode from files generated on first start.
type serverSecrets struct {
	adminToken string
	secretKey  []byte // 32 bytes, for mfa.NewSealer
	// previousKey is the server key before a rotation, or nil (mfa.go).
	previousKey []byte
}

func loadSecrets(cfg Config, logger *slog.Logger) (serverSecrets, error) {
	var s serverSecrets
	s.adminToken = cfg.AdminToken
	if s.adminToken == "" {
		// Validate allows this only in dev mode.
		path, err := filepath.Abs(devTokenPath(cfg.Data))
		if err != nil {
			return s, err
		}
		token, created, err := devSecretFile(path, func() string { return randomBase64(32) })
		if err != nil {
			return s, fmt.Errorf("dev operator token: %w", err)
		}
		s.adminToken = token
		msg := "dev mode: the admin API operator token is in a file next to the data file; the cognate CLI finds it when given the same --data (or COGNATE_DATA)"
		if created {
			msg = "dev mode: wrote a new admin API operator token to a file next to the data file; the cognate CLI finds it when given the same --data (or COGNATE_DATA)"
		}
		logger.Info(msg, "file", path)
		if w := readableByOthers("the dev mode operator token file", path); w != "" {
			logger.Warn(w)
		}
	}

	rawKey := cfg.SecretKey
	if rawKey == "" {
		path := devSecretKeyPath(cfg.Data)
		key, created, err := devSecretFile(path, func() string { return randomBase64(mfa.KeySize) })
		if err != nil {
			return s, fmt.Errorf("dev server key: %w", err)
		}
		if created {
			logger.Info("dev mode: wrote a new server key, which seals signing keys and TOTP secrets, to a file next to the data file; "+
				"keep the two together: the data file's secrets do not open without it", "file", path)
		}
		if w := readableByOthers("the dev mode server key file", path); w != "" {
			logger.Warn(w)
		}
		rawKey = key
	}
	key, err := parseServerKey(rawKey)
	if err != nil {
		return s, fmt.Errorf("server key: %w", err)
	}
	s.secretKey = key
	if cfg.PreviousSecretKey != "" {
		if s.previousKey, err = parseServerKey(cfg.PreviousSecretKey); err != nil {
			return s, fmt.Errorf("previous server key: %w", err)
		}
	}
	return s, nil
}

// refuseNewKeyForSealedData stops a dev-mode start that would make a new
// server key for a data file that already holds tenants: every tenant's
// signing key, and its users' TOTP secrets, are sealed under the key in
// the cognate-secret.key that was beside the data file when they were
// made (a data file copied or moved without it). A new key would open
// none of them, so the tenants could not be served and each user would
// enrol TOTP again. Outside dev mode the key is configured; Validate
// requires it.
func refuseNewKeyForSealedData(ctx context.Context, cfg Config, store tenant.Store) error {
	if cfg.SecretKey != "" {
		return nil
	}
	path := devSecretKeyPath(cfg.Data)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil // there is a key file; a problem reading it is loadSecrets' to report
	}
	var sealed bool
	err := store.View(ctx, func(tx tenant.Tx) error {
		return tenant.ScanJSON(tx, tenant.CollTenants, "", "", "", func(string, tenant.Tenant) bool {
			sealed = true
			return false
		})
	})
	if err != nil {
		return fmt.Errorf("reading the data file %s: %w", cfg.Data, err)
	}
	if sealed {
		return fmt.Errorf("the data file %s holds organizations whose signing keys are sealed with the server key in %s, "+
			"and that file is missing: a new key would open none of them. Put back the %s that was next to the data file "+
			"(it is made together with the data file), or, to start afresh, remove the data file %s",
			cfg.Data, path, devSecretKeyFile, cfg.Data)
	}
	return nil
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

// app is Cognate assembled: its handler and the parts that run beside it.
type app struct {
	handler  http.Handler
	provider *provider.Provider
	service  *tenant.Service
	outbox   *mail.Outbox // nil without a mail relay outside development
	// groupMover moves the members of renamed and deleted groups in the
	// background, and at start-up those a stop or a crash left.
	groupMover *tenant.GroupMover
	devMail    *mail.DevSink // what /dev/mail shows; nil with a relay or outside development
	hosts      provider.Hosts
	// now is every part's clock, and the sweep's (buildApp).
	now func() time.Time
	// onShutdown runs when the server begins to shut down: it cuts off
	// the backups being sent (adminapi.API.StopBackups), which would
	// hold the stop past its bound.
	onShutdown func()
}

// buildApp wires every part. This is the one place where Cognate is
// assembled; each part mounts its own routes. now is every part's clock
// (tests move it to expire temporary passwords and codes).
func buildApp(cfg Config, store tenant.Store, secrets serverSecrets, logger *slog.Logger, now func() time.Time) (*app, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	hosts := provider.Hosts{Base: base, TrustedProxies: cfg.TrustedProxies}
	hasher, err := password.NewHasher(password.DefaultParams(), 0)
	if err != nil {
		return nil, err
	}
	var cryptoKey [32]byte
	copy(cryptoKey[:], secrets.secretKey)
	// Tenants' signing keys and legacy pool credentials are stored sealed,
	// each kind under a key of its own derived from the server key (mfa.go).
	keySealer, err := derivedSealer(secrets, signingKeySealInfo)
	if err != nil {
		return nil, err
	}
	legacySealer, err := derivedSealer(secrets, legacySealInfo)
	if err != nil {
		return nil, err
	}
	prov, err := provider.New(provider.Config{Hosts: hosts, Store: store, Logger: logger.With("component", "provider"),
		Now: now, CryptoKey: cryptoKey, KeySealer: keySealer})
	if err != nil {
		return nil, err
	}
	templates, tenantTemplates, err := mailTemplates(cfg)
	if err != nil {
		return nil, err
	}
	// Tenants' legacy pools, for lazy migration. On the wall clock, not
	// now: Cognito checks SRP timestamps against its own.
	legacyPools := &legacy.Directory{Timeout: legacy.DefaultTimeout, Sealer: legacySealer}
	fromAddress, fromName := mailFrom(cfg)
	service := &tenant.Service{Store: store, Hasher: hasher, Logger: logger, Now: now, RevokeUser: prov.RevokeUser,
		Templates: templates, TenantTemplates: tenantTemplates, MailFrom: fromAddress, MailFromName: fromName, TenantURL: hosts.TenantURL,
		ReleaseLockout: auth.Unlock, Legacy: legacyPools, KeySealer: keySealer, LegacySealer: legacySealer}
	machine := &auth.Machine{Store: store, Hasher: hasher, Logger: logger.With("component", "auth"), Now: now, Legacy: legacyPools,
		SSOSessions: true}
	// Every sign-in outcome goes to the tenant's audit trail.
	machine.Audit = tenant.RecordAudit
	// MFA (mfa.go): TOTP keys sealed under a key derived from the server
	// key, and a WebAuthn relying party per tenant host.
	if machine.Sealer, err = derivedSealer(secrets, sealKeyInfo); err != nil {
		return nil, err
	}
	groupMover := &tenant.GroupMover{Store: store, Logger: logger.With("component", "groups"), Now: now}
	service.GroupMoveQueued = groupMover.Wake
	relyingParties := &auth.RelyingParties{Origin: hosts.TenantURL}
	machine.RelyingParty = relyingParties.For
	// A tenant changed: the provider loads it again, and its WebAuthn
	// relying party is made again from its host.
	service.Changed = func(ctx context.Context, slug string) { prov.Invalidate(ctx, slug); relyingParties.Forget(slug) }

	sender, devMail, err := mailSender(cfg, logger, now)
	if err != nil {
		return nil, err
	}
	var outbox *mail.Outbox // nil: no relay, the mail waits
	if sender != nil {
		// Jitter spreads the retries of mail queued during one outage, so
		// that the relay is not met by all of them in the same second.
		outbox = &mail.Outbox{Queue: tenant.MailQueue{Store: store, Now: now}, Sender: sender, Logger: logger.With("component", "mail"), Now: now,
			Backoff: mail.Backoff{Jitter: mathrand.N[time.Duration]}}
		service.MailQueued = outbox.Wake
	}

	adminConsole, err := console.New(console.Console{Service: service, Provider: prov,
		Logger: logger.With("component", "console"), Now: now})
	if err != nil {
		return nil, err
	}
	pages, err := ui.New(ui.Pages{Provider: prov, Auth: machine, Service: service,
		Logger: logger.With("component", "ui"), Now: now, DevMail: devMail, Dev: cfg.Dev, Console: adminConsole})
	if err != nil {
		return nil, err
	}
	prov.ErrorPage = pages.ProviderError
	admin := &adminapi.API{
		Service:   service,
		Logger:    logger.With("component", "adminapi"),
		TokenHash: sha256.Sum256([]byte(secrets.adminToken)),
		ClientIP:  hosts.ClientIP,
	}
	router := &provider.Router{Provider: prov, Apex: pages.Apex(), Operator: admin.Handler(),
		Tenant: pages.Tenant(), NotFound: pages.NotFound(), Unavailable: pages.Unavailable()}

	return &app{handler: withProbes(router, store, logger), provider: prov, service: service, outbox: outbox, groupMover: groupMover,
		devMail: devMail, hosts: hosts, now: now, onShutdown: admin.StopBackups}, nil
}

// withProbes answers /healthz and /readyz in front of router. Liveness:
// the process answers. Readiness: it can also read its store. Both on
// every host, for load balancers that probe by address, with the headers
// the Router sets, to GET and HEAD; every other request goes to the
// Router. A switch rather than a ServeMux: the Router sees every request,
// and a second pattern match on each of them cost 3% of a discovery
// request.
func withProbes(router *provider.Router, store tenant.Store, logger *slog.Logger) http.Handler {
	health := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	}
	ready := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := store.View(r.Context(), func(tenant.Tx) error { return nil }); err != nil {
			logger.WarnContext(r.Context(), "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("store unavailable\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz":
			router.SetSecurityHeaders(w.Header())
			switch {
			case r.Method != http.MethodGet && r.Method != http.MethodHead:
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			case r.URL.Path == "/healthz":
				health(w, r)
			default:
				ready(w, r)
			}
			return
		}
		router.ServeHTTP(w, r)
	})
}

// mailTemplates are the built-in mail templates with the operator's
// overrides, if a directory of them is configured; a broken override stops
// start-up rather than the first mail.
func mailTemplates(cfg Config) (*mail.Templates, map[string]*mail.Templates, error) {
	if cfg.MailTemplates == "" {
		t, err := mail.NewTemplates(nil)
		return t, nil, err
	}
	if err := templateDirProblem(cfg.MailTemplates); err != nil {
		return nil, nil, err
	}
	all, perTenant, err := mail.LoadOverrides(os.DirFS(cfg.MailTemplates))
	if err != nil {
		return nil, nil, fmt.Errorf("mail templates in %s: %w", cfg.MailTemplates, err)
	}
	return all, perTenant, nil
}

// mailSender is SMTP when a server is configured, else in development the
// sink whose mail the apex shows at /dev/mail. Outside development, no
// relay means no sender: mail waits in the outbox, which is on disk, until
// the server is started with one (a welcome mail holds the only copy of a
// temporary password, so it must not go to a sink nobody reads). now
// dates the mail.
func mailSender(cfg Config, logger *slog.Logger, now func() time.Time) (mail.Sender, *mail.DevSink, error) {
	if cfg.SMTP.Host == "" {
		if !cfg.Dev {
			return nil, nil, nil
		}
		sink := mail.NewDevSink(logger.With("component", "devmail"))
		return sink, sink, nil
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("base URL: %w", err)
	}
	// The password is in cfg.SMTP.Password, from smtp.password_file too:
	// LoadConfig read the file.
	sender, err := mail.NewSMTPSender(cfg.SMTP.mailConfig(base.Hostname()), now)
	return sender, nil, err
}

// loadCertificate reads cfg's TLS certificate and key, and checks the
// certificate against the clock and the base URL (checkCertificate). It
// is read once: a renewed certificate takes a restart.
func loadCertificate(cfg Config, now time.Time) (*tls.Config, []string, error) {
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, nil, fmt.Errorf("TLS certificate: %w", err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, nil, fmt.Errorf("TLS certificate %s: %w", cfg.TLSCert, err)
		}
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, nil, err
	}
	warnings, err := checkCertificate(cfg.TLSCert, leaf, base.Hostname(), now)
	if err != nil {
		return nil, nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, warnings, nil
}

// certProbeLabel makes a tenant host no certificate names by itself, to
// ask whether a certificate covers every tenant (*.host).
const certProbeLabel = "any-tenant"

// checkCertificate refuses a certificate that no client would accept from
// this server, and warns of one that leaves part of it uncovered. file
// names it in the messages.
//
// Refused: a certificate outside its validity (expired, or not valid
// yet), which every client refuses; and one that names no tenant host,
// neither *.host nor a name under host, with which every tenant, the
// service itself, fails TLS. Only warned of, since each can be meant: a
// certificate without host itself, as the apex may be served elsewhere
// (by the site's own web server, which sends "find your organization"
// on); and one without *.host that names some tenant hosts, as a small
// site may list its tenants by name (a tenant added later then fails TLS
// until the certificate names it too).
func checkCertificate(file string, leaf *x509.Certificate, host string, now time.Time) ([]string, error) {
	const minute = "2006-01-02 15:04 MST"
	switch {
	case now.After(leaf.NotAfter):
		return nil, fmt.Errorf("TLS certificate %s expired on %s, and clients refuse it: renew it and start cognate again "+
			"(it reads the certificate at start-up only)", file, leaf.NotAfter.UTC().Format(minute))
	case now.Before(leaf.NotBefore):
		return nil, fmt.Errorf("TLS certificate %s is valid from %s only, and clients refuse it until then (this machine's clock says %s)",
			file, leaf.NotBefore.UTC().Format(minute), now.UTC().Format(minute))
	}
	var tenants []string // the tenant hosts it names
	for _, name := range leaf.DNSNames {
		if strings.HasSuffix(strings.ToLower(name), "."+strings.ToLower(host)) {
			tenants = append(tenants, name)
		}
	}
	if len(tenants) == 0 {
		return nil, fmt.Errorf("TLS certificate %s is for %s, and no tenant's host: every tenant (such as acme.%s) would fail TLS; "+
			"it must cover *.%s, and %s for the apex", file, certNames(leaf), host, host, host)
	}
	var warnings []string
	if leaf.VerifyHostname(certProbeLabel+"."+host) != nil {
		warnings = append(warnings, fmt.Sprintf("TLS certificate %s does not cover *.%s, only %s: the host of a tenant it does not name "+
			"fails TLS; a certificate for %s and *.%s serves every tenant", file, host, strings.Join(tenants, ", "), host, host))
	}
	if leaf.VerifyHostname(host) != nil {
		warnings = append(warnings, fmt.Sprintf("TLS certificate %s does not cover %s, the apex (\"find your organization\"): "+
			"browsers refuse https://%s/ unless another server answers it", file, host, host))
	}
	return warnings, nil
}

// certNames lists the host names a certificate is for.
func certNames(leaf *x509.Certificate) string {
	if len(leaf.DNSNames) == 0 {
		return "no host name (a certificate with a common name alone is refused by browsers)"
	}
	return strings.Join(leaf.DNSNames, ", ")
}

// listenAndServe serves handler on ln, listening on cfg.Listen, until ctx
// ends, then stops accepting connections, runs onShutdown, and lets
// requests in flight finish. With a TLS configuration (loadCertificate) it
// serves HTTPS.
func listenAndServe(ctx context.Context, ln net.Listener, cfg Config, tlsConfig *tls.Config, handler http.Handler, onShutdown func(), logger *slog.Logger) error {
	// The limits are the bench's bare server's too; an idle connection
	// closes at once past the connection limit's watermark (connlimit.go).
	srv := httplimits.Server(handler)
	srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	srv.TLSConfig = tlsConfig
	srv.RegisterOnShutdown(onShutdown)
	ln = limitConnections(srv, ln, cfg.MaxConnections, logger)

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
