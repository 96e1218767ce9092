package source_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/testutil"
	"github.com/permsets/permsets/source"
)

func readString(t *testing.T, fsys fs.FS, name string) string {
	t.Helper()
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(data)
}

func TestAtRevision(t *testing.T) {
	r := testutil.NewGitRepo(t)
	r.Write(map[string]string{"README.md": "monorepo\n", "access/sets/a.yaml": "one\n", "access/old/x.yaml": "old\n"})
	c1 := r.Commit("first")
	r.Remove("access/old")
	r.Write(map[string]string{"access/sets/a.yaml": "two\n", "access/sets/b.yaml": "bee\n"})
	c2 := r.Commit("second")
	r.Write(map[string]string{"access/sets/a.yaml": "three\n"})
	c3 := r.Commit("third")
	r.SetRef("refs/heads/old", c1)
	r.SetRef("refs/tags/v1", c2)
	r.SetRef("refs/remotes/origin/live", c2)
	sig := &object.Signature{Name: "Tess Ter", Email: "tess@example.org", When: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := r.Repo.CreateTag("v0-annotated", c1, &git.CreateTagOptions{Tagger: sig, Message: "v0"}); err != nil {
		t.Fatal(err)
	}
	// A branch spelled like a prefix of another commit's hash: git takes the branch.
	r.SetRef("refs/heads/"+c3.String()[:6], c1)

	tests := []struct {
		note, dir, rev, file, want string
		commit                     plumbing.Hash
	}{
		{note: "head", dir: "access", rev: "HEAD", file: "sets/a.yaml", want: "three\n", commit: c3},
		{note: "parent", dir: "access", rev: "HEAD~1", file: "sets/a.yaml", want: "two\n", commit: c2},
		{note: "grandparent", dir: "access", rev: "HEAD~2", file: "sets/a.yaml", want: "one\n", commit: c1},
		{note: "caret", dir: "access", rev: "HEAD^", file: "sets/b.yaml", want: "bee\n", commit: c2},
		{note: "branch", dir: "access", rev: "old", file: "sets/a.yaml", want: "one\n", commit: c1},
		{note: "full branch ref", dir: "access", rev: "refs/heads/old", file: "sets/a.yaml", want: "one\n", commit: c1},
		{note: "tag", dir: "access", rev: "v1", file: "sets/a.yaml", want: "two\n", commit: c2},
		{note: "annotated tag peels to its commit", dir: "access", rev: "v0-annotated", file: "sets/a.yaml", want: "one\n", commit: c1},
		{note: "remote branch", dir: "access", rev: "origin/live", file: "sets/b.yaml", want: "bee\n", commit: c2},
		{note: "full remote ref", dir: "access", rev: "refs/remotes/origin/live", file: "sets/a.yaml", want: "two\n", commit: c2},
		{note: "short hash", dir: "access", rev: c1.String()[:7], file: "sets/a.yaml", want: "one\n", commit: c1},
		{note: "full hash", dir: "access", rev: c2.String(), file: "sets/a.yaml", want: "two\n", commit: c2},
		{note: "tilde after a branch", dir: "access", rev: "master~1", file: "sets/a.yaml", want: "two\n", commit: c2},
		{note: "branch wins over a short hash", dir: "access", rev: c3.String()[:6], file: "sets/a.yaml", want: "one\n", commit: c1},
		{note: "repository top", dir: ".", rev: "HEAD", file: "access/sets/a.yaml", want: "three\n", commit: c3},
		{note: "nested config root", dir: "access/sets", rev: "HEAD~1", file: "a.yaml", want: "two\n", commit: c2},
		{note: "root gone from the working tree", dir: "access/old", rev: "HEAD~2", file: "x.yaml", want: "old\n", commit: c1},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			rev, err := source.AtRevision(context.Background(), r.Path(tc.dir), tc.rev)
			if err != nil {
				t.Fatal(err)
			}
			if rev.Commit != tc.commit.String() || rev.Ref != tc.rev {
				t.Errorf("commit, ref = %s, %q; want %s, %q", rev.Commit, rev.Ref, tc.commit, tc.rev)
			}
			if got := readString(t, rev.FS, tc.file); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.file, got, tc.want)
			}
		})
	}

	t.Run("dir in a subdirectory finds the repository", func(t *testing.T) {
		nested := r.Path("access/sets")
		top, rel, err := source.RepoRoot(nested)
		if err != nil {
			t.Fatal(err)
		}
		if top != r.Dir || rel != "access/sets" {
			t.Errorf("RepoRoot = %q, %q; want %q, %q", top, rel, r.Dir, "access/sets")
		}
		if _, rel, _ := source.RepoRoot(r.Dir); rel != "." {
			t.Errorf("rel at the top = %q, want .", rel)
		}
	})

	t.Run("a file removed later is absent", func(t *testing.T) {
		rev, err := source.AtRevision(context.Background(), r.Path("access"), "HEAD~2")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Stat(rev.FS, "sets/b.yaml"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stat sets/b.yaml at HEAD~2: %v, want not exist", err)
		}
	})
}

