// Package live keeps permsd serving the newest good revision of its source (docs/permsd.md, Reloads):
// a Source says when the config may have changed and opens it; the Reloader loads, validates,
// compiles and prepares each new revision off the request path and publishes it into a
// snapshot.State with one atomic store. A revision that fails is never served: the last good one
// stays and the failure is shown in the status until a good revision clears it.
//
// The sources are a working tree watched with fsnotify (DirSource) and a branch of a Git remote
// fetched on a ticker (GitSource), with the webhook handler that triggers its fetches; a
// Persister, given to the Reloader, keeps the last good revision on disk to serve at a start
// when the source gives nothing good. The Reloader is the one writer of the State.
package live

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/daemon/snapshot"
	"github.com/permsets/permsets/engine"
)

// A Source produces revisions to load: a change notification channel and a way to open the
// current files.
type Source interface {
	// Open returns the config root as an fs.FS (and a Git commit, "" for a directory) and a
	// closer, to be closed once the load has read what it needs.
	Open(ctx context.Context) (fsys fs.FS, commit string, closer io.Closer, err error)
	// Changes delivers a value whenever the source may have changed (debounced), until ctx is
	// done.
	Changes(ctx context.Context) <-chan struct{}
	// String describes the source for logs and /v1/status, without credentials.
	String() string
}

// Options configure a Reloader.
type Options struct {
	Source Source
	State  *snapshot.State
	Log    *slog.Logger // nil: discard
	// Persist, when set, keeps the last good revision in a directory and serves it while the
	// source gives nothing good (see Persister); the reloader remains the one writer of State.
	Persist *Persister
	// OnReload, when set, is called after every reload attempt with its outcome (for metrics
	// and tests), once persistence has done its part. It is called from the loading goroutine,
	// so it must not block for long. An attempt cut short because its context was cancelled
	// (shutdown) is not reported.
	OnReload func(ReloadEvent)
}

// ReloadEvent is the outcome of one reload attempt.
type ReloadEvent struct {
	OK         bool
	Revision   string        // the revision served after the attempt; "" when none is
	Generation uint64        // its generation; 0 when none is served
	Took       time.Duration // how long the attempt took
	Err        error         // why it failed; nil when OK
}

// Reloader loads revisions from a Source into a snapshot.State, one at a time.
type Reloader struct {
	src      Source
	state    *snapshot.State
	log      *slog.Logger
	persist  *Persister
	onReload func(ReloadEvent)

	trigger chan struct{} // capacity 1: Trigger coalesces

	mu         sync.Mutex // held for a whole load: loads never overlap
	cache      *config.Cache
	compiler   *engine.Compiler // reuses the instances and sets a change did not touch
	generation uint64           // the last generation published by this reloader
	lastErr    string           // the error last logged; "" after a good load

	lastParsed atomic.Int64
	lastFiles  atomic.Int64
}

// orDiscard is log, or a logger that discards when log is nil.
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}

// NewReloader returns a reloader; it records the source in the state's status at once, so
// /v1/status names it before the first load ends.
func NewReloader(o Options) *Reloader {
	if o.Source == nil || o.State == nil {
		panic("live.NewReloader: Source and State are required")
	}
	log := orDiscard(o.Log)
	r := &Reloader{
		src:      o.Source,
		state:    o.State,
		log:      log.With("source", o.Source.String()),
		persist:  o.Persist,
		onReload: o.OnReload,
		trigger:  make(chan struct{}, 1),
		cache:    config.NewCache(),
		compiler: &engine.Compiler{},
	}
	st := r.state.Status()
	st.Source = r.src.String()
	r.state.SetStatus(st)
	return r
}

// Run loads once at start, then on every Changes() signal and every Trigger(), until ctx is
// done. It returns ctx's error. Signals that arrive during a load coalesce into at most one more
// load after it.
func (r *Reloader) Run(ctx context.Context) error {
	// Subscribe before the first load, so that a change made while it runs is not missed.
	changes := r.src.Changes(ctx)
	_ = r.LoadOnce(ctx) // a failure is logged and in the status; Run goes on waiting for a fix
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-changes:
			if !ok {
				changes = nil // the source stopped notifying; Trigger still works
				continue
			}
		case <-r.trigger:
		}
		// Whatever else is pending is served by this same load.
		drain(r.trigger)
		if changes != nil {
			drain(changes)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_ = r.LoadOnce(ctx)
	}
}

// drain takes a pending value from c, if there is one, without blocking.
func drain(c <-chan struct{}) {
	select {
	case <-c:
	default:
	}
}

// Trigger asks for a reload now (SIGHUP); it never blocks. Triggers that arrive before the
// reload starts coalesce into one.
func (r *Reloader) Trigger() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// LastParsed is the number of files the last completed load parsed (not taken from the parse
// cache): after a one-file edit it is 1.
func (r *Reloader) LastParsed() int { return int(r.lastParsed.Load()) }

// LastFiles is the number of YAML files the last completed load read.
func (r *Reloader) LastFiles() int { return int(r.lastFiles.Load()) }

// maxListed is how many problems a failed load's error lists.
const maxListed = 5

// ProblemsError is the error of a load whose config has problems.
type ProblemsError struct {
	Problems []config.Problem // sorted, as the loader returns them
}

// Error lists the first problems as file:line:col: code: message, and how many there are.
func (e *ProblemsError) Error() string {
	n := len(e.Problems)
	var b strings.Builder
	if n == 1 {
		b.WriteString("invalid config: 1 problem: ")
	} else {
		fmt.Fprintf(&b, "invalid config: %d problems: ", n)
	}
	for i, p := range e.Problems[:min(n, maxListed)] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	if n > maxListed {
		fmt.Fprintf(&b, "; and %d more", n-maxListed)
	}
	return b.String()
}

