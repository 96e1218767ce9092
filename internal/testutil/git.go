package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Hermetic keeps the user's git configuration (a global excludes file) and SSH files out of a
// test: HOME and XDG_CONFIG_HOME point into a new temporary directory, the home it returns.
func Hermetic(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	return home
}

// GitRepo is a real Git repository in a temporary directory, written with go-git. Its commits
// have one author and a clock that moves an hour a commit, so their hashes are the same on
// every run.
type GitRepo struct {
	t    testing.TB
	Dir  string // the top, symbolic links resolved
	Repo *git.Repository
	n    int // commits made, for the clock
}

// NewGitRepo makes an empty repository in a new temporary directory.
func NewGitRepo(t testing.TB) *GitRepo {
	t.Helper()
	dir := realTempDir(t)
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	return &GitRepo{t: t, Dir: dir, Repo: repo}
}

// CloneGitRepo clones url into a new temporary directory.
func CloneGitRepo(t testing.TB, url string) *GitRepo {
	t.Helper()
	dir := realTempDir(t)
	repo, err := git.PlainClone(dir, false, &git.CloneOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return &GitRepo{t: t, Dir: dir, Repo: repo}
}

// realTempDir is a new temporary directory with symbolic links resolved.
func realTempDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Write writes files (slash paths relative to the top) into the working tree.
func (r *GitRepo) Write(files map[string]string) {
	r.t.Helper()
	for name, content := range files {
		WriteFile(r.t, r.Dir, name, content)
	}
}

// Symlink makes the working tree file name a symbolic link to target.
func (r *GitRepo) Symlink(name, target string) {
	r.t.Helper()
	if runtime.GOOS == "windows" {
		r.t.Skip("symbolic links need privileges on Windows")
	}
	p := r.Path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		r.t.Fatal(err)
	}
}

// Remove removes name (a file or a whole directory) from the working tree.
func (r *GitRepo) Remove(name string) {
	r.t.Helper()
	if err := os.RemoveAll(r.Path(name)); err != nil {
		r.t.Fatal(err)
	}
}

// Commit stages every change (like git add -A) and commits it at a fixed time.
func (r *GitRepo) Commit(msg string) plumbing.Hash {
	r.t.Helper()
	r.n++
	sig := &object.Signature{Name: "Tess Ter", Email: "tess@example.org", When: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(r.n) * time.Hour)}
	return CommitAll(r.t, r.Repo, msg, sig)
}

// SetRef points the reference name (refs/...) at h.
func (r *GitRepo) SetRef(name string, h plumbing.Hash) {
	r.t.Helper()
	if err := r.Repo.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), h)); err != nil {
		r.t.Fatal(err)
	}
}

// Path is the working tree path of rel (slash-separated, from the top).
func (r *GitRepo) Path(rel string) string { return filepath.Join(r.Dir, filepath.FromSlash(rel)) }

// CommitAll stages every change of repo's work tree and commits it as sig.
func CommitAll(t testing.TB, repo *git.Repository, msg string, sig *object.Signature) plumbing.Hash {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig, All: true})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// GitRemote is a bare repository on disk (the remote a daemon follows) and a work repository
// that commits a config tree under access/ and pushes to the remote's branch live, all with
// go-git.
type GitRemote struct {
	t    testing.TB
	Bare string          // the bare repository: a plain path, or a URL after "file://"
	Work string          // the work tree; the config is at Work/access
	Repo *git.Repository // the work repository
}

// NewGitRemote copies the config tree src to access/ of a new work repository, beside a README
// that is not config, commits it and pushes it to the branch live of a new bare repository.
func NewGitRemote(t testing.TB, src string) *GitRemote {
	t.Helper()
	bare := filepath.Join(t.TempDir(), "remote.git")
	if _, err := git.PlainInit(bare, true); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.CopyFS(filepath.Join(work, "access"), os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	WriteFile(t, work, "README.md", "not config\n")
	repo, err := git.PlainInit(work, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{bare}}); err != nil {
		t.Fatal(err)
	}
	r := &GitRemote{t: t, Bare: bare, Work: work, Repo: repo}
	r.CommitAndPush("the example")
	return r
}

// CommitAndPush commits every change of the work tree and pushes it to live; it returns the
// commit.
func (r *GitRemote) CommitAndPush(msg string) string {
	r.t.Helper()
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: time.Now()}
	h := CommitAll(r.t, r.Repo, msg, sig)
	err := r.Repo.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{"+refs/heads/master:refs/heads/live"}})
	if err != nil && err != git.NoErrAlreadyUpToDate {
		r.t.Fatal(err)
	}
	return h.String()
}

// Commit writes one file of the work tree (rel is slash-separated, from the work tree's root),
// commits and pushes; it returns the commit.
func (r *GitRemote) Commit(msg, rel, content string) string {
	r.t.Helper()
	WriteFile(r.t, r.Work, rel, content)
	return r.CommitAndPush(msg)
}

// Rename sets the display name of the example's bookkeeper set to "Bookkeeper N" (a new
// revision, the same decisions), commits and pushes; it returns the commit.
func (r *GitRemote) Rename(n int) string {
	r.t.Helper()
	return r.Commit(fmt.Sprintf("rename %d", n), "access/sets/campaign/bookkeeper.yaml",
		fmt.Sprintf("apiVersion: permsets/v1\nkind: PermissionSet\nid: bookkeeper\ninstances: [campaign]\nname: Bookkeeper %d\npermissions: [finances=edit, people=read]\n", n))
}
