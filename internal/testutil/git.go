package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/object"
)

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
	wt, err := r.Repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		r.t.Fatal(err)
	}
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: time.Now()}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig, All: true})
	if err != nil {
		r.t.Fatal(err)
	}
	err = r.Repo.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{"+refs/heads/master:refs/heads/live"}})
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
