package edit_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/edit"
	"github.com/permsets/permsets/internal/testutil"
)

func TestAppendToList(t *testing.T) {
	for _, tc := range []struct {
		note, src   string
		doc         int
		want        string // the whole output, when exact
		reformatted bool
		contains    []string // with reformatted: what must survive
		err         error    // errors.Is, or any error with errAny
		errAny      bool
	}{
		{note: "flow list", doc: 1,
			src:  "# head\nid: a # the id\ninstances: [prod]   # where\nname: A\n",
			want: "# head\nid: a # the id\ninstances: [prod, hq]   # where\nname: A\n"},
		{note: "flow list with spaces and quotes", doc: 1,
			src:  "instances: [ 'prod' , \"x\" ]\n",
			want: "instances: [ 'prod' , \"x\", \"hq\" ]\n"},
		{note: "empty flow list", doc: 1,
			src:  "instances: []\n",
			want: "instances: [hq]\n"},
		{note: "block list keeps its indentation and comments", doc: 1,
			src:  "instances:\n    - prod # first\n    # between\n    - qa\nname: A\n",
			want: "instances:\n    - prod # first\n    # between\n    - qa\n    - hq\nname: A\n"},
		{note: "block list at the end of a file without a newline", doc: 1,
			src:  "instances:\n- prod",
			want: "instances:\n- prod\n- hq\n"},
		{note: "CRLF", doc: 1,
			src:  "instances:\r\n  - prod\r\nname: A\r\n",
			want: "instances:\r\n  - prod\r\n  - hq\r\nname: A\r\n"},
		{note: "second document, after an empty one", doc: 3,
			src:  "---\n# only a comment\n---\nkind: Role\nid: r\n---\nid: b\ninstances: [prod]\n",
			want: "---\n# only a comment\n---\nkind: Role\nid: r\n---\nid: b\ninstances: [prod, hq]\n"},
		{note: "flow list over several lines is encoded again", doc: 1,
			src:         "# keep me\nid: a\ninstances: [prod,\n  qa]\nname: A # and me\n",
			reformatted: true, contains: []string{"# keep me\n", "instances: [prod, qa, hq]\n", "name: A # and me\n"}},
		{note: "alias", doc: 1, src: "x: &l [prod]\ninstances: *l\n", err: edit.ErrNotEditable},
		{note: "anchor", doc: 1, src: "instances: &l [prod]\nother: *l\n", err: edit.ErrNotEditable},
		{note: "merge key", doc: 1, src: "<<: {a: 1}\ninstances: [prod]\n", err: edit.ErrNotEditable},
		{note: "not a list", doc: 1, src: "instances: prod\n", err: edit.ErrNotEditable},
		{note: "no such key", doc: 1, src: "name: A\n", err: edit.ErrNotEditable},
		{note: "a list of lists", doc: 1, src: "instances: [[prod]]\n", err: edit.ErrNotEditable},
		{note: "no such document", doc: 2, src: "instances: [prod]\n", errAny: true},
		{note: "a scalar document", doc: 1, src: "hello\n", err: edit.ErrNotEditable},
		{note: "bad YAML", doc: 1, src: "instances: [prod\n", errAny: true},
	} {
		t.Run(tc.note, func(t *testing.T) {
			out, reformatted, err := edit.AppendToList([]byte(tc.src), tc.doc, "instances", "hq")
			switch {
			case tc.err != nil || tc.errAny:
				if err == nil || tc.err != nil && !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v\n%s", err, tc.err, out)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if reformatted != tc.reformatted {
				t.Errorf("reformatted %v, want %v", reformatted, tc.reformatted)
			}
			if tc.want != "" && string(out) != tc.want {
				t.Errorf("got\n%q\nwant\n%q", out, tc.want)
			}
			for _, c := range tc.contains {
				if !strings.Contains(string(out), c) {
					t.Errorf("lost %q:\n%s", c, out)
				}
			}
		})
	}
}

