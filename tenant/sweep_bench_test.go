package tenant_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// The minute's sweep with 1,000 records due among many live ones: its cost
// follows the 1,000, not the live records ("full" is the scan that runs
// daily, for comparison).
func BenchmarkSweepExpired(b *testing.B) {
	const expired = 1000
	for _, bc := range []struct {
		live int
		full bool
	}{{1_000, false}, {100_000, false}, {100_000, true}} {
		name := fmt.Sprintf("live=%d", bc.live)
		if bc.full {
			name += "/full"
		}
		b.Run(name, func(b *testing.B) {
			store := openStore(b)
			now := sweepEpoch.Add(2 * time.Hour)
			live := now.Add(time.Hour)
			for start := 0; start < bc.live; start += 10_000 {
				mustUpdate(b, store, func(tx tenant.Tx) error {
					if err := tenant.PutTenant(tx, tenant.Tenant{Slug: "acme"}); err != nil {
						return err
					}
					for i := start; i < min(start+10_000, bc.live); i++ {
						key := fmt.Sprintf("at:live-%07d", i)
						if err := tenant.PutExpiring(tx, tenant.CollAccessTokens, "acme", key, record("sub", live), live); err != nil {
							return err
						}
					}
					return nil
				})
			}
			sweep := tenant.SweepExpired
			if bc.full {
				sweep = tenant.SweepExpiredFull
			}
			round := 0
			for b.Loop() {
				b.StopTimer()
				round++
				mustUpdate(b, store, func(tx tenant.Tx) error {
					for i := range expired {
						token := fmt.Sprintf("cookie-%d-%d", round, i)
						if err := tenant.StartSession(tx, "acme", token, "sub", nil, sweepEpoch, sweepEpoch, time.Hour); err != nil {
							return err
						}
					}
					return nil
				})
				b.StartTimer()
				n, err := sweep(b.Context(), store, now)
				if err != nil || n != expired {
					b.Fatalf("sweep = %d, %v; want %d", n, err, expired)
				}
			}
		})
	}
}
