package cognitoimport_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/cognate-idp/cognate/tenant/cognitoimport"
)

// generatedCSV is a Cognito CSV of n users without passwords, made as it is
// read, so that neither the benchmark nor the memory test holds the file.
type generatedCSV struct {
	n, next int
	buf     bytes.Buffer
}

func newGeneratedCSV(n int) *generatedCSV {
	g := &generatedCSV{n: n, next: 1}
	g.buf.WriteString("cognito:username,name,given_name,family_name,email,email_verified,phone_number,phone_number_verified," +
		"locale,updated_at,custom:org,cognito:mfa_enabled\n")
	return g
}

func (g *generatedCSV) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.next <= g.n {
		i := g.next
		fmt.Fprintf(&g.buf, "user%07d,Given%d Family%d,Given%d,Family%d,user%07d@example.com,TRUE,+3161%07d,FALSE,nl,1471453471,org-%d,FALSE\n",
			i, i, i, i, i, i, i, i%50)
		g.next++
	}
	if g.buf.Len() == 0 {
		return 0, io.EOF
	}
	return g.buf.Read(p)
}

// BenchmarkImportCSV imports b.N users without a password into a fresh
// bbolt file, in the default batches. Run it with a fixed count, as
//
//	go test -run '^$' -bench ImportCSV -benchtime 100000x -count 3 ./tenant/cognitoimport/
//
// so that each run is one import of that many users (docs/benchmarks.md).
func BenchmarkImportCSV(b *testing.B) {
	f := newFixture(b)
	src, err := cognitoimport.NewCSVReader(newGeneratedCSV(b.N))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	sum, err := cognitoimport.Import(context.Background(), f.store, "acme", src, cognitoimport.Options{}, nil)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if sum.Created != b.N {
		b.Fatalf("summary %+v, want %d created", sum, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "users/s")
}

// TestImportMemoryIsFlat streams 200,000 users through a pipe into a real
// store and checks that the heap stays small: what the import holds is one
// batch, not the file.
func TestImportMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 200,000 users")
	}
	const users = 200_000
	const bound = 64 << 20 // bytes of heap in use, at most
	f := newFixture(t)
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, newGeneratedCSV(users))
		pw.CloseWithError(err)
	}()
	src, err := cognitoimport.NewCSVReader(pr)
	if err != nil {
		t.Fatal(err)
	}
	var peak uint64
	var ms runtime.MemStats
	seen := 0
	sum, err := cognitoimport.Import(t.Context(), f.store, "acme", src, cognitoimport.Options{}, func(cognitoimport.LineResult) {
		seen++
		if seen%10_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Created != users {
		t.Fatalf("summary %+v", sum)
	}
	t.Logf("%d users imported; peak heap in use %.1f MiB", users, float64(peak)/(1<<20))
	if peak > bound {
		t.Errorf("peak heap in use %.1f MiB, over the bound of %d MiB", float64(peak)/(1<<20), bound>>20)
	}
}
