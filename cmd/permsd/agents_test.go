package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/permsets/permsets/internal/testutil"
)

// stockOPA returns a stock opa binary (testutil.StockOPA); PERMSETS_SKIP_OPA=1 skips the test
// instead.
func stockOPA(t *testing.T) string {
	t.Helper()
	if os.Getenv("PERMSETS_SKIP_OPA") == "1" {
		t.Skip("PERMSETS_SKIP_OPA=1")
	}
	return testutil.StockOPA(t)
}

// agent is a stock `opa run --server` started by a test.
type agent struct {
	cmd    *exec.Cmd
	url    string
	stderr *testutil.SyncBuffer
}

// freeLoopbackPort returns a port on 127.0.0.1 that was free a moment ago.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// agentConfig is the configuration of an OPA agent pulling permsd's bundle (as in
// docs/permsd.md), with the bearer token read from tokenFile when that is not "".
func agentConfig(permsdURL, tokenFile string) string {
	creds := ""
	if tokenFile != "" {
		creds = fmt.Sprintf("    credentials:\n      bearer:\n        token_path: %q\n", tokenFile)
	}
	return fmt.Sprintf(`services:
  permsd:
    url: %s
%sbundles:
  permsets:
    service: permsd
    resource: /bundles/permsets.tar.gz
    polling:
      min_delay_seconds: 1
      max_delay_seconds: 2
`, permsdURL, creds)
}

// startAgent runs opa on a free loopback port with config and waits until it answers (its
// bundle need not be active yet). It is killed by its PID at the end of the test.
func startAgent(t *testing.T, opa, config string) *agent {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "opa.yaml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	cmd := exec.Command(opa, "run", "--server", "--addr", addr, "--config-file", cfg,
		"--skip-version-check", "--log-level", "error")
	cmd.Dir = dir
	a := &agent{cmd: cmd, url: "http://" + addr, stderr: &testutil.SyncBuffer{}}
	cmd.Stdout, cmd.Stderr = a.stderr, a.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("opa (pid %d) did not exit", cmd.Process.Pid)
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("opa exited:\n%s", a.stderr.String())
		default:
		}
		if resp, err := http.Get(a.url + "/health"); err == nil {
			resp.Body.Close()
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("opa did not start:\n%s", a.stderr.String())
		}
	}
}

// waitActive waits until the agent's bundles are active (/health?bundles is 200).
func (a *agent) waitActive(t *testing.T, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(a.url + "/health?bundles"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("opa %s never activated the bundle:\n%s", a.url, a.stderr.String())
		}
	}
}

// ask posts input to url's /v1/data/permsets/{path}?provenance and returns the JSON of the
// result ("" when undefined) and the revision of the bundle that answered.
func askData(t *testing.T, url, token, path string, input any) (result, revision string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"input": input})
	resp, data := request(t, http.MethodPost, url+"/v1/data/permsets/"+path+"?provenance", token, bytes.NewReader(body), "Content-Type", "application/json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", url, path, resp.StatusCode, data)
	}
	var a struct {
		Result     *json.RawMessage `json:"result"`
		Provenance struct {
			Bundles map[string]struct {
				Revision string `json:"revision"`
			} `json:"bundles"`
		} `json:"provenance"`
	}
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatalf("%s %s: %v: %s", url, path, err, data)
	}
	if a.Result != nil {
		var v any
		_ = json.Unmarshal(*a.Result, &v)
		norm, _ := json.Marshal(v) // keys sorted, spacing gone
		result = string(norm)
	}
	return result, a.Provenance.Bundles["permsets"].Revision
}

// getWithToken GETs a permsd endpoint with the token and extra headers.
func getWithToken(t *testing.T, url, token string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return request(t, http.MethodGet, url, token, nil, header...)
}

