package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/permsets/permsets/daemon/decisionlog"
	"github.com/permsets/permsets/daemon/snapshot"
	"github.com/permsets/permsets/engine"
)

func newRequest(method, path, body string) *http.Request {
	return httptest.NewRequest(method, path, strings.NewReader(body))
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func recorder(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	rec := newRecorder()
	h.ServeHTTP(rec, newRequest(method, path, body))
	return rec
}

var (
	fuzzOnce    sync.Once
	fuzzHandler http.Handler
)

// FuzzDecisionBody posts arbitrary bodies to the decision and batch endpoints (no network):
// nothing panics, and every answer is 200 (207 for a batch with bad items), 400 or 413, JSON,
// with a decision id or an OPA error code.
func FuzzDecisionBody(f *testing.F) {
	for _, s := range []string{
		`{"input":{"user":"alice","instance":"campaign","permission":"finances=export"}}`,
		`{"input":{"user":"sam","instance":"campaign","permission":"people=read","resource":{"id":"p","point_person":["sam"]}}}`,
		`{"input":{"user":"maria","instance":"hq","method":"GET","path":"/settings"}}`,
		`{"input":{"user":1,"instance":[],"permission":{}}}`,
		`{"input":{"user":"kwame","time":"2020-01-01T00:00:00Z"}}`,
		`{"input":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
		`{"inputs":{"a":{"user":"maria","instance":"hq","permission":"settings=read"},"b":{"time":"x"}}}`,
		`{"inputs":{"a":{}},"common_input":{"instance":"hq"}}`,
		`{"input":"\ud800"}`, `{"input":1e999}`, `{"input":{}} x`, `{`, ``, `null`, `[]`, `"x"`,
		strings.Repeat(`{"input":`, 100),
	} {
		for sel := range byte(6) {
			f.Add(sel, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, sel byte, body []byte) {
		fuzzOnce.Do(func() {
			st := &snapshot.State{}
			st.Publish(nationSnapshot(t, 1))
			h, err := New(Options{State: st, MaxBodyBytes: 64 << 10, DecisionLog: DecisionSinkFunc(func(decisionlog.Entry) {})})
			if err != nil {
				t.Fatal(err)
			}
			fuzzHandler = h
		})
		batch := sel%6 == 5
		path := "/v1/data/permsets/" + engine.DecisionPaths[int(sel%6)%len(engine.DecisionPaths)]
		if batch {
			path = "/v1/batch/data/permsets/" + engine.DecisionPaths[int(sel/6)%len(engine.DecisionPaths)]
		}
		rec := recorder(fuzzHandler, "POST", path, string(body))
		var resp map[string]any
		if err := unmarshalNumber(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("%d, not JSON: %v: %q", rec.Code, err, rec.Body)
		}
		switch {
		case rec.Code == 200 && !batch:
			if !uuidRE.MatchString(resp["decision_id"].(string)) {
				t.Fatalf("no decision id: %s", rec.Body)
			}
		case (rec.Code == 200 || rec.Code == 207) && batch:
			if _, ok := resp["responses"].(map[string]any); !ok {
				t.Fatalf("no responses: %s", rec.Body)
			}
		case rec.Code == 400 && resp["code"] == "invalid_parameter",
			rec.Code == 413 && resp["code"] == CodeRequestTooLarge:
		default:
			t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, rec.Body)
		}
	})
}
