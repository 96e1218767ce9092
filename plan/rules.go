package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
)

// DataRoot is where the rules find the two models: data.permsets_plan.
const DataRoot = "permsets_plan"

// judge evaluates the change rules (package permsets.plan) over the two models and the plan;
// idx are the sides' indexes the access diff compiled, when it did.
func judge(ctx context.Context, base, head *Revision, p *Plan, actor *Actor, now time.Time, idx compiled) (deny, warn []Finding, err error) {
	before, after, problems := base.Model, head.Model, head.Problems
	touched := map[string]bool{}
	for _, c := range p.Changes {
		if c.Kind == config.KindPermissionSet {
			touched[c.ID] = true
		}
	}
	beforeSide, err := sideDocument(before, touched, idx.before)
	if err != nil {
		return nil, nil, fmt.Errorf("base: %w", err)
	}
	afterSide, err := sideDocument(after, touched, idx.after)
	if err != nil {
		return nil, nil, fmt.Errorf("head: %w", err)
	}
	data := map[string]any{"now_ns": now.UnixNano(), "before": beforeSide, "after": afterSide}
	input, err := ruleInput(before, after, p, problems, actor)
	if err != nil {
		return nil, nil, err
	}
	compiler, err := planCompiler()
	if err != nil {
		return nil, nil, err
	}
	doc, err := roundTrip(data)
	if err != nil {
		return nil, nil, err
	}
	store := inmem.NewFromObjectWithOpts(map[string]any{DataRoot: doc}, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	in, err := roundTrip(input)
	if err != nil {
		return nil, nil, err
	}
	inputValue, err := ast.InterfaceToValue(in)
	if err != nil {
		return nil, nil, err
	}
	for _, rule := range []string{"deny", "warn"} {
		q, err := engine.Prepare(ctx, planRules.Append(ast.StringTerm(rule)), engine.QueryOptions{Compiler: compiler, Store: store})
		if err != nil {
			return nil, nil, fmt.Errorf("change rules: %w", err)
		}
		v, err := q.Eval(ctx, inputValue, now)
		if err != nil {
			return nil, nil, fmt.Errorf("change rules: %w", err)
		}
		var found []Finding
		if v != nil {
			raw, err := json.Marshal(v)
			if err != nil {
				return nil, nil, err
			}
			if err := json.Unmarshal(raw, &found); err != nil {
				return nil, nil, fmt.Errorf("change rules: %s is not a set of findings: %w", rule, err)
			}
		}
		if found == nil {
			found = []Finding{}
		}
		if rule == "deny" {
			deny = found
		} else {
			warn = found
		}
	}
	// The custom rules of both revisions apply, each compiled on its own (in a process of its
	// own, under limits: customproc.go): a change cannot delete (or rewrite) the rule it breaks.
	for _, side := range []struct {
		rev   *Revision
		label string
	}{{base, "base " + base.Ref}, {head, "head"}} {
		if side.rev.FS == nil {
			continue
		}
		d, w, err := judgeCustom(ctx, side.rev.FS, side.label, doc, inputValue)
		if err != nil {
			return nil, nil, err
		}
		deny, warn = append(deny, d...), append(warn, w...)
	}
	return uniqueFindings(deny), uniqueFindings(warn), nil
}

// planRules is the package of the change rules' entry points, deny and warn.
var planRules = ast.MustParseRef("data.permsets.plan")

// planCompiler compiles the embedded change rules (engine.PlanModules) once per process: every
// plan evaluates the same rules, so only its query is compiled per plan.
var planCompiler = sync.OnceValues(func() (*ast.Compiler, error) {
	mods, err := engine.PlanModules()
	if err != nil {
		return nil, err
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("no change rules are embedded (%s)", engine.PlanPolicyDir)
	}
	parsed := make(map[string]*ast.Module, len(mods))
	for _, m := range mods {
		if parsed[m.Path], err = ast.ParseModuleWithOpts(m.Path, string(m.Raw), ast.ParserOptions{RegoVersion: ast.RegoV1}); err != nil {
			return nil, fmt.Errorf("change rules: %w", err)
		}
	}
	c := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1).WithEnablePrintStatements(false).WithUseTypeCheckAnnotations(true)
	if c.Compile(parsed); c.Failed() {
		return nil, fmt.Errorf("change rules: %w", c.Errors)
	}
	return c, nil
})

