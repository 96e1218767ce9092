package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/load"
	"github.com/permsets/permsets/plan"
	"github.com/permsets/permsets/source"
)

type planOptions struct {
	base, format, out string
	actor             string
	bootstrap         bool
	detailedExitcode  bool
}

func newPlanCommand(g *globals) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan [DIR] [--base REV|DIR|empty] [--actor LOGIN|id:ID|email:ADDR] [--bootstrap] [--format text|json|markdown|github|junit] [--detailed-exitcode] [-o PLANFILE]",
		Short: "Show what a change does to objects and access, and which rules it breaks",
		Long: `plan compares a base revision of the config repository with the working tree: the objects
added, changed and removed, every user who gains or loses a permission (and through which set and
role), and the change rules of policies/permsets/plan, which deny or warn.

The base is --base: a Git revision (branch, tag, commit), a directory, or "empty" for a first
plan. By default it is the local branch live, else a remote's live (refs/remotes/*/live); with
neither, plan stops and says so, so that a shallow CI checkout never plans against nothing.

With --actor LOGIN (a forge login declared in a User's logins; never matched against ids or
emails: name those with --actor id:ID or --actor email:ADDR), the actor rules judge who makes
the change, on the base: an undeclared actor is denied (actor-unknown); assignments need
permset=assign covering their sets, set changes permset=edit, roles, instances, the catalog,
users and repository settings a system admin (actor-not-allowed); and nobody may grant more than
they hold (escalation). In CI the actor is the pull request's author as the forge reports it,
never a commit's author. --bootstrap lets a system admin of the head make the first change over
an empty base, which the actor rules would otherwise deny entirely.

Exit codes: 0 no deny (and with --detailed-exitcode, no change either); 1 a deny or an error;
2 changes and no deny (with --detailed-exitcode).`,
		Example: `  permsctl plan
  permsctl plan --base origin/live --format markdown > plan.md
  permsctl plan examples/nation --base empty
  permsctl plan --detailed-exitcode -o plan.json
  permsctl plan --actor email:priya@okaforformayor.org --format markdown
  permsctl plan --base empty --actor mokafor --bootstrap`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := formatFlag(o.format, "text", "json", "markdown", "github", "junit"); err != nil {
				return err
			}
			p, err := runPlan(cmd.Context(), g, g.dir(args), o)
			if err != nil {
				return err
			}
			if o.out != "" {
				if err := writeFileAtomic(g.path(o.out), func(w io.Writer) error { return writeJSON(w, p) }); err != nil {
					return &exitError{code: exitProblems, err: err}
				}
			}
			switch o.format {
			case "json":
				err = writeJSON(g.stdout, p)
			case "markdown":
				err = plan.WriteMarkdown(g.stdout, p)
			case "github":
				err = writePlanGitHub(g.stdout, g.dir(args), p)
			case "junit":
				err = writeJUnit(g.stdout, "permsctl plan", 0, []junitSuite{planSuite(g.dir(args), p)})
			default:
				err = plan.WriteText(g.stdout, p, newColors(g.stdout))
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
	f.StringVar(&o.format, "format", "text", "output format: text, json, markdown, github (annotations) or junit")
	f.StringVarP(&o.out, "out", "o", "", "also save the plan as JSON to `PLANFILE` (for apply)")
	f.BoolVar(&o.detailedExitcode, "detailed-exitcode", false, "exit 2 when there are changes and no deny")
	f.StringVar(&o.actor, "actor", "", "judge the change as made by the User with this forge `LOGIN` (or id:ID, email:ADDR)")
	f.BoolVar(&o.bootstrap, "bootstrap", false, "the first change over an empty base, by a system admin (with --actor)")
	return cmd
}

