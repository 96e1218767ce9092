// Command permsd is the decision daemon: it follows a config repository, compiles each new
// revision off the request path, swaps it in without dropping a request, and answers
// applications over OPA's REST API (docs/permsd.md).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/permsets/permsets/daemon/live"
	"github.com/permsets/permsets/daemon/server"
	"github.com/permsets/permsets/daemon/snapshot"
	"github.com/permsets/permsets/publish"
)

// Exit codes, as permsctl's.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 64
)

func main() {
	privateUmask()
	// A --git path or file:// URL is fetched in process, with no git binary.
	publish.RegisterFileTransport()
	os.Exit(run(os.Args[1:], os.Stderr))
}

type options struct {
	dir            string
	addr           string
	tokenFile      string
	tlsCert        string
	tlsKey         string
	allowInputTime bool
	debounce       time.Duration
	logLevel       string
	drain          time.Duration

	decisionLogOptions // decisionlog.go
	followOptions      // follow.go
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("permsd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `permsd follows a permsets config repository and answers decisions over OPA's REST API.

Usage:
  permsd --dir DIR [--cache-dir DIR] [--addr 127.0.0.1:8181] [--token-file F] [--tls-cert F --tls-key F] [--allow-input-time]
  permsd --git URL --branch BRANCH [--path SUBDIR] [--poll 30s] [--git-timeout 30s] [--cache-dir DIR]
         [--webhook-secret-file F] [the other flags of --dir but --debounce]
         [--decision-log FILE|- [--decision-log-mask /input/password,...] [--decision-log-buffer-bytes 67108864]]

Example:
  permsd --dir examples/nation
  PERMSETS_GIT_TOKEN=... permsd --git https://github.com/org/access.git --branch live --webhook-secret-file /etc/permsd/webhook
  curl -s localhost:8181/v1/data/permsets/decision -d '{"input": {"user": "alice", "instance": "campaign", "permission": "finances=export"}}'

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.dir, "dir", "", "follow the config repository in this working tree (fsnotify)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8181", "listen on HOST:PORT")
	fs.StringVar(&o.tokenFile, "token-file", "", "require 'Authorization: Bearer TOKEN' with the token in this file on every endpoint but /health and /health/live")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM), with --tls-key")
	fs.StringVar(&o.tlsKey, "tls-key", "", "the private key (PEM) of --tls-cert")
	fs.BoolVar(&o.allowInputTime, "allow-input-time", false, "let clients ask as of input.time (refused by default: any client could ask as of a date before an assignment expired)")
	fs.DurationVar(&o.debounce, "debounce", 100*time.Millisecond, "wait this long after the last file change before reloading")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&o.drain, "drain", 10*time.Second, "on SIGTERM, how long in-flight requests may take to finish")
	checkDecisionLog := decisionLogFlags(fs, o)
	checkFollow := followFlags(fs, o)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := checkFollow(); err != nil {
		return nil, err
	}
	if o.dir == "" && o.git == "" {
		return nil, errors.New("no source: pass --dir DIR or --git URL --branch BRANCH (permsd never serves a built-in default)")
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if err := checkDecisionLog(); err != nil {
		return nil, err
	}
	return o, nil
}

func run(args []string, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "permsd: %v\nhint: permsd --help\n", err)
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintf(stderr, "permsd: --log-level %q: use debug, info, warn or error\n", o.logLevel)
		return exitUsage
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := serve(ctx, o, log); err != nil {
		log.Error("permsd stopped", "err", err)
		return exitError
	}
	return exitOK
}

func serve(ctx context.Context, o *options, log *slog.Logger) error {
	token := ""
	if o.tokenFile != "" {
		data, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		if token = strings.TrimSpace(string(data)); token == "" {
			return fmt.Errorf("--token-file %s is empty", o.tokenFile)
		}
	}
	follow, err := openFollow(o, log)
	if err != nil {
		return err
	}
	defer follow.Close()
	src := follow.src
	state := &snapshot.State{}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	dl, err := openDecisionLog(o, reg, log)
	if err != nil {
		return err
	}
	defer closeDecisionLog(dl, log)
	handler, err := server.New(server.Options{State: state, Token: token, AllowInputTime: o.allowInputTime, Registry: reg, Log: log,
		DecisionLog: decisionSink(dl), Handlers: follow.handlers()})
	if err != nil {
		return err
	}
	reloader := live.NewReloader(live.Options{Source: src, State: state, Log: log,
		// After each good revision it is persisted; a first load that fails serves the
		// persisted one (with a cache directory, follow.go).
		Persist: follow.persister,
		OnReload: func(ev live.ReloadEvent) {
			// A load allocates several times what the new revision keeps; the previous revision
			// is garbage once its last requests finish. Give the memory back now rather than
			// when the scavenger gets to it.
			if ev.OK {
				debug.FreeOSMemory()
			}
		}})

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("TLS: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	log.Info("permsd listening", "addr", ln.Addr().String(), "source", src.String(), "tls", o.tlsCert != "",
		"cache_dir", follow.cacheDir(), "webhook", follow.webhook != nil)

	reloadCtx, stopReload := context.WithCancel(context.Background())
	defer stopReload()
	reloaded := make(chan error, 1)
	go func() { reloaded <- reloader.Run(reloadCtx) }()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			log.Info("SIGHUP: reloading")
			follow.reload(reloadCtx, reloader)
		}
	}()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// SIGTERM: stop accepting, let in-flight requests finish, then stop following the source.
	log.Info("draining", "for", o.drain.String())
	drainCtx, cancel := context.WithTimeout(context.Background(), o.drain)
	defer cancel()
	err = srv.Shutdown(drainCtx)
	closeDecisionLog(dl, log) // every request has been logged: write the log out
	stopReload()
	<-reloaded
	if err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	log.Info("stopped")
	return nil
}
