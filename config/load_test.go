package config_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/testutil"
)

func load(t testing.TB, dir string) *config.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := config.LoadDir(ctx, dir, config.Options{})
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return res
}

func render(res *config.Result) string {
	var b strings.Builder
	for _, p := range res.Problems {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// golden compares got with testdata file name (UPDATE_GOLDEN=1 rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	testutil.Golden(t, name, got)
}

// TestBadInput loads every case of testdata/bad and compares the problems with its golden file
// (testdata/bad/NAME.golden).
func TestBadInput(t *testing.T) {
	cases, err := os.ReadDir("testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			res := load(t, filepath.Join("testdata/bad", c.Name()))
			golden(t, filepath.Join("testdata/bad", c.Name()+".golden"), render(res))
		})
	}
}

func TestExamplesAreValid(t *testing.T) {
	dirs, _ := filepath.Glob("../examples/*")
	n := 0
	for _, d := range dirs {
		if info, err := os.Stat(d); err != nil || !info.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "README.md")); err != nil {
			t.Errorf("%s has no README.md", d)
		}
		if _, err := os.Stat(filepath.Join(d, "instances")); err != nil {
			continue // not a config repository: examples/deploy holds Kubernetes manifests (cmd/permsd tests them)
		}
		n++
		t.Run(filepath.Base(d), func(t *testing.T) {
			res := load(t, d)
			if !res.OK() {
				t.Errorf("problems:\n%s", render(res))
			}
			if len(res.Model.Instances) == 0 || len(res.Model.Sets) == 0 || len(res.Model.Assignments) == 0 {
				t.Errorf("example holds too little: %d instances, %d sets, %d assignments", len(res.Model.Instances), len(res.Model.Sets), len(res.Model.Assignments))
			}
		})
	}
	if n < 4 {
		t.Errorf("found %d examples, want nation, portal, api and workflows", n)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const instanceDoc = "apiVersion: permsets/v1\nkind: Instance\nid: prod\n"

// TestHostileFilesystem covers what cannot be committed as testdata: links out of the tree,
// a 100 MB file, a named pipe (which would block a reader forever). Its golden file is
// testdata/hostile.golden.
func TestHostileFilesystem(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("symbolic links and named pipes as on Linux")
	}
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret.yaml"), instanceDoc)
	writeFile(t, filepath.Join(outside, "dir", "x.yaml"), instanceDoc)

	root := t.TempDir()
	writeFile(t, filepath.Join(root, "instances", "prod.yaml"), instanceDoc)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(root, "link-out.yaml")))
	must(os.Symlink("../../"+filepath.Base(outside)+"/secret.yaml", filepath.Join(root, "relative-out.yaml")))
	must(os.Symlink(filepath.Join(outside, "dir"), filepath.Join(root, "linked-dir")))
	must(os.Symlink("instances/prod.yaml", filepath.Join(root, "link-in.yaml")))
	must(os.Symlink("missing.yaml", filepath.Join(root, "dangling.yaml")))
	big, err := os.Create(filepath.Join(root, "huge.yaml"))
	must(err)
	must(big.Truncate(100 << 20)) // a 100 MB file, sparse: refused before it is read
	must(big.Close())
	must(syscall.Mkfifo(filepath.Join(root, "pipe.yaml"), 0o644))

	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	res := load(t, root)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 50<<20 {
		t.Errorf("loading allocated %d MiB; the huge file must be refused unread", grew>>20)
	}
	got := render(res)
	golden(t, "testdata/hostile.golden", got)
	if strings.Contains(got, "secret") {
		t.Errorf("a file outside the root was read:\n%s", got)
	}
}

func TestNoConfigFiles(t *testing.T) {
	res := load(t, t.TempDir())
	if !res.OK() || res.Files != 0 {
		t.Fatalf("empty root: %d files, problems %v", res.Files, res.Problems)
	}
}

func TestMissingRoot(t *testing.T) {
	_, err := config.LoadDir(context.Background(), filepath.Join(t.TempDir(), "nope"), config.Options{})
	if err == nil || !strings.Contains(err.Error(), "config root") {
		t.Fatalf("err = %v, want a config root error", err)
	}
}

func TestCancelledLoad(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := config.LoadDir(ctx, "../examples/nation", config.Options{}); err == nil {
		t.Fatal("a cancelled load succeeded")
	}
}

// TestAliasBombMemory: the billion-laughs document is refused within bounded memory and time.
func TestAliasBombMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	res := load(t, "testdata/bad/alias-bomb")
	runtime.ReadMemStats(&after)
	if len(res.Problems) != 1 || res.Problems[0].Code != config.CodeAliasBudget {
		t.Fatalf("problems: %v", res.Problems)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 20<<20 {
		t.Errorf("refusing the alias bomb allocated %d MiB", grew>>20)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing the alias bomb took %v", d)
	}
}

