package server

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/permsets/permsets/daemon/decisionlog"
	"github.com/permsets/permsets/daemon/snapshot"
	"github.com/permsets/permsets/engine"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// decisionInputs are nation questions over every decision path.
func decisionInputs() map[string][]map[string]any {
	users := []string{"maria", "alice", "devon", "jordan", "priya", "tomas", "sam", "lena", "kwame", "quinn", "nobody"}
	perms := []string{"settings=read", "users=manage", "finances=export", "people=read", "people=export",
		"communications=read", "permset=assign", "api=use", "unknown=thing"}
	out := map[string][]map[string]any{}
	for _, inst := range []string{"hq", "campaign", "nowhere"} {
		for _, u := range users {
			for _, p := range perms {
				in := map[string]any{"user": u, "instance": inst, "permission": p}
				out["allow"] = append(out["allow"], in)
				out["decision"] = append(out["decision"], in)
			}
			out["effective"] = append(out["effective"], map[string]any{"user": u, "instance": inst})
			out["manageable_sets"] = append(out["manageable_sets"], map[string]any{"user": u, "instance": inst})
		}
		for _, p := range perms {
			out["who_can"] = append(out["who_can"], map[string]any{"instance": inst, "permission": p})
		}
	}
	scoped := map[string]any{"user": "sam", "instance": "campaign", "permission": "people=read",
		"resource": map[string]any{"id": "p1", "point_person": "sam"}}
	route := map[string]any{"user": "maria", "instance": "hq", "method": "GET", "path": "/settings"}
	out["allow"] = append(out["allow"], scoped, route)
	out["decision"] = append(out["decision"], scoped, route)
	return out
}

// TestDecisionsEqualEvaluator: every decision path answers over POST and GET exactly as the
// Evaluator does, with a fresh decision id, one log entry each.
func TestDecisionsEqualEvaluator(t *testing.T) {
	f := newFixture(t, false, nil)
	_, ev, _ := nationC.get(t, nationDir)
	ctx := context.Background()
	n, allows, denies := 0, 0, 0
	ids := map[string]bool{}
	for path, inputs := range decisionInputs() {
		for i, in := range inputs {
			want, err := ev.Eval(ctx, path, in, engine.EvalOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var r *response
			if i%3 == 0 {
				r = f.do("GET", "/v1/data/permsets/"+path+"?input="+url.QueryEscape(mustJSON(t, in)), nil)
			} else {
				r = f.do("POST", "/v1/data/permsets/"+path, mustJSON(t, map[string]any{"input": in}))
			}
			f.expect(r, 200, "")
			if got := r.body["result"]; !reflect.DeepEqual(got, normalize(t, want)) {
				t.Fatalf("%s %v: got %v, want %v", path, in, got, want)
			}
			id := r.str("decision_id")
			if !uuidRE.MatchString(id) || ids[id] {
				t.Fatalf("decision id %q (repeated: %v)", id, ids[id])
			}
			ids[id] = true
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
			if path == "allow" {
				if want == true {
					allows++
				} else {
					denies++
				}
			}
			n++
		}
	}
	if allows == 0 || denies == 0 {
		t.Fatalf("%d allowed, %d denied: the inputs do not exercise both", allows, denies)
	}
	if got := len(f.log.all()); got != n {
		t.Fatalf("%d decision-log entries for %d decisions", got, n)
	}
}

// TestRoutePathNotNormalised: over HTTP, a route whose path has a dot or empty segment is
// denied, even to maria, who holds *=* on hq and may call the same route normalised.
func TestRoutePathNotNormalised(t *testing.T) {
	f := newFixture(t, false, nil)
	ask := func(path, p string) *response {
		in := map[string]any{"user": "maria", "instance": "hq", "method": "GET", "path": p}
		r := f.do("POST", "/v1/data/permsets/"+path, mustJSON(t, map[string]any{"input": in}))
		f.expect(r, 200, "")
		return r
	}
	if r := ask("allow", "/settings"); r.body["result"] != true {
		t.Fatalf("GET /settings: allow = %v", r.body["result"])
	}
	for _, p := range []string{"/settings/..", "/settings/%2e%2E", "/./settings", "/settings//", "/settings/"} {
		if r := ask("allow", p); r.body["result"] != false {
			t.Errorf("GET %s: allow = %v", p, r.body["result"])
		}
		d, _ := ask("decision", p).body["result"].(map[string]any)
		if want := "path " + p + " is not normalised: dot or empty segment"; d["allow"] != false || d["reason"] != want {
			t.Errorf("GET %s: decision %v, want the reason %q", p, d, want)
		}
	}
}

func TestDecisionLogEntry(t *testing.T) {
	f := newFixture(t, false, nil)
	in := map[string]any{"user": "alice", "instance": "campaign", "permission": "finances=export"}
	r := f.do("POST", "/v1/data/permsets/allow", mustJSON(t, map[string]any{"input": in}))
	f.expect(r, 200, "")
	es := f.log.all()
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	snap := f.state.Current()
	if e.DecisionID != r.str("decision_id") || e.Path != "permsets/allow" || e.Revision != snap.Revision ||
		e.Commit != snap.Commit || e.Generation != 1 || e.BatchDecisionID != "" {
		t.Fatalf("entry %+v", e)
	}
	if e.Input == nil || !reflect.DeepEqual(normalize(t, *e.Input), normalize(t, in)) {
		t.Fatalf("input %v", e.Input)
	}
	if e.Result == nil || *e.Result != r.body["result"] {
		t.Fatalf("result %v, answered %v", e.Result, r.body["result"])
	}
	if time.Since(e.Timestamp) > time.Minute || e.Timestamp.Location() != time.UTC {
		t.Fatalf("timestamp %v", e.Timestamp)
	}
	if ns, _ := e.Metrics["timer_server_handler_ns"].(int64); ns <= 0 {
		t.Fatalf("metrics %v", e.Metrics)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, e)), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"decision_id", "path", "input", "result", "revision", "commit", "generation", "timestamp", "metrics", "bundles"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("entry JSON without %s: %v", k, m)
		}
	}
	if m["bundles"].(map[string]any)["permsets"].(map[string]any)["revision"] != snap.Revision {
		t.Fatalf("bundles %v", m["bundles"])
	}
}

