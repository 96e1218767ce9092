package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/permsets/permsets/daemon/decisionlog"
	"github.com/permsets/permsets/engine"
)

// mergeReference is the merge of common_input under an item as permsd defined it on decoded
// JSON: a deep merge, the item winning, objects merged key by key, anything else replaced; an
// item that is not an object is used as it is.
func mergeReference(common map[string]any, item any) any {
	m, ok := item.(map[string]any)
	if !ok {
		return item
	}
	out := make(map[string]any, len(common)+len(m))
	for k, v := range common {
		out[k] = v
	}
	for k, v := range m {
		if cm, ok := out[k].(map[string]any); ok {
			if im, ok := v.(map[string]any); ok {
				out[k] = mergeReference(cm, im)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func decodeNumber(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := unmarshalNumber([]byte(s), &v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}

func astOf(t testing.TB, v any) ast.Value {
	t.Helper()
	val, err := ast.InterfaceToValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return val
}

// TestMergeObjects: the merge of ast values is the merge of decoded JSON, for the cases by hand
// and for generated nested objects, and leaves both sides as they were.
func TestMergeObjects(t *testing.T) {
	type pair struct{ note, common, item string }
	cases := []pair{
		{"disjoint", `{"instance": "hq"}`, `{"user": "maria"}`},
		{"item wins", `{"user": "x", "instance": "hq"}`, `{"user": "maria"}`},
		{"nested objects merge", `{"resource": {"id": "r", "owner": "sam"}, "a": 1}`, `{"resource": {"owner": "maria", "x": [1]}}`},
		{"deeply", `{"a": {"b": {"c": 1, "d": 2}, "e": 3}}`, `{"a": {"b": {"c": 9}}}`},
		{"item scalar replaces an object", `{"resource": {"id": "r"}}`, `{"resource": "none"}`},
		{"item object replaces a scalar", `{"resource": "none"}`, `{"resource": {"id": "r"}}`},
		{"arrays are replaced", `{"xs": [1, 2, 3]}`, `{"xs": [4]}`},
		{"null replaces", `{"resource": {"id": "r"}}`, `{"resource": null}`},
		{"empty item", `{"instance": "hq"}`, `{}`},
		{"empty common", `{}`, `{"user": "maria"}`},
		{"numbers kept as written", `{"n": 1.50, "m": 10000000000000000000001}`, `{"k": 2e3}`},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var gen func(depth int) map[string]any
	gen = func(depth int) map[string]any {
		m := map[string]any{}
		for range rng.IntN(5) {
			k := string(rune('a' + rng.IntN(4)))
			switch rng.IntN(4) {
			case 0:
				if depth < 4 {
					m[k] = gen(depth + 1)
					continue
				}
				m[k] = json.Number(fmt.Sprint(rng.IntN(3)))
			case 1:
				m[k] = []any{json.Number("1"), k}
			case 2:
				m[k] = k + k
			default:
				m[k] = json.Number(fmt.Sprint(rng.IntN(3)))
			}
		}
		return m
	}
	for i := range 300 {
		cases = append(cases, pair{fmt.Sprint("generated ", i), mustJSON(t, gen(0)), mustJSON(t, gen(0))})
	}
	for _, tc := range cases {
		common, item := decodeNumber(t, tc.common).(map[string]any), decodeNumber(t, tc.item).(map[string]any)
		want := astOf(t, mergeReference(common, item))
		co, io := astOf(t, common).(ast.Object), astOf(t, item).(ast.Object)
		got := mergeObjects(co, io)
		if got.Compare(want) != 0 || got.Hash() != want.Hash() || got.IsGround() != want.IsGround() {
			t.Fatalf("%s: merge(%s, %s) = %v, want %v", tc.note, tc.common, tc.item, got, want)
		}
		if co.Compare(astOf(t, common)) != 0 || io.Compare(astOf(t, item)) != 0 {
			t.Fatalf("%s: the merge modified its arguments", tc.note)
		}
		// The cost is the pairs built, for short keys and values (a long number costs more).
		if c, n := mergeCost(co, item, map[ast.Object]int{}), builtPairs(co, io); c < n || c != n && tc.note != "numbers kept as written" {
			t.Fatalf("%s: cost %d, %d pairs built", tc.note, c, n)
		}
	}
}

// builtPairs counts the pairs mergeObjects(common, item) builds: those of the result and of
// every object merged on the way.
func builtPairs(common, item ast.Object) int {
	n := 0
	mergeObjects(common, item).Foreach(func(k, _ *ast.Term) {
		n++
		if cv, iv := common.Get(k), item.Get(k); cv != nil && iv != nil {
			co, cok := cv.Value.(ast.Object)
			io, iok := iv.Value.(ast.Object)
			if cok && iok {
				n += builtPairs(co, io)
			}
		}
	})
	return n
}

// TestBatchCommonInputMerged: each item of a batch with a common_input answers exactly as a
// single request with the merged input does, the refusal of input.time included.
func TestBatchCommonInputMerged(t *testing.T) {
	f := newFixture(t, false, nil)
	common := decodeNumber(t, `{"instance": "campaign", "permission": "people=read",
		"resource": {"id": "p1", "point_person": "sam"}}`).(map[string]any)
	items := map[string]any{
		"plain":           decodeNumber(t, `{"user": "sam"}`),
		"other user":      decodeNumber(t, `{"user": "tomas"}`),
		"own permission":  decodeNumber(t, `{"user": "alice", "permission": "finances=export"}`),
		"own instance":    decodeNumber(t, `{"user": "maria", "instance": "hq", "permission": "settings=read"}`),
		"resource merged": decodeNumber(t, `{"user": "sam", "resource": {"point_person": "lena"}}`),
		"resource gone":   decodeNumber(t, `{"user": "sam", "resource": null}`),
		"not an object":   decodeNumber(t, `"sam"`),
		"empty":           decodeNumber(t, `{}`),
		"time":            decodeNumber(t, `{"user": "sam", "time": "2026-01-01T00:00:00Z"}`),
	}
	for _, path := range []string{"allow", "decision"} {
		r := f.do("POST", "/v1/batch/data/permsets/"+path, mustJSON(t, map[string]any{"common_input": common, "inputs": items}))
		if r.status != 207 {
			t.Fatalf("%s: %d %s", path, r.status, r.raw)
		}
		resp := r.body["responses"].(map[string]any)
		for id, in := range items {
			got := resp[id].(map[string]any)
			single := f.do("POST", "/v1/data/permsets/"+path, mustJSON(t, map[string]any{"input": mergeReference(common, in)}))
			if single.status != 200 {
				if got["http_status_code"] != "500" || got["code"] != single.body["code"] {
					t.Fatalf("%s %s: batch %v, single %s", path, id, got, single.raw)
				}
				continue
			}
			if got["http_status_code"] != "200" || !reflect.DeepEqual(got["result"], single.body["result"]) {
				t.Fatalf("%s %s: batch %v, single %s", path, id, got, single.raw)
			}
		}
	}
}

// TestBatchCommonInputOnce replays a batch of 1,000 items under a common_input of nearly 1 MiB:
// it is converted and logged once, not once per item. Before, every item converted the merged
// input and logged it whole (about 1 GB of decision log for this request, and seconds of CPU).
func TestBatchCommonInputOnce(t *testing.T) {
	// The hook encodes each entry as the decision log would write it, and counts the bytes.
	var logged atomic.Int64
	log := &entries{}
	f := newFixture(t, false, func(o *Options) {
		o.DecisionLog = DecisionSinkFunc(func(e decisionlog.Entry) {
			b, err := json.Marshal(e)
			if err != nil {
				panic(err)
			}
			logged.Add(int64(len(b)) + 1)
			log.Log(e)
		})
	})
	users := []string{"maria", "alice", "devon", "jordan", "priya", "tomas", "sam", "lena", "kwame", "quinn"}
	inputs := map[string]any{}
	for i := range MaxBatchInputs {
		inputs[fmt.Sprintf("i%04d", i)] = map[string]any{"user": users[i%len(users)]}
	}
	attrs := []any{}
	common := map[string]any{"instance": "hq", "permission": "settings=read",
		"resource": map[string]any{"id": "r1", "attrs": attrs}}
	base := len(mustJSON(t, map[string]any{"common_input": common, "inputs": inputs}))
	for j := range (DefaultMaxBodyBytes - 64 - base) / 11 {
		attrs = append(attrs, fmt.Sprintf("a%07d", j))
	}
	common["resource"].(map[string]any)["attrs"] = attrs
	body := mustJSON(t, map[string]any{"common_input": common, "inputs": inputs})
	if len(body) > DefaultMaxBodyBytes || len(body) < DefaultMaxBodyBytes-1024 {
		t.Fatalf("body of %d bytes", len(body))
	}

	start := time.Now()
	r := f.do("POST", "/v1/batch/data/permsets/allow", body)
	took := time.Since(start)
	f.expect(r, 200, "")
	t.Logf("%d items, %d bytes: answered in %v, %d bytes logged", len(inputs), len(body), took, logged.Load())
	if took > 5*time.Second {
		t.Errorf("the batch took %v", took)
	}
	if n := logged.Load(); n > 4<<20 {
		t.Errorf("%d bytes of decision log for a %d-byte batch", n, len(body))
	}

	// The answers are those of single requests with the merged input.
	_, ev, _ := nationC.get(t, nationDir)
	want := map[string]any{}
	for _, u := range users {
		in := normalize(t, mergeReference(common, map[string]any{"user": u}))
		res, err := ev.Eval(context.Background(), "allow", in, engine.EvalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want[u] = res
	}
	if want["maria"] != true || want["devon"] != false {
		t.Fatalf("the inputs do not exercise both answers: %v", want)
	}
	resp := r.body["responses"].(map[string]any)
	for id, in := range inputs {
		u := in.(map[string]any)["user"].(string)
		if got := resp[id].(map[string]any)["result"]; got != want[u] {
			t.Fatalf("%s (%s): %v, want %v", id, u, got, want[u])
		}
	}

	// One entry carries the common input, first; the items carry their own.
	es := log.all()
	if len(es) != len(inputs)+1 {
		t.Fatalf("%d entries for %d items", len(es), len(inputs))
	}
	batchID := r.str("batch_decision_id")
	c := es[0]
	if !c.Common || c.DecisionID != batchID || c.BatchDecisionID != batchID || c.Result != nil || c.Error != nil ||
		c.Path != "permsets/allow" || c.Input == nil || !reflect.DeepEqual(normalize(t, *c.Input), normalize(t, common)) {
		t.Fatalf("the common entry: id %s, common %v, path %s, result %v, error %v", c.DecisionID, c.Common, c.Path, c.Result, c.Error)
	}
	for _, e := range es[1:] {
		if e.Common || e.BatchDecisionID != batchID || e.Input == nil || len((*e.Input).(map[string]any)) != 1 || e.Result == nil {
			t.Fatalf("an item entry: %+v", e)
		}
	}
}

// TestBatchMergeCostLimit: a batch whose merging would cost too much is refused whole, before
// anything is evaluated or logged, and quickly; under the limit it is answered.
func TestBatchMergeCostLimit(t *testing.T) {
	f := newFixture(t, false, nil)
	batch := func(items, keys int, nested bool) string {
		common := map[string]any{"instance": "hq", "permission": "settings=read"}
		pad := common
		if nested {
			pad = map[string]any{}
			common["resource"] = pad
		}
		for j := range keys {
			pad[fmt.Sprintf("k%06d", j)] = 0
		}
		inputs := map[string]any{}
		for i := range items {
			in := map[string]any{"user": "maria"}
			if nested {
				in["resource"] = map[string]any{"id": "r"}
			}
			inputs[fmt.Sprint(i)] = in
		}
		return mustJSON(t, map[string]any{"common_input": common, "inputs": inputs})
	}
	for _, tc := range []struct {
		note          string
		items, keys   int
		nested, under bool
	}{
		{note: "many top-level keys", items: 1000, keys: 60000},
		{note: "many keys of a merged object", items: 1000, keys: 60000, nested: true},
		{note: "under the limit", items: 1000, keys: 1000, under: true},
		{note: "few items", items: 20, keys: 60000, under: true},
	} {
		t.Run(tc.note, func(t *testing.T) {
			before := len(f.log.all())
			start := time.Now()
			r := f.do("POST", "/v1/batch/data/permsets/allow", batch(tc.items, tc.keys, tc.nested))
			took := time.Since(start)
			if tc.under {
				f.expect(r, 200, "")
				if n := len(f.log.all()) - before; n != tc.items+1 {
					t.Fatalf("%d entries", n)
				}
				return
			}
			f.expect(r, 400, "invalid_parameter")
			if !strings.Contains(r.str("message"), "over the limit") {
				t.Fatalf("message %q", r.str("message"))
			}
			if n := len(f.log.all()) - before; n != 0 {
				t.Fatalf("%d entries for a refused batch", n)
			}
			if took > 5*time.Second {
				t.Fatalf("refused after %v", took)
			}
		})
	}
	// A long number costs for its digits.
	co := astOf(t, decodeNumber(t, `{"n": 1`+strings.Repeat("7", 799)+`}`)).(ast.Object)
	if c := mergeCost(co, map[string]any{"user": "x"}, map[ast.Object]int{}); c != 2+800/costPerNumberDigits {
		t.Fatalf("cost %d", c)
	}
}
