package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/daemon/snapshot"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/testutil"
)

const example = "../../examples/nation"

// waitTimeout bounds every wait: generous, for a loaded CI machine under -race.
const waitTimeout = 10 * time.Second

type harness struct {
	t      *testing.T
	dir    string
	src    *DirSource
	state  *snapshot.State
	r      *Reloader
	logs   *testutil.SyncBuffer
	cancel context.CancelFunc
	done   chan error

	mu      sync.Mutex
	reloads []ReloadEvent
}

// newHarness copies the example into a temporary directory and sets up a DirSource and a
// Reloader on it; start runs the reloader.
func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessAt(t, testutil.CopyTree(t, example))
}

func newHarnessAt(t *testing.T, dir string) *harness {
	t.Helper()
	h, log := newLoggedHarness(t, dir)
	src, err := NewDirSource(dir, 0, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	h.src = src
	h.follow(src, log)
	return h
}

// newLoggedHarness is a harness with no source yet, and the logger that writes to its logs.
func newLoggedHarness(t *testing.T, dir string) (*harness, *slog.Logger) {
	h := &harness{t: t, dir: dir, state: &snapshot.State{}, logs: &testutil.SyncBuffer{}}
	return h, slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// follow gives h its reloader over src, recording every reload event; a failed test prints the
// log.
func (h *harness) follow(src Source, log *slog.Logger) {
	h.r = NewReloader(Options{Source: src, State: h.state, Log: log,
		OnReload: func(ev ReloadEvent) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.reloads = append(h.reloads, ev)
		}})
	h.t.Cleanup(func() {
		if h.t.Failed() {
			h.t.Logf("log:\n%s", h.logs)
		}
	})
}

// start runs the reloader until the test ends and waits for the first load.
func (h *harness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- h.r.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(waitTimeout):
			h.t.Error("Run did not return after cancel")
		}
	})
	h.waitReloads(1)
}

func (h *harness) reloadCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.reloads)
}

func (h *harness) lastReload() ReloadEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reloads[len(h.reloads)-1]
}

// waitReloads waits until at least n reload attempts have been reported.
func (h *harness) waitReloads(n int) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("%d reloads", n), func() bool { return h.reloadCount() >= n })
}

func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s (reloads: %d, status: %+v)", what, h.reloadCount(), h.state.Status())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *harness) current() *snapshot.Snapshot {
	h.t.Helper()
	cur := h.state.Current()
	if cur == nil {
		h.t.Fatal("nothing served")
	}
	return cur
}

// waitGeneration waits until generation gen is served and returns how long it took.
func (h *harness) waitGeneration(gen uint64) time.Duration {
	h.t.Helper()
	start := time.Now()
	h.waitFor(fmt.Sprintf("generation %d", gen), func() bool {
		cur := h.state.Current()
		return cur != nil && cur.Generation >= gen
	})
	took := time.Since(start)
	if g := h.current().Generation; g != gen {
		h.t.Fatalf("generation %d, want %d", g, gen)
	}
	// The revision is published before its reload is reported: wait for the report too, so a
	// caller counting reloads from here counts only later ones.
	h.waitFor(fmt.Sprintf("the report of generation %d", gen), func() bool {
		return h.reloadCount() > 0 && h.lastReload().Generation >= gen
	})
	return took
}

