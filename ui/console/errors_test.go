package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui"
)

// A console refusal's line keeps its own message, as the tenant pages'
// does (ui's TestPageErrorLineKeepsItsMessage): the key of the sentence
// shown goes under "message", not under a second "msg". Its host is the
// one the browser used, behind a trusted proxy the X-Forwarded-Host.
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
	// No site in the request's context: the console has no tenant to
	// serve, which is not found.
	r := httptest.NewRequest(http.MethodGet, "/admin/users", nil)
	r.Host, r.RemoteAddr = "cognate.internal:8080", "10.0.0.5:41000"
	r.Header.Set("X-Forwarded-Host", "acme.example.com")
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	c.ServeHTTP(httptest.NewRecorder(), r)
	var line map[string]any
	if err := json.Unmarshal(log.Bytes(), &line); err != nil {
		t.Fatalf("%v:\n%s", err, log.String())
	}
	if line["msg"] != "console request refused" || line["message"] != "error.notFound" || line["status"] != float64(http.StatusNotFound) {
		t.Errorf("msg %q, message %q, status %v; want %q, %q and 404:\n%s", line["msg"], line["message"], line["status"],
			"console request refused", "error.notFound", log.String())
	}
	if line["host"] != "acme.example.com" {
		t.Errorf("host %q, want the forwarded acme.example.com:\n%s", line["host"], log.String())
	}
	if line["client_ip"] != "203.0.113.7" {
		t.Errorf("client_ip %q, want the forwarded 203.0.113.7:\n%s", line["client_ip"], log.String())
	}
}

// A group form names the two clashes of members still moving in its own
// words, and reads every other clash as any form does: a change made
// from an outdated page (tenant.ErrStale) says so, as on the other
// sections. Before, a group form said only "someone changed this at the
// same time" for it.
func TestGroupConflictSentences(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		field string
		key   string
	}{
		{"the name's members still move out", fmt.Errorf("update group: %w", tenant.ErrGroupNameMoving), "name", "problem.groupNameMoving"},
		{"the group's members still move in", fmt.Errorf("delete group: %w", tenant.ErrGroupMoving), "", "problem.groupMembersMoving"},
		{"a change from an outdated page", fmt.Errorf("update group: %w", tenant.ErrStale), "", "problem.stale"},
		{"another clash", fmt.Errorf("update group: %w", tenant.ErrConflict), "", "problem.conflict"},
		{"no clash", fmt.Errorf("update group: %w", tenant.ErrInvalid), "", ""},
		{"a fault", errors.New("disk on fire"), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prob := groupConflict(tc.err, "sales")
			if tc.key == "" {
				if prob != nil {
					t.Fatalf("groupConflict = %+v, want nil: no clash", *prob)
				}
				return
			}
			if prob == nil || prob.key != tc.key || prob.field != tc.field {
				t.Fatalf("groupConflict = %+v, want key %q at field %q", prob, tc.key, tc.field)
			}
			if got := prob.status(); got != http.StatusConflict {
				t.Errorf("groupConflict's problem is shown with %d, want 409: a clash, not a value to mend", got)
			}
		})
	}
}

// An error page that chose no heading gets the sign-in pages' heading
// for its status (ui.StatusHeading, whose cases ui tests), in both of the
// console's languages.
func TestStatusHeadings(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed,
		http.StatusConflict, http.StatusTooManyRequests, http.StatusInternalServerError} {
		key := ui.StatusHeading(status)
		for l, msgs := range catalogue {
			if msgs[key] == "" {
				t.Errorf("%s lacks the heading %q of status %d", l, key, status)
			}
		}
	}
}