// roundTrip turns Go values into plain JSON values (maps, slices, json numbers).
func roundTrip(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.UseNumber()
	return out, d.Decode(&out)
}

// ruleInput is the rules' input: the changes with the objects they concern, the access
// changes, and the head's problems.
func ruleInput(before, after *config.Model, p *Plan, problems []config.Problem, actor *Actor) (map[string]any, error) {
	objects := func(m *config.Model) map[string]map[string]any {
		out := map[string]map[string]any{}
		if m == nil {
			return out
		}
		add := func(kind, id string, v any) {
			if out[kind] == nil {
				out[kind] = map[string]any{}
			}
			out[kind][id] = v
		}
		for _, x := range m.Sets {
			add(config.KindPermissionSet, x.ID, x)
		}
		for _, x := range m.Roles {
			add(config.KindRole, x.ID, x)
		}
		for _, x := range m.Assignments {
			add(config.KindAssignment, x.ID, x)
		}
		for _, x := range m.Instances {
			add(config.KindInstance, x.ID, x)
		}
		for _, x := range m.Users {
			add(config.KindUser, x.ID, x)
		}
		if m.Catalog != nil {
			add(config.KindCatalog, "catalog", m.Catalog)
		}
		if m.Repository != nil {
			add(config.KindRepository, "repository", m.Repository)
		}
		return out
	}
	ob, oa := objects(before), objects(after)
	changes := make([]map[string]any, 0, len(p.Changes))
	for _, c := range p.Changes {
		raw, err := roundTrip(c)
		if err != nil {
			return nil, err
		}
		m := raw.(map[string]any)
		if v, ok := ob[c.Kind][c.ID]; ok {
			m["before_object"] = v
		}
		if v, ok := oa[c.Kind][c.ID]; ok {
			m["after_object"] = v
		}
		changes = append(changes, m)
	}
	probs := make([]map[string]any, 0, len(problems))
	for _, pr := range problems {
		e := map[string]any{"file": pr.File, "line": pr.Line, "column": pr.Col, "code": pr.Code, "message": pr.Message}
		if id, ok := strings.CutPrefix(pr.Object, config.ObjectRef(config.KindPermissionSet, "")); ok && pr.Code == config.CodeUnknownSet {
			e["set"] = id
		}
		probs = append(probs, e)
	}
	// Gained permissions go in parsed as well, for the escalation rule's coverage check.
	access := make([]map[string]any, 0, len(p.Access))
	for _, a := range p.Access {
		raw, err := roundTrip(a)
		if err != nil {
			return nil, err
		}
		m := raw.(map[string]any)
		gained := []any{}
		for _, g := range a.Gained {
			gained = append(gained, map[string]any{"permission": g.Permission, "grants": g.Grants, "parsed": parseGrant(g.Permission)})
		}
		m["gained"] = gained
		if _, ok := m["lost"]; !ok {
			m["lost"] = []any{}
		}
		access = append(access, m)
	}
	var actorDoc any
	if actor != nil {
		actorDoc = actor
	}
	return map[string]any{"changes": changes, "access_changes": access, "problems": probs, "actor": actorDoc}, nil
}

