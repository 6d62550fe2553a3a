package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
)

// A console page error's line keeps its own message, as the tenant pages'
// does (ui's TestPageErrorLineKeepsItsMessage): the sentence shown goes
// under "message", not under a second "msg". Its host is the one the
// browser used, behind a trusted proxy the X-Forwarded-Host.
func TestConsolePageErrorLineKeepsItsMessage(t *testing.T) {
	var log bytes.Buffer
	base, _ := url.Parse("https://example.com")
	prv, err := provider.New(provider.Config{
		Hosts: provider.Hosts{Base: base, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32")}},
		Now:   time.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Console{Service: &tenant.Service{}, Provider: prv, Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/admin/users", nil)
	r.Host, r.RemoteAddr = "cognate.internal:8080", "10.0.0.5:41000"
	r.Header.Set("X-Forwarded-Host", "acme.example.com")
	c.fail(httptest.NewRecorder(), r, nil, &pageError{status: http.StatusForbidden, msg: "error.csrf", err: errors.New("missing or wrong form token")})
	var line map[string]any
	if err := json.Unmarshal(log.Bytes(), &line); err != nil {
		t.Fatalf("%v:\n%s", err, log.String())
	}
	if line["msg"] != "console page error" || line["message"] != "error.csrf" {
		t.Errorf("msg %q, message %q; want %q and %q:\n%s", line["msg"], line["message"], "console page error", "error.csrf", log.String())
	}
	if line["host"] != "acme.example.com" {
		t.Errorf("host %q, want the forwarded acme.example.com:\n%s", line["host"], log.String())
	}
}
