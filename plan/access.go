package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/parallel"
	"github.com/permsets/permsets/internal/sorted"
)

// compiled are the indexes the access diff compiled of the two sides, for the change rules to
// read the sets' grants from (sideDocument) rather than compile them again: a side's catalog,
// instances and sets are whole in it (only holdings are reduced). Nil for a side not compiled
// (an empty side, nothing to evaluate, a head that does not compile).
type compiled struct {
	before, after *engine.Index
}

// accessDiff computes, for every user a change can affect, the permissions gained and lost on
// each instance: the keys of data.permsets.access (the decision rules' effective permissions,
// with the sets that give them) before and after. Only affected users are evaluated, over models
// reduced to their holdings, so a small change in a large repository stays small.
func accessDiff(ctx context.Context, before, after *config.Model, changes []config.Change, headInvalid bool) ([]AccessChange, string, compiled, error) {
	var idx compiled
	users, all := affectedUsers(before, after, changes)
	if !all && len(users) == 0 {
		return []AccessChange{}, "", idx, nil
	}
	evBefore, idxBefore, err := reducedEvaluator(ctx, before, users, all)
	if err != nil {
		return nil, "", idx, fmt.Errorf("base: %w", err)
	}
	idx.before = idxBefore
	evAfter, idxAfter, err := reducedEvaluator(ctx, after, users, all)
	if err != nil {
		if headInvalid {
			return []AccessChange{}, fmt.Sprintf("the access diff is left out: the head does not compile (%v)", err), idx, nil
		}
		return nil, "", idx, fmt.Errorf("head: %w", err)
	}
	idx.after = idxAfter
	// Only the (user, instance) pairs whose holdings differ are evaluated: same sets, same ways,
	// same expiry and the same set contents give the same access (with the same catalog).
	sigBefore, sigAfter := holdingSignatures(before, users, all), holdingSignatures(after, users, all)
	var keys []string
	for _, k := range sorted.Keys(unionOf(sigBefore, sigAfter)) {
		if all || sigBefore[k] != sigAfter[k] {
			keys = append(keys, k)
		}
	}
	superBefore, superAfter := superuserSets(before), superuserSets(after)
	out := make([]*AccessChange, len(keys))
	errs := make([]error, len(keys))
	if err := parallel.Each(ctx, len(keys), 0, func(i int) {
		user, instance, _ := strings.Cut(keys[i], "\x00")
		out[i], errs[i] = diffOne(ctx, evBefore, evAfter, user, instance, superBefore, superAfter)
	}); err != nil {
		return nil, "", idx, err
	}
	result := []AccessChange{}
	for i, a := range out {
		if errs[i] != nil {
			return nil, "", idx, errs[i]
		}
		if a != nil {
			result = append(result, *a)
		}
	}
	return result, "", idx, nil
}

// diffOne compares one user's access on one instance; nil when nothing is gained or lost.
func diffOne(ctx context.Context, evBefore, evAfter *engine.Evaluator, user, instance string, superBefore, superAfter map[string]bool) (*AccessChange, error) {
	b, err := accessOf(ctx, evBefore, user, instance)
	if err != nil {
		return nil, err
	}
	a, err := accessOf(ctx, evAfter, user, instance)
	if err != nil {
		return nil, err
	}
	c := &AccessChange{User: user, Instance: instance, BeforeKeys: keysOf(b), AfterKeys: keysOf(a)}
	for _, p := range sorted.Keys(a) {
		if _, ok := b[p]; !ok {
			c.Gained = append(c.Gained, Access{Permission: p, Grants: a[p]})
		}
		for _, g := range a[p] {
			c.SuperuserAfter = c.SuperuserAfter || superAfter[g.Set]
		}
	}
	for _, p := range sorted.Keys(b) {
		if _, ok := a[p]; !ok {
			c.Lost = append(c.Lost, Access{Permission: p, Grants: b[p]})
		}
	}
	if len(c.Gained) == 0 && len(c.Lost) == 0 {
		return nil, nil
	}
	return c, nil
}

