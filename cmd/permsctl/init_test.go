package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"

	"github.com/permsets/permsets/internal/testutil"
	"github.com/permsets/permsets/plan"
)

// runCLI runs permsctl with args and returns the exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runWith(args, &out, &errb)
	return code, out.String(), errb.String()
}

// tree reads every file (and symbolic link) under dir: slash path to content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			files[rel] = "-> " + target
			return err
		case d.IsDir():
			if rel != "." {
				files[rel+"/"] = ""
			}
			return nil
		}
		data, err := os.ReadFile(p)
		files[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestInitIsExamplesCI: init with --instance prod --owner owner writes examples/ci, byte for
// byte, every file and nothing else.
func TestInitIsExamplesCI(t *testing.T) {
	top := t.TempDir()
	code, out, errOut := runCLI(t, "-C", top, "init", "examples/ci", "--instance", "prod", "--owner", "owner")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	got, want := tree(t, filepath.Join(top, "examples/ci")), tree(t, "../../examples/ci")
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if got[name] != want[name] {
			t.Errorf("%s differs from examples/ci:\n%s", name, got[name])
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("init wrote %s, which examples/ci does not have", name)
		}
	}
	if !strings.Contains(out, "  .github/workflows/permsets.yml\n") || !strings.Contains(out, "--actor owner --bootstrap") {
		t.Errorf("output:\n%s", out)
	}
	// Nothing is left beside it.
	if entries, _ := os.ReadDir(filepath.Join(top, "examples")); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestInitStarterPlans: a starter repository validates, and its first plan (in a Git repository,
// over an empty base, by its owner with --bootstrap) has no deny, whatever the ids.
func TestInitStarterPlans(t *testing.T) {
	for _, tc := range []struct{ note, instance, owner string }{
		{"as examples/ci", "prod", "owner"},
		{"other ids", "eu-west.1", "alice_b"},
		{"ids YAML reads as numbers and booleans", "123", "true"},
		{"ids at the length limit", strings.Repeat("i", 63), strings.Repeat("o", 63)},
	} {
		t.Run(tc.note, func(t *testing.T) {
			top := t.TempDir()
			dir := filepath.Join(top, "access")
			if code, out, errOut := runCLI(t, "init", dir, "--instance", tc.instance, "--owner", tc.owner); code != exitOK {
				t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
			}
			for _, f := range []string{"instances/" + tc.instance + ".yaml", "sets/" + tc.instance + "/admin.yaml", "users/" + tc.owner + ".yaml"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Error(err)
				}
			}
			if code, out, errOut := runCLI(t, "validate", dir); code != exitOK || !strings.Contains(out, "valid (7 files, 7 documents)") {
				t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
			}
			// The starter tests pass, whatever the ids.
			if code, out, errOut := runCLI(t, "test", dir); code != exitOK || out != "3 passed, 0 failed\n" {
				t.Fatalf("test: exit %d\n%s%s", code, out, errOut)
			}
			testutil.WriteFile(t, top, "README.md", "a monorepo\n")
			repo, err := git.PlainInit(top, false)
			if err != nil {
				t.Fatal(err)
			}
			commitAll(t, repo, "init")
			code, out, errOut := runPlanCLI(t, dir, "--base", "empty", "--actor", tc.owner, "--bootstrap", "--format", "json")
			if code != exitOK {
				t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
			}
			var p plan.Plan
			if err := json.Unmarshal([]byte(out), &p); err != nil {
				t.Fatal(err)
			}
			if len(p.Deny) != 0 || len(p.Changes) != 6 {
				t.Errorf("deny %+v, %d changes", p.Deny, len(p.Changes))
			}
			// The owner holds admin (*=*) on the instance; staffer cannot manage users or settings.
			code, out, _ = runCLI(t, "-C", dir, "check", "--user", tc.owner, "--instance", tc.instance, "users=manage")
			if code != exitOK {
				t.Errorf("owner users=manage: exit %d %s", code, out)
			}
		})
	}
}

// TestInitRefusals: what init refuses writes nothing.
func TestInitRefusals(t *testing.T) {
	for _, tc := range []struct {
		note    string
		prepare func(t *testing.T, dir string) // dir does not exist yet
		args    []string
		code    int
		stderr  string
	}{
		{note: "a directory that is not empty", prepare: func(t *testing.T, dir string) { testutil.WriteFile(t, dir, "notes.txt", "mine\n") },
			code: exitProblems, stderr: "exists and is not empty"},
		{note: "a directory holding only a hidden file", prepare: func(t *testing.T, dir string) { testutil.WriteFile(t, dir, ".git/HEAD", "x\n") },
			code: exitProblems, stderr: "exists and is not empty"},
		{note: "a file", prepare: func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, code: exitProblems, stderr: "exists and is not a directory"},
		{note: "a symbolic link to an empty directory", prepare: func(t *testing.T, dir string) {
			target := t.TempDir()
			if err := os.Symlink(target, dir); err != nil {
				t.Fatal(err)
			}
		}, code: exitProblems, stderr: "is a symbolic link"},
		{note: "bad instance id", args: []string{"--instance", "Prod", "--owner", "owner"}, code: exitUsage, stderr: `--instance "Prod" is not an id`},
		{note: "instance id with a path", args: []string{"--instance", "../prod", "--owner", "owner"}, code: exitUsage, stderr: "is not an id"},
		{note: "bad owner id", args: []string{"--instance", "prod", "--owner", "-owner"}, code: exitUsage, stderr: `--owner "-owner" is not an id`},
		{note: "owner id too long", args: []string{"--instance", "prod", "--owner", strings.Repeat("o", 64)}, code: exitUsage, stderr: "at most 63 characters"},
		{note: "no owner", args: []string{"--instance", "prod"}, code: exitUsage, stderr: `"owner" not set`},
	} {
		t.Run(tc.note, func(t *testing.T) {
			top := t.TempDir()
			dir := filepath.Join(top, "access")
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			before := tree(t, top)
			args := tc.args
			if args == nil {
				args = []string{"--instance", "prod", "--owner", "owner"}
			}
			code, out, errOut := runCLI(t, append([]string{"init", dir}, args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, want %d; stderr %q, want %q; stdout %s", code, tc.code, errOut, tc.stderr, out)
			}
			if after := tree(t, top); !maps.Equal(before, after) {
				t.Errorf("init changed the tree:\nbefore %v\nafter  %v", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
			}
		})
	}
}

// TestInitEmptyDirectory: an existing empty directory is filled.
func TestInitEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := runCLI(t, "init", dir, "--instance", "prod", "--owner", "owner"); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// An absolute DIR is named by its last element in the README.
	if want := "# " + filepath.Base(dir) + ": plan on pull requests"; !strings.HasPrefix(string(readme), want) {
		t.Errorf("README starts %q, want %q", strings.SplitN(string(readme), "\n", 2)[0], want)
	}
	if code, out, errOut := runCLI(t, "validate", dir); code != exitOK {
		t.Errorf("validate: exit %d\n%s%s", code, out, errOut)
	}
}
