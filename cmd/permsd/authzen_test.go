package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// authzenCase is one request of the AuthZEN certification scenario
// (certification/authorization-api-1_0-scenario.md in openid/authzen), or of ours beside it.
type authzenCase struct {
	note   string
	path   string // default /access/v1/evaluation
	body   string
	ctype  string // default application/json; "-" for none
	status int    // default 200
	want   string // the exact JSON answer, when the scenario validates it
	check  func(t *testing.T, got map[string]any)
}

const (
	aliceReadR1 = `"subject": {"type": "user", "id": "alice"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}`
)

// authzenBasicCore are the scenario's Basic Core cases (C.2.2.1-3, 8, 9, C.2.4).
var authzenBasicCore = []authzenCase{
	{note: "C.2.2.1 permit", body: `{` + aliceReadR1 + `}`, want: `{"decision": true}`},
	{note: "C.2.2.2 deny", body: `{"subject": {"type": "user", "id": "bob"}, "action": {"name": "write"}, "resource": {"type": "record", "id": "record-1"}}`, want: `{"decision": false}`},
	{note: "C.2.2.3 optional context", body: `{` + aliceReadR1 + `, "context": {"time": "2025-06-27T18:03-07:00", "ip": "192.168.1.1"}}`, want: `{"decision": true}`},
	{note: "C.2.2.8 additional properties", body: `{"subject": {"type": "user", "id": "alice", "properties": {"department": "Sales", "role": "manager"}},
		"action": {"name": "read", "properties": {"method": "GET"}}, "resource": {"type": "record", "id": "record-1", "properties": {"status": "active", "owner": "bob"}}}`, want: `{"decision": true}`},
	{note: "C.2.2.9 unknown fields", body: `{` + aliceReadR1 + `, "foo": "bar", "futureField": {"nested": true}}`, want: `{"decision": true}`},
	{note: "rule 2: alice writes record-1", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "write"}, "resource": {"type": "record", "id": "record-1"}}`, want: `{"decision": true}`},
	{note: "rule 3: bob reads record-1", body: `{"subject": {"type": "user", "id": "bob"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}}`, want: `{"decision": true}`},
	{note: "C.2.4.1 missing subject", body: `{"action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}}`, status: 400},
	{note: "C.2.4.1 missing action", body: `{"subject": {"type": "user", "id": "alice"}, "resource": {"type": "record", "id": "record-1"}}`, status: 400},
	{note: "C.2.4.1 missing resource", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "read"}}`, status: 400},
	{note: "C.2.4.2 subject without type", body: `{"subject": {"id": "alice"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}}`, status: 400},
	{note: "C.2.4.2 subject without id", body: `{"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}}`, status: 400},
	{note: "C.2.4.2 action without name", body: `{"subject": {"type": "user", "id": "alice"}, "action": {}, "resource": {"type": "record", "id": "record-1"}}`, status: 400},
	{note: "C.2.4.2 resource without type", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "read"}, "resource": {"id": "record-1"}}`, status: 400},
	{note: "C.2.4.2 resource without id", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "read"}, "resource": {"type": "record"}}`, status: 400},
	{note: "C.2.4.3 text/plain", body: `{` + aliceReadR1 + `}`, ctype: "text/plain", status: 400},
	{note: "C.2.4.3 no content type", body: `{` + aliceReadR1 + `}`, ctype: "-", status: 400},
	{note: "C.2.4.4 malformed JSON", body: `{"subject": {"type": "user", "id": "alice"`, status: 400},
	{note: "C.2.4.5 empty body", body: ``, status: 400},
	{note: "C.2.4.6 subject is a string", body: `{"subject": "alice", "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}}`, status: 400},
	{note: "C.2.4.6 action.name is a number", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": 123}, "resource": {"type": "record", "id": "record-1"}}`, status: 400},
	{note: "an array body", body: `[]`, status: 400},
	{note: "trailing data", body: `{` + aliceReadR1 + `} {}`, status: 400},
	{note: "subject by email, ignoring case", body: `{"subject": {"type": "user", "id": "Alice@Records.Example"}, "action": {"name": "write"}, "resource": {"type": "record", "id": "record-1"}}`, want: `{"decision": true}`},
	{note: "subject by login", body: `{"subject": {"type": "user", "id": "alice-r"}, "action": {"name": "write"}, "resource": {"type": "record", "id": "record-1"}}`, want: `{"decision": true}`},
	{note: "action.name as feature=action", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "record=read"}, "resource": {"type": "anything", "id": "record-1"}}`, want: `{"decision": true}`},
	{note: "unknown subject", body: `{"subject": {"type": "user", "id": "nobody"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}}`, want: `{"decision": false}`},
	{note: "unknown instance in context", body: `{` + aliceReadR1 + `, "context": {"instance": "elsewhere"}}`, want: `{"decision": false}`},
	{note: "context.instance not a string", body: `{` + aliceReadR1 + `, "context": {"instance": 1}}`, status: 400},
	{note: "under the instance's path", path: "/instances/records/access/v1/evaluation", body: `{` + aliceReadR1 + `}`, want: `{"decision": true}`},
	{note: "under an unknown instance's path", path: "/instances/nope/access/v1/evaluation", body: `{` + aliceReadR1 + `}`, status: 404},
	{note: "context.instance other than the path's", path: "/instances/records/access/v1/evaluation", body: `{` + aliceReadR1 + `, "context": {"instance": "x"}}`, status: 400},
}

// authzenBatchCore are the scenario's Batch Core cases (C.3.2.1, 2, 5, 6, C.3.4).
var authzenBatchCore = []authzenCase{
	{note: "C.3.2.1 evaluations array", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "read"},
		"evaluations": [{"resource": {"type": "record", "id": "record-1"}}, {"resource": {"type": "record", "id": "record-2"}}]}`,
		want: `{"evaluations": [{"decision": true}, {"decision": false}]}`},
	{note: "C.3.2.2 fixture decisions in order", body: `{"subject": {"type": "user", "id": "bob"}, "resource": {"type": "record", "id": "record-1"},
		"evaluations": [{"action": {"name": "read"}}, {"action": {"name": "write"}}]}`, want: `{"evaluations": [{"decision": true}, {"decision": false}]}`},
	{note: "C.3.2.5 no defaults", body: `{"evaluations": [{` + aliceReadR1 + `},
		{"subject": {"type": "user", "id": "bob"}, "action": {"name": "write"}, "resource": {"type": "record", "id": "record-1"}}]}`,
		want: `{"evaluations": [{"decision": true}, {"decision": false}]}`},
	{note: "C.3.2.6 context inheritance", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "read"}, "context": {"time": "2025-06-27T18:03-07:00"},
		"evaluations": [{"resource": {"type": "record", "id": "record-1"}},
		{"resource": {"type": "record", "id": "record-2"}, "context": {"time": "2025-06-27T19:00-07:00", "source": "batch-override"}}]}`,
		check: func(t *testing.T, got map[string]any) { wantItems(t, got, 2) }},
	{note: "C.3.2.7 default type merged under an item's id", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "write"}, "resource": {"type": "record"},
		"evaluations": [{"resource": {"id": "record-1", "properties": {"status": "active"}}}, {"resource": {"type": "record", "id": "record-2", "properties": {"status": "archived"}}}]}`,
		want: `{"evaluations": [{"decision": true}, {"decision": false}]}`},
	{note: "C.3.4.1 an item's error", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "read"},
		"evaluations": [{"resource": {"type": "record", "id": "record-1"}}, {}]}`,
		want: `{"evaluations": [{"decision": true}, {"decision": false, "context": {"error": {"status": 400, "message": "evaluations[1].resource is required: {\"type\": ..., \"id\": ...}"}}}]}`},
	{note: "C.3.4.2 no evaluations", body: `{` + aliceReadR1 + `}`, want: `{"decision": true}`},
	{note: "C.3.4.3 empty evaluations", body: `{` + aliceReadR1 + `, "evaluations": []}`, want: `{"decision": true}`},
	{note: "deny_on_first_deny stops at the deny", body: `{"subject": {"type": "user", "id": "bob"}, "resource": {"type": "record", "id": "record-1"},
		"options": {"evaluations_semantic": "deny_on_first_deny"}, "evaluations": [{"action": {"name": "read"}}, {"action": {"name": "write"}}, {"action": {"name": "read"}}]}`,
		want: `{"evaluations": [{"decision": true}, {"decision": false}]}`},
	{note: "permit_on_first_permit stops at the permit", body: `{"subject": {"type": "user", "id": "bob"}, "resource": {"type": "record", "id": "record-1"},
		"options": {"evaluations_semantic": "permit_on_first_permit"}, "evaluations": [{"action": {"name": "write"}}, {"action": {"name": "read"}}, {"action": {"name": "write"}}]}`,
		want: `{"evaluations": [{"decision": false}, {"decision": true}]}`},
	{note: "an unknown semantic", body: `{"options": {"evaluations_semantic": "some"}, "evaluations": [{` + aliceReadR1 + `}]}`, status: 400},
	{note: "an item that is not an object", body: `{"evaluations": [{` + aliceReadR1 + `}, 3]}`,
		want: `{"evaluations": [{"decision": true}, {"decision": false, "context": {"error": {"status": 400, "message": "evaluations[1] must be an object"}}}]}`},
	{note: "evaluations not an array", body: `{"evaluations": {}}`, status: 400},
}

// authzenSearchCore are the scenario's Search Core cases (C.4.2.1-3, C.4.3.1-2, C.4.4.1-2, C.4.5-7).
var authzenSearchCore = []authzenCase{
	{note: "C.4.2.1 subject search", path: "/access/v1/search/subject", body: `{"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}}`,
		want: `{"results": [{"type": "user", "id": "alice"}, {"type": "user", "id": "bob"}], "page": {"next_token": "", "count": 2}}`},
	{note: "C.4.2.2 subject search with context", path: "/access/v1/search/subject", body: `{"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}, "context": {"time": "2025-06-27T18:03-07:00"}}`,
		want: `{"results": [{"type": "user", "id": "alice"}, {"type": "user", "id": "bob"}], "page": {"next_token": "", "count": 2}}`},
	{note: "C.4.2.3 subject.id is ignored", path: "/access/v1/search/subject", body: `{"subject": {"type": "user", "id": "bob"}, "action": {"name": "write"}, "resource": {"type": "record", "id": "record-1"}}`,
		want: `{"results": [{"type": "user", "id": "alice"}], "page": {"next_token": "", "count": 1}}`},
	{note: "C.4.3.1 resource search", path: "/access/v1/search/resource", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "read"}, "resource": {"type": "record"}}`,
		want: `{"results": [{"type": "record", "id": "record-1"}], "page": {"next_token": "", "count": 1}}`},
	{note: "C.4.3.2 resource.id is ignored", path: "/access/v1/search/resource", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "x"}}`,
		want: `{"results": [{"type": "record", "id": "record-1"}], "page": {"next_token": "", "count": 1}}`},
	{note: "resource search over an unscoped grant says so", path: "/access/v1/search/resource", body: `{"subject": {"type": "user", "id": "bob"}, "action": {"name": "read"}, "resource": {"type": "record"}}`,
		check: func(t *testing.T, got map[string]any) {
			if ctx, _ := got["context"].(map[string]any); ctx["every"] != true || ctx["complete"] != false {
				t.Errorf("context = %v, want every and not complete", got["context"])
			}
		}},
	{note: "C.4.4.1 action search", path: "/access/v1/search/action", body: `{"subject": {"type": "user", "id": "alice"}, "resource": {"type": "record", "id": "record-1"}}`,
		want: `{"results": [{"name": "read"}, {"name": "write"}], "page": {"next_token": "", "count": 2}}`},
	{note: "C.4.4.2 action search with context", path: "/access/v1/search/action", body: `{"subject": {"type": "user", "id": "alice"}, "resource": {"type": "record", "id": "record-1"}, "context": {"time": "2025-06-27T18:03-07:00"}}`,
		want: `{"results": [{"name": "read"}, {"name": "write"}], "page": {"next_token": "", "count": 2}}`},
	{note: "C.4.5.1 page limit", path: "/access/v1/search/subject", body: `{"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}, "page": {"limit": 1}}`,
		check: func(t *testing.T, got map[string]any) {
			page, _ := got["page"].(map[string]any)
			if len(got["results"].([]any)) != 1 || page["next_token"] == "" {
				t.Errorf("got %v, want one result and a next_token", got)
			}
		}},
	{note: "C.4.5.2 a bad page token", path: "/access/v1/search/subject", body: `{"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}, "page": {"token": "forged"}}`, status: 400},
	{note: "a page limit of 0", path: "/access/v1/search/subject", body: `{"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}, "page": {"limit": 0}}`, status: 400},
	{note: "C.4.6.1 unknown subject", path: "/access/v1/search/action", body: `{"subject": {"type": "user", "id": "nonexistent-user"}, "resource": {"type": "record", "id": "record-1"}}`,
		want: `{"results": [], "page": {"next_token": "", "count": 0}}`},
	{note: "C.4.6.2 unknown subject type", path: "/access/v1/search/subject", body: `{"subject": {"type": "spaceship"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}}`,
		want: `{"results": [], "page": {"next_token": "", "count": 0}}`},
	{note: "unknown resource type", path: "/access/v1/search/resource", body: `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "read"}, "resource": {"type": "spaceship"}}`,
		want: `{"results": [], "page": {"next_token": "", "count": 0}}`},
	{note: "C.4.7.1 subject search without action", path: "/access/v1/search/subject", body: `{"subject": {"type": "user"}, "resource": {"type": "record", "id": "record-1"}}`, status: 400},
	{note: "C.4.7.1 resource search without subject", path: "/access/v1/search/resource", body: `{"action": {"name": "read"}, "resource": {"type": "record"}}`, status: 400},
	{note: "C.4.7.1 action search without resource", path: "/access/v1/search/action", body: `{"subject": {"type": "user", "id": "alice"}}`, status: 400},
	{note: "C.4.7.2 subject search, resource without id", path: "/access/v1/search/subject", body: `{"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "record"}}`, status: 400},
	{note: "C.4.7.2 resource search, subject without id", path: "/access/v1/search/resource", body: `{"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "record"}}`, status: 400},
	{note: "resource search of instances", path: "/access/v1/search/resource", body: `{"subject": {"type": "user", "id": "bob"}, "action": {"name": "record=read"}, "resource": {"type": "instance"}}`,
		want: `{"results": [{"type": "instance", "id": "records"}], "page": {"next_token": "", "count": 1}}`},
}

