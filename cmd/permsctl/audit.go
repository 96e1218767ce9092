package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"

	"github.com/permsets/permsets/audit"
	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/textfmt"
)

type auditOptions struct {
	rev, format, out    string
	now, expiringWithin string
}

func newAuditCommand(g *globals) *cobra.Command {
	o := &auditOptions{}
	cmd := &cobra.Command{
		Use:   "audit [DIR] [--rev REV] [--format text|json|markdown|csv] [--now RFC3339] [--expiring-within 14d] [-o FILE]",
		Short: "Review who holds what on every instance, and what needs attention",
		Long: `audit is the periodic access review of the config repository. For each instance it lists who
holds each set and through what (an assignment, with its file and line and expiry, or a role),
and the findings: separation-of-duties violations (holders of *=* are exempt, and listed),
holders of wildcard grants (*=*, feature=*, *=action) and the system admins, disabled sets still
assigned, assignments expired or expiring within --expiring-within (default the Repository's
lint.expiringWithin, else 14d), permissions that are ineffective for lack of one they require,
suspended users who still hold sets, roles without members and sets assigned to nobody.

Expiry is judged at --now (default the wall clock). --rev REV audits a past Git revision, as
check --rev does, to answer "who could do what on that date": without --now, the commit's time
is the report's time, and the report says so.

Findings are not errors: exit code 0 when the report is written, 1 on config problems or errors.`,
		Example: `  permsctl audit examples/nation
  permsctl audit --format markdown > audit.md
  permsctl audit --format csv -o audit.csv
  permsctl audit --rev live~10 --format json
  permsctl audit --now 2027-01-15T00:00:00Z --expiring-within 30d`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := formatFlag(o.format, "text", "json", "markdown", "csv"); err != nil {
				return err
			}
			opts := audit.Options{}
			if o.now != "" {
				t, err := time.Parse(time.RFC3339, o.now)
				if err != nil {
					return usageError(fmt.Errorf("--now %q is not RFC 3339 (like 2026-12-31T23:59:59Z)", o.now))
				}
				opts.Now, opts.NowFrom = t, audit.NowFromFlag
			}
			if o.expiringWithin != "" {
				d, err := config.ParseDuration(o.expiringWithin)
				if err != nil || d <= 0 {
					return usageError(fmt.Errorf("--expiring-within %q is not a duration (like 14d, 36h or 1d12h)", o.expiringWithin))
				}
				opts.ExpiringWithin = d
			}
			dir := g.dir(args)
			start := time.Now()
			m, err := g.loadAuditModel(cmd.Context(), dir, o.rev, &opts)
			if err != nil {
				return err
			}
			g.log.Debug("audit: loaded", "took", time.Since(start))
			start = time.Now()
			g.progress.phase("reviewing")
			r, err := audit.Compute(cmd.Context(), m, opts)
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			g.log.Debug("audit: computed", "took", time.Since(start))
			write := func(w io.Writer, color bool) error {
				switch o.format {
				case "json":
					return audit.WriteJSON(w, r)
				case "markdown":
					return audit.WriteMarkdown(w, r)
				case "csv":
					return audit.WriteCSV(w, r)
				default:
					return audit.WriteText(w, r, textfmt.Painter{On: color})
				}
			}
			if o.out == "" {
				if err := write(g.stdout, newColors(g.stdout).On); err != nil {
					return &exitError{code: exitProblems, err: err}
				}
				return nil
			}
			start = time.Now()
			if err := writeFileAtomic(g.path(o.out), func(w io.Writer) error { return write(w, false) }); err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			g.log.Debug("audit: written", "file", o.out, "took", time.Since(start))
			_, err = fmt.Fprintf(g.stdout, "wrote %s: %s\n", o.out, r.SummaryLine())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.rev, "rev", "", "audit this Git revision of the repository instead of the working tree")
	f.StringVar(&o.format, "format", "text", "output format: text, json, markdown or csv")
	f.StringVar(&o.now, "now", "", "judge expiry at this time (RFC 3339; default now, or the commit's time with --rev)")
	f.StringVar(&o.expiringWithin, "expiring-within", "", "report assignments expiring within this `DURATION` (default the Repository's lint.expiringWithin, else 14d)")
	f.StringVarP(&o.out, "out", "o", "", "write the report to `FILE` (written aside and renamed) instead of stdout")
	return cmd
}

// loadAuditModel loads the config as loadConfig does, without compiling a bundle (the audit
// reads the compiled index itself). With a revision it fills in the commit, and the commit's
// time as the report's time when --now was not given.
func (g *globals) loadAuditModel(ctx context.Context, dir, rev string, opts *audit.Options) (*config.Model, error) {
	l, err := g.loadModel(ctx, dir, rev, false)
	if err != nil {
		return nil, err
	}
	if rev != "" {
		opts.Commit, opts.Ref = l.Commit, rev
		if opts.Now.IsZero() {
			when, err := commitTime(dir, l.Commit)
			if err != nil {
				return nil, &exitError{code: exitProblems, err: err}
			}
			opts.Now, opts.NowFrom = when, audit.NowFromCommit
		}
	}
	return l.Result.Model, nil
}

// commitTime is the committer's time of a commit of the repository holding dir.
func commitTime(dir, commit string) (time.Time, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return time.Time{}, err
	}
	c, err := repo.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return time.Time{}, fmt.Errorf("commit %s: %w", commit, err)
	}
	return c.Committer.When, nil
}
