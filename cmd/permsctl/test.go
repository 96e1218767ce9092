package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/textfmt"
	"github.com/permsets/permsets/load"
	"github.com/permsets/permsets/testrun"
)

type testOptions struct {
	run, format, rev string
	coverage         bool
}

func newTestCommand(g *globals) *cobra.Command {
	o := &testOptions{}
	cmd := &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run the repository's decision tests (kind: Test)",
		Long: `test runs every Test document of the config repository against its compiled model: each case
is a decision asked of the rules permsd serves, each effective and whoCan entry a listing. It
prints each failure as file:LINE:COL: test-failed: TEST/CHECK: ... with what was expected and
what the model answered, then "N passed, N failed"; it exits 0 when every check passed and 1
when one failed or the config is invalid. --format junit writes JUnit XML for CI test reports,
--format github workflow commands that annotate the failing lines of a pull request.
--coverage lists the sets, permissions, assignments and roles no check touches.`,
		Example: `  permsctl test
  permsctl -C examples/nation test --run 'finance-export/.*'
  permsctl test --format junit > report.xml
  permsctl test --coverage`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := formatFlag(o.format, "text", "json", "junit", "github"); err != nil {
				return err
			}
			var opts testrun.Options
			if o.run != "" {
				re, err := regexp.Compile(o.run)
				if err != nil {
					return usageError(fmt.Errorf("--run: %v", err))
				}
				opts.Run = re
			}
			dir := g.dir(args)
			ctx := cmd.Context()
			g.progress.phase("loading %s", dir)
			side, err := load.Load(ctx, load.Spec{Dir: dir, Rev: o.rev}, load.Options{Revision: true})
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			side.Close()
			if res := side.Result; !res.OK() {
				g.progress.done()
				return o.writeProblems(g, dir, res.Problems)
			}
			g.progress.phase("compiling")
			// Only the holdings the checks can observe are compiled (testrun.Scope): on a large
			// repository that is most of the difference between test and validate. The bundle
			// stays in this process; its revision names the whole config tested.
			scoped := testrun.Scope(side.Result.Model, side.Result.Model.Tests)
			b, err := engine.NewBundleWithRevision(scoped, side.Commit, side.Revision)
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			ev, err := engine.NewEvaluator(ctx, b)
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			g.progress.phase("testing")
			rep, err := testrun.Run(ctx, ev, side.Result.Model.Tests, opts)
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			g.progress.done()
			var cov *testrun.Coverage
			if o.coverage {
				cov = rep.CoverageOf(side.Result.Model)
			}
			switch o.format {
			case "json":
				err = writeJSON(g.stdout, testOutput{FormatVersion: FormatVersion, Revision: b.Revision, Commit: b.Commit,
					Valid: true, Problems: []config.Problem{}, Passed: rep.Passed, Failed: rep.Failed, Skipped: rep.Skipped,
					Results: rep.Results, Coverage: cov})
			case "junit":
				err = writeJUnit(g.stdout, "permsctl test", rep.Duration, testSuites(dir, rep))
			case "github":
				err = writeTestGitHub(g.stdout, dir, rep)
			default:
				err = writeTestText(g.stdout, rep, cov)
			}
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			if !rep.OK() {
				return &exitError{code: exitProblems}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.run, "run", "", "run only the checks whose name TEST/CHECK matches this regular `REGEX`")
	f.StringVar(&o.format, "format", "text", "output format: text, json, junit or github")
	f.StringVar(&o.rev, "rev", "", "test this Git revision of the repository instead of the working tree")
	f.BoolVar(&o.coverage, "coverage", false, "list the sets, permissions, assignments and roles no check touches")
	return cmd
}

// testOutput is test --format json (schemas/test-report.schema.json).
type testOutput struct {
	FormatVersion string            `json:"format_version"`
	Revision      string            `json:"revision,omitempty"`
	Commit        string            `json:"commit,omitempty"`
	Valid         bool              `json:"valid"`
	Problems      []config.Problem  `json:"problems"`
	Passed        int               `json:"passed"`
	Failed        int               `json:"failed"`
	Skipped       int               `json:"skipped"`
	Results       []testrun.Result  `json:"results"`
	Coverage      *testrun.Coverage `json:"coverage,omitempty"`
}

