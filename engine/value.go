package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/permsets/permsets/internal/sorted"
)

// The index reaches the store as an AST value built here, straight from the Go form: no JSON on
// the way (a large repository's index is about 110 MB of JSON, and encoding then decoding it
// took longer than compiling it). The value is exactly what decoding the index's JSON would
// give (TestIndexValueMatchesJSON holds it to that), with one difference in memory only: equal
// strings share one term. A user's id, a set's id, a record id or a fast row that occurs many
// times is stored once. Terms are never modified once built, by the store or by evaluation, so
// sharing them is safe.

// terms interns the terms of one index value. Strings shared across instances (user and set
// ids) are interned first into a parent that is only read afterwards; each instance is then
// converted with its own child, so parallel conversions take no lock.
type terms struct {
	parent  *terms
	strings map[string]*ast.Term
	numbers map[int64]*ast.Term
	lists   map[*string]*ast.Term // by the first element's address: see strs
}

func newTerms(parent *terms) *terms {
	return &terms{parent: parent, strings: map[string]*ast.Term{}, numbers: map[int64]*ast.Term{}, lists: map[*string]*ast.Term{}}
}

func (t *terms) str(s string) *ast.Term {
	if t.parent != nil {
		if term, ok := t.parent.strings[s]; ok {
			return term
		}
	}
	if term, ok := t.strings[s]; ok {
		return term
	}
	term := ast.StringTerm(s)
	t.strings[s] = term
	return term
}

func (t *terms) num(n int64) *ast.Term {
	if term, ok := t.numbers[n]; ok {
		return term
	}
	term := ast.NumberTerm(json.Number(strconv.FormatInt(n, 10)))
	t.numbers[n] = term
	return term
}

// strs is an array of strings. Equal lists that share a backing array (a compiled index's
// holdings: see finishInstance) share one term.
func (t *terms) strs(list []string) *ast.Term {
	if len(list) > 0 {
		if term, ok := t.lists[&list[0]]; ok && term.Value.(*ast.Array).Len() == len(list) {
			return term
		}
	}
	term := t.newStrs(list)
	if len(list) > 0 {
		t.lists[&list[0]] = term
	}
	return term
}

func (t *terms) newStrs(list []string) *ast.Term {
	elems := make([]*ast.Term, len(list))
	for i, s := range list {
		elems[i] = t.str(s)
	}
	return ast.NewTerm(ast.NewArray(elems...))
}

var (
	trueTerm  = ast.BooleanTerm(true)
	falseTerm = ast.BooleanTerm(false)
)

func boolTerm(b bool) *ast.Term {
	if b {
		return trueTerm
	}
	return falseTerm
}

// object builds an object term from a map, its keys in sorted order (the order does not change
// the value; it keeps builds deterministic).
func object[V any](t *terms, m map[string]V, value func(V) *ast.Term) *ast.Term {
	pairs := make([][2]*ast.Term, 0, len(m))
	for _, k := range sorted.Keys(m) {
		pairs = append(pairs, [2]*ast.Term{t.str(k), value(m[k])})
	}
	return ast.NewTerm(ast.NewObject(pairs...))
}

// fields builds an object term with fixed keys (a struct's JSON fields).
func fields(t *terms, kv ...any) *ast.Term {
	pairs := make([][2]*ast.Term, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		pairs = append(pairs, [2]*ast.Term{t.str(kv[i].(string)), kv[i+1].(*ast.Term)})
	}
	return ast.NewTerm(ast.NewObject(pairs...))
}

func (c *catalogIndex) value(t *terms) *ast.Term {
	return fields(t,
		"known", object(t, c.Known, boolTerm),
		"positions", object(t, c.Positions, func(p int) *ast.Term { return t.num(int64(p)) }),
		"requires", object(t, c.Requires, t.strs),
		"routes", object(t, c.Routes, func(byLength map[string][]*route) *ast.Term {
			return object(t, byLength, func(rs []*route) *ast.Term {
				elems := make([]*ast.Term, len(rs))
				for i, r := range rs {
					elems[i] = fields(t, "segments", t.strs(r.Segments), "permissions", t.strs(r.Permissions))
				}
				return ast.ArrayTerm(elems...)
			})
		}),
	)
}

