package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/synth"
)

// allowMatchesDecision asks allow (which answers from the fast table when it is conclusive) and
// decision.allow (the definition) the same input, and reports any difference.
// The clock is moved with EvalOptions.Now (not input.time, which skips the fast table).
func allowMatchesDecision(t *testing.T, e *engine.Evaluator, input map[string]any, now time.Time) bool {
	t.Helper()
	ctx := context.Background()
	opts := engine.EvalOptions{Now: now}
	allow, err := e.Eval(ctx, "allow", input, opts)
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Eval(ctx, "decision", input, opts)
	if err != nil {
		t.Fatal(err)
	}
	if allow != d.(map[string]any)["allow"] {
		t.Errorf("input %v at %v: allow %v, decision %v", input, now, allow, d)
		return false
	}
	return allow == true
}

// TestFastTableMatchesDecision: for every user, instance and known permission of every example,
// with and without a resource that relates the user, at three times, allow equals decision.allow.
func TestFastTableMatchesDecision(t *testing.T) {
	for _, example := range []string{"nation", "nation-requirements", "portal", "portal-disabled", "api", "workflows"} {
		t.Run(example, func(t *testing.T) {
			b, e := compile(t, variants[example](t))
			idx := b.Index
			var users []string
			for _, ii := range idx.Instances {
				for u := range ii.Holdings {
					users = append(users, u)
				}
			}
			slices.Sort(users)
			users = append(slices.Compact(users), "nobody")
			var perms []string
			for p := range idx.Catalog.Known {
				perms = append(perms, p)
			}
			slices.Sort(perms)
			allowed, asked := 0, 0
			for inst := range idx.Instances {
				for _, u := range users {
					for _, p := range perms {
						for _, now := range clocks {
							for _, withResource := range []bool{false, true} {
								input := map[string]any{"user": u, "instance": inst, "permission": p}
								if withResource {
									input["resource"] = relatedResource(u)
								}
								asked++
								if allowMatchesDecision(t, e, input, now) {
									allowed++
								}
							}
						}
					}
				}
			}
			t.Logf("%d inputs, %d allowed", asked, allowed)
			if allowed == 0 || allowed == asked {
				t.Errorf("%d of %d allowed: the sample does not exercise both outcomes", allowed, asked)
			}
		})
	}
}

// clocks: now, before every expiry of the examples and generator, and after all of them.
var clocks = []time.Time{
	time.Now(),
	time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
}

// relatedResource names the user in every relation field the examples and the generator use.
func relatedResource(user string) map[string]any {
	return map[string]any{"id": "staffer", "point_person": user, "path_assignee": []any{"x", user},
		"step_assignee": user, "owner": user, "assignee": user}
}

// TestFastTableMatchesDecisionGenerated does the same on a generated repository, on a sample.
func TestFastTableMatchesDecisionGenerated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	o := synth.DefaultOptions()
	o.Out, o.Instances, o.Sets, o.Users, o.Roles, o.Pairs, o.Inputs = dir, 3, 120, 400, 12, 6000, 10
	if _, err := synth.Generate(o); err != nil {
		t.Fatal(err)
	}
	b, e := compile(t, dir)
	var perms []string
	for p := range b.Index.Catalog.Known {
		perms = append(perms, p)
	}
	slices.Sort(perms)
	r := rand.New(rand.NewPCG(7, 7))
	allowed := 0
	const n = 8000
	for i := range n {
		input := map[string]any{
			"user":       fmt.Sprintf("u%06d", r.IntN(o.Users+5)),
			"instance":   fmt.Sprintf("i%03d", r.IntN(o.Instances)),
			"permission": perms[r.IntN(len(perms))],
		}
		if i%2 == 1 {
			input["resource"] = relatedResource(input["user"].(string))
		}
		if allowMatchesDecision(t, e, input, clocks[i%len(clocks)]) {
			allowed++
		}
	}
	t.Logf("%d inputs, %d allowed", n, allowed)
	if allowed == 0 || allowed == n {
		t.Errorf("%d of %d allowed: the sample does not exercise both outcomes", allowed, n)
	}
}
