package tenant_test

import (
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// Service.Time is the one way to ask the service's clock: Now when it is
// set, the system's clock when not, in UTC either way.
func TestServiceTime(t *testing.T) {
	amsterdam := time.FixedZone("CET", 3600)
	fixed := time.Date(2030, 1, 2, 4, 4, 5, 0, amsterdam)
	before := time.Now()
	tests := []struct {
		name string
		svc  *tenant.Service
		ok   func(got time.Time) bool
	}{
		{"Now set", &tenant.Service{Now: func() time.Time { return fixed }},
			func(got time.Time) bool { return got.Equal(fixed) }},
		{"no Now", &tenant.Service{},
			func(got time.Time) bool { return !got.Before(before.Truncate(time.Second)) && !got.After(time.Now()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.svc.Time()
			if !tt.ok(got) || got.Location() != time.UTC {
				t.Errorf("Time() = %v", got)
			}
		})
	}
}
