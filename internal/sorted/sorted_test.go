package sorted

import (
	"slices"
	"testing"
)

func TestKeys(t *testing.T) {
	if got := Keys(map[string]int{"b": 1, "a": 2, "c": 3}); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("Keys = %v", got)
	}
	if got := Keys(map[string]bool(nil)); got == nil || len(got) != 0 {
		t.Fatalf("Keys(nil) = %#v, want an empty slice", got)
	}
}
