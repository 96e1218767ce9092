package policies_test

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/permsets/permsets/policies"
)

// minCoverage is the lowest coverage (percent of lines) of the rules, tests left out, that the
// Rego tests may reach.
const minCoverage = 90.0

// TestRego runs the Rego tests beside the rules (package permsets_test) with OPA's tester, fails
// for each failing or erroring Rego test, and checks the coverage of the rules.
func TestRego(t *testing.T) {
	sources := readBundle(t)
	run := runRego(t, sources)

	if len(run.results) == 0 {
		t.Fatal("no Rego test ran: expected test_* rules in policies/permsets/*_test.rego")
	}
	for _, r := range run.results {
		switch {
		case r.Error != nil:
			t.Errorf("%s: %s: error: %v%s", location(r), r.Name, r.Error, output(r))
		case r.Fail:
			t.Errorf("%s: %s: fail%s%s", location(r), r.Name, failedAt(r), output(r))
		}
	}
	t.Logf("%d Rego tests, %d skipped", len(run.results), run.skipped)

	cov, uncovered := coverage(run.report, run.rules)
	t.Logf("coverage of policies/ (rules, tests left out): %.2f%%", cov)
	for _, f := range slices.Sorted(maps.Keys(run.rules)) {
		if fr := run.report.Files[f]; fr != nil {
			t.Logf("  %s: %.2f%%", f, fr.Coverage)
		}
	}
	if cov < minCoverage {
		t.Errorf("coverage of policies/ is %.2f%%, below %.0f%%; not covered:\n%s", cov, minCoverage, uncovered)
	}
}

// TestRegoCatchesBrokenRules breaks a rule in a copy of the sources held in memory and checks
// that a Rego test that passes on the real rules fails on the broken ones. Each mutant is a
// literal replacement: if the rules change so it no longer applies, update it.
func TestRegoCatchesBrokenRules(t *testing.T) {
	sources := readBundle(t)
	baseline := failing(runRego(t, sources).results)

	mutants := []struct {
		note, file, old, new string
	}{
		{
			note: "expired assignments still count",
			file: "permsets/decision.rego",
			old:  "h.expires_ns > now",
			new:  "h.expires_ns > 0",
		},
		{
			note: "requirements are not checked",
			file: "permsets/decision.rego",
			old:  "h.expires_ns > now\n\t\t]) == 0",
			new:  "h.expires_ns > now\n\t\t]) >= 0",
		},
		{
			note: "the fast table's 1 is ignored",
			file: "permsets/decision.rego",
			old:  `v := c == "1"`,
			new:  `v := c == "3"`,
		},
		{
			note: "the fast table's mask is ignored",
			file: "permsets/decision.rego",
			old:  "bits.and(mask, bits.lsh(1, i)) != 0",
			new:  "i >= 0",
		},
		{
			note: "the fast table's single holding is misread",
			file: "permsets/decision.rego",
			old:  "inst.records[inst.holdings[user][i]]",
			new:  "inst.records[inst.holdings[user][0]]",
		},
		{
			note: "suspended users without holdings are told they hold nothing",
			file: "permsets/decision.rego",
			old:  "\tnot index.suspended[input.user]\n",
			new:  "",
		},
		{
			note: "who_can by rule keeps users decision denies",
			file: "permsets/listings.rego",
			old:  "\tres.allow\n\tentry :=",
			new:  "\tentry :=",
		},
		{
			note: "who_can keeps users the rule denies when the table cannot settle them",
			file: "permsets/listings.rego",
			old:  "_now)\n\tres.allow\n}",
			new:  "_now)\n}",
		},
		{
			note: "who_can ignores a denying cell",
			file: "permsets/listings.rego",
			old:  `in {"0", "n", "d"}`,
			new:  `in {"x"}`,
		},
	}
	for _, m := range mutants {
		t.Run(m.note, func(t *testing.T) {
			src, ok := sources[m.file]
			if !ok || !strings.Contains(src, m.old) {
				t.Fatalf("mutant no longer applies: %s has no %q", m.file, m.old)
			}
			broken := maps.Clone(sources)
			broken[m.file] = strings.Replace(src, m.old, m.new, 1)
			var caught []string
			for _, name := range failing(runRego(t, broken).results) {
				if !slices.Contains(baseline, name) {
					caught = append(caught, name)
				}
			}
			if len(caught) == 0 {
				t.Errorf("no Rego test fails when %s (%s: %q -> %q)", m.note, m.file, m.old, m.new)
				return
			}
			t.Logf("caught by %d tests, e.g. %s", len(caught), caught[0])
		})
	}
}

