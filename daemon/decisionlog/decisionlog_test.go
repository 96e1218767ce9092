package decisionlog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/permsets/permsets/internal/testutil"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestParseMasks(t *testing.T) {
	for _, tc := range []struct {
		note, list string
		want       []string // pointers; nil with err
		err        string
	}{
		{note: "empty", list: "", want: nil},
		{note: "blank", list: "  ", want: nil},
		{note: "two", list: "/input/password, /input/resource/ssn", want: []string{"/input/password", "/input/resource/ssn"}},
		{note: "duplicate", list: "/input/a,/input/a", want: []string{"/input/a"}},
		{note: "whole documents", list: "/input,/result", want: []string{"/input", "/result"}},
		{note: "array index", list: "/input/items/0", want: []string{"/input/items/0"}},
		{note: "escaped slash", list: "/input/a%2Fb", want: []string{"/input/a%2Fb"}},
		{note: "no slash", list: "input/password", err: "starts with /"},
		{note: "other root", list: "/request/password", err: "starts with /input or /result"},
		{note: "root only", list: "/", err: "starts with /input or /result"},
		{note: "empty segment", list: "/input//x", err: "empty segment"},
		{note: "trailing slash", list: "/input/x/", err: "empty segment"},
		{note: "bad escape", list: "/input/%zz", err: "bad escape"},
		{note: "empty item", list: "/input/a,,/input/b", err: "empty pointer"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			ms, err := ParseMasks(tc.list)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMaskApply(t *testing.T) {
	const input = `{"user": "alice", "password": "pw", "resource": {"ssn": "123", "name": "x"},
		"items": [{"secret": 1, "keep": 2}, "b", "c"], "a/b": 1}`
	const result = `{"allow": true, "reason": "held"}`
	for _, tc := range []struct {
		note       string
		masks      string
		wantInput  string // "" for no input
		wantResult string
		erased     []string
	}{
		{note: "top-level", masks: "/input/password",
			wantInput: `{"user": "alice", "resource": {"ssn": "123", "name": "x"}, "items": [{"secret": 1, "keep": 2}, "b", "c"], "a/b": 1}`,
			erased:    []string{"/input/password"}},
		{note: "nested", masks: "/input/resource/ssn",
			wantInput: `{"user": "alice", "password": "pw", "resource": {"name": "x"}, "items": [{"secret": 1, "keep": 2}, "b", "c"], "a/b": 1}`,
			erased:    []string{"/input/resource/ssn"}},
		{note: "missing", masks: "/input/nope,/input/resource/nope/deeper,/input/user/x",
			wantInput: input},
		{note: "array index", masks: "/input/items/1",
			wantInput: `{"user": "alice", "password": "pw", "resource": {"ssn": "123", "name": "x"}, "items": [{"secret": 1, "keep": 2}, "c"], "a/b": 1}`,
			erased:    []string{"/input/items/1"}},
		{note: "into an array element", masks: "/input/items/0/secret",
			wantInput: `{"user": "alice", "password": "pw", "resource": {"ssn": "123", "name": "x"}, "items": [{"keep": 2}, "b", "c"], "a/b": 1}`,
			erased:    []string{"/input/items/0/secret"}},
		// Each pointer names a value of the entry as logged: removing element 0 does not make
		// /input/items/1 name what was element 2.
		{note: "two elements of one array", masks: "/input/items/0,/input/items/1",
			wantInput: `{"user": "alice", "password": "pw", "resource": {"ssn": "123", "name": "x"}, "items": ["c"], "a/b": 1}`,
			erased:    []string{"/input/items/0", "/input/items/1"}},
		{note: "an element and one inside it", masks: "/input/items/0,/input/items/0/secret,/input/items/2",
			wantInput: `{"user": "alice", "password": "pw", "resource": {"ssn": "123", "name": "x"}, "items": ["b"], "a/b": 1}`,
			erased:    []string{"/input/items/0", "/input/items/0/secret", "/input/items/2"}},
		{note: "bad indexes", masks: "/input/items/3,/input/items/-1,/input/items/x,/input/items/01",
			wantInput: input},
		{note: "escaped key", masks: "/input/a%2Fb",
			wantInput: `{"user": "alice", "password": "pw", "resource": {"ssn": "123", "name": "x"}, "items": [{"secret": 1, "keep": 2}, "b", "c"]}`,
			erased:    []string{"/input/a%2Fb"}},
		{note: "whole input", masks: "/input", erased: []string{"/input"}},
		{note: "result", masks: "/result/reason,/input/password,/input/resource",
			wantInput:  `{"user": "alice", "items": [{"secret": 1, "keep": 2}, "b", "c"], "a/b": 1}`,
			wantResult: `{"allow": true}`,
			erased:     []string{"/result/reason", "/input/password", "/input/resource"}},
	} {
		t.Run(tc.note, func(t *testing.T) {
			ms, err := ParseMasks(tc.masks)
			if err != nil {
				t.Fatal(err)
			}
			in, res := decodeJSON(t, input), decodeJSON(t, result)
			e := Entry{Input: &in, Result: &res}
			w := &Writer{mask: ms}
			ev := w.event(e)
			if tc.wantInput == "" {
				if ev.Input != nil {
					t.Fatalf("input %v, want none", *ev.Input)
				}
			} else if !reflect.DeepEqual(*ev.Input, decodeJSON(t, tc.wantInput)) {
				t.Fatalf("input %v", *ev.Input)
			}
			wantResult := tc.wantResult
			if wantResult == "" {
				wantResult = result
			}
			if !reflect.DeepEqual(*ev.Result, decodeJSON(t, wantResult)) {
				t.Fatalf("result %v", *ev.Result)
			}
			if !reflect.DeepEqual(ev.Erased, tc.erased) {
				t.Fatalf("erased %q, want %q", ev.Erased, tc.erased)
			}
			// The entry's documents are shared with the response: untouched.
			if !reflect.DeepEqual(in, decodeJSON(t, input)) || !reflect.DeepEqual(res, decodeJSON(t, result)) ||
				e.Input != &in || e.Result != &res {
				t.Fatalf("the entry was modified: %v %v", in, res)
			}
		})
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func entry(id string) Entry {
	var in any = map[string]any{"user": "alice", "password": "pw"}
	var res any = true
	return Entry{DecisionID: id, Path: "permsets/allow", Revision: "r1", Generation: 1,
		Bundles: map[string]BundleInfo{"permsets": {Revision: "r1"}}, Input: &in, Result: &res,
		RequestedBy: "127.0.0.1:1234", Timestamp: time.Now().UTC(), Metrics: map[string]any{"timer_server_handler_ns": 10}}
}

func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// opaEventFields reads the JSON names of the fields of OPA's logs.EventV1 from its source in
// the module cache (importing the package would pull in its plugin dependencies, which this
// module does not otherwise need).
func opaEventFields(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/open-policy-agent/opa").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	file := filepath.Join(strings.TrimSpace(string(out)), "v1", "plugins", "logs", "plugin.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "EventV1" {
			return true
		}
		for _, fd := range ts.Type.(*ast.StructType).Fields.List {
			if fd.Tag == nil {
				continue
			}
			tag, _ := strconv.Unquote(fd.Tag.Value)
			name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = true
			}
		}
		return false
	})
	if len(fields) < 10 {
		t.Fatalf("EventV1 not found in %s (%d fields)", file, len(fields))
	}
	return fields
}

// TestEventIsOPAs: every field of Event is a field of OPA's logs.EventV1, by the same JSON
// name, but permsd's commit and generation.
func TestEventIsOPAs(t *testing.T) {
	opa := opaEventFields(t)
	rt := reflect.TypeOf(Event{})
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name == "commit" || name == "generation" {
			continue
		}
		if !opa[name] {
			t.Errorf("Event.%s (%q) is not a field of OPA's EventV1", rt.Field(i).Name, name)
		}
	}
}

