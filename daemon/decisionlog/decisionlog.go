// Package decisionlog writes permsd's decision logs: one JSON line per decision, in the shape
// of OPA's decision-log events (github.com/open-policy-agent/opa/v1/plugins/logs.EventV1)
// with permsd's commit and generation.
//
// The package owns the entry the server hands over (Entry) and the decision ids (NewID); a
// Writer is the server's decision sink. The server calls Writer.Log synchronously for every decision, so Log only hands the entry
// to a buffer read by one writer goroutine. The buffer is bounded in bytes (an estimate of the
// memory each entry holds, see entrySize) as well as in entries; when either bound is reached
// the entry is dropped and counted (permsets_decision_logs_dropped_total), and the request never
// waits. Masks are applied by the writer goroutine, on copies: entries are shared with the
// response.
package decisionlog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/server/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/permsets/permsets/engine"
)

// DefaultBuffer is how many entries wait for the writer when Options.Buffer is 0.
const DefaultBuffer = 10000

// DefaultBufferBytes is how much memory the entries waiting for the writer may hold when
// Options.BufferBytes is 0.
const DefaultBufferBytes = 64 << 20

// flushBytes is how much encoded output the writer gathers before writing it out even while
// more entries wait.
const flushBytes = 256 << 10

// Event is one line of the decision log. The fields and their JSON names are those of OPA's
// logs.EventV1 that permsd fills (revision is OPA's single-bundle revision, bundles the
// per-bundle one); commit and generation are permsd's.
type Event struct {
	Labels          map[string]string     `json:"labels"`
	DecisionID      string                `json:"decision_id"`
	BatchDecisionID string                `json:"batch_decision_id,omitempty"`
	Revision        string                `json:"revision,omitempty"`
	Bundles         map[string]BundleInfo `json:"bundles,omitempty"`
	Path            string                `json:"path,omitempty"`
	Input           *any                  `json:"input,omitempty"`
	Result          *any                  `json:"result,omitempty"`
	Erased          []string              `json:"erased,omitempty"`
	Error           *types.ErrorV1        `json:"error,omitempty"`
	RequestedBy     string                `json:"requested_by,omitempty"`
	Timestamp       time.Time             `json:"timestamp"`
	Metrics         map[string]any        `json:"metrics,omitempty"`
	Custom          map[string]any        `json:"custom,omitempty"` // {"common_input": true} on a batch's common line
	Commit          string                `json:"commit,omitempty"`
	Generation      uint64                `json:"generation"`
}

// commonCustom marks the line of a batch's common_input (read only, shared by every such line).
var commonCustom = map[string]any{"common_input": true}

// Options configure a Writer.
type Options struct {
	// Mask lists the pointers erased from every event (see ParseMasks).
	Mask []Mask
	// Buffer is how many entries may wait for the writer; 0 means DefaultBuffer. Past it,
	// entries are dropped and counted.
	Buffer int
	// BufferBytes is how much memory the entries waiting for the writer (or in its unwritten
	// output) may hold, by entrySize's estimate; 0 means DefaultBufferBytes. An entry that
	// would take the buffer past it is dropped and counted.
	BufferBytes int64
	// Labels are the events' labels, over the defaults "id" (random, one per Writer, as
	// OPA's instance id) and "version" (the engine version).
	Labels map[string]string
	// Registry receives the writer's counters; nil registers them nowhere.
	Registry prometheus.Registerer
	// Log receives write errors (once, until writing works again, then the recovery);
	// nil discards.
	Log *slog.Logger
}

// Writer is a running decision log. Its methods are safe for concurrent use, and a nil
// *Writer is a decision log that is off.
type Writer struct {
	out    io.Writer
	closer *os.File // the file Open opened, closed by the writer goroutine at the end
	mask   []Mask
	labels map[string]string
	log    *slog.Logger

	ch        chan queued
	maxBytes  int64
	held      atomic.Int64 // estimated bytes of the entries in ch and in the writer's unwritten output
	stop      chan struct{}
	done      chan struct{}
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error // set by the writer goroutine before done is closed
	reported  atomic.Bool

	written, dropped, failed atomic.Uint64
}

// queued is an entry waiting for the writer, with its estimated size.
type queued struct {
	e    Entry
	size int64
}

// Open starts a Writer appending to path (created 0600), or writing to stdout when path is
// "-".
func Open(path string, o Options) (*Writer, error) {
	if path == "-" {
		return New(os.Stdout, o)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("decision log: %w", err)
	}
	w, err := newWriter(f, f, o)
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// New starts a Writer writing to out. It fails when the counters cannot be registered.
func New(out io.Writer, o Options) (*Writer, error) { return newWriter(out, nil, o) }

func newWriter(out io.Writer, closer *os.File, o Options) (*Writer, error) {
	if o.Buffer < 0 {
		return nil, fmt.Errorf("decision log: buffer %d is negative", o.Buffer)
	}
	if o.Buffer == 0 {
		o.Buffer = DefaultBuffer
	}
	if o.BufferBytes < 0 {
		return nil, fmt.Errorf("decision log: buffer of %d bytes is negative", o.BufferBytes)
	}
	if o.BufferBytes == 0 {
		o.BufferBytes = DefaultBufferBytes
	}
	w := &Writer{
		out:      out,
		closer:   closer,
		mask:     o.Mask,
		labels:   map[string]string{"id": NewID(), "version": engine.Version},
		log:      o.Log,
		ch:       make(chan queued, o.Buffer),
		maxBytes: o.BufferBytes,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v.Load()) })
	}
	for k, v := range o.Labels {
		w.labels[k] = v
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if o.Registry != nil {
		cs := []prometheus.Collector{
			counter("permsets_decision_logs_written_total", "Decision-log entries written.", &w.written),
			counter("permsets_decision_logs_dropped_total",
				"Decision-log entries dropped because the buffer was full (or the log closed).", &w.dropped),
			counter("permsets_decision_logs_failed_total", "Decision-log entries lost to a write or encoding error.", &w.failed),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "permsets_decision_logs_buffered_bytes",
				Help: "Estimated memory held by the decision-log entries not yet written."},
				func() float64 { return float64(w.held.Load()) }),
		}
		for i, c := range cs {
			if err := o.Registry.Register(c); err != nil {
				for _, r := range cs[:i] {
					o.Registry.Unregister(r)
				}
				return nil, fmt.Errorf("decision log: metrics: %w", err)
			}
		}
	}
	go w.run()
	return w, nil
}