// LoadOnce loads and, when valid, publishes one revision; used by Run and by tests. It returns
// the error of a failed load. A revision equal to the one served (same digest and commit) is not
// published again but counts as a good load.
func (r *Reloader) LoadOnce(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	snap, sourceOK, err := r.load(ctx)
	took := time.Since(start)
	if err != nil && ctx.Err() != nil {
		// Shutting down: not a failure of the config, so neither logged nor counted.
		return err
	}
	st := r.state.Status()
	st.Source = r.src.String()
	st.SourceOK = sourceOK
	if err != nil {
		st.LastError = err.Error()
		st.LastErrorAt = time.Now()
		st.ReloadsFailed++
		r.state.SetStatus(st)
		cur := r.state.Current()
		if msg := err.Error(); msg != r.lastErr {
			r.lastErr = msg
			if cur != nil {
				r.log.Error("reload failed; still serving the last good revision",
					"err", msg, "revision", cur.Revision, "commit", cur.Commit, "generation", cur.Generation, "took", took)
			} else {
				r.log.Error("reload failed; no revision to serve yet", "err", msg, "took", took)
			}
		}
		r.report(ctx, false, cur, took, err)
		return err
	}

	published := snap != nil
	if published {
		r.state.Publish(snap) // the one atomic store of this revision
		r.generation = snap.Generation
	}
	cur := r.state.Current()
	recovered := r.lastErr != "" || st.LastError != ""
	r.lastErr = ""
	st.LastError = ""
	st.LastErrorAt = time.Time{}
	st.ReloadsOK++
	r.state.SetStatus(st)

	attrs := []any{"revision", cur.Revision, "commit", cur.Commit, "generation", cur.Generation,
		"took", took, "files", r.LastFiles(), "parsed", r.LastParsed()}
	switch {
	case recovered:
		r.log.Info("config is valid again; serving it", attrs...)
	case published:
		r.log.Info("serving a new revision", attrs...)
	default:
		r.log.Debug("reloaded; revision unchanged", attrs...)
	}
	r.report(ctx, true, cur, took, nil)
	return nil
}

// report hands the attempt's outcome to persistence, which may publish the persisted revision
// (or the same revision unmarked), then to OnReload; the event names what was served when the
// attempt ended.
func (r *Reloader) report(ctx context.Context, ok bool, cur *snapshot.Snapshot, took time.Duration, err error) {
	ev := ReloadEvent{OK: ok, Took: took, Err: err}
	if cur != nil {
		ev.Revision, ev.Generation = cur.Revision, cur.Generation
	}
	if r.persist != nil {
		if snap := r.persist.afterLoad(ctx, ok, r.state.Current()); snap != nil {
			r.state.Publish(snap)
		}
	}
	if r.onReload != nil {
		r.onReload(ev)
	}
}

// load reads, validates, compiles and prepares the source's current revision. It returns the
// snapshot to publish, or nil when the revision is the one served. sourceOK is false when the
// source could not be opened.
func (r *Reloader) load(ctx context.Context) (snap *snapshot.Snapshot, sourceOK bool, err error) {
	opened := false
	defer func() {
		// A bug in the compiler must not take the daemon down: the last good revision stays.
		if p := recover(); p != nil {
			snap, sourceOK, err = nil, opened, fmt.Errorf("internal error loading the revision: %v", p)
		}
	}()
	fsys, commit, closer, err := r.src.Open(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("open %s: %w", r.src, err)
	}
	opened = true
	res, err := func() (*config.Result, error) {
		if closer != nil {
			defer closer.Close()
		}
		return config.Load(ctx, fsys, config.Options{Cache: r.cache})
	}()
	if err != nil {
		return nil, true, err
	}
	r.lastParsed.Store(int64(res.Parsed))
	r.lastFiles.Store(int64(res.Files))
	if !res.OK() {
		return nil, true, &ProblemsError{Problems: res.Problems}
	}
	m := res.Model

	// A no-op change (a touched file, a save without edits) gives the same digest: skip the
	// compilation and keep the generation.
	cur := r.state.Current()
	rev, err := engine.RevisionOf(m)
	if err != nil {
		return nil, true, fmt.Errorf("revision: %w", err)
	}
	if cur != nil && cur.Commit == commit && rev == cur.Revision {
		return nil, true, nil
	}

	b, err := r.compiler.Bundle(ctx, m, commit, rev)
	if err != nil {
		return nil, true, fmt.Errorf("compile: %w", err)
	}
	if cur != nil && b.Revision == cur.Revision && b.Commit == cur.Commit {
		return nil, true, nil
	}
	ev, err := engine.NewEvaluator(ctx, b)
	if err != nil {
		return nil, true, fmt.Errorf("prepare: %w", err)
	}
	gen := r.generation
	if cur != nil {
		gen = max(gen, cur.Generation)
	}
	return &snapshot.Snapshot{
		Evaluator:  ev,
		Bundle:     b,
		Revision:   b.Revision,
		Commit:     b.Commit,
		Generation: gen + 1,
		LoadedAt:   time.Now(),
		Counts: snapshot.Counts{
			Instances:   len(m.Instances),
			Sets:        len(m.Sets),
			Roles:       len(m.Roles),
			Users:       len(m.Users),
			Assignments: len(m.Assignments),
			Files:       res.Files,
		},
	}, true, nil
}