// TestIgnoreFileLimits: an ignore file over 64 KiB or 1,000 patterns is refused quickly with a
// problem naming it (it took 22 s to match 31 MB of patterns against the tree).
func TestIgnoreFileLimits(t *testing.T) {
	var many strings.Builder
	for i := range config.MaxIgnorePatterns + 1 {
		fmt.Fprintf(&many, "d%d/\n", i)
	}
	for _, tc := range []struct {
		note, content, want string
	}{
		{"bytes", strings.Repeat("# padding\n", 2<<20), ".permsetsignore: file-too-large: 20971520 bytes is over the limit of 65536 bytes (64 KiB) for .permsetsignore; use fewer, wider patterns"},
		{"patterns", many.String(), ".permsetsignore:1001:1: file-too-large: more than 1000 patterns in .permsetsignore; use fewer, wider patterns"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, "instances", "prod.yaml"), instanceDoc)
			writeFile(t, filepath.Join(root, config.IgnoreFile), tc.content)
			start := time.Now()
			res := load(t, root)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refusing the ignore file took %v", d)
			}
			if got := render(res); got != tc.want+"\n" {
				t.Errorf("problems:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
	// At the limits, the file is read and its patterns apply.
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "instances", "prod.yaml"), instanceDoc)
	writeFile(t, filepath.Join(root, "ignored", "x.yaml"), "not: config\n")
	var at strings.Builder
	for i := range config.MaxIgnorePatterns - 1 {
		fmt.Fprintf(&at, "d%d/\n", i)
	}
	at.WriteString("ignored/\n")
	writeFile(t, filepath.Join(root, config.IgnoreFile), at.String())
	if res := load(t, root); !res.OK() || res.Files != 1 {
		t.Errorf("an ignore file of %d patterns: %d files, problems %v", config.MaxIgnorePatterns, res.Files, res.Problems)
	}
}

// TestTokenBudget: a file of more than MaxTokens tokens is refused before it is parsed. A flow
// list of a million one-letter items is 2 MB; parsed and decoded, it took 640 MB and 3 s.
func TestTokenBudget(t *testing.T) {
	root := t.TempDir()
	var b strings.Builder
	b.WriteString("apiVersion: permsets/v1\nkind: Assignment\ninstance: prod\npermissionSets: [staffer]\nusers: [")
	for range config.MaxTokens {
		b.WriteString("a,")
	}
	b.WriteString("a]\n")
	writeFile(t, filepath.Join(root, "assignments", "big.yaml"), b.String())
	writeFile(t, filepath.Join(root, "instances", "prod.yaml"), instanceDoc)
	b.Reset()

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	res := load(t, root)
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	// 11 tokens come before the first item (9 in the first four lines, "users:" and "["), then
	// one per item: the 1,000,001st is item 999,989 (from 0), at column 9+2*999,989.
	want := fmt.Sprintf("assignments/big.yaml:5:%d: file-too-large: more than 1000000 YAML tokens in this file "+
		"(values, keys, list entries and the words of text); split the file\n", 9+2*(config.MaxTokens+1-12))
	if got := render(res); got != want {
		t.Errorf("problems:\n%s\nwant:\n%s", got, want)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
		t.Errorf("refusing the file allocated %d MiB", grew>>20)
	}
	if d > 2*time.Second {
		t.Errorf("refusing the file took %v", d)
	}
}

// TestTotalSizeBudget: a repository whose config files sum to more than the budget is refused
// whole, before any file is read, naming the file that crosses it.
func TestTotalSizeBudget(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "instances", "a.yaml"), instanceDoc)
	writeFile(t, filepath.Join(root, "instances", "b.yaml"), strings.Replace(instanceDoc, "prod", "test", 1))
	writeFile(t, filepath.Join(root, "instances", "c.yaml"), "not: even config\n")
	n := int64(2 * len(instanceDoc))
	res, err := config.LoadDir(context.Background(), root, config.Options{MaxTotalSize: n})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("instances/c.yaml: repository-too-large: the config files up to this one hold %d bytes, "+
		"over the limit of %d (%s MiB) for a repository; nothing was loaded\n", n+17, n, strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64))
	if got := render(res); got != want || res.Files != 0 || res.Model == nil {
		t.Errorf("files %d, model %v, problems:\n%s\nwant:\n%s", res.Files, res.Model != nil, got, want)
	}
	// Within the budget, the same files load (and c.yaml is what is wrong).
	os.Remove(filepath.Join(root, "instances", "c.yaml"))
	if res, err := config.LoadDir(context.Background(), root, config.Options{MaxTotalSize: n}); err != nil || !res.OK() || res.Files != 2 {
		t.Errorf("at the budget: %v %v", err, res.Problems)
	}
	// The default budget holds the examples.
	if config.DefaultMaxTotalSize != 64<<20 {
		t.Errorf("DefaultMaxTotalSize = %d, documented as 64 MiB", config.DefaultMaxTotalSize)
	}
}

// TestProblemObject: every dangling reference names the object it refers to, the one its
// message quotes (plan reads the set from it), and no other problem names one.
func TestProblemObject(t *testing.T) {
	kinds := map[string]string{config.CodeUnknownSet: config.KindPermissionSet, config.CodeUnknownInstance: config.KindInstance, config.CodeUnknownUser: config.KindUser}
	res := load(t, "testdata/bad/dangling")
	seen := map[string]bool{}
	for _, p := range res.Problems {
		kind, ok := kinds[p.Code]
		if !ok {
			if p.Object != "" {
				t.Errorf("%s: object %q, want none", p, p.Object)
			}
			continue
		}
		seen[p.Code] = true
		kindOf, id, _ := strings.Cut(p.Object, "/")
		if kindOf != kind || !strings.Contains(p.Message, strconv.Quote(id)) {
			t.Errorf("%s: object %q, want %s/ and the id the message quotes", p, p.Object, kind)
		}
	}
	if len(seen) != len(kinds) {
		t.Errorf("codes met: %v, want all of %v", seen, kinds)
	}
}