// writeProblems reports an invalid config in the command's format and ends it with exit 1.
func (o *testOptions) writeProblems(g *globals, dir string, ps []config.Problem) error {
	var err error
	switch o.format {
	case "json":
		err = writeJSON(g.stdout, testOutput{FormatVersion: FormatVersion, Problems: ps, Results: []testrun.Result{}})
	case "junit":
		err = writeJUnit(g.stdout, "permsctl test", 0, []junitSuite{problemsSuite(ps)})
	case "github":
		err = writeProblemsGitHub(g.stdout, dir, ps)
	default:
		for _, p := range ps {
			fmt.Fprintln(g.stderr, textfmt.Terminal(p.String()))
		}
	}
	if err != nil {
		return &exitError{code: exitProblems, err: err}
	}
	return &exitError{code: exitProblems, err: fmt.Errorf("%s has %s; run permsctl validate", dir, plural(len(ps), "problem"))}
}

// failureLine is a failure's first line: file:LINE:COL: test-failed: NAME: WHAT: MESSAGE.
func failureLine(r testrun.Result) string {
	return fmt.Sprintf("%s:%d:%d: %s: %s: %s: %s", r.File, r.Line, r.Col, testrun.Code, r.Name, r.What, r.Message)
}

// failureDetail is what the model answered, for the lines under a failure.
func failureDetail(r testrun.Result) []string {
	var lines []string
	if r.Description != "" {
		lines = append(lines, "name: "+textfmt.Terminal(r.Description))
	}
	lines = append(lines, "expected: "+r.Expected)
	if r.Kind == config.CheckDecision {
		lines = append(lines, "decision: "+r.Got+": "+r.Reason)
	} else {
		lines = append(lines, "got: "+r.Got)
	}
	return lines
}

func writeTestText(w io.Writer, rep *testrun.Report, cov *testrun.Coverage) error {
	var b strings.Builder
	for _, r := range rep.Results {
		switch r.Status {
		case testrun.Fail:
			fmt.Fprintln(&b, textfmt.Terminal(failureLine(r)))
			for _, l := range failureDetail(r) {
				fmt.Fprintln(&b, "    "+textfmt.Terminal(l))
			}
		case testrun.Skip:
			fmt.Fprintln(&b, textfmt.Terminal(fmt.Sprintf("%s:%d:%d: skip: %s: %s", r.File, r.Line, r.Col, r.Name, r.Message)))
		}
	}
	if cov != nil {
		writeCoverageText(&b, cov)
	}
	fmt.Fprintln(&b, rep.Summary())
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCoverageText(b *strings.Builder, cov *testrun.Coverage) {
	for _, l := range []struct {
		key, what string
		items     []string
	}{
		{"sets", "sets no check names (instance/set)", cov.Sets},
		{"permissions", "permissions no check asks about (instance/set permission)", cov.Permissions},
		{"assignments", "assignments no check sees a grant through", cov.Assignments},
		{"roles", "roles no check sees a grant through", cov.Roles},
	} {
		fmt.Fprintf(b, "coverage: %d of %d %s covered\n", cov.Covered[l.key], cov.Total[l.key], l.key)
		if len(l.items) > 0 {
			fmt.Fprintf(b, "  %s:\n", l.what)
			for _, it := range l.items {
				fmt.Fprintln(b, "    "+textfmt.Terminal(it))
			}
		}
	}
}

func writeTestGitHub(w io.Writer, dir string, rep *testrun.Report) error {
	for _, r := range rep.Failures() {
		msg := textfmt.Terminal(r.Name+": "+r.What+": "+r.Message) + "\n" + strings.Join(failureDetail(r), "\n")
		if err := writeGitHub(w, "error", githubFile(dir, r.File), r.Line, r.Col, "permsets "+testrun.Code, msg); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, rep.Summary())
	return err
}

// testSuites is the run as JUnit: a suite per Test document, a case per check.
func testSuites(dir string, rep *testrun.Report) []junitSuite {
	var suites []junitSuite
	for _, r := range rep.Results {
		if len(suites) == 0 || suites[len(suites)-1].Name != bounded(r.Test) {
			suites = append(suites, junitSuite{Name: bounded(r.Test), File: bounded(githubFile(dir, r.File)), Time: junitSeconds(0)})
		}
		c := junitCase{Name: bounded(r.Check), Classname: bounded(r.Test), File: bounded(githubFile(dir, r.File)), Line: r.Line, Time: junitSeconds(r.Duration)}
		switch r.Status {
		case testrun.Fail:
			c.Failure = &junitFailure{Message: bounded(r.What + ": " + r.Message), Type: testrun.Code,
				Text: bounded(failureLine(r)) + "\n" + bounded(strings.Join(failureDetail(r), "; "))}
		case testrun.Skip:
			c.Skipped = &junitSkipped{Message: bounded(r.Message)}
		}
		suites[len(suites)-1].add(c)
	}
	if suites == nil {
		suites = []junitSuite{}
	}
	return suites
}
