package jsondepth

import (
	"strings"
	"testing"
)

func TestExceeds(t *testing.T) {
	for _, tc := range []struct {
		note  string
		raw   string
		limit int
		want  bool
	}{
		{"flat", `{"a": 1}`, 1, false},
		{"at the limit", `{"a": [1]}`, 2, false},
		{"over the limit", `{"a": [[1]]}`, 2, true},
		{"brackets in a string do not count", `{"a": "[[[[{{{{"}`, 1, false},
		{"an escaped quote keeps the string open", `{"a": "\"[[[["}`, 1, false},
		{"deep array", strings.Repeat("[", 65) + strings.Repeat("]", 65), 64, true},
		{"empty", ``, 0, false},
	} {
		if got := Exceeds([]byte(tc.raw), tc.limit); got != tc.want {
			t.Errorf("%s: Exceeds(%q, %d) = %v, want %v", tc.note, tc.raw, tc.limit, got, tc.want)
		}
	}
}