func TestErrors(t *testing.T) {
	r := testutil.NewGitRepo(t)
	r.Write(map[string]string{"access/a.yaml": "a\n"})
	r.Commit("first")
	r.Write(map[string]string{"other/b.yaml": "b\n"})
	r.Commit("second")
	ctx := context.Background()

	for _, rev := range []string{"nope", "HEAD~5", "abc", "", "../../config", "HEAD^{/no such message}"} {
		t.Run("unknown revision "+rev, func(t *testing.T) {
			_, err := source.AtRevision(ctx, r.Path("access"), rev)
			if err == nil || !strings.Contains(err.Error(), `unknown revision "`+rev+`"`) || !errors.Is(err, source.ErrUnknownRevision) {
				t.Errorf("AtRevision(%q) error = %v, want unknown revision", rev, err)
			}
		})
	}

	t.Run("missing subdirectory", func(t *testing.T) {
		_, err := source.AtRevision(ctx, r.Path("other"), "HEAD~1")
		if err == nil || err.Error() != "other does not exist at HEAD~1" || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error = %v, want %q", err, "other does not exist at HEAD~1")
		}
	})

	t.Run("subdirectory is a file", func(t *testing.T) {
		_, err := source.AtRevision(ctx, r.Path("access/a.yaml"), "HEAD")
		if err == nil || !strings.Contains(err.Error(), "access/a.yaml is not a directory at HEAD") {
			t.Errorf("error = %v", err)
		}
	})

	t.Run("not a repository", func(t *testing.T) {
		dir := t.TempDir()
		if _, _, err := source.RepoRoot(dir); err == nil || !strings.Contains(err.Error(), "not in a git repository") {
			t.Errorf("RepoRoot(%s) error = %v, want not in a git repository", dir, err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := source.AtRevision(ctx, r.Path("access"), "HEAD"); !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
	})

	t.Run("invalid paths", func(t *testing.T) {
		rev, err := source.AtRevision(ctx, r.Path("access"), "HEAD")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"../other/b.yaml", "/a.yaml", "./a.yaml", "a.yaml/"} {
			if _, err := rev.FS.Open(name); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("open %q: %v, want invalid", name, err)
			}
		}
		if _, err := rev.FS.Open("a.yaml/x"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("open a.yaml/x: %v, want not exist", err)
		}
	})
}