// TestAppendToListExamples: adding an instance to every set of the examples changes one line
// of each file and nothing else.
func TestAppendToListExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*/sets/*/*.yaml")
	if len(files) < 20 {
		t.Fatalf("found %d example sets", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, reformatted, err := edit.AppendToList(src, 1, "instances", "zz-new")
		if err != nil || reformatted {
			t.Errorf("%s: reformatted %v, %v", f, reformatted, err)
			continue
		}
		a, b := strings.Split(string(src), "\n"), strings.Split(string(out), "\n")
		var changed []string
		for i := range a {
			if i >= len(b) || a[i] != b[i] {
				changed = append(changed, b[i])
			}
		}
		if len(a) != len(b) || len(changed) != 1 || !strings.HasPrefix(changed[0], "instances: [") || !strings.HasSuffix(changed[0], ", zz-new]") {
			t.Errorf("%s: changed %q", f, changed)
		}
	}
}

func TestSetDocument(t *testing.T) {
	long := strings.Repeat("Reads the ledger and exports the reports, ", 6) + "done."
	for _, tc := range []struct {
		note     string
		set      edit.Set
		contains []string
		wrapped  bool // no line over 100 columns
	}{
		{note: "plain", set: edit.Set{ID: "finance", Instances: []string{"prod", "hq"}, Name: "Finance", Enabled: true,
			Permissions: []string{"finances=read", "people=read(assigned)", "permset=assign('x')"}},
			contains: []string{"id: finance\n", "instances: [prod, hq]\n", "name: Finance\n", "permissions:\n  - finances=read\n  - people=read(assigned)\n  - permset=assign('x')\n"}},
		{note: "values YAML would read as something else are quoted", set: edit.Set{ID: "123", Instances: []string{"true", "null"}, Name: "*=* or: this",
			Description: "yes", Permissions: []string{"*=*"}},
			contains: []string{`id: "123"`, `instances: ["true", "null"]`, `name: '*=* or: this'`, "description: \"yes\"\n", "enabled: false\n", "  - '*=*'\n"}},
		{note: "line breaks and odd characters escaped", set: edit.Set{ID: "a", Instances: []string{"p"}, Name: "A\tB", Enabled: true,
			Description: "one\ntwo: \"three\" # not a comment\r\n" + strings.Repeat("x ", 80) + "\u0085\u2028end", Permissions: []string{"a=b"}},
			contains: []string{"description: \"one\\ntwo"}},
		{note: "long description folded", set: edit.Set{ID: "a", Instances: []string{"p"}, Name: "A", Description: long, Enabled: true, Permissions: []string{"a=b"}},
			contains: []string{"description: >-\n  Reads the ledger"}, wrapped: true},
		{note: "comment lines, control characters made harmless", set: edit.Set{Comment: "Imported from x\rname: evil\nline two\u2028more", ID: "a", Instances: []string{"p"}, Name: "A", Enabled: true, Builtin: true, Fixed: true, Permissions: []string{"a=b"}},
			contains: []string{"# Imported from x?name: evil\n# line two?more\napiVersion: permsets/v1\n", "builtin: true\nfixed: true\n"}},
	} {
		t.Run(tc.note, func(t *testing.T) {
			out, err := edit.SetDocument(tc.set)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.contains {
				if !strings.Contains(string(out), c) {
					t.Errorf("no %q in\n%s", c, out)
				}
			}
			for _, line := range strings.Split(string(out), "\n") {
				if tc.wrapped && len(line) > 100 {
					t.Errorf("line over 100 columns: %q", line)
				}
			}
			// It loads as the set it describes.
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "set.yaml"), out, 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := config.LoadDir(context.Background(), dir, config.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s := res.Model.Set(tc.set.ID)
			if s == nil || s.Name != tc.set.Name || s.Description != tc.set.Description || s.Enabled != tc.set.Enabled || s.Fixed != tc.set.Fixed {
				t.Errorf("loaded %+v (problems %v)", s, res.Problems)
			}
		})
	}
}

// TestOverlay: the loader sees overlaid files, in new directories and over existing ones,
// and the disk is not touched.
func TestOverlay(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFile(t, dir, "instances/prod.yaml", "apiVersion: permsets/v1\nkind: Instance\nid: prod\nname: Prod\n")
	testutil.WriteFile(t, dir, "sets/prod/a.yaml", "apiVersion: permsets/v1\nkind: PermissionSet\nid: a\ninstances: [prod]\nname: A\npermissions: [x=y]\n")
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	o := edit.Overlay(root.FS(), map[string][]byte{
		"sets/prod/a.yaml":       []byte("apiVersion: permsets/v1\nkind: PermissionSet\nid: a\ninstances: [prod]\nname: A2\npermissions: [x=y]\n"),
		"deep/new/dir/b.yaml":    []byte("apiVersion: permsets/v1\nkind: PermissionSet\nid: b\ninstances: [prod]\nname: B\npermissions: [x=y]\n"),
		"sets/prod/c.yaml":       []byte("apiVersion: permsets/v1\nkind: PermissionSet\nid: c\ninstances: [nope]\nname: C\npermissions: [x=y]\n"),
		"./sets/prod/../d.yml":   []byte("apiVersion: permsets/v1\nkind: PermissionSet\nid: d\ninstances: [prod]\nname: D\npermissions: [x=y]\n"),
		"sets/prod/notes.txt":    []byte("not yaml"),
		"instances/.hidden.yaml": []byte("garbage: ["),
	})
	res, err := config.Load(context.Background(), o, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range res.Model.Sets {
		ids = append(ids, s.ID+"="+s.Name)
	}
	if !slices.Equal(ids, []string{"a=A2", "b=B", "c=C", "d=D"}) {
		t.Errorf("sets %v", ids)
	}
	if len(res.Problems) != 1 || res.Problems[0].File != "sets/prod/c.yaml" || res.Problems[0].Code != config.CodeUnknownInstance {
		t.Errorf("problems %v", res.Problems)
	}
	if _, err := fs.Stat(o, "deep/new"); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "deep")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the overlay wrote to disk: %v", err)
	}
	if _, err := o.Open("../x"); err == nil {
		t.Error("opened ../x")
	}
}

func TestCreateReplaceRestore(t *testing.T) {
	top := t.TempDir()
	dir, outside := filepath.Join(top, "repo"), filepath.Join(top, "outside")
	for _, d := range []string{dir, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, dir, "old.yaml", "old\n")
	if err := os.Chmod(filepath.Join(dir, "old.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()

	created, err := edit.CreateFile(root, "a/b/c.yaml", []byte("new\n"))
	if err != nil || !slices.Equal(created, []string{"a", "a/b"}) {
		t.Fatalf("created %v, %v", created, err)
	}
	if _, err := edit.CreateFile(root, "a/b/c.yaml", []byte("again\n")); !errors.Is(err, fs.ErrExist) {
		t.Errorf("create over an existing file: %v", err)
	}
	if err := edit.RestoreFile(root, "a/b/c.yaml", nil, created); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("restore left the directories: %v", err)
	}
	for _, bad := range []string{"out/x.yaml", "out/deeper/x.yaml", "../x.yaml", "/etc/x.yaml", ""} {
		if _, err := edit.CreateFile(root, bad, []byte("x")); err == nil {
			t.Errorf("created %q", bad)
		}
		if err := edit.Confined(root, bad); err == nil {
			t.Errorf("%q confined", bad)
		}
	}
	if err := edit.Confined(root, "out/x.yaml"); err == nil || !strings.Contains(err.Error(), "leads out of the config root") {
		t.Errorf("Confined: %v", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote outside: %v", entries)
	}

	prev, err := edit.ReplaceFile(root, "old.yaml", []byte("replaced\n"))
	if err != nil || string(prev) != "old\n" {
		t.Fatalf("%q %v", prev, err)
	}
	if info, _ := os.Stat(filepath.Join(dir, "old.yaml")); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", info.Mode())
	}
	if err := edit.RestoreFile(root, "old.yaml", prev, nil); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "old.yaml")); string(data) != "old\n" {
		t.Errorf("restored %q", data)
	}
	if err := os.Symlink("old.yaml", filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := edit.ReplaceFile(root, "link.yaml", []byte("x")); err == nil {
		t.Error("replaced through a symbolic link")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left a temporary file %s", e.Name())
		}
	}
}

// FuzzAppendToList: on any file, AppendToList fails or returns YAML whose list ends with the new
// item; it never panics.
func FuzzAppendToList(f *testing.F) {
	for _, seed := range []string{"instances: [a]\n", "instances:\n  - a\n", "instances: [a,\n b]\n", "---\ninstances: []\n", "instances: *x\n", "a: &x [1]\ninstances: [a, 'b', \"c\"] # c\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, _, err := edit.AppendToList(src, 1, "instances", "new-id")
		if err != nil {
			return
		}
		var doc struct {
			Instances []any `yaml:"instances"`
		}
		if err := yaml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("output does not parse: %v\n%q -> %q", err, src, out)
		}
		if n := len(doc.Instances); n == 0 || doc.Instances[n-1] != "new-id" {
			t.Errorf("instances %v\n%q -> %q", doc.Instances, src, out)
		}
	})
}