func TestUndefinedResult(t *testing.T) {
	f := newFixture(t, false, nil)
	r := f.do("POST", "/v1/data/permsets/who_can", `{"input": {"permission": "people=read"}}`)
	f.expect(r, 200, "")
	if _, ok := r.body["result"]; ok {
		t.Fatalf("an undefined result is answered: %s", r.raw)
	}
	if !uuidRE.MatchString(r.str("decision_id")) || len(r.body) != 1 {
		t.Fatalf("undefined answer %s", r.raw)
	}
	es := f.log.all()
	if len(es) != 1 || es[0].Result != nil {
		t.Fatalf("entries %+v", es)
	}
	if !strings.Contains(f.metricsText(), `permsets_decisions_total{path="who_can",result="undefined"} 1`) {
		t.Fatal("undefined not counted")
	}
}

func TestProvenance(t *testing.T) {
	f := newFixture(t, false, nil)
	snap := f.state.Current()
	for _, q := range []string{"?provenance", "?provenance=true", "?provenance=TRUE&pretty"} {
		r := f.do("POST", "/v1/data/permsets/allow"+q, `{"input": {"user": "maria", "instance": "hq", "permission": "settings=read"}}`)
		f.expect(r, 200, "")
		p, _ := r.body["provenance"].(map[string]any)
		if p == nil || p["revision"] != snap.Revision || p["commit"] != snap.Commit ||
			p["generation"] != json.Number("1") || p["version"] != engine.Version {
			t.Fatalf("%s: provenance %s", q, r.raw)
		}
		b, _ := p["bundles"].(map[string]any)["permsets"].(map[string]any)
		if b["revision"] != snap.Revision {
			t.Fatalf("%s: bundles %v", q, p["bundles"])
		}
		if r.body["result"] != true {
			t.Fatalf("result %s", r.raw)
		}
	}
	for _, q := range []string{"", "?provenance=false"} {
		r := f.do("POST", "/v1/data/permsets/allow"+q, `{"input": {}}`)
		if _, ok := r.body["provenance"]; ok {
			t.Fatalf("%q: provenance without asking: %s", q, r.raw)
		}
	}
	r := f.do("POST", "/v1/batch/data/permsets/allow?provenance", `{"inputs": {"a": {"user": "maria", "instance": "hq", "permission": "settings=read"}}}`)
	f.expect(r, 200, "")
	item := r.body["responses"].(map[string]any)["a"].(map[string]any)
	if item["provenance"].(map[string]any)["revision"] != snap.Revision {
		t.Fatalf("batch provenance %s", r.raw)
	}
}

func TestPrettyAndMetricsParams(t *testing.T) {
	f := newFixture(t, false, nil)
	r := f.do("POST", "/v1/data/permsets/decision?pretty", `{"input": {"user": "maria", "instance": "hq", "permission": "settings=read"}}`)
	f.expect(r, 200, "")
	if !strings.Contains(string(r.raw), "\n  \"result\": {\n") {
		t.Fatalf("not pretty: %s", r.raw)
	}
	r = f.do("POST", "/v1/data/permsets/allow", `{"input": {}}`)
	if strings.Contains(string(r.raw), "\n ") {
		t.Fatalf("pretty without asking: %s", r.raw)
	}
	r = f.do("POST", "/v1/data/permsets/allow?metrics", `{"input": {}}`)
	if m, _ := r.body["metrics"].(map[string]any); m["timer_server_handler_ns"] == nil {
		t.Fatalf("metrics: %s", r.raw)
	}
}

// TestNotServed: only the decision paths are served; the rest of data is 404, as are OPA's
// other APIs.
func TestNotServed(t *testing.T) {
	f := newFixture(t, false, nil)
	for _, p := range []string{
		"/v1/data", "/v1/data/", "/v1/data/permsets", "/v1/data/permsets/",
		"/v1/data/permsets_index", "/v1/data/permsets_index/instances", "/v1/data/permsets_index/instances/hq",
		"/v1/data/permsets/_decision_by_rule", "/v1/data/permsets/_who_can_by_rule", "/v1/data/permsets/access", "/v1/data/permsets/unknown",
		"/v1/data/permsets/allow/extra", "/v1/data/permsets/_input_errors", "/v1/data/permsets/plan/deny",
		"/v1/data/system/main", "/v1/data/permsets%2F..%2Fpermsets_index", "/v1/data//permsets/allow",
		"/v1/batch/data", "/v1/batch/data/permsets", "/v1/batch/data/permsets_index", "/v1/batch/data/permsets/access",
		"/v1/policies", "/v1/policies/x", "/v1/query", "/v1/compile", "/v1/compile/permsets/allow", "/v1/config",
		"/v0/data/permsets/allow", "/", "/v1", "/v1/webhook", "/debug/pprof/", "/bundles/other.tar.gz",
	} {
		for _, m := range []string{"GET", "POST"} {
			if m == "GET" && strings.HasPrefix(p, "/v1/batch/") {
				continue // 405: the batch API is POST only
			}
			r := f.do(m, p, `{"input": {}}`)
			f.expect(r, 404, "resource_not_found")
			if strings.Contains(string(r.raw), "maria") || strings.Contains(string(r.raw), "holdings") {
				t.Fatalf("%s %s leaks the index: %s", m, p, r.raw)
			}
		}
	}
	if n := len(f.log.all()); n != 0 {
		t.Fatalf("%d decisions logged for paths that are not served", n)
	}
}

