// Package server is permsd's HTTP handler: OPA's REST request and response shapes (the Data
// API, the batch API of Enterprise OPA, health, OPA's error objects) over the prepared decision
// queries of the revision being served, and nothing else. It is not OPA's v1/server: nothing can
// be written, no query or policy can be sent, and only the decision paths of docs/engine.md
// can be read (the compiled index holds user data and is never served).
//
// Endpoints:
//
//	POST|GET /v1/data/permsets/{allow,decision,effective,manageable_sets,who_can}
//	POST     /v1/batch/data/permsets/{allow,decision,effective,manageable_sets,who_can}
//	GET      /health, /health/live, /v1/status, /metrics, /bundles/permsets.tar.gz
//	GET      /schemas/ and /schemas/NAME.schema.json (the embedded JSON Schemas)
//	POST     /access/v1/{evaluation,evaluations,search/subject,search/resource,search/action}
//	GET      /.well-known/authzen-configuration (and all of AuthZEN under /instances/{id}/)
//
// plus the handlers of Options.Handlers at their paths (permsd's /v1/webhook), served as they
// are. Every other path is 404 (resource_not_found) and PUT, PATCH and DELETE are 405
// everywhere. When Options.Token is set, every endpoint but /health, /health/live, /schemas/ and those of
// Options.Handlers needs it as a bearer token (401, unauthorized).
//
// Before the first revision is published, decisions, batches and the bundle answer 500
// internal_error "no revision loaded yet" (as OPA answers while it has no bundle activated,
// rather than 503) and /health answers 500.
package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/server/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/permsets/permsets/daemon/decisionlog"
	"github.com/permsets/permsets/daemon/internal/respond"
	"github.com/permsets/permsets/daemon/snapshot"
	"github.com/permsets/permsets/engine"
)

// Limits of the request path.
const (
	// DefaultMaxBodyBytes is the largest request body accepted when Options.MaxBodyBytes is 0.
	DefaultMaxBodyBytes = 1 << 20
	// MaxInputDepth is how deeply arrays and objects may nest in an input; deeper is 400.
	MaxInputDepth = 64
	// MaxBatchInputs is the most inputs one batch request may carry; more is 400.
	MaxBatchInputs = 1000
	// MaxBatchMergeCost bounds the work of merging a batch's common_input into its inputs, in
	// object pairs built (mergeCost; a long number or string counts for more): about 2 million,
	// a few tenths of a second. Past it the batch is 400, before anything is evaluated.
	MaxBatchMergeCost = 2_000_000
)

// CodeRequestTooLarge is the error code of 413 answers. OPA itself answers an oversized body
// with 400 invalid_parameter "request body too large"; permsd answers 413 with this code and
// that message.
const CodeRequestTooLarge = respond.CodeRequestTooLarge

// Options configure the handler.
type Options struct {
	// State is what is served; required.
	State *snapshot.State
	// Token, when not "", is required as "Authorization: Bearer <token>" on every endpoint but
	// /health and /health/live. It is compared as given (trim a token file's newline first).
	Token string
	// AllowInputTime lets inputs carry "time" (docs/permsd.md, API); without it such an input is
	// refused with 400.
	AllowInputTime bool
	// MaxBodyBytes is the largest request body; 0 means DefaultMaxBodyBytes. Over it: 413.
	MaxBodyBytes int64
	// Registry receives the handler's metrics and is what /metrics serves; nil means a
	// private registry.
	Registry *prometheus.Registry
	// Log receives errors (at Error) and one line per request (at Debug); nil discards.
	Log *slog.Logger
	// DecisionLog, when set, receives every decision (see DecisionSink).
	DecisionLog DecisionSink
	// Handlers are more endpoints, each served at its exact path before anything else: with no
	// bearer token, outside the metrics and the request log. Each authenticates its requests
	// itself (permsd's webhook checks a signature). A path may not be one of the handler's own.
	Handlers map[string]http.Handler
}

// DecisionSink receives the decision-log entries: one per decision (once per batch item, and
// once more for a batch's common_input, see decisionlog.Entry), synchronously, before the
// response is written, so Log should hand the entry off rather than block. A sink that also
// reports its counters (a StatusSink, as decisionlog.Writer is) has them shown in /v1/status.
type DecisionSink interface {
	Log(decisionlog.Entry)
}

// StatusSink is a DecisionSink that reports its counters.
type StatusSink interface {
	DecisionSink
	Status() decisionlog.Status
}

// DecisionSinkFunc is a function as a DecisionSink.
type DecisionSinkFunc func(decisionlog.Entry)

// Log calls f(e).
func (f DecisionSinkFunc) Log(e decisionlog.Entry) { f(e) }

type handler struct {
	state       *snapshot.State
	hasToken    bool
	tokenSum    [sha256.Size]byte
	allowTime   bool
	maxBody     int64
	log         *slog.Logger
	handlers    map[string]http.Handler
	decisionLog DecisionSink
	dlStatus    StatusSink // the decision log, when it reports its counters
	metrics     *metrics
	promHandler http.Handler
	build       buildInfo
}

