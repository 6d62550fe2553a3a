package ui_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cognate-idp/cognate/ui"
)

// Every page, of the sign-in pages and of the console, goes out with the
// same headers; only its Content-Security-Policy is its own.
func TestWritePage(t *testing.T) {
	rec := httptest.NewRecorder()
	ui.WritePage(rec, http.StatusForbidden, "default-src 'self'", []byte("<!doctype html><p>No."))
	want := http.Header{
		"Content-Type":            {"text/html; charset=utf-8"},
		"Content-Security-Policy": {"default-src 'self'"},
		"Cache-Control":           {"no-store"},
		"Content-Length":          {"21"},
	}
	for name, values := range want {
		if got := rec.Header().Values(name); len(got) != 1 || got[0] != values[0] {
			t.Errorf("%s: %q, want %q", name, got, values)
		}
	}
	if len(rec.Header()) != len(want) || rec.Code != http.StatusForbidden || rec.Body.String() != "<!doctype html><p>No." {
		t.Errorf("%d %v %q", rec.Code, rec.Header(), rec.Body)
	}
}