func TestReadOnly(t *testing.T) {
	f := newFixture(t, false, nil)
	for _, p := range []string{"/v1/data", "/v1/data/permsets/allow", "/v1/data/permsets_index", "/v1/batch/data/permsets/allow",
		"/v1/policies/x", "/v1/status", "/health", "/health/live", "/metrics", "/", "/anything"} {
		for _, m := range []string{"PUT", "PATCH", "DELETE"} {
			r := f.do(m, p, `{}`)
			f.expect(r, 405, "invalid_operation")
		}
	}
	for _, c := range []struct{ method, path, allow string }{
		{"GET", "/v1/batch/data/permsets/allow", "POST"},
		{"POST", "/v1/status", "GET, HEAD"},
		{"POST", "/health", "GET, HEAD"},
		{"POST", "/metrics", "GET, HEAD"},
		{"OPTIONS", "/v1/data/permsets/allow", "GET, POST"},
	} {
		r := f.do(c.method, c.path, `{}`)
		f.expect(r, 405, "invalid_operation")
		if r.header.Get("Allow") != c.allow {
			t.Fatalf("%s %s: Allow %q", c.method, c.path, r.header.Get("Allow"))
		}
	}
}

func TestToken(t *testing.T) {
	const token = "s3cret-token"
	f := newFixture(t, false, func(o *Options) { o.Token = token })
	body := `{"input": {"user": "maria", "instance": "hq", "permission": "settings=read"}}`
	for _, h := range [][]string{
		nil,
		{"Authorization", "Bearer wrong"},
		{"Authorization", "Bearer " + token + "x"},
		{"Authorization", "Bearer " + token[:len(token)-1]},
		{"Authorization", "Basic " + token},
		{"Authorization", token},
		{"Authorization", "Bearer"},
		{"Authorization", "Bearer "},
	} {
		for _, p := range []string{"/v1/data/permsets/allow", "/v1/batch/data/permsets/allow", "/v1/status", "/metrics",
			"/bundles/permsets.tar.gz", "/v1/data/permsets_index", "/nowhere"} {
			r := f.do("POST", p, body, h...)
			f.expect(r, 401, "unauthorized")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		}
		for _, p := range []string{"/health", "/health/live"} {
			f.expect(f.do("GET", p, nil, h...), 200, "")
		}
	}
	for _, scheme := range []string{"Bearer ", "bearer ", "BEARER  "} {
		r := f.do("POST", "/v1/data/permsets/allow", body, "Authorization", scheme+token)
		f.expect(r, 200, "")
		if r.body["result"] != true {
			t.Fatalf("result %s", r.raw)
		}
	}
	f.expect(f.do("GET", "/v1/status", nil, "Authorization", "Bearer "+token), 200, "")
	f.expect(f.do("GET", "/metrics", nil, "Authorization", "Bearer "+token), 200, "")
	f.expect(f.do("GET", "/v1/data/permsets_index", nil, "Authorization", "Bearer "+token), 404, "resource_not_found")
	if n := len(f.log.all()); n != 3 {
		t.Fatalf("%d decisions logged, want the 3 authorized ones", n)
	}
}

// kwame holds field-organizer on campaign until 2027-01-31T23:59:59Z.
const kwameAt = `{"user": "kwame", "instance": "campaign", "permission": "communications=read", "time": %q}`

func TestInputTimeRefused(t *testing.T) {
	f := newFixture(t, false, nil)
	for _, body := range []string{
		`{"input": ` + fmt.Sprintf(kwameAt, "2026-06-01T00:00:00Z") + `}`,
		`{"input": {"user": "kwame", "time": null}}`,
	} {
		r := f.do("POST", "/v1/data/permsets/allow", body)
		f.expect(r, 400, "invalid_parameter")
		if !strings.Contains(r.str("message"), "--allow-input-time") {
			t.Fatalf("message %q", r.str("message"))
		}
	}
	r := f.do("GET", "/v1/data/permsets/decision?input="+url.QueryEscape(fmt.Sprintf(kwameAt, "2026-06-01T00:00:00Z")), nil)
	f.expect(r, 400, "invalid_parameter")
	r = f.do("POST", "/v1/batch/data/permsets/allow", `{"inputs": {"t": `+fmt.Sprintf(kwameAt, "2026-06-01T00:00:00Z")+`}}`)
	item := r.body["responses"].(map[string]any)["t"].(map[string]any)
	if r.status != 207 || item["http_status_code"] != "500" || item["code"] != "invalid_parameter" || !strings.Contains(item["message"].(string), "--allow-input-time") {
		t.Fatalf("batch: %d %s", r.status, r.raw)
	}
	// A time inside the resource, or the key anywhere but at the top, is not the input's time.
	r = f.do("POST", "/v1/data/permsets/allow", `{"input": {"user": "kwame", "instance": "campaign", "permission": "communications=read", "resource": {"time": "x"}}}`)
	f.expect(r, 200, "")
}

