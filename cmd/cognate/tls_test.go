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
	go func() { done <- runServe(ctx, cfg, slog.New(slog.NewTextHandler(t.Output(), nil)), t.Output()) }()
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
