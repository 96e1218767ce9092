package testutil

import (
	"path/filepath"
	"testing"

	"github.com/permsets/permsets/internal/synth"
)

// Generated writes a generated repository (synth.Generate) into a new temporary directory, gen,
// and returns it. Its size is that of size (Instances, Sets, Users, Roles, Pairs); every other
// option is the default, with 10 inputs.
func Generated(t testing.TB, size synth.Options) string {
	t.Helper()
	o := synth.DefaultOptions()
	o.Out = filepath.Join(t.TempDir(), "gen")
	o.Instances, o.Sets, o.Users, o.Roles, o.Pairs, o.Inputs = size.Instances, size.Sets, size.Users, size.Roles, size.Pairs, 10
	if _, err := synth.Generate(o); err != nil {
		t.Fatal(err)
	}
	return o.Out
}
