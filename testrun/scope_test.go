package testrun_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/synth"
	"github.com/permsets/permsets/internal/testutil"
	"github.com/permsets/permsets/testrun"
)

// TestScopeAnswersAsTheModel: checks run on the scoped model answer exactly as on the whole
// one (status, what the decision said, its reason and grants), for every third user (and one
// named by login) on every instance and every catalog permission, on each example and on a
// generated repository; an instance with a who-can check keeps every holder.
func TestScopeAnswersAsTheModel(t *testing.T) {
	dirs := []string{"../examples/nation", "../examples/portal", "../examples/api", "../examples/workflows", "../examples/authzen",
		testutil.Generated(t, synth.Options{Instances: 3, Sets: 40, Users: 300, Roles: 12, Pairs: 1500})}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			res, err := config.LoadDir(context.Background(), dir, config.Options{})
			if err != nil || !res.OK() {
				t.Fatal(err, res.Problems)
			}
			m := res.Model
			tests := checksOf(m)
			scoped := testrun.Scope(m, tests)
			if pairs(scoped) >= pairs(m) && pairs(m) > 50 {
				t.Errorf("the scoped model holds %d user-set pairs of %d: nothing was cut", pairs(scoped), pairs(m))
			}
			ctx := context.Background()
			at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			full, err := testrun.Run(ctx, evaluator(t, m), tests, testrun.Options{Now: at})
			if err != nil {
				t.Fatal(err)
			}
			part, err := testrun.Run(ctx, evaluator(t, scoped), tests, testrun.Options{Now: at})
			if err != nil {
				t.Fatal(err)
			}
			if len(full.Results) != len(part.Results) || len(full.Results) == 0 {
				t.Fatalf("%d results against %d", len(part.Results), len(full.Results))
			}
			allowed := 0
			for i := range full.Results {
				f, p := full.Results[i], part.Results[i]
				f.Duration, p.Duration = 0, 0
				if !reflect.DeepEqual(f, p) {
					t.Errorf("%s: scoped answers\n  %s %q %q %v\nthe model answers\n  %s %q %q %v", f.Name, p.Status, p.Got, p.Reason, p.Grants, f.Status, f.Got, f.Reason, f.Grants)
				}
				if f.Status == testrun.Pass && f.Kind == config.CheckDecision {
					allowed++
				}
			}
			if allowed == 0 {
				t.Error("no check was allowed: the comparison saw no grant")
			}
		})
	}
}

// checksOf makes checks that ask, for every third user, each catalog permission
// on each instance (expecting allow) and the user's effective permissions, plus one who-can
// check on the first instance.
func checksOf(m *config.Model) []*config.Test {
	var users []string
	for i, u := range m.Users {
		if i%3 == 0 || len(m.Users) < 6 {
			users = append(users, u.ID)
		}
	}
	var perms []string
	if m.Catalog != nil {
		for f, feat := range m.Catalog.Features {
			for _, a := range feat.Actions {
				perms = append(perms, f+"="+a)
			}
		}
	}
	sort.Strings(perms)
	var tests []*config.Test
	for n, in := range m.Instances {
		t := &config.Test{ID: "t-" + in.ID, Instance: in.ID}
		for _, u := range users {
			for _, p := range perms {
				t.Cases = append(t.Cases, &config.TestCheck{Kind: config.CheckDecision, ID: fmt.Sprintf("c%d", len(t.Cases)), User: u, Permission: p, Expect: "allow"})
			}
			t.Effective = append(t.Effective, &config.TestCheck{Kind: config.CheckEffective, ID: fmt.Sprintf("e%d", len(t.Effective)), User: u, Exact: true})
		}
		if n == 0 && len(perms) > 0 {
			t.WhoCan = append(t.WhoCan, &config.TestCheck{Kind: config.CheckWhoCan, ID: "w", Permission: perms[0], Exact: true})
		}
		tests = append(tests, t)
	}
	return tests
}

func pairs(m *config.Model) int {
	n := 0
	for _, a := range m.Assignments {
		n += len(a.Users) * len(a.PermissionSets)
	}
	for _, r := range m.Roles {
		n += len(r.Members) * len(r.PermissionSets)
	}
	return n
}
