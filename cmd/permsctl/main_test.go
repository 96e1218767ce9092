package main

import (
	"errors"
	"github.com/permsets/permsets/internal/testutil"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/permsets/permsets/plan"
)

func TestMain(m *testing.M) {
	if code, ok := plan.CustomRulesChild(); ok {
		os.Exit(code)
	}
	testscript.Main(m, map[string]func(){
		"permsctl": func() { os.Exit(run(os.Args[1:])) },
	})
}

// TestScripts runs testdata/script/*.txtar: each runs the real permsctl binary and checks its
// stdout, stderr and exit status. $EXAMPLES points at the repository's examples.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		UpdateScripts: testutil.UpdateGolden(),
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"git-commit": gitCommit,
			"git-branch": gitBranch,
		},
	})
}

// gitCommit: git-commit DIR MESSAGE commits every file of DIR (a repository made with go-git on
// first use), with a fixed author and time, as scripts cannot run a git binary.
func gitCommit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: git-commit DIR MESSAGE")
	}
	dir := ts.MkAbs(args[0])
	repo, err := git.PlainOpen(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, err = git.PlainInit(dir, false)
	}
	ts.Check(err)
	wt, err := repo.Worktree()
	ts.Check(err)
	ts.Check(wt.AddWithOptions(&git.AddOptions{All: true}))
	when := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	_, err = wt.Commit(args[1], &git.CommitOptions{All: true, AllowEmptyCommits: true,
		Author: &object.Signature{Name: "Test", Email: "test@example.org", When: when}})
	ts.Check(err)
}

// gitBranch: git-branch DIR NAME points branch NAME at HEAD.
func gitBranch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: git-branch DIR NAME")
	}
	repo, err := git.PlainOpen(ts.MkAbs(args[0]))
	ts.Check(err)
	head, err := repo.Head()
	ts.Check(err)
	ts.Check(repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(args[1]), head.Hash())))
}
