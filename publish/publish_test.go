package publish_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"

	"github.com/permsets/permsets/internal/credentials"
	"github.com/permsets/permsets/internal/testutil"
	"github.com/permsets/permsets/publish"
	"github.com/permsets/permsets/source"
)

// Pushes and fetches to local repositories (go-git's too, in the helpers) go through the
// in-process transport, as in permsctl.
func TestMain(m *testing.M) {
	publish.RegisterFileTransport()
	os.Exit(m.Run())
}

func TestCheckClean(t *testing.T) {
	testutil.Hermetic(t)
	clean := func(t *testing.T) *testRepo {
		r := newRepo(t)
		r.Write(map[string]string{
			"access/sets/a.yaml": "one\n",
			"access/sets/b.yaml": "bee\n",
			".gitignore":         "*.tmp\nbuild/\n",
		})
		r.Commit("first")
		return r
	}
	dirty := func(t *testing.T, r *testRepo, want ...string) {
		t.Helper()
		err := publish.CheckClean(r.Path("access"))
		if !errors.Is(err, publish.ErrDirty) {
			t.Fatalf("CheckClean = %v, want ErrDirty", err)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not name %q", err, w)
			}
		}
	}

	t.Run("clean", func(t *testing.T) {
		r := clean(t)
		if err := publish.CheckClean(r.Dir); err != nil {
			t.Fatal(err)
		}
		if err := publish.CheckClean(r.Path("access/sets")); err != nil {
			t.Fatalf("from a subdirectory: %v", err)
		}
	})
	t.Run("modified", func(t *testing.T) {
		r := clean(t)
		r.Write(map[string]string{"access/sets/a.yaml": "changed\n"})
		dirty(t, r, "M access/sets/a.yaml")
		r.Write(map[string]string{"access/sets/a.yaml": "one\n"})
		if err := publish.CheckClean(r.Dir); err != nil {
			t.Errorf("after restoring the content: %v", err)
		}
	})
	t.Run("untracked", func(t *testing.T) {
		r := clean(t)
		r.Write(map[string]string{"access/sets/new.yaml": "new\n"})
		dirty(t, r, "?? access/sets/new.yaml")
	})
	t.Run("ignored", func(t *testing.T) {
		r := clean(t)
		r.Write(map[string]string{"scratch.tmp": "x", "access/build/out.o": "x", "build/deep/er.o": "x"})
		if err := publish.CheckClean(r.Dir); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		r := clean(t)
		r.Remove("access/sets/b.yaml")
		dirty(t, r, "D access/sets/b.yaml")
	})
	t.Run("staged", func(t *testing.T) {
		r := clean(t)
		r.Write(map[string]string{"c.yaml": "cee\n"})
		wt, err := r.Repo.Worktree()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add("c.yaml"); err != nil {
			t.Fatal(err)
		}
		dirty(t, r, "A c.yaml")
	})
	t.Run("up to ten paths named", func(t *testing.T) {
		r := clean(t)
		files := map[string]string{}
		for i := range 15 {
			files[fmt.Sprintf("new/%02d.yaml", i)] = "x"
		}
		r.Write(files)
		dirty(t, r, "new/00.yaml", "new/09.yaml", "and 5 more")
		if err := publish.CheckClean(r.Dir); strings.Contains(err.Error(), "new/10.yaml") {
			t.Errorf("error names an 11th path: %v", err)
		}
	})
	t.Run("global excludes file", func(t *testing.T) {
		home := testutil.Hermetic(t)
		if err := os.MkdirAll(filepath.Join(home, ".config", "git"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, ".config", "git", "ignore"), []byte("*.swp\n.DS_Store\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := clean(t)
		r.Write(map[string]string{"access/.a.yaml.swp": "x", ".DS_Store": "x"})
		if err := publish.CheckClean(r.Dir); err != nil {
			t.Fatalf("files ignored by ~/.config/git/ignore: %v", err)
		}
		// A repository's .gitignore wins over the global file, as in git.
		r.Write(map[string]string{".gitignore": "*.tmp\nbuild/\n!keep.swp\n", "keep.swp": "x"})
		dirty(t, r, "M .gitignore", "?? keep.swp")
		if err := publish.CheckClean(r.Dir); strings.Contains(err.Error(), ".DS_Store") {
			t.Errorf("globally ignored file named: %v", err)
		}
	})
}

func TestHeadAndLocalLive(t *testing.T) {
	r := newRepo(t)
	if _, err := publish.Head(r.Dir); err == nil {
		t.Error("Head of a repository without commits: no error")
	}
	r.Write(map[string]string{"a/x.yaml": "x\n"})
	c1 := r.Commit("first")
	if got, err := publish.Head(r.Path("a")); err != nil || got != c1.String() {
		t.Errorf("Head = %q, %v; want %s", got, err, c1)
	}
	if got, err := publish.LocalLive(r.Dir); err != nil || got != "" {
		t.Errorf("LocalLive before there is one = %q, %v", got, err)
	}
	r.SetRef("refs/heads/live", c1)
	if got, err := publish.LocalLive(r.Path("a")); err != nil || got != c1.String() {
		t.Errorf("LocalLive = %q, %v; want %s", got, err, c1)
	}
	if publish.LiveRef("") != "refs/heads/live" || publish.LiveRef("origin") != "refs/remotes/origin/live" {
		t.Errorf("LiveRef = %q, %q", publish.LiveRef(""), publish.LiveRef("origin"))
	}
}

func note(actor string, n int) publish.Note {
	return publish.Note{Actor: actor, Time: time.Date(2026, 3, 1, 12, 0, n, 0, time.UTC), PlanDigest: fmt.Sprintf("sha256:%064d", n), Revision: fmt.Sprintf("rev-%d", n)}
}

func noteText(n publish.Note) string {
	return fmt.Sprintf("actor: %s\ntime: %s\nplan: %s\nrevision: %s\n", n.Actor, n.Time.UTC().Format(time.RFC3339), n.PlanDigest, n.Revision)
}

// noteInTree reads the note on commit straight from the notes tree of repo, as git notes show
// does for a tree without fanout: refs/notes/permsets → commit → tree → entry named by the hex.
func noteInTree(t *testing.T, repo *git.Repository, commit plumbing.Hash) string {
	t.Helper()
	ref, err := repo.Reference(plumbing.ReferenceName(publish.NotesRef), false)
	if err != nil {
		t.Fatalf("%s: %v", publish.NotesRef, err)
	}
	c, err := repo.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	tree, err := c.Tree()
	if err != nil {
		t.Fatal(err)
	}
	e, err := tree.FindEntry(commit.String())
	if err != nil {
		t.Fatalf("notes tree entry %s: %v", commit, err)
	}
	if e.Mode != filemode.Regular {
		t.Errorf("note entry mode %v, want a regular file", e.Mode)
	}
	f, err := tree.File(commit.String())
	if err != nil {
		t.Fatal(err)
	}
	text, err := f.Contents()
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func refOf(t *testing.T, repo *git.Repository, name string) plumbing.Hash {
	t.Helper()
	ref, err := repo.Reference(plumbing.ReferenceName(name), false)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash
	}
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash()
}

func readNote(t *testing.T, dir string, commit plumbing.Hash) string {
	t.Helper()
	text, err := publish.ReadNote(dir, commit.String())
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func TestPublishLocal(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	r.Write(map[string]string{"access/a.yaml": "one\n"})
	c1 := r.Commit("first")
	n1 := note("alice@example.org", 1)

	if err := publish.Publish(ctx, r.Path("access"), "", c1.String(), "", false, n1, nil); err != nil {
		t.Fatalf("first publish: %v", err)
	}
	if got := refOf(t, r.Repo, "refs/heads/live"); got != c1 {
		t.Fatalf("live = %s, want %s", got, c1)
	}
	if got := readNote(t, r.Dir, c1); got != noteText(n1) {
		t.Errorf("note = %q, want %q", got, noteText(n1))
	}
	if got := noteInTree(t, r.Repo, c1); got != noteText(n1) {
		t.Errorf("note in the tree = %q", got)
	}
	if got := readNote(t, r.Dir, plumbing.NewHash(strings.Repeat("ab", 20))); got != "" {
		t.Errorf("note of a commit without one = %q", got)
	}

	t.Run("first publish when live exists", func(t *testing.T) {
		err := publish.Publish(ctx, r.Dir, "", c1.String(), "", false, n1, nil)
		if !errors.Is(err, publish.ErrLiveMoved) {
			t.Fatalf("err = %v, want ErrLiveMoved", err)
		}
	})

	r.Write(map[string]string{"access/a.yaml": "two\n"})
	c2 := r.Commit("second")
	n2 := note("bob@example.org", 2)
	if err := publish.Publish(ctx, r.Dir, "", c2.String(), c1.String(), false, n2, nil); err != nil {
		t.Fatalf("fast-forward: %v", err)
	}
	if got := refOf(t, r.Repo, "refs/heads/live"); got != c2 {
		t.Fatalf("live = %s, want %s", got, c2)
	}
	if readNote(t, r.Dir, c1) != noteText(n1) || readNote(t, r.Dir, c2) != noteText(n2) {
		t.Errorf("notes after two applies: %q, %q", readNote(t, r.Dir, c1), readNote(t, r.Dir, c2))
	}
	notes := refOf(t, r.Repo, publish.NotesRef)
	if nc, err := r.Repo.CommitObject(notes); err != nil || len(nc.ParentHashes) != 1 {
		t.Errorf("notes commit %v: parents %v, want the previous notes commit", err, nc.ParentHashes)
	}

	t.Run("stale expected", func(t *testing.T) {
		r.Write(map[string]string{"access/a.yaml": "three\n"})
		c3 := r.Commit("third")
		err := publish.Publish(ctx, r.Dir, "", c3.String(), c1.String(), false, n2, nil)
		if !errors.Is(err, publish.ErrLiveMoved) || !strings.Contains(err.Error(), "re-run apply") {
			t.Fatalf("err = %v, want ErrLiveMoved saying to re-run apply", err)
		}
		if got := refOf(t, r.Repo, "refs/heads/live"); got != c2 {
			t.Errorf("live moved to %s", got)
		}
		if got := readNote(t, r.Dir, c3); got != "" {
			t.Errorf("refused publish left a note: %q", got)
		}
	})

	t.Run("not a fast-forward", func(t *testing.T) {
		n3 := note("carol@example.org", 3)
		err := publish.Publish(ctx, r.Dir, "", c1.String(), c2.String(), false, n3, nil)
		if !errors.Is(err, publish.ErrNotFastForward) {
			t.Fatalf("err = %v, want ErrNotFastForward", err)
		}
		if got := refOf(t, r.Repo, "refs/heads/live"); got != c2 {
			t.Errorf("live moved to %s", got)
		}
		if err := publish.Publish(ctx, r.Dir, "", c1.String(), c2.String(), true, n3, nil); err != nil {
			t.Fatalf("forced: %v", err)
		}
		if got := refOf(t, r.Repo, "refs/heads/live"); got != c1 {
			t.Errorf("live = %s, want %s", got, c1)
		}
		// A second apply of one commit adds to its note, as git notes append does.
		if got, want := readNote(t, r.Dir, c1), noteText(n1)+"\n"+noteText(n3); got != want {
			t.Errorf("note after re-applying = %q, want %q", got, want)
		}
	})

	t.Run("live checked out", func(t *testing.T) {
		if err := r.Repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, "refs/heads/live")); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_ = r.Repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, "refs/heads/master"))
		}()
		err := publish.Publish(ctx, r.Dir, "", c2.String(), c1.String(), false, n2, nil)
		if err == nil || !strings.Contains(err.Error(), "checked-out") {
			t.Fatalf("err = %v, want a refusal to move the checked-out branch", err)
		}
	})

	t.Run("bad arguments", func(t *testing.T) {
		if err := publish.Publish(ctx, r.Dir, "", c2.String(), "c1", false, n2, nil); err == nil {
			t.Error("expected that is not a hash: no error")
		}
		bad := n2
		bad.Actor = "mallory\nactor: alice"
		if err := publish.Publish(ctx, r.Dir, "", c2.String(), c1.String(), false, bad, nil); err == nil {
			t.Error("actor with a line break: no error")
		}
		if err := publish.Publish(ctx, r.Dir, "", "no-such-rev", c1.String(), false, n2, nil); !errors.Is(err, source.ErrUnknownRevision) {
			t.Errorf("unknown commit: %v", err)
		}
	})
}