func wantItems(t *testing.T, got map[string]any, n int) {
	t.Helper()
	items, _ := got["evaluations"].([]any)
	if len(items) != n {
		t.Fatalf("evaluations = %v, want %d items", got["evaluations"], n)
	}
	for i, it := range items {
		if _, ok := it.(map[string]any)["decision"].(bool); !ok {
			t.Errorf("evaluations[%d] = %v: no boolean decision", i, it)
		}
	}
}

// authzenPost sends one case and returns the status, the X-Request-ID echoed and the body.
func authzenPost(t *testing.T, base, token string, c authzenCase, requestID string) (int, string, []byte) {
	t.Helper()
	path := c.path
	if path == "" {
		path = "/access/v1/evaluation"
	}
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	switch c.ctype {
	case "":
		req.Header.Set("Content-Type", "application/json")
	case "-":
	default:
		req.Header.Set("Content-Type", c.ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if requestID != "" {
		req.Header.Set("X-Request-ID", requestID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return resp.StatusCode, resp.Header.Get("X-Request-ID"), body
}

func runAuthZEN(t *testing.T, base, token string, cases []authzenCase) {
	for _, c := range cases {
		t.Run(c.note, func(t *testing.T) {
			status, echoed, body := authzenPost(t, base, token, c, "req-"+c.note)
			if want := max(c.status, 200); status != want {
				t.Fatalf("status %d, want %d: %s", status, want, body)
			}
			if echoed != "req-"+c.note {
				t.Errorf("X-Request-ID %q not echoed", echoed)
			}
			if status != 200 {
				return
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if c.want != "" {
				var want map[string]any
				if err := json.Unmarshal([]byte(c.want), &want); err != nil {
					t.Fatal(err)
				}
				if g, w := canonical(got), canonical(want); g != w {
					t.Errorf("got  %s\nwant %s", g, w)
				}
			}
			if c.check != nil {
				c.check(t, got)
			}
		})
	}
}

func canonical(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestAuthZENScenario runs the certification scenario's Basic, Batch and Search Core cases and
// the Discovery level against a real permsd serving examples/authzen (the scenario's fixture).
func TestAuthZENScenario(t *testing.T) {
	d := start(t, "--dir", "../../examples/authzen")
	t.Run("basic", func(t *testing.T) { runAuthZEN(t, d.url, "", authzenBasicCore) })
	t.Run("batch", func(t *testing.T) {
		cases := make([]authzenCase, len(authzenBatchCore))
		for i, c := range authzenBatchCore {
			c.path = "/access/v1/evaluations"
			cases[i] = c
		}
		runAuthZEN(t, d.url, "", cases)
	})
	t.Run("search", func(t *testing.T) { runAuthZEN(t, d.url, "", authzenSearchCore) })
	t.Run("idempotent", func(t *testing.T) {
		for range 5 {
			if _, _, body := authzenPost(t, d.url, "", authzenBasicCore[0], ""); canonical(mustJSON(t, body)) != `{"decision":true}` {
				t.Fatalf("got %s", body)
			}
		}
	})
	t.Run("discovery", func(t *testing.T) {
		for _, c := range []struct{ path, base string }{
			{"/.well-known/authzen-configuration", d.url},
			{"/.well-known/authzen-configuration/records", d.url + "/instances/records"},
			{"/.well-known/authzen-configuration/instances/records", d.url + "/instances/records"},
		} {
			resp, body := getWithToken(t, d.url+c.path, "")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
			}
			got := mustJSON(t, body)
			want := map[string]any{"policy_decision_point": c.base,
				"access_evaluation_endpoint": c.base + "/access/v1/evaluation", "access_evaluations_endpoint": c.base + "/access/v1/evaluations",
				"search_subject_endpoint": c.base + "/access/v1/search/subject", "search_resource_endpoint": c.base + "/access/v1/search/resource",
				"search_action_endpoint": c.base + "/access/v1/search/action"}
			if canonical(got) != canonical(want) {
				t.Errorf("%s:\ngot  %s\nwant %s", c.path, canonical(got), canonical(want))
			}
		}
		if resp, _ := getWithToken(t, d.url+"/.well-known/authzen-configuration/nope", ""); resp.StatusCode != 404 {
			t.Errorf("an unknown instance's metadata: %d, want 404", resp.StatusCode)
		}
	})
	t.Run("paging", func(t *testing.T) {
		c := authzenCase{path: "/access/v1/search/subject", body: `{"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}, "page": {"limit": 1}}`}
		var users []string
		for range 3 {
			_, _, body := authzenPost(t, d.url, "", c, "")
			got := mustJSON(t, body)
			for _, r := range got["results"].([]any) {
				users = append(users, r.(map[string]any)["id"].(string))
			}
			next := got["page"].(map[string]any)["next_token"].(string)
			if next == "" {
				break
			}
			c.body = `{"subject": {"type": "user"}, "action": {"name": "read"}, "resource": {"type": "record", "id": "record-1"}, "page": {"limit": 1, "token": "` + next + `"}}`
		}
		if strings.Join(users, ",") != "alice,bob" {
			t.Errorf("pages gave %v, want alice then bob", users)
		}
	})
}

func mustJSON(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return v
}

// TestAuthZENAuthLogsAndCounts checks the token, the body limit, the decision log (one line per
// evaluation), the metrics and /v1/status over the AuthZEN endpoints.
func TestAuthZENAuthLogsAndCounts(t *testing.T) {
	dir := t.TempDir()
	tokenFile, logFile := filepath.Join(dir, "token"), filepath.Join(dir, "decisions.log")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := start(t, "--dir", "../../examples/authzen", "--token-file", tokenFile, "--decision-log", logFile)
	ok := authzenCase{body: `{` + aliceReadR1 + `}`}
	for _, path := range []string{"/access/v1/evaluation", "/access/v1/evaluations", "/access/v1/search/action", "/instances/records/access/v1/evaluation"} {
		c := ok
		c.path = path
		if status, echoed, _ := authzenPost(t, d.url, "wrong", c, "r1"); status != 401 || echoed != "r1" {
			t.Errorf("%s with a wrong token: %d (X-Request-ID %q), want 401", path, status, echoed)
		}
	}
	if resp, _ := getWithToken(t, d.url+"/.well-known/authzen-configuration", ""); resp.StatusCode != 401 {
		t.Errorf("metadata without a token: %d, want 401", resp.StatusCode)
	}
	big := authzenCase{body: `{` + aliceReadR1 + `, "pad": "` + strings.Repeat("x", 1<<20) + `"}`}
	if status, _, _ := authzenPost(t, d.url, "s3cret", big, ""); status != 413 {
		t.Errorf("a body over 1 MiB: %d, want 413", status)
	}
	runAuthZEN(t, d.url, "s3cret", []authzenCase{
		{note: "one", body: `{` + aliceReadR1 + `}`, want: `{"decision": true}`},
		{note: "three", path: "/access/v1/evaluations", body: `{"subject": {"type": "user", "id": "bob"}, "resource": {"type": "record", "id": "record-1"},
			"evaluations": [{"action": {"name": "read"}}, {"action": {"name": "write"}}, {}]}`},
	})
	c := ok
	c.path = "/access/v1/evaluation?provenance"
	_, _, body := authzenPost(t, d.url, "s3cret", c, "")
	if ctx, _ := mustJSON(t, body)["context"].(map[string]any); ctx["revision"] == nil || ctx["decision_id"] == nil {
		t.Errorf("?provenance: %s, want the revision in the context", body)
	}
	if _, body := getWithToken(t, d.url+"/v1/status", "s3cret"); mustJSON(t, body)["decision_log"] == nil {
		t.Errorf("/v1/status has no decision_log counts: %s", body)
	} else if reqs, _ := mustJSON(t, body)["requests"].(map[string]any); reqs == nil || reqs["authzen"].(float64) < 3 {
		t.Errorf("/v1/status does not count the AuthZEN requests: %s", body)
	}
	resp, metrics := getWithToken(t, d.url+"/metrics", "s3cret")
	if resp.StatusCode != 200 || !bytes.Contains(metrics, []byte(`permsets_http_requests_total{code="200",handler="authzen"} 3`)) ||
		!bytes.Contains(metrics, []byte(`permsets_decisions_total{path="allow",result="allow"} 3`)) {
		t.Errorf("metrics do not count the AuthZEN requests and decisions:\n%s", grepLines(metrics, "authzen", "decisions_total"))
	}
	if code := d.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 5 { // one, three (the third refused), the provenance one
		t.Fatalf("%d decision log lines, want 5:\n%s", len(lines), data)
	}
	var item struct {
		Path            string         `json:"path"`
		BatchDecisionID string         `json:"batch_decision_id"`
		Input           map[string]any `json:"input"`
		Result          any            `json:"result"`
	}
	if err := json.Unmarshal([]byte(lines[2]), &item); err != nil {
		t.Fatal(err)
	}
	if item.Path != "permsets/allow" || item.BatchDecisionID == "" || item.Input["user"] != "bob" ||
		item.Input["permission"] != "record=write" || item.Result != false {
		t.Errorf("decision log line %s", lines[2])
	}
}

func grepLines(b []byte, subs ...string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, s := range subs {
			if strings.Contains(l, s) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
