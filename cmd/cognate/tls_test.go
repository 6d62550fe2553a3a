package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// TestServeTLS runs the server as production would: https base URL, TLS
// terminated by Cognate with a wildcard certificate, operator token and
// server key from configuration. Tenants get https issuers.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := wildcardCert(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	port := strings.Split(addr, ":")[1]
	base := "https://localhost:" + port
	token := "operator-token-for-the-tls-test"
	cfg, err := LoadConfig([]string{"--base-url", base, "--listen", addr, "--data", filepath.Join(dir, "cognate.db"),
		"--tls-cert", certFile, "--tls-key", keyFile, "--admin-token", token,
		"--secret-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Dev {
		t.Fatal("a configured https base URL must not be dev mode")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, cfg, nil, slog.New(slog.NewTextHandler(t.Output(), nil)), t.Output()) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runServe: %v", err)
		}
	}()

	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err = hc.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready over TLS: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, err := adminCall(hc, base, token, "POST", "/tenants", adminapi.CreateTenantRequest{Slug: "acme"}, nil)
	if err != nil || code != http.StatusCreated {
		t.Fatalf("create tenant over TLS: %d %v", code, err)
	}
	resp, err = hc.Get("https://acme.localhost:" + port + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	json.NewDecoder(resp.Body).Decode(&d)
	if d["issuer"] != "https://acme.localhost:"+port || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("discovery over TLS: issuer %v, HSTS %q", d["issuer"], resp.Header.Get("Strict-Transport-Security"))
	}
	// Plain http on the TLS port is refused.
	plain := &http.Client{Timeout: 2 * time.Second}
	if r, err := plain.Get("http://" + addr + "/readyz"); err == nil && r.StatusCode < 400 {
		t.Error("plain http answered on the TLS listener")
	}
}

// wildcardCert writes a self-signed certificate for localhost and
// *.localhost, as a site would have for example.com and *.example.com.
func wildcardCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames:  []string{"localhost", "*.localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile, pool
}

// certificate is a self-signed certificate for names, valid from notBefore
// to notAfter, written to dir as a PEM pair.
func certificate(t *testing.T, dir string, names []string, notBefore, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "cognate test"},
		DNSNames: names, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// A certificate no client would accept from this server stops the start;
// one that leaves the apex or some tenants uncovered is warned of.
func TestCheckCertificate(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	valid := func(names ...string) ([]string, time.Time, time.Time) {
		return names, now.Add(-24 * time.Hour), now.Add(90 * 24 * time.Hour)
	}
	tests := []struct {
		name     string
		cert     func() ([]string, time.Time, time.Time)
		err      string   // in the error; "" means none
		warnings []string // each in one warning, in order
	}{
		{name: "apex and wildcard", cert: func() ([]string, time.Time, time.Time) { return valid("example.com", "*.example.com") }},
		{name: "capitals", cert: func() ([]string, time.Time, time.Time) { return valid("Example.COM", "*.example.com") }},
		{name: "expired", cert: func() ([]string, time.Time, time.Time) {
			names, _, _ := valid("example.com", "*.example.com")
			return names, now.Add(-90 * 24 * time.Hour), now.Add(-time.Hour)
		}, err: "TLS certificate {file} expired on 2026-11-29 11:00 UTC, and clients refuse it: renew it and start cognate again"},
		{name: "not valid yet", cert: func() ([]string, time.Time, time.Time) {
			names, _, _ := valid("example.com", "*.example.com")
			return names, now.Add(time.Hour), now.Add(90 * 24 * time.Hour)
		}, err: "TLS certificate {file} is valid from 2026-11-29 13:00 UTC only"},
		{name: "another site", cert: func() ([]string, time.Time, time.Time) { return valid("example.org", "*.example.org") },
			err: "TLS certificate {file} is for example.org, *.example.org, and no tenant's host: every tenant (such as acme.example.com) would fail TLS"},
		{name: "apex only", cert: func() ([]string, time.Time, time.Time) { return valid("example.com") },
			err: "is for example.com, and no tenant's host"},
		{name: "wildcard only", cert: func() ([]string, time.Time, time.Time) { return valid("*.example.com") },
			warnings: []string{"TLS certificate {file} does not cover example.com, the apex (\"find your organization\")"}},
		{name: "tenants by name", cert: func() ([]string, time.Time, time.Time) {
			return valid("example.com", "acme.example.com", "globex.example.com")
		},
			warnings: []string{"TLS certificate {file} does not cover *.example.com, only acme.example.com, globex.example.com: the host of a tenant it does not name fails TLS"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			names, from, until := tc.cert()
			certFile, keyFile := certificate(t, t.TempDir(), names, from, until)
			cfg := devDefaults()
			cfg.BaseURL, cfg.TLSCert, cfg.TLSKey = "https://example.com", certFile, keyFile
			conf, warnings, err := loadCertificate(cfg, now)
			if tc.err != "" {
				if want := strings.ReplaceAll(tc.err, "{file}", certFile); err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("error %v\nwant %s", err, want)
				}
				return
			}
			if err != nil || conf == nil {
				t.Fatalf("loadCertificate: %v", err)
			}
			if len(warnings) != len(tc.warnings) {
				t.Fatalf("warnings %q, want %d", warnings, len(tc.warnings))
			}
			for i, w := range tc.warnings {
				if want := strings.ReplaceAll(w, "{file}", certFile); !strings.Contains(warnings[i], want) {
					t.Errorf("warning %q\nwant %s", warnings[i], want)
				}
			}
		})
	}
}

// A refused certificate stops the start before the data file is opened or
// dev mode writes its token and key files.
func TestExpiredCertificateStopsTheStartFirst(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := certificate(t, dir, []string{"localhost", "*.localhost"}, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	data := t.TempDir()
	cfg, err := LoadConfig([]string{"--listen", "127.0.0.1:0", "--data", filepath.Join(data, "cognate.db"),
		"--tls-cert", certFile, "--tls-key", keyFile}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// Cancelled already: a server that went on past the certificate stops
	// at once instead of serving.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = runServe(ctx, cfg, nil, slog.New(slog.NewTextHandler(t.Output(), nil)), t.Output())
	if err == nil || !strings.Contains(err.Error(), "TLS certificate "+certFile+" expired on") {
		t.Fatalf("runServe: %v, want the certificate refused", err)
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("the data directory holds %d files after the refusal", len(entries))
	}
}
