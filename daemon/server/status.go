package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/server/types"

	"github.com/permsets/permsets/daemon/decisionlog"
	"github.com/permsets/permsets/daemon/snapshot"
)

// health answers /health (readiness: 200 {} once a revision is served, 500 {"error": ...} in
// OPA's health shape before) and /health/live (200 {} while the process runs).
func (h *handler) health(w http.ResponseWriter, live bool) {
	if !live && h.state.Current() == nil {
		writeJSON(w, http.StatusInternalServerError, types.HealthResponseV1{Error: "no revision loaded yet"}, false)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{}, false)
}

// StatusResponse is the body of GET /v1/status.
type StatusResponse struct {
	Source      string          `json:"source"`
	Version     string          `json:"version"` // the engine version
	Revision    string          `json:"revision"`
	Commit      string          `json:"commit"`
	Generation  uint64          `json:"generation"`
	LoadedAt    string          `json:"loaded_at,omitempty"` // RFC 3339; absent before the first revision
	LastError   string          `json:"last_error,omitempty"`
	LastErrorAt string          `json:"last_error_at,omitempty"`
	Reloads     Reloads         `json:"reloads"`
	SourceOK    bool            `json:"source_ok"`
	Persisted   bool            `json:"persisted,omitempty"` // serving the cache directory's last good revision
	Counts      snapshot.Counts `json:"counts"`
	// DecisionLog is present when permsd writes a decision log.
	DecisionLog *decisionlog.Status `json:"decision_log,omitempty"`
	// Requests counts the requests answered since start, by handler (data, batch, authzen,
	// ...), as permsets_http_requests_total does by handler and code.
	Requests map[string]uint64 `json:"requests"`
}

// Reloads counts the reloads that succeeded and failed.
type Reloads struct {
	OK     uint64 `json:"ok"`
	Failed uint64 `json:"failed"`
}

func (h *handler) status(w http.ResponseWriter, pretty bool) {
	st := h.state.Status()
	resp := StatusResponse{
		Source:    st.Source,
		Version:   version,
		LastError: st.LastError,
		Reloads:   Reloads{OK: st.ReloadsOK, Failed: st.ReloadsFailed},
		SourceOK:  st.SourceOK,
	}
	if st.LastError != "" && !st.LastErrorAt.IsZero() {
		resp.LastErrorAt = st.LastErrorAt.UTC().Format(time.RFC3339)
	}
	if snap := h.state.Current(); snap != nil {
		resp.Revision, resp.Commit, resp.Generation, resp.Counts = snap.Revision, snap.Commit, snap.Generation, snap.Counts
		resp.Persisted = snap.Persisted
		if !snap.LoadedAt.IsZero() {
			resp.LoadedAt = snap.LoadedAt.UTC().Format(time.RFC3339)
		}
	}
	if h.dlStatus != nil {
		dl := h.dlStatus.Status()
		resp.DecisionLog = &dl
	}
	resp.Requests = h.metrics.requestsByRoute()
	writeJSON(w, http.StatusOK, &resp, pretty)
}

// serveBundle serves GET /bundles/permsets.tar.gz: the current revision as a standard OPA
// bundle, its ETag the revision; If-None-Match with it gives 304.
func (h *handler) serveBundle(w http.ResponseWriter, r *http.Request, pretty bool) {
	snap := h.state.Current()
	if snap == nil {
		noRevision().write(w, pretty)
		return
	}
	etag := `"` + snap.Revision + `"`
	w.Header().Set("ETag", etag)
	if etagMatches(r.Header.Get("If-None-Match"), snap.Revision) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	data, err := snap.Bundle.TarGz() // written once per revision, however many agents ask
	if err != nil {
		h.log.Error("bundle", "revision", snap.Revision, "error", err)
		writeError(w, http.StatusInternalServerError, types.CodeInternal, "building the bundle failed", pretty)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

// etagMatches reports whether an If-None-Match header names the revision (quoted or not,
// weak or strong, or "*").
func etagMatches(header, revision string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "" || revision == "" {
			continue
		}
		if tag == "*" || tag == revision || tag == `"`+revision+`"` {
			return true
		}
	}
	return false
}
