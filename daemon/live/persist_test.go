package live

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/permsets/permsets/daemon/snapshot"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/testutil"
)

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func slogTo(b *testutil.SyncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// servedSnapshot loads the example once with a reloader and returns what it serves.
func servedSnapshot(t *testing.T) *snapshot.Snapshot {
	t.Helper()
	h := newHarness(t)
	if err := h.r.LoadOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h.current()
}

func TestPersistRoundTrip(t *testing.T) {
	snap := servedSnapshot(t)
	dir := t.TempDir()
	p, err := NewPersister(dir, "dir /x", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Load(context.Background()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("nothing persisted yet: %v", err)
	}
	if err := p.Save(snap); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	// Read by another process's persister.
	got, meta, err := (&Persister{dir: dir, source: "dir /x", log: p.log}).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != snap.Revision || got.Commit != snap.Commit || !got.Persisted || got.Counts != snap.Counts || got.Generation != 1 {
		t.Errorf("read back %+v", got)
	}
	if meta.Source != "dir /x" || meta.Engine != engine.Version {
		t.Errorf("meta %+v", meta)
	}
	r, err := got.Evaluator.Eval(context.Background(), "allow", map[string]any{"user": "alice", "instance": "campaign", "permission": "finances=export"}, engine.EvalOptions{})
	if err != nil || r != true {
		t.Errorf("allow: %v %v", r, err)
	}
}

func TestPersistedCorruptIsNotServed(t *testing.T) {
	snap := servedSnapshot(t)
	good := t.TempDir()
	p, err := NewPersister(good, "dir /x", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Save(snap); err != nil {
		t.Fatal(err)
	}
	bundle, _ := os.ReadFile(filepath.Join(good, PersistedBundle))
	info, _ := os.ReadFile(filepath.Join(good, PersistedInfo))
	var meta PersistedMeta
	if err := json.Unmarshal(info, &meta); err != nil {
		t.Fatal(err)
	}
	withMeta := func(edit func(*PersistedMeta)) []byte {
		m := meta
		edit(&m)
		data, _ := json.Marshal(m)
		return data
	}
	flipped := []byte(string(bundle))
	flipped[len(flipped)/3] ^= 0x01
	garbage := []byte("not a bundle at all, but its checksum is in the metadata")

	for _, tc := range []struct {
		note         string
		bundle, info []byte
		source       string
		want         string
	}{
		{note: "truncated", bundle: bundle[:len(bundle)/2], info: info, want: "truncated or corrupt"},
		{note: "a flipped byte", bundle: flipped, info: info, want: "truncated or corrupt"},
		{note: "empty bundle", bundle: []byte{}, info: info, want: "truncated or corrupt"},
		{note: "another source", bundle: bundle, info: info, source: "git https://other@live", want: "another source"},
		{note: "metadata not JSON", bundle: bundle, info: []byte("{"), want: "unexpected EOF"},
		{note: "metadata of another revision", bundle: bundle, info: withMeta(func(m *PersistedMeta) { m.Revision = strings.Repeat("0", 32) }), want: "says"},
		{note: "another engine", bundle: bundle, info: withMeta(func(m *PersistedMeta) { m.Engine = "0.0.1" }), want: "engine"},
		{note: "garbage with its checksum", bundle: garbage, info: withMeta(func(m *PersistedMeta) {
			m.Size = int64(len(garbage))
			m.SHA256 = sha256Hex(garbage)
		}), want: "read bundle"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, PersistedBundle), tc.bundle, 0o600)
			os.WriteFile(filepath.Join(dir, PersistedInfo), tc.info, 0o600)
			source := tc.source
			if source == "" {
				source = "dir /x"
			}
			logs := &testutil.SyncBuffer{}
			pp, _ := NewPersister(dir, source, slogTo(logs))
			_, _, err := pp.Load(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			// After a failed load with nothing served: logged, nothing to serve.
			if snap := pp.afterLoad(context.Background(), false, nil); snap != nil {
				t.Error("served")
			}
			if !strings.Contains(logs.String(), "not served") {
				t.Errorf("not logged: %s", logs)
			}
		})
	}
}

// With the remote unreachable from the start, the persisted revision is served, marked; once the
// remote gives the same revision, it is served as loaded, at the same generation.
func TestGitFallsBackToPersisted(t *testing.T) {
	remote := newGitRemote(t)
	cache := t.TempDir()
	url := remote.Bare
	h := newGitHarness(t, GitOptions{URL: url, Branch: "live", Path: "access", CacheDir: cache, Poll: 20 * time.Millisecond})
	p, err := NewPersister(cache, h.git.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.r.LoadOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Save(h.current()); err != nil {
		t.Fatal(err)
	}
	want := h.current()

	// A new process, the remote gone.
	moved := remote.Bare + ".away"
	if err := os.Rename(remote.Bare, moved); err != nil {
		t.Fatal(err)
	}
	h2 := newGitHarness(t, GitOptions{URL: url, Branch: "live", Path: "access", CacheDir: cache, Poll: 20 * time.Millisecond})
	p2, _ := NewPersister(cache, h2.git.String(), slogTo(h2.logs))
	h2.r.persist = p2
	h2.start()
	h2.waitFor("the persisted revision", func() bool { return h2.state.Current() != nil })
	cur := h2.current()
	if !cur.Persisted || cur.Revision != want.Revision || cur.Commit != want.Commit || cur.Generation != 1 {
		t.Errorf("served %+v", cur)
	}
	if st := h2.state.Status(); st.SourceOK || st.LastError == "" {
		t.Errorf("status %+v", st)
	}
	if err := os.Rename(moved, remote.Bare); err != nil {
		t.Fatal(err)
	}
	h2.waitFor("the source's revision", func() bool { c := h2.state.Current(); return !c.Persisted && h2.state.Status().SourceOK })
	if c := h2.current(); c.Revision != want.Revision || c.Generation != 1 {
		t.Errorf("after recovery %+v", c)
	}
	// A new revision is served and persisted.
	remote.Rename(3)
	h2.waitGeneration(2)
	h2.waitFor("the new revision persisted", func() bool {
		meta, _, err := p2.read()
		return err == nil && meta.Revision == h2.current().Revision
	})
}

func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockDir(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second lock: %v", err)
	}
	l.Close()
	l2, err := LockDir(dir)
	if err != nil {
		t.Errorf("after release: %v", err)
	} else {
		l2.Close()
	}
}

// TestPersistSavesInTheBackground hands two revisions to the saving goroutine at once: the
// newest ends up on disk, and the hand-off itself never writes.
func TestPersistSavesInTheBackground(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := h.r.LoadOnce(ctx); err != nil {
		t.Fatal(err)
	}
	first := h.current()
	testutil.Replace(t, h.dir, "users/sam.yaml", "Sam Whitfield", "Sam P.")
	if err := h.r.LoadOnce(ctx); err != nil {
		t.Fatal(err)
	}
	second := h.current()
	if second.Revision == first.Revision {
		t.Fatal("the edit did not change the revision")
	}
	dir := t.TempDir()
	p, err := NewPersister(dir, "dir /x", nil)
	if err != nil {
		t.Fatal(err)
	}
	p.saveLater(ctx, first)
	p.saveLater(ctx, second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if snap, _, err := p.Load(ctx); err == nil && snap.Revision == second.Revision {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the newest revision was not persisted")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