func TestInputTimeAllowed(t *testing.T) {
	f := newFixture(t, false, func(o *Options) { o.AllowInputTime = true })
	for when, want := range map[string]bool{"2026-06-01T00:00:00Z": true, "2028-01-01T00:00:00Z": false} {
		r := f.do("POST", "/v1/data/permsets/allow", `{"input": `+fmt.Sprintf(kwameAt, when)+`}`)
		f.expect(r, 200, "")
		if r.body["result"] != want {
			t.Fatalf("at %s: %s", when, r.raw)
		}
	}
	r := f.do("POST", "/v1/data/permsets/decision", `{"input": `+fmt.Sprintf(kwameAt, "yesterday")+`}`)
	f.expect(r, 200, "")
	if d := r.body["result"].(map[string]any); d["allow"] != false || !strings.Contains(d["reason"].(string), "RFC 3339") {
		t.Fatalf("bad time: %s", r.raw)
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t, false, nil)
	pad := strings.Repeat("x", DefaultMaxBodyBytes)
	over := `{"input": {"user": "maria", "pad": "` + pad + `"}}`
	r := f.do("POST", "/v1/data/permsets/allow", over) // with a Content-Length
	f.expect(r, 413, "request_too_large")
	r = f.do("POST", "/v1/data/permsets/allow", io.MultiReader(strings.NewReader(over))) // chunked
	f.expect(r, 413, "request_too_large")
	r = f.do("POST", "/v1/batch/data/permsets/allow", `{"inputs": {"a": {"pad": "`+pad+`"}}}`)
	f.expect(r, 413, "request_too_large")
	// Just under the limit is read and answered.
	under := `{"input": {"user": "maria", "instance": "hq", "permission": "settings=read", "pad": "` +
		pad[:DefaultMaxBodyBytes-200] + `"}}`
	r = f.do("POST", "/v1/data/permsets/allow", io.MultiReader(strings.NewReader(under)))
	f.expect(r, 200, "")
	if r.body["result"] != true {
		t.Fatalf("result %s", r.raw[:100])
	}
	// A smaller limit is honoured.
	g := newFixture(t, false, func(o *Options) { o.MaxBodyBytes = 100 })
	g.expect(g.do("POST", "/v1/data/permsets/allow", `{"input": {"user": "`+strings.Repeat("m", 100)+`"}}`), 413, "request_too_large")
	g.expect(g.do("POST", "/v1/data/permsets/allow", `{"input": {"user": "maria"}}`), 200, "")
}

func TestMalformed(t *testing.T) {
	f := newFixture(t, false, nil)
	for _, body := range []string{
		`{`, `{"input": }`, `{"input": {"user": "maria"}`, `{"input": {"user": "maria"}} trailing`,
		`{"input": {}}{"input": {}}`, `"input"`, `[{"input": {}}]`, `{"input": {"user": 'maria'}}`,
		"\x00\x01\x02", `{"input": NaN}`, `{"input": {"user": "\ud800"`,
	} {
		r := f.do("POST", "/v1/data/permsets/allow", body)
		f.expect(r, 400, "invalid_parameter")
	}
	for _, q := range []string{"{", "maria", `{"user": "maria"} x`, "[1,"} {
		r := f.do("GET", "/v1/data/permsets/allow?input="+url.QueryEscape(q), nil)
		f.expect(r, 400, "invalid_parameter")
	}
	for _, body := range []string{`{`, `{"inputs": [1]}`, `{"inputs": {"a": }}`, `{}`, `{"inputs": null}`,
		`{"inputs": {}, "common_input": 3}`, `[]`} {
		r := f.do("POST", "/v1/batch/data/permsets/allow", body)
		f.expect(r, 400, "invalid_parameter")
	}
	f.expect(f.do("POST", "/v1/data/permsets/allow", `{"input": {}}`, "Content-Encoding", "gzip"), 400, "invalid_parameter")
	if n := len(f.log.all()); n != 0 {
		t.Fatalf("%d decisions logged for malformed requests", n)
	}
}

// TestDeepNesting: an input nested 10,000 (or 300,000) levels deep is refused at once, not
// decoded; 64 levels are fine.
func TestDeepNesting(t *testing.T) {
	f := newFixture(t, false, nil)
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	nestObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	start := time.Now()
	for _, in := range []string{nest(10000), nestObj(10000), nest(300000), strings.Repeat("[", 500000),
		nest(MaxInputDepth + 1), `{"user": "maria", "resource": ` + nestObj(MaxInputDepth) + `}`} {
		r := f.do("POST", "/v1/data/permsets/allow", `{"input": `+in+`}`)
		f.expect(r, 400, "invalid_parameter")
	}
	r := f.do("GET", "/v1/data/permsets/allow?input="+url.QueryEscape(nest(10000)), nil)
	f.expect(r, 400, "invalid_parameter")
	if !strings.Contains(r.str("message"), "nested deeper than 64") {
		t.Fatalf("message %q", r.str("message"))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("deep inputs took %v", d)
	}
	r = f.do("POST", "/v1/data/permsets/allow", `{"input": {"user": "maria", "instance": "hq", "permission": "settings=read", "x": `+nest(MaxInputDepth-1)+`}}`)
	f.expect(r, 200, "")
	// Brackets inside strings do not count.
	r = f.do("POST", "/v1/data/permsets/allow", `{"input": {"user": "`+strings.Repeat(`[{\"`, 1000)+`"}}`)
	f.expect(r, 200, "")
	// In a batch, an item too deep is refused alone; one so deep that the body passes the JSON
	// decoder's own limit (10,000) fails the whole batch.
	r = f.do("POST", "/v1/batch/data/permsets/allow", `{"inputs": {"a": `+nest(10000)+`}}`)
	f.expect(r, 400, "invalid_parameter")
	r = f.do("POST", "/v1/batch/data/permsets/allow", `{"inputs": {"deep": `+nest(5000)+`, "ok": {"user": "maria", "instance": "hq", "permission": "settings=read"}}}`)
	if r.status != 207 {
		t.Fatalf("batch: %d %s", r.status, r.raw)
	}
	resp := r.body["responses"].(map[string]any)
	if resp["deep"].(map[string]any)["http_status_code"] != "500" || resp["ok"].(map[string]any)["result"] != true {
		t.Fatalf("batch: %s", r.raw)
	}
	// The server is still there.
	f.expect(f.do("GET", "/health", nil), 200, "")
}

