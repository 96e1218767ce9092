package synth

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/permsets/permsets/config"
)

// small is a repository small enough for every test run, yet with several files per kind,
// several instances and a last assignment document that has to be trimmed.
func small(out string) Options {
	o := DefaultOptions()
	o.Out = out
	o.Instances = 4
	o.Sets = 60
	o.Users = 500
	o.Roles = 25
	o.Pairs = 4321
	o.Seed = 7
	o.DocsPerFile = 10
	o.Inputs = 400
	return o
}

func generate(t *testing.T, o Options) Stats {
	t.Helper()
	st, err := Generate(o)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return st
}

// readTree returns every regular file under dir by slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	generate(t, small(a))
	generate(t, small(b))
	ta, tb := readTree(t, a), readTree(t, b)
	if len(ta) != len(tb) {
		t.Fatalf("%d files vs %d files", len(ta), len(tb))
	}
	for name, da := range ta {
		db, ok := tb[name]
		if !ok {
			t.Fatalf("%s missing from the second run", name)
		}
		if !bytes.Equal(da, db) {
			t.Fatalf("%s differs between two runs with the same seed", name)
		}
	}

	// Another seed gives other data.
	c := t.TempDir()
	o := small(c)
	o.Seed = 8
	generate(t, o)
	if bytes.Equal(ta["assignments/assignments000.yaml"], readTree(t, c)["assignments/assignments000.yaml"]) {
		t.Fatal("seeds 7 and 8 gave the same assignments")
	}
}

func TestRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := small(dir)
	if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Generate into a non-empty dir: err = %v, want a refusal", err)
	}
	// -force replaces what a bigger earlier run wrote and keeps other files.
	o.Force = true
	o.Users = 5000
	generate(t, o)
	o.Users = 500
	generate(t, o)
	tree := readTree(t, dir)
	if _, ok := tree["keep.txt"]; !ok {
		t.Fatal("-force removed a file it did not write")
	}
	if _, ok := tree["users/users050.yaml"]; ok {
		t.Fatal("-force left a stale users file of the bigger run")
	}
}

func TestBadOptions(t *testing.T) {
	for _, mod := range []func(*Options){
		func(o *Options) { o.Out = "" },
		func(o *Options) { o.Instances = 0 },
		func(o *Options) { o.Sets = o.Instances - 1 },
		func(o *Options) { o.Users = 0 },
		func(o *Options) { o.Pairs = -1 },
		func(o *Options) { o.DocsPerFile = 0 },
		func(o *Options) { o.Sets = o.Instances }, // pairs but nothing to assign
	} {
		o := small(t.TempDir())
		mod(&o)
		if _, err := Generate(o); err == nil {
			t.Errorf("Generate(%+v): no error", o)
		}
	}
}

// ---- a line parser for the generated files (not general YAML: only what permsgen writes) ----

type doc struct {
	file   string
	scalar map[string]string
	list   map[string][]string
}

func parseDocs(t *testing.T, name string, data []byte) []doc {
	t.Helper()
	var out []doc
	for _, part := range strings.Split(string(data), "---\n") {
		d := doc{file: name, scalar: map[string]string{}, list: map[string][]string{}}
		key := ""
		for _, line := range strings.Split(part, "\n") {
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "  - "):
				d.list[key] = append(d.list[key], strings.Trim(line[4:], `"`))
			case strings.HasPrefix(line, " "): // nested mapping (limits)
				if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok {
					d.scalar[key+"."+k] = v
				}
			default:
				k, v, _ := strings.Cut(line, ":")
				key, v = k, strings.TrimSpace(v)
				if strings.HasPrefix(v, "[") {
					for _, x := range strings.Split(strings.Trim(v, "[]"), ",") {
						d.list[k] = append(d.list[k], strings.TrimSpace(x))
					}
				} else if v != "" {
					d.scalar[k] = v
				} else {
					d.list[k] = d.list[k][:0:0]
				}
			}
		}
		if len(d.scalar) > 0 {
			out = append(out, d)
		}
	}
	return out
}

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