// accessOf evaluates data.permsets.access; a nil evaluator (an empty side) grants nothing.
func accessOf(ctx context.Context, e *engine.Evaluator, user, instance string) (map[string][]Grant, error) {
	out := map[string][]Grant{}
	if e == nil {
		return out, nil
	}
	v, err := e.Eval(ctx, "access", map[string]any{"user": user, "instance": instance}, engine.EvalOptions{})
	if err != nil {
		return nil, fmt.Errorf("access of %s on %s: %w", user, instance, err)
	}
	m, _ := v.(map[string]any)
	for p, gs := range m {
		list, _ := gs.([]any)
		grants := make([]Grant, 0, len(list))
		for _, g := range list {
			gm, _ := g.(map[string]any)
			s, _ := gm["set"].(string)
			via, _ := gm["via"].(string)
			grants = append(grants, Grant{Set: s, Via: via})
		}
		out[p] = grants
	}
	return out, nil
}

// keysOf lists the feature=action keys of granted permissions (arguments dropped).
func keysOf(access map[string][]Grant) []string {
	keys := map[string]bool{}
	for p := range access {
		k, _, _ := strings.Cut(p, "(")
		keys[k] = true
	}
	return sorted.Keys(keys)
}

// affectedUsers lists the users whose access a change can touch, field by field: holders of
// sets whose grants changed, the users added to or removed from an assignment or role (all of
// its users when what it gives changed), changed users. A catalog change to what permissions
// exist or imply can touch everyone (all); descriptions, endpoints and separation rules cannot.
func affectedUsers(before, after *config.Model, changes []config.Change) (map[string]bool, bool) {
	users := map[string]bool{}
	grantsChanged := map[string]bool{} // sets
	whole := map[string]map[string]bool{config.KindAssignment: {}, config.KindRole: {}}
	for _, c := range changes {
		switch c.Kind {
		case config.KindCatalog:
			if c.Action != config.ActionChange || slices.ContainsFunc(c.Fields, catalogFieldAffectsAccess) {
				return nil, true
			}
		case config.KindPermissionSet:
			if c.Action != config.ActionChange || slices.ContainsFunc(c.Fields, func(f config.FieldChange) bool {
				return !slices.Contains([]string{"name", "description", "builtin", "fixed"}, f.Field)
			}) {
				grantsChanged[c.ID] = true
			}
		case config.KindUser:
			users[c.ID] = true
		case config.KindAssignment, config.KindRole:
			members := "users"
			if c.Kind == config.KindRole {
				members = "members"
			}
			for _, f := range c.Fields {
				switch f.Field {
				case members:
					addAll(users, symmetricDifference(f.Old, f.New))
				case "name", "description", "reason":
				default:
					whole[c.Kind][c.ID] = true
				}
			}
			if c.Action != config.ActionChange {
				whole[c.Kind][c.ID] = true
			}
		}
	}
	for _, m := range []*config.Model{before, after} {
		if m == nil {
			continue
		}
		for _, a := range m.Assignments {
			if whole[config.KindAssignment][a.ID] || anyOf(a.PermissionSets, grantsChanged) {
				addAll(users, a.Users)
			}
		}
		for _, r := range m.Roles {
			if whole[config.KindRole][r.ID] || anyRef(r.PermissionSets, grantsChanged) {
				addAll(users, r.Members)
			}
		}
	}
	return users, false
}

// catalogFieldAffectsAccess: descriptions, endpoints and separation rules change no one's
// effective permissions; features, scopes, requires and implies can.
func catalogFieldAffectsAccess(f config.FieldChange) bool {
	switch {
	case strings.HasPrefix(f.Field, "endpoints"), f.Field == "separationOfDuties":
		return false
	case strings.HasPrefix(f.Field, "features.") && strings.HasSuffix(f.Field, ".description"):
		return false
	}
	return true
}

