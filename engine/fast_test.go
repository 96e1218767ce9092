package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/synth"
	"github.com/permsets/permsets/internal/testutil"
)

// allowMatchesDecision asks allow (which answers from the fast table when it is conclusive),
// decision (from the decision table when it is conclusive) and the rule that defines decisions
// the same input, and reports any difference.
// The clock is moved with EvalOptions.Now (not input.time, which skips the fast table).
func allowMatchesDecision(t *testing.T, e *engine.Evaluator, input map[string]any, now time.Time) bool {
	t.Helper()
	allow := evalAt(t, e, "allow", input, now)
	d := evalAt(t, e, "decision", input, now)
	if allow != d.(map[string]any)["allow"] {
		t.Errorf("input %v at %v: allow %v, decision %v", input, now, allow, d)
		return false
	}
	// decision answers from the decision table where it can; the rule is the definition.
	def := evalAt(t, e, "_decision_by_rule", input, now)
	if !reflect.DeepEqual(d, def) {
		t.Errorf("input %v at %v:\ndecision %v\nrule     %v", input, now, d, def)
		return false
	}
	return allow == true
}

// TestFastTableMatchesDecision: for every user, instance and known permission of every example,
// with and without a resource that relates the user, at three times, allow equals decision.allow.
func TestFastTableMatchesDecision(t *testing.T) {
	kinds := map[string]int{}
	t.Cleanup(func() {
		// Every kind of cell the decision answers from is met somewhere in the examples.
		t.Logf("cells asked, by kind: %v", kinds)
		for _, k := range []string{"single", "mask", "none", "rule"} {
			if kinds[k] == 0 {
				t.Errorf("no example input meets a %q cell: %v", k, kinds)
			}
		}
	})
	for _, example := range []string{"nation", "nation-requirements", "portal", "portal-disabled", "api", "workflows", "authzen"} {
		t.Run(example, func(t *testing.T) {
			dir := variants[example](t)
			_, e := compile(t, dir)
			idx := compileIndex(t, dir)
			names := identityNames(t, dir)
			var users []string
			for _, inst := range idx.Instances() {
				users = append(users, idx.Users(inst)...)
			}
			slices.Sort(users)
			users = append(slices.Compact(users), "nobody")
			perms := idx.Permissions() // sorted
			allowed, asked := 0, 0
			for _, inst := range idx.Instances() {
				for _, u := range users {
					for _, p := range perms {
						for _, now := range clocks {
							for _, resource := range resources(u, names[u]) {
								input := map[string]any{"user": u, "instance": inst, "permission": p}
								if resource != nil {
									input["resource"] = resource
								}
								asked++
								kinds[cellKind(idx, inst, u, p)]++
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

// cellKind says how the fast table answers decision for (instance, user, permission).
func cellKind(idx *engine.Index, inst, user, perm string) string {
	cell, ok := engine.FastCell(idx, inst, user, perm)
	if !ok {
		return "no row"
	}
	switch {
	case cell[0] == '1' && cell[1] >= 'A' && cell[1] <= 'Z':
		return "single"
	case cell[0] == '1' && cell[1] != '~':
		return "mask"
	case cell == "n~" || cell == "d~":
		return "none"
	default:
		return "rule"
	}
}

// compileIndex is the Go form of the index of the repository at dir.
func compileIndex(t *testing.T, dir string) *engine.Index {
	t.Helper()
	res, err := config.LoadDir(context.Background(), dir, config.Options{})
	if err != nil || !res.OK() {
		t.Fatalf("load %s: %v %v", dir, err, res)
	}
	idx, err := engine.Compile(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// clocks: now, before every expiry of the examples and generator, and after all of them.
var clocks = []time.Time{
	time.Now(),
	time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
}

// relatedResource names the user in every relation field the examples and the generator use.
// resources are the resources every input is decided with: none, one whose relation fields hold
// the user's id, and one whose relation fields hold the user's other names (logins, and emails in
// another case), when the user has any.
func resources(user string, names []string) []map[string]any {
	out := []map[string]any{nil, relatedResource(user)}
	if len(names) > 0 {
		byName := map[string]any{"id": "record-2"}
		for i, field := range []string{"point_person", "path_assignee", "step_assignee", "owner", "assignee"} {
			if i%2 == 1 {
				byName[field] = []any{"x", names[i%len(names)]}
			} else {
				byName[field] = names[i%len(names)]
			}
		}
		out = append(out, byName)
	}
	return out
}

// identityNames are the users' logins and emails (upper-cased: emails match ignoring case).
func identityNames(t testing.TB, dir string) map[string][]string {
	t.Helper()
	res, err := config.LoadDir(context.Background(), dir, config.Options{})
	if err != nil || !res.OK() {
		t.Fatalf("load %s: %v %v", dir, err, res.Problems)
	}
	out := map[string][]string{}
	for _, u := range res.Model.Users {
		out[u.ID] = append(slices.Clone(u.Logins), u.Emails...)
		for _, e := range u.Emails {
			out[u.ID] = append(out[u.ID], strings.ToUpper(e))
		}
	}
	return out
}

func relatedResource(user string) map[string]any {
	return map[string]any{"id": "staffer", "point_person": user, "path_assignee": []any{"x", user},
		"step_assignee": user, "owner": user, "assignee": user}
}

// TestFastTableMatchesDecisionGenerated does the same on a generated repository, on a sample.
func TestFastTableMatchesDecisionGenerated(t *testing.T) {
	o := synth.Options{Instances: 3, Sets: 120, Users: 400, Roles: 12, Pairs: 6000}
	dir := testutil.Generated(t, o)
	_, e := compile(t, dir)
	idx := compileIndex(t, dir)
	perms := idx.Permissions() // sorted
	r := rand.New(rand.NewPCG(7, 7))
	allowed := 0
	kinds := map[string]int{}
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
		kinds[cellKind(idx, input["instance"].(string), input["user"].(string), input["permission"].(string))]++
		if allowMatchesDecision(t, e, input, clocks[i%len(clocks)]) {
			allowed++
		}
	}
	t.Logf("%d inputs, %d allowed; cells by kind: %v", n, allowed, kinds)
	for _, k := range []string{"single", "mask", "none", "rule", "no row"} {
		if kinds[k] == 0 {
			t.Errorf("no generated input meets a %q cell: %v", k, kinds)
		}
	}
	if allowed == 0 || allowed == n {
		t.Errorf("%d of %d allowed: the sample does not exercise both outcomes", allowed, n)
	}
}

// TestFastTableMatchesWhoCan holds who_can, which reads allowing and denying cells of the fast
// table, to _who_can_by_rule, which runs the decision rule for every candidate: for every
// instance and permission of every example variant and of a generated repository, at four
// evaluation times (before, between and after the expiries), with and without a resource.
func TestFastTableMatchesWhoCan(t *testing.T) {
	gen := testutil.Generated(t, synth.Options{Instances: 2, Sets: 80, Users: 300, Roles: 10, Pairs: 3000})
	dirs := map[string]string{"generated": gen}
	for _, example := range []string{"nation", "nation-requirements", "portal", "portal-disabled", "api", "workflows", "authzen"} {
		dirs[example] = variants[example](t)
	}
	holders := 0
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			_, e := compile(t, dir)
			idx := compileIndex(t, dir)
			perms := idx.Permissions() // sorted
			for _, inst := range idx.Instances() {
				for _, p := range perms {
					for i, now := range clocks {
						input := map[string]any{"instance": inst, "permission": p}
						if i%2 == 1 {
							input["resource"] = relatedResource("u000001")
						}
						got := evalAt(t, e, "who_can", input, now)
						want := evalAt(t, e, "_who_can_by_rule", input, now)
						if !reflect.DeepEqual(got, want) {
							t.Fatalf("who_can %v at %v:\n table %v\n rule  %v", input, now, got, want)
						}
						holders += len(asList(got))
					}
				}
			}
		})
	}
	if holders == 0 {
		t.Error("nobody can do anything in the examples: the comparison proves nothing")
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestExpiryInstant: kwame's fellowship (examples/nation) expires 2027-01-31T23:59:59Z. With the
// clock (EvalOptions.Now, the fast table's path) one nanosecond before, it grants; at exactly
// that instant it grants nothing, through allow, decision, effective and who_can alike.
func TestExpiryInstant(t *testing.T) {
	_, e := compile(t, "../examples/nation")
	expires := time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC)
	input := map[string]any{"user": "kwame", "instance": "campaign", "permission": "people=edit",
		"resource": map[string]any{"id": "p-8", "point_person": "kwame"}}
	for _, tc := range []struct {
		now   time.Time
		grant bool
	}{{expires.Add(-time.Nanosecond), true}, {expires, false}, {expires.Add(time.Nanosecond), false}} {
		if got := allowMatchesDecision(t, e, input, tc.now); got != tc.grant {
			t.Errorf("at %v: allow %v, want %v", tc.now, got, tc.grant)
		}
		eff := evalAt(t, e, "effective", map[string]any{"user": "kwame", "instance": "campaign"}, tc.now)
		if held := slices.Contains(fmtList(eff.(map[string]any)["sets"]), "field-organizer"); held != tc.grant {
			t.Errorf("at %v: effective %v", tc.now, eff)
		}
		wc := evalAt(t, e, "who_can", map[string]any{"instance": "campaign", "permission": "people=edit", "resource": input["resource"]}, tc.now)
		listed := false
		for _, entry := range wc.([]any) {
			listed = listed || entry.(map[string]any)["user"] == "kwame"
		}
		if listed != tc.grant {
			t.Errorf("at %v: who_can %v", tc.now, wc)
		}
	}
}
