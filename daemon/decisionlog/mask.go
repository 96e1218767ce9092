package decisionlog

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Mask is one JSON pointer into a decision-log event naming a value to erase, as OPA's
// decision-log masking names them: "/input/password", "/input/resource/ssn",
// "/input/items/0", "/result" or "/input" (the whole document). The first segment is "input"
// or "result"; a later segment is an object key, or an array index on an array. Segments are
// URL path-escaped, as in OPA: "%2F" is a "/" inside a key.
type Mask struct {
	pointer string
	root    string   // "input" or "result"
	keys    []string // unescaped segments after root
}

// String returns the pointer as given.
func (m Mask) String() string { return m.pointer }

// ParseMask parses one pointer.
func ParseMask(pointer string) (Mask, error) {
	if pointer == "" {
		return Mask{}, fmt.Errorf("mask: empty pointer")
	}
	if !strings.HasPrefix(pointer, "/") {
		return Mask{}, fmt.Errorf("mask %q: a pointer starts with /, e.g. /input/password", pointer)
	}
	parts := strings.Split(pointer[1:], "/")
	if parts[0] != "input" && parts[0] != "result" {
		return Mask{}, fmt.Errorf("mask %q: a pointer starts with /input or /result", pointer)
	}
	m := Mask{pointer: pointer, root: parts[0]}
	for _, p := range parts[1:] {
		if p == "" {
			return Mask{}, fmt.Errorf("mask %q: empty segment", pointer)
		}
		k, err := url.PathUnescape(p)
		if err != nil {
			return Mask{}, fmt.Errorf("mask %q: bad escape in segment %q", pointer, p)
		}
		m.keys = append(m.keys, k)
	}
	return m, nil
}

// ParseMasks parses a comma-separated list of pointers (the --decision-log-mask flag); blanks
// around items are ignored, and so is a pointer given twice. "" is no mask.
func ParseMasks(list string) ([]Mask, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var ms []Mask
	seen := map[string]bool{}
	for item := range strings.SplitSeq(list, ",") {
		m, err := ParseMask(strings.TrimSpace(item))
		if err != nil {
			return nil, err
		}
		if !seen[m.pointer] {
			seen[m.pointer] = true
			ms = append(ms, m)
		}
	}
	return ms, nil
}

// apply erases what m names from ev and reports whether there was something to erase (a pointer
// to nothing is no error and is not recorded, as in OPA). The documents are shared with the
// request that made the decision: apply never modifies them, it copies the objects and arrays on
// the way to what it removes.
func (m Mask) apply(ev *Event) bool {
	doc := &ev.Input
	if m.root == "result" {
		doc = &ev.Result
	}
	if *doc == nil {
		return false
	}
	if len(m.keys) == 0 {
		*doc = nil
	} else {
		v, ok := without(**doc, m.keys)
		if !ok {
			return false
		}
		*doc = &v
	}
	return true
}

// applyAll erases what masks name from ev, recording in ev.Erased, in the order given, the
// pointers that named something. Each pointer names a value of the entry as logged, not of what
// the masks before it left: removing an array element moves the elements after it, so masks are
// applied in removal order (see compareRemoval).
func applyAll(masks []Mask, ev *Event) {
	if len(masks) == 0 {
		return
	}
	order := make([]int, len(masks))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return compareRemoval(masks[a], masks[b]) })
	erased := make([]bool, len(masks))
	for _, i := range order {
		erased[i] = masks[i].apply(ev)
	}
	for i, m := range masks {
		if erased[i] {
			ev.Erased = append(ev.Erased, m.pointer)
		}
	}
}

// compareRemoval orders masks segment by segment, the root first: array indexes before keys,
// the higher index first, keys in byte order, and a pointer before a prefix of it. Applied in
// that order, no removal moves what a later mask names: only the later elements of an array
// move, and they are removed first; a value inside another is removed before it.
func compareRemoval(a, b Mask) int {
	seg := func(m Mask, i int) string {
		if i == 0 {
			return m.root
		}
		return m.keys[i-1]
	}
	na, nb := len(a.keys)+1, len(b.keys)+1
	for i := 0; i < na && i < nb; i++ {
		sa, sb := seg(a, i), seg(b, i)
		if sa == sb {
			continue
		}
		ia, aok := arrayIndex(sa)
		ib, bok := arrayIndex(sb)
		switch {
		case aok && bok:
			return cmp.Compare(ib, ia)
		case aok:
			return -1
		case bok:
			return 1
		}
		return strings.Compare(sa, sb)
	}
	return cmp.Compare(nb, na)
}

// arrayIndex is key as an array index, when it is one in canonical form (as without reads it).
func arrayIndex(key string) (int, bool) {
	i, err := strconv.Atoi(key)
	return i, err == nil && i >= 0 && strconv.Itoa(i) == key
}

// without returns a copy of v without the value at keys, and whether there was one.
func without(v any, keys []string) (any, bool) {
	key, rest := keys[0], keys[1:]
	switch n := v.(type) {
	case map[string]any:
		child, ok := n[key]
		if !ok {
			return nil, false
		}
		c := maps.Clone(n)
		if len(rest) == 0 {
			delete(c, key)
			return c, true
		}
		nc, ok := without(child, rest)
		if !ok {
			return nil, false
		}
		c[key] = nc
		return c, true
	case []any:
		i, err := strconv.Atoi(key)
		if err != nil || i < 0 || i >= len(n) || strconv.Itoa(i) != key {
			return nil, false
		}
		if len(rest) == 0 {
			return slices.Delete(slices.Clone(n), i, i+1), true
		}
		nc, ok := without(n[i], rest)
		if !ok {
			return nil, false
		}
		c := slices.Clone(n)
		c[i] = nc
		return c, true
	}
	return nil, false
}
