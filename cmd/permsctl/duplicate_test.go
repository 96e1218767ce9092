package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/permsets/permsets/internal/testutil"
	"github.com/permsets/permsets/plan"
)

func TestDuplicate(t *testing.T) {
	dir := testutil.CopyTree(t, "../../examples/nation")
	code, out, errOut := runCLI(t, "-C", dir, "duplicate", "admin", "admin-copy")
	if code != exitOK || out != "duplicated set admin as admin-copy (Admin (copy)) on hq, campaign: wrote sets/hq/admin-copy.yaml\n" {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	// Limits are plan's to enforce; duplicate only says what plan will deny.
	for _, hint := range []string{
		"hint: set admin-copy is not in instance hq's limits.editableSets: plan will deny this change (set-not-editable)",
		"hint: instance campaign now has 6 custom sets, over its limit of 5 (limits.maxCustomSets): plan will deny this change (custom-set-limit)",
	} {
		if !strings.Contains(errOut, hint) {
			t.Errorf("no %q in\n%s", hint, errOut)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "sets/hq/admin-copy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	copied := string(data)
	for _, want := range []string{"# Copy of set admin (sets/hq/admin.yaml).\n", "\nid: admin-copy\ninstances: [hq, campaign]\nname: Admin (copy)\ndescription: >-\n  Unrestricted access",
		"\npermissions:\n  - '*=*'\n"} {
		if !strings.Contains(copied, want) {
			t.Errorf("no %q in\n%s", want, copied)
		}
	}
	if strings.Contains(copied, "builtin") || strings.Contains(copied, "fixed") {
		t.Errorf("the copy is builtin or fixed:\n%s", copied)
	}
	if code, out, errOut := runCLI(t, "validate", dir); code != exitOK {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}

	// Permissions keep the order of the original file; --name names the copy.
	code, out, errOut = runCLI(t, "-C", dir, "duplicate", "volunteer-coordinator", "vc2", "--name", "Volunteer lead")
	if code != exitOK || !strings.Contains(out, "as vc2 (Volunteer lead) on campaign: wrote sets/campaign/vc2.yaml") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	data, _ = os.ReadFile(filepath.Join(dir, "sets/campaign/vc2.yaml"))
	if !strings.Contains(string(data), "permissions:\n  - people=read\n  - people=edit(assigned)\n  - people=export(assigned)\n  - communications=send\n  - permset=assign('field-organizer')\n") {
		t.Errorf("vc2.yaml:\n%s", data)
	}
}

// TestDuplicateOfFixedIsEditable: the copy of the fixed admin set can be changed once applied;
// the original cannot (the control that shows the plan would notice).
func TestDuplicateOfFixedIsEditable(t *testing.T) {
	base := testutil.CopyTree(t, "../../examples/ci")
	if code, out, errOut := runCLI(t, "-C", base, "duplicate", "admin", "admin-copy"); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, tc := range []struct {
		file, old, new string
		fixedDeny      bool
	}{
		{"sets/prod/admin-copy.yaml", `  - '*=*'`, `  - people=read`, false},
		{"sets/prod/admin.yaml", `permissions: ["*=*"]`, `permissions: [people=read]`, true},
	} {
		head := testutil.CopyTree(t, base)
		testutil.Replace(t, head, tc.file, tc.old, tc.new)
		code, out, errOut := runPlanCLI(t, head, "--base", base, "--format", "json")
		var p plan.Plan
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatalf("%v: exit %d\n%s%s", err, code, out, errOut)
		}
		if got := len(p.Changes) == 1 && strings.Contains(strings.Join(codes(p.Deny), ","), "fixed-set"); got != tc.fixedDeny || len(p.Changes) != 1 {
			t.Errorf("%s edited: %d changes, deny %v, want fixed-set %v", tc.file, len(p.Changes), codes(p.Deny), tc.fixedDeny)
		}
	}
}

func TestDuplicateRefusals(t *testing.T) {
	for _, tc := range []struct {
		note    string
		prepare func(t *testing.T, dir string)
		args    []string
		code    int
		stderr  string
	}{
		{note: "the new id exists", args: []string{"admin", "finance"}, code: exitProblems, stderr: "set finance already exists (sets/campaign/finance.yaml:5); choose another NEWID"},
		{note: "unknown set", args: []string{"nope", "x"}, code: exitProblems, stderr: `unknown set "nope"`},
		{note: "bad new id", args: []string{"admin", "Admin2"}, code: exitUsage, stderr: `NEWID "Admin2" is not an id`},
		{note: "new id with a path", args: []string{"admin", "../../x"}, code: exitUsage, stderr: "is not an id"},
		{note: "name clash on one of the instances, case-insensitively", args: []string{"finance", "f2", "--name", "STAFFER"}, code: exitProblems,
			stderr: `the name "STAFFER" is already used on instance campaign by set staffer (sets/hq/staffer.yaml:6); names are unique per instance, case-insensitively: choose another with --name`},
		{note: "the default name is taken", args: []string{"finance", "f2"}, code: exitProblems,
			prepare: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "sets/campaign/bookkeeper.yaml", "name: Bookkeeper", "name: Finance Reporting (Copy)")
			},
			stderr: `the name "Finance reporting (copy)" is already used on instance campaign by set bookkeeper`},
		{note: "name too long", args: []string{"finance", "f2", "--name", strings.Repeat("n", 129)}, code: exitProblems, stderr: "has 129 characters; a set's name has 1 to 128"},
		{note: "the path is a symbolic link out of the repository", args: []string{"finance", "f2"}, code: exitProblems,
			prepare: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, "sets/campaign"), filepath.Join(dir, "sets/campaign-sets")); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(t.TempDir(), filepath.Join(dir, "sets/campaign")); err != nil {
					t.Fatal(err)
				}
				testutil.WriteFile(t, dir, ".permsetsignore", "/sets/campaign\n")
			},
			stderr: "sets/campaign: a symbolic link leads out of the config root; refused; nothing written"},
		{note: "no new id", args: []string{"admin"}, code: exitUsage, stderr: "accepts 2 arg(s)"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			dir := testutil.CopyTree(t, "../../examples/nation")
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			before := tree(t, dir)
			code, out, errOut := runCLI(t, append([]string{"-C", dir, "duplicate"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) || out != "" {
				t.Errorf("exit %d, want %d; stderr %q, want %q; stdout %q", code, tc.code, errOut, tc.stderr, out)
			}
			if after := tree(t, dir); !maps.Equal(before, after) {
				t.Error("duplicate changed the tree")
			}
		})
	}
}
