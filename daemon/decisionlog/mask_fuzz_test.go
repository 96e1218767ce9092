package decisionlog

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// maskSentinel marks, in FuzzMask, the values the masks name; fuzzed documents holding it are
// skipped.
const maskSentinel = "\u2063masked-"

// lookup returns the value at keys in v, as without walks it.
func lookup(v any, keys []string) (any, bool) {
	for _, k := range keys {
		switch n := v.(type) {
		case map[string]any:
			c, ok := n[k]
			if !ok {
				return nil, false
			}
			v = c
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(n) || strconv.Itoa(i) != k {
				return nil, false
			}
			v = n[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// mark replaces the value at keys in *doc (which must be there) with s, in place.
func mark(doc *any, keys []string, s string) {
	if len(keys) == 0 {
		*doc = s
		return
	}
	parent, _ := lookup(*doc, keys[:len(keys)-1])
	switch n := parent.(type) {
	case map[string]any:
		n[keys[len(keys)-1]] = s
	case []any:
		i, _ := strconv.Atoi(keys[len(keys)-1])
		n[i] = s
	}
}

func fuzzDoc(raw []byte) (any, bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber() // as the server decodes inputs
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// FuzzMask parses arbitrary mask lists and applies them to arbitrary input and result documents:
// nothing panics; a list that parses gives masks whose pointers are the items given; every value
// a mask names in the entry as logged (marked here with a sentinel) is absent from the marshalled
// event, whatever the order of the masks; Erased lists only masks given, once each; and the
// entry's documents, shared with the response, are not modified.
func FuzzMask(f *testing.F) {
	const input = `{"user": "alice", "password": "pw", "resource": {"ssn": "123", "name": "x"},
		"items": [{"secret": 1, "keep": 2}, "b", "c"], "a/b": 1, "": {"": 0}}`
	f.Add("/input/password", []byte(input), []byte(`true`))
	f.Add("/input/password, /input/resource/ssn", []byte(input), []byte(`{"allow": true, "reason": "held"}`))
	f.Add("/input/items/0,/input/items/1", []byte(input), []byte(`[1, 2, 3]`))
	f.Add("/input/items/0/secret,/input/items/0", []byte(input), []byte(`null`))
	f.Add("/input/items/01,/input/items/-1,/input/items/3", []byte(input), []byte(`{}`))
	f.Add("/input/a%2Fb,/result/reason", []byte(input), []byte(`{"allow": false, "reason": "no"}`))
	f.Add("/input,/result", []byte(input), []byte(`"x"`))
	f.Add("/result/0,/result/2", []byte(`[]`), []byte(`[[1], [2], [3]]`))
	f.Add("/input//x,/input/%zz", []byte(input), []byte(`1`))
	f.Add("input/x", []byte(`{"x": 1}`), []byte(``))
	f.Fuzz(func(t *testing.T, list string, rawInput, rawResult []byte) {
		ms, err := ParseMasks(list)
		if err != nil {
			if ms != nil || err.Error() == "" {
				t.Fatalf("ParseMasks(%q) = %v, %v", list, ms, err)
			}
			return
		}
		var items []string
		for item := range strings.SplitSeq(list, ",") {
			if item = strings.TrimSpace(item); item != "" && !slices.Contains(items, item) {
				items = append(items, item)
			}
		}
		if len(ms) != len(items) {
			t.Fatalf("ParseMasks(%q): %d masks for %q", list, len(ms), items)
		}
		for i, m := range ms {
			if m.String() != items[i] {
				t.Fatalf("ParseMasks(%q): mask %d is %q, want %q", list, i, m, items[i])
			}
		}
		if bytes.Contains(rawInput, []byte(maskSentinel)) || bytes.Contains(rawResult, []byte(maskSentinel)) {
			return
		}
		in, hasIn := fuzzDoc(rawInput)
		res, hasRes := fuzzDoc(rawResult)

		// Mark what each mask names, the deepest first (a shallower mask covers a deeper one).
		byDepth := slices.Clone(ms)
		slices.SortStableFunc(byDepth, func(a, b Mask) int { return len(b.keys) - len(a.keys) })
		var sentinels []string
		for i, m := range byDepth {
			doc, has := &in, hasIn
			if m.root == "result" {
				doc, has = &res, hasRes
			}
			if _, ok := lookup(*doc, m.keys); has && ok {
				s := maskSentinel + strconv.Itoa(i)
				mark(doc, m.keys, s)
				sentinels = append(sentinels, s)
			}
		}
		inCopy, _ := fuzzDoc(mustMarshal(t, in))
		resCopy, _ := fuzzDoc(mustMarshal(t, res))

		e := Entry{DecisionID: "d"}
		if hasIn {
			e.Input = &in
		}
		if hasRes {
			e.Result = &res
		}
		w := &Writer{mask: ms}
		ev := w.event(e)
		out := mustMarshal(t, ev)
		for _, s := range sentinels {
			if bytes.Contains(out, []byte(s)) {
				t.Fatalf("masks %q: a masked value is logged: %s", list, out)
			}
		}
		seen := map[string]bool{}
		for _, p := range ev.Erased {
			if seen[p] || !slices.Contains(items, p) {
				t.Fatalf("masks %q: erased %q", list, ev.Erased)
			}
			seen[p] = true
		}
		if len(sentinels) > 0 && len(ev.Erased) == 0 {
			t.Fatalf("masks %q: values masked, none recorded as erased", list)
		}
		if hasIn && (e.Input != &in || !reflect.DeepEqual(in, inCopy)) ||
			hasRes && (e.Result != &res || !reflect.DeepEqual(res, resCopy)) {
			t.Fatalf("masks %q modified the entry: %v %v", list, in, res)
		}
	})
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