// sideDocument is one model as the rules read it (docs/plan.md): instances, sets with what they
// grant, the catalog's separation rules and requirements, lint thresholds, which sets are
// assigned, and who references the touched sets. idx is the model's index when the access diff
// compiled it (its catalog and sets are the model's whole); nil to compile what is needed here.
func sideDocument(m *config.Model, touched map[string]bool, idx *engine.Index) (map[string]any, error) {
	side := map[string]any{
		"present":    m != nil,
		"catalog":    nil,
		"repository": map[string]any{"expiringWithinNs": config.DefaultExpiringWithin.Nanoseconds(), "setIdPattern": "", "setNamePattern": ""},
		"instances":  map[string]any{},
		"sets":       map[string]any{},
		"assigned":   map[string]any{},
		"references": map[string]any{},
	}
	if m == nil {
		return side, nil
	}
	// The sets' grants after wildcards and implies, from the engine's compilation: the access
	// diff's, else one of the catalog and sets alone (holdings are not needed for that).
	// An invalid head may not compile (a set on an unknown instance): its problems deny the plan
	// anyway, and the rules go without the expanded grants.
	if idx == nil {
		var err error
		if idx, err = engine.Compile(&config.Model{Catalog: m.Catalog, Instances: m.Instances, Sets: m.Sets}); err != nil {
			idx = nil
		}
	}
	if c := m.Catalog; c != nil {
		src := config.Source{}
		if len(c.Sources) > 0 {
			src = c.Sources[0]
		}
		sod := []any{}
		for _, r := range c.SeparationOfDuties {
			sod = append(sod, map[string]any{"name": r.Name, "permissions": r.Permissions, "file": r.Source.File, "line": r.Source.Line})
		}
		requires := c.Requires
		if idx != nil && idx.HasCatalog() {
			requires = idx.Requires()
		}
		side["catalog"] = map[string]any{"file": src.File, "line": src.Line, "separationOfDuties": sod, "requires": requires}
	}
	if r := m.Repository; r != nil {
		side["repository"] = map[string]any{"expiringWithinNs": r.Lint.ExpiringWithin.Nanoseconds(), "setIdPattern": r.Lint.SetIDPattern, "setNamePattern": r.Lint.SetNamePattern}
	}
	instances := side["instances"].(map[string]any)
	for _, in := range m.Instances {
		e := map[string]any{"name": in.Name, "package": in.Package, "file": in.Source.File, "line": in.Source.Line}
		if in.Limits != nil {
			if in.Limits.MaxCustomSets != nil {
				e["maxCustomSets"] = *in.Limits.MaxCustomSets
			}
			if in.Limits.EditableSets != nil {
				e["editableSets"] = in.Limits.EditableSets
			}
		}
		instances[in.ID] = e
	}
	setsDoc := side["sets"].(map[string]any)
	for _, s := range m.Sets {
		grants := []string{}
		superuser := false
		if idx != nil {
			if info, ok := idx.Set(s.ID); ok {
				grants, superuser = info.Permissions, info.Superuser
			}
		}
		setsDoc[s.ID] = map[string]any{
			"name": s.Name, "instances": s.Instances, "enabled": s.Enabled, "builtin": s.Builtin, "fixed": s.Fixed,
			"permissions": s.Permissions, "grants": grants, "superuser": superuser, "file": s.Source.File, "line": s.Source.Line,
		}
	}
	assigned := side["assigned"].(map[string]any)
	refs := map[string][]map[string]any{}
	for _, a := range m.Assignments {
		for _, s := range a.PermissionSets {
			assigned[s] = true
			if touched[s] {
				refs[s] = append(refs[s], map[string]any{"kind": config.KindAssignment, "id": a.ID, "instance": a.Instance,
					"file": a.Source.File, "line": a.Source.Line, "users": a.Users})
			}
		}
	}
	for _, r := range m.Roles {
		for _, ref := range r.PermissionSets {
			inst, s, _ := strings.Cut(ref, "/")
			assigned[s] = true
			if touched[s] {
				refs[s] = append(refs[s], map[string]any{"kind": config.KindRole, "id": r.ID, "instance": inst,
					"file": r.Source.File, "line": r.Source.Line, "users": r.Members})
			}
		}
	}
	references := side["references"].(map[string]any)
	for s, list := range refs {
		references[s] = list
	}
	return side, nil
}
