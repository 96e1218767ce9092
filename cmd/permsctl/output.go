package main

import (
	"encoding/json"
	"io"

	"github.com/permsets/permsets/engine"
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
