package tenant

import (
	"bytes"
	"crypto/rand"
	"testing"
	"testing/iotest"
)

func TestNewResetCode(t *testing.T) {
	tests := []struct {
		name string
		rng  []byte
		want string
	}{
		// crypto/rand.Int draws 20 bits and rejects values ≥ 10^6, so the
		// code is uniform and keeps its leading zeros.
		{"zero keeps its digits", []byte{0, 0, 0}, "000000"},
		{"largest", []byte{0x0f, 0x42, 0x3f}, "999999"},
		{"rejects 10^6 and draws again", []byte{0x0f, 0x42, 0x40, 0, 0, 7}, "000007"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newResetCode(bytes.NewReader(tt.rng))
			if err != nil || got != tt.want {
				t.Errorf("newResetCode = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := newResetCode(iotest.ErrReader(iotest.ErrTimeout)); err == nil {
		t.Error("a failing source gave a code")
	}
	seen := map[string]bool{}
	for range 200 {
		c, err := newResetCode(rand.Reader)
		if err != nil || len(c) != 6 {
			t.Fatalf("code %q, %v", c, err)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Errorf("only %d distinct codes in 200", len(seen))
	}
}