// Status is what the log has written, dropped and lost, and the bytes its buffer holds.
func (w *Writer) Status() Status {
	return Status{Written: w.written.Load(), Dropped: w.dropped.Load(), Failed: w.failed.Load(),
		BufferedBytes: w.held.Load(), BufferBytes: w.maxBytes}
}

// Log hands e to the writer without blocking: when the buffer is full (in entries or in
// bytes), or the log is closed, e is dropped and counted. e is not modified, now or later.
func (w *Writer) Log(e Entry) {
	if w.closed.Load() {
		w.dropped.Add(1)
		return
	}
	size := entrySize(&e)
	if w.held.Add(size) > w.maxBytes {
		w.held.Add(-size)
		w.dropped.Add(1)
		return
	}
	select {
	case w.ch <- queued{e, size}:
	default:
		w.held.Add(-size)
		w.dropped.Add(1)
	}
}

// Close stops taking entries, waits until those buffered are written (or ctx ends) and closes
// the file Open opened. It returns an error when syncing or closing that file fails, or ctx's
// when it ends first (the writer then finishes on its own); write errors were logged and
// counted as they happened. Close may be called more than once (an error is returned once),
// and on a nil Writer.
func (w *Writer) Close(ctx context.Context) error {
	if w == nil {
		return nil
	}
	w.closeOnce.Do(func() {
		w.closed.Store(true)
		close(w.stop)
	})
	select {
	case <-w.done:
		if w.closeErr != nil && w.reported.CompareAndSwap(false, true) {
			return w.closeErr
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("decision log: flushing: %w", ctx.Err())
	}
}

// run is the writer goroutine: it encodes entries as they come and writes them out whenever
// nothing more is waiting (or a good amount has gathered), so a quiet log is written at once
// and a busy one in large writes.
func (w *Writer) run() {
	defer close(w.done)
	var (
		buf     bytes.Buffer
		pending int   // entries in buf
		held    int64 // their estimated sizes, released once buf is written
		failing bool
	)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	flush := func() {
		if pending == 0 {
			return
		}
		_, err := w.out.Write(buf.Bytes())
		switch {
		case err != nil:
			w.failed.Add(uint64(pending))
			if !failing {
				failing = true
				w.log.Error("decision log: write failed; entries are lost until writing works again", "error", err)
			}
		default:
			w.written.Add(uint64(pending))
			if failing {
				failing = false
				w.log.Info("decision log: writing again")
			}
		}
		buf.Reset()
		if buf.Cap() > 4*flushBytes {
			buf = bytes.Buffer{} // do not keep the room a huge line took
		}
		pending = 0
		w.held.Add(-held)
		held = 0
	}
	write := func(q queued) {
		e := q.e
		mark := buf.Len()
		if err := enc.Encode(w.event(e)); err != nil {
			buf.Truncate(mark)
			w.failed.Add(1)
			w.held.Add(-q.size)
			w.log.Error("decision log: encoding an entry failed", "decision_id", e.DecisionID, "error", err)
			return
		}
		pending++
		held += q.size
		if len(w.ch) == 0 || buf.Len() >= flushBytes {
			flush()
		}
	}
	for {
		select {
		case e := <-w.ch:
			write(e)
		case <-w.stop:
			for drained := false; !drained; {
				select {
				case e := <-w.ch:
					write(e)
				default:
					drained = true
				}
			}
			flush()
			if w.closer != nil {
				err := w.closer.Sync()
				if cerr := w.closer.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					w.closeErr = fmt.Errorf("decision log: %w", err)
				}
			}
			return
		}
	}
}

// event converts an entry, masked.
func (w *Writer) event(e Entry) *Event {
	ev := &Event{
		Labels:          w.labels,
		DecisionID:      e.DecisionID,
		BatchDecisionID: e.BatchDecisionID,
		Revision:        e.Revision,
		Bundles:         e.Bundles,
		Path:            e.Path,
		Input:           e.Input,
		Result:          e.Result,
		Error:           e.Error,
		RequestedBy:     e.RequestedBy,
		Timestamp:       e.Timestamp,
		Metrics:         e.Metrics,
		Commit:          e.Commit,
		Generation:      e.Generation,
	}
	if e.Common {
		ev.Custom = commonCustom
	}
	applyAll(w.mask, ev)
	return ev
}
