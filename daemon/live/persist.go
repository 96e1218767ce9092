package live

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/permsets/permsets/daemon/snapshot"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/atomicfile"
	"github.com/permsets/permsets/internal/textfmt"
)

// The files a Persister keeps in its directory.
const (
	// PersistedBundle is the last good revision, a standard OPA bundle (Bundle.WriteTarGz).
	PersistedBundle = "last-good.tar.gz"
	// PersistedInfo is its metadata (PersistedMeta, JSON).
	PersistedInfo = "last-good.json"
	lockFile      = "lock"
	maxInfoBytes  = 64 << 10
)

// PersistedMeta describes the persisted bundle. The bundle is served only when it is whole
// (size and SHA-256 match), of the same source and engine, and of the revision named here.
type PersistedMeta struct {
	Source   string          `json:"source"` // the Source's String: a cache of another source is not served
	Revision string          `json:"revision"`
	Commit   string          `json:"commit"`
	Engine   string          `json:"engine"`
	Size     int64           `json:"size"`
	SHA256   string          `json:"sha256"`
	SavedAt  time.Time       `json:"saved_at"`
	Counts   snapshot.Counts `json:"counts"`
}

// Persister keeps the last good revision of a source in a directory, so that a restart can serve
// it while the source is unreachable or broken (docs/permsd.md, Persistence). Files are written to a
// temporary name in the same directory, synced, and renamed into place.
type Persister struct {
	dir, source string
	log         *slog.Logger

	mu    sync.Mutex
	saved string // revision and commit of what is on disk, as far as this process knows
	tried bool   // the fallback was tried

	// Saves run on a goroutine of their own (a large repository's bundle takes seconds to
	// write): the newest revision waiting is written next, older ones waiting are skipped.
	pendingMu sync.Mutex
	pending   *snapshot.Snapshot
	wake      chan struct{} // capacity 1
	start     sync.Once
}

// NewPersister keeps the last good revision of source (a Source's String) in dir, created
// (0700) when missing. log nil discards.
func NewPersister(dir, source string, log *slog.Logger) (*Persister, error) {
	log = orDiscard(log)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	return &Persister{dir: dir, source: source, log: log.With("cache_dir", dir), wake: make(chan struct{}, 1)}, nil
}

// Dir is the directory.
func (p *Persister) Dir() string { return p.dir }

// Save writes snap's bundle and its metadata; a revision already saved is not written again.
func (p *Persister) Save(snap *snapshot.Snapshot) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := snap.Revision + " " + snap.Commit
	if p.saved == key {
		return nil
	}
	h := sha256.New()
	var size int64
	err := writeAtomic(p.dir, PersistedBundle, func(w io.Writer) error {
		cw := &countWriter{w: io.MultiWriter(w, h)}
		err := snap.Bundle.WriteTarGz(cw)
		size = cw.n
		return err
	})
	if err != nil {
		return fmt.Errorf("persist the bundle: %w", err)
	}
	meta := PersistedMeta{
		Source: p.source, Revision: snap.Revision, Commit: snap.Commit, Engine: engine.Version,
		Size: size, SHA256: hex.EncodeToString(h.Sum(nil)), SavedAt: time.Now().UTC(), Counts: snap.Counts,
	}
	data, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	// Between the two renames the bundle and its metadata disagree: a crash there leaves a
	// bundle whose checksum does not match, which is not served.
	if err := writeAtomic(p.dir, PersistedInfo, func(w io.Writer) error { _, err := w.Write(append(data, '\n')); return err }); err != nil {
		return fmt.Errorf("persist the bundle's metadata: %w", err)
	}
	p.saved = key
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// writeAtomic writes dir/name, private to the daemon (0600), so that a crash leaves the old
// file or the new one, whole.
func writeAtomic(dir, name string, write func(io.Writer) error) error {
	return atomicfile.Write(filepath.Join(dir, name), 0o600, write)
}

// Load reads the persisted revision back and prepares it: a snapshot marked Persisted, at
// generation 1. It fails (matching fs.ErrNotExist when nothing was persisted) on anything
// that is not exactly what Save wrote for this source: nothing corrupt, truncated or foreign is
// ever served.
func (p *Persister) Load(ctx context.Context) (*snapshot.Snapshot, *PersistedMeta, error) {
	meta, b, err := p.read()
	if err != nil {
		return nil, nil, err
	}
	ev, err := engine.NewEvaluator(ctx, b)
	if err != nil {
		return nil, nil, fmt.Errorf("persisted bundle: prepare: %w", err)
	}
	p.mu.Lock()
	p.saved = b.Revision + " " + b.Commit
	p.mu.Unlock()
	return &snapshot.Snapshot{
		Evaluator:  ev,
		Bundle:     b,
		Revision:   b.Revision,
		Commit:     b.Commit,
		Generation: 1,
		LoadedAt:   time.Now(),
		Counts:     meta.Counts,
		Persisted:  true,
	}, meta, nil
}