// TestLineShape: a line decodes into Event with no field left over, and carries what the
// entry held.
func TestLineShape(t *testing.T) {
	var out testutil.SyncBuffer
	ms, _ := ParseMasks("/input/password")
	w, err := New(&out, Options{Mask: ms, Labels: map[string]string{"env": "test"}})
	if err != nil {
		t.Fatal(err)
	}
	e := entry("d1")
	e.BatchDecisionID, e.Commit = "b1", "abc"
	w.Log(e)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	ls := lines(out.String())
	if len(ls) != 1 {
		t.Fatalf("%d lines: %s", len(ls), out.String())
	}
	var got Event
	d := json.NewDecoder(strings.NewReader(ls[0]))
	d.DisallowUnknownFields()
	if err := d.Decode(&got); err != nil {
		t.Fatalf("%v: %s", err, ls[0])
	}
	if got.DecisionID != "d1" || got.BatchDecisionID != "b1" || got.Path != "permsets/allow" || got.Revision != "r1" ||
		got.Bundles["permsets"].Revision != "r1" || got.Commit != "abc" || got.Generation != 1 ||
		got.RequestedBy != "127.0.0.1:1234" || got.Labels["env"] != "test" || got.Labels["id"] == "" ||
		got.Labels["version"] == "" || !reflect.DeepEqual(got.Erased, []string{"/input/password"}) ||
		got.Metrics["timer_server_handler_ns"] != 10.0 || time.Since(got.Timestamp) > time.Minute {
		t.Fatalf("event %+v", got)
	}
	if in := (*got.Input).(map[string]any); in["password"] != nil || in["user"] != "alice" {
		t.Fatalf("input %v", in)
	}
	if (*e.Input).(map[string]any)["password"] != "pw" {
		t.Fatal("the mask modified the entry")
	}
}

