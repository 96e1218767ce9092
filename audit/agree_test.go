package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/sorted"
	"github.com/permsets/permsets/plan"
)

// testNow is the time the tests judge expiry at.
var testNow = time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)

// repositories are the config repositories the agreement tests run on: every example with
// instances (others, as the deployment manifests, are not config repositories), and the
// one of testdata that triggers every finding.
func repositories(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("../examples/*")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range dirs {
		if info, err := os.Stat(filepath.Join(d, "instances")); err == nil && info.IsDir() { // a config repository
			out = append(out, d)
		}
	}
	if len(out) < 3 {
		t.Fatalf("found %d example repositories", len(out))
	}
	return append(out, "testdata/findings")
}

func load(t *testing.T, dir string) *config.Model {
	t.Helper()
	res, err := config.LoadDir(context.Background(), dir, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("%s: %v", dir, res.Problems)
	}
	return res.Model
}

// TestAccessAgreesWithRego: the effective access the audit computes in Go is what the rules
// answer, for every (user, instance) holding anything, in every repository, at several times
// (before and after the examples' expiries): data.permsets.access (permissions and the sets
// giving them), data.permsets.effective (sets and permissions), and for each permission the
// audit calls ineffective, data.permsets.decision with a resource the grant covers: denied, and
// missing exactly the requirements the audit names.
func TestAccessAgreesWithRego(t *testing.T) {
	ctx := context.Background()
	// (and at the exact instant examples/nation's fellowship expires: expired there, for both)
	times := []time.Time{testNow, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC)}
	pairs, ineffectiveSeen, superusersSeen := 0, 0, 0
	for _, dir := range repositories(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m := load(t, dir)
			idx, err := engine.Compile(m)
			if err != nil {
				t.Fatal(err)
			}
			v := newView(m, idx)
			b, err := engine.NewBundle(m, "")
			if err != nil {
				t.Fatal(err)
			}
			ev, err := engine.NewEvaluator(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			for _, now := range times {
				eo := engine.EvalOptions{Now: now}
				for _, inst := range sorted.Keys(v.instances) {
					iv := v.instances[inst]
					for i, user := range iv.users {
						pairs++
						input := map[string]any{"user": user, "instance": inst}
						regoAccess, err := ev.Eval(ctx, "access", input, eo)
						if err != nil {
							t.Fatal(err)
						}
						regoEffective, err := ev.Eval(ctx, "effective", input, eo)
						if err != nil {
							t.Fatal(err)
						}
						want := accessFromRego(regoAccess)
						if v.suspended[user] {
							if len(want) != 0 {
								t.Errorf("%s@%s (suspended) at %s: the rules give %v", user, inst, now, want)
							}
							continue
						}
						a := v.access(user, iv.holdings[i], now.UnixNano())
						if a.superuser {
							superusersSeen++
						}
						if got := a.permissions(); !reflect.DeepEqual(got, want) {
							t.Errorf("%s@%s at %s: access\n got %v\nwant %v", user, inst, now, got, want)
						}
						eff, _ := regoEffective.(map[string]any)
						if got, want := sorted.Keys(a.permissions()), strs(eff["permissions"]); !slices.Equal(got, want) {
							t.Errorf("%s@%s at %s: effective permissions\n got %v\nwant %v", user, inst, now, got, want)
						}
						activeSets := map[string]bool{}
						for _, r := range a.active {
							activeSets[r.set] = true
						}
						if got, want := sorted.Keys(activeSets), strs(eff["sets"]); !slices.Equal(got, want) {
							t.Errorf("%s@%s at %s: effective sets %v, want %v", user, inst, now, got, want)
						}
						// Every grant of an active set is effective or ineffective, not both.
						for _, in := range a.ineffective() {
							ineffectiveSeen++
							if _, ok := a.permissions()[in.Permission]; ok && !a.superuser {
								t.Errorf("%s@%s: %s is both effective and ineffective", user, inst, in.Permission)
							}
							checkIneffective(t, ev, eo, v, user, inst, in)
						}
					}
				}
			}
		})
	}
	if pairs < 50 || ineffectiveSeen == 0 || superusersSeen == 0 {
		t.Errorf("compared %d (user, instance) pairs, %d ineffective permissions, %d superusers: the repositories no longer exercise the comparison", pairs, ineffectiveSeen, superusersSeen)
	}
}