// readBundle returns the source of every .rego file of the embedded bundle, by path.
func readBundle(t *testing.T) map[string]string {
	t.Helper()
	sources := map[string]string{}
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		raw, err := fs.ReadFile(policies.FS, p)
		sources[p] = string(raw)
		return err
	})
	if err != nil {
		t.Fatalf("read embedded policies: %v", err)
	}
	return sources
}

type regoRun struct {
	results []*tester.Result // tests that ran (skipped ones left out)
	skipped int
	report  cover.Report
	rules   map[string]string // the sources of the modules that are not tests, by path
}

// runRego parses the sources as Rego v1 and runs their tests with coverage.
func runRego(t *testing.T, sources map[string]string) regoRun {
	t.Helper()
	ctx := context.Background()
	modules := map[string]*ast.Module{}
	rules := map[string]string{}
	ruleModules := map[string]*ast.Module{}
	for p, src := range sources {
		m, err := ast.ParseModuleWithOpts(p, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatalf("parse %s: %v", p, err)
		}
		modules[p] = m
		if !strings.HasSuffix(p, "_test.rego") {
			rules[p] = src
			ruleModules[p] = m
		}
	}

	store := inmem.New()
	txn := storage.NewTransactionOrDie(ctx, store)
	defer store.Abort(ctx, txn)

	cov := cover.New()
	ch, err := tester.NewRunner().
		SetCompiler(ast.NewCompiler().WithEnablePrintStatements(true)).
		SetStore(store).
		SetCoverageQueryTracer(cov).
		SetCoverageRuns(nil). // the supplementary passes only annotate what is not covered
		SetModules(modules).
		RunTests(ctx, txn)
	if err != nil {
		t.Fatalf("compile Rego: %v", err)
	}
	run := regoRun{rules: rules}
	for r := range ch {
		if r.Skip {
			run.skipped++
			continue
		}
		run.results = append(run.results, r)
	}
	sort.Slice(run.results, func(i, j int) bool {
		a, b := run.results[i].Location, run.results[j].Location
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Row < b.Row
	})
	run.report = cov.Report(ruleModules)
	return run
}

// coverage is the line coverage of the rule files, and a listing of their uncovered lines.
func coverage(report cover.Report, rules map[string]string) (float64, string) {
	var covered, notCovered int
	var b strings.Builder
	for _, f := range slices.Sorted(maps.Keys(rules)) {
		fr := report.Files[f]
		if fr == nil {
			continue
		}
		covered += fr.CoveredLines
		notCovered += fr.NotCoveredLines
		if len(fr.NotCovered) == 0 {
			continue
		}
		lines := strings.Split(rules[f], "\n")
		rows := map[int]bool{} // ranges overlap: a rule's head and its expressions
		for _, rng := range fr.NotCovered {
			for row := rng.Start.Row; row <= rng.End.Row && row <= len(lines); row++ {
				rows[row] = true
			}
		}
		fmt.Fprintf(&b, "policies/%s (%.2f%%):\n", f, fr.Coverage)
		for _, row := range slices.Sorted(maps.Keys(rows)) {
			fmt.Fprintf(&b, "  %4d  %s\n", row, lines[row-1])
		}
	}
	if covered+notCovered == 0 {
		return 0, b.String()
	}
	return 100 * float64(covered) / float64(covered+notCovered), b.String()
}

// failing lists the names of the tests that failed or erred.
func failing(results []*tester.Result) []string {
	var names []string
	for _, r := range results {
		if r.Fail || r.Error != nil {
			names = append(names, r.Package+"."+r.Name)
		}
	}
	return names
}

func location(r *tester.Result) string {
	if r.Location == nil {
		return "?"
	}
	return fmt.Sprintf("policies/%s:%d", r.Location.File, r.Location.Row)
}

func failedAt(r *tester.Result) string {
	if r.FailedAt == nil || r.FailedAt.Location == nil {
		return ""
	}
	return fmt.Sprintf(" at line %d: %s", r.FailedAt.Location.Row, r.FailedAt.Location.Text)
}

func output(r *tester.Result) string {
	if len(r.Output) == 0 {
		return ""
	}
	return "\n" + strings.TrimRight(string(r.Output), "\n")
}
