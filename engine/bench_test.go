package engine_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/synth"
)

// benchRepo is the repository benchmarks run on: $PERMSETS_BENCH_DIR (make bench points it at
// the large generated repository), else a medium one generated once.
type benchRepo struct {
	model   *config.Model
	bundle  *engine.Bundle
	eval    *engine.Evaluator
	inputs  []ast.Value
	raw     []map[string]any
	compile time.Duration
	heap    uint64
}

var (
	benchOnce sync.Once
	bench     benchRepo
	benchErr  error
)

func loadBench(b *testing.B) *benchRepo {
	b.Helper()
	benchOnce.Do(func() {
		dir := os.Getenv("PERMSETS_BENCH_DIR")
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "permsets-bench-medium")
			if _, err := os.Stat(filepath.Join(dir, "inputs.jsonl")); err != nil {
				o := synth.DefaultOptions()
				o.Out, o.Force, o.Instances, o.Sets, o.Users, o.Roles, o.Pairs = dir, true, 3, 1000, 10000, 100, 100000
				if _, benchErr = synth.Generate(o); benchErr != nil {
					return
				}
			}
		}
		ctx := context.Background()
		res, err := config.LoadDir(ctx, dir, config.Options{})
		if err != nil || !res.OK() {
			benchErr = err
			return
		}
		bench.model = res.Model
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		if bench.bundle, benchErr = engine.NewBundle(res.Model, ""); benchErr != nil {
			return
		}
		if bench.eval, benchErr = engine.NewEvaluator(ctx, bench.bundle); benchErr != nil {
			return
		}
		bench.compile = time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		bench.heap = after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
		f, err := os.Open(filepath.Join(dir, "inputs.jsonl"))
		if err != nil {
			benchErr = err
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() && len(bench.inputs) < 2000 {
			var in map[string]any
			if benchErr = json.Unmarshal(sc.Bytes(), &in); benchErr != nil {
				return
			}
			v, err := ast.InterfaceToValue(in)
			if err != nil {
				benchErr = err
				return
			}
			bench.inputs = append(bench.inputs, v)
			bench.raw = append(bench.raw, in)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return &bench
}

// timeEach runs fn once per iteration over the inputs and reports the median and p99 besides
// the mean that testing.B reports.
func timeEach(b *testing.B, n int, fn func(i int)) {
	b.Helper()
	b.ReportAllocs()
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		start := time.Now()
		fn(i % n)
		durations = append(durations, time.Since(start))
		i++
	}
	b.StopTimer()
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2].Nanoseconds())/1e3, "median-µs")
	b.ReportMetric(float64(durations[len(durations)*99/100].Nanoseconds())/1e3, "p99-µs")
}

func benchPath(b *testing.B, path string) {
	r := loadBench(b)
	ctx := context.Background()
	timeEach(b, len(r.inputs), func(i int) {
		if _, err := r.eval.EvalValue(ctx, path, r.inputs[i], engine.EvalOptions{}); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(r.compile.Seconds(), "compile-s")
	b.ReportMetric(float64(r.heap)/(1<<20), "index-heap-MiB")
}

// BenchmarkAllow: data.permsets.allow with a prepared query, one goroutine.
func BenchmarkAllow(b *testing.B) { benchPath(b, "allow") }

// BenchmarkDecision: data.permsets.decision (grants, missing, reason).
func BenchmarkDecision(b *testing.B) { benchPath(b, "decision") }

// naivePolicy is what a first Rego version would do over the plain model: scan the
// assignments and roles for the user, look the sets up and compare permission strings.
const naivePolicy = `package naive

default allow := false

allow if {
	some a in data.model.assignments
	a.instance == input.instance
	input.user in a.users
	some id in a.permissionSets
	some s in data.model.permissionSets
	s.id == id
	s.enabled
	input.permission in s.permissions
}

allow if {
	some r in data.model.roles
	input.user in r.members
	some ref in r.permissionSets
	some s in data.model.permissionSets
	ref == concat("/", [input.instance, s.id])
	s.enabled
	input.permission in s.permissions
}
`

// BenchmarkStockOPANaive: stock OPA, in-process, evaluating allow over the normalized model
// without the index (scanning assignments): the baseline the index is measured against.
func BenchmarkStockOPANaive(b *testing.B) {
	r := loadBench(b)
	ctx := context.Background()
	raw, err := json.Marshal(r.model)
	if err != nil {
		b.Fatal(err)
	}
	var model map[string]any
	if err := json.Unmarshal(raw, &model); err != nil {
		b.Fatal(err)
	}
	store := inmem.NewFromObjectWithOpts(map[string]any{"model": model}, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	q, err := rego.New(rego.Query("data.naive.allow"), rego.Module("naive.rego", naivePolicy), rego.Store(store), rego.StoreReadAST(true)).PrepareForEval(ctx)
	if err != nil {
		b.Fatal(err)
	}
	n := min(len(r.inputs), 50) // each scan is slow: a few inputs are enough for a median
	timeEach(b, n, func(i int) {
		if _, err := q.Eval(ctx, rego.EvalParsedInput(r.inputs[i])); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkWhoCan: the reverse lookup for permissions of the inputs.
func BenchmarkWhoCan(b *testing.B) {
	r := loadBench(b)
	ctx := context.Background()
	timeEach(b, len(r.raw), func(i int) {
		in := map[string]any{"instance": r.raw[i]["instance"], "permission": r.raw[i]["permission"]}
		if _, err := r.eval.Eval(ctx, "who_can", in, engine.EvalOptions{}); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkBuild: compiling the model into the index and writing the bundle.
func BenchmarkBuild(b *testing.B) {
	r := loadBench(b)
	b.ReportAllocs()
	for b.Loop() {
		bundle, err := engine.NewBundle(r.model, "")
		if err != nil {
			b.Fatal(err)
		}
		var size countingWriter
		if err := bundle.WriteTarGz(&size); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(size)/(1<<20), "bundle-MiB")
	}
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
