package engine

import (
	"errors"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/sorted"
)

// identities are the names users are known by besides their ids: the logins and emails of User
// documents (docs/engine.md). A name is resolved to a user as ResolveUser says; a name that
// would resolve to more than one user (one user's id and another's login, a login and another
// user's email) is ambiguous and names nobody.
type identities struct {
	Logins    map[string]string `json:"logins"`    // login -> user id
	Emails    map[string]string `json:"emails"`    // lower-cased email -> user id
	Ambiguous map[string]bool   `json:"ambiguous"` // names of more than one user
}

// compileIdentities indexes the users' logins and emails. Validation already refuses a login or
// an email two users declare (emails ignoring case, a coarser equality than lower-casing); a name
// that is one user's id and another's login or email is valid config, and is listed as
// ambiguous.
func compileIdentities(users []*config.User) *identities {
	ids := &identities{Logins: map[string]string{}, Emails: map[string]string{}, Ambiguous: map[string]bool{}}
	declared := make(map[string]bool, len(users))
	for _, u := range users {
		declared[u.ID] = true
		for _, l := range u.Logins {
			ids.Logins[l] = u.ID
		}
		for _, e := range u.Emails {
			ids.Emails[strings.ToLower(e)] = u.ID
		}
	}
	// A name resolves through the ids, the logins (exactly) and the emails (lower-cased): it is
	// ambiguous when those name more than one user. A name that is neither an id nor a login
	// can only be an email, which one user holds.
	names := make([]string, 0, len(declared)+len(ids.Logins))
	names = append(names, sorted.Keys(declared)...)
	names = append(names, sorted.Keys(ids.Logins)...)
	for _, n := range names {
		var who []string
		if declared[n] {
			who = append(who, n)
		}
		if u, ok := ids.Logins[n]; ok {
			who = append(who, u)
		}
		if u, ok := ids.Emails[strings.ToLower(n)]; ok {
			who = append(who, u)
		}
		slices.Sort(who)
		if len(slices.Compact(who)) > 1 {
			ids.Ambiguous[n] = true
		}
	}
	return ids
}

func (ids *identities) value(t *terms) *ast.Term {
	str := func(s string) *ast.Term { return t.str(s) }
	return fields(t,
		"logins", object(t, ids.Logins, str),
		"emails", object(t, ids.Emails, str),
		"ambiguous", object(t, ids.Ambiguous, boolTerm))
}

// ErrAmbiguousUser is ResolveUser's error for a name that names more than one user.
var ErrAmbiguousUser = errors.New("names more than one user (one's id, login or email is another's)")

// ResolveUser is the user a name designates: the user whose login it is (exactly), else the
// user whose email it is (ignoring case, as strings.ToLower folds it), else the name itself as
// a user id. A name that is one user's id and another's login or email, or the login of one and
// the email of another, is refused with ErrAmbiguousUser: it names nobody.
func (b *Bundle) ResolveUser(name string) (string, error) {
	ids := objectField(b.index, "identities")
	if ids == nil {
		return name, nil
	}
	get := func(field, key string) (string, bool) {
		m := objectField(ids, field)
		if m == nil {
			return "", false
		}
		v := m.Get(ast.StringTerm(key))
		if v == nil {
			return "", false
		}
		s, ok := v.Value.(ast.String)
		return string(s), ok
	}
	if amb := objectField(ids, "ambiguous"); amb != nil && amb.Get(ast.StringTerm(name)) != nil {
		return "", ErrAmbiguousUser
	}
	if u, ok := get("logins", name); ok {
		return u, nil
	}
	if u, ok := get("emails", strings.ToLower(name)); ok {
		return u, nil
	}
	return name, nil
}

// Instances lists the ids of the bundle's instances, sorted.
func (b *Bundle) Instances() []string {
	obj := objectField(b.index, "instances")
	if obj == nil {
		return nil
	}
	out := make([]string, 0, obj.Len())
	obj.Foreach(func(k, _ *ast.Term) {
		if s, ok := k.Value.(ast.String); ok {
			out = append(out, string(s))
		}
	})
	slices.Sort(out)
	return out
}

// HasInstance reports whether the bundle has an instance of that id.
func (b *Bundle) HasInstance(id string) bool {
	obj := objectField(b.index, "instances")
	return obj != nil && obj.Get(ast.StringTerm(id)) != nil
}

// Actions lists the actions the catalog knows for a feature, sorted; ok is false without a
// catalog (every well-formed permission is then known).
func (b *Bundle) Actions(feature string) (actions []string, ok bool) {
	if b.known == nil {
		return nil, false
	}
	for p := range b.known {
		if f, a, _ := strings.Cut(p, "="); f == feature {
			actions = append(actions, a)
		}
	}
	slices.Sort(actions)
	return actions, true
}

// objectField is obj[key] when it is an object, else nil.
func objectField(obj ast.Object, key string) ast.Object {
	if obj == nil {
		return nil
	}
	t := obj.Get(ast.StringTerm(key))
	if t == nil {
		return nil
	}
	o, _ := t.Value.(ast.Object)
	return o
}

// InstanceSets lists the ids of the sets on an instance, sorted.
func (b *Bundle) InstanceSets(instance string) []string {
	inst := objectField(objectField(b.index, "instances"), instance)
	if inst == nil {
		return nil
	}
	t := inst.Get(ast.StringTerm("sets"))
	if t == nil {
		return nil
	}
	arr, _ := t.Value.(*ast.Array)
	if arr == nil {
		return nil
	}
	out := make([]string, 0, arr.Len())
	arr.Foreach(func(e *ast.Term) {
		if s, ok := e.Value.(ast.String); ok {
			out = append(out, string(s))
		}
	})
	slices.Sort(out)
	return out
}