// request sends a request to a permsd endpoint with the bearer token (none when empty) and
// extra headers (name, value, ...), and returns the response and its whole body.
func request(t *testing.T, method, url, token string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func servedRevision(t *testing.T, url, token string) string {
	t.Helper()
	_, data := getWithToken(t, url+"/v1/status", token)
	var s struct {
		Revision string `json:"revision"`
	}
	if err := json.Unmarshal(data, &s); err != nil || s.Revision == "" {
		t.Fatalf("status: %v %s", err, data)
	}
	return s.Revision
}

// agentCases are the decisions compared between permsd and the agents.
var agentCases = []map[string]any{
	{"user": "alice", "instance": "campaign", "permission": "finances=export"},
	{"user": "alice", "instance": "hq", "permission": "settings=read"},
	{"user": "maria", "instance": "hq", "permission": "settings=read"},
	{"user": "tomas", "instance": "campaign", "permission": "people=read"},
	{"user": "tomas", "instance": "campaign", "permission": "finances=edit"},
	{"user": "devon", "instance": "campaign", "permission": "finances=export"},
	{"user": "sam", "instance": "campaign", "permission": "people=read"},
	{"user": "quinn", "instance": "campaign", "permission": "people=read"},
	{"user": "nobody", "instance": "campaign", "permission": "people=read"},
	{"user": "alice", "instance": "nowhere", "permission": "people=read"},
}

// TestStockOPAAgents: two stock `opa run --server` agents pull the bundle from permsd, answer
// every decision as permsd does, and follow a new revision within a few polls; the bundle
// endpoint answers If-None-Match with 304. With --token-file the agents send the token
// (credentials.bearer.token_path).
func TestStockOPAAgents(t *testing.T) {
	opa := stockOPA(t)
	// permsd follows a Git branch (the change is a push) without a token, and a directory
	// (the change is a file edit) with one.
	for _, token := range []string{"", "s3cret-agent-token"} {
		name := "git push, no token"
		if token != "" {
			name = "directory edit, bearer token"
		}
		t.Run(name, func(t *testing.T) {
			var args []string
			var change func()
			const bookkeeper = "sets/campaign/bookkeeper.yaml"
			if token == "" {
				remote := newGitRemote(t)
				args = []string{"--git", remote.Bare, "--branch", "live", "--path", "access", "--poll", "100ms", "--cache-dir", t.TempDir()}
				change = func() {
					remote.Commit("people=read no longer in bookkeeper", "access/"+bookkeeper,
						"apiVersion: permsets/v1\nkind: PermissionSet\nid: bookkeeper\ninstances: [campaign]\nname: Bookkeeper\npermissions: [finances=edit]\n")
				}
			} else {
				dir := testutil.CopyTree(t, "../../examples/nation")
				args = []string{"--dir", dir, "--debounce", "20ms"}
				change = func() { testutil.Replace(t, dir, bookkeeper, "  - people=read\n", "") }
			}
			tokenFile := ""
			if token != "" {
				// One file for permsd and the agents, as a mounted Secret: both trim the newline.
				tokenFile = filepath.Join(t.TempDir(), "token")
				testutil.WriteFile(t, filepath.Dir(tokenFile), "token", token+"\n")
				args = append(args, "--token-file", tokenFile)
			}
			d := start(t, args...)
			agents := []*agent{startAgent(t, opa, agentConfig(d.url, tokenFile)), startAgent(t, opa, agentConfig(d.url, tokenFile))}
			for _, a := range agents {
				a.waitActive(t, 15*time.Second)
			}
			rev1 := servedRevision(t, d.url, token)

			// compare asks every case of both paths of permsd and of each agent; it returns
			// false (and why) while an agent still answers from another revision.
			compare := func(rev string, final bool) (bool, string) {
				for _, in := range agentCases {
					for _, path := range []string{"allow", "decision"} {
						want, wantRev := askData(t, d.url, token, path, in)
						if wantRev != rev {
							t.Fatalf("permsd answered from %s, not %s", wantRev, rev)
						}
						for _, a := range agents {
							got, gotRev := askData(t, a.url, "", path, in)
							if gotRev != rev {
								return false, fmt.Sprintf("%s answers from revision %q", a.url, gotRev)
							}
							if got != want {
								if final {
									t.Errorf("%s %v:\n permsd %s\n opa    %s", path, in, want, got)
								}
								return false, fmt.Sprintf("%s %s %v: %s, permsd %s", a.url, path, in, got, want)
							}
						}
					}
				}
				return true, ""
			}
			if ok, why := compare(rev1, true); !ok {
				t.Fatalf("before the change: %s", why)
			}
			tomas := agentCases[3]
			if got, _ := askData(t, d.url, token, "allow", tomas); got != "true" {
				t.Fatalf("tomas people=read before the change: %s", got)
			}

			// A permission removed from a set: a new revision, which both agents pick up.
			change()
			var rev2 string
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if rev2 = servedRevision(t, d.url, token); rev2 != rev1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("permsd did not serve the change:\n%s", d.stderr.String())
				}
			}
			if got, _ := askData(t, d.url, token, "allow", tomas); got != "false" {
				t.Fatalf("tomas people=read after the change: %s", got)
			}
			changed := time.Now()
			for deadline := changed.Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				ok, why := compare(rev2, false)
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the agents did not converge on %s within 10s: %s", rev2, why)
				}
			}
			t.Logf("both agents converged on the new revision %v after permsd served it", time.Since(changed).Round(time.Millisecond))
			compare(rev2, true)

			// The bundle endpoint: 304 for the current revision, 200 for an old one.
			bundle := d.url + "/bundles/permsets.tar.gz"
			if resp, _ := getWithToken(t, bundle, token, "If-None-Match", `"`+rev2+`"`); resp.StatusCode != http.StatusNotModified ||
				resp.Header.Get("ETag") != `"`+rev2+`"` {
				t.Errorf("If-None-Match of the current revision: %d, ETag %s", resp.StatusCode, resp.Header.Get("ETag"))
			}
			if resp, data := getWithToken(t, bundle, token, "If-None-Match", `"`+rev1+`"`); resp.StatusCode != http.StatusOK || len(data) == 0 {
				t.Errorf("If-None-Match of the old revision: %d, %d bytes", resp.StatusCode, len(data))
			}
			if token != "" {
				if resp, _ := getWithToken(t, bundle, ""); resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("the bundle without the token: %d", resp.StatusCode)
				}
			}
			if code := d.stop(t); code != 0 {
				t.Errorf("permsd exit %d", code)
			}
		})
	}
}