// expectedRevision is the revision of the directory's current content, loaded afresh.
func expectedRevision(t *testing.T, dir string) string {
	t.Helper()
	res, err := config.LoadDir(context.Background(), dir, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("config has problems: %v", res.Problems)
	}
	rev, err := engine.RevisionOf(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func TestInitialLoad(t *testing.T) {
	h := newHarness(t)
	if got, want := h.state.Status().Source, "dir "+h.dir; got != want {
		t.Errorf("status source before the first load = %q, want %q", got, want)
	}
	if err := h.r.LoadOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	cur := h.current()
	if cur.Generation != 1 {
		t.Errorf("generation %d, want 1", cur.Generation)
	}
	if cur.Revision == "" || cur.Revision != cur.Bundle.Revision || cur.Revision != expectedRevision(t, h.dir) {
		t.Errorf("revision %q, bundle %q", cur.Revision, cur.Bundle.Revision)
	}
	if cur.Commit != "" {
		t.Errorf("commit %q for a directory", cur.Commit)
	}
	if cur.Evaluator == nil || cur.Evaluator.Bundle() != cur.Bundle {
		t.Error("evaluator missing or not on the bundle")
	}
	if cur.Counts.Users != 10 || cur.Counts.Instances != 2 || cur.Counts.Files != h.r.LastFiles() || cur.Counts.Files == 0 {
		t.Errorf("counts %+v", cur.Counts)
	}
	if cur.LoadedAt.IsZero() {
		t.Error("LoadedAt not set")
	}
	st := h.state.Status()
	if st.ReloadsOK != 1 || st.ReloadsFailed != 0 || st.LastError != "" || !st.SourceOK || st.Source != "dir "+h.dir {
		t.Errorf("status %+v", st)
	}
	if ev := h.lastReload(); !ev.OK || ev.Generation != 1 || ev.Revision != cur.Revision || ev.Err != nil || ev.Took <= 0 {
		t.Errorf("OnReload got %+v", ev)
	}
	if n := h.logs.Count("serving a new revision"); n != 1 {
		t.Errorf("%d 'serving' log lines, want 1", n)
	}
}

func TestValidEditLatency(t *testing.T) {
	h := newHarness(t)
	h.start()
	first := h.current()

	start := time.Now()
	testutil.Replace(t, h.dir, "users/sam.yaml", "Sam Whitfield", "Sam W. Whitfield")
	h.waitFor("generation 2", func() bool { return h.state.Current().Generation == 2 })
	latency := time.Since(start)
	cur := h.current()
	ev := h.lastReload()
	t.Logf("change-to-served latency: %v (debounce %v, load+compile+prepare %v)", latency, DefaultDebounce, ev.Took)
	if latency > time.Second {
		t.Errorf("the edit took %v to be served, want under 1s (300ms expected)", latency)
	}
	if cur.Revision == first.Revision || cur.Revision != expectedRevision(t, h.dir) {
		t.Errorf("revision %s after the edit (was %s)", cur.Revision, first.Revision)
	}
	if h.r.LastParsed() != 1 {
		t.Errorf("parsed %d files after a one-file edit, want 1", h.r.LastParsed())
	}
	if st := h.state.Status(); st.ReloadsOK != 2 || st.ReloadsFailed != 0 {
		t.Errorf("status %+v", st)
	}
	if first.Generation != 1 {
		t.Errorf("first generation %d", first.Generation)
	}
}

var posInFile = regexp.MustCompile(`users/sam\.yaml:\d+:\d+: `)

func TestBrokenEditKeepsLastGood(t *testing.T) {
	h := newHarness(t)
	h.start()
	good := h.current()
	orig, err := os.ReadFile(filepath.Join(h.dir, "users/sam.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	// Invalid YAML.
	n := h.reloadCount()
	testutil.WriteFile(t, h.dir, "users/sam.yaml", "apiVersion: permsets/v1\nkind: User\nid: [sam\nname: Sam\n")
	h.waitReloads(n + 1)
	st := h.state.Status()
	if cur := h.current(); cur != good {
		t.Fatalf("a broken revision replaced the good one: generation %d", cur.Generation)
	}
	if !posInFile.MatchString(st.LastError) || !regexp.MustCompile(`^invalid config: \d+ problems?: `).MatchString(st.LastError) {
		t.Errorf("LastError %q does not name the file and line", st.LastError)
	}
	if st.LastErrorAt.IsZero() || st.ReloadsFailed != 1 || st.ReloadsOK != 1 {
		t.Errorf("status %+v", st)
	}
	var pe *ProblemsError
	if ev := h.lastReload(); ev.OK || !errors.As(ev.Err, &pe) || ev.Generation != 1 || ev.Revision != good.Revision {
		t.Errorf("OnReload got %+v", ev)
	}

	// The same error again is counted but not logged again.
	for i := range 3 {
		h.r.Trigger()
		h.waitReloads(n + 2 + i)
	}
	if got := h.state.Status().ReloadsFailed; got != 4 {
		t.Errorf("ReloadsFailed %d, want 4", got)
	}
	if c := h.logs.Count("reload failed"); c != 1 {
		t.Errorf("the repeated error was logged %d times, want once", c)
	}

	// A dangling reference: a new error, logged once.
	if err := os.WriteFile(filepath.Join(h.dir, "users/sam.yaml"), orig, 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.Replace(t, h.dir, "roles/organizers.yaml", "members: [sam, lena]", "members: [sam, lena, nobody]")
	h.waitFor("the dangling reference error", func() bool {
		return strings.Contains(h.state.Status().LastError, `unknown user "nobody"`)
	})
	st = h.state.Status()
	if !regexp.MustCompile(`roles/organizers\.yaml:\d+:\d+: unknown-user: unknown user "nobody"`).MatchString(st.LastError) ||
		strings.Contains(st.LastError, "users/sam.yaml") {
		t.Errorf("LastError %q", st.LastError)
	}
	if h.current() != good {
		t.Error("a revision with a dangling reference was served")
	}
	if c := h.logs.Count("reload failed"); c != 2 {
		t.Errorf("%d 'reload failed' log lines, want 2", c)
	}

	// Fixed (back to the served content): LastError cleared, the recovery logged, and as the
	// content is the one served, no new generation.
	testutil.Replace(t, h.dir, "roles/organizers.yaml", "members: [sam, lena, nobody]", "members: [sam, lena]")
	// The status is published before the recovery is logged and reported: wait for all three.
	h.waitFor("recovery", func() bool {
		return h.state.Status().LastError == "" && h.logs.Count("config is valid again") == 1 && h.lastReload().OK
	})
	st = h.state.Status()
	if !st.LastErrorAt.IsZero() || st.ReloadsOK < 2 {
		t.Errorf("status after the fix %+v", st)
	}
	if cur := h.current(); cur.Generation != 1 || cur.Revision != good.Revision {
		t.Errorf("generation %d revision %s after restoring the served content", cur.Generation, cur.Revision)
	}
	if c := h.logs.Count("config is valid again"); c != 1 {
		t.Errorf("%d recovery log lines, want 1", c)
	}
	if ev := h.lastReload(); !ev.OK || ev.Err != nil {
		t.Errorf("OnReload after the fix %+v", ev)
	}

	// Broken again with the first error: logged again, as it is no longer the last one logged.
	testutil.WriteFile(t, h.dir, "users/sam.yaml", "apiVersion: permsets/v1\nkind: User\nid: [sam\nname: Sam\n")
	h.waitFor("the error again", func() bool { return h.state.Status().LastError != "" })
	if c := h.logs.Count("reload failed"); c != 3 {
		t.Errorf("%d 'reload failed' log lines, want 3", c)
	}
	// Fixed with new content: a new generation.
	testutil.WriteFile(t, h.dir, "users/sam.yaml", strings.Replace(string(orig), "Sam Whitfield", "Samuel Whitfield", 1))
	h.waitGeneration(2)
	if st := h.state.Status(); st.LastError != "" {
		t.Errorf("LastError %q after the fix", st.LastError)
	}
}

func TestFirstLoadFails(t *testing.T) {
	h := newHarness(t)
	testutil.WriteFile(t, h.dir, "users/sam.yaml", "kind: User\nid: [\n")
	err := h.r.LoadOnce(context.Background())
	var pe *ProblemsError
	if !errors.As(err, &pe) || len(pe.Problems) == 0 {
		t.Fatalf("LoadOnce = %v, want a ProblemsError", err)
	}
	if h.state.Current() != nil {
		t.Error("an invalid first revision is served")
	}
	if ev := h.lastReload(); ev.OK || ev.Generation != 0 || ev.Revision != "" {
		t.Errorf("OnReload %+v", ev)
	}
	if !strings.Contains(h.logs.String(), "no revision to serve yet") {
		t.Error("the failure is not logged")
	}
}

func TestSymlinkOutOfTreeRefused(t *testing.T) {
	h := newHarness(t)
	if err := h.r.LoadOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "evil.yaml")
	testutil.WriteFile(t, filepath.Dir(outside), "evil.yaml", "apiVersion: permsets/v1\nkind: User\nid: evil\nname: Evil\n")
	if err := os.Symlink(outside, filepath.Join(h.dir, "users", "evil.yaml")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	err := h.r.LoadOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "users/evil.yaml: outside-root") {
		t.Fatalf("LoadOnce = %v, want outside-root", err)
	}
	if h.current().Generation != 1 {
		t.Error("new generation")
	}
}

func TestTouchDoesNotBumpGeneration(t *testing.T) {
	h := newHarness(t)
	h.start()
	good := h.current()
	p := filepath.Join(h.dir, "users/sam.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}

	n := h.reloadCount()
	now := time.Now().Add(time.Minute)
	if err := os.Chtimes(p, now, now); err != nil {
		t.Fatal(err)
	}
	h.waitReloads(n + 1)
	n = h.reloadCount()
	if err := os.WriteFile(p, data, 0o644); err != nil { // saved without edits
		t.Fatal(err)
	}
	h.waitReloads(n + 1)

	if cur := h.current(); cur != good {
		t.Errorf("generation %d after touching a file, want the same snapshot", cur.Generation)
	}
	st := h.state.Status()
	if st.ReloadsFailed != 0 || int(st.ReloadsOK) != h.reloadCount() {
		t.Errorf("status %+v after %d reloads", st, h.reloadCount())
	}
	if ev := h.lastReload(); !ev.OK || ev.Generation != 1 {
		t.Errorf("OnReload %+v", ev)
	}
	if h.r.LastParsed() != 0 {
		t.Errorf("parsed %d unchanged files", h.r.LastParsed())
	}
	if c := h.logs.Count("serving a new revision"); c != 1 {
		t.Errorf("%d 'serving' log lines, want 1", c)
	}
}

const zoe = `apiVersion: permsets/v1
kind: User
id: zoe
name: Zoe Contractor
emails: [zoe@example.org]
`

func TestNewSubdirectory(t *testing.T) {
	h := newHarness(t)
	h.start()

	// A directory tree and a file in it, made at once: the file exists before any watch on
	// its directory.
	sub := filepath.Join(h.dir, "users", "team", "contractors")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "zoe.yaml"), []byte(zoe), 0o644); err != nil {
		t.Fatal(err)
	}
	h.waitGeneration(2)
	if got := h.current().Counts.Users; got != 11 {
		t.Errorf("%d users, want 11", got)
	}
	h.waitFor("watches on the new directories", func() bool {
		w := h.src.watchedDirs()
		return slices.Contains(w, sub) && slices.Contains(w, filepath.Dir(sub))
	})

	// An edit inside the new directory is seen: it is watched.
	testutil.Replace(t, sub, "zoe.yaml", "Zoe Contractor", "Zoe C.")
	h.waitGeneration(3)
	if h.current().Revision != expectedRevision(t, h.dir) {
		t.Error("served revision is not the directory's content")
	}

	// A hidden directory is neither loaded nor watched.
	if err := os.MkdirAll(filepath.Join(h.dir, ".git", "objects"), 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	for _, d := range h.src.watchedDirs() {
		if strings.Contains(d, ".git") {
			t.Errorf("hidden directory %s watched", d)
		}
	}

	// A removed directory loses its watches.
	if err := os.RemoveAll(filepath.Join(h.dir, "users", "team")); err != nil {
		t.Fatal(err)
	}
	h.waitGeneration(4)
	h.waitFor("the watches of removed directories to go", func() bool {
		return !slices.ContainsFunc(h.src.watchedDirs(), func(d string) bool { return strings.Contains(d, "team") })
	})
}

func TestWriteViaRename(t *testing.T) {
	h := newHarness(t)
	h.start()
	target := filepath.Join(h.dir, "users", "sam.yaml")
	data, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}

	// An editor's safe save: a temporary file beside the target, renamed over it.
	tmp := filepath.Join(h.dir, "users", ".sam.yaml.swp")
	if err := os.WriteFile(tmp, bytes.Replace(data, []byte("Sam Whitfield"), []byte("Sam R."), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, target); err != nil {
		t.Fatal(err)
	}
	h.waitGeneration(2)

	// From outside the tree (same file system).
	tmp = filepath.Join(t.TempDir(), "sam.yaml")
	if err := os.WriteFile(tmp, bytes.Replace(data, []byte("Sam Whitfield"), []byte("Sam S."), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, target); err == nil {
		h.waitGeneration(3)
	} else {
		t.Logf("rename across directories: %v", err)
	}
	if h.current().Revision != expectedRevision(t, h.dir) {
		t.Error("served revision is not the directory's content")
	}
}

func TestDirectoryRenamed(t *testing.T) {
	h := newHarness(t)
	h.start()

	// Renamed within the tree: the old name's watches go, the new name is watched.
	n := h.reloadCount()
	if err := os.Rename(filepath.Join(h.dir, "users"), filepath.Join(h.dir, "people")); err != nil {
		t.Fatal(err)
	}
	h.waitReloads(n + 1)
	people := filepath.Join(h.dir, "people")
	h.waitFor("a watch on the new name", func() bool { return slices.Contains(h.src.watchedDirs(), people) })
	if slices.Contains(h.src.watchedDirs(), filepath.Join(h.dir, "users")) {
		t.Error("the old name is still watched")
	}
	gen := h.current().Generation
	testutil.Replace(t, people, "sam.yaml", "Sam Whitfield", "Sam P.")
	h.waitGeneration(gen + 1)

	// Moved in from outside, with a subdirectory: watched, and edits in it are seen.
	outside := t.TempDir()
	testutil.WriteFile(t, outside, "batch/more/zoe.yaml", zoe)
	if err := os.Rename(filepath.Join(outside, "batch"), filepath.Join(h.dir, "people", "batch")); err != nil {
		t.Skip("rename across directories:", err)
	}
	h.waitGeneration(gen + 2)
	if got := h.current().Counts.Users; got != 11 {
		t.Errorf("%d users, want 11", got)
	}
	more := filepath.Join(h.dir, "people", "batch", "more")
	h.waitFor("a watch on the moved-in subdirectory", func() bool { return slices.Contains(h.src.watchedDirs(), more) })
	testutil.Replace(t, more, "zoe.yaml", "Zoe Contractor", "Zoe M.")
	h.waitGeneration(gen + 3)

	// Moved out of the tree: its watches go.
	if err := os.Rename(filepath.Join(h.dir, "people", "batch"), filepath.Join(outside, "gone")); err != nil {
		t.Fatal(err)
	}
	h.waitGeneration(gen + 4)
	h.waitFor("the watches of the moved-out directory to go", func() bool {
		return !slices.ContainsFunc(h.src.watchedDirs(), func(d string) bool { return strings.Contains(d, "batch") })
	})
	// An edit of the moved-out files is not seen as a change of the tree.
	n = h.reloadCount()
	testutil.Replace(t, filepath.Join(outside, "gone", "more"), "zoe.yaml", "Zoe M.", "Zoe N.")
	time.Sleep(3 * DefaultDebounce)
	if h.reloadCount() != n {
		t.Error("an edit outside the tree caused a reload")
	}
}

func TestBurst(t *testing.T) {
	h := newHarness(t)
	h.start()
	n := h.reloadCount()
	p := filepath.Join(h.dir, "users", "sam.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		content := bytes.Replace(data, []byte("Sam Whitfield"), fmt.Appendf(nil, "Sam %d", i), 1)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := expectedRevision(t, h.dir)
	h.waitFor("the final content", func() bool { return h.state.Current().Revision == want })
	time.Sleep(5 * DefaultDebounce) // anything still to come
	reloads := h.reloadCount() - n
	t.Logf("100 writes: %d reloads", reloads)
	if reloads < 1 || reloads > 5 {
		t.Errorf("%d reloads for a burst of 100 writes, want 1 to 5", reloads)
	}
	if cur := h.current(); cur.Revision != want {
		t.Errorf("served %s, want the final content's %s", cur.Revision, want)
	}
}

func TestParseCache(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.r.LoadOnce(ctx); err != nil {
		t.Fatal(err)
	}
	files := h.r.LastFiles()
	if files < 10 || h.r.LastParsed() != files {
		t.Fatalf("first load parsed %d of %d files", h.r.LastParsed(), files)
	}
	testutil.Replace(t, h.dir, "roles/organizers.yaml", "members: [sam, lena]", "members: [sam]")
	if err := h.r.LoadOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if h.r.LastParsed() != 1 || h.current().Generation != 2 {
		t.Errorf("a one-file edit parsed %d files, generation %d", h.r.LastParsed(), h.current().Generation)
	}
	if err := h.r.LoadOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if h.r.LastParsed() != 0 || h.current().Generation != 2 {
		t.Errorf("no edit: parsed %d files, generation %d", h.r.LastParsed(), h.current().Generation)
	}
}

func TestWatcherErrorReloads(t *testing.T) {
	h := newHarness(t)
	h.start()
	n := h.reloadCount()
	select {
	case h.src.w.Errors <- fsnotify.ErrEventOverflow:
	case <-time.After(waitTimeout):
		t.Fatal("the watcher loop does not read errors")
	}
	h.waitReloads(n + 1)
	if !strings.Contains(h.logs.String(), "watcher error") {
		t.Error("the watcher error is not logged")
	}
	// The rescan watches the tree again: edits are still seen.
	if !slices.Contains(h.src.watchedDirs(), filepath.Join(h.dir, "sets", "hq")) {
		t.Errorf("watches after the rescan: %v", h.src.watchedDirs())
	}
	testutil.Replace(t, h.dir, "sets/hq/staffer.yaml", "name: Staffer", "name: Staff")
	h.waitGeneration(2)
}

func TestRootRemovedAndBack(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "config")
	if err := os.Rename(testutil.CopyTree(t, example), dir); err != nil {
		t.Skip("rename across directories:", err)
	}
	h := newHarnessAt(t, dir)
	h.start()
	good := h.current()

	if err := os.Rename(dir, filepath.Join(parent, "config.old")); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the failed load", func() bool { return h.state.Status().LastError != "" })
	if st := h.state.Status(); st.SourceOK {
		t.Errorf("SourceOK with the root gone: %+v", st)
	}
	if h.current() != good {
		t.Error("the last good revision is no longer served")
	}
	// Edits in the renamed-away tree are not the config's.
	n := h.reloadCount()
	testutil.Replace(t, filepath.Join(parent, "config.old"), "users/sam.yaml", "Sam Whitfield", "Sam O.")
	time.Sleep(3 * DefaultDebounce)
	if h.reloadCount() != n {
		t.Error("an edit of the renamed-away tree caused a reload")
	}

	// Back (as a deployment swapping directories does), with one edit: found by polling.
	if err := os.Rename(testutil.CopyTree(t, example), dir); err != nil {
		t.Fatal(err)
	}
	testutil.Replace(t, dir, "users/sam.yaml", "Sam Whitfield", "Sam B.")
	h.waitGeneration(2)
	st := h.state.Status()
	if st.LastError != "" || !st.SourceOK {
		t.Errorf("status %+v", st)
	}
	gen := h.current().Generation
	testutil.Replace(t, dir, "users/sam.yaml", "Sam B.", "Sam C.")
	h.waitGeneration(gen + 1)
}

// TestConfigMapSwap follows a Kubernetes ConfigMap volume: every file is a symbolic link through
// the hidden link ..data, which is replaced atomically to update all files at once.
func TestConfigMapSwap(t *testing.T) {
	src, err := filepath.Abs(example)
	if err != nil {
		t.Fatal(err)
	}
	flat := func(dir, edit string) {
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if rel == filepath.Join("users", "sam.yaml") && edit != "" {
				data = bytes.Replace(data, []byte("Sam Whitfield"), []byte(edit), 1)
			}
			return os.WriteFile(filepath.Join(dir, strings.ReplaceAll(rel, string(filepath.Separator), "-")), data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	v1 := filepath.Join(dir, "..2025_01_01_v1")
	if err := os.Mkdir(v1, 0o755); err != nil {
		t.Fatal(err)
	}
	flat(v1, "")
	if err := os.Symlink(filepath.Base(v1), filepath.Join(dir, "..data")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	entries, err := os.ReadDir(v1)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Symlink(filepath.Join("..data", e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarnessAt(t, dir)
	h.start()
	if h.state.Current() == nil {
		t.Fatalf("the flat config does not load: %s", h.state.Status().LastError)
	}

	// The update, as Kubernetes' atomic writer does it.
	v2 := filepath.Join(dir, "..2025_01_02_v2")
	if err := os.Mkdir(v2, 0o755); err != nil {
		t.Fatal(err)
	}
	flat(v2, "Sam K.")
	if err := os.Symlink(filepath.Base(v2), filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(v1); err != nil {
		t.Fatal(err)
	}
	h.waitGeneration(2)
	if h.current().Revision != expectedRevision(t, dir) {
		t.Error("served revision is not the new content")
	}
}

// gatedSource serves a directory; its second Open waits for the gate.
type gatedSource struct {
	dir     string
	opens   atomic.Int32
	entered chan struct{}
	gate    chan struct{}
	changes chan struct{}
}

func (g *gatedSource) Open(ctx context.Context) (fs.FS, string, io.Closer, error) {
	if g.opens.Add(1) == 2 {
		g.entered <- struct{}{}
		<-g.gate
	}
	root, err := os.OpenRoot(g.dir)
	if err != nil {
		return nil, "", nil, err
	}
	return root.FS(), "", root, nil
}

func (g *gatedSource) Changes(ctx context.Context) <-chan struct{} { return g.changes }
func (g *gatedSource) String() string                              { return "gated " + g.dir }

func TestTriggerCoalesces(t *testing.T) {
	g := &gatedSource{dir: testutil.CopyTree(t, example), entered: make(chan struct{}),
		gate: make(chan struct{}), changes: make(chan struct{}, 1)}
	state := &snapshot.State{}
	var reloads atomic.Int32
	r := NewReloader(Options{Source: g, State: state,
		OnReload: func(ReloadEvent) { reloads.Add(1) }})

	// Never blocks, even with nobody running.
	start := time.Now()
	for range 1000 {
		r.Trigger()
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 Triggers took %v", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	// The initial load, then the pending Trigger's load, which blocks in Open.
	select {
	case <-g.entered:
	case <-time.After(waitTimeout):
		t.Fatal("no second load")
	}
	// Signals during a load: many Triggers and a change notification.
	for range 10 {
		r.Trigger()
	}
	g.changes <- struct{}{}
	close(g.gate)
	deadline := time.Now().Add(waitTimeout)
	for reloads.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // any extra load would start now
	if got := g.opens.Load(); got != 3 {
		t.Errorf("%d loads, want 3 (initial, triggered, one for all the signals during it)", got)
	}
	if got := reloads.Load(); got != 3 {
		t.Errorf("%d reloads reported, want 3", got)
	}
	if cur := state.Current(); cur == nil || cur.Generation != 1 {
		t.Errorf("current %+v", cur)
	}
	if st := state.Status(); st.Source != "gated "+g.dir || st.ReloadsOK != 3 {
		t.Errorf("status %+v", st)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.r.Run(ctx) }()
	h.waitReloads(1)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after cancel")
	}
	// The source stops too: its channel is closed.
	ch := h.src.Changes(ctx)
	deadline := time.After(waitTimeout)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the change channel is not closed after cancel")
		}
	}
}

func TestLoadOnceCancelled(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.r.LoadOnce(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("LoadOnce = %v", err)
	}
	if st := h.state.Status(); st.ReloadsFailed != 0 || st.LastError != "" {
		t.Errorf("a cancelled load counted as a failure: %+v", st)
	}
	if h.reloadCount() != 0 {
		t.Error("a cancelled load was reported")
	}
}

func TestProblemsError(t *testing.T) {
	var ps []config.Problem
	for i := range 7 {
		ps = append(ps, config.Problem{File: "users/x.yaml", Pos: config.Pos{Line: i + 1, Col: 3}, Code: "schema", Message: "bad"})
	}
	got := (&ProblemsError{Problems: ps}).Error()
	want := "invalid config: 7 problems: users/x.yaml:1:3: schema: bad; users/x.yaml:2:3: schema: bad; " +
		"users/x.yaml:3:3: schema: bad; users/x.yaml:4:3: schema: bad; users/x.yaml:5:3: schema: bad; and 2 more"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	one := (&ProblemsError{Problems: ps[:1]}).Error()
	if one != "invalid config: 1 problem: users/x.yaml:1:3: schema: bad" {
		t.Errorf("got %q", one)
	}
}

func TestNewDirSourceErrors(t *testing.T) {
	if _, err := NewDirSource(filepath.Join(t.TempDir(), "missing"), 0, nil); err == nil {
		t.Error("no error for a missing directory")
	}
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewDirSource(f, 0, nil); err == nil {
		t.Error("no error for a file")
	}
}

func TestRelevant(t *testing.T) {
	dir := t.TempDir()
	for rel, want := range map[string]bool{
		"users/sam.yaml":         true,
		"README.md":              true,
		config.IgnoreFile:        true,
		"users/.sam.yaml.swp":    false,
		".git/index":             false,
		"users/.hidden/x.yaml":   false,
		"sets/hq/staffer.yaml~":  true,
		".#catalog.yaml.missing": false,
	} {
		if got := relevant(filepath.FromSlash(rel), filepath.Join(dir, rel)); got != want {
			t.Errorf("relevant(%s) = %v, want %v", rel, got, want)
		}
	}
}