// runPlan loads the base and the working tree at dir (one parse cache for both, so unchanged
// files are parsed once) and computes the plan.
func runPlan(ctx context.Context, g *globals, dir string, o *planOptions) (*plan.Plan, error) {
	if err := (plan.Options{Actor: o.actor, Bootstrap: o.bootstrap}).Check(); err != nil {
		return nil, usageError(err)
	}
	if o.bootstrap && o.base != "empty" {
		if _, err := source.DefaultBase(dir); o.base != "" || err == nil {
			return nil, usageError(fmt.Errorf("--bootstrap is for the first change, over an empty base: pass --base empty (live exists, or another base was given)"))
		}
	}
	cache := config.NewCache()
	start := time.Now()
	base := o.base
	if o.bootstrap {
		base = "empty"
	}
	before, err := loadBase(ctx, dir, base, g.chdir, cache)
	if err != nil {
		return nil, err
	}
	defer before.Close()
	g.log.Debug("plan: base loaded", "ref", before.Ref, "took", time.Since(start))
	start = time.Now()
	g.progress.phase("loading %s", dir)
	l, err := loadSide(ctx, load.Spec{Dir: dir}, "", cache)
	if err != nil {
		return nil, err
	}
	head := sideOf("working tree", l)
	defer head.Close()
	g.log.Debug("plan: head loaded", "parsed", l.Result.Parsed, "files", l.Result.Files, "took", time.Since(start))
	g.progress.phase("planning")
	p, err := plan.Compute(ctx, before, head, plan.Options{Log: g.log, Actor: o.actor, Bootstrap: o.bootstrap})
	if err != nil {
		return nil, &exitError{code: exitProblems, err: err}
	}
	return p, nil
}

// loadBase loads --base: "empty", a directory (relative to -C, as every path is), or a Git
// revision (default: live).
func loadBase(ctx context.Context, dir, base, chdir string, cache *config.Cache) (*plan.Revision, error) {
	if base == "empty" {
		l, err := loadSide(ctx, load.Spec{Empty: true}, "", cache)
		if err != nil {
			return nil, err
		}
		return sideOf("empty", l), nil
	}
	asDir := base
	if chdir != "" && !filepath.IsAbs(base) {
		asDir = filepath.Join(chdir, base)
	}
	if info, statErr := os.Stat(asDir); base != "" && statErr == nil && info.IsDir() {
		// Read through os.Root, the custom rules too: no symbolic link out of the tree.
		l, err := loadSide(ctx, load.Spec{Dir: asDir}, "base "+filepath.Clean(base), cache)
		if err != nil {
			return nil, err
		}
		return sideOf(filepath.Clean(base), l), nil
	}
	if base == "" {
		var err error
		if base, err = source.DefaultBase(dir); err != nil {
			if errors.Is(err, source.ErrNoLiveBranch) {
				return nil, &exitError{code: exitProblems, err: err}
			}
			return nil, &exitError{code: exitProblems, err: fmt.Errorf("%v; pass --base REV, --base DIR or --base empty", err)}
		}
	}
	l, err := loadSide(ctx, load.Spec{Dir: dir, Rev: base}, "--base "+base, cache)
	if err != nil {
		return nil, err
	}
	return sideOf(base, l), nil
}

// loadSide loads one side of a plan (load.Load, with its revision digest when it is valid),
// parsing with the plan's cache; label, when there is one, starts the errors of the load.
func loadSide(ctx context.Context, spec load.Spec, label string, cache *config.Cache) (*load.Loaded, error) {
	l, err := load.Load(ctx, spec, load.Options{Cache: cache, Revision: true})
	if err != nil {
		if label != "" {
			err = fmt.Errorf("%s: %w", label, err)
		}
		return nil, &exitError{code: exitProblems, err: err}
	}
	return l, nil
}

// sideOf is a loaded side as plan reads it, named ref: its model, its problems, its files,
// and, when it is valid, its revision digest. Its Close closes l.
func sideOf(ref string, l *load.Loaded) *plan.Revision {
	side := plan.Side{Ref: ref, Commit: l.Commit, Revision: l.Revision, Empty: l.Empty}
	rev := &plan.Revision{Side: side, Model: l.Model(), FS: l.FS, Close: l.Close}
	if l.Result != nil {
		rev.Problems = l.Result.Problems
	}
	return rev
}
