package engine_test

import (
	"strings"
	"testing"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
)

// TestCompileRefusesCycles: the loader reports cycles with their position; the compiler refuses
// them too, so a model built some other way never loops.
func TestCompileRefusesCycles(t *testing.T) {
	for _, tc := range []struct {
		note              string
		requires, implies map[string][]string
		want              string
	}{
		{note: "requires", requires: map[string][]string{"a=x": {"b=x"}, "b=x": {"a=x"}}, want: "requires cycle"},
		{note: "implies", implies: map[string][]string{"a=x": {"a=x"}}, want: "implies cycle"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			m := &config.Model{Catalog: &config.Catalog{
				Features: map[string]*config.Feature{"a": {Actions: []string{"x"}}, "b": {Actions: []string{"x"}}},
				Requires: tc.requires, Implies: tc.implies,
			}}
			if _, err := engine.Compile(m); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestCompileClosures: requires and implies are closed transitively.
func TestCompileClosures(t *testing.T) {
	m := &config.Model{Catalog: &config.Catalog{
		Features: map[string]*config.Feature{"a": {Actions: []string{"x", "y", "z"}}},
		Requires: map[string][]string{"a=x": {"a=y"}, "a=y": {"a=z"}},
		Implies:  map[string][]string{"a=z": {"a=y"}, "a=y": {"a=x"}},
	}, Sets: []*config.PermissionSet{{ID: "s", Instances: []string{"i"}, Name: "S", Enabled: true,
		Permissions: []string{"a=z"}, Parsed: []config.Permission{config.MustParsePermission("a=z")}}},
		Instances: []*config.Instance{{ID: "i", Name: "i"}}}
	idx, err := engine.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(idx.Requirements("a=x"), ","); got != "a=y,a=z" {
		t.Errorf("requires closure of a=x = %s", got)
	}
	s, _ := idx.Set("s")
	if keys := strings.Join(s.Permissions, ","); keys != "a=x,a=y,a=z" {
		t.Errorf("a=z implies a=y implies a=x: grants %v", keys)
	}
}
