// Package sorted holds the small helpers that make output deterministic.
package sorted

import "sort"

// Keys returns the keys of m in increasing order.
func Keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