func (p *Persister) read() (*PersistedMeta, *engine.Bundle, error) {
	infoPath := filepath.Join(p.dir, PersistedInfo)
	raw, err := readCapped(infoPath, maxInfoBytes)
	if err != nil {
		return nil, nil, err
	}
	var meta PersistedMeta
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", infoPath, err)
	}
	switch {
	case meta.Source != p.source:
		return nil, nil, fmt.Errorf("%s: persisted for another source (%s)", infoPath, meta.Source)
	case meta.Engine != engine.Version:
		return nil, nil, fmt.Errorf("%s: persisted by engine %s, this is engine %s", infoPath, meta.Engine, engine.Version)
	case meta.Size <= 0 || meta.Size > engine.MaxBundleBytes:
		return nil, nil, fmt.Errorf("%s: bundle size %d out of range", infoPath, meta.Size)
	}
	bundlePath := filepath.Join(p.dir, PersistedBundle)
	data, err := readCapped(bundlePath, meta.Size)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(data)
	if int64(len(data)) != meta.Size || hex.EncodeToString(sum[:]) != meta.SHA256 {
		return nil, nil, fmt.Errorf("%s: %d bytes, SHA-256 %x: not the bundle %s describes (%d bytes, %s); truncated or corrupt",
			bundlePath, len(data), sum[:6], PersistedInfo, meta.Size, textfmt.Short(meta.SHA256))
	}
	b, err := engine.ReadBundle(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", bundlePath, err)
	}
	if b.Revision != meta.Revision || b.Commit != meta.Commit {
		return nil, nil, fmt.Errorf("%s: revision %s commit %q, %s says %s %q", bundlePath, b.Revision, b.Commit, PersistedInfo, meta.Revision, meta.Commit)
	}
	return &meta, b, nil
}

// readCapped reads a file of at most max bytes; a longer one is an error.
func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return data, nil
}

// afterLoad is what the Reloader's Persist does after each load, given its outcome and the
// revision served (cur); it returns the revision to publish instead, or nil:
//
//   - after a good load, the revision served is saved, unless it is already on disk, by a
//     goroutine of its own (started with the first save, stopped with ctx), so a reload never
//     waits for a bundle to be written; if it is the persisted revision itself (the source gave
//     the same), it is returned unmarked, to be served as loaded;
//   - after the first failed load, when nothing is served yet, the persisted revision is read
//     back and returned (marked Persisted), to be served until a good load replaces it. One
//     that cannot be read is logged and never served.
//
// It runs on the reloader's goroutine: loading the fallback delays the next reload by the time
// one prepare takes, once.
func (p *Persister) afterLoad(ctx context.Context, ok bool, cur *snapshot.Snapshot) *snapshot.Snapshot {
	switch {
	case ok && cur != nil && cur.Persisted:
		c := *cur
		c.Persisted = false
		c.LoadedAt = time.Now()
		p.log.Info("the source gives the persisted revision; serving it as loaded", "revision", c.Revision, "commit", c.Commit)
		return &c
	case ok && cur != nil:
		p.saveLater(ctx, cur)
	case !ok && cur == nil:
		return p.fallback(ctx)
	}
	return nil
}

// fallback reads the persisted revision back, the first time it is called.
func (p *Persister) fallback(ctx context.Context) *snapshot.Snapshot {
	p.mu.Lock()
	tried := p.tried
	p.tried = true
	p.mu.Unlock()
	if tried {
		return nil
	}
	snap, meta, err := p.Load(ctx)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.log.Info("no persisted revision to serve meanwhile")
		return nil
	case err != nil:
		p.log.Error("the persisted revision is not served", "err", err.Error())
		return nil
	}
	p.log.Warn("serving the persisted revision until the source gives a good one",
		"revision", snap.Revision, "commit", snap.Commit, "saved_at", meta.SavedAt.Format(time.RFC3339))
	return snap
}

// saveLater hands snap to the saving goroutine, replacing a revision still waiting.
func (p *Persister) saveLater(ctx context.Context, snap *snapshot.Snapshot) {
	p.start.Do(func() { go p.saveLoop(ctx) })
	p.pendingMu.Lock()
	p.pending = snap
	p.pendingMu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default: // a wake-up is pending: it will take this snapshot
	}
}

func (p *Persister) saveLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		p.pendingMu.Lock()
		snap := p.pending
		p.pending = nil
		p.pendingMu.Unlock()
		if snap == nil {
			continue
		}
		if err := p.Save(snap); err != nil {
			p.log.Warn("cannot persist the revision served", "revision", snap.Revision, "err", err.Error())
		}
	}
}
