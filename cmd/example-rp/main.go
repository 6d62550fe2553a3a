// Command example-rp is a small relying party for trying Cognate: it signs
// in with the authorization code flow and PKCE, then shows the ID token's
// claims and the userinfo answer.
//
//	go run ./cmd/example-rp --issuer http://demo.localhost:8080 --client-id <id>
//
// then open http://127.0.0.1:9090/. Register http://127.0.0.1:9090/callback
// (or http://<listen>/callback) as a redirect URI of the client. The work is
// in package rp, which Cognate's browser tests use too.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cognate-idp/cognate/cmd/example-rp/rp"
)

func main() {
	issuer := flag.String("issuer", "http://demo.localhost:8080", "the tenant's issuer URL")
	clientID := flag.String("client-id", "", "the client ID (required)")
	clientSecret := flag.String("client-secret", "", "the client secret, for a confidential client")
	listen := flag.String("listen", "127.0.0.1:9090", "address to serve on; the redirect URI is http://<listen>/callback")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*issuer, *clientID, *clientSecret, *listen, logger); err != nil {
		logger.Error("example-rp", "err", err)
		os.Exit(1)
	}
}

func run(issuer, clientID, clientSecret, listen string, logger *slog.Logger) error {
	if clientID == "" {
		return errors.New("--client-id is required (see the demo tenant's start page, or the admin API)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	app, err := rp.New(ctx, rp.Config{
		Issuer:       issuer,
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  "http://" + listen + "/callback",
	})
	if err != nil {
		return fmt.Errorf("is Cognate running at %s? %w", issuer, err)
	}

	srv := &http.Server{Addr: listen, Handler: app, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("example relying party ready", "open", "http://"+listen+"/", "issuer", issuer)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
