package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A command line that would measure nothing is refused before the server
// is touched: an unknown scenario printed an empty table, and --passes 0
// panicked when the median of no passes was taken.
func TestCheckFlags(t *testing.T) {
	tests := []struct {
		name        string
		scenarios   []string
		passes      int
		concurrency int
		duration    time.Duration
		want        []string // substrings of the error; none means accepted
	}{
		{name: "the defaults", scenarios: scenarioNames, passes: 3, concurrency: 32, duration: 10 * time.Second},
		{name: "one scenario", scenarios: []string{"login"}, passes: 1, concurrency: 1, duration: time.Second},
		{name: "unknown scenarios", scenarios: []string{"nosuch", "jwks", "alsonot"}, passes: 1, concurrency: 1, duration: time.Second,
			want: []string{`"nosuch" is not a scenario; the scenarios are healthz, discovery`, `"alsonot" is not a scenario`}},
		{name: "no scenario", passes: 1, concurrency: 1, duration: time.Second, want: []string{"--scenarios names none"}},
		{name: "no passes", scenarios: []string{"jwks"}, passes: 0, concurrency: 1, duration: time.Second, want: []string{"--passes 0: give 1 or more"}},
		{name: "no connections and no time", scenarios: []string{"jwks"}, passes: 1, concurrency: 0, duration: 0,
			want: []string{"--concurrency 0", "--duration 0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkFlags(tt.scenarios, tt.passes, tt.concurrency, tt.duration)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var usage usageError
			if !errors.As(err, &usage) {
				t.Fatalf("error %v, want a usageError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