// TestWrongTypes: ill-typed inputs are answered, not failed: the decision says why.
func TestWrongTypes(t *testing.T) {
	f := newFixture(t, false, nil)
	for in, why := range map[string]string{
		`{"user": 42, "instance": "hq", "permission": "settings=read"}`:                       "input.user must be a string",
		`{"user": "maria", "instance": ["hq"], "permission": "settings=read"}`:                "input.instance must be a string",
		`{"user": "maria", "instance": "hq", "permission": 3.5}`:                              "input.permission must be a string",
		`{"user": "maria", "instance": "hq", "permission": "settings=read", "resource": "x"}`: "input.resource must be an object",
		`"maria"`: "input must be an object",
		`null`:    "input must be an object",
		`[]`:      "input must be an object",
		`{"user": 1e400, "instance": true, "permission": {}}`: "input.user must be a string",
	} {
		r := f.do("POST", "/v1/data/permsets/decision", `{"input": `+in+`}`)
		f.expect(r, 200, "")
		d, _ := r.body["result"].(map[string]any)
		if d == nil || d["allow"] != false || !strings.Contains(fmt.Sprint(d["reason"]), why) {
			t.Fatalf("%s: %s", in, r.raw)
		}
		r = f.do("POST", "/v1/data/permsets/allow", `{"input": `+in+`}`)
		f.expect(r, 200, "")
		if r.body["result"] != false {
			t.Fatalf("allow %s: %s", in, r.raw)
		}
	}
	r := f.do("POST", "/v1/data/permsets/effective", `{"input": {"user": 7, "instance": "hq"}}`)
	f.expect(r, 200, "")
	if e := r.body["result"].(map[string]any); !strings.Contains(fmt.Sprint(e["errors"]), "input.user must be a string") {
		t.Fatalf("effective: %s", r.raw)
	}
}

func TestEmptyInput(t *testing.T) {
	f := newFixture(t, false, nil)
	for _, body := range []string{"", "  \n", "{}", "null", `{"other": 1}`} {
		r := f.do("POST", "/v1/data/permsets/allow", body)
		f.expect(r, 200, "")
		if r.body["result"] != false {
			t.Fatalf("%q: %s", body, r.raw)
		}
		r = f.do("POST", "/v1/data/permsets/decision", body)
		f.expect(r, 200, "")
		if d := r.body["result"].(map[string]any); d["allow"] != false || d["reason"] == "" {
			t.Fatalf("%q: %s", body, r.raw)
		}
	}
	for _, q := range []string{"", "?input="} {
		r := f.do("GET", "/v1/data/permsets/allow"+q, nil)
		f.expect(r, 200, "")
		if r.body["result"] != false {
			t.Fatalf("GET %q: %s", q, r.raw)
		}
	}
	for _, e := range f.log.all() {
		if e.Input != nil {
			t.Fatalf("no input, but logged %v", *e.Input)
		}
	}
}

