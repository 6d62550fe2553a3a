package ui_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mail"
	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
	"github.com/cognate-idp/cognate/ui"
)

// The development mailbox shows temporary passwords, and a dev-mode server
// may listen on every interface: only a client on this machine, by the
// connection's own address, reads it. Anyone else gets the page of an
// unknown address, and the log one line.
func TestDevMailOnlyForThisMachine(t *testing.T) {
	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(&logs, t.Output()), nil))
	base, _ := url.Parse("http://localhost:8080")
	prov, err := provider.New(provider.Config{Hosts: provider.Hosts{Base: base}, Store: store, Logger: logger, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := password.NewHasher(password.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	svc := &tenant.Service{Store: store, Hasher: hasher, Logger: logger, Now: time.Now, Changed: prov.Invalidate}
	sink := mail.NewDevSink(nil)
	const secret = "Temp-Pass-7f3c!"
	if err := sink.Send(t.Context(), mail.Message{ID: "m1", To: []string{"ann@example.com"}, Subject: "Welcome to Acme BV",
		Text: "Your temporary password is " + secret, HTML: "<p>Your temporary password is " + secret + "</p>"}); err != nil {
		t.Fatal(err)
	}
	pages, err := ui.New(ui.Pages{Provider: prov, Auth: &auth.Machine{Store: store, Hasher: hasher, Now: time.Now}, Service: svc,
		Logger: logger, DevMail: sink, Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	router := &provider.Router{Provider: prov, Apex: pages.Apex(), Tenant: pages.Tenant(), NotFound: pages.NotFound()}

	tests := []struct {
		name   string
		remote string
		xff    string
		ok     bool
	}{
		{"IPv4 loopback", "127.0.0.1:50000", "", true},
		{"other 127/8 address", "127.0.0.2:50000", "", true},
		{"IPv6 loopback", "[::1]:50000", "", true},
		{"IPv4-mapped loopback", "[::ffff:127.0.0.1]:50000", "", true},
		{"local proxy for a local client", "127.0.0.1:50000", "127.0.0.1", true},
		{"another machine", "192.0.2.2:50000", "", false},
		{"another machine claiming to be local", "192.0.2.2:50000", "127.0.0.1", false},
		{"local proxy for another machine", "127.0.0.1:50000", "198.51.100.7", false},
		{"local proxy, a hop from elsewhere", "[::1]:50000", "198.51.100.7, 127.0.0.1", false},
		{"local proxy, garbage forwarded", "127.0.0.1:50000", "unknown", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/dev/mail", "/dev/mail/m1", "/dev/mail/m1/html"} {
				r := httptest.NewRequest(http.MethodGet, "http://localhost:8080"+path, nil)
				r.RemoteAddr = tt.remote
				if tt.xff != "" {
					r.Header.Set("X-Forwarded-For", tt.xff)
				}
				logs.Reset()
				rec := httptest.NewRecorder()
				router.ServeHTTP(rec, r)
				body := rec.Body.String()
				shown := strings.Contains(body, secret) || strings.Contains(body, "Welcome to Acme BV")
				if tt.ok {
					if rec.Code != http.StatusOK || !shown {
						t.Errorf("%s: status %d, mail shown %v; want 200 with the mail", path, rec.Code, shown)
					}
					continue
				}
				if rec.Code != http.StatusNotFound || shown {
					t.Errorf("%s: status %d, mail shown %v; want 404 without the mail", path, rec.Code, shown)
				}
				lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
				if len(lines) != 1 || !strings.Contains(lines[0], "development mailbox refused") {
					t.Errorf("%s: log %q, want one line saying the mailbox was refused", path, lines)
				}
			}

			// The start page links to the mailbox only for whom it opens.
			r := httptest.NewRequest(http.MethodGet, "http://localhost:8080/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, r)
			if linked := strings.Contains(rec.Body.String(), `href="/dev/mail"`); rec.Code != http.StatusOK || linked != tt.ok {
				t.Errorf("start page: status %d, links to the mailbox %v; want 200, %v", rec.Code, linked, tt.ok)
			}
		})
	}
}