// New builds the handler. It fails without a State or when the metrics cannot be registered
// (a registry that already holds them).
func New(o Options) (http.Handler, error) {
	if o.State == nil {
		return nil, errors.New("server: Options.State is required")
	}
	if o.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("server: MaxBodyBytes %d is negative", o.MaxBodyBytes)
	}
	for p := range o.Handlers {
		if !strings.HasPrefix(p, "/") || ownPath(p) {
			return nil, fmt.Errorf("server: a handler cannot be served at %q", p)
		}
	}
	h := &handler{
		state:       o.State,
		handlers:    o.Handlers,
		allowTime:   o.AllowInputTime,
		maxBody:     o.MaxBodyBytes,
		log:         o.Log,
		decisionLog: o.DecisionLog,
		build:       readBuildInfo(),
	}
	if st, ok := o.DecisionLog.(StatusSink); ok {
		h.dlStatus = st
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if o.Token != "" {
		h.hasToken = true
		h.tokenSum = sha256.Sum256([]byte(o.Token))
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg, o.State)
	if err != nil {
		return nil, fmt.Errorf("server: metrics: %w", err)
	}
	h.metrics = m
	h.promHandler = metricsHandler(reg)
	return h, nil
}

// Routes, as the handler label of permsets_http_requests_total.
const (
	routeData    = "data"
	routeBatch   = "batch"
	routeHealth  = "health"
	routeStatus  = "status"
	routeMetrics = "metrics"
	routeBundle  = "bundle"
	routeAuthZEN = "authzen"
	routeSchemas = "schemas"
	routeOther   = "other"
)

var routes = []string{routeData, routeBatch, routeHealth, routeStatus, routeMetrics, routeBundle, routeAuthZEN, routeSchemas, routeOther}

// ownPath tells whether p is served by the handler itself.
func ownPath(p string) bool {
	switch p {
	case "/health", "/health/live", "/v1/status", "/metrics", "/bundles/permsets.tar.gz", "/v1/data", "/v1/batch/data":
		return true
	}
	return strings.HasPrefix(p, "/v1/data/") || strings.HasPrefix(p, "/v1/batch/data/") || strings.HasPrefix(p, schemasPrefix)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if x, ok := h.handlers[r.URL.Path]; ok {
		x.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	route := routeOther
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if sw.status == 0 {
				writeError(sw, http.StatusInternalServerError, types.CodeInternal, "internal error", false)
			}
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		h.metrics.request(route, status)
		h.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", status,
			"duration", time.Since(start))
	}()
	route = h.serve(sw, r, start)
}

// serve routes a request and returns its route label.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, start time.Time) string {
	p := r.URL.Path
	q := r.URL.Query()
	pretty := boolParam(q, "pretty")
	if id := r.Header.Get("X-Request-ID"); id != "" { // AuthZEN's request identification
		w.Header()["X-Request-ID"] = []string{id} // as the client spelled it
	}
	switch p {
	case "/health", "/health/live":
		if !allowMethod(w, r, pretty, http.MethodGet, http.MethodHead) {
			return routeHealth
		}
		h.health(w, p == "/health/live")
		return routeHealth
	}
	if strings.HasPrefix(p, schemasPrefix) {
		if allowMethod(w, r, pretty, http.MethodGet, http.MethodHead) {
			h.serveSchemas(w, r, pretty) // schemas.go
		}
		return routeSchemas
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="permsd"`)
		writeError(w, http.StatusUnauthorized, types.CodeUnauthorized, "missing or invalid bearer token", pretty)
		return routeOther
	}
	switch r.Method {
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
		writeError(w, http.StatusMethodNotAllowed, types.CodeInvalidOperation,
			fmt.Sprintf("method %s is not allowed: permsd is read-only", r.Method), pretty)
		return routeOther
	}
	switch {
	case p == "/v1/status":
		if allowMethod(w, r, pretty, http.MethodGet, http.MethodHead) {
			h.status(w, pretty)
		}
		return routeStatus
	case p == "/metrics":
		if allowMethod(w, r, pretty, http.MethodGet, http.MethodHead) {
			h.promHandler.ServeHTTP(w, r)
		}
		return routeMetrics
	case p == "/bundles/permsets.tar.gz":
		if allowMethod(w, r, pretty, http.MethodGet, http.MethodHead) {
			h.serveBundle(w, r, pretty)
		}
		return routeBundle
	case p == "/v1/data" || strings.HasPrefix(p, "/v1/data/"):
		if allowMethod(w, r, pretty, http.MethodGet, http.MethodPost) {
			h.data(w, r, strings.TrimPrefix(p, "/v1/data"), q, pretty, start)
		}
		return routeData
	case p == "/v1/batch/data" || strings.HasPrefix(p, "/v1/batch/data/"):
		if allowMethod(w, r, pretty, http.MethodPost) {
			h.batch(w, r, strings.TrimPrefix(p, "/v1/batch/data"), q, pretty, start)
		}
		return routeBatch
	case isAuthZEN(p):
		h.authzen(w, r, p, q, pretty, start) // authzen.go
		return routeAuthZEN
	}
	writeError(w, http.StatusNotFound, types.CodeResourceNotFound, fmt.Sprintf("%s: no such endpoint", p), pretty)
	return routeOther
}

// allowMethod answers 405 with an Allow header unless the request's method is one of methods.
func allowMethod(w http.ResponseWriter, r *http.Request, pretty bool, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, types.CodeInvalidOperation,
		fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path), pretty)
	return false
}

// authorized checks the bearer token in constant time (of the token's SHA-256, so not even
// its length leaks).
func (h *handler) authorized(r *http.Request) bool {
	if !h.hasToken {
		return true
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimLeft(tok, " ")))
	return subtle.ConstantTimeCompare(sum[:], h.tokenSum[:]) == 1
}

// statusWriter remembers the status written, for metrics and the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// buildInfo is the provenance of the binary.
type buildInfo struct {
	commit, timestamp string
}

func readBuildInfo() buildInfo {
	var b buildInfo
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.commit = s.Value
			case "vcs.time":
				b.timestamp = s.Value
			}
		}
	}
	return b
}

// version is the "version" of provenance and status: the engine's, which is part of every
// revision digest.
var version = engine.Version
