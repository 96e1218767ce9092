package config

import (
	"context"
	"os"
	"testing"
)

func BenchmarkParsePermission(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePermission("permset=assign('staffer', 'field-organizer')"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseFile: one file of the nation example, from bytes to decoded documents.
func BenchmarkParseFile(b *testing.B) {
	data, err := os.ReadFile("../examples/nation/catalog.yaml")
	if err != nil {
		b.Fatal(err)
	}
	v, err := kindSchemas()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if fr := parseFile(data, v); len(fr.problems) > 0 {
			b.Fatal(fr.problems)
		}
	}
}

// BenchmarkLoadDir loads a repository: the nation example, or $PERMSETS_BENCH_DIR (a tree
// written by permsgen; make bench sets it up).
func BenchmarkLoadDir(b *testing.B) {
	dir := os.Getenv("PERMSETS_BENCH_DIR")
	if dir == "" {
		dir = "../examples/nation"
	}
	for _, tc := range []struct {
		name  string
		cache bool
	}{{"cold", false}, {"cached", true}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := Options{}
			if tc.cache {
				opts.Cache = NewCache()
				if _, err := LoadDir(context.Background(), dir, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := LoadDir(context.Background(), dir, opts)
				if err != nil {
					b.Fatal(err)
				}
				if !res.OK() {
					b.Fatal(res.Problems[0])
				}
			}
		})
	}
}