// symmetricDifference lists the strings in one JSON list and not the other.
func symmetricDifference(old, new any) []string {
	in := func(v any) map[string]bool {
		out := map[string]bool{}
		list, _ := v.([]any)
		for _, x := range list {
			if s, ok := x.(string); ok {
				out[s] = true
			}
		}
		return out
	}
	a, b := in(old), in(new)
	var out []string
	for x := range a {
		if !b[x] {
			out = append(out, x)
		}
	}
	for x := range b {
		if !a[x] {
			out = append(out, x)
		}
	}
	return out
}

func anyOf(ids []string, set map[string]bool) bool {
	for _, id := range ids {
		if set[id] {
			return true
		}
	}
	return false
}

// anyRef reports whether a role's "instance/set" references name a set of the set.
func anyRef(refs []string, set map[string]bool) bool {
	for _, ref := range refs {
		if _, s, _ := strings.Cut(ref, "/"); set[s] {
			return true
		}
	}
	return false
}

func addAll(set map[string]bool, xs []string) {
	for _, x := range xs {
		set[x] = true
	}
}

// reducedEvaluator compiles the model cut down to the holdings of the given users (every
// holding when all), and returns the index compiled with it; nil for an empty model.
func reducedEvaluator(ctx context.Context, m *config.Model, users map[string]bool, all bool) (*engine.Evaluator, *engine.Index, error) {
	if m == nil {
		return nil, nil, nil
	}
	r := m
	if !all {
		r = m.Reduced(users, nil)
	}
	b, idx, err := engine.NewBundleAndIndex(r, "")
	if err != nil {
		return nil, nil, err
	}
	ev, err := engine.NewEvaluator(ctx, b)
	if err != nil {
		return nil, nil, err
	}
	return ev, idx, nil
}

// holdingSignatures describes, for "user\x00instance", everything the decision rules read of
// the user's holdings there: each set held with how and until when, the set's grants and
// whether it is enabled there, and whether the user is suspended. Only the given users (every
// user when all).
func holdingSignatures(m *config.Model, users map[string]bool, all bool) map[string]string {
	out := map[string]string{}
	if m == nil {
		return out
	}
	setSig := map[string]string{}
	for _, s := range m.Sets {
		setSig[s.ID] = fmt.Sprintf("%t|%s|%s", s.Enabled, strings.Join(s.Instances, ","), strings.Join(s.Permissions, ","))
	}
	suspended := map[string]bool{}
	for _, u := range m.Users {
		suspended[u.ID] = u.Suspended
	}
	entries := map[string][]string{}
	add := func(user, instance, set, via, expires string) {
		if !all && !users[user] {
			return
		}
		k := user + "\x00" + instance
		entries[k] = append(entries[k], strings.Join([]string{set, via, expires, setSig[set]}, "\x01"))
	}
	for _, a := range m.Assignments {
		exp := ""
		if a.Expires != nil {
			exp = a.Expires.String()
		}
		for _, u := range a.Users {
			for _, s := range a.PermissionSets {
				add(u, a.Instance, s, engine.ViaDirect, exp)
			}
		}
	}
	for _, r := range m.Roles {
		for _, ref := range r.PermissionSets {
			inst, s, _ := strings.Cut(ref, "/")
			for _, u := range r.Members {
				add(u, inst, s, engine.ViaRolePrefix+r.ID, "")
			}
		}
	}
	for k, es := range entries {
		slices.Sort(es)
		user, _, _ := strings.Cut(k, "\x00")
		out[k] = fmt.Sprintf("%t\x02%s", suspended[user], strings.Join(es, "\x02"))
	}
	return out
}

func unionOf(a, b map[string]string) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// superuserSets lists the sets that grant *=*.
func superuserSets(m *config.Model) map[string]bool {
	out := map[string]bool{}
	if m == nil {
		return out
	}
	for _, s := range m.Sets {
		if slices.ContainsFunc(s.Parsed, func(p config.Permission) bool {
			return p.Feature == config.Wildcard && p.Action == config.Wildcard
		}) {
			out[s.ID] = true
		}
	}
	return out
}
