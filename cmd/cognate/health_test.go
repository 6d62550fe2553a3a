package main

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant/bolt"
)

// The health probes, answered in front of the Router, carry the headers
// the Router gives every response, and refuse other methods than GET and
// HEAD with 405 rather than falling through to a 404 page.
func TestHealthProbes(t *testing.T) {
	a := newTestApp(t)

	tests := []struct {
		method, url string
		status      int
		allow       string
	}{
		{http.MethodGet, "https://example.com/healthz", http.StatusOK, ""},
		{http.MethodHead, "https://example.com/healthz", http.StatusOK, ""},
		{http.MethodGet, "https://acme.example.com/readyz", http.StatusOK, ""},
		{http.MethodHead, "https://example.com/readyz", http.StatusOK, ""},
		{http.MethodPost, "https://example.com/healthz", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodDelete, "https://acme.example.com/healthz", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodPut, "https://example.com/readyz", http.StatusMethodNotAllowed, "GET, HEAD"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.url, func(t *testing.T) {
			w := httptest.NewRecorder()
			a.handler.ServeHTTP(w, httptest.NewRequest(tc.method, tc.url, nil))
			h := w.Result().Header
			if w.Code != tc.status || h.Get("Allow") != tc.allow {
				t.Errorf("status %d, Allow %q; want %d, %q", w.Code, h.Get("Allow"), tc.status, tc.allow)
			}
			for name, want := range map[string]string{
				"X-Content-Type-Options":    "nosniff",
				"X-Frame-Options":           "DENY",
				"Referrer-Policy":           "no-referrer",
				"Strict-Transport-Security": "max-age=31536000",
			} {
				if got := h.Get(name); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
}

// newTestApp is the app `cognate serve` builds for https://example.com, on
// a new data file, with the given settings besides: what a test of the
// assembled server needs without a listener.
func newTestApp(t *testing.T, args ...string) *app {
	t.Helper()
	a, store := assembleApp(t, filepath.Join(t.TempDir(), "cognate.db"), args...)
	t.Cleanup(func() { store.Close() })
	return a
}

// assembleApp builds the app for https://example.com on the data file at
// data, with the given settings besides, as a start of the server does;
// closing the store it returns ends it, so that a test can start again on
// the same file.
func assembleApp(t *testing.T, data string, args ...string) (*app, *bolt.Store) {
	t.Helper()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	cfg, err := LoadConfig(append([]string{"--data", data, "--base-url", "https://example.com",
		"--admin-token", "operator-token-operator", "--secret-key", key}, args...), nil, nil)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	secrets, err := loadSecrets(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(cfg.Data)
	if err != nil {
		t.Fatal(err)
	}
	a, err := buildApp(cfg, store, secrets, logger, time.Now)
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	return a, store
}
