package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/permsets/permsets/internal/testutil"
	"github.com/permsets/permsets/publish"
)

// The test binary runs permsd itself when asked: the tests start it as a real process, send it
// signals and stop it by its PID.
func TestMain(m *testing.M) {
	if os.Getenv("PERMSD_TEST_MAIN") == "1" {
		privateUmask() // as main does
		publish.RegisterFileTransport()
		os.Exit(run(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

// daemon is a permsd process started by a test.
type daemon struct {
	cmd    *exec.Cmd
	url    string
	stderr *testutil.SyncBuffer
}

// launch starts permsd (the test binary) with env added and waits until it listens, not until
// it is healthy.
func launch(t *testing.T, env []string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(append(os.Environ(), "PERMSD_TEST_MAIN=1", "XDG_CACHE_HOME="+t.TempDir()), env...)
	pr, pw := io.Pipe()
	d := &daemon{cmd: cmd, stderr: &testutil.SyncBuffer{}}
	cmd.Stderr = io.MultiWriter(pw, d.stderr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
		pw.Close()
		if t.Failed() {
			t.Logf("permsd log:\n%s", d.stderr.String())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "permsd listening" {
				addr <- line.Addr
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-addr:
		d.url = "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatalf("permsd did not start:\n%s", d.stderr.String())
	}
	return d
}

// start runs permsd with args on 127.0.0.1 (a free port) and waits until it is healthy.
func start(t *testing.T, args ...string) *daemon {
	t.Helper()
	d := launch(t, nil, args...)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(d.url + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("permsd never became healthy:\n%s", d.stderr.String())
	return nil
}

// stop sends SIGTERM and waits for the exit.
func (d *daemon) stop(t *testing.T) int {
	t.Helper()
	if err := syscall.Kill(d.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("permsd did not stop on SIGTERM:\n%s", d.stderr.String())
	}
	return d.cmd.ProcessState.ExitCode()
}

type provenance struct {
	Revision   string `json:"revision"`
	Generation uint64 `json:"generation"`
}

type answer struct {
	Result     any        `json:"result"`
	Provenance provenance `json:"provenance"`
}

func decide(client *http.Client, url string, input map[string]any) (*answer, time.Duration, error) {
	body, _ := json.Marshal(map[string]any{"input": input})
	start := time.Now()
	resp, err := client.Post(url+"/v1/data/permsets/allow?provenance", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		return nil, took, fmt.Errorf("status %d: %s", resp.StatusCode, data)
	}
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return nil, took, err
	}
	return &a, took, nil
}

func status(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNoSourceIsAUsageError(t *testing.T) {
	var errb bytes.Buffer
	if code := run(nil, &errb); code != exitUsage || !strings.Contains(errb.String(), "no source") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
	if code := run([]string{"--dir", "x", "--tls-cert", "c"}, &errb); code != exitUsage {
		t.Errorf("--tls-cert alone: exit %d", code)
	}
}

// TestReloadUnderLoad is the reliability test (short here; PERMSD_SOAK=1, make soak, runs the
// full one): clients decide without pause while the config is edited, validly and not; no
// request fails, none is slow because of a reload, every answer comes from a revision that was
// valid, and no client sees the generation go backwards. Then SIGHUP reloads and SIGTERM drains.
func TestReloadUnderLoad(t *testing.T) {
	valid, broken, clients := 10, 3, 4
	slowest := 250 * time.Millisecond
	if os.Getenv("PERMSD_SOAK") == "1" {
		valid, broken, clients, slowest = 50, 10, 8, 100*time.Millisecond
	}
	dir := testutil.CopyTree(t, "../../examples/nation")
	d := start(t, "--dir", dir, "--debounce", "20ms")

	var (
		requests, failures atomic.Int64
		stopLoad           = make(chan struct{})
		wg                 sync.WaitGroup
		mu                 sync.Mutex
		seen               = map[string]bool{}
		maxTook            time.Duration
		firstErr           error
	)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			var last uint64
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				a, took, err := decide(client, d.url, map[string]any{"user": "alice", "instance": "campaign", "permission": "finances=export"})
				requests.Add(1)
				mu.Lock()
				if err != nil || a.Result != true {
					failures.Add(1)
					if firstErr == nil {
						firstErr = fmt.Errorf("client %d request %d: %v %+v", c, i, err, a)
					}
				} else {
					seen[a.Provenance.Revision] = true
					if a.Provenance.Generation < last {
						failures.Add(1)
						firstErr = fmt.Errorf("client %d: generation %d after %d", c, a.Provenance.Generation, last)
					}
					last = a.Provenance.Generation
					maxTook = max(maxTook, took)
				}
				mu.Unlock()
			}
		}()
	}

	// Valid edits change a display name (a new revision each); broken ones leave a dangling
	// reference, which is never served.
	validRevisions := map[string]bool{}
	waitGeneration := func(gen float64) string {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			s := status(t, d.url)
			if g, _ := s["generation"].(float64); g >= gen {
				rev, _ := s["revision"].(string)
				return rev
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("generation %v not reached: %v\n%s", gen, status(t, d.url), d.stderr.String())
		return ""
	}
	validRevisions[waitGeneration(1)] = true
	gen := 1.0
	failedReloads := func() float64 {
		r, _ := status(t, d.url)["reloads"].(map[string]any)
		f, _ := r["failed"].(float64)
		return f
	}
	var changeToServed []time.Duration
	every := (valid + broken) / broken
	for i := range valid + broken {
		if i%every == 1 && broken > 0 {
			broken--
			before := failedReloads()
			testutil.WriteFile(t, dir, "assignments/broken.yaml", "apiVersion: permsets/v1\nkind: Assignment\ninstance: campaign\nusers: [alice]\npermissionSets: [no-such-set]\n")
			for deadline := time.Now().Add(10 * time.Second); failedReloads() <= before; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the broken revision was not reported:\n%s", d.stderr.String())
				}
			}
			if err := os.Remove(dir + "/assignments/broken.yaml"); err != nil {
				t.Fatal(err)
			}
			continue
		}
		testutil.WriteFile(t, dir, "sets/campaign/bookkeeper.yaml", fmt.Sprintf("apiVersion: permsets/v1\nkind: PermissionSet\nid: bookkeeper\ninstances: [campaign]\nname: Bookkeeper %d\npermissions: [finances=edit, people=read]\n", i))
		wrote := time.Now()
		gen++
		validRevisions[waitGeneration(gen)] = true
		changeToServed = append(changeToServed, time.Since(wrote))
	}
	close(stopLoad)
	wg.Wait()

	if firstErr != nil || failures.Load() > 0 {
		t.Errorf("%d of %d requests failed; the first: %v", failures.Load(), requests.Load(), firstErr)
	}
	for rev := range seen {
		if !validRevisions[rev] {
			t.Errorf("an answer came from revision %s, which was never a valid one", rev)
		}
	}
	if maxTook > slowest {
		t.Errorf("the slowest request took %v (limit %v)", maxTook, slowest)
	}
	slices.Sort(changeToServed)
	t.Logf("%d requests by %d clients, slowest %v; change to served: median %v, max %v", requests.Load(), clients, maxTook,
		changeToServed[len(changeToServed)/2], changeToServed[len(changeToServed)-1])
	s := status(t, d.url)
	reloads, _ := s["reloads"].(map[string]any)
	if failed, _ := reloads["failed"].(float64); failed < 1 {
		t.Errorf("no failed reload counted: %v", s)
	}
	if le, _ := s["last_error"].(string); le != "" {
		t.Errorf("last_error not cleared by the last good revision: %q", le)
	}

	// SIGHUP reloads (an ok reload with the same revision: no new generation).
	okBefore, _ := reloads["ok"].(float64)
	if err := syscall.Kill(d.cmd.Process.Pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, _ := status(t, d.url)["reloads"].(map[string]any)
		if ok, _ := r["ok"].(float64); ok > okBefore {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload:\n%s", d.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if g, _ := status(t, d.url)["generation"].(float64); g != gen {
		t.Errorf("a reload without change moved the generation to %v (was %v)", g, gen)
	}
	if code := d.stop(t); code != 0 {
		t.Errorf("exit %d after SIGTERM:\n%s", code, d.stderr.String())
	}
}
