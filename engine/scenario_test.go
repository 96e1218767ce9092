package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/testutil"
)

func compile(t testing.TB, dir string) (*engine.Bundle, *engine.Evaluator) {
	t.Helper()
	ctx := context.Background()
	res, err := config.LoadDir(ctx, dir, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("%s has problems: %v", dir, res.Problems)
	}
	b, err := engine.NewBundle(res.Model, "")
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.NewEvaluator(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	return b, e
}

// evalAt evaluates the query path on input with the clock at now (the zero time: the real
// clock), failing the test on an error.
func evalAt(t testing.TB, e *engine.Evaluator, path string, input any, now time.Time) any {
	t.Helper()
	v, err := e.Eval(context.Background(), path, input, engine.EvalOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// variants of the examples, made for one behaviour each.
var variants = map[string]func(t testing.TB) string{
	"nation":    func(t testing.TB) string { return "../examples/nation" },
	"portal":    func(t testing.TB) string { return "../examples/portal" },
	"api":       func(t testing.TB) string { return "../examples/api" },
	"workflows": func(t testing.TB) string { return "../examples/workflows" },
	"authzen":   func(t testing.TB) string { return "../examples/authzen" },
	// An API set without Settings, and an exporter without People export, given to devon.
	"nation-requirements": func(t testing.TB) string {
		dir := testutil.CopyTree(t, "../examples/nation")
		testutil.WriteFile(t, dir, "sets/campaign/extra.yaml", `apiVersion: permsets/v1
kind: PermissionSet
id: api-only
instances: [campaign]
name: API only
permissions: [api=read]
---
apiVersion: permsets/v1
kind: PermissionSet
id: exporter
instances: [campaign]
name: Exporter
permissions: [finances=read, finances=export]
---
apiVersion: permsets/v1
kind: PermissionSet
id: staffer-assigner
instances: [campaign]
name: Staffer assigner
permissions: ["permset=assign('staffer')"]
---
apiVersion: permsets/v1
kind: Assignment
id: devon-extra
instance: campaign
users: [devon]
permissionSets: [api-only, exporter, staffer-assigner]
`)
		return dir
	},
	// The finance set renamed: ids are the keys, names are for people.
	"nation-renamed": func(t testing.TB) string {
		dir := testutil.CopyTree(t, "../examples/nation")
		testutil.Replace(t, dir, "sets/campaign/finance.yaml", "name: Finance reporting", "name: Campaign finance (renamed)")
		return dir
	},
	// The disabled report-exports set, assigned to tom anyway.
	"portal-disabled": func(t testing.TB) string {
		dir := testutil.CopyTree(t, "../examples/portal")
		testutil.WriteFile(t, dir, "assignments/disabled.yaml", `apiVersion: permsets/v1
kind: Assignment
id: tom-exports
instance: a
users: [tom]
permissionSets: [report-exports]
`)
		return dir
	},
}

type scenario struct {
	note, example string
	input         map[string]any
	allow         bool
	reason        string   // a part of the decision's reason
	grants        []string // "set via", when given
	missing       []string
}

func in(user, instance, perm string, extra ...any) map[string]any {
	m := map[string]any{"user": user, "instance": instance}
	if perm != "" {
		m["permission"] = perm
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func res(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// scenarios read like the products we model. Each is also asked of stock OPA.
var scenarios = []scenario{
	// nation: the campaign platform's control panel
	{note: "a staffer has no Settings access", example: "nation", input: in("devon", "hq", "settings=read"), reason: "devon holds no set on hq that grants settings=read"},
	{note: "a staffer cannot manage control panel users", example: "nation", input: in("devon", "campaign", "users=manage"), reason: "holds no set on campaign that grants users=manage"},
	{note: "API access without Settings is not effective", example: "nation-requirements", input: in("devon", "campaign", "api=read"), reason: "api=read on campaign requires settings=read, which devon does not hold", grants: []string{"api-only direct"}, missing: []string{"settings=read"}},
	{note: "finance export with Finances and People export", example: "nation", input: in("alice", "campaign", "finances=export"), allow: true, reason: "alice may finances=export on campaign through set finance (direct)", grants: []string{"finance direct"}},
	{note: "finance export without People export is not effective", example: "nation-requirements", input: in("devon", "campaign", "finances=export"), reason: "requires people=export", grants: []string{"exporter direct"}, missing: []string{"people=export"}},
	{note: "a finance set assigned on campaign grants nothing on hq", example: "nation", input: in("alice", "hq", "finances=export"), reason: "alice holds no set on hq that grants finances=export"},
	{note: "People assigned: point person sees the profile", example: "nation", input: in("sam", "campaign", "people=read", "resource", res("id", "p-1", "point_person", "sam")), allow: true, grants: []string{"field-organizer role:organizers", "staffer role:organizers"}},
	{note: "People assigned: path assignee (a list) sees the profile", example: "nation", input: in("sam", "campaign", "people=edit", "resource", res("id", "p-2", "path_assignee", []any{"lena", "sam"})), allow: true},
	{note: "People assigned: step assignee sees the profile", example: "nation", input: in("lena", "campaign", "people=read", "resource", res("id", "p-3", "step_assignee", "lena")), allow: true},
	{note: "People assigned: not assigned, not seen", example: "nation", input: in("sam", "campaign", "people=read", "resource", res("id", "p-4", "point_person", "lena", "path_assignee", []any{"kwame"})), reason: "only for some resources"},
	{note: "People assigned: without a resource, only unscoped grants count", example: "nation", input: in("sam", "campaign", "people=read"), reason: "only for some resources"},
	// authzen: relation fields name users by id, login or email (the AuthZEN todo interop's
	// ownerID holds an email)
	{note: "a relation field names the user by email, ignoring case", example: "authzen", input: in("alice", "records", "record=write", "resource", res("id", "record-9", "owner", "ALICE@records.example")), allow: true, grants: []string{"record-editor direct"}},
	{note: "a relation field names the user by login, in a list", example: "authzen", input: in("alice", "records", "record=write", "resource", res("id", "record-9", "owner", []any{"x", "alice-r"})), allow: true},
	{note: "another user's email names not the user", example: "authzen", input: in("alice", "records", "record=write", "resource", res("id", "record-9", "owner", "bob@records.example")), reason: "only for some resources"},
	{note: "People everyone: sees any profile", example: "nation", input: in("alice", "campaign", "people=read", "resource", res("id", "p-5", "point_person", "lena")), allow: true},
	{note: "admin sees everything: no visibility limit", example: "nation", input: in("maria", "campaign", "people=delete", "resource", res("id", "p-6", "point_person", "lena")), allow: true, grants: []string{"admin direct"}},
	{note: "admin has Settings", example: "nation", input: in("maria", "hq", "settings=edit"), allow: true},
	{note: "a permission the catalog does not know is false even for admin", example: "nation", input: in("maria", "hq", "people=fly"), reason: "the catalog has no permission people=fly"},
	{note: "a suspended user is allowed nothing", example: "nation", input: in("quinn", "campaign", "people=read", "resource", res("id", "p-7", "point_person", "quinn")), reason: "quinn is suspended"},
	{note: "an unknown user holds nothing", example: "nation", input: in("mallory", "campaign", "people=read"), reason: "mallory holds no set on campaign"},
	{note: "an unknown instance allows nothing", example: "nation", input: in("maria", "mars", "people=read"), reason: `unknown instance "mars"`},
	{note: "an unexpired assignment grants", example: "nation", input: in("kwame", "campaign", "people=edit", "resource", res("id", "p-8", "point_person", "kwame"), "time", "2026-12-01T00:00:00Z"), allow: true, grants: []string{"field-organizer direct"}},
	{note: "an assignment grants one nanosecond before expires", example: "nation", input: in("kwame", "campaign", "people=edit", "resource", res("id", "p-8", "point_person", "kwame"), "time", "2027-01-31T23:59:58.999999999Z"), allow: true, grants: []string{"field-organizer direct"}},
	{note: "an assignment grants nothing at exactly expires", example: "nation", input: in("kwame", "campaign", "people=edit", "resource", res("id", "p-8", "point_person", "kwame"), "time", "2027-01-31T23:59:59Z"), reason: "kwame holds sets on campaign, but none is enabled and unexpired"},
	{note: "an expired assignment grants nothing", example: "nation", input: in("kwame", "campaign", "people=edit", "resource", res("id", "p-8", "point_person", "kwame"), "time", "2027-02-01T00:00:00Z"), reason: "kwame holds sets on campaign, but none is enabled and unexpired"},
	{note: "a renamed set keeps its assignments", example: "nation-renamed", input: in("alice", "campaign", "finances=export"), allow: true, grants: []string{"finance direct"}},
	{note: "systemAdmin grants nothing by itself", example: "workflows", input: in("ibrahim", "acme", "incidents=log"), reason: "ibrahim holds no set on acme"},
	// portal: feature=action per instance
	{note: "a set assigned on A works on A", example: "portal", input: in("tom", "a", "scripts=run"), allow: true, grants: []string{"execute-scripts direct"}},
	{note: "a set assigned on A grants nothing on B", example: "portal", input: in("tom", "b", "scripts=run"), reason: "tom holds no set on b that grants scripts=run"},
	{note: "role members hold the role's sets on A", example: "portal", input: in("lucas", "a", "reports=read"), allow: true, grants: []string{"read-reports role:analysts"}},
	{note: "role members hold the role's sets on B", example: "portal", input: in("emma", "b", "dashboards=read"), allow: true, grants: []string{"read-reports role:analysts"}},
	{note: "a disabled set grants nothing although still assigned", example: "portal-disabled", input: in("tom", "a", "reports=export"), reason: "tom holds no set on a that grants reports=export"},
	{note: "a delegated admin may assign the sets named", example: "portal", input: in("nadia", "a", "permset=assign", "resource", res("id", "read-reports")), allow: true},
	{note: "a delegated admin may not assign other sets", example: "portal", input: in("nadia", "a", "permset=assign", "resource", res("id", "admin")), reason: "only for some resources"},
	// api: permissions mapped to endpoints
	{note: "DELETE /users/42 with users=delete", example: "api", input: in("amelia", "production", "", "method", "DELETE", "path", "/users/42"), allow: true, grants: []string{"data-deletion direct"}},
	{note: "DELETE /users/42 without users=delete", example: "api", input: in("marco", "production", "", "method", "DELETE", "path", "/users/42"), reason: "DELETE /users/42 needs users=delete"},
	{note: "GET /users/42 with users=read", example: "api", input: in("marco", "production", "", "method", "GET", "path", "/users/42"), allow: true},
	{note: "a {param} matches one segment only", example: "api", input: in("marco", "production", "", "method", "GET", "path", "/users/42/extra/segments"), reason: "mapped to no permission"},
	{note: "an unmapped route is denied", example: "api", input: in("marco", "production", "", "method", "GET", "path", "/internal/metrics"), reason: "only holders of *=* may call it"},
	{note: "an unmapped route is allowed to *=*", example: "api", input: in("hannah", "production", "", "method", "GET", "path", "/internal/metrics"), allow: true, grants: []string{"full-access direct"}},
	{note: "role members call what their set maps", example: "api", input: in("sofia", "production", "", "method", "GET", "path", "/jobs/9"), allow: true},
	{note: "a {param} does not match a dot segment", example: "api", input: in("amelia", "production", "", "method", "DELETE", "path", "/users/1/connections/.."), reason: "path /users/1/connections/.. is not normalised: dot or empty segment"},
	{note: "a {param} does not match an encoded dot segment", example: "api", input: in("amelia", "production", "", "method", "DELETE", "path", "/users/1/connections/%2E%2e"), reason: "is not normalised: dot or empty segment"},
	{note: "a dot segment is denied to *=* too", example: "api", input: in("hannah", "production", "", "method", "DELETE", "path", "/users/1/connections/.."), reason: "is not normalised: dot or empty segment"},
	{note: "an empty segment is denied", example: "api", input: in("marco", "production", "", "method", "GET", "path", "/users//connections"), reason: "path /users//connections is not normalised"},
	{note: "a trailing slash is an empty segment", example: "api", input: in("marco", "production", "", "method", "GET", "path", "/users/42/"), reason: "path /users/42/ is not normalised"},
}

func TestScenarios(t *testing.T) {
	evaluators := map[string]*engine.Evaluator{}
	for _, sc := range scenarios {
		t.Run(sc.note, func(t *testing.T) {
			e := evaluators[sc.example]
			if e == nil {
				_, e = compile(t, variants[sc.example](t))
				evaluators[sc.example] = e
			}
			allow := evalAt(t, e, "allow", sc.input, time.Time{})
			d := evalAt(t, e, "decision", sc.input, time.Time{}).(map[string]any)
			if allow != sc.allow || d["allow"] != sc.allow {
				t.Errorf("allow = %v, decision.allow = %v, want %v (%v)", allow, d["allow"], sc.allow, d["reason"])
			}
			if !strings.Contains(d["reason"].(string), sc.reason) {
				t.Errorf("reason %q does not say %q", d["reason"], sc.reason)
			}
			if sc.grants != nil {
				var got []string
				for _, g := range d["grants"].([]any) {
					m := g.(map[string]any)
					got = append(got, m["set"].(string)+" "+m["via"].(string))
				}
				if !reflect.DeepEqual(got, sc.grants) {
					t.Errorf("grants = %v, want %v", got, sc.grants)
				}
			}
			if sc.missing != nil && !reflect.DeepEqual(fmtList(d["missing"]), sc.missing) {
				t.Errorf("missing = %v, want %v", d["missing"], sc.missing)
			}
		})
	}
}

func fmtList(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestListings(t *testing.T) {
	eval := func(example, path string, input map[string]any) any {
		t.Helper()
		_, e := compile(t, variants[example](t))
		out, _ := json.Marshal(evalAt(t, e, path, input, time.Time{}))
		return string(out)
	}
	for _, tc := range []struct {
		note, example, path string
		input               map[string]any
		want                string
	}{
		{"permset=assign('staffer') makes staffer manageable and nothing else", "nation-requirements", "manageable_sets", in("devon", "campaign", ""), `["staffer"]`},
		{"a delegated admin manages the sets named", "portal", "manageable_sets", in("nadia", "a", ""), `["execute-scripts","read-reports"]`},
		{"admin manages every set of the instance", "portal", "manageable_sets", in("olivia", "b", ""), `["admin","execute-scripts","read-reports","script-authors"]`},
		{"a staffer manages nothing", "nation", "manageable_sets", in("devon", "campaign", ""), `[]`},
		{"API without Settings is not effective", "nation-requirements", "effective", in("devon", "campaign", ""),
			`{"permissions":["communications=edit","communications=read","finances=read","people=edit(assigned)","people=read(assigned)","permset=assign('staffer')","website=edit","website=read"],"sets":["api-only","exporter","staffer","staffer-assigner"]}`},
		{"a suspended user has nothing effective", "nation", "effective", in("quinn", "campaign", ""), `{"permissions":[],"sets":[]}`},
		{"who can export finances", "nation", "who_can", map[string]any{"instance": "campaign", "permission": "finances=export"},
			`[{"grants":[{"set":"finance","via":"direct"}],"user":"alice"},{"grants":[{"set":"admin","via":"direct"}],"user":"maria"}]`},
		{"who can read a profile assigned to sam", "nation", "who_can", map[string]any{"instance": "campaign", "permission": "people=read", "resource": res("id", "p1", "point_person", "sam")},
			`[{"grants":[{"set":"finance","via":"direct"}],"user":"alice"},{"grants":[{"set":"communications","via":"direct"}],"user":"jordan"},{"grants":[{"set":"admin","via":"direct"}],"user":"maria"},{"grants":[{"set":"volunteer-coordinator","via":"direct"}],"user":"priya"},{"grants":[{"set":"field-organizer","via":"role:organizers"},{"set":"staffer","via":"role:organizers"}],"user":"sam"},{"grants":[{"set":"bookkeeper","via":"direct"}],"user":"tomas"}]`},
	} {
		t.Run(tc.note, func(t *testing.T) {
			if got := eval(tc.example, tc.path, tc.input); got != tc.want {
				t.Errorf("%s\n got %s\nwant %s", tc.path, got, tc.want)
			}
		})
	}
}

// TestStockOPACompatibility: `opa eval --bundle` over the bundle permsctl build writes gives the
// same allow and decision as the engine, for every scenario.
func TestStockOPACompatibility(t *testing.T) {
	opa := testutil.StockOPA(t)
	ctx := context.Background()
	byExample := map[string][]scenario{}
	for _, sc := range scenarios {
		byExample[sc.example] = append(byExample[sc.example], sc)
	}
	for example, scs := range byExample {
		t.Run(example, func(t *testing.T) {
			b, e := compile(t, variants[example](t))
			bundlePath := filepath.Join(t.TempDir(), "bundle.tar.gz")
			f, err := os.Create(bundlePath)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.WriteTarGz(f); err != nil {
				t.Fatal(err)
			}
			f.Close()
			var inputs []any
			for _, sc := range scs {
				inputs = append(inputs, sc.input)
			}
			stdin, _ := json.Marshal(map[string]any{"cases": inputs})
			ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, opa, "eval", "--bundle", bundlePath, "--stdin-input", "--format", "raw",
				`[[a, d] | some c in input.cases; a := data.permsets.allow with input as c; d := data.permsets.decision with input as c]`)
			cmd.Stdin = bytes.NewReader(stdin)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("opa eval: %v\n%s", err, out)
			}
			var got [][2]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("opa eval output: %v\n%s", err, out)
			}
			if len(got) != len(scs) {
				t.Fatalf("opa answered %d cases of %d", len(got), len(scs))
			}
			for i, sc := range scs {
				allow, _ := e.Eval(ctx, "allow", sc.input, engine.EvalOptions{})
				d, _ := e.Eval(ctx, "decision", sc.input, engine.EvalOptions{})
				want, _ := json.Marshal([2]any{allow, d})
				have, _ := json.Marshal(got[i])
				if string(want) != string(have) {
					t.Errorf("%s:\n engine %s\n opa    %s", sc.note, want, have)
				}
			}
		})
	}
}

// TestResolveUser: a name is a user by login, by email ignoring case, or as an id; a name that
// is one user's id and another's login is refused.
func TestResolveUser(t *testing.T) {
	dir := testutil.CopyTree(t, "../examples/authzen")
	testutil.WriteFile(t, dir, "users/carol.yaml", `apiVersion: permsets/v1
kind: User
id: carol
logins: [bob, carol-r]
emails: [alice-r]
`)
	b, _ := compile(t, dir)
	for _, tc := range []struct{ note, name, want string }{
		{"an id", "alice", "alice"},
		{"a login", "carol-r", "carol"},
		{"an email, ignoring case", "BOB@records.EXAMPLE", "bob"},
		{"an unknown name is an id", "zed", "zed"},
		{"one's id, another's login", "bob", ""},
		{"one's login, another's email", "alice-r", ""},
	} {
		got, err := b.ResolveUser(tc.name)
		if got != tc.want || (tc.want == "") != errors.Is(err, engine.ErrAmbiguousUser) {
			t.Errorf("%s: ResolveUser(%q) = %q, %v; want %q", tc.note, tc.name, got, err, tc.want)
		}
	}
}
