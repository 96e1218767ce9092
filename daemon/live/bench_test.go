package live

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/permsets/permsets/daemon/snapshot"
)

// dirFS is a Source over a directory that never signals: the benchmark calls LoadOnce itself.
type dirFS string

func (d dirFS) Open(context.Context) (fs.FS, string, io.Closer, error) {
	return os.DirFS(string(d)), "", nil, nil
}
func (d dirFS) Changes(context.Context) <-chan struct{} { return nil }
func (d dirFS) String() string                          { return "dir " + string(d) }

// BenchmarkReloadOneLineChange is what a reload costs after a one-line edit of a large
// repository ($PERMSETS_BENCH_DIR, as make bench generates it): the parse cache is warm, one
// file is parsed again, the revision is compiled and prepared. It reports the heap the served
// revision and the reloader keep (heap-MiB, after a GC with the snapshot live).
func BenchmarkReloadOneLineChange(b *testing.B) {
	src := os.Getenv("PERMSETS_BENCH_DIR")
	if src == "" {
		b.Skip("PERMSETS_BENCH_DIR is not set (make bench sets it)")
	}
	dir := filepath.Join(b.TempDir(), "repo")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		b.Fatal(err)
	}
	state := &snapshot.State{}
	r := NewReloader(Options{Source: dirFS(dir), State: state})
	ctx := context.Background()
	start := time.Now()
	if err := r.LoadOnce(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("first load: %v", time.Since(start))
	path := filepath.Join(dir, "roles", "roles000.yaml")
	orig, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		changed := strings.Replace(string(orig), "name: ", "name: Changed "+strings.Repeat("x", i%7+1)+" ", 1)
		if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
			b.Fatal(err)
		}
		gen := state.Current().Generation
		b.StartTimer()
		if err := r.LoadOnce(ctx); err != nil {
			b.Fatal(err)
		}
		if state.Current().Generation == gen {
			b.Fatal("the change was not published")
		}
		if r.LastParsed() != 1 {
			b.Fatalf("parsed %d files after a one-file change", r.LastParsed())
		}
	}
	b.StopTimer()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	runtime.KeepAlive(state.Current())
}