func noDuplicates(t *testing.T, where string, list []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, x := range list {
		if seen[x] {
			t.Errorf("%s: %q listed twice", where, x)
		}
		seen[x] = true
	}
}

// checkPermission checks a permission string against the generated catalog.
func checkPermission(t *testing.T, where, p string, setIDs map[string][]string) {
	t.Helper()
	if p == "*=*" || p == "*=read" {
		return
	}
	fa, args, _ := strings.Cut(strings.TrimSuffix(p, ")"), "(")
	f, a, ok := strings.Cut(fa, "=")
	var feat *feature
	for i := range features {
		if features[i].name == f {
			feat = &features[i]
		}
	}
	if !ok || feat == nil || (a != "*" && !hasAction(*feat, a)) {
		t.Errorf("%s: %q is not in the catalog", where, p)
		return
	}
	switch {
	case args == "":
	case args == "assigned":
		if !feat.scoped || a == "*" {
			t.Errorf("%s: %q: no scope assigned", where, p)
		}
	case f == "permset" && strings.HasPrefix(args, "'"):
		if _, ok := setIDs[strings.Trim(args, "'")]; !ok {
			t.Errorf("%s: %q names an unknown set", where, p)
		}
	default:
		t.Errorf("%s: %q: unexpected arguments", where, p)
	}
}