func (s *setIndex) value(t *terms) *ast.Term {
	return fields(t,
		"name", t.str(s.Name),
		"enabled", boolTerm(s.Enabled),
		"superuser", boolTerm(s.Superuser),
		"grants", object(t, s.Grants, func(gs []*grant) *ast.Term {
			elems := make([]*ast.Term, len(gs))
			for i, g := range gs {
				elems[i] = fields(t,
					"text", t.str(g.Text),
					"unconditional", boolTerm(g.Unconditional),
					"scopes", t.strs(g.Scopes),
					"objects", t.strs(g.Objects),
					"relations", t.strs(g.Relations))
			}
			return ast.ArrayTerm(elems...)
		}),
	)
}

func (ii *instanceIndex) value(t *terms) *ast.Term {
	kv := []any{
		"name", t.str(ii.Name),
		"sets", t.strs(ii.Sets),
		"holdings", object(t, ii.Holdings, t.strs),
		"records", object(t, ii.Records, func(h *holding) *ast.Term {
			return fields(t,
				"set", t.str(h.Set),
				"via", t.str(h.Via),
				"source", t.str(h.Source),
				"enabled", boolTerm(h.Enabled),
				"superuser", boolTerm(h.Superuser),
				"expires_ns", t.num(h.ExpiresNs))
		}),
		"holders", object(t, ii.Holders, t.strs),
		"granting", object(t, ii.Granting, t.strs),
		"covering", object(t, ii.Covering, func(m map[string]string) *ast.Term { return object(t, m, t.str) }),
	}
	if len(ii.Fast) > 0 { // omitempty, as in the JSON form
		kv = append(kv, "fast", object(t, ii.Fast, t.str))
	}
	return fields(t, kv...)
}

// writeJSON writes an AST value of the index (objects, arrays, strings, numbers, booleans,
// null) as compact JSON, object keys sorted as encoding/json sorts map keys.
func writeJSON(w *bytes.Buffer, v ast.Value) error {
	switch v := v.(type) {
	case ast.Object:
		// Foreach visits keys in sorted order (strings sort as encoding/json sorts map keys).
		var err error
		first := true
		w.WriteByte('{')
		v.Foreach(func(k, val *ast.Term) {
			if err != nil {
				return
			}
			name, ok := k.Value.(ast.String)
			if !ok {
				err = fmt.Errorf("index: object key %v is not a string", k)
				return
			}
			if !first {
				w.WriteByte(',')
			}
			first = false
			writeString(w, string(name))
			w.WriteByte(':')
			err = writeJSON(w, val.Value)
		})
		if err != nil {
			return err
		}
		w.WriteByte('}')
	case *ast.Array:
		w.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeJSON(w, v.Elem(i).Value); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case ast.String:
		writeString(w, string(v))
	case ast.Number:
		w.WriteString(string(v))
	case ast.Boolean:
		w.WriteString(strconv.FormatBool(bool(v)))
	case ast.Null:
		w.WriteString("null")
	default:
		return fmt.Errorf("index: unexpected %T in the index value", v)
	}
	return nil
}

func writeString(w *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // escapes as encoding/json does; a string always marshals
			w.Write(b)
			return
		}
	}
	w.WriteByte('"') // nothing to escape: the common case of ids and fast rows
	w.WriteString(s)
	w.WriteByte('"')
}

// indexFromJSON decodes an index's JSON (a bundle's data.json) into the AST value the store
// holds.
func indexFromJSON(r io.Reader) (ast.Object, error) {
	v, err := ast.ValueFromReader(r)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return nil, fmt.Errorf("the index is a %s, not an object", ast.ValueName(v))
	}
	return obj, nil
}

// knownOf reads the catalog's permissions (catalog.known) from an index value: nil without a
// catalog, as a compiled bundle has.
func knownOf(index ast.Object) map[string]bool {
	c := index.Get(ast.StringTerm("catalog"))
	if c == nil {
		return nil
	}
	known := map[string]bool{}
	cat, _ := c.Value.(ast.Object)
	if cat == nil {
		return known // not an object: nothing is known, so nothing is answered as known
	}
	if k := cat.Get(ast.StringTerm("known")); k != nil {
		obj, _ := k.Value.(ast.Object)
		if obj == nil {
			return known
		}
		_ = obj.Iter(func(key, v *ast.Term) error {
			if s, ok := key.Value.(ast.String); ok && v.Value.Compare(ast.Boolean(true)) == 0 {
				known[string(s)] = true
			}
			return nil
		})
	}
	return known
}