// newRemote makes a bare repository on disk whose master has one commit, pushed there from a
// seed repository with go-git, and returns its path.
func newRemote(t *testing.T) string {
	t.Helper()
	seed := newRepo(t)
	seed.Write(map[string]string{"access/a.yaml": "seed\n"})
	seed.Commit("seed")
	top, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(top, "remote.git")
	if _, err := git.PlainInit(bare, true); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{bare}}); err != nil {
		t.Fatal(err)
	}
	if err := seed.Repo.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{"refs/heads/master:refs/heads/master"}}); err != nil {
		t.Fatal(err)
	}
	return bare
}

// cloneOf clones url with go-git; commits made in the clone are told apart by name.
func cloneOf(t *testing.T, url, name string) *testRepo {
	t.Helper()
	r := &testRepo{testutil.CloneGitRepo(t, url), t}
	r.Write(map[string]string{"who": name + "\n"})
	r.Commit(name + " starts")
	return r
}

// change commits a change in r.
func (r *testRepo) change(msg string) plumbing.Hash {
	r.t.Helper()
	r.Write(map[string]string{"access/a.yaml": msg + "\n"})
	return r.Commit(msg)
}

// resetTo points r's branch and work tree at h, as git reset --hard does.
func (r *testRepo) resetTo(h plumbing.Hash) {
	r.t.Helper()
	wt, err := r.Repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := wt.Reset(&git.ResetOptions{Commit: h, Mode: git.HardReset}); err != nil {
		r.t.Fatal(err)
	}
}

