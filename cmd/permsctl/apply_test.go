package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/permsets/permsets/internal/testutil"
	"github.com/permsets/permsets/publish"
)

// applyRepos makes a bare repository on disk as the remote and a clone-like work repository
// (examples/nation under access/) whose main is pushed to it; no live exists yet.
func applyRepos(t *testing.T) (work *git.Repository, top, dir, remote string) {
	t.Helper()
	publish.RegisterFileTransport() // go-git's pushes here go through it, as apply's do
	remote = filepath.Join(t.TempDir(), "remote.git")
	if _, err := git.PlainInit(remote, true); err != nil {
		t.Fatal(err)
	}
	top = t.TempDir()
	dir = filepath.Join(top, "access")
	if err := os.Rename(testutil.CopyTree(t, "../../examples/nation"), dir); err != nil {
		t.Fatal(err)
	}
	work, err := git.PlainInit(top, false)
	if err != nil {
		t.Fatal(err)
	}
	commitAll(t, work, "the nation")
	if _, err := work.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remote}}); err != nil {
		t.Fatal(err)
	}
	if err := work.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{"refs/heads/*:refs/heads/*"}}); err != nil {
		t.Fatal(err)
	}
	return work, top, dir, remote
}

func runApplyCLI(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	code := runWith(append([]string{"-C", dir, "apply"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func remoteLive(t *testing.T, remote string) string {
	t.Helper()
	repo, err := git.PlainOpen(remote)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName("live"), true)
	if err != nil {
		return ""
	}
	return ref.Hash().String()
}

func head(t *testing.T, dir string) string {
	t.Helper()
	h, err := publish.Head(dir)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestApply walks a config repository through its life: the first apply, a change, a deny, a
// dirty tree, a saved plan, live moving under apply, and a revert.
func TestApply(t *testing.T) {
	work, top, dir, remote := applyRepos(t)

	// The first apply needs --bootstrap, by a system admin.
	if code, _, errOut := runApplyCLI(t, dir, "--remote", "origin"); code != exitProblems || !strings.Contains(errOut, "--bootstrap") {
		t.Fatalf("first apply without --bootstrap: exit %d %s", code, errOut)
	}
	if code, _, errOut := runApplyCLI(t, dir, "--remote", "origin", "--actor", "praman", "--bootstrap"); code != exitProblems || !strings.Contains(errOut, "deny") {
		t.Fatalf("bootstrap by priya: exit %d %s", code, errOut)
	}
	code, out, errOut := runApplyCLI(t, dir, "--remote", "origin", "--actor", "mokafor", "--bootstrap")
	first := head(t, dir)
	if code != exitOK || remoteLive(t, remote) != first || !strings.Contains(out, "commit "+first) || !strings.Contains(out, "revision ") {
		t.Fatalf("bootstrap by maria: exit %d, live %s, want %s\n%s%s", code, remoteLive(t, remote), first, out, errOut)
	}
	note, err := publish.ReadNote(remote, first)
	if err != nil || !strings.Contains(note, "actor: mokafor") || !strings.Contains(note, "plan: ") {
		t.Fatalf("note on the remote: %q %v", note, err)
	}

	// A dirty tree is refused.
	testutil.Replace(t, dir, "sets/campaign/bookkeeper.yaml", "name: Bookkeeper", "name: Book keeper")
	if code, _, errOut := runApplyCLI(t, dir, "--remote", "origin"); code != exitProblems || !strings.Contains(errOut, "refusing to apply") || !strings.Contains(errOut, "bookkeeper.yaml") {
		t.Fatalf("dirty tree: exit %d %s", code, errOut)
	}

	// A saved plan that matches, then a fast-forward.
	commitAll(t, work, "rename the bookkeeper set")
	planFile := filepath.Join(t.TempDir(), "plan.json")
	if code, _, errOut := runPlanCLI(t, dir, "-o", planFile); code != exitOK {
		t.Fatalf("plan -o: exit %d %s", code, errOut)
	}
	if code, out, errOut := runApplyCLI(t, dir, "--remote", "origin", "--plan", planFile, "--actor", "id:maria"); code != exitOK || remoteLive(t, remote) != head(t, dir) {
		t.Fatalf("apply --plan: exit %d\n%s%s", code, out, errOut)
	}
	second := head(t, dir)
	for _, c := range []string{first, second} {
		if note, _ := publish.ReadNote(remote, c); !strings.Contains(note, "actor: ") {
			t.Errorf("the note of %s is gone: %q", c, note)
		}
	}

	// A saved plan that no longer matches (HEAD moved since).
	testutil.Replace(t, dir, "sets/campaign/finance.yaml", "name: Finance reporting", "name: Finance reports")
	commitAll(t, work, "rename finance")
	if code, _, errOut := runApplyCLI(t, dir, "--remote", "origin", "--plan", planFile); code != exitProblems || !strings.Contains(errOut, "does not match") {
		t.Fatalf("stale plan: exit %d %s", code, errOut)
	}

	// live moves between the fetch and the push: the compare-and-swap refuses.
	t.Cleanup(func() { beforePublish = func() {} })
	beforePublish = func() {
		other := filepath.Join(t.TempDir(), "other")
		clone, err := git.PlainClone(other, false, &git.CloneOptions{URL: remote, ReferenceName: plumbing.NewBranchReferenceName("live"), SingleBranch: true})
		if err != nil {
			t.Fatal(err)
		}
		testutil.WriteFile(t, other, "access/README.md", "moved\n")
		commitAll(t, clone, "someone else applies")
		h, _ := clone.Head()
		if err := clone.Push(&git.PushOptions{RefSpecs: []config.RefSpec{config.RefSpec(h.Hash().String() + ":refs/heads/live")}}); err != nil {
			t.Fatal(err)
		}
	}
	code, _, errOut = runApplyCLI(t, dir, "--remote", "origin")
	beforePublish = func() {}
	if code != exitProblems || !strings.Contains(errOut, "moved since it was read") {
		t.Fatalf("live moved: exit %d %s", code, errOut)
	}
	if remoteLive(t, remote) == head(t, dir) {
		t.Fatal("live moved to HEAD although it had moved under apply")
	}

	// live is now on a commit HEAD does not descend from: refused without --force, applied
	// with it after planning again.
	if code, _, errOut := runApplyCLI(t, dir, "--remote", "origin"); code != exitProblems || !strings.Contains(errOut, "--force") {
		t.Fatalf("non-fast-forward: exit %d %s", code, errOut)
	}
	if code, out, errOut := runApplyCLI(t, dir, "--remote", "origin", "--force"); code != exitOK || remoteLive(t, remote) != head(t, dir) {
		t.Fatalf("--force: exit %d\n%s%s", code, out, errOut)
	}

	// A deny is refused, --force or not, and live stays.
	removeFile(t, dir, "sets/campaign/bookkeeper.yaml")
	commitAll(t, work, "delete a set still in use")
	before := remoteLive(t, remote)
	for _, args := range [][]string{{"--remote", "origin"}, {"--remote", "origin", "--force"}} {
		if code, _, errOut := runApplyCLI(t, dir, args...); code != exitProblems || !strings.Contains(errOut, "set-in-use") {
			t.Fatalf("deny %v: exit %d %s", args, code, errOut)
		}
	}
	if remoteLive(t, remote) != before {
		t.Fatal("a denied change reached live")
	}
	_ = top
}

// TestApplyLocal: without --remote, apply moves the local live branch.
func TestApplyLocal(t *testing.T) {
	work, _, dir := liveRepoGit(t)
	testutil.Replace(t, dir, "sets/campaign/bookkeeper.yaml", "name: Bookkeeper", "name: Book keeper")
	commitAll(t, work, "rename")
	if code, out, errOut := runApplyCLI(t, dir); code != exitOK || !strings.Contains(out, "Applied: Plan: 0 to add, 1 to change") {
		t.Fatalf("local apply: exit %d\n%s%s", code, out, errOut)
	}
	live, err := publish.LocalLive(dir)
	if err != nil || live != head(t, dir) {
		t.Fatalf("local live %s, HEAD %s (%v)", live, head(t, dir), err)
	}
	if note, _ := publish.ReadNote(dir, live); !strings.Contains(note, "plan: ") {
		t.Errorf("local note: %q", note)
	}
}

// liveRepoGit is liveRepo with the repository handle, on a branch other than live.
func liveRepoGit(t *testing.T) (*git.Repository, string, string) {
	t.Helper()
	top, dir := liveRepo(t)
	repo, err := git.PlainOpen(top)
	if err != nil {
		t.Fatal(err)
	}
	return repo, top, dir
}
