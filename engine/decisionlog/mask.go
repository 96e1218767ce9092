package decisionlog

import (
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

// apply erases what m names from ev, recording the pointer in ev.Erased when something was
// erased (a pointer to nothing is no error and is not recorded, as in OPA). The documents are
// shared with the request that made the decision: apply never modifies them, it copies the
// objects and arrays on the way to what it removes.
func (m Mask) apply(ev *Event) {
	doc := &ev.Input
	if m.root == "result" {
		doc = &ev.Result
	}
	if *doc == nil {
		return
	}
	if len(m.keys) == 0 {
		*doc = nil
	} else {
		v, ok := without(**doc, m.keys)
		if !ok {
			return
		}
		*doc = &v
	}
	ev.Erased = append(ev.Erased, m.pointer)
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
