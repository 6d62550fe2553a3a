package provider_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Userinfo's answers to bad requests follow RFC 6750 §3: the challenge in
// WWW-Authenticate, and, as at every other endpoint, OAuth's JSON error in
// the body (the library answered a missing or unverifiable token in plain
// text). A token sent twice, in the header and in the body, is refused
// (RFC 6750 §2: one method per request) rather than one of them read.
func TestUserinfoRefusals(t *testing.T) {
	h := newHarness(t)
	f := h.fixture("acme", false)
	tok := h.signIn(f, h.oauthConfig(f))
	parts := strings.Split(tok.AccessToken, ".")
	parts[2] = strings.Repeat("A", len(parts[2]))
	tampered := strings.Join(parts, ".")
	body := func(at string) string { return url.Values{"access_token": {at}}.Encode() }
	tests := []struct {
		name          string
		method        string
		authorization string // the Authorization header, if any
		form          string // the POST body, if any
		status        int
		challenge     string // WWW-Authenticate
		code          string // the JSON body's error
	}{
		{"no token", http.MethodGet, "", "", http.StatusUnauthorized, "Bearer", "invalid_token"},
		{"no token, empty POST", http.MethodPost, "", "x=1", http.StatusUnauthorized, "Bearer", "invalid_token"},
		{"garbage token", http.MethodGet, "Bearer garbage", "", http.StatusUnauthorized, `Bearer error="invalid_token"`, "invalid_token"},
		{"tampered token", http.MethodGet, "Bearer " + tampered, "", http.StatusUnauthorized, `Bearer error="invalid_token"`, "invalid_token"},
		{"tampered token in the body", http.MethodPost, "", body(tampered), http.StatusUnauthorized, `Bearer error="invalid_token"`, "invalid_token"},
		{"token in the header and the body", http.MethodPost, "Bearer " + tok.AccessToken, body(tok.AccessToken), http.StatusBadRequest, `Bearer error="invalid_request"`, "invalid_request"},
		{"different tokens in the header and the body", http.MethodPost, "Bearer " + tampered, body(tok.AccessToken), http.StatusBadRequest, `Bearer error="invalid_request"`, "invalid_request"},
		{"token in the header", http.MethodGet, "Bearer " + tok.AccessToken, "", http.StatusOK, "", ""},
		{"token in the body", http.MethodPost, "", body(tok.AccessToken), http.StatusOK, "", ""},
		{"Basic credentials beside the token in the body", http.MethodPost, "Basic " + "eDp5", body(tok.AccessToken), http.StatusOK, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, h.issuer("acme")+"/oauth2/userInfo", strings.NewReader(tc.form))
			if tc.form != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			resp, err := h.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			decodeErr := jsonDecode(resp, &got)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tc.status, got)
			}
			if challenge := resp.Header.Get("WWW-Authenticate"); challenge != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", challenge, tc.challenge)
			}
			if decodeErr != nil || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("Content-Type %q, body not JSON: %v", resp.Header.Get("Content-Type"), decodeErr)
			}
			if tc.code == "" {
				if got["sub"] != f.user.Sub {
					t.Errorf("userinfo %v, want ann's claims", got)
				}
				return
			}
			if got["error"] != tc.code || got["error_description"] == "" || got["error_description"] == nil {
				t.Errorf("body %v, want error %s with a description", got, tc.code)
			}
		})
	}
}

// jsonDecode reads resp's body as JSON into v and closes it.
func jsonDecode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