// checkIneffective asks the decision rule about an ineffective permission, with a resource the
// grant covers (its object, and the user in every relation field of its scopes).
func checkIneffective(t *testing.T, ev *engine.Evaluator, eo engine.EvalOptions, v *view, user, inst string, in Ineffective) {
	t.Helper()
	text := in.Permission
	key, _, _ := strings.Cut(text, "(")
	var grant *grantView
	for _, g := range in.Grants {
		for _, gv := range v.sets[g.Set].grants[key] {
			if gv.text == text {
				grant = &gv
			}
		}
	}
	if grant == nil {
		t.Fatalf("%s@%s: no grant %s in %v", user, inst, text, in.Grants)
	}
	resource := map[string]any{"id": "r-1"}
	if len(grant.objects) > 0 {
		resource["id"] = grant.objects[0]
	}
	for _, rel := range grant.relations {
		resource[rel] = user
	}
	d, err := ev.Eval(context.Background(), "decision", map[string]any{"user": user, "instance": inst, "permission": key,
		"resource": resource, "time": eo.Now.Format(time.RFC3339Nano)}, eo)
	if err != nil {
		t.Fatal(err)
	}
	dm, _ := d.(map[string]any)
	if dm["allow"] != false || !slices.Equal(strs(dm["missing"]), in.Missing) || len(asList(dm["grants"])) == 0 {
		t.Errorf("%s@%s: %s is ineffective for the audit (missing %v), the decision says %v", user, inst, text, in.Missing, dm)
	}
}

