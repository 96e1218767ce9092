package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/permsets/permsets/daemon/live"
	"github.com/permsets/permsets/internal/testutil"
)

func newGitRemote(t *testing.T) *testutil.GitRemote {
	r := testutil.NewGitRemote(t, "../../examples/nation")
	r.Rename(0)
	return r
}

// gitKill9 kills the daemon with SIGKILL and waits for it.
func (d *daemon) gitKill9(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(d.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = d.cmd.Wait()
}

// get fetches url with an optional bearer token and returns the status and body.
func gitGet(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	resp, body := getWithToken(t, url, token)
	return resp.StatusCode, body
}

type gitStatus struct {
	Source    string `json:"source"`
	Revision  string `json:"revision"`
	Commit    string `json:"commit"`
	LastError string `json:"last_error"`
	SourceOK  bool   `json:"source_ok"`
	Persisted bool   `json:"persisted"`
}

func (d *daemon) gitStatusOf(t *testing.T, token string) gitStatus {
	t.Helper()
	code, body := gitGet(t, d.url+"/v1/status", token)
	var s gitStatus
	if code != 200 || json.Unmarshal(body, &s) != nil {
		t.Fatalf("status %d: %s", code, body)
	}
	return s
}

// waitGitStatus polls /v1/status until cond holds.
func (d *daemon) waitGitStatus(t *testing.T, token, what string, cond func(gitStatus) bool) gitStatus {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := d.gitStatusOf(t, token)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGitLog waits until the daemon has logged msg.
func (d *daemon) waitGitLog(t *testing.T, msg string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(d.stderr.String(), msg) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the log line %q", msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func gitPersistedRevision(t *testing.T, cacheDir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cacheDir, live.PersistedInfo))
	if err != nil {
		return ""
	}
	var meta live.PersistedMeta
	if err := json.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	return meta.Revision
}

func gitAllowed(t *testing.T, url, token string) string {
	t.Helper()
	body := `{"input": {"user": "alice", "instance": "campaign", "permission": "finances=export"}}`
	resp, data := request(t, http.MethodPost, url+"/v1/data/permsets/allow?provenance", token, strings.NewReader(body))
	var a answer
	if resp.StatusCode != 200 || json.Unmarshal(data, &a) != nil || a.Result != true {
		t.Fatalf("decision: status %d %+v", resp.StatusCode, a)
	}
	return a.Provenance.Revision
}

// A push is picked up by polling; the remote going away keeps the revision served and shows in
// the status until it is back; the revision is persisted; without a secret there is no webhook.
func TestGitPollRemoteGoneAndBack(t *testing.T) {
	remote := newGitRemote(t)
	cache := t.TempDir()
	url := "file://" + remote.Bare
	d := launch(t, nil, "--git", url, "--branch", "live", "--path", "access", "--poll", "30ms", "--cache-dir", cache)
	first := d.waitGitStatus(t, "", "the first revision", func(s gitStatus) bool { return s.Revision != "" })
	if first.Source != "git "+url+"@live path access" || !first.SourceOK || first.Persisted {
		t.Errorf("status %+v", first)
	}
	second := remote.Rename(1)
	st := d.waitGitStatus(t, "", "the pushed commit", func(s gitStatus) bool { return s.Commit == second })
	if st.Revision == first.Revision {
		t.Error("a new commit with a new name, and the same revision")
	}
	deadline := time.Now().Add(10 * time.Second)
	for gitPersistedRevision(t, cache) != st.Revision {
		if time.Now().After(deadline) {
			t.Fatal("the revision served was not persisted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, body := gitPostWebhook(t, d.url, "x", "push", []byte(`{"ref":"refs/heads/live"}`)); code != http.StatusNotFound {
		t.Errorf("webhook without a secret: %d %s", code, body)
	}

	moved := remote.Bare + ".moved"
	if err := os.Rename(remote.Bare, moved); err != nil {
		t.Fatal(err)
	}
	gone := d.waitGitStatus(t, "", "source_ok false", func(s gitStatus) bool { return !s.SourceOK })
	if !strings.Contains(gone.LastError, "fetch "+url) || gone.Revision != st.Revision {
		t.Errorf("remote gone: %+v", gone)
	}
	if rev := gitAllowed(t, d.url, ""); rev != st.Revision {
		t.Errorf("answered from %s", rev)
	}
	if err := os.Rename(moved, remote.Bare); err != nil {
		t.Fatal(err)
	}
	back := d.waitGitStatus(t, "", "source_ok true", func(s gitStatus) bool { return s.SourceOK && s.LastError == "" })
	if back.Revision != st.Revision {
		t.Errorf("after recovery: %+v", back)
	}
	if code := d.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

func gitSign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func gitPostWebhook(t *testing.T, base, secret, event string, body []byte) (int, string) {
	t.Helper()
	header := []string{"Content-Type", "application/json", "X-GitHub-Event", event}
	if secret != "" {
		header = append(header, "X-Hub-Signature-256", gitSign(secret, body))
	}
	resp, data := request(t, http.MethodPost, base+"/v1/webhook", "", bytes.NewReader(body), header...)
	return resp.StatusCode, string(data)
}

// With polling effectively off, a signed push webhook fetches at once; it needs no bearer
// token; unsigned, badly signed and oversized deliveries are refused.
func TestGitWebhook(t *testing.T) {
	remote := newGitRemote(t)
	dir := t.TempDir()
	const secret, token = "webhook-secret", "bearer-token"
	testutil.WriteFile(t, dir, "secret", secret+"\n")
	testutil.WriteFile(t, dir, "token", token+"\n")
	d := launch(t, nil, "--git", remote.Bare, "--branch", "live", "--path", "access", "--poll", "1h",
		"--cache-dir", filepath.Join(dir, "cache"), "--webhook-secret-file", filepath.Join(dir, "secret"), "--token-file", filepath.Join(dir, "token"))
	first := d.waitGitStatus(t, token, "the first revision", func(s gitStatus) bool { return s.Revision != "" })

	push := []byte(`{"ref":"refs/heads/live","after":"x"}`)
	for _, tc := range []struct {
		note, secret, event string
		body                []byte
		status              int
		want                string
	}{
		{note: "unsigned", event: "push", body: push, status: 401, want: `"code":"unauthorized"`},
		{note: "badly signed", secret: "guess", event: "push", body: push, status: 401, want: `"code":"unauthorized"`},
		{note: "ping", secret: secret, event: "ping", body: []byte(`{}`), status: 200, want: "pong"},
		{note: "another branch", secret: secret, event: "push", body: []byte(`{"ref":"refs/heads/main"}`), status: 200, want: "ignored"},
		{note: "oversized", secret: secret, event: "push", body: bytes.Repeat([]byte(" "), 25<<20+1), status: 413, want: "request_too_large"},
	} {
		code, body := gitPostWebhook(t, d.url, tc.secret, tc.event, tc.body)
		if code != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s", tc.note, code, body)
		}
	}
	second := remote.Rename(1)
	time.Sleep(50 * time.Millisecond)
	if s := d.gitStatusOf(t, token); s.Commit == second {
		t.Fatal("fetched before the webhook: polling is not off")
	}
	start := time.Now()
	if code, body := gitPostWebhook(t, d.url, secret, "push", push); code != http.StatusAccepted {
		t.Fatalf("signed push: %d %s", code, body)
	}
	st := d.waitGitStatus(t, token, "the pushed commit", func(s gitStatus) bool { return s.Commit == second })
	t.Logf("webhook to served: %v", time.Since(start))
	if st.Revision == first.Revision {
		t.Error("same revision after the push")
	}
	// The webhook does not open the other endpoints to callers without the token.
	if code, _ := gitGet(t, d.url+"/v1/status", ""); code != http.StatusUnauthorized {
		t.Errorf("status without the token: %d", code)
	}
	if code := d.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// kill -9 while a new revision loads; restarted with the remote gone, permsd serves the
// persisted last good revision, and says so; a corrupt persisted bundle is never served.
func TestGitKilledThenRemoteGone(t *testing.T) {
	remote := newGitRemote(t)
	cache := t.TempDir()
	args := []string{"--git", remote.Bare, "--branch", "live", "--path", "access", "--poll", "20ms", "--cache-dir", cache, "--log-level", "debug"}
	d := launch(t, nil, args...)
	first := d.waitGitStatus(t, "", "the first revision", func(s gitStatus) bool { return s.Revision != "" })
	for deadline := time.Now().Add(10 * time.Second); gitPersistedRevision(t, cache) != first.Revision; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not persisted")
		}
	}
	remote.Rename(1)
	d.waitGitLog(t, "fetched a new commit") // the reload starts now
	d.gitKill9(t)
	if err := os.RemoveAll(remote.Bare); err != nil {
		t.Fatal(err)
	}
	persisted := gitPersistedRevision(t, cache)
	if persisted == "" {
		t.Fatal("nothing persisted after the kill")
	}
	t.Logf("persisted after the kill: the first revision %v", persisted == first.Revision)

	d = launch(t, nil, args...)
	st := d.waitGitStatus(t, "", "the persisted revision", func(s gitStatus) bool { return s.Revision != "" })
	if st.Revision != persisted || !st.Persisted || st.SourceOK || st.LastError == "" {
		t.Errorf("restarted with the remote gone: %+v (persisted %s)", st, persisted)
	}
	if rev := gitAllowed(t, d.url, ""); rev != persisted {
		t.Errorf("answered from %s, persisted %s", rev, persisted)
	}
	if code, _ := gitGet(t, d.url+"/health", ""); code != 200 {
		t.Errorf("health %d", code)
	}
	d.stop(t)

	// Truncated: logged, not served.
	bundle := filepath.Join(cache, live.PersistedBundle)
	data, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bundle, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	d = launch(t, nil, args...)
	d.waitGitLog(t, "the persisted revision is not served")
	if code, _ := gitGet(t, d.url+"/health", ""); code != 500 {
		t.Errorf("health %d with a corrupt persisted bundle", code)
	}
	if s := d.gitStatusOf(t, ""); s.Revision != "" || s.LastError == "" {
		t.Errorf("status %+v", s)
	}
	d.stop(t)
}

// A cache directory from an old run, readable by others (0755, a 0644 bundle and clone): once
// permsd has started on it, it and everything in it, the new clone included, is private.
func TestGitCacheDirMadePrivate(t *testing.T) {
	remote := newGitRemote(t)
	cache := filepath.Join(t.TempDir(), "cache")
	if err := os.MkdirAll(filepath.Join(cache, "repo.git"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{live.PersistedBundle, live.PersistedInfo, "repo.git/stale"} {
		if err := os.WriteFile(filepath.Join(cache, f), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{cache, filepath.Join(cache, "repo.git")} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d := launch(t, nil, "--git", remote.Bare, "--branch", "live", "--path", "access", "--poll", "1h", "--cache-dir", cache)
	first := d.waitGitStatus(t, "", "the first revision", func(s gitStatus) bool { return s.Revision != "" })
	for deadline := time.Now().Add(10 * time.Second); gitPersistedRevision(t, cache) != first.Revision; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not persisted")
		}
	}
	d.stop(t)
	n := 0
	err := filepath.WalkDir(cache, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 != 0 || e.IsDir() && info.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %o", p, info.Mode().Perm())
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("only %d entries in the cache: no clone?", n)
	}
}

// A token in the URL (as the password, or as a query value) and in PERMSETS_GIT_TOKEN: neither
// appears in any log line, in the status, in the metrics or in the cache directory.
func TestGitCredentialsNeverShown(t *testing.T) {
	const urlSecret, envSecret = "url-s3cret-Zq9", "env-s3cret-Xw7"
	var gotAuth atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pw, ok := r.BasicAuth(); ok && pw == envSecret {
			gotAuth.Store(true)
		}
		// A careless server that echoes what it was sent.
		http.Error(w, "denied: "+r.URL.String()+" "+r.Header.Get("Authorization"), http.StatusInternalServerError)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	for _, tc := range []struct{ gitURL, shown string }{
		{"http://x-access-token:" + urlSecret + "@" + u.Host + "/org/repo.git", "fetch http://x-access-token:xxxxx@" + u.Host + "/org/repo.git"},
		{"http://" + u.Host + "/org/repo.git?private_token=" + urlSecret, "fetch http://" + u.Host + "/org/repo.git?private_token=xxxxx"},
	} {
		gotAuth.Store(false)
		cache := t.TempDir()
		d := launch(t, []string{"PERMSETS_GIT_TOKEN=" + envSecret}, "--git", tc.gitURL, "--branch", "live", "--poll", "50ms", "--git-timeout", "2s",
			"--cache-dir", cache, "--log-level", "debug")
		st := d.waitGitStatus(t, "", "the failure in the status", func(s gitStatus) bool { return s.LastError != "" })
		if !strings.Contains(st.LastError, tc.shown) {
			t.Errorf("last_error %q, want %q", st.LastError, tc.shown)
		}
		if err := syscall.Kill(d.cmd.Process.Pid, syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		_, status := gitGet(t, d.url+"/v1/status", "")
		_, metrics := gitGet(t, d.url+"/metrics", "")
		d.stop(t)
		if !gotAuth.Load() {
			t.Error("the token of PERMSETS_GIT_TOKEN was not sent")
		}
		var files bytes.Buffer
		_ = filepath.Walk(cache, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() {
				data, _ := os.ReadFile(p)
				files.Write(data)
			}
			return nil
		})
		for what, text := range map[string]string{"the log": d.stderr.String(), "/v1/status": string(status), "/metrics": string(metrics), "the cache directory": files.String()} {
			for _, secret := range []string{urlSecret, envSecret} {
				if strings.Contains(text, secret) {
					t.Errorf("%s: %s shows a secret:\n%s", tc.gitURL, what, text)
				}
			}
		}
		if os.Getenv("PERMSD_TEST_SHOW_LOG") != "" {
			t.Logf("log:\n%s\nstatus: %s", d.stderr.String(), status)
		}
		lines := strings.Count(d.stderr.String(), "\n")
		if lines < 3 {
			t.Errorf("only %d log lines: the test greps nothing", lines)
		}
	}
}

func TestGitUsageErrors(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFile(t, dir, "empty", "\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{args: []string{"--git", "x"}, code: exitUsage, want: "--git needs --branch"},
		{args: []string{"--git", "x", "--branch", "live", "--dir", "."}, code: exitUsage, want: "two sources"},
		{args: []string{"--dir", ".", "--webhook-secret-file", "f"}, code: exitUsage, want: "needs --git"},
		{args: []string{"--dir", ".", "--branch", "live"}, code: exitUsage, want: "--branch goes with --git"},
		{args: []string{"--dir", ".", "--poll", "1s"}, code: exitUsage, want: "--poll goes with --git"},
		{args: []string{"--git", "x", "--branch", "live", "--poll", "0s"}, code: exitUsage, want: "--poll must be positive"},
		{args: []string{"--branch", "live"}, code: exitUsage, want: "goes with --git"},
		{args: []string{"--git", "x", "--branch", "live", "--cache-dir", filepath.Join(dir, "c"), "--webhook-secret-file", filepath.Join(dir, "empty")}, code: exitError, want: "is empty"},
		{args: []string{"--git", "x", "--branch", "a..b", "--cache-dir", filepath.Join(dir, "c")}, code: exitError, want: "not a branch name"},
	} {
		var errb bytes.Buffer
		if code := run(tc.args, &errb); code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", tc.args, code, tc.code, tc.want, errb.String())
		}
	}
}
