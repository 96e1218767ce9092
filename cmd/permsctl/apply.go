package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/spf13/cobra"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/credentials"
	"github.com/permsets/permsets/internal/textfmt"
	"github.com/permsets/permsets/load"
	"github.com/permsets/permsets/plan"
	"github.com/permsets/permsets/publish"
)

type applyOptions struct {
	actor, remote, planFile string
	force, bootstrap        bool
}

func newApplyCommand(g *globals) *cobra.Command {
	o := &applyOptions{}
	cmd := &cobra.Command{
		Use:   "apply [DIR] [--actor LOGIN|id:ID|email:ADDR] [--remote NAME] [--plan PLANFILE] [--force] [--bootstrap]",
		Short: "Publish the committed config to the live branch, after planning it again",
		Long: `apply publishes HEAD as the new live: the revision permsd and OPA agents follow.

It refuses a work tree with changes (what is applied is a commit). It plans HEAD again against
live (with --remote, the remote's live, fetched first), refuses on any deny, and then moves live
to HEAD as a compare-and-swap: the push, or the local update, fails if live moved since it was
read. With --plan, the saved plan must match what apply plans now, or apply refuses. --force
allows a live that HEAD does not descend from (a revert) after planning again; it never bypasses
a deny. The first apply, when no live exists, needs --bootstrap with --actor, a system admin.

Each apply records the actor, the time and the plan digest as a git note on the applied commit
(refs/notes/permsets), pushed with it. Credentials come from the environment: a token in
PERMSETS_GIT_TOKEN for HTTPS remotes, the SSH agent and known_hosts for SSH; they are never
printed.`,
		Example: `  permsctl apply --remote origin --actor mokafor
  permsctl apply --remote origin --plan plan.json
  permsctl apply --remote origin --actor mokafor --bootstrap      # the first apply
  permsctl apply --force --remote origin --actor mokafor          # a revert of live`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runApply(cmd.Context(), g, g.dir(args), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.actor, "actor", "", "judge the change as made by the User with this forge `LOGIN` (or id:ID, email:ADDR)")
	f.StringVar(&o.remote, "remote", "", "publish to the live branch of this remote (`NAME`, e.g. origin) instead of the local one")
	f.StringVar(&o.planFile, "plan", "", "refuse unless the plan saved in `PLANFILE` (plan -o) matches")
	f.BoolVar(&o.force, "force", false, "allow a live that HEAD does not descend from (never a deny)")
	f.BoolVar(&o.bootstrap, "bootstrap", false, "the first apply, when there is no live yet (with --actor, a system admin)")
	return cmd
}

func runApply(ctx context.Context, g *globals, dir string, o *applyOptions) error {
	fail := func(err error) error { return &exitError{code: exitProblems, err: err} }
	if err := (plan.Options{Actor: o.actor, Bootstrap: o.bootstrap}).Check(); err != nil {
		return usageError(err)
	}
	// Local remotes (a path, file://) are fetched from and pushed to in process, with no git
	// binary, the push a compare-and-swap.
	publish.RegisterFileTransport()
	if err := publish.CheckClean(dir); err != nil {
		return fail(fmt.Errorf("refusing to apply: %w; commit or stash them, apply publishes commits", err))
	}
	head, err := publish.Head(dir)
	if err != nil {
		return fail(err)
	}
	var auth transport.AuthMethod
	liveName := "live"
	var expected string
	if o.remote != "" {
		url, err := publish.RemoteURL(dir, o.remote)
		if err != nil {
			return fail(err)
		}
		if auth, err = credentials.AuthFromEnv(url); err != nil {
			return fail(err)
		}
		fetchCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		expected, err = publish.FetchLive(fetchCtx, dir, o.remote, auth)
		cancel()
		if err != nil {
			return fail(fmt.Errorf("fetch live from %s: %w", o.remote, err))
		}
		liveName = o.remote + "/live"
	} else if expected, err = publish.LocalLive(dir); err != nil {
		return fail(err)
	}
	if expected == "" && !o.bootstrap {
		return fail(fmt.Errorf("%s does not exist yet: the first apply needs --bootstrap --actor ADMIN (a system admin of the head)", liveName))
	}
	if expected != "" && o.bootstrap {
		return usageError(fmt.Errorf("--bootstrap is for the first apply, and %s exists (at %s)", liveName, textfmt.Short(expected)))
	}
	p, err := planCommits(ctx, g, dir, expected, liveName, head, o.actor, o.bootstrap)
	if err != nil {
		return err
	}
	if len(p.Deny) > 0 {
		_ = plan.WriteText(g.stderr, p, textfmt.Painter{})
		return fail(fmt.Errorf("refusing to apply: the plan has %d deny entries", len(p.Deny)))
	}
	if o.planFile != "" {
		saved, err := readPlanFile(g.path(o.planFile))
		if err != nil {
			return fail(err)
		}
		if saved.Digest != p.Digest {
			return fail(fmt.Errorf("refusing to apply: the saved plan %s (digest %s) does not match what apply plans now (digest %s): live or HEAD moved since; plan again", o.planFile, saved.Digest, p.Digest))
		}
	}
	beforePublish()
	note := publish.Note{Actor: o.actor, Time: time.Now().UTC(), PlanDigest: p.Digest, Revision: p.Head.Revision}
	if note.Actor == "" {
		note.Actor = "(none given)"
	}
	pushCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := publish.Publish(pushCtx, dir, o.remote, head, expected, o.force, note, auth); err != nil {
		switch {
		case errors.Is(err, publish.ErrNotFastForward):
			return fail(fmt.Errorf("refusing to apply: HEAD does not descend from %s (%s), so publishing it would drop commits; if that is meant (a revert), review the plan and run again with --force: %w", liveName, textfmt.Short(expected), err))
		case errors.Is(err, publish.ErrLiveMoved):
			return fail(fmt.Errorf("refusing to apply: %s moved since it was read; run apply again to plan against it: %w", liveName, err))
		}
		return fail(err)
	}
	where := "live"
	if o.remote != "" {
		where = "live on " + o.remote
	}
	fmt.Fprintf(g.stdout, "Applied: %s\n%s\nrevision %s, commit %s (%s)\n", p.SummaryLine(), where, p.Head.Revision, head, where)
	return nil
}

// planCommits plans the head commit against the base commit ("" for an empty base), both read
// from Git, as apply does.
func planCommits(ctx context.Context, g *globals, dir, base, baseName, head, actor string, bootstrap bool) (*plan.Plan, error) {
	cache := config.NewCache()
	spec, ref := load.Spec{Empty: true}, "empty"
	if base != "" {
		spec, ref = load.Spec{Dir: dir, Rev: base}, baseName
	}
	l, err := loadSide(ctx, spec, baseName, cache)
	if err != nil {
		return nil, err
	}
	before := sideOf(ref, l)
	if l, err = loadSide(ctx, load.Spec{Dir: dir, Rev: head}, "HEAD", cache); err != nil {
		return nil, err
	}
	after := sideOf("HEAD", l)
	g.progress.phase("planning")
	p, err := plan.Compute(ctx, before, after, plan.Options{Log: g.log, Actor: actor, Bootstrap: bootstrap})
	if err != nil {
		return nil, &exitError{code: exitProblems, err: err}
	}
	return p, nil
}

func readPlanFile(path string) (*plan.Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p plan.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s is not a saved plan: %w", path, err)
	}
	if p.FormatVersion != plan.FormatVersion || p.Digest == "" {
		return nil, fmt.Errorf("%s is not a saved plan of this version (format_version %q)", path, p.FormatVersion)
	}
	return &p, nil
}

// beforePublish runs between planning and publishing: tests move live there to see the
// compare-and-swap refuse.
var beforePublish = func() {}
