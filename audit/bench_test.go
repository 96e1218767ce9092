package audit

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/permsets/permsets/config"
)

// BenchmarkAudit is the audit's computation (compiling the index included, loading excluded) on
// $PERMSETS_BENCH_DIR: make bench points it at the large generated repository.
func BenchmarkAudit(b *testing.B) {
	dir := os.Getenv("PERMSETS_BENCH_DIR")
	if dir == "" {
		b.Skip("PERMSETS_BENCH_DIR is not set (make bench sets it)")
	}
	ctx := context.Background()
	res, err := config.LoadDir(ctx, dir, config.Options{})
	if err != nil || !res.OK() {
		b.Fatalf("%s: %v %v", dir, err, res.Problems)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := Compute(ctx, res.Model, Options{Now: now})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.Summary.Holdings), "holdings")
	}
}
