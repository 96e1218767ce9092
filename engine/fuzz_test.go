package engine_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sync"
	"testing"

	"github.com/permsets/permsets/engine"
)

var (
	fuzzOnce sync.Once
	fuzzEval *engine.Evaluator
)

// FuzzDecisionInput: any JSON input gives a boolean allow that equals decision.allow, a decision
// with a reason, and never an evaluation error (hostile inputs deny, they do not fail).
func FuzzDecisionInput(f *testing.F) {
	for _, s := range []string{
		`{"user":"alice","instance":"campaign","permission":"finances=export"}`,
		`{"user":"sam","instance":"campaign","permission":"people=read","resource":{"id":"p","point_person":["sam"]}}`,
		`{"user":"maria","instance":"hq","method":"GET","path":"/x/{id}"}`,
		`{"user":1,"instance":[],"permission":{}}`,
		`{"user":"kwame","instance":"campaign","permission":"people=edit","time":"not a time"}`,
		`{"user":"a","instance":"b","permission":"*=*","resource":"x"}`,
		`{"user":"lena","instance":"campaign","permission":"people=read","method":7}`,
		`{"user":"nobody","instance":"campaign","permission":"people=read","time":"2020-01-01T00:00:00Z"}`,
		`{}`, `[]`, `null`, `"x"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var input any
		if err := json.Unmarshal([]byte(raw), &input); err != nil {
			return
		}
		fuzzOnce.Do(func() { _, fuzzEval = compile(t, "../examples/nation") })
		ctx := context.Background()
		allow, err := fuzzEval.Eval(ctx, "allow", input, engine.EvalOptions{})
		if err != nil {
			t.Fatalf("allow on %s: %v", raw, err)
		}
		if _, ok := allow.(bool); !ok {
			t.Fatalf("allow on %s is %v, not a boolean", raw, allow)
		}
		d, err := fuzzEval.Eval(ctx, "decision", input, engine.EvalOptions{})
		if err != nil {
			t.Fatalf("decision on %s: %v", raw, err)
		}
		m, ok := d.(map[string]any)
		if !ok || m["allow"] != allow || m["reason"] == "" {
			t.Fatalf("input %s: allow %v, decision %v", raw, allow, d)
		}
		// The fast table answers exactly as the rule that defines decisions.
		def, err := fuzzEval.Eval(ctx, "_decision_by_rule", input, engine.EvalOptions{})
		if err != nil {
			t.Fatalf("rule on %s: %v", raw, err)
		}
		if !reflect.DeepEqual(d, def) {
			t.Fatalf("input %s:\ndecision %v\nrule     %v", raw, d, def)
		}
	})
}
