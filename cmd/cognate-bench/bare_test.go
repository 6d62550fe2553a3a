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