// blockingWriter blocks every Write until released.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
	out     testutil.SyncBuffer
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-b.release
	return b.out.Write(p)
}

func TestFullBufferDropsWithoutBlocking(t *testing.T) {
	bw := &blockingWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	reg := prometheus.NewRegistry()
	w, err := New(bw, Options{Buffer: 2, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	w.Log(entry("first"))
	select {
	case <-bw.entered: // the writer holds "first" and is stuck writing it
	case <-time.After(5 * time.Second):
		t.Fatal("the writer never wrote")
	}
	start := time.Now()
	for i := range 12 {
		w.Log(entry(string(rune('a' + i))))
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Log blocked for %v on a full buffer", took)
	}
	if got := counter(t, reg, "permsets_decision_logs_dropped_total"); got != 10 {
		t.Fatalf("dropped %v, want 10", got)
	}
	close(bw.release)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	ls := lines(bw.out.String())
	if len(ls) != 3 || !strings.Contains(ls[0], `"first"`) {
		t.Fatalf("%d lines:\n%s", len(ls), bw.out.String())
	}
	if got := counter(t, reg, "permsets_decision_logs_written_total"); got != 3 {
		t.Fatalf("written %v, want 3", got)
	}
	w.Log(entry("after close"))
	if got := counter(t, reg, "permsets_decision_logs_dropped_total"); got != 11 {
		t.Fatalf("an entry after Close: dropped %v, want 11", got)
	}
}

func TestCloseFlushes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "decisions.log")
	if err := os.WriteFile(path, []byte("{\"earlier\": 1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		w.Log(entry(strings.Repeat("x", i%7)))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil { // twice is fine
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if ls := lines(string(data)); len(ls) != 501 || ls[0] != `{"earlier": 1}` {
		t.Fatalf("%d lines, the first %q", len(ls), ls[0])
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}

	// A new file is created 0600.
	fresh := filepath.Join(t.TempDir(), "new.log")
	w, err = Open(fresh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close(context.Background())
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new file: %v %v", fi, err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir"), Options{}); err == nil {
		t.Fatal("opened a file in a missing directory")
	}
	if w, err := Open("-", Options{}); err != nil || w.out != os.Stdout || w.closer != nil {
		t.Fatalf("Open(-): %v", err)
	} else {
		w.Close(context.Background())
	}
	var nilWriter *Writer
	if nilWriter.Close(context.Background()) != nil {
		t.Fatal("a nil Writer is not an off log")
	}
}

func TestCloseTimesOut(t *testing.T) {
	bw := &blockingWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	w, err := New(bw, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Log(entry("stuck"))
	<-bw.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close on a stuck writer: %v", err)
	}
	close(bw.release)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// failingWriter fails while fail is set.
type failingWriter struct {
	mu   sync.Mutex
	fail bool
	out  bytes.Buffer
}

func (f *failingWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return 0, errors.New("disk full")
	}
	return f.out.Write(p)
}

func (f *failingWriter) set(fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

func TestWriteErrorLoggedOnce(t *testing.T) {
	fw := &failingWriter{fail: true}
	var logs testutil.SyncBuffer
	reg := prometheus.NewRegistry()
	w, err := New(fw, Options{Registry: reg, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	waitCount := func(name string, n float64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); counter(t, reg, name) < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s stayed at %v, want %v", name, counter(t, reg, name), n)
			}
		}
	}
	for i := range 3 {
		w.Log(entry("lost"))
		waitCount("permsets_decision_logs_failed_total", float64(i+1))
	}
	fw.set(false)
	w.Log(entry("kept"))
	waitCount("permsets_decision_logs_written_total", 1)
	fw.set(true)
	w.Log(entry("lost again"))
	waitCount("permsets_decision_logs_failed_total", 4)
	if err := w.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err) // the write errors were logged and counted already
	}
	text := logs.String()
	if n := strings.Count(text, "write failed"); n != 2 {
		t.Fatalf("the write error logged %d times (want once per outage, 2):\n%s", n, text)
	}
	if n := strings.Count(text, "writing again"); n != 1 {
		t.Fatalf("the recovery logged %d times:\n%s", n, text)
	}
	if !strings.Contains(fw.out.String(), `"kept"`) {
		t.Fatalf("output %s", fw.out.String())
	}
}

