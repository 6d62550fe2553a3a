package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// Setup goes on over a tenant or a user an earlier run made (409), and
// stops at any other refusal, whatever its message says: a failure whose
// body happens to hold "409" is still a failure.
func TestSetupGoesOnOnlyOverWhatExists(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantFailed bool
	}{
		{"the tenant is new", http.StatusCreated, `{}`, false},
		{"the tenant exists", http.StatusConflict, `{"error":"already_exists","message":"tenant \"bench-rs\" exists"}`, false},
		{"the server fails", http.StatusInternalServerError, `{"error":"internal_error","message":"request 409 failed"}`, true},
		{"a bad request", http.StatusBadRequest, `{"error":"invalid_request","message":"409 is not a signing algorithm"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/admin/v1/tenants":
					w.WriteHeader(tt.status)
					w.Write([]byte(tt.body))
				case "/admin/v1/tenants/bench-rs/clients":
					w.Write([]byte(`{"client_id":"c1","client_secret":"s1"}`))
				case "/admin/v1/tenants/bench-rs/users":
					w.WriteHeader(http.StatusConflict)
					w.Write([]byte(`{"error":"already_exists","message":"username taken"}`))
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			base, _ := url.Parse(srv.URL)
			f, err := setup(t.Context(), options{server: base, token: "t"}, srv.Client(), "bench-rs", "RS256")
			if tt.wantFailed {
				if err == nil {
					t.Fatalf("setup went on after a %d", tt.status)
				}
				return
			}
			if err != nil || f.machineID != "c1" {
				t.Fatalf("setup: %+v, %v", f, err)
			}
		})
	}
}
