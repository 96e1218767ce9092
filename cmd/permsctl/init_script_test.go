package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/permsets/permsets/internal/testutil"
)

// TestAuthoringScripts runs testdata/authoring/*.txtar: init, export, import and duplicate with
// the real permsctl binary (TestMain registers it).
func TestAuthoringScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/authoring",
		Setup:         func(env *testscript.Env) error { env.Setenv("NO_COLOR", "1"); return nil },
		UpdateScripts: testutil.UpdateGolden(),
	})
}