func TestRegistryConflict(t *testing.T) {
	reg := prometheus.NewRegistry()
	w, err := New(&testutil.SyncBuffer{}, Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	if _, err := New(&testutil.SyncBuffer{}, Options{Registry: reg}); err == nil {
		t.Fatal("registered the counters twice")
	}
}

// TestCommonLine: a batch's common_input is a line of OPA's shape marked by custom.common_input,
// masked as the items' inputs are.
func TestCommonLine(t *testing.T) {
	var out testutil.SyncBuffer
	ms, _ := ParseMasks("/input/password")
	w, err := New(&out, Options{Mask: ms})
	if err != nil {
		t.Fatal(err)
	}
	var in any = map[string]any{"instance": "hq", "password": "pw"}
	w.Log(Entry{DecisionID: "b1", BatchDecisionID: "b1", Common: true, Path: "permsets/allow", Input: &in,
		Revision: "r1", Timestamp: time.Now().UTC()})
	w.Log(entry("d1"))
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	ls := lines(out.String())
	if len(ls) != 2 {
		t.Fatalf("%d lines", len(ls))
	}
	for i, l := range ls {
		var ev Event
		d := json.NewDecoder(strings.NewReader(l))
		d.DisallowUnknownFields()
		if err := d.Decode(&ev); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if common := i == 0; (ev.Custom["common_input"] == true) != common || len(ev.Custom) > 1 {
			t.Fatalf("line %d: custom %v", i, ev.Custom)
		}
		if (*ev.Input).(map[string]any)["password"] != nil || !reflect.DeepEqual(ev.Erased, []string{"/input/password"}) {
			t.Fatalf("line %d not masked: %s", i, l)
		}
	}
	if !strings.Contains(ls[0], `"decision_id":"b1","batch_decision_id":"b1"`) || strings.Contains(ls[0], `"result"`) {
		t.Fatalf("common line %s", ls[0])
	}
}

// heapInUse is the live heap after a collection (two: sync.Pool keeps what it held for one).
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// bigInput is a decoded input of about n bytes of JSON, distinct for each i.
func bigInput(t *testing.T, i, n int) any {
	t.Helper()
	return decodeJSON(t, `{"user": "u`+strconv.Itoa(i)+`", "pad": "`+strings.Repeat("x", n)+`"}`)
}

// TestBufferBoundedInBytes replays a stalled sink under entries with 1 MiB inputs: the buffer
// holds at most its bytes (it held every entry up to 10,000 of them, gigabytes), the rest are
// dropped and counted, and Log never waits.
func TestBufferBoundedInBytes(t *testing.T) {
	bw := &blockingWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	reg := prometheus.NewRegistry()
	const bound = 16 << 20
	w, err := New(bw, Options{BufferBytes: bound, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(bw.release); w.Close(context.Background()) })
	before := heapInUse()
	var slowest time.Duration
	const n = 150
	for i := range n {
		e := entry(strconv.Itoa(i))
		in := bigInput(t, i, 1<<20)
		e.Input = &in
		start := time.Now()
		w.Log(e)
		slowest = max(slowest, time.Since(start))
		if i == 0 {
			<-bw.entered // the writer is stuck writing the first entry, for good
		}
	}
	held := heapInUse() - before
	st := w.Status()
	t.Logf("%d entries of 1 MiB: %d MiB live, %d bytes buffered by estimate, %d dropped, slowest Log %v",
		n, held>>20, st.BufferedBytes, st.Dropped, slowest)
	if held > bound+8<<20 {
		t.Errorf("%d MiB live with a stalled sink, bound %d MiB", held>>20, bound>>20)
	}
	if st.BufferedBytes > bound || st.BufferedBytes < bound/2 || st.BufferBytes != bound {
		t.Errorf("status %+v", st)
	}
	if kept := n - int(st.Dropped); kept < 8 || kept > 16 {
		t.Errorf("%d entries kept (%d dropped) under %d MiB", kept, st.Dropped, bound>>20)
	}
	if got := counter(t, reg, "permsets_decision_logs_dropped_total"); got != float64(st.Dropped) {
		t.Errorf("metric %v, status %d", got, st.Dropped)
	}
	if slowest > 100*time.Millisecond {
		t.Errorf("Log took %v", slowest)
	}
	// An entry larger than the whole buffer is dropped at once.
	w2, _ := New(&testutil.SyncBuffer{}, Options{BufferBytes: 1 << 20})
	e := entry("huge")
	in := bigInput(t, 0, 2<<20)
	e.Input = &in
	w2.Log(e)
	w2.Log(entry("small"))
	if err := w2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := w2.Status(); st.Dropped != 1 || st.Written != 1 || st.BufferedBytes != 0 {
		t.Fatalf("status %+v", st)
	}
}

// TestEntrySizeHonest: entrySize is within a factor of two of the memory decoded inputs of
// every shape hold.
func TestEntrySizeHonest(t *testing.T) {
	const n = 1 << 20
	shapes := map[string]string{
		"one string":    `{"pad": "` + strings.Repeat("x", n) + `"}`,
		"small numbers": `{"pad": [` + strings.Repeat("0,", n/2) + `0]}`,
		"many keys": func() string {
			var b strings.Builder
			b.WriteString("{")
			for i := 0; b.Len() < n; i++ {
				fmt.Fprintf(&b, `"k%d": "v", `, i)
			}
			return b.String() + `"end": true}`
		}(),
		"nested objects": `{"pad": [` + strings.Repeat(`{"id": "abcdefgh", "n": 1},`, n/27) + `{}]}`,
		"strings":        `{"pad": [` + strings.Repeat(`"abcdefghijklmnop",`, n/19) + `""]}`,
	}
	for note, raw := range shapes {
		before := heapInUse()
		v := decodeJSON(t, raw)
		live := heapInUse() - before
		est := valueSize(v)
		runtime.KeepAlive(v)
		t.Logf("%s: %d bytes of JSON, %d live, %d estimated (%.2f)", note, len(raw), live, est, float64(est)/float64(live))
		if est < live/2 || est > 2*live {
			t.Errorf("%s: estimated %d bytes, %d live", note, est, live)
		}
	}
}