// TestWalk checks listings: exactly the committed files, in fs order (Git sorts a directory as
// if its name ended in "/", which is not fs order).
func TestWalk(t *testing.T) {
	r := testutil.NewGitRepo(t)
	r.Write(map[string]string{
		"b.yaml": "b", "a/x.yaml": "x", "a.b": "ab", "a-c": "ac", "a/z/deep.yml": "deep", "A.yaml": "A",
	})
	c := r.Commit("files")
	r.Write(map[string]string{"untracked.yaml": "not committed"})
	fsys, err := source.TreeFS(r.Repo, c, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		got = append(got, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".", "A.yaml", "a", "a/x.yaml", "a/z", "a/z/deep.yml", "a-c", "a.b", "b.yaml"}
	if !slices.Equal(got, want) {
		t.Errorf("walk = %q\nwant %q", got, want)
	}
	info, err := fs.Stat(fsys, "a/z/deep.yml")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() != 4 || !info.Mode().IsRegular() || info.Name() != "deep.yml" {
		t.Errorf("stat = %v %d %q", info.Mode(), info.Size(), info.Name())
	}
	if want := time.Date(2026, 1, 2, 4, 4, 5, 0, time.UTC); !info.ModTime().Equal(want) {
		t.Errorf("mod time = %v, want the commit's %v", info.ModTime(), want)
	}
}

// TestFSContract runs testing/fstest over trees with directories, an executable, an empty file
// and in-tree symbolic links.
func TestFSContract(t *testing.T) {
	r := testutil.NewGitRepo(t)
	r.Write(map[string]string{
		"top.md":                    "outside the config root",
		"access/catalog.yaml":       "kind: Catalog\n",
		"access/sets/prod/a.yaml":   "a: 1\n",
		"access/sets/prod/b.yml":    "b: 2\n",
		"access/empty.yaml":         "",
		"access/bin/run.sh":         "#!/bin/sh\n",
		"access/assignments/x.yaml": strings.Repeat("x", 100_000),
	})
	if err := os.Chmod(r.Path("access/bin/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.Symlink("access/link.yaml", "sets/prod/a.yaml")
	r.Symlink("access/sets/dirlink", "prod")
	c := r.Commit("tree")

	for _, subdir := range []string{"", "access", "access/sets"} {
		fsys, err := source.TreeFS(r.Repo, c, subdir)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{
			"":            {"top.md", "access/link.yaml", "access/sets/prod/a.yaml", "access/bin/run.sh"},
			"access":      {"catalog.yaml", "empty.yaml", "link.yaml", "sets/dirlink", "sets/prod/b.yml"},
			"access/sets": {"prod/a.yaml", "dirlink"},
		}[subdir]
		if err := fstest.TestFS(fsys, want...); err != nil {
			t.Errorf("TreeFS(%q): %v", subdir, err)
		}
	}
	fsys, _ := source.TreeFS(r.Repo, c, "access")
	if info, err := fs.Stat(fsys, "bin/run.sh"); err != nil || info.Mode() != 0o755 {
		t.Errorf("executable: %v, %v", info, err)
	}
}

func TestSymlinks(t *testing.T) {
	r := testutil.NewGitRepo(t)
	r.Write(map[string]string{
		"README.md":             "top of the repository",
		"access/sets/a.yaml":    "a: 1\n",
		"access/sets/sub/b.yml": "b: 2\n",
	})
	links := map[string]string{
		"access/link.yaml":       "sets/a.yaml",
		"access/chain.yaml":      "link.yaml",
		"access/dotdot.yaml":     "sets/sub/../a.yaml",
		"access/sets/up.yaml":    "../sets/sub/b.yml",
		"access/dirlink":         "sets/sub",
		"access/above.yaml":      "../README.md",
		"access/outside.yaml":    "../../outside",
		"access/passwd.yaml":     "/etc/passwd",
		"access/viadir.yaml":     "dirlink/../../../README.md",
		"access/loop1.yaml":      "loop2.yaml",
		"access/loop2.yaml":      "loop1.yaml",
		"access/self.yaml":       "self.yaml",
		"access/broken.yaml":     "missing.yaml",
		"access/sets/notdir.yml": "a.yaml/b",
	}
	for name, target := range links {
		r.Symlink(name, target)
	}
	c := r.Commit("links")
	fsys, err := source.TreeFS(r.Repo, c, "access")
	if err != nil {
		t.Fatal(err)
	}

	reads := map[string]string{
		"link.yaml":     "a: 1\n",
		"chain.yaml":    "a: 1\n",
		"dotdot.yaml":   "a: 1\n",
		"sets/up.yaml":  "b: 2\n",
		"dirlink/b.yml": "b: 2\n",
	}
	for name, want := range reads {
		if got := readString(t, fsys, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
		info, err := fs.Stat(fsys, name)
		if err != nil || !info.Mode().IsRegular() || info.Size() != int64(len(want)) {
			t.Errorf("stat %s = %v, %v", name, info, err)
		}
	}

	fails := []struct {
		name, want string
		is         error
	}{
		{"above.yaml", "escapes", nil},
		{"outside.yaml", "escapes", nil},
		{"passwd.yaml", "escapes", nil},
		{"viadir.yaml", "escapes", nil},
		{"loop1.yaml", "too many levels of symbolic links", nil},
		{"self.yaml", "too many levels of symbolic links", nil},
		{"broken.yaml", "", fs.ErrNotExist},
		{"sets/notdir.yml", "", fs.ErrNotExist},
	}
	for _, tc := range fails {
		for op, f := range map[string]func() error{
			"open": func() error { _, err := fsys.Open(tc.name); return err },
			"stat": func() error { _, err := fs.Stat(fsys, tc.name); return err },
			"read": func() error { _, err := fs.ReadFile(fsys, tc.name); return err },
		} {
			err := f()
			var pe *fs.PathError
			switch {
			case !errors.As(err, &pe) || pe.Path != tc.name:
				t.Errorf("%s %s: %v, want a *fs.PathError naming it", op, tc.name, err)
			case tc.is != nil && !errors.Is(err, tc.is):
				t.Errorf("%s %s: %v, want %v", op, tc.name, err, tc.is)
			case !strings.Contains(err.Error(), tc.want):
				t.Errorf("%s %s: %v, want %q", op, tc.name, err, tc.want)
			}
		}
	}

	// The listing and Lstat describe the link itself; ReadLink gives the target as committed.
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "link.yaml" && e.Type() != fs.ModeSymlink || e.Name() == "sets" && e.Type() != fs.ModeDir {
			t.Errorf("%s: type %v", e.Name(), e.Type())
		}
	}
	// go-git's worktree commits an absolute link relative to the worktree's top
	// ("/../../../etc/passwd" for a repository three levels down); it stays absolute.
	target, err := fs.ReadLink(fsys, "passwd.yaml")
	if err != nil || !strings.HasPrefix(target, "/") || !strings.HasSuffix(target, "/etc/passwd") {
		t.Errorf("readlink passwd.yaml = %q, %v", target, err)
	}
	if info, err := fs.Lstat(fsys, "passwd.yaml"); err != nil || info.Mode().Type() != fs.ModeSymlink || info.Size() != int64(len(target)) {
		t.Errorf("lstat passwd.yaml = %v, %v", info, err)
	}
	if target, err := fs.ReadLink(fsys, "outside.yaml"); err != nil || target != "../../outside" {
		t.Errorf("readlink outside.yaml = %q, %v", target, err)
	}

	// The loader reports the escaping links as outside-root and reads the others.
	res, err := config.Load(context.Background(), fsys, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, p := range res.Problems {
		codes[p.File] = p.Code
	}
	for _, name := range []string{"above.yaml", "outside.yaml", "passwd.yaml", "viadir.yaml"} {
		if codes[name] != config.CodeOutsideRoot {
			t.Errorf("%s: problem %q, want %s", name, codes[name], config.CodeOutsideRoot)
		}
	}
	for _, name := range []string{"dirlink"} {
		if codes[name] != config.CodeNotRegularFile {
			t.Errorf("%s: problem %q, want %s", name, codes[name], config.CodeNotRegularFile)
		}
	}
}

// TestSubmodule builds a tree holding a submodule entry (a commit of another repository): it
// is listed as irregular, reads as empty, and is never followed.
func TestSubmodule(t *testing.T) {
	r := testutil.NewGitRepo(t)
	r.Write(map[string]string{"a.yaml": "a: 1\n"})
	c := r.Commit("first")
	commit, err := r.Repo.CommitObject(c)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := commit.Tree()
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := plumbing.NewHash("0123456789abcdef0123456789abcdef01234567")
	entries := append(slices.Clone(tree.Entries), object.TreeEntry{Name: "vendor.yaml", Mode: filemode.Submodule, Hash: elsewhere})
	treeHash := store(t, r.Repo.Storer, &object.Tree{Entries: entries})
	sig := object.Signature{Name: "Tess Ter", Email: "tess@example.org", When: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	c2 := store(t, r.Repo.Storer, &object.Commit{Author: sig, Committer: sig, Message: "submodule", TreeHash: treeHash, ParentHashes: []plumbing.Hash{c}})

	fsys, err := source.TreeFS(r.Repo, c2, "")
	if err != nil {
		t.Fatal(err)
	}
	list, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[1].Name() != "vendor.yaml" || list[1].Type() != fs.ModeIrregular {
		t.Fatalf("listing = %v", list)
	}
	if _, err := fsys.Open("vendor.yaml/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open inside the submodule: %v, want not exist", err)
	}
	if err := fstest.TestFS(fsys, "a.yaml", "vendor.yaml"); err != nil {
		t.Error(err)
	}
	res, err := config.Load(context.Background(), fsys, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) == 0 || res.Problems[len(res.Problems)-1].File != "vendor.yaml" || res.Problems[len(res.Problems)-1].Code != config.CodeNotRegularFile {
		t.Errorf("problems = %v, want not-regular-file for vendor.yaml", res.Problems)
	}
}

func store(t *testing.T, s storage.Storer, o interface {
	Encode(plumbing.EncodedObject) error
}) plumbing.Hash {
	t.Helper()
	obj := s.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		t.Fatal(err)
	}
	h, err := s.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// countingStorer is a repository's real storage that counts the blobs fetched from it.
type countingStorer struct {
	storage.Storer
	blobs atomic.Int64
}

func (s *countingStorer) EncodedObject(typ plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if typ == plumbing.BlobObject {
		s.blobs.Add(1)
	}
	return s.Storer.EncodedObject(typ, h)
}

// TestLazyBlobs checks that listing and Stat read no blob, that the size comes from the object,
// and that the loader refuses a blob over its limit.
func TestLazyBlobs(t *testing.T) {
	r := testutil.NewGitRepo(t)
	r.Write(map[string]string{
		"small.yaml": "apiVersion: permsets/v1\nkind: Instance\nid: prod\n",
		"huge.yaml":  strings.Repeat("#", config.MaxFileSize+1),
	})
	c := r.Commit("huge")
	cs := &countingStorer{Storer: r.Repo.Storer}
	repo, err := git.Open(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := source.TreeFS(repo, c, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadDir(fsys, "."); err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Open("huge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() != config.MaxFileSize+1 {
		t.Errorf("size = %d, want %d", info.Size(), config.MaxFileSize+1)
	}
	if cs.blobs.Load() != 0 {
		t.Errorf("%d blobs fetched before the first Read, want 0", cs.blobs.Load())
	}
	buf := make([]byte, 10)
	if n, err := io.ReadFull(f, buf); n != 10 || err != nil || string(buf) != "##########" {
		t.Errorf("read = %d, %v, %q", n, err, buf)
	}
	f.Close()
	if _, err := f.Read(buf); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("read after close: %v, want closed", err)
	}
	cs.blobs.Store(0)
	res, err := config.Load(context.Background(), fsys, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].File != "huge.yaml" || res.Problems[0].Code != config.CodeFileTooLarge {
		t.Errorf("problems = %v, want file-too-large for huge.yaml", res.Problems)
	}
	if cs.blobs.Load() != 1 {
		t.Errorf("the load fetched %d blobs, want 1 (small.yaml)", cs.blobs.Load())
	}
}

const (
	instanceYAML = `apiVersion: permsets/v1
kind: Instance
id: prod
name: Production
`
	assignmentYAML = `apiVersion: permsets/v1
kind: Assignment
id: staff
instance: prod
users: [alice, bob]
permissionSets:
  - staffer
  - finance
`
)

func setYAML(id, name string) string {
	return `apiVersion: permsets/v1
kind: PermissionSet
id: ` + id + `
instances: [prod]
name: ` + name + `
permissions:
  - people=read
`
}

// TestLoadAtRevision loads a config root in a subdirectory at two commits: the first is valid;
// the second removes a set that is still assigned.
func TestLoadAtRevision(t *testing.T) {
	r := testutil.NewGitRepo(t)
	files := map[string]string{
		"README.md":                       "not config",
		"service/main.go":                 "package main",
		"access/instances/prod.yaml":      instanceYAML,
		"access/sets/prod/staffer.yaml":   setYAML("staffer", "Staffer"),
		"access/sets/prod/finance.yaml":   setYAML("finance", "Finance"),
		"access/assignments/staff.yaml":   assignmentYAML,
		"access/policies/custom.rego":     "package permsets.custom.x\n",
		"access/.permsetsignore":          "drafts/\n",
		"access/drafts/not-loaded.yaml":   "this: is not a permsets document\n",
		"access/sets/prod/extra/ro.yml":   setYAML("read-only", "Read only"),
		"access/sets/prod/extra/ro2.yaml": setYAML("read-only-2", "Read only 2"),
	}
	r.Write(files)
	good := r.Commit("valid config")
	r.Remove("access/sets/prod/finance.yaml")
	r.Commit("remove the finance set")
	ctx := context.Background()

	rev, err := source.AtRevision(ctx, r.Path("access"), good.String()[:8])
	if err != nil {
		t.Fatal(err)
	}
	res, err := config.Load(ctx, rev.FS, config.Options{Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Files != 6 {
		t.Errorf("at the first commit: %d files, problems %v; want 6 files, none", res.Files, res.Problems)
	}

	rev, err = source.AtRevision(ctx, r.Path("access"), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	res, err = config.Load(ctx, rev.FS, config.Options{Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	want := config.Problem{File: "assignments/staff.yaml", Pos: config.Pos{Line: 8, Col: 5}, Code: config.CodeUnknownSet, Object: "PermissionSet/finance"}
	if len(res.Problems) != 1 {
		t.Fatalf("at HEAD: problems %v, want one %s", res.Problems, want.Code)
	}
	got := res.Problems[0]
	got.Message = ""
	if got != want {
		t.Errorf("at HEAD: problem %s, want %s", res.Problems[0], want)
	}

	// The working tree agrees with HEAD.
	dir, closer, err := source.Dir(r.Path("access"))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if dir.Commit != "" || dir.Ref != "" {
		t.Errorf("Dir revision = %+v, want no commit or ref", dir)
	}
	res, err = config.Load(ctx, dir.FS, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Pos != want.Pos || res.Problems[0].File != want.File {
		t.Errorf("working tree: problems %v, want one %s", res.Problems, want)
	}
}

// TestPackedRepository reads a repository whose objects are all in a packfile (as after a clone
// or gc), with the loader's workers reading in parallel.
func TestPackedRepository(t *testing.T) {
	r := testutil.NewGitRepo(t)
	files := map[string]string{"access/instances/prod.yaml": instanceYAML, "access/assignments/staff.yaml": assignmentYAML}
	for i := range 40 {
		id := "set-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		files["access/sets/prod/"+id+".yaml"] = setYAML(id, "Set "+id)
	}
	files["access/sets/prod/staffer.yaml"] = setYAML("staffer", "Staffer")
	files["access/sets/prod/finance.yaml"] = setYAML("finance", "Finance")
	r.Write(files)
	c := r.Commit("many sets")
	if err := r.Repo.RepackObjects(&git.RepackConfig{}); err != nil {
		t.Fatal(err)
	}
	loose, err := filepath.Glob(filepath.Join(r.Dir, ".git", "objects", "[0-9a-f][0-9a-f]"))
	if err != nil || len(loose) == 0 {
		t.Fatalf("no loose objects to remove: %v", err)
	}
	for _, d := range loose {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
	rev, err := source.AtRevision(context.Background(), r.Path("access"), "master")
	if err != nil {
		t.Fatal(err)
	}
	if rev.Commit != c.String() {
		t.Errorf("commit = %s, want %s", rev.Commit, c)
	}
	res, err := config.Load(context.Background(), rev.FS, config.Options{Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Files != 44 {
		t.Errorf("%d files, problems %v; want 44, none", res.Files, res.Problems)
	}
}