func TestBatch(t *testing.T) {
	f := newFixture(t, false, nil)
	_, ev, _ := nationC.get(t, nationDir)
	good := map[string]any{
		"maria":  map[string]any{"user": "maria", "instance": "hq", "permission": "settings=read"},
		"devon":  map[string]any{"user": "devon", "instance": "hq", "permission": "settings=read"},
		"typed":  map[string]any{"user": 42, "instance": "hq", "permission": "settings=read"},
		"nobody": map[string]any{"user": "nobody", "instance": "campaign", "permission": "people=read"},
	}
	inputs := map[string]any{"timed": map[string]any{"user": "kwame", "time": "2026-01-01T00:00:00Z"}}
	for k, v := range good {
		inputs[k] = v
	}
	for _, path := range []string{"allow", "decision"} {
		before := len(f.log.all())
		r := f.do("POST", "/v1/batch/data/permsets/"+path, mustJSON(t, map[string]any{"inputs": inputs}))
		if r.status != 207 {
			t.Fatalf("%s: status %d: %s", path, r.status, r.raw)
		}
		batchID := r.str("batch_decision_id")
		if !uuidRE.MatchString(batchID) {
			t.Fatalf("batch id %q", batchID)
		}
		resp := r.body["responses"].(map[string]any)
		if len(resp) != len(inputs) {
			t.Fatalf("%d responses", len(resp))
		}
		ids := map[string]bool{}
		for k, in := range good {
			item := resp[k].(map[string]any)
			want, err := ev.Eval(context.Background(), path, in, engine.EvalOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(item["result"], normalize(t, want)) || item["http_status_code"] != "200" {
				t.Fatalf("%s %s: %v, want %v", path, k, item, want)
			}
			ids[item["decision_id"].(string)] = true
		}
		bad := resp["timed"].(map[string]any)
		if bad["http_status_code"] != "500" || bad["code"] != "invalid_parameter" || bad["result"] != nil ||
			!uuidRE.MatchString(bad["decision_id"].(string)) {
			t.Fatalf("bad item %v", bad)
		}
		ids[bad["decision_id"].(string)] = true
		if len(ids) != len(inputs) {
			t.Fatalf("decision ids repeat: %v", ids)
		}
		es := f.log.all()[before:]
		if len(es) != len(inputs) {
			t.Fatalf("%d entries for %d items", len(es), len(inputs))
		}
		for _, e := range es {
			if e.BatchDecisionID != batchID || !ids[e.DecisionID] || e.Path != "permsets/"+path {
				t.Fatalf("entry %+v", e)
			}
			if (e.Error != nil) != (e.DecisionID == bad["decision_id"]) {
				t.Fatalf("entry error %+v", e)
			}
		}
	}
	// All good: 200, no per-item status.
	r := f.do("POST", "/v1/batch/data/permsets/allow", mustJSON(t, map[string]any{"inputs": good}))
	f.expect(r, 200, "")
	for k, item := range r.body["responses"].(map[string]any) {
		if _, ok := item.(map[string]any)["http_status_code"]; ok {
			t.Fatalf("%s: status on a 200 batch: %v", k, item)
		}
	}
	// common_input is merged under each input.
	r = f.do("POST", "/v1/batch/data/permsets/allow", `{"common_input": {"instance": "hq", "permission": "settings=read"},
		"inputs": {"maria": {"user": "maria"}, "devon": {"user": "devon"}, "other": {"user": "maria", "instance": "nowhere"}}}`)
	f.expect(r, 200, "")
	resp := r.body["responses"].(map[string]any)
	if resp["maria"].(map[string]any)["result"] != true || resp["devon"].(map[string]any)["result"] != false ||
		resp["other"].(map[string]any)["result"] != false {
		t.Fatalf("common_input: %s", r.raw)
	}
	// Empty batch.
	r = f.do("POST", "/v1/batch/data/permsets/allow", `{"inputs": {}}`)
	f.expect(r, 200, "")
	if len(r.body["responses"].(map[string]any)) != 0 {
		t.Fatalf("empty batch: %s", r.raw)
	}
	// Only bad items: still 207 (not all failed with 500).
	r = f.do("POST", "/v1/batch/data/permsets/allow", `{"inputs": {"a": {"time": "x"}}}`)
	if r.status != 207 {
		t.Fatalf("all bad: %d %s", r.status, r.raw)
	}
}

func TestHugeBatch(t *testing.T) {
	f := newFixture(t, false, nil)
	batch := func(n int) string {
		in := make(map[string]any, n)
		for i := range n {
			in[fmt.Sprint(i)] = map[string]any{"user": "devon", "instance": "hq", "permission": "people=read"}
		}
		return mustJSON(t, map[string]any{"inputs": in})
	}
	r := f.do("POST", "/v1/batch/data/permsets/allow", batch(MaxBatchInputs+1))
	f.expect(r, 400, "invalid_parameter")
	if !strings.Contains(r.str("message"), "at most 1000") {
		t.Fatalf("message %q", r.str("message"))
	}
	if n := len(f.log.all()); n != 0 {
		t.Fatalf("%d entries for a refused batch", n)
	}
	r = f.do("POST", "/v1/batch/data/permsets/allow", batch(MaxBatchInputs))
	f.expect(r, 200, "")
	if n := len(r.body["responses"].(map[string]any)); n != MaxBatchInputs {
		t.Fatalf("%d responses", n)
	}
	if n := len(f.log.all()); n != MaxBatchInputs {
		t.Fatalf("%d entries", n)
	}
	// Many tiny items within 1 MiB are refused by count, fast.
	var b strings.Builder
	b.WriteString(`{"inputs": {`)
	for i := range 100000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%d":0`, i)
	}
	b.WriteString("}}")
	f.expect(f.do("POST", "/v1/batch/data/permsets/allow", b.String()), 400, "invalid_parameter")
}

func TestHealthAndNoRevision(t *testing.T) {
	f := newFixture(t, true, nil)
	r := f.do("GET", "/health", nil)
	if r.status != 500 || r.str("error") == "" {
		t.Fatalf("health before a revision: %d %s", r.status, r.raw)
	}
	f.expect(f.do("GET", "/health/live", nil), 200, "")
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/data/permsets/allow", `{"input": {}}`},
		{"GET", "/v1/data/permsets/decision", ""},
		{"POST", "/v1/batch/data/permsets/allow", `{"inputs": {"a": {}}}`},
		{"GET", "/bundles/permsets.tar.gz", ""},
	} {
		r := f.do(c.method, c.path, c.body)
		f.expect(r, 500, "internal_error")
		if r.str("message") != "no revision loaded yet" {
			t.Fatalf("message %q", r.str("message"))
		}
	}
	f.expect(f.do("GET", "/v1/data/permsets_index", nil), 404, "resource_not_found")
	r = f.do("GET", "/v1/status", nil)
	f.expect(r, 200, "")
	if r.str("revision") != "" || r.body["generation"] != json.Number("0") {
		t.Fatalf("status before a revision: %s", r.raw)
	}
	f.state.Publish(nationSnapshot(t, 1))
	r = f.do("GET", "/health", nil)
	f.expect(r, 200, "")
	if string(r.raw) != "{}\n" {
		t.Fatalf("health %q", r.raw)
	}
	f.expect(f.do("HEAD", "/health", nil), 200, "")
	f.expect(f.do("POST", "/v1/data/permsets/allow", `{"input": {}}`), 200, "")
}

