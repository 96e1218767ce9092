package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/permsets/permsets/internal/testutil"
)

// exportJSON is an export file's content with fields replaced (nil: removed).
func exportJSON(t *testing.T, change map[string]any) string {
	t.Helper()
	v := map[string]any{
		"format_version": "1", "revision": "0123456789abcdef0123456789abcdef", "instance": "campaign",
		"id": "finance", "name": "Finance reporting", "enabled": true,
		"description": "Reads and exports donations for the campaign finance reports.",
		"permissions": []string{"finances=read", "finances=export", "people=read", "people=export"},
	}
	for k, x := range change {
		if x == nil {
			delete(v, k)
		} else {
			v[k] = x
		}
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestImport: an export goes in as a new file at the conventional path, or as one more instance
// of an identical set, editing its file in place; either way the repository validates after.
func TestImport(t *testing.T) {
	files := t.TempDir()
	for _, tc := range []struct {
		note     string
		file     string // the export file's content; "" exports from the example
		args     []string
		stdout   string
		stderr   string
		wrote    string            // the file created or edited
		contains []string          // in it
		changed  map[string]string // with an edit: the one line that changed, old -> new
	}{
		{note: "as a new set under another id", args: []string{"--instance", "hq", "--id", "finance-hq"},
			stdout: "imported set finance-hq (Finance reporting) to instance hq: wrote sets/hq/finance-hq.yaml",
			stderr: "hint: set finance-hq is not in instance hq's limits.editableSets: plan will deny this change (set-not-editable)",
			wrote:  "sets/hq/finance-hq.yaml",
			contains: []string{"# Imported from finance.json: set finance of instance campaign, revision ", "\nid: finance-hq\ninstances: [hq]\nname: Finance reporting\n",
				"permissions:\n  - finances=export\n  - finances=read\n  - people=export\n  - people=read\n"}},
		{note: "an identical set gains the instance", args: []string{"--instance", "hq"},
			stdout:  "added instance hq to set finance (Finance reporting): edited sets/campaign/finance.yaml",
			stderr:  "hint: set finance is not in instance hq's limits.editableSets",
			wrote:   "sets/campaign/finance.yaml",
			changed: map[string]string{"instances: [campaign]": "instances: [campaign, hq]"}},
		{note: "identical with permissions in another order", file: exportJSON(t, map[string]any{"permissions": []string{"people=export", "people=read", "finances=export", "finances=read"}}),
			args: []string{"--instance", "hq"}, stdout: "added instance hq to set finance", stderr: "hint: set finance is not in", wrote: "sets/campaign/finance.yaml",
			changed: map[string]string{"instances: [campaign]": "instances: [campaign, hq]"}},
		{note: "already there", args: []string{"--instance", "campaign"}, stdout: "set finance (sets/campaign/finance.yaml:5) is already on instance campaign, with the same content; nothing to do"},
		{note: "a disabled set with a description over several lines", file: exportJSON(t, map[string]any{"id": "audit", "name": "Audit", "enabled": false, "description": "Line one.\nLine two: \"quoted\"."}),
			args: []string{"--instance", "campaign"}, stdout: "wrote sets/campaign/audit.yaml", wrote: "sets/campaign/audit.yaml",
			stderr:   "hint: instance campaign now has 6 custom sets, over its limit of 5 (limits.maxCustomSets): plan will deny this change (custom-set-limit)",
			contains: []string{"description: \"Line one.\\nLine two: \\\"quoted\\\".\"\nenabled: false\n"}},
	} {
		t.Run(tc.note, func(t *testing.T) {
			dir := testutil.CopyTree(t, "../../examples/nation")
			file := filepath.Join(files, "finance.json")
			if tc.file == "" {
				if code, _, errOut := runCLI(t, "-C", dir, "export", "finance", "-o", file); code != exitOK {
					t.Fatal(errOut)
				}
			} else if err := os.WriteFile(file, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			before := tree(t, dir)
			code, out, errOut := runCLI(t, append([]string{"-C", dir, "import", file}, tc.args...)...)
			if code != exitOK || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
			}
			if tc.stderr == "" && errOut != "" {
				t.Errorf("stderr %s", errOut)
			}
			after := tree(t, dir)
			for name := range after {
				if name != tc.wrote && after[name] != before[name] && !(strings.HasSuffix(name, "/") && tc.changed == nil) {
					t.Errorf("%s changed too", name)
				}
			}
			if tc.wrote == "" && !maps.Equal(before, after) {
				t.Error("the tree changed")
			}
			for _, c := range tc.contains {
				if !strings.Contains(after[tc.wrote], c) {
					t.Errorf("no %q in %s:\n%s", c, tc.wrote, after[tc.wrote])
				}
			}
			for old, new := range tc.changed {
				if want := strings.Replace(before[tc.wrote], old+"\n", new+"\n", 1); after[tc.wrote] != want || want == before[tc.wrote] {
					t.Errorf("%s is\n%s\nwant\n%s", tc.wrote, after[tc.wrote], want)
				}
			}
			if code, out, errOut := runCLI(t, "validate", dir); code != exitOK {
				t.Errorf("validate after import: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// TestImportRefusals: everything import refuses ends in exit 1 (64 for a bad flag) with a
// message saying why, and writes nothing.
func TestImportRefusals(t *testing.T) {
	deep := strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000)
	for _, tc := range []struct {
		note    string
		file    string
		prepare func(t *testing.T, dir string)
		args    []string // after import FILE; default --instance hq
		code    int
		stderr  []string
	}{
		{note: "name clash, case-insensitively", file: exportJSON(t, map[string]any{"id": "boss", "name": "ADMIN"}),
			code: exitProblems, stderr: []string{`the name "ADMIN" is already used on instance hq by set admin (sets/hq/admin.yaml:5)`}},
		{note: "name clash of the set gaining the instance", file: exportJSON(t, nil),
			prepare: func(t *testing.T, dir string) {
				testutil.WriteFile(t, dir, "sets/hq/fin.yaml", "apiVersion: permsets/v1\nkind: PermissionSet\nid: fin\ninstances: [hq]\nname: finance REPORTING\npermissions: [people=read]\n")
			},
			code: exitProblems, stderr: []string{`set finance is named "Finance reporting", which set fin (sets/hq/fin.yaml:1) already uses on instance hq`}},
		{note: "the id exists with other content", file: exportJSON(t, map[string]any{"name": "Finance", "enabled": false}),
			code: exitProblems, stderr: []string{`set finance already exists (sets/campaign/finance.yaml:5) and differs from the file in: name ("Finance reporting", the file has "Finance"), enabled (true, the file has false); import it under a new id with --id`}},
		{note: "the id exists with other permissions", file: exportJSON(t, map[string]any{"permissions": []string{"finances=read"}}),
			code: exitProblems, stderr: []string{"differs from the file in: permissions; import it under a new id with --id"}},
		{note: "unknown permission, with a hint", file: exportJSON(t, map[string]any{"id": "fin2", "name": "Fin 2", "permissions": []string{"finances=exprot", "peeple=read"}}),
			code: exitProblems, stderr: []string{
				`sets/hq/fin2.yaml:9:5: unknown-permission: finances=exprot: feature "finances" has no action "exprot" (did you mean "export"?)`,
				`sets/hq/fin2.yaml:10:5: unknown-permission: peeple=read: unknown feature "peeple" (did you mean "people"?)`,
				"the change would leave", "2 problems; nothing written"}},
		{note: "malformed permission", file: exportJSON(t, map[string]any{"id": "fin2", "permissions": []string{"finances"}}),
			code: exitProblems, stderr: []string{"permissions[0]:", `"finances"`}},
		{note: "unknown instance", file: exportJSON(t, nil), args: []string{"--instance", "nope"},
			code: exitProblems, stderr: []string{`unknown instance "nope"; the instances are campaign, hq`}},
		{note: "bad --id", file: exportJSON(t, nil), args: []string{"--instance", "hq", "--id", "../../etc/x"},
			code: exitUsage, stderr: []string{`--id "../../etc/x" is not an id`}},
		{note: "bad --instance", file: exportJSON(t, nil), args: []string{"--instance", "hq/../.."},
			code: exitUsage, stderr: []string{"is not an id"}},
		{note: "bad id in the file", file: exportJSON(t, map[string]any{"id": "../../outside"}),
			code: exitProblems, stderr: []string{"not an export of permsctl", "at /id: does not match pattern"}},
		{note: "the conventional path is taken", file: exportJSON(t, map[string]any{"id": "fin2", "name": "Fin 2"}),
			prepare: func(t *testing.T, dir string) {
				testutil.WriteFile(t, dir, "sets/hq/fin2.yaml", "# nothing here yet\n")
			},
			code: exitProblems, stderr: []string{"sets/hq/fin2.yaml already exists; nothing written"}},
		{note: "the path is excluded by .permsetsignore", file: exportJSON(t, map[string]any{"id": "fin2", "name": "Fin 2"}),
			prepare: func(t *testing.T, dir string) { testutil.WriteFile(t, dir, ".permsetsignore", "fin2.yaml\n") },
			code:    exitProblems, stderr: []string{"sets/hq/fin2.yaml would not be loaded", "nothing written"}},
		{note: "sets/ is a symbolic link out of the repository", file: exportJSON(t, map[string]any{"id": "fin2", "name": "Fin 2"}),
			prepare: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, "sets"), filepath.Join(dir, "permission-sets")); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(t.TempDir(), filepath.Join(dir, "sets")); err != nil {
					t.Fatal(err)
				}
				testutil.WriteFile(t, dir, ".permsetsignore", "/sets\n")
			},
			code: exitProblems, stderr: []string{"sets: a symbolic link leads out of the config root; refused; nothing written"}},
		{note: "malformed JSON", file: "{\n  \"id\": \"x\",\n  oops\n}", code: exitProblems, stderr: []string{"finance.json:3:3: invalid JSON: invalid character 'o'"}},
		{note: "truncated JSON", file: `{"id": "x"`, code: exitProblems, stderr: []string{"finance.json:1:11: invalid JSON: the file ends inside 1 open bracket"}},
		{note: "empty file", file: "  \n", code: exitProblems, stderr: []string{"finance.json:1:1: empty file"}},
		{note: "two JSON values", file: exportJSON(t, nil) + exportJSON(t, nil), code: exitProblems, stderr: []string{"more than one JSON value"}},
		{note: "a key twice", file: strings.Replace(exportJSON(t, nil), `"id": "finance",`, `"id": "finance", "id": "x",`, 1),
			code: exitProblems, stderr: []string{`key "id" appears twice in this object`}},
		{note: "deeply nested", file: `{"permissions": ` + deep + `}`, code: exitProblems, stderr: []string{"nested deeper than 16 levels"}},
		{note: "oversized", file: exportJSON(t, nil) + strings.Repeat(" ", 1<<20), code: exitProblems, stderr: []string{"larger than the limit of 1048576 bytes (1 MiB)"}},
		{note: "binary", file: "\x00\xff\xfe garbage", code: exitProblems, stderr: []string{"not UTF-8 text"}},
		{note: "not an object", file: `["a"]`, code: exitProblems, stderr: []string{"not an export of permsctl", "at /: expected object, but got array"}},
		{note: "an unknown field", file: exportJSON(t, map[string]any{"builtin": true}), code: exitProblems, stderr: []string{"additionalProperties 'builtin' not allowed"}},
		{note: "a missing field", file: exportJSON(t, map[string]any{"name": nil}), code: exitProblems, stderr: []string{"missing properties: 'name'"}},
		{note: "another format version", file: exportJSON(t, map[string]any{"format_version": "2"}), code: exitProblems, stderr: []string{"at /format_version: value must be \"1\""}},
		{note: "a huge number where a string goes", file: strings.Replace(exportJSON(t, nil), `"name": "Finance reporting"`, `"name": 1e400`, 1),
			code: exitProblems, stderr: []string{"at /name: expected string, but got number"}},
		{note: "no such file", code: exitProblems, stderr: []string{"no such file or directory"}},
		{note: "an invalid repository", file: exportJSON(t, map[string]any{"id": "fin2", "name": "Fin 2"}),
			prepare: func(t *testing.T, dir string) { testutil.WriteFile(t, dir, "junk.yaml", "a: [\n") },
			code:    exitProblems, stderr: []string{"junk.yaml:", "has 1 problem; run permsctl validate"}},
	} {
		t.Run(tc.note, func(t *testing.T) {
			dir := testutil.CopyTree(t, "../../examples/nation")
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			file := filepath.Join(t.TempDir(), "finance.json")
			if tc.note != "no such file" {
				if err := os.WriteFile(file, []byte(tc.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := tc.args
			if args == nil {
				args = []string{"--instance", "hq"}
			}
			before := tree(t, dir)
			code, out, errOut := runCLI(t, append([]string{"-C", dir, "import", file}, args...)...)
			if code != tc.code || out != "" {
				t.Errorf("exit %d, want %d; stdout %q; stderr %s", code, tc.code, out, errOut)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			if after := tree(t, dir); !maps.Equal(before, after) {
				for _, name := range slices.Sorted(maps.Keys(after)) {
					if before[name] != after[name] {
						t.Errorf("wrote %s", name)
					}
				}
			}
			if tc.note == "sets/ is a symbolic link out of the repository" {
				target, _ := os.Readlink(filepath.Join(dir, "sets"))
				if entries, _ := os.ReadDir(target); len(entries) != 0 {
					t.Errorf("wrote outside the repository: %v", entries)
				}
			}
		})
	}
}

// TestImportStdin: FILE - reads the export from stdin, as a pipe from export.
func TestImportStdin(t *testing.T) {
	dir := testutil.CopyTree(t, "../../examples/nation")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = stdin }()
	go func() {
		_, _ = w.WriteString(exportJSON(t, map[string]any{"id": "piped", "name": "Piped"}))
		w.Close()
	}()
	code, out, errOut := runCLI(t, "-C", dir, "import", "--instance", "campaign", "-")
	if code != exitOK || !strings.Contains(out, "wrote sets/campaign/piped.yaml") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(filepath.Join(dir, "sets/campaign/piped.yaml"))
	if err != nil || !strings.Contains(string(data), "# Imported from stdin: set piped of instance campaign") {
		t.Errorf("%s %v", data, err)
	}
}

// FuzzReadExport: no input makes the reader panic, and what it accepts has a valid id.
func FuzzReadExport(f *testing.F) {
	for _, seed := range []string{`{}`, `[`, `{"id": "a", "id": "b"}`, `"x"`, `{"permissions": [[[[]]]]}`, "\xff"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := readExport("f.json", bytes.NewReader(data))
		if err == nil && (!idPattern.MatchString(doc.ID) || !idPattern.MatchString(doc.Instance) || len(doc.Permissions) == 0) {
			t.Errorf("accepted %q as %+v", data, doc)
		}
	})
}

// TestImportEditsItsDocument: in a file of several documents (an empty one first), only the
// set's own document gains the instance, and every other byte stays.
func TestImportEditsItsDocument(t *testing.T) {
	dir := testutil.CopyTree(t, "../../examples/ci")
	testutil.WriteFile(t, dir, "instances/qa.yaml", "apiVersion: permsets/v1\nkind: Instance\nid: qa\nname: QA\n")
	const multi = `---
# Sets of the support team.
---
apiVersion: permsets/v1
kind: PermissionSet
id: support-read
instances: [prod]   # read only

name: Support (read)
permissions: [people=read]
---
apiVersion: permsets/v1
kind: PermissionSet
id: support-edit
instances:
  - prod   # everywhere, in time
name: Support (edit)
permissions:
  - people=read
  - people=edit
`
	testutil.WriteFile(t, dir, "sets/prod/support.yaml", multi)
	file := filepath.Join(t.TempDir(), "support.json")
	if code, _, errOut := runCLI(t, "-C", dir, "export", "support-edit", "-o", file); code != exitOK {
		t.Fatal(errOut)
	}
	code, out, errOut := runCLI(t, "-C", dir, "import", "--instance", "qa", file)
	if code != exitOK || out != "added instance qa to set support-edit (Support (edit)): edited sets/prod/support.yaml\n" || errOut != "" {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "sets/prod/support.yaml"))
	if want := strings.Replace(multi, "  - prod   # everywhere, in time\n", "  - prod   # everywhere, in time\n  - qa\n", 1); string(data) != want {
		t.Errorf("support.yaml:\n%s\nwant\n%s", data, want)
	}
	if code, _, errOut := runCLI(t, "validate", dir); code != exitOK {
		t.Error(errOut)
	}
}

// TestChangeRestoredWhenReloadFails: when the repository does not validate once the file is
// written (here, because another file changed meanwhile), the file is put back as it was and
// the command fails.
func TestChangeRestoredWhenReloadFails(t *testing.T) {
	for _, tc := range []struct {
		note, file string
		args       []string
	}{
		{"an edit", "sets/campaign/finance.yaml", []string{"import", "--instance", "hq"}},
		{"a new file", "sets/hq/finance-hq.yaml", []string{"import", "--instance", "hq", "--id", "finance-hq"}},
		{"a copy", "sets/hq/admin-2.yaml", []string{"duplicate", "admin", "admin-2"}},
	} {
		t.Run(tc.note, func(t *testing.T) {
			dir := testutil.CopyTree(t, "../../examples/nation")
			file := filepath.Join(t.TempDir(), "finance.json")
			if err := os.WriteFile(file, []byte(exportJSON(t, nil)), 0o644); err != nil {
				t.Fatal(err)
			}
			before := tree(t, dir)
			afterWrite = func(dir string) {
				if _, err := os.Stat(filepath.Join(dir, tc.file)); err != nil {
					t.Errorf("not written: %v", err)
				}
				testutil.WriteFile(t, dir, "late.yaml", "apiVersion: permsets/v1\nkind: Nope\n")
			}
			defer func() { afterWrite = nil }()
			args := append([]string{"-C", dir}, tc.args...)
			if tc.args[0] == "import" {
				args = append(args, file)
			}
			code, out, errOut := runCLI(t, args...)
			if code != exitProblems || !strings.Contains(errOut, "late.yaml:2:7: unknown-document") ||
				!strings.Contains(errOut, tc.file+" was written but "+dir+" did not validate (1 problem); put back as it was") {
				t.Errorf("exit %d\n%s%s", code, out, errOut)
			}
			after := tree(t, dir)
			delete(after, "late.yaml")
			if !maps.Equal(before, after) {
				t.Errorf("not put back: %s\n%s", tc.file, after[tc.file])
			}
		})
	}
}