func openBare(t *testing.T, path string) *git.Repository {
	t.Helper()
	repo, err := git.PlainOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func fetch(t *testing.T, r *testRepo) string {
	t.Helper()
	live, err := publish.FetchLive(context.Background(), r.Path("access"), "origin", nil)
	if err != nil {
		t.Fatalf("FetchLive: %v", err)
	}
	return live
}

func TestFetchLive(t *testing.T) {
	ctx := context.Background()
	bare := newRemote(t)
	a := cloneOf(t, bare, "a")

	if got := fetch(t, a); got != "" {
		t.Fatalf("FetchLive with no live on the remote = %q", got)
	}
	if got := refOf(t, a.Repo, "refs/remotes/origin/live"); !got.IsZero() {
		t.Errorf("refs/remotes/origin/live = %s, want none", got)
	}

	master := refOf(t, openBare(t, bare), "refs/heads/master")
	if err := openBare(t, bare).Storer.SetReference(plumbing.NewHashReference("refs/heads/live", master)); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, a); got != master.String() {
		t.Fatalf("FetchLive = %q, want %s", got, master)
	}
	if got := refOf(t, a.Repo, "refs/remotes/origin/live"); got != master {
		t.Errorf("refs/remotes/origin/live = %s, want %s", got, master)
	}
	if base, err := source.DefaultBase(a.Dir); err != nil || base != "refs/remotes/origin/live" {
		t.Errorf("DefaultBase after the fetch = %q, %v", base, err)
	}

	t.Run("live removed from the remote", func(t *testing.T) {
		if err := openBare(t, bare).Storer.RemoveReference("refs/heads/live"); err != nil {
			t.Fatal(err)
		}
		if got := fetch(t, a); got != "" {
			t.Errorf("FetchLive = %q, want none", got)
		}
		if got := refOf(t, a.Repo, "refs/remotes/origin/live"); !got.IsZero() {
			t.Errorf("stale refs/remotes/origin/live = %s left", got)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := publish.FetchLive(cctx, a.Dir, "origin", nil); !errors.Is(err, context.Canceled) {
			t.Errorf("FetchLive: err = %v, want context.Canceled", err)
		}
		if err := publish.Publish(cctx, a.Dir, "origin", "HEAD", "", false, note("a", 1), nil); !errors.Is(err, context.Canceled) {
			t.Errorf("Publish: err = %v, want context.Canceled", err)
		}
		if got := refOf(t, openBare(t, bare), "refs/heads/live"); !got.IsZero() {
			t.Errorf("cancelled publish moved live to %s", got)
		}
	})

	t.Run("unknown remote", func(t *testing.T) {
		_, err := publish.FetchLive(ctx, a.Dir, "upstream", nil)
		if err == nil || !strings.Contains(err.Error(), `no remote "upstream"`) {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("relative path remote", func(t *testing.T) {
		rel, err := filepath.Rel(a.Dir, bare)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Repo.CreateRemote(&config.RemoteConfig{Name: "rel", URLs: []string{rel}}); err != nil {
			t.Fatal(err)
		}
		// From a subdirectory: the path is relative to the top, as git reads it.
		if _, err := publish.FetchLive(ctx, a.Path("access"), "rel", nil); err != nil {
			t.Errorf("FetchLive via %s: %v", rel, err)
		}
	})

	t.Run("password never shown", func(t *testing.T) {
		const url = "http://user:hunter2-secret@127.0.0.1:1/repo.git"
		if _, err := a.Repo.CreateRemote(&config.RemoteConfig{Name: "secret", URLs: []string{url}}); err != nil {
			t.Fatal(err)
		}
		got, err := publish.RemoteURL(a.Dir, "secret")
		if err != nil || got != url {
			t.Fatalf("RemoteURL = %q, %v", got, err)
		}
		t.Setenv("PERMSETS_GIT_TOKEN", "tok-very-secret")
		auth, err := credentials.AuthFromEnv(url)
		if err != nil {
			t.Fatal(err)
		}
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err = publish.FetchLive(tctx, a.Dir, "secret", auth)
		if err == nil {
			t.Fatal("fetch from a closed port: no error")
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "tok-very-secret") {
			t.Errorf("error shows a secret: %v", err)
		}
		err = publish.Publish(tctx, a.Dir, "secret", "HEAD", "", false, note("a", 1), auth)
		if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "tok-very-secret") {
			t.Errorf("publish error: %v", err)
		}
	})
}

func TestPublishRemote(t *testing.T) {
	ctx := context.Background()
	bare := newRemote(t)
	a := cloneOf(t, bare, "a")
	push := func(r *testRepo, commit plumbing.Hash, expected string, force bool, n publish.Note) error {
		return publish.Publish(ctx, r.Path("access"), "origin", commit.String(), expected, force, n, nil)
	}

	if got := fetch(t, a); got != "" {
		t.Fatalf("FetchLive = %q", got)
	}
	c1 := a.change("a1")
	n1 := note("alice", 1)
	if err := push(a, c1, "", false, n1); err != nil {
		t.Fatalf("first publish: %v", err)
	}
	remote := openBare(t, bare)
	if got := refOf(t, remote, "refs/heads/live"); got != c1 {
		t.Fatalf("remote live = %s, want %s", got, c1)
	}
	if got := refOf(t, a.Repo, "refs/remotes/origin/live"); got != c1 {
		t.Errorf("refs/remotes/origin/live = %s, want %s", got, c1)
	}
	if got := noteInTree(t, remote, c1); got != noteText(n1) {
		t.Errorf("note in the remote's tree = %q, want %q", got, noteText(n1))
	}
	if got := readNote(t, bare, c1); got != noteText(n1) {
		t.Errorf("ReadNote of the bare remote = %q", got)
	}
	if got := readNote(t, a.Dir, c1); got != noteText(n1) {
		t.Errorf("local note = %q", got)
	}
	if got := refOf(t, a.Repo, "refs/heads/live"); !got.IsZero() {
		t.Errorf("publishing to the remote made a local live %s", got)
	}

	t.Run("first publish when live exists", func(t *testing.T) {
		err := push(a, c1, "", false, n1)
		if !errors.Is(err, publish.ErrLiveMoved) {
			t.Fatalf("err = %v, want ErrLiveMoved", err)
		}
	})

	live := fetch(t, a)
	if live != c1.String() {
		t.Fatalf("FetchLive = %s, want %s", live, c1)
	}
	c2 := a.change("a2")
	n2 := note("alice", 2)
	if err := push(a, c2, live, false, n2); err != nil {
		t.Fatalf("fast-forward: %v", err)
	}
	if got := refOf(t, remote, "refs/heads/live"); got != c2 {
		t.Fatalf("remote live = %s, want %s", got, c2)
	}
	if readNote(t, bare, c1) != noteText(n1) || readNote(t, bare, c2) != noteText(n2) {
		t.Errorf("remote notes after two applies: %q, %q", readNote(t, bare, c1), readNote(t, bare, c2))
	}

	t.Run("stale expected", func(t *testing.T) {
		c3 := a.change("a3")
		err := push(a, c3, c1.String(), false, n2)
		if !errors.Is(err, publish.ErrLiveMoved) || !strings.Contains(err.Error(), "since the fetch") || !strings.Contains(err.Error(), "re-run apply") {
			t.Fatalf("err = %v, want ErrLiveMoved: moved since the fetch, re-run apply", err)
		}
		if got := refOf(t, remote, "refs/heads/live"); got != c2 {
			t.Errorf("remote live moved to %s", got)
		}
		if got := readNote(t, bare, c3); got != "" {
			t.Errorf("refused push left a note on the remote: %q", got)
		}
	})

	t.Run("not a fast-forward", func(t *testing.T) {
		n3 := note("carol", 3)
		err := push(a, c1, c2.String(), false, n3)
		if !errors.Is(err, publish.ErrNotFastForward) {
			t.Fatalf("err = %v, want ErrNotFastForward", err)
		}
		if err := push(a, c1, c2.String(), true, n3); err != nil {
			t.Fatalf("forced: %v", err)
		}
		if got := refOf(t, remote, "refs/heads/live"); got != c1 {
			t.Fatalf("remote live = %s, want %s", got, c1)
		}
		if got, want := readNote(t, bare, c1), noteText(n1)+"\n"+noteText(n3); got != want {
			t.Errorf("remote note on the re-applied commit = %q, want %q", got, want)
		}
	})

	t.Run("live moved between fetch and push", func(t *testing.T) {
		b := cloneOf(t, bare, "b")
		liveA, liveB := fetch(t, a), fetch(t, b)
		if liveA != c1.String() || liveB != liveA {
			t.Fatalf("fetched %s and %s, want %s", liveA, liveB, c1)
		}
		b.resetTo(plumbing.NewHash(liveB))
		cb := b.change("b1")
		nb := note("bob", 4)
		if err := push(b, cb, liveB, false, nb); err != nil {
			t.Fatalf("b's apply: %v", err)
		}
		ca := a.change("a4")
		err := push(a, ca, liveA, false, note("alice", 5))
		if !errors.Is(err, publish.ErrLiveMoved) || !strings.Contains(err.Error(), "re-run apply") {
			t.Fatalf("err = %v, want ErrLiveMoved", err)
		}
		if got := refOf(t, remote, "refs/heads/live"); got != cb {
			t.Fatalf("remote live = %s, want b's %s", got, cb)
		}
		// Re-run: a fetches again; its commit does not descend from b's, so only force moves
		// live, and every note survives.
		if got := fetch(t, a); got != cb.String() {
			t.Fatalf("FetchLive = %s, want %s", got, cb)
		}
		if got := readNote(t, a.Dir, cb); got != noteText(nb) {
			t.Errorf("b's note fetched into a: %q", got)
		}
		na := note("alice", 6)
		if err := push(a, ca, cb.String(), false, na); !errors.Is(err, publish.ErrNotFastForward) {
			t.Fatalf("err = %v, want ErrNotFastForward", err)
		}
		if err := push(a, ca, cb.String(), true, na); err != nil {
			t.Fatal(err)
		}
		for c, want := range map[plumbing.Hash]string{cb: noteText(nb), ca: noteText(na), c2: noteText(n2)} {
			if got := readNote(t, bare, c); got != want {
				t.Errorf("remote note on %s = %q, want %q", c, got, want)
			}
		}
	})

	t.Run("notes moved between fetch and push", func(t *testing.T) {
		b := cloneOf(t, bare, "b2")
		liveA, liveB := fetch(t, a), fetch(t, b)
		// b re-applies the commit live is at: live stays, the notes move.
		if err := push(b, plumbing.NewHash(liveB), liveB, false, note("bob", 7)); err != nil {
			t.Fatal(err)
		}
		ca := a.change("a5")
		err := push(a, ca, liveA, false, note("alice", 8))
		if !errors.Is(err, publish.ErrLiveMoved) || !strings.Contains(err.Error(), publish.NotesRef) {
			t.Fatalf("err = %v, want ErrLiveMoved naming the notes", err)
		}
		if got := fetch(t, a); got != liveA {
			t.Fatalf("live moved: %s", got)
		}
		if err := push(a, ca, liveA, false, note("alice", 8)); err != nil {
			t.Fatal(err)
		}
		if got := readNote(t, bare, plumbing.NewHash(liveA)); !strings.Contains(got, "actor: bob\ntime: 2026-03-01T12:00:07Z") {
			t.Errorf("b's note lost: %q", got)
		}
	})

	t.Run("diverged notes merged by the fetch", func(t *testing.T) {
		// a records a note locally (a local apply) that the remote has not seen...
		local := a.change("a-local")
		if err := publish.Publish(ctx, a.Dir, "", local.String(), "", false, note("local", 9), nil); err != nil {
			t.Fatal(err)
		}
		// ...while b applies to the remote.
		b := cloneOf(t, bare, "b3")
		cb := b.change("b3")
		if err := push(b, cb, fetch(t, b), true, note("bob", 10)); err != nil {
			t.Fatal(err)
		}
		live := fetch(t, a)
		if live != cb.String() {
			t.Fatalf("FetchLive = %s, want %s", live, cb)
		}
		merged := refOf(t, a.Repo, publish.NotesRef)
		if mc, err := a.Repo.CommitObject(merged); err != nil || len(mc.ParentHashes) != 2 {
			t.Fatalf("local notes %s after the fetch: %v, parents %v; want a merge", merged, err, mc.ParentHashes)
		}
		if readNote(t, a.Dir, local) != noteText(note("local", 9)) || readNote(t, a.Dir, cb) != noteText(note("bob", 10)) {
			t.Errorf("merged notes: %q, %q", readNote(t, a.Dir, local), readNote(t, a.Dir, cb))
		}
		ca := a.change("a6")
		if err := push(a, ca, live, true, note("alice", 11)); err != nil {
			t.Fatal(err)
		}
		for c, want := range map[plumbing.Hash]string{local: noteText(note("local", 9)), cb: noteText(note("bob", 10)), ca: noteText(note("alice", 11))} {
			if got := readNote(t, bare, c); got != want {
				t.Errorf("remote note on %s = %q, want %q", c, got, want)
			}
		}
	})

	t.Run("a fresh clone reads the notes", func(t *testing.T) {
		d := cloneOf(t, bare, "d")
		if got := readNote(t, d.Dir, c2); got != "" {
			t.Errorf("note before fetching = %q", got)
		}
		fetch(t, d)
		if got := readNote(t, d.Dir, c2); got != noteText(n2) {
			t.Errorf("note after FetchLive = %q, want %q", got, noteText(n2))
		}
	})
}

func TestPublishNoGitBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if p, err := exec.LookPath("git"); err == nil {
		t.Fatalf("git still found at %s", p)
	}
	ctx := context.Background()
	bare := newRemote(t)
	a := cloneOf(t, bare, "a")
	if live := fetch(t, a); live != "" {
		t.Fatalf("FetchLive = %q", live)
	}
	c := a.change("a1")
	fileURL := "file://" + filepath.ToSlash(bare)
	if _, err := a.Repo.CreateRemote(&config.RemoteConfig{Name: "viafile", URLs: []string{fileURL}}); err != nil {
		t.Fatal(err)
	}
	if err := publish.Publish(ctx, a.Dir, "viafile", c.String(), "", false, note("alice", 1), nil); err != nil {
		t.Fatalf("push to %s with no git on PATH: %v", fileURL, err)
	}
	if got := refOf(t, openBare(t, bare), "refs/heads/live"); got != c {
		t.Errorf("remote live = %s, want %s", got, c)
	}
	if live, err := publish.FetchLive(ctx, a.Dir, "viafile", nil); err != nil || live != c.String() {
		t.Errorf("FetchLive = %q, %v", live, err)
	}
	if got := readNote(t, bare, c); got != noteText(note("alice", 1)) {
		t.Errorf("note = %q", got)
	}
}

// A non-bare repository as the remote: live is pushed, its checked-out branch is never.
func TestPublishToWorkingRepository(t *testing.T) {
	ctx := context.Background()
	bare := newRemote(t)
	upstream := cloneOf(t, bare, "upstream")
	a := cloneOf(t, upstream.Dir, "a")
	c := a.change("a1")
	if err := publish.Publish(ctx, a.Dir, "origin", c.String(), "", false, note("alice", 1), nil); err != nil {
		t.Fatal(err)
	}
	if got := refOf(t, upstream.Repo, "refs/heads/live"); got != c {
		t.Errorf("live = %s, want %s", got, c)
	}
	err := a.Repo.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{"+refs/heads/master:refs/heads/master"}})
	if err == nil || !strings.Contains(err.Error(), "checked-out") {
		t.Errorf("push to the checked-out branch: %v", err)
	}
}

