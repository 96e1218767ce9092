package config

import (
	"encoding/json"
	"reflect"
	"sort"
)

// Change actions.
const (
	ActionAdd    = "add"
	ActionChange = "change"
	ActionRemove = "remove"
)

// Change is one object added, changed or removed between two models, keyed by kind and id
// (the Catalog and the Repository are singletons with ids "catalog" and "repository").
type Change struct {
	Kind   string        `json:"kind"`
	ID     string        `json:"id"`
	Action string        `json:"action"`
	Fields []FieldChange `json:"fields,omitempty"` // for a change: what changed, field by field
	// Before and After are where the object is declared in each model (zero when absent).
	Before *Source `json:"before,omitempty"`
	After  *Source `json:"after,omitempty"`
}

// FieldChange is one field of an object with its old and new values (nil when absent). Nested
// maps are followed with dotted paths (features.people, requires.finances=export); lists and
// scalars are compared whole.
type FieldChange struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

// Diff lists what changes from before to after, ordered by kind (as in Kinds) and id. Either
// model may be empty (nil means empty).
func Diff(before, after *Model) []Change {
	if before == nil {
		before = &Model{}
	}
	if after == nil {
		after = &Model{}
	}
	out := []Change{}
	for _, kind := range Kinds {
		b, a := objectsOf(before, kind), objectsOf(after, kind)
		for _, id := range unionKeys(b, a) {
			ob, inBefore := b[id]
			oa, inAfter := a[id]
			c := Change{Kind: kind, ID: id}
			switch {
			case !inBefore:
				c.Action, c.After = ActionAdd, &oa.src
			case !inAfter:
				c.Action, c.Before = ActionRemove, &ob.src
			default:
				c.Fields = diffFields("", ob.fields, oa.fields)
				if len(c.Fields) == 0 {
					continue
				}
				c.Action, c.Before, c.After = ActionChange, &ob.src, &oa.src
			}
			out = append(out, c)
		}
	}
	return out
}

type object struct {
	fields map[string]any
	src    Source
}

// objectsOf returns a model's objects of one kind as JSON values by id.
func objectsOf(m *Model, kind string) map[string]object {
	out := map[string]object{}
	add := func(id string, v any, src Source) { out[id] = object{fields: toJSON(v), src: src} }
	switch kind {
	case KindCatalog:
		if m.Catalog != nil {
			src := Source{}
			if len(m.Catalog.Sources) > 0 {
				src = m.Catalog.Sources[0]
			}
			add("catalog", m.Catalog, src)
		}
	case KindRepository:
		if m.Repository != nil {
			add("repository", m.Repository, m.Repository.Source)
		}
	case KindInstance:
		addEach(add, m.Instances)
	case KindPermissionSet:
		addEach(add, m.Sets)
	case KindRole:
		addEach(add, m.Roles)
	case KindAssignment:
		addEach(add, m.Assignments)
	case KindUser:
		addEach(add, m.Users)
	}
	return out
}

// addEach adds every object of a list of the model.
func addEach[T declared](add func(id string, v any, src Source), xs []T) {
	for _, x := range xs {
		id, src := x.declaredAt()
		add(id, x, *src)
	}
}

func toJSON(v any) map[string]any {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // the model is plain data: it always marshals
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		panic(err)
	}
	return m
}

func diffFields(prefix string, before, after map[string]any) []FieldChange {
	var out []FieldChange
	for _, k := range unionKeys(before, after) {
		ob, oa := before[k], after[k]
		if reflect.DeepEqual(ob, oa) {
			continue
		}
		mb, bIsMap := ob.(map[string]any)
		ma, aIsMap := oa.(map[string]any)
		if bIsMap && aIsMap {
			out = append(out, diffFields(prefix+k+".", mb, ma)...)
			continue
		}
		out = append(out, FieldChange{Field: prefix + k, Old: ob, New: oa})
	}
	return out
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
