package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/daemon/decisionlog"
	"github.com/permsets/permsets/daemon/snapshot"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/testutil"
)

// compiled is one example compiled once per test binary.
type compiled struct {
	once   sync.Once
	bundle *engine.Bundle
	eval   *engine.Evaluator
	counts snapshot.Counts
	err    error
}

var (
	nationC    compiled
	devonAdmin compiled // nation, with devon given admin on hq
)

func (c *compiled) get(t testing.TB, dir func(testing.TB) string) (*engine.Bundle, *engine.Evaluator, snapshot.Counts) {
	t.Helper()
	c.once.Do(func() {
		ctx := context.Background()
		res, err := config.LoadDir(ctx, dir(t), config.Options{})
		if err != nil {
			c.err = err
			return
		}
		if !res.OK() {
			c.err = &loadError{res.Problems}
			return
		}
		if c.bundle, c.err = engine.NewBundle(res.Model, "0123456789abcdef0123456789abcdef01234567"); c.err != nil {
			return
		}
		c.eval, c.err = engine.NewEvaluator(ctx, c.bundle)
		m := res.Model
		c.counts = snapshot.Counts{Instances: len(m.Instances), Sets: len(m.Sets), Roles: len(m.Roles),
			Users: len(m.Users), Assignments: len(m.Assignments), Files: res.Files}
	})
	if c.err != nil {
		t.Fatal(c.err)
	}
	return c.bundle, c.eval, c.counts
}

type loadError struct{ problems []config.Problem }

func (e *loadError) Error() string {
	var b strings.Builder
	for _, p := range e.problems {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

func nationDir(testing.TB) string { return "../../examples/nation" }

// nationSnapshot is examples/nation as generation gen.
func nationSnapshot(t testing.TB, gen uint64) *snapshot.Snapshot {
	b, ev, counts := nationC.get(t, nationDir)
	return &snapshot.Snapshot{Evaluator: ev, Bundle: b, Revision: b.Revision, Commit: b.Commit,
		Generation: gen, LoadedAt: time.Now(), Counts: counts}
}

// devonAdminSnapshot is examples/nation with devon given admin on hq, as generation gen.
func devonAdminSnapshot(t testing.TB, gen uint64) *snapshot.Snapshot {
	b, ev, counts := devonAdmin.get(t, func(t testing.TB) string {
		dir := testutil.CopyTree(t, "../../examples/nation")
		testutil.WriteFile(t, dir, "assignments/devon-admin.yaml", `apiVersion: permsets/v1
kind: Assignment
id: devon-admin-hq
instance: hq
users: [devon]
permissionSets: [admin]
`)
		return dir
	})
	return &snapshot.Snapshot{Evaluator: ev, Bundle: b, Revision: b.Revision, Commit: b.Commit,
		Generation: gen, LoadedAt: time.Now(), Counts: counts}
}

// entries collects decision-log entries.
type entries struct {
	mu   sync.Mutex
	list []decisionlog.Entry
}

func (e *entries) Log(x decisionlog.Entry) {
	e.mu.Lock()
	e.list = append(e.list, x)
	e.mu.Unlock()
}

func (e *entries) all() []decisionlog.Entry {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]decisionlog.Entry(nil), e.list...)
}

type fixture struct {
	t     *testing.T
	srv   *httptest.Server
	state *snapshot.State
	log   *entries
	reg   *prometheus.Registry
}

// newFixture serves nation (unless empty) over a real HTTP server on 127.0.0.1.
func newFixture(t *testing.T, empty bool, tweak func(*Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, state: &snapshot.State{}, log: &entries{}, reg: prometheus.NewRegistry()}
	if !empty {
		f.state.Publish(nationSnapshot(t, 1))
	}
	o := Options{State: f.state, Registry: f.reg, DecisionLog: f.log}
	if tweak != nil {
		tweak(&o)
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// response is one answer, its body decoded (numbers as json.Number) when it is JSON.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r *response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// do sends a request; body may be a string, []byte or io.Reader (sent chunked).
func (f *fixture) do(method, path string, body any, header ...string) *response {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	r := &response{status: res.StatusCode, header: res.Header, raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(raw) > 0 {
		if err := unmarshalNumber(raw, &r.body); err != nil {
			f.t.Fatalf("%s %s: %v in %q", method, path, err, raw)
		}
	}
	return r
}

func unmarshalNumber(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// expect fails unless the response has the status (and, for errors, the OPA error code).
func (f *fixture) expect(r *response, status int, code string) {
	f.t.Helper()
	if r.status != status {
		f.t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if code != "" && r.str("code") != code {
		f.t.Fatalf("code %q, want %q: %s", r.str("code"), code, r.raw)
	}
	if code != "" && r.str("message") == "" {
		f.t.Fatalf("error without a message: %s", r.raw)
	}
}

// normalize turns a Go value into what its JSON decodes to, numbers as json.Number.
func normalize(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := unmarshalNumber(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
