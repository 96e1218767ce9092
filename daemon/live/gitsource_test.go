package live

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/permsets/permsets/internal/testutil"
)

func newGitRemote(t *testing.T) *testutil.GitRemote { return testutil.NewGitRemote(t, example) }

// gitHarness is a reloader over a GitSource.
type gitHarness struct {
	*harness
	git *GitSource
}

func newGitHarness(t *testing.T, o GitOptions) *gitHarness {
	t.Helper()
	h, log := newLoggedHarness(t, "")
	if o.CacheDir == "" {
		o.CacheDir = t.TempDir()
	}
	o.Log = log
	src, err := NewGitSource(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	h.follow(src, log)
	return &gitHarness{harness: h, git: src}
}

func TestGitSourceFollowsTheBranch(t *testing.T) {
	remote := newGitRemote(t)
	first, err := remote.Repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	h := newGitHarness(t, GitOptions{URL: "file://" + remote.Bare, Branch: "live", Path: "access", Poll: 20 * time.Millisecond})
	h.start()
	h.waitGeneration(1)
	cur := h.current()
	if cur.Commit != first.Hash().String() {
		t.Errorf("commit %s, want %s", cur.Commit, first.Hash())
	}
	if want := expectedRevision(t, filepath.Join(remote.Work, "access")); cur.Revision != want {
		t.Errorf("revision %s, want %s", cur.Revision, want)
	}
	if st := h.state.Status(); !st.SourceOK || st.Source != "git file://"+remote.Bare+"@live path access" {
		t.Errorf("status %+v", st)
	}

	// A push is picked up by polling.
	second := remote.Rename(1)
	h.waitGeneration(2)
	if cur := h.current(); cur.Commit != second || cur.Revision != expectedRevision(t, filepath.Join(remote.Work, "access")) {
		t.Errorf("after the push: commit %s revision %s", cur.Commit, cur.Revision)
	}
	// A commit that does not touch the config: a new commit, the same revision.
	testutil.WriteFile(t, remote.Work, "README.md", "still not config\n")
	third := remote.CommitAndPush("readme")
	h.waitFor("the third commit", func() bool { return h.state.Current().Commit == third })
	if cur := h.current(); cur.Revision != expectedRevision(t, filepath.Join(remote.Work, "access")) {
		t.Errorf("revision changed by a commit outside the config root")
	}
	// The clone holds no work tree and no remote configured (no URL written to disk).
	cfg, err := os.ReadFile(filepath.Join(h.git.repoDir, "config"))
	if err != nil || strings.Contains(string(cfg), "remote") {
		t.Errorf("clone config: %v\n%s", err, cfg)
	}
}

func TestGitSourceRemoteGoneAndBack(t *testing.T) {
	remote := newGitRemote(t)
	h := newGitHarness(t, GitOptions{URL: remote.Bare, Branch: "live", Path: "access", Poll: 20 * time.Millisecond})
	h.start()
	h.waitGeneration(1)
	served := h.current()

	moved := remote.Bare + ".away"
	if err := os.Rename(remote.Bare, moved); err != nil {
		t.Fatal(err)
	}
	h.waitFor("source_ok false", func() bool { return !h.state.Status().SourceOK })
	st := h.state.Status()
	if !strings.Contains(st.LastError, "fetch "+remote.Bare+": ") {
		t.Errorf("last_error %q does not say which fetch failed", st.LastError)
	}
	if cur := h.current(); cur != served {
		t.Errorf("the revision served changed while the remote was gone")
	}
	// The failure is logged once, however many polls fail (the first poll after the rename may
	// see the repository half gone, a different error).
	time.Sleep(60 * time.Millisecond)
	logged := h.logs.Count("fetch failed")
	time.Sleep(100 * time.Millisecond)
	if n := h.logs.Count("fetch failed"); n != logged || n > 2 {
		t.Errorf("the fetch failure was logged %d times, then %d", logged, n)
	}

	if err := os.Rename(moved, remote.Bare); err != nil {
		t.Fatal(err)
	}
	h.waitFor("source_ok true", func() bool { st := h.state.Status(); return st.SourceOK && st.LastError == "" })
	if cur := h.current(); cur.Generation != 1 || cur.Revision != served.Revision {
		t.Errorf("after recovery: generation %d revision %s", cur.Generation, cur.Revision)
	}
	// And it follows pushes again.
	remote.Rename(2)
	h.waitGeneration(2)
}

func TestGitSourceBranchOrPathMissing(t *testing.T) {
	remote := newGitRemote(t)
	for _, tc := range []struct {
		note, branch, path, want string
	}{
		{note: "no such branch", branch: "nope", want: "couldn't find remote ref"},
		{note: "no such path", branch: "live", path: "nope", want: "nope does not exist"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			h := newGitHarness(t, GitOptions{URL: remote.Bare, Branch: tc.branch, Path: tc.path, Poll: time.Hour})
			err := h.r.LoadOnce(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if h.state.Current() != nil {
				t.Error("something is served")
			}
		})
	}
}

// N requests for a fetch made while none has started are served by one fetch; N made while one
// is running, by one more after it.
func TestGitFetchCollapses(t *testing.T) {
	remote := newGitRemote(t)
	src, err := NewGitSource(GitOptions{URL: remote.Bare, Branch: "live", CacheDir: t.TempDir(), Poll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	const n = 16

	gate := make(chan struct{})
	src.beforeFetch = func() { <-gate }
	flights := make([]*flight, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); flights[i] = src.request() }()
	}
	wg.Wait()
	close(gate)
	for i, f := range flights {
		<-f.done
		if f != flights[0] || f.err != nil {
			t.Fatalf("request %d: another fetch, or %v", i, f.err)
		}
	}
	if got := src.Fetches(); got != 1 {
		t.Errorf("%d concurrent requests: %d fetches, want 1", n, got)
	}

	// One fetch running (held up by a reader of the clone); n requests meanwhile: one more.
	src.beforeFetch = nil
	src.repoMu.RLock()
	running := src.request()
	for {
		src.mu.Lock()
		started := running.started
		src.mu.Unlock()
		if started {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); flights[i] = src.request() }()
	}
	wg.Wait()
	src.repoMu.RUnlock()
	<-running.done
	for i, f := range flights {
		<-f.done
		if f == running || f != flights[0] {
			t.Fatalf("request %d was not served by the one fetch queued", i)
		}
	}
	if got := src.Fetches(); got != 3 {
		t.Errorf("%d requests during a fetch: %d fetches in all, want 3", n, got)
	}
	// Fetch waits for its fetch.
	if err := src.Fetch(context.Background()); err != nil || src.Fetches() != 4 {
		t.Errorf("Fetch: %v, %d fetches", err, src.Fetches())
	}
}

