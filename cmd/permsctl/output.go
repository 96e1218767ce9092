package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/atomicfile"
)

// writeJSON writes v indented, as every --format json output is.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// evalNow is the evaluation time: the wall clock (inputs carry their own time when asked).
func evalNow() engine.EvalOptions { return engine.EvalOptions{} }

// asList returns a JSON array result as a slice (nil stays empty).
func asList(v any) []any {
	l, _ := v.([]any)
	if l == nil {
		return []any{}
	}
	return l
}

// queryFlags are the flags every command that answers from a revision shares.
type queryFlags struct {
	atTime, rev, format string
}

func (q *queryFlags) bind(f *pflag.FlagSet, timeHelp string) {
	f.StringVar(&q.atTime, "time", "", timeHelp+" (RFC 3339; default now)")
	f.StringVar(&q.rev, "rev", "", "answer from this Git revision of the repository instead of the working tree")
	f.StringVar(&q.format, "format", "text", "output format: text or json")
}

// addTime adds a checked --time to an input.
func (q *queryFlags) addTime(in map[string]any) error {
	if q.atTime == "" {
		return nil
	}
	if _, err := time.Parse(time.RFC3339, q.atTime); err != nil {
		return fmt.Errorf("--time %q is not RFC 3339 (like 2026-12-31T23:59:59Z)", q.atTime)
	}
	in["time"] = q.atTime
	return nil
}

// writeFileAtomic writes a file the user asked for (a plan, a bundle, an export, a report) so
// that a failed write never leaves half a file behind.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	return atomicfile.Write(path, 0o644, write)
}
