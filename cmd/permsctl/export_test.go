package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/permsets/permsets/internal/testutil"
)

// decodeExport checks that out is an export matching schemas/export.schema.json and decodes it.
func decodeExport(t *testing.T, out string) map[string]any {
	t.Helper()
	var v map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := compileSchema(t, "export.schema.json").Validate(v); err != nil {
		t.Fatalf("output does not match schemas/export.schema.json: %#v\n%s", err, out)
	}
	return v
}

func TestExport(t *testing.T) {
	nation := "../../examples/nation"
	code, out, errOut := runCLI(t, "-C", nation, "export", "finance")
	if code != exitOK {
		t.Fatalf("exit %d %s", code, errOut)
	}
	v := decodeExport(t, out)
	if v["id"] != "finance" || v["instance"] != "campaign" || v["name"] != "Finance reporting" || v["enabled"] != true ||
		len(v["permissions"].([]any)) != 4 || len(v["revision"].(string)) != 32 || v["format_version"] != "1" {
		t.Errorf("export %v", v)
	}
	// The revision is the one validate and build report for the same tree.
	_, buildOut, _ := runCLI(t, "build", nation, "-o", filepath.Join(t.TempDir(), "b.tar.gz"))
	if !strings.Contains(buildOut, "revision "+v["revision"].(string)) {
		t.Errorf("revision %v, build says %s", v["revision"], buildOut)
	}

	// A set on several instances, with --instance, written to a file relative to -C.
	dir := testutil.CopyTree(t, nation)
	code, out, errOut = runCLI(t, "-C", dir, "export", "admin", "--instance", "hq", "-o", "admin.json")
	if code != exitOK || !strings.Contains(out, "wrote "+filepath.Join(dir, "admin.json")+": set admin of instance hq") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(filepath.Join(dir, "admin.json"))
	if err != nil {
		t.Fatal(err)
	}
	if v := decodeExport(t, string(data)); v["instance"] != "hq" || v["permissions"].([]any)[0] != "*=*" {
		t.Errorf("admin.json %v", v)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("left %s", e.Name())
		}
	}

	// --rev: the set as committed, with the commit.
	_, live := liveRepo(t)
	testutil.Replace(t, live, "sets/campaign/finance.yaml", "name: Finance reporting", "name: Finance (uncommitted)")
	code, out, errOut = runCLI(t, "-C", live, "export", "finance", "--rev", "live")
	if code != exitOK {
		t.Fatalf("--rev: exit %d %s", code, errOut)
	}
	if v := decodeExport(t, out); v["name"] != "Finance reporting" || len(v["commit"].(string)) != 40 {
		t.Errorf("--rev live: %v", v)
	}
}

func TestExportRefusals(t *testing.T) {
	nation := "../../examples/nation"
	broken := brokenConfig(t)
	for _, tc := range []struct {
		note   string
		args   []string
		code   int
		stderr string
	}{
		{"a set on several instances needs --instance", []string{"-C", nation, "export", "admin"}, exitUsage, "set admin (sets/hq/admin.yaml:5) is on 2 instances (campaign, hq): pass --instance"},
		{"unknown set", []string{"-C", nation, "export", "nope"}, exitProblems, `unknown set "nope"`},
		{"an instance the set is not on", []string{"-C", nation, "export", "finance", "--instance", "hq"}, exitProblems, "is not on instance hq; it is on campaign"},
		{"unknown instance", []string{"-C", nation, "export", "admin", "--instance", "nope"}, exitProblems, `unknown instance "nope"`},
		{"bad instance id", []string{"-C", nation, "export", "admin", "--instance", "../hq"}, exitUsage, "is not an id"},
		{"no set", []string{"-C", nation, "export"}, exitUsage, "accepts 1 arg"},
		{"an invalid config", []string{"-C", broken, "export", "x"}, exitProblems, "run permsctl validate"},
		{"-o into a missing directory", []string{"-C", nation, "export", "finance", "-o", filepath.Join(broken, "no/such/dir/x.json")}, exitProblems, "no such file or directory"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) || out != "" {
				t.Errorf("exit %d, want %d; stderr %q, want %q; stdout %q", code, tc.code, errOut, tc.stderr, out)
			}
		})
	}
}