// A remote that accepts the connection and never answers: the fetch gives up after the
// timeout.
func TestGitFetchTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	h := newGitHarness(t, GitOptions{URL: "http://" + ln.Addr().String() + "/repo.git", Branch: "live", Poll: time.Hour, Timeout: 300 * time.Millisecond})
	start := time.Now()
	err = h.r.LoadOnce(context.Background())
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "timed out after 300ms") {
		t.Errorf("error %v", err)
	}
	if took > 3*time.Second {
		t.Errorf("the fetch took %v with a 300ms timeout", took)
	}
	if st := h.state.Status(); st.SourceOK || !strings.Contains(st.LastError, "fetch http://") {
		t.Errorf("status %+v", st)
	}
}

func TestGitScrub(t *testing.T) {
	t.Setenv("PERMSETS_GIT_TOKEN", "env/tok=en")
	src, err := NewGitSource(GitOptions{URL: "https://bot:url%2Fsecret@example.com/org/repo.git", Branch: "live", CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if s := src.String(); s != "git https://bot:xxxxx@example.com/org/repo.git@live" {
		t.Errorf("String %q", s)
	}
	for _, msg := range []string{
		"fetch https://bot:url%2Fsecret@example.com/org/repo.git: denied",
		"Get \"https://bot:url/secret@example.com/org/repo.git/info/refs\": eof",
		"token env/tok=en refused; env%2Ftok%3Den too",
		"redirected to https://other:hunter2@evil.example/",
	} {
		got := src.scrub(msg)
		for _, secret := range []string{"url%2Fsecret", "url/secret", "env/tok=en", "env%2Ftok%3Den", "hunter2"} {
			if strings.Contains(got, secret) {
				t.Errorf("scrub(%q) = %q: shows %q", msg, got, secret)
			}
		}
	}

	// A token in place of the user of an https URL (go-git sends it as basic auth).
	src, err = NewGitSource(GitOptions{URL: "https://ghp_token123@example.com/org/repo.git", Branch: "live", CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if s := src.String(); s != "git https://xxxxx@example.com/org/repo.git@live" {
		t.Errorf("String %q", s)
	}
	for _, msg := range []string{"fetch https://ghp_token123@example.com/org/repo.git: denied", "user ghp_token123 refused"} {
		if got := src.scrub(msg); strings.Contains(got, "ghp_token123") {
			t.Errorf("scrub(%q) = %q: shows the token", msg, got)
		}
	}

	// Secrets written unescaped ("/" in a password, "?" in a token) and tokens in the query.
	for _, tc := range []struct{ url, want, secret string }{
		{"https://user:pa/ss-Zq9@example.com/org/repo.git", "", "ss-Zq9"}, // not a URL go-git reads
		{"https://tok?en-Xw7@example.com/x", "git https://xxxxx@live", "en-Xw7"},
		{"https://example.com/org/repo.git?private_token=glpat-Qq1", "git https://example.com/org/repo.git?private_token=xxxxx@live", "glpat-Qq1"},
		{"https://example.com/r.git?access_token=at-Rr2&x=1", "git https://example.com/r.git?access_token=xxxxx&x=xxxxx@live", "at-Rr2"},
	} {
		src, err := NewGitSource(GitOptions{URL: tc.url, Branch: "live", CacheDir: t.TempDir()})
		if tc.want == "" {
			if err == nil || strings.Contains(err.Error(), tc.secret) || !strings.Contains(err.Error(), "https://xxxxx@example.com/org/repo.git") {
				t.Errorf("NewGitSource(%s): %v", tc.url, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if s := src.String(); s != tc.want {
			t.Errorf("String %q, want %q", s, tc.want)
		}
		if got := src.scrub("fetch " + tc.url + ": denied (" + tc.secret + ")"); strings.Contains(got, tc.secret) {
			t.Errorf("scrub of %s: %q", tc.url, got)
		}
	}
}

// The URL shapes whose credentials older redaction showed, through a real fetch: neither the
// error, nor the status, nor the log shows them, even when the server echoes what it was sent.
func TestGitCredentialShapesNeverShown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "denied: "+r.URL.String()+" "+r.Header.Get("Authorization"), http.StatusUnauthorized)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	// A password with "/" is refused at once (go-git does not read the URL), scrubbed.
	if _, err := NewGitSource(GitOptions{URL: "http://user:pa/ss-Zq9@" + host + "/org/repo.git", Branch: "live", CacheDir: t.TempDir()}); err == nil || strings.Contains(err.Error(), "ss-Zq9") {
		t.Errorf("NewGitSource: %v", err)
	}
	for _, tc := range []struct{ url, secret string }{
		{"http://" + host + "/org/repo.git?private_token=glpat-Qq1", "glpat-Qq1"},
		{"http://" + host + "/org/repo.git?access_token=at-Rr2", "at-Rr2"},
		{"http://bot:Pw-Ee3@" + host + "/org/repo.git?token=Tk-Ff4", "Tk-Ff4"},
	} {
		h := newGitHarness(t, GitOptions{URL: tc.url, Branch: "live", Poll: time.Hour, Timeout: 2 * time.Second})
		err := h.r.LoadOnce(context.Background())
		if err == nil {
			t.Fatalf("%s: no error", tc.url)
		}
		st := h.state.Status()
		for what, text := range map[string]string{"the error": err.Error(), "last_error": st.LastError, "source": st.Source, "the log": h.logs.String()} {
			if strings.Contains(text, tc.secret) || strings.Contains(text, "Pw-Ee3") {
				t.Errorf("%s: %s shows a secret: %s", tc.url, what, text)
			}
		}
		if st.LastError == "" || !strings.Contains(st.LastError, "fetch http://") {
			t.Errorf("%s: last_error %q", tc.url, st.LastError)
		}
	}
}
