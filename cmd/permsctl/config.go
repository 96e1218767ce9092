package main

import (
	"context"
	"fmt"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/textfmt"
	"github.com/permsets/permsets/load"
)

// loaded is a config revision loaded, checked and compiled.
type loaded struct {
	result    *config.Result
	bundle    *engine.Bundle
	evaluator *engine.Evaluator
}

// loadConfig loads the config root dir as it is on disk, or at Git revision rev of the
// repository holding dir, and compiles it. Config problems are printed to stderr and end the
// command with exit code 1: nothing is ever answered from an invalid config.
func (g *globals) loadConfig(ctx context.Context, dir, rev string, evaluate bool) (*loaded, error) {
	side, err := g.loadModel(ctx, dir, rev, true)
	if err != nil {
		return nil, err
	}
	g.progress.phase("compiling")
	b, err := engine.NewBundleWithRevision(side.Result.Model, side.Commit, side.Revision)
	if err != nil {
		return nil, &exitError{code: exitProblems, err: err}
	}
	l := &loaded{result: side.Result, bundle: b}
	if evaluate {
		g.progress.phase("preparing the rules")
		if l.evaluator, err = engine.NewEvaluator(ctx, b); err != nil {
			return nil, &exitError{code: exitProblems, err: err}
		}
	}
	return l, nil
}

// loadModel loads and checks the config root dir as it is on disk, or at Git revision rev of
// the repository holding dir (load.Load; with its revision digest when revision is set).
// Problems are printed to stderr and end the command with exit code 1. Nothing reads the files
// again: the root is closed.
func (g *globals) loadModel(ctx context.Context, dir, rev string, revision bool) (*load.Loaded, error) {
	g.progress.phase("loading %s", dir)
	l, err := load.Load(ctx, load.Spec{Dir: dir, Rev: rev}, load.Options{Revision: revision})
	if err != nil {
		return nil, &exitError{code: exitProblems, err: err}
	}
	l.Close()
	if res := l.Result; !res.OK() {
		g.progress.done()
		for _, p := range res.Problems {
			fmt.Fprintln(g.stderr, textfmt.Terminal(p.String()))
		}
		at := dir
		if rev != "" {
			at = fmt.Sprintf("%s at %s", dir, rev)
		}
		return nil, &exitError{code: exitProblems, err: fmt.Errorf("%s has %s; run permsctl validate", at, plural(len(res.Problems), "problem"))}
	}
	return l, nil
}

// requireInstance fails the command when the config has no instance id.
func (l *loaded) requireInstance(id string) error {
	if l.result.Model.Instance(id) == nil {
		return &exitError{code: exitProblems, err: fmt.Errorf("unknown instance %q", id)}
	}
	return nil
}

// eval evaluates one query of the rules, as of now; an error ends the command with exit code 1.
func (l *loaded) eval(ctx context.Context, query string, input map[string]any) (any, error) {
	res, err := l.evaluator.Eval(ctx, query, input, evalNow())
	if err != nil {
		return nil, &exitError{code: exitProblems, err: err}
	}
	return res, nil
}

// revisionInfo is carried by every JSON output that answers from a compiled revision.
type revisionInfo struct {
	Revision string `json:"revision"`
	Commit   string `json:"commit,omitempty"`
}

func (l *loaded) info() revisionInfo {
	return revisionInfo{Revision: l.bundle.Revision, Commit: l.bundle.Commit}
}
