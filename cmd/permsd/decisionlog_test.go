package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/permsets/permsets/daemon/decisionlog"
	"github.com/permsets/permsets/internal/testutil"
)

func TestDecisionLogFlagsAreUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		note string
		args []string
		want string
	}{
		{note: "not a pointer", args: []string{"--decision-log", "-", "--decision-log-mask", "input/password"}, want: "starts with /"},
		{note: "outside the event", args: []string{"--decision-log", "-", "--decision-log-mask", "/input/a,/request/b"}, want: "/input or /result"},
		{note: "bad escape", args: []string{"--decision-log", "-", "--decision-log-mask", "/input/%zz"}, want: "bad escape"},
		{note: "mask without a log", args: []string{"--decision-log-mask", "/input/password"}, want: "needs --decision-log"},
		{note: "buffer without a log", args: []string{"--decision-log-buffer-bytes", "1048576"}, want: "needs --decision-log"},
		{note: "no buffer", args: []string{"--decision-log", "-", "--decision-log-buffer-bytes", "0"}, want: "must be positive"},
		{note: "negative buffer", args: []string{"--decision-log", "-", "--decision-log-buffer-bytes", "-1"}, want: "must be positive"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			var errb bytes.Buffer
			args := append([]string{"--dir", t.TempDir()}, tc.args...)
			if code := run(args, &errb); code != exitUsage || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, exitUsage, tc.want, errb.String())
			}
		})
	}
}

// TestDecisionLogEndToEnd: a batch of three through the daemon gives three lines in OPA's
// decision-log shape sharing the batch's id, the masked fields are not in the file, and
// SIGTERM writes everything out.
func TestDecisionLogEndToEnd(t *testing.T) {
	dir := testutil.CopyTree(t, "../../examples/nation")
	logFile := filepath.Join(t.TempDir(), "decisions.log")
	d := start(t, "--dir", dir, "--decision-log", logFile, "--decision-log-mask", "/input/password,/input/resource/ssn,/input/nowhere")

	secret, ssn := "hunter2-secret", "123-45-6789"
	in := func(user, perm string) map[string]any {
		return map[string]any{"user": user, "instance": "campaign", "permission": perm, "password": secret,
			"resource": map[string]any{"ssn": ssn, "name": "donations"}}
	}
	body, _ := json.Marshal(map[string]any{"inputs": map[string]any{
		"a": in("alice", "finances=export"), "b": in("tomas", "people=read"), "c": in("devon", "finances=export")}})
	resp, err := http.Post(d.url+"/v1/batch/data/permsets/allow", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var batch struct {
		BatchDecisionID string `json:"batch_decision_id"`
		Responses       map[string]struct {
			DecisionID string `json:"decision_id"`
			Result     any    `json:"result"`
		} `json:"responses"`
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &batch) != nil || len(batch.Responses) != 3 {
		t.Fatalf("batch: %d %s", resp.StatusCode, data)
	}
	single, _, err := decide(http.DefaultClient, d.url, in("maria", "settings=read"))
	if err != nil {
		t.Fatal(err)
	}
	st := status(t, d.url)
	rev, _ := st["revision"].(string)
	if dl, _ := st["decision_log"].(map[string]any); dl == nil || dl["dropped"] != 0.0 || dl["buffer_bytes"] != float64(decisionlog.DefaultBufferBytes) {
		t.Errorf("/v1/status decision_log %v", st["decision_log"])
	}
	metrics := fetchText(t, d.url+"/metrics")
	if !strings.Contains(metrics, "permsets_decision_logs_dropped_total 0") {
		t.Errorf("/metrics without permsets_decision_logs_dropped_total 0:\n%s", metrics)
	}
	// Every metric permsd defines shares one prefix (the Go runtime's and the process's aside).
	for _, line := range strings.Split(metrics, "\n") {
		name, ok := strings.CutPrefix(line, "# TYPE ")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		if !strings.HasPrefix(name, "permsets_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") && !strings.HasPrefix(name, "promhttp_") {
			t.Errorf("metric %s does not start with permsets_", name)
		}
	}
	if code := d.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, d.stderr.String())
	}

	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(logFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("the decision log is %v, want 0600", fi.Mode().Perm())
	}
	if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte(ssn)) {
		t.Fatalf("a masked value is in the decision log:\n%s", raw)
	}
	var events []decisionlog.Event
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		// decisionlog.Event is OPA's EventV1 by field name, plus commit and generation
		// (TestEventIsOPAs in daemon/decisionlog): nothing else may be in a line.
		var ev decisionlog.Event
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		events = append(events, ev)
	}
	if len(events) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(events), raw)
	}
	var ids []string
	for _, ev := range events[:3] {
		if ev.BatchDecisionID != batch.BatchDecisionID {
			t.Errorf("batch_decision_id %q, the batch's is %q", ev.BatchDecisionID, batch.BatchDecisionID)
		}
		ids = append(ids, ev.DecisionID)
	}
	var want []string
	for _, r := range batch.Responses {
		want = append(want, r.DecisionID)
	}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("decision ids %v, the batch answered %v", ids, want)
	}
	last := events[3]
	if last.BatchDecisionID != "" || last.Result == nil || *last.Result != single.Result {
		t.Errorf("the single decision: %+v", last)
	}
	for _, ev := range events {
		if ev.Path != "permsets/allow" || ev.Revision != rev || ev.Bundles["permsets"].Revision != rev ||
			ev.Generation != 1 || ev.Labels["id"] == "" || ev.Timestamp.IsZero() || ev.RequestedBy == "" ||
			ev.Metrics["timer_server_handler_ns"] == nil || ev.Result == nil {
			t.Errorf("event %+v", ev)
		}
		if !reflect.DeepEqual(ev.Erased, []string{"/input/password", "/input/resource/ssn"}) {
			t.Errorf("erased %q", ev.Erased)
		}
		input, _ := (*ev.Input).(map[string]any)
		res, _ := input["resource"].(map[string]any)
		if _, ok := input["password"]; ok || res["ssn"] != nil || res["name"] != "donations" || input["user"] == nil {
			t.Errorf("input %v", input)
		}
	}
}

func fetchText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return string(data)
}
