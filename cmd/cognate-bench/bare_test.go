package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBareServerAnswersWhatItWasGiven: the baseline is only fair if the bare
// server sends the same bytes and headers Cognate sent.
func TestBareServerAnswersWhatItWasGiven(t *testing.T) {
	docs := []bareDocument{{
		Path:   pathJWKS,
		Header: http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"public, max-age=300"}},
		Body:   []byte(`{"keys":[]}`),
	}, {
		Path:   pathToken,
		Header: http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
		Body:   []byte(`{"access_token":"x"}`),
		Sign:   true,
	}}
	input, _ := json.Marshal(docs)
	ctx, cancel := context.WithCancel(context.Background())
	out, addrOut := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- serveBare(ctx, strings.NewReader(string(input)), addrOut, -1) }()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + strings.TrimSpace(addr)

	resp, err := http.Get(base + pathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != `{"keys":[]}` {
		t.Errorf("GET %s = %d %q", pathJWKS, resp.StatusCode, body)
	}
	for _, k := range []string{"Content-Type", "Cache-Control"} {
		if got, want := resp.Header.Get(k), docs[0].Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// The token document signs, and so reads the form as a token endpoint
	// must: a form it cannot parse is refused.
	resp, err = http.Post(base+pathToken, "application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != `{"access_token":"x"}` || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("POST %s = %d %q %v", pathToken, resp.StatusCode, body, resp.Header)
	}
	resp, err = http.Post(base+pathToken, "application/x-www-form-urlencoded", strings.NewReader("grant_type=%zz"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST %s with a malformed form: %s, want 400", pathToken, resp.Status)
	}

	resp, err = http.Get(base + pathDiscovery)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a document it was not given: %s, want 404", resp.Status)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("serveBare after its context ended: %v", err)
	}
}
