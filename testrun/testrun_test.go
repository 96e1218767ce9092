package testrun_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/testrun"
)

func evaluator(t *testing.T, m *config.Model) *engine.Evaluator {
	t.Helper()
	b, err := engine.NewBundle(m, "")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := engine.NewEvaluator(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestExamples: every example repository has tests, and they all pass.
func TestExamples(t *testing.T) {
	dirs, _ := filepath.Glob("../examples/*/catalog.yaml")
	if len(dirs) < 6 {
		t.Fatalf("found %d examples", len(dirs))
	}
	for _, c := range dirs {
		dir := filepath.Dir(c)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res, err := config.LoadDir(context.Background(), dir, config.Options{})
			if err != nil || !res.OK() {
				t.Fatal(err, res.Problems)
			}
			if len(res.Model.Tests) == 0 {
				t.Fatal("no tests")
			}
			rep, err := testrun.Run(context.Background(), evaluator(t, res.Model), res.Model.Tests, testrun.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Failures() {
				t.Errorf("%s:%d: %s: %s: %s (got %s, reason %q)", f.File, f.Line, f.Name, f.What, f.Message, f.Got, f.Reason)
			}
			if rep.Passed == 0 {
				t.Error("nothing passed")
			}
		})
	}
}

const fixture = `apiVersion: permsets/v1
kind: Instance
id: prod
name: Production
---
apiVersion: permsets/v1
kind: PermissionSet
id: reader
instances: [prod]
name: Reader
permissions: [people=read]
---
apiVersion: permsets/v1
kind: PermissionSet
id: unused
instances: [prod]
name: Unused
permissions: [people=edit]
---
apiVersion: permsets/v1
kind: Assignment
id: ann-reads
instance: prod
users: [ann]
permissionSets: [reader]
`

// TestFailures: each kind of expectation fails with a message saying what was expected and
// what the model answered; --run selects by TEST/CHECK; a skip is counted, not run.
func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		note, checks, run string
		want              []string // the failures' names and messages
		passed, skipped   int
	}{
		{note: "allow expected", checks: "cases:\n  - {user: bob, permission: people=read, expect: allow}",
			want: []string{"t/case-1: expected allow, got deny"}},
		{note: "deny expected", checks: "cases:\n  - {user: ann, permission: people=read, expect: deny}",
			want: []string{"t/case-1: expected deny, got allow"}},
		{note: "via", checks: "cases:\n  - {id: v, user: ann, permission: people=read, expect: allow, via: [reader, role:x, other]}",
			want: []string{"t/v: expected grants through role:x, other"}},
		{note: "reason", checks: "cases:\n  - {user: bob, permission: people=read, expect: deny, reason: '^nope'}",
			want: []string{`t/case-1: expected a reason matching "^nope"`}},
		{note: "effective exactly", checks: "effective:\n  - {user: ann, permissions: [people=edit]}",
			want: []string{"t/effective-1: unexpected permission people=read; missing permission people=edit"}},
		{note: "effective includes and excludes", checks: "effective:\n  - {user: ann, includes: [people=edit], excludes: [people=read]}",
			want: []string{"t/effective-1: missing permission people=edit; unexpected permission people=read"}},
		{note: "who can", checks: "whoCan:\n  - {permission: people=read, users: [bob]}",
			want: []string{"t/who-can-1: unexpected user ann; missing user bob"}},
		{note: "passes", checks: "cases:\n  - {user: ann, permission: people=read, expect: allow, via: [reader], reason: 'through set reader'}\nwhoCan:\n  - {permission: people=read, users: [ann]}", passed: 2},
		{note: "run selects", run: "^t/b$", checks: "cases:\n  - {id: a, user: bob, permission: people=read, expect: allow}\n  - {id: b, user: ann, permission: people=read, expect: allow}", passed: 1},
		{note: "skip", checks: "cases:\n  - {user: bob, permission: people=read, expect: allow, skip: later}", skipped: 1},
	} {
		t.Run(tc.note, func(t *testing.T) {
			fsys := fstest.MapFS{"all.yaml": {Data: []byte(fixture)},
				"tests/t.yaml": {Data: []byte("apiVersion: permsets/v1\nkind: Test\nid: t\ninstance: prod\n" + tc.checks + "\n")}}
			res, err := config.Load(context.Background(), fsys, config.Options{})
			if err != nil || !res.OK() {
				t.Fatal(err, res.Problems)
			}
			var opts testrun.Options
			if tc.run != "" {
				opts.Run = regexp.MustCompile(tc.run)
			}
			rep, err := testrun.Run(context.Background(), evaluator(t, res.Model), res.Model.Tests, opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range rep.Failures() {
				got = append(got, f.Name+": "+f.Message)
				if f.File != "tests/t.yaml" || f.Line != 6 {
					t.Errorf("at %s:%d", f.File, f.Line)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") || rep.Passed != tc.passed || rep.Skipped != tc.skipped {
				t.Errorf("failures %q (want %q), %d passed, %d skipped", got, tc.want, rep.Passed, rep.Skipped)
			}
		})
	}
}

// TestCoverage: what no check touches is listed.
func TestCoverage(t *testing.T) {
	fsys := fstest.MapFS{"all.yaml": {Data: []byte(fixture)},
		"t.yaml": {Data: []byte("apiVersion: permsets/v1\nkind: Test\nid: t\ninstance: prod\ncases:\n  - {user: ann, permission: people=read, expect: allow}\n")}}
	res, err := config.Load(context.Background(), fsys, config.Options{})
	if err != nil || !res.OK() {
		t.Fatal(err, res.Problems)
	}
	rep, err := testrun.Run(context.Background(), evaluator(t, res.Model), res.Model.Tests, testrun.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.CoverageOf(res.Model)
	if strings.Join(c.Sets, ",") != "prod/unused" || strings.Join(c.Permissions, ",") != "prod/unused people=edit" || len(c.Assignments) != 0 || c.Covered["assignments"] != 1 {
		t.Errorf("%+v", c)
	}
}