// The in-process server's ref update is a compare-and-swap on the old value the push carries,
// as git receive-pack's is: live moving after the advertisement fails the push (go-git's server
// alone would overwrite it).
func TestLocalTransportCompareAndSwap(t *testing.T) {
	bare := newRemote(t)
	a := cloneOf(t, bare, "a")
	other := refOf(t, a.Repo, "refs/heads/master")
	if err := a.Repo.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{"refs/heads/master:refs/heads/other"}}); err != nil {
		t.Fatal(err)
	}
	remote := openBare(t, bare)
	master := refOf(t, remote, "refs/heads/master")
	if err := remote.Storer.SetReference(plumbing.NewHashReference("refs/heads/live", master)); err != nil {
		t.Fatal(err)
	}
	ep, err := transport.NewEndpoint(bare)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.NewClient(ep)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := cl.NewReceivePackSession(ep, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferences()
	if err != nil {
		t.Fatal(err)
	}
	refs, err := ar.AllReferences()
	if err != nil {
		t.Fatal(err)
	}
	advertised, err := refs.Reference("refs/heads/live")
	if err != nil || advertised.Hash() != master {
		t.Fatalf("advertised live = %v, %v", advertised, err)
	}
	// Someone else moves live after the advertisement.
	if err := remote.Storer.SetReference(plumbing.NewHashReference("refs/heads/live", other)); err != nil {
		t.Fatal(err)
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	req.Commands = []*packp.Command{
		{Name: "refs/heads/live", Old: master, New: master},
		{Name: "refs/heads/later", Old: plumbing.ZeroHash, New: master},
	}
	_, err = sess.ReceivePack(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "stale info") {
		t.Errorf("push after live moved: %v, want stale info", err)
	}
	if got := refOf(t, remote, "refs/heads/live"); got != other {
		t.Errorf("live = %s, want %s (not overwritten)", got, other)
	}
	if got := refOf(t, remote, "refs/heads/later"); !got.IsZero() {
		t.Errorf("the update after the failed one was made: %s", got)
	}
}

// movingTransport serves permstest:// URLs as file:// ones, running move once right after the
// first push's advertisement: live moves between the check of the advertised refs and the
// update.
type movingTransport struct{ move *func() }

func asFile(ep *transport.Endpoint) *transport.Endpoint {
	e := *ep
	e.Protocol = "file"
	return &e
}

func (m movingTransport) NewUploadPackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.UploadPackSession, error) {
	return client.Protocols["file"].NewUploadPackSession(asFile(ep), auth)
}