func TestStatus(t *testing.T) {
	f := newFixture(t, false, nil)
	failedAt := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	f.state.SetStatus(snapshot.Status{Source: "git https://example.com/config.git@live", LastError: "config.yaml:1:1: bad",
		LastErrorAt: failedAt, ReloadsOK: 3, ReloadsFailed: 1, SourceOK: true})
	snap := f.state.Current()
	r := f.do("GET", "/v1/status", nil)
	f.expect(r, 200, "")
	want := map[string]any{
		"source": "git https://example.com/config.git@live", "revision": snap.Revision, "commit": snap.Commit,
		"generation": json.Number("1"), "loaded_at": snap.LoadedAt.UTC().Format(time.RFC3339),
		"last_error": "config.yaml:1:1: bad", "last_error_at": "2026-03-04T05:06:07Z",
		"reloads": map[string]any{"ok": json.Number("3"), "failed": json.Number("1")}, "source_ok": true,
		"version": engine.Version,
	}
	for k, v := range want {
		if !reflect.DeepEqual(r.body[k], v) {
			t.Fatalf("%s: %v, want %v (%s)", k, r.body[k], v, r.raw)
		}
	}
	counts := r.body["counts"].(map[string]any)
	if counts["instances"] != json.Number("2") || counts["users"] != json.Number("10") || counts["files"] == json.Number("0") {
		t.Fatalf("counts %v", counts)
	}
	if _, err := time.Parse(time.RFC3339, r.str("loaded_at")); err != nil {
		t.Fatal(err)
	}
	// A good reload clears the error: last_error is then left out.
	f.state.SetStatus(snapshot.Status{Source: "dir /x", ReloadsOK: 4, ReloadsFailed: 1, SourceOK: true})
	r = f.do("GET", "/v1/status?pretty", nil)
	if _, ok := r.body["last_error"]; ok {
		t.Fatalf("last_error after a good reload: %s", r.raw)
	}
	if _, ok := r.body["last_error_at"]; ok {
		t.Fatalf("last_error_at after a good reload: %s", r.raw)
	}
}

func (f *fixture) metricsText() string {
	f.t.Helper()
	r := f.do("GET", "/metrics", nil)
	f.expect(r, 200, "")
	return string(r.raw)
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, false, nil)
	f.state.SetStatus(snapshot.Status{ReloadsOK: 5, ReloadsFailed: 2, SourceOK: true})
	allow := `{"input": {"user": "maria", "instance": "hq", "permission": "settings=read"}}`
	deny := `{"input": {"user": "devon", "instance": "hq", "permission": "settings=read"}}`
	for range 3 {
		f.expect(f.do("POST", "/v1/data/permsets/allow", allow), 200, "")
	}
	f.expect(f.do("POST", "/v1/data/permsets/allow", deny), 200, "")
	f.expect(f.do("POST", "/v1/data/permsets/decision", deny), 200, "")
	f.expect(f.do("POST", "/v1/batch/data/permsets/allow", `{"inputs": {"a": {"user": "maria", "instance": "hq", "permission": "settings=read"}, "b": {"time": "x"}}}`), 207, "")
	f.expect(f.do("POST", "/v1/data/permsets/allow", `{`), 400, "invalid_parameter")
	f.expect(f.do("GET", "/v1/data/permsets_index", nil), 404, "resource_not_found")
	text := f.metricsText()
	snap := f.state.Current()
	for _, want := range []string{
		`permsets_decisions_total{path="allow",result="allow"} 4`,
		`permsets_decisions_total{path="allow",result="deny"} 1`,
		`permsets_decisions_total{path="allow",result="error"} 1`,
		`permsets_decisions_total{path="decision",result="ok"} 1`,
		`permsets_decisions_total{path="who_can",result="ok"} 0`,
		`permsets_decision_duration_seconds_count{path="allow"} 6`,
		`permsets_decision_duration_seconds_bucket{path="decision",le="+Inf"} 1`,
		`permsets_reloads_total{result="ok"} 5`,
		`permsets_reloads_total{result="failed"} 2`,
		`permsets_revision_info{commit="` + snap.Commit + `",revision="` + snap.Revision + `"} 1`,
		`permsets_generation 1`,
		`permsets_source_ok 1`,
		`permsets_objects{kind="users"} 10`,
		`permsets_http_requests_total{code="200",handler="data"} 5`,
		`permsets_http_requests_total{code="207",handler="batch"} 1`,
		`permsets_http_requests_total{code="400",handler="data"} 1`,
		`permsets_http_requests_total{code="404",handler="data"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, `path="decision",result="allow"`) {
		t.Error("allow/deny results on a non-boolean path")
	}
	// The State is read at scrape time.
	f.state.SetStatus(snapshot.Status{ReloadsOK: 6, ReloadsFailed: 2})
	f.state.Publish(devonAdminSnapshot(t, 2))
	text = f.metricsText()
	for _, want := range []string{`permsets_reloads_total{result="ok"} 6`, `permsets_generation 2`, `permsets_source_ok 0`,
		`revision="` + f.state.Current().Revision + `"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("after a reload, metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

func TestBundle(t *testing.T) {
	f := newFixture(t, false, nil)
	snap := f.state.Current()
	r := f.do("GET", "/bundles/permsets.tar.gz", nil)
	f.expect(r, 200, "")
	if r.header.Get("ETag") != `"`+snap.Revision+`"` || r.header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("headers %v", r.header)
	}
	zr, err := gzip.NewReader(strings.NewReader(string(r.raw)))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	found := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		found[h.Name] = true
		if h.Name == "/.manifest" || h.Name == ".manifest" {
			b, _ := io.ReadAll(tr)
			if !strings.Contains(string(b), snap.Revision) {
				t.Fatalf("manifest %s", b)
			}
		}
	}
	if !found["/.manifest"] && !found[".manifest"] {
		t.Fatalf("no manifest in %v", found)
	}
	for _, inm := range []string{`"` + snap.Revision + `"`, `W/"` + snap.Revision + `"`, `"other", "` + snap.Revision + `"`, "*"} {
		r = f.do("GET", "/bundles/permsets.tar.gz", nil, "If-None-Match", inm)
		if r.status != 304 || len(r.raw) != 0 {
			t.Fatalf("If-None-Match %s: %d", inm, r.status)
		}
	}
	r = f.do("GET", "/bundles/permsets.tar.gz", nil, "If-None-Match", `"old"`)
	f.expect(r, 200, "")
	f.state.Publish(devonAdminSnapshot(t, 2))
	r = f.do("GET", "/bundles/permsets.tar.gz", nil, "If-None-Match", `"`+snap.Revision+`"`)
	if r.status != 200 || r.header.Get("ETag") != `"`+f.state.Current().Revision+`"` {
		t.Fatalf("after a reload: %d %v", r.status, r.header)
	}
}

