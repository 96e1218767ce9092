package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/permsets/permsets/daemon/decisionlog"
	"github.com/permsets/permsets/daemon/server"
)

// decisionLogClose bounds how long SIGTERM waits for the decision log to be written out.
const decisionLogClose = 5 * time.Second

// decisionLogOptions are the decision-log part of options.
type decisionLogOptions struct {
	decisionLog            string
	decisionLogMask        []decisionlog.Mask
	decisionLogBufferBytes int64
}

// decisionLogFlags binds --decision-log, --decision-log-mask and --decision-log-buffer-bytes;
// the returned function checks them after parsing and fills o.
func decisionLogFlags(fs *flag.FlagSet, o *options) func() error {
	var mask string
	fs.StringVar(&o.decisionLog, "decision-log", "", "write a decision log, JSON lines in OPA's decision-log shape with the revision, appended to `FILE` (created 0600), or - for stdout")
	fs.StringVar(&mask, "decision-log-mask", "", "erase the comma-separated JSON pointers of `LIST` from every logged decision, as OPA's masks name them (e.g. /input/password,/input/resource/ssn)")
	fs.Int64Var(&o.decisionLogBufferBytes, "decision-log-buffer-bytes", decisionlog.DefaultBufferBytes, "let the decision-log entries not yet written hold at most this many `BYTES` (estimated); past it entries are dropped and counted, decisions never wait")
	return func() error {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "decision-log-buffer-bytes" })
		if set && o.decisionLog == "" {
			return errors.New("--decision-log-buffer-bytes needs --decision-log")
		}
		if o.decisionLogBufferBytes <= 0 {
			return errors.New("--decision-log-buffer-bytes must be positive")
		}
		ms, err := decisionlog.ParseMasks(mask)
		if err != nil {
			return errors.New("--decision-log-mask: " + err.Error())
		}
		if len(ms) > 0 && o.decisionLog == "" {
			return errors.New("--decision-log-mask needs --decision-log")
		}
		o.decisionLogMask = ms
		return nil
	}
}

// openDecisionLog starts the writer of --decision-log, or returns nil (a log that is off).
func openDecisionLog(o *options, reg prometheus.Registerer, log *slog.Logger) (*decisionlog.Writer, error) {
	if o.decisionLog == "" {
		return nil, nil
	}
	return decisionlog.Open(o.decisionLog, decisionlog.Options{Mask: o.decisionLogMask, BufferBytes: o.decisionLogBufferBytes,
		Registry: reg, Log: log.With("component", "decisionlog")})
}

// The writer is a decision sink that reports its counters in /v1/status.
var _ server.StatusSink = (*decisionlog.Writer)(nil)

// decisionSink is dl as the server's decision log, nil when the log is off (a nil Writer).
func decisionSink(dl *decisionlog.Writer) server.DecisionSink {
	if dl == nil {
		return nil
	}
	return dl
}

// closeDecisionLog writes out what the decision log holds (on SIGTERM, once the HTTP server
// has stopped). Closing again is harmless.
func closeDecisionLog(dl *decisionlog.Writer, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), decisionLogClose)
	defer cancel()
	if err := dl.Close(ctx); err != nil {
		log.Error("decision log", "error", err)
	}
}
