package buffered_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cognate-idp/cognate/provider/buffered"
)

// A Response keeps what net/http would have sent: the first status written,
// 200 once a body is written without one, and the body; nothing written
// leaves the status 0; Send passes it on as net/http would have sent it. Its
// headers are its own, or the ones it was given.
func TestResponse(t *testing.T) {
	tests := []struct {
		name       string
		handler    func(w http.ResponseWriter)
		wantStatus int
		wantBody   string
	}{
		{"nothing", func(w http.ResponseWriter) {}, 0, ""},
		{"status only", func(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }, http.StatusNoContent, ""},
		{"body only", func(w http.ResponseWriter) { _, _ = w.Write([]byte("a")); _, _ = w.Write([]byte("b")) }, http.StatusOK, "ab"},
		{"first status wins", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadRequest)
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("no"))
		}, http.StatusBadRequest, "no"},
		{"status after body", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte("ok"))
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusOK, "ok"},
	}
	for _, tt := range tests {
		var r buffered.Response
		tt.handler(&r)
		if r.Status() != tt.wantStatus || string(r.Body()) != tt.wantBody {
			t.Errorf("%s: %d %q, want %d %q", tt.name, r.Status(), r.Body(), tt.wantStatus, tt.wantBody)
		}
		// Sent on, it is what the handler would have sent: 200 when
		// it wrote no status.
		sent := httptest.NewRecorder()
		r.Send(sent)
		wantSent := tt.wantStatus
		if wantSent == 0 {
			wantSent = http.StatusOK
		}
		if sent.Code != wantSent || sent.Body.String() != tt.wantBody {
			t.Errorf("%s: sent %d %q, want %d %q", tt.name, sent.Code, sent.Body, wantSent, tt.wantBody)
		}
	}

	var own buffered.Response
	own.Header().Set("Content-Type", "text/plain")
	if got := own.Header().Get("Content-Type"); got != "text/plain" {
		t.Errorf("own headers: Content-Type %q", got)
	}
	given := http.Header{}
	buffered.NewResponse(given).Header().Set("Cache-Control", "no-store")
	if got := given.Get("Cache-Control"); got != "no-store" {
		t.Errorf("given headers: Cache-Control %q, want it set on them", got)
	}

	// Sent on, a Response's own headers go with it.
	sent := httptest.NewRecorder()
	own.Send(sent)
	if got := sent.Header().Get("Content-Type"); got != "text/plain" {
		t.Errorf("own headers sent: Content-Type %q, want text/plain", got)
	}
}