// TestBundleBuiltOnce: agents polling after a reload all ask for the new bundle at once; every
// one of them gets the same bytes (that the bundle is written once is engine's TestTarGzOnce).
func TestBundleBuiltOnce(t *testing.T) {
	f := newFixture(t, false, nil)
	for gen := uint64(2); gen <= 3; gen++ {
		if gen == 3 {
			f.state.Publish(devonAdminSnapshot(t, gen))
		}
		const agents = 8
		bodies := make(chan string, agents)
		var wg sync.WaitGroup
		for range agents {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := f.do("GET", "/bundles/permsets.tar.gz", nil)
				if r.status != 200 {
					t.Errorf("status %d", r.status)
				}
				bodies <- string(r.raw)
			}()
		}
		wg.Wait()
		close(bodies)
		first := <-bodies
		for b := range bodies {
			if b != first {
				t.Fatal("agents got different bundles of one revision")
			}
		}
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("no State accepted")
	}
	reg := prometheus.NewRegistry()
	st := &snapshot.State{}
	if _, err := New(Options{State: st, Registry: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{State: st, Registry: reg}); err == nil {
		t.Fatal("metrics registered twice on one registry")
	}
	h, err := New(Options{State: st}) // a private registry, no log, no decision log
	if err != nil {
		t.Fatal(err)
	}
	st.Publish(nationSnapshot(t, 1))
	rec := recorder(h, "POST", "/v1/data/permsets/allow", `{"input": {"user": "maria", "instance": "hq", "permission": "settings=read"}}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"result":true`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// TestHandlers: a mounted handler is served at its exact path, with no bearer token and every
// method; its neighbours are the handler's own; a path of the handler's own cannot be taken.
func TestHandlers(t *testing.T) {
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusMultiStatus) // a status the metrics count by name
	})
	f := newFixture(t, false, func(o *Options) {
		o.Token = "s3cret-token"
		o.Handlers = map[string]http.Handler{"/v1/webhook": hook}
	})
	for _, method := range []string{"POST", "GET", "DELETE"} {
		if r := f.do(method, "/v1/webhook", nil); r.status != http.StatusMultiStatus {
			t.Errorf("%s /v1/webhook: %d %s", method, r.status, r.raw)
		}
	}
	f.expect(f.do("POST", "/v1/webhook/", nil), 401, "unauthorized")
	f.expect(f.do("GET", "/v1/status", nil), 401, "unauthorized")
	m := f.do("GET", "/metrics", nil, "Authorization", "Bearer s3cret-token")
	f.expect(m, 200, "")
	for _, line := range strings.Split(string(m.raw), "\n") {
		if strings.HasPrefix(line, "permsets_http_requests_total{") && strings.Contains(line, `status="207"`) && !strings.HasSuffix(line, " 0") {
			t.Errorf("a mounted handler's request counted in the metrics: %s", line)
		}
	}
	for _, p := range []string{"/health", "/v1/data/permsets/allow", "/v1/batch/data", "webhook"} {
		if _, err := New(Options{State: &snapshot.State{}, Handlers: map[string]http.Handler{p: hook}}); err == nil {
			t.Errorf("a handler at %q accepted", p)
		}
	}
}

// TestCancelledRequest: a request whose client is gone does not crash or hang the handler.
func TestCancelledRequest(t *testing.T) {
	st := &snapshot.State{}
	st.Publish(nationSnapshot(t, 1))
	h, err := New(Options{State: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := newRequest("POST", "/v1/batch/data/permsets/allow", `{"inputs": {"a": {}, "b": {}}}`).WithContext(ctx)
	rec := newRecorder()
	h.ServeHTTP(rec, req)
	req = newRequest("POST", "/v1/data/permsets/allow", `{"input": {}}`).WithContext(ctx)
	rec = newRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 500 && rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
}

// countingSink is a decision log that reports its counters.
type countingSink struct {
	DecisionSink
	status decisionlog.Status
}

func (s countingSink) Status() decisionlog.Status { return s.status }

// TestStatusDecisionLog: /v1/status shows the decision log's counters when there is one.
func TestStatusDecisionLog(t *testing.T) {
	f := newFixture(t, false, nil)
	r := f.do("GET", "/v1/status", nil)
	f.expect(r, 200, "")
	if _, ok := r.body["decision_log"]; ok {
		t.Fatalf("decision_log without a decision log: %s", r.raw)
	}
	f = newFixture(t, false, func(o *Options) {
		o.DecisionLog = countingSink{o.DecisionLog, decisionlog.Status{Written: 5, Dropped: 3, Failed: 1, BufferedBytes: 1024, BufferBytes: 64 << 20}}
	})
	r = f.do("GET", "/v1/status", nil)
	f.expect(r, 200, "")
	want := map[string]any{"written": json.Number("5"), "dropped": json.Number("3"), "failed": json.Number("1"),
		"buffered_bytes": json.Number("1024"), "buffer_bytes": json.Number("67108864")}
	if !reflect.DeepEqual(r.body["decision_log"], want) {
		t.Fatalf("decision_log %v", r.body["decision_log"])
	}
}
