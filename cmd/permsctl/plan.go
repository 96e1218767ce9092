package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/plan"
	"github.com/permsets/permsets/sets"
	"github.com/permsets/permsets/source"
)

type planOptions struct {
	base, format, out string
	detailedExitcode  bool
}

func newPlanCommand(g *globals) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan [DIR] [--base REV|DIR|empty] [--format text|json|markdown] [--detailed-exitcode] [-o PLANFILE]",
		Short: "Show what a change does to objects and access, and which rules it breaks",
		Long: `plan compares a base revision of the config repository with the working tree: the objects
added, changed and removed, every user who gains or loses a permission (and through which set and
role), and the change rules of policies/permsets/plan, which deny or warn.

The base is --base: a Git revision (branch, tag, commit), a directory, or "empty" for a first
plan. By default it is the local branch live, else a remote's live (refs/remotes/*/live); with
neither, plan stops and says so, so that a shallow CI checkout never plans against nothing.

Exit codes: 0 no deny (and with --detailed-exitcode, no change either); 1 a deny or an error;
2 changes and no deny (with --detailed-exitcode).`,
		Example: `  permsctl plan
  permsctl plan --base origin/live --format markdown > plan.md
  permsctl plan examples/nation --base empty
  permsctl plan --detailed-exitcode -o plan.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := formatFlag(o.format, "text", "json", "markdown"); err != nil {
				return err
			}
			p, err := runPlan(cmd.Context(), g, g.dir(args), o.base)
			if err != nil {
				return err
			}
			if o.out != "" {
				if err := writePlanFile(o.out, p); err != nil {
					return &exitError{code: exitProblems, err: err}
				}
			}
			switch o.format {
			case "json":
				err = writeJSON(g.stdout, p)
			case "markdown":
				err = plan.WriteMarkdown(g.stdout, p)
			default:
				err = plan.WriteText(g.stdout, p, plan.Painter{On: newColors(g.stdout).on})
			}
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			switch {
			case len(p.Deny) > 0:
				return &exitError{code: exitProblems}
			case o.detailedExitcode && p.HasChanges():
				return &exitError{code: exitChanges}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.base, "base", "", "compare against this Git revision, directory, or \"empty\" (default: live, else a remote's live)")
	f.StringVar(&o.format, "format", "text", "output format: text, json or markdown")
	f.StringVarP(&o.out, "out", "o", "", "also save the plan as JSON to `PLANFILE` (for apply)")
	f.BoolVar(&o.detailedExitcode, "detailed-exitcode", false, "exit 2 when there are changes and no deny")
	return cmd
}

// runPlan loads the base and the working tree at dir (one parse cache for both, so unchanged
// files are parsed once) and computes the plan.
func runPlan(ctx context.Context, g *globals, dir, base string) (*plan.Plan, error) {
	cache := sets.NewCache()
	start := time.Now()
	before, err := loadBase(ctx, dir, base, g.chdir, cache)
	if err != nil {
		return nil, err
	}
	g.log.Debug("plan: base loaded", "ref", before.Ref, "took", time.Since(start))
	start = time.Now()
	res, err := sets.LoadDir(ctx, dir, sets.Options{Cache: cache})
	if err != nil {
		return nil, &exitError{code: exitProblems, err: err}
	}
	head := &plan.Revision{Side: plan.Side{Ref: "working tree"}, Model: res.Model, Problems: res.Problems}
	if res.OK() {
		if head.Revision, err = engine.RevisionOf(res.Model); err != nil {
			return nil, &exitError{code: exitProblems, err: err}
		}
	}
	g.log.Debug("plan: head loaded", "parsed", res.Parsed, "files", res.Files, "took", time.Since(start))
	p, err := plan.Compute(ctx, before, head, plan.Options{Log: g.log})
	if err != nil {
		return nil, &exitError{code: exitProblems, err: err}
	}
	return p, nil
}

// loadBase loads --base: "empty", a directory (relative to -C, as every path is), or a Git
// revision (default: live).
func loadBase(ctx context.Context, dir, base, chdir string, cache *sets.Cache) (*plan.Revision, error) {
	if base == "empty" {
		return &plan.Revision{Side: plan.Side{Ref: "empty", Empty: true}}, nil
	}
	var (
		res *sets.Result
		err error
		rev = &plan.Revision{}
	)
	asDir := base
	if chdir != "" && !filepath.IsAbs(base) {
		asDir = filepath.Join(chdir, base)
	}
	if info, statErr := os.Stat(asDir); base != "" && statErr == nil && info.IsDir() {
		rev.Ref = filepath.Clean(base)
		res, err = sets.LoadDir(ctx, asDir, sets.Options{Cache: cache})
	} else {
		if base == "" {
			if base, err = source.DefaultBase(dir); err != nil {
				if errors.Is(err, source.ErrNoLiveBranch) {
					return nil, &exitError{code: exitProblems, err: err}
				}
				return nil, &exitError{code: exitProblems, err: fmt.Errorf("%v; pass --base REV, --base DIR or --base empty", err)}
			}
		}
		r, rerr := source.AtRevision(ctx, dir, base)
		if rerr != nil {
			return nil, &exitError{code: exitProblems, err: fmt.Errorf("--base %s: %w", base, rerr)}
		}
		rev.Ref, rev.Commit = base, r.Commit
		res, err = sets.Load(ctx, r.FS, sets.Options{Cache: cache})
	}
	if err != nil {
		return nil, &exitError{code: exitProblems, err: fmt.Errorf("base %s: %w", rev.Ref, err)}
	}
	rev.Model, rev.Problems = res.Model, res.Problems
	if res.OK() {
		if rev.Revision, err = engine.RevisionOf(res.Model); err != nil {
			return nil, &exitError{code: exitProblems, err: err}
		}
	}
	return rev, nil
}

// writePlanFile saves the plan as JSON, written aside and renamed.
func writePlanFile(path string, p *plan.Plan) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".permsets-plan-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := writeJSON(tmp, p); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