func accessFromRego(v any) map[string][]Grant {
	out := map[string][]Grant{}
	m, _ := v.(map[string]any)
	for p, gs := range m {
		for _, g := range asList(gs) {
			gm, _ := g.(map[string]any)
			out[p] = append(out[p], Grant{Set: fmt.Sprint(gm["set"]), Via: fmt.Sprint(gm["via"])})
		}
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func strs(v any) []string {
	out := []string{}
	for _, x := range asList(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// TestFindingsAgreeWithPlan: planned over an empty base, where everything in the repository is
// new, the change rules judge every user, set and assignment; the audit must find what they
// find: the same separation-of-duties violations (deny), the same assignments expired or
// expiring (warn), the same assignments and roles giving disabled sets (deny), the sets plan
// calls unassigned among those the audit finds nobody holds, and every set giving a permission
// the audit calls ineffective among those plan warns grant a permission without its requirement.
func TestFindingsAgreeWithPlan(t *testing.T) {
	ctx := context.Background()
	seen := map[string]int{}
	for _, dir := range repositories(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m := load(t, dir)
			r, err := Compute(ctx, m, Options{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.Compute(ctx, &plan.Revision{Side: plan.Side{Ref: "empty", Empty: true}},
				&plan.Revision{Side: plan.Side{Ref: "head"}, Model: m}, plan.Options{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			byCode := map[string][]plan.Finding{}
			for _, f := range append(p.Deny, p.Warn...) {
				byCode[f.Code] = append(byCode[f.Code], f)
			}
			objects := func(code string) []string {
				var out []string
				for _, f := range byCode[code] {
					out = append(out, f.Object)
				}
				slices.Sort(out)
				return slices.Compact(out)
			}

			// Separation of duties: one deny per (user, instance, rule) violation.
			var want []string
			for _, f := range byCode["separation-of-duties"] {
				want = append(want, f.Message)
			}
			var got []string
			for _, in := range r.Instances {
				for _, s := range in.SeparationOfDuties {
					if s.Exempt {
						continue
					}
					seen["sod"]++
					prefix := fmt.Sprintf("%s would newly hold every permission of separation-of-duties rule %s (%s) on %s: ", s.User, s.Rule, at(s.File, s.Line), in.ID)
					for _, msg := range want {
						if strings.HasPrefix(msg, prefix) {
							got = append(got, msg)
						}
					}
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("separation of duties: the audit matches %q\nplan denies %q", got, want)
			}

			// Expired or expiring: plan warns of both alike.
			var expiring []string
			for _, in := range r.Instances {
				for _, e := range append(slices.Clone(in.ExpiredAssignments), in.ExpiringAssignments...) {
					expiring = append(expiring, "Assignment/"+e.Assignment)
				}
			}
			slices.Sort(expiring)
			seen["expiring"] += len(expiring)
			if w := objects("expiring-assignment"); !slices.Equal(expiring, w) {
				t.Errorf("expired or expiring: audit %v, plan %v", expiring, w)
			}

			// Disabled sets assigned.
			var disabled []string
			for _, in := range r.Instances {
				for _, d := range in.DisabledSetsAssigned {
					if d.Assignment != "" {
						disabled = append(disabled, "Assignment/"+d.Assignment)
					} else {
						disabled = append(disabled, "Role/"+d.Role)
					}
				}
			}
			slices.Sort(disabled)
			disabled = slices.Compact(disabled)
			seen["disabled"] += len(disabled)
			if w := objects("disabled-set-assigned"); !slices.Equal(disabled, w) {
				t.Errorf("disabled sets assigned: audit %v, plan %v", disabled, w)
			}

			// Unassigned: plan's (referenced by no assignment or role anywhere) are nobody's on
			// every instance of the set.
			nobodys := map[string]int{}
			for _, in := range r.Instances {
				for _, s := range in.UnassignedSets {
					nobodys[s.Set]++
				}
			}
			for _, o := range objects("unassigned-set") {
				id := strings.TrimPrefix(o, "PermissionSet/")
				seen["unassigned"]++
				if nobodys[id] != len(m.Set(id).Instances) {
					t.Errorf("plan calls %s unassigned; the audit finds nobody holds it on %d of its %d instances", id, nobodys[id], len(m.Set(id).Instances))
				}
			}

			// Ineffective: every set giving an ineffective permission lacks a requirement itself.
			warned := map[string]bool{}
			for _, o := range objects("ineffective-permission") {
				warned[strings.TrimPrefix(o, "PermissionSet/")] = true
			}
			for _, in := range r.Instances {
				for _, f := range in.IneffectivePermissions {
					for _, g := range f.Grants {
						seen["ineffective"]++
						if !warned[g.Set] {
							t.Errorf("%s@%s: %s from %s is ineffective, but plan does not warn about %s", f.User, in.ID, f.Permission, g.Set, g.Set)
						}
					}
				}
			}
		})
	}
	for _, k := range []string{"sod", "expiring", "disabled", "unassigned", "ineffective"} {
		if seen[k] == 0 {
			t.Errorf("no %s finding was compared: the repositories no longer exercise it", k)
		}
	}
}

// TestEveryFindingKind: the testdata repository triggers every kind of finding; a kind that
// disappears from the report fails here.
func TestEveryFindingKind(t *testing.T) {
	r, err := Compute(context.Background(), load(t, "testdata/findings"), Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{KindSystemAdmin: len(r.SystemAdmins) > 0}
	for _, in := range r.Instances {
		for _, s := range in.SeparationOfDuties {
			found[KindSeparation] = found[KindSeparation] || !s.Exempt
			found["separation-of-duties (exempt)"] = found["separation-of-duties (exempt)"] || s.Exempt
		}
		for _, p := range in.PrivilegedHolders {
			for _, g := range p.Grants {
				for _, perm := range g.Permissions {
					f, a, _ := strings.Cut(perm, "=")
					switch {
					case f == "*" && a == "*":
						found["privileged *=*"] = true
					case a == "*":
						found["privileged feature=*"] = true
					case f == "*":
						found["privileged *=action"] = true
					}
				}
			}
		}
		found[KindPrivilegedHolder] = found[KindPrivilegedHolder] || len(in.PrivilegedHolders) > 0
		found[KindDisabledAssigned] = found[KindDisabledAssigned] || len(in.DisabledSetsAssigned) > 0
		found[KindExpiredAssignment] = found[KindExpiredAssignment] || len(in.ExpiredAssignments) > 0
		found[KindExpiringSoon] = found[KindExpiringSoon] || len(in.ExpiringAssignments) > 0
		found[KindIneffective] = found[KindIneffective] || len(in.IneffectivePermissions) > 0
		found[KindSuspendedHolder] = found[KindSuspendedHolder] || len(in.SuspendedHolders) > 0
		found[KindEmptyRole] = found[KindEmptyRole] || len(in.EmptyRoles) > 0
		found[KindUnassignedSet] = found[KindUnassignedSet] || len(in.UnassignedSets) > 0
		for _, s := range in.Sets {
			found[KindHolding] = found[KindHolding] || len(s.Holders) > 0
		}
	}
	for _, k := range append(slices.Clone(FindingKinds), KindHolding, "separation-of-duties (exempt)", "privileged *=*", "privileged feature=*", "privileged *=action") {
		if !found[k] {
			t.Errorf("testdata/findings no longer gives a %s finding", k)
		}
	}
}

// TestWriteJSONMatchesEncoder: the streamed JSON is byte for byte what json.Encoder writes.
func TestWriteJSONMatchesEncoder(t *testing.T) {
	for _, dir := range []string{"testdata/findings", "../examples/nation"} {
		r, err := Compute(context.Background(), load(t, dir), Options{Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(&got, r); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: WriteJSON differs from json.Encoder:\n%s\nwant:\n%s", dir, got.String(), want.String())
		}
	}
	if err := WriteJSON(io.Discard, &Report{}); err != nil {
		t.Error(err)
	}
}