func TestCatalogIsConsistent(t *testing.T) {
	index := map[string]int{}
	for i, f := range features {
		index[f.name] = i
	}
	for _, group := range [][]kv{requires, impliesList(), {sodRule}} {
		for _, e := range group {
			for _, p := range append([]string{e.key}, e.values...) {
				if p != sodRule.key {
					checkPermission(t, "catalog", p, nil)
				}
			}
		}
	}
	feat := func(p string) int { f, _, _ := strings.Cut(p, "="); return index[f] }
	for _, r := range requires {
		for _, v := range r.values {
			if feat(v) >= feat(r.key) {
				t.Errorf("requires %s -> %s does not go from a later feature to an earlier one", r.key, v)
			}
		}
	}
	for _, e := range endpointsList() {
		checkPermission(t, "endpoints", e.key, nil)
		for _, r := range e.values {
			if !regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE) (/[a-z]+|/\{id\})+$`).MatchString(r) {
				t.Errorf("endpoint %q", r)
			}
		}
	}
}

// TestRepositoryIsValid re-reads the generated files and checks the constraints of
// docs/config.md, the counts and the exact number of pairs.
func TestRepositoryIsValid(t *testing.T) {
	dir := t.TempDir()
	o := small(dir)
	st := generate(t, o)
	byKind := map[string][]doc{}
	for name, data := range readTree(t, dir) {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for _, d := range parseDocs(t, name, data) {
			if d.scalar["apiVersion"] != "permsets/v1" {
				t.Errorf("%s: apiVersion %q", name, d.scalar["apiVersion"])
			}
			if id, ok := d.scalar["id"]; ok && !idRE.MatchString(id) {
				t.Errorf("%s: bad id %q", name, id)
			}
			byKind[d.scalar["kind"]] = append(byKind[d.scalar["kind"]], d)
		}
	}
	counts := map[string]int{"Catalog": 1, "Instance": o.Instances, "PermissionSet": o.Sets, "User": o.Users,
		"Role": o.Roles, "Assignment": st.Assignments}
	for kind, n := range counts {
		if len(byKind[kind]) != n {
			t.Errorf("%d %s documents, want %d", len(byKind[kind]), kind, n)
		}
	}
	if len(byKind) != len(counts) {
		t.Errorf("kinds: %v", byKind)
	}
	ids := func(kind string) map[string]doc {
		m := map[string]doc{}
		for _, d := range byKind[kind] {
			if _, dup := m[d.scalar["id"]]; dup {
				t.Errorf("duplicate %s id %s", kind, d.scalar["id"])
			}
			m[d.scalar["id"]] = d
		}
		return m
	}
	instances, users, _, _ := ids("Instance"), ids("User"), ids("Role"), ids("Assignment")

	// Sets: instances exist, names unique per instance, permissions known and not repeated,
	// the directory is the first instance's, one builtin admin set per instance.
	setInst := map[string][]string{} // set id -> instances
	setDoc := ids("PermissionSet")
	for id, d := range setDoc {
		setInst[id] = d.list["instances"]
	}
	names := map[string]bool{}
	custom := map[string]int{}
	admins := 0
	for id, d := range setDoc {
		where := d.file + " " + id
		if len(d.list["instances"]) == 0 || !strings.HasPrefix(d.file, "sets/"+d.list["instances"][0]+"/") {
			t.Errorf("%s: instances %v", where, d.list["instances"])
		}
		noDuplicates(t, where, d.list["instances"])
		for _, in := range d.list["instances"] {
			if _, ok := instances[in]; !ok {
				t.Errorf("%s: unknown instance %s", where, in)
			}
			key := in + "/" + strings.ToLower(d.scalar["name"])
			if names[key] {
				t.Errorf("%s: name %q used twice on %s", where, d.scalar["name"], in)
			}
			names[key] = true
			if d.scalar["builtin"] != "true" {
				custom[in]++
			}
		}
		if d.scalar["builtin"] == "true" {
			admins++
			if d.scalar["fixed"] != "true" || len(d.list["permissions"]) != 1 || d.list["permissions"][0] != "*=*" {
				t.Errorf("%s: admin set %v %v", where, d.scalar, d.list)
			}
		} else if n := len(d.list["permissions"]); n < 3 || n > 10 {
			t.Errorf("%s: %d permissions", where, n)
		}
		noDuplicates(t, where, d.list["permissions"])
		for _, p := range d.list["permissions"] {
			checkPermission(t, where, p, setInst)
		}
	}
	if admins != o.Instances {
		t.Errorf("%d admin sets for %d instances", admins, o.Instances)
	}
	for id, d := range instances {
		if max, ok := d.scalar["limits.maxCustomSets"]; ok {
			if n, _ := strconv.Atoi(max); n < custom[id] {
				t.Errorf("instance %s: maxCustomSets %d < %d custom sets", id, n, custom[id])
			}
		}
	}
	onInstance := func(in, set string) bool {
		for _, x := range setInst[set] {
			if x == in {
				return true
			}
		}
		return false
	}
	userDeclared := func(where, u string) {
		if _, ok := users[u]; !ok {
			t.Errorf("%s: undeclared user %s", where, u)
		}
	}
	for _, d := range byKind["Role"] {
		where := d.file + " " + d.scalar["id"]
		noDuplicates(t, where, d.list["members"])
		noDuplicates(t, where, d.list["permissionSets"])
		for _, u := range d.list["members"] {
			userDeclared(where, u)
		}
		if n := len(d.list["permissionSets"]); n < 1 || n > 5 {
			t.Errorf("%s: %d permission sets", where, n)
		}
		for _, ps := range d.list["permissionSets"] {
			in, set, _ := strings.Cut(ps, "/")
			if !onInstance(in, set) {
				t.Errorf("%s: %s does not exist", where, ps)
			}
		}
	}

	// Assignments: references, no repeats, enabled sets, dates, and exactly o.Pairs pairs.
	pairs, expiring := 0, 0
	for _, d := range byKind["Assignment"] {
		where := d.file + " " + d.scalar["id"]
		in := d.scalar["instance"]
		us, ss := d.list["users"], d.list["permissionSets"]
		if len(us) == 0 || len(ss) == 0 || len(ss) > 3 {
			t.Errorf("%s: %d users, %d sets", where, len(us), len(ss))
		}
		noDuplicates(t, where, us)
		noDuplicates(t, where, ss)
		for _, u := range us {
			userDeclared(where, u)
		}
		for _, s := range ss {
			if !onInstance(in, s) {
				t.Errorf("%s: set %s is not on %s", where, s, in)
			}
			if setDoc[s].scalar["enabled"] == "false" || setDoc[s].scalar["builtin"] == "true" {
				t.Errorf("%s: assigns disabled or builtin set %s", where, s)
			}
		}
		if e, ok := d.scalar["expires"]; ok {
			expiring++
			if _, err := time.Parse(time.RFC3339, e); err != nil || d.scalar["reason"] == "" {
				t.Errorf("%s: expires %q reason %q", where, e, d.scalar["reason"])
			}
		}
		pairs += len(us) * len(ss)
	}
	if pairs != o.Pairs || st.Pairs != o.Pairs {
		t.Errorf("%d pairs in the files, %d reported, want %d", pairs, st.Pairs, o.Pairs)
	}
	if expiring == 0 && st.Assignments >= 50 {
		t.Logf("no expiring assignment among %d", st.Assignments)
	}

	// Inputs: one JSON object a line with known user, instance and a catalog permission.
	lines := strings.Split(strings.TrimSuffix(string(readTree(t, dir)["inputs.jsonl"]), "\n"), "\n")
	if len(lines) != o.Inputs {
		t.Fatalf("%d inputs, want %d", len(lines), o.Inputs)
	}
	for _, line := range lines {
		var in map[string]string
		if err := json.Unmarshal([]byte(line), &in); err != nil || len(in) != 3 {
			t.Fatalf("input %q: %v", line, err)
		}
		userDeclared("inputs.jsonl", in["user"])
		if _, ok := instances[in["instance"]]; !ok {
			t.Errorf("inputs.jsonl: unknown instance in %s", line)
		}
		checkPermission(t, "inputs.jsonl", in["permission"], setInst)
	}
	if st.AllowedInputs < o.Inputs/3 || st.AllowedInputs > 2*o.Inputs/3 {
		t.Errorf("%d of %d inputs expected allowed, want about half", st.AllowedInputs, o.Inputs)
	}
}

// TestPairsEdgeCases: exact pair counts when users are few or pairs are not a multiple of
// anything convenient.
func TestPairsEdgeCases(t *testing.T) {
	for _, c := range []struct{ users, pairs int }{{1, 5}, {3, 1}, {60, 10007}, {1000, 0}} {
		o := small(t.TempDir())
		o.Users, o.Pairs, o.Inputs = c.users, c.pairs, 10
		st := generate(t, o)
		if st.Pairs != c.pairs {
			t.Errorf("users %d: %d pairs, want %d", c.users, st.Pairs, c.pairs)
		}
	}
}

// TestLoads: the generated repository loads with no problem and the expected counts.
func TestLoads(t *testing.T) {
	dir := t.TempDir()
	o := small(dir)
	st := generate(t, o)
	res, err := config.LoadDir(context.Background(), dir, config.Options{})
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	for i, p := range res.Problems {
		if i == 20 {
			t.Fatalf("... and %d more problems", len(res.Problems)-i)
		}
		t.Error(p.String())
	}
	m := res.Model
	for _, c := range []struct {
		kind      string
		got, want int
	}{
		{"instances", len(m.Instances), o.Instances},
		{"sets", len(m.Sets), o.Sets},
		{"roles", len(m.Roles), o.Roles},
		{"assignments", len(m.Assignments), st.Assignments},
		{"users", len(m.Users), o.Users},
	} {
		if c.got != c.want {
			t.Errorf("%d %s loaded, want %d", c.got, c.kind, c.want)
		}
	}
	pairs := 0
	for _, a := range m.Assignments {
		pairs += len(a.Users) * len(a.PermissionSets)
	}
	if pairs != o.Pairs {
		t.Errorf("%d pairs loaded, want %d", pairs, o.Pairs)
	}
}
