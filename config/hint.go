package config

import (
	"fmt"
)

// didYouMean returns a hint naming the candidate closest to s, or "" when none is close.
func didYouMean(s string, candidates []string) string {
	best, bestDist := "", 0
	limit := len(s)/3 + 1
	for _, c := range candidates {
		if d := levenshtein(s, c, limit); d <= limit && d < len(s) && d < len(c) && (best == "" || d < bestDist || d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// levenshtein is the edit distance of a and b, or a number above limit once it is certain to
// exceed it.
func levenshtein(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// hinter gives did-you-mean hints within a budget, so a repository with many dangling
// references does not spend its time comparing strings.
type hinter struct{ budget int }

func (h *hinter) hint(s string, candidates func() []string) string {
	if h.budget <= 0 {
		return ""
	}
	h.budget--
	return didYouMean(s, candidates())
}