func (m movingTransport) NewReceivePackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.ReceivePackSession, error) {
	s, err := client.Protocols["file"].NewReceivePackSession(asFile(ep), auth)
	if err != nil {
		return nil, err
	}
	return &movingSession{ReceivePackSession: s, move: m.move}, nil
}

type movingSession struct {
	transport.ReceivePackSession
	move *func()
}

func (s *movingSession) AdvertisedReferencesContext(ctx context.Context) (*packp.AdvRefs, error) {
	ar, err := s.ReceivePackSession.AdvertisedReferencesContext(ctx)
	if f := *s.move; f != nil {
		*s.move = nil
		f()
	}
	return ar, err
}

func TestPublishLiveMovesDuringPush(t *testing.T) {
	var move func()
	client.InstallProtocol("permstest", movingTransport{move: &move})
	t.Cleanup(func() { client.InstallProtocol("permstest", nil) })
	ctx := context.Background()
	bare := newRemote(t)
	a := cloneOf(t, bare, "a")
	if _, err := a.Repo.CreateRemote(&config.RemoteConfig{Name: "moving", URLs: []string{"permstest://" + filepath.ToSlash(bare)}}); err != nil {
		t.Fatal(err)
	}
	c1 := a.change("a1")
	if err := publish.Publish(ctx, a.Dir, "moving", c1.String(), "", false, note("alice", 1), nil); err != nil {
		t.Fatal(err)
	}
	remote := openBare(t, bare)
	notesBefore := refOf(t, remote, publish.NotesRef)
	master := refOf(t, remote, "refs/heads/master")
	if live, err := publish.FetchLive(ctx, a.Dir, "moving", nil); err != nil || live != c1.String() {
		t.Fatalf("FetchLive = %q, %v", live, err)
	}
	move = func() {
		if err := remote.Storer.SetReference(plumbing.NewHashReference("refs/heads/live", master)); err != nil {
			t.Error(err)
		}
	}
	c2 := a.change("a2")
	err := publish.Publish(ctx, a.Dir, "moving", c2.String(), c1.String(), false, note("alice", 2), nil)
	if !errors.Is(err, publish.ErrLiveMoved) || !strings.Contains(err.Error(), "re-run apply") {
		t.Fatalf("err = %v, want ErrLiveMoved", err)
	}
	if move != nil {
		t.Fatal("live was not moved during the push")
	}
	if got := refOf(t, remote, "refs/heads/live"); got != master {
		t.Errorf("remote live = %s, want %s where the other writer put it", got, master)
	}
	if got := refOf(t, remote, publish.NotesRef); got != notesBefore {
		t.Errorf("notes moved to %s although live was refused", got)
	}
	if got := refOf(t, a.Repo, "refs/remotes/moving/live"); got != c1 {
		t.Errorf("refs/remotes/moving/live = %s, want still %s", got, c1)
	}
}

func TestRemoteURL(t *testing.T) {
	r := newRepo(t)
	if _, err := r.Repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{"https://example.org/a.git", "https://example.org/b.git"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := publish.RemoteURL(r.Dir, "origin"); err != nil || got != "https://example.org/a.git" {
		t.Errorf("RemoteURL = %q, %v", got, err)
	}
	if _, err := publish.RemoteURL(r.Dir, "nope"); err == nil {
		t.Error("unknown remote: no error")
	}
}
