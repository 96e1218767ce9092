package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/permsets/permsets/internal/testutil"
)

// TestPathsAreRelativeToChdir: with -C DIR every relative path of a command is taken in DIR,
// as git -C does: build's, plan's, audit's and export's -o (apply's --plan and import's FILE
// resolve through the same globals.path).
func TestPathsAreRelativeToChdir(t *testing.T) {
	dir := testutil.CopyTree(t, "../../examples/nation")
	for _, tc := range []struct {
		name string
		args []string
		file string
	}{
		{"build -o", []string{"build", "-o", "out/bundle.tar.gz"}, "out/bundle.tar.gz"},
		{"plan -o", []string{"plan", "--base", ".", "-o", "out/plan.json"}, "out/plan.json"},
		{"audit -o", []string{"audit", "--format", "csv", "-o", "out/audit.csv"}, "out/audit.csv"},
		{"export -o", []string{"export", "finance", "-o", "out/finance.json"}, "out/finance.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
				t.Fatal(err)
			}
			if code, _, errOut := runCLI(t, append([]string{"-C", dir}, tc.args...)...); code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if _, err := os.Stat(filepath.Join(dir, tc.file)); err != nil {
				t.Errorf("%s was not written in the -C directory: %v", tc.file, err)
			}
			if _, err := os.Stat(tc.file); err == nil {
				t.Errorf("%s was written relative to the current directory", tc.file)
			}
		})
	}
}
