package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/server/types"

	"github.com/permsets/permsets/daemon/decisionlog"
	"github.com/permsets/permsets/daemon/snapshot"
	"github.com/permsets/permsets/engine"
)

// decisionIndex maps "permsets/allow" and the other decision paths to their index in
// engine.DecisionPaths.
var decisionIndex = func() map[string]int {
	m := make(map[string]int, len(engine.DecisionPaths))
	for i, p := range engine.DecisionPaths {
		m[engine.PolicyRoot+"/"+p] = i
	}
	return m
}()

// decisionPath resolves the part of a URL path after /v1/data (or /v1/batch/data).
func decisionPath(rest string) (int, bool) {
	rest = strings.TrimPrefix(rest, "/")
	rest = strings.TrimSuffix(rest, "/")
	i, ok := decisionIndex[rest]
	return i, ok
}

func notServed(rest string) *apiError {
	shown := "data" + strings.ReplaceAll(strings.TrimSuffix(rest, "/"), "/", ".")
	if len(shown) > 200 {
		shown = shown[:200] + "…"
	}
	return newAPIError(http.StatusNotFound, types.CodeResourceNotFound, fmt.Sprintf(
		"%s is not served: permsd answers only data.%s.{%s}", shown, engine.PolicyRoot,
		strings.Join(engine.DecisionPaths, ",")))
}

func noRevision() *apiError {
	return newAPIError(http.StatusInternalServerError, types.CodeInternal, "no revision loaded yet")
}

// Provenance is OPA's provenance object (version, build_commit, build_timestamp, revision,
// bundles) with permsd's commit and generation. version is the permsets engine version.
type Provenance struct {
	Version        string                `json:"version"`
	BuildCommit    string                `json:"build_commit,omitempty"`
	BuildTimestamp string                `json:"build_timestamp,omitempty"`
	Revision       string                `json:"revision"`
	Commit         string                `json:"commit"`
	Generation     uint64                `json:"generation"`
	Bundles        map[string]BundleInfo `json:"bundles"`
}

// BundleInfo is the revision of one bundle, as in OPA's provenance.
type BundleInfo struct {
	Revision string `json:"revision"`
}

func (h *handler) provenance(snap *snapshot.Snapshot) *Provenance {
	return &Provenance{
		Version:        version,
		BuildCommit:    h.build.commit,
		BuildTimestamp: h.build.timestamp,
		Revision:       snap.Revision,
		Commit:         snap.Commit,
		Generation:     snap.Generation,
		Bundles:        map[string]BundleInfo{engine.PolicyRoot: {Revision: snap.Revision}},
	}
}

// dataResponse is OPA's Data API response.
type dataResponse struct {
	DecisionID string         `json:"decision_id,omitempty"`
	Provenance *Provenance    `json:"provenance,omitempty"`
	Metrics    map[string]any `json:"metrics,omitempty"`
	Result     any            `json:"result,omitempty"` // absent when undefined
}

// decision is one evaluated (or refused) input.
type decision struct {
	id     string
	path   int
	input  decisionInput
	result any
	err    *apiError // refused (400) or failed (500)
}

// evaluate answers one input on snap.
func (h *handler) evaluate(ctx context.Context, snap *snapshot.Snapshot, d *decision) {
	res, err := snap.Evaluator.EvalValue(ctx, engine.DecisionPaths[d.path], d.input.ast, engine.EvalOptions{})
	if err != nil {
		d.err = newAPIError(http.StatusInternalServerError, types.CodeInternal,
			fmt.Sprintf("%s: %v", types.MsgEvaluationError, err))
		return
	}
	d.result = res
}

// record counts a decision, times it and hands it to the decision log.
func (h *handler) record(r *http.Request, snap *snapshot.Snapshot, d *decision, batchID string, start time.Time) {
	elapsed := time.Since(start)
	h.metrics.decision(d.path, d.result, d.err != nil, elapsed)
	if d.err != nil && d.err.status >= 500 && r.Context().Err() == nil { // not for clients gone
		h.log.Error("decision failed", "path", engine.DecisionPaths[d.path], "decision_id", d.id,
			"revision", snap.Revision, "error", d.err.body.Message)
	}
	if h.decisionLog == nil {
		return
	}
	e := decisionlog.Entry{
		DecisionID:      d.id,
		BatchDecisionID: batchID,
		Revision:        snap.Revision,
		Commit:          snap.Commit,
		Generation:      snap.Generation,
		Bundles:         map[string]decisionlog.BundleInfo{engine.PolicyRoot: {Revision: snap.Revision}},
		Path:            engine.PolicyRoot + "/" + engine.DecisionPaths[d.path],
		RequestedBy:     r.RemoteAddr,
		Timestamp:       time.Now().UTC(),
		Metrics:         map[string]any{"timer_server_handler_ns": elapsed.Nanoseconds()},
	}
	if d.input.present {
		v := d.input.value
		e.Input = &v
	}
	if d.result != nil {
		v := d.result
		e.Result = &v
	}
	if d.err != nil {
		e.Error = d.err.body
	}
	h.decisionLog.Log(e)
}

// recordCommon hands a batch's common_input to the decision log, once: its entry has the
// batch's id as decision id and batch id, Common set, and no result; the items' entries carry
// only their own inputs.
func (h *handler) recordCommon(r *http.Request, snap *snapshot.Snapshot, path int, batchID string, common any) {
	if h.decisionLog == nil {
		return
	}
	h.decisionLog.Log(decisionlog.Entry{
		DecisionID:      batchID,
		BatchDecisionID: batchID,
		Common:          true,
		Revision:        snap.Revision,
		Commit:          snap.Commit,
		Generation:      snap.Generation,
		Bundles:         map[string]decisionlog.BundleInfo{engine.PolicyRoot: {Revision: snap.Revision}},
		Path:            engine.PolicyRoot + "/" + engine.DecisionPaths[path],
		Input:           &common,
		RequestedBy:     r.RemoteAddr,
		Timestamp:       time.Now().UTC(),
	})
}

// data serves the Data API for one decision path: POST with {"input": ...}, or GET with the
// input as the JSON of the query parameter "input".
func (h *handler) data(w http.ResponseWriter, r *http.Request, rest string, q url.Values, pretty bool, start time.Time) {
	idx, ok := decisionPath(rest)
	if !ok {
		notServed(rest).write(w, pretty)
		return
	}
	snap := h.state.Current() // read once: the request finishes on this revision
	if snap == nil {
		noRevision().write(w, pretty)
		return
	}
	var raw []byte
	if r.Method == http.MethodGet {
		if vs := q["input"]; len(vs) > 0 && vs[len(vs)-1] != "" {
			raw = []byte(vs[len(vs)-1])
		}
	} else {
		body, e := h.readBody(w, r)
		if e != nil {
			e.write(w, pretty)
			return
		}
		if raw, e = dataBodyInput(body); e != nil {
			e.write(w, pretty)
			return
		}
	}
	d := &decision{path: idx}
	if raw != nil {
		v, e := decodeInput(raw)
		if e == nil {
			d.input, e = h.finishInput(v, nil)
		}
		if e != nil {
			e.write(w, pretty)
			return
		}
	}
	d.id = decisionlog.NewID()
	h.evaluate(r.Context(), snap, d)
	h.record(r, snap, d, "", start)
	if d.err != nil {
		d.err.write(w, pretty)
		return
	}
	resp := dataResponse{DecisionID: d.id, Result: d.result}
	if boolParam(q, "provenance") {
		resp.Provenance = h.provenance(snap)
	}
	if boolParam(q, "metrics") {
		resp.Metrics = map[string]any{"timer_server_handler_ns": time.Since(start).Nanoseconds()}
	}
	writeJSON(w, http.StatusOK, &resp, pretty)
}

// batchResponse is the batch API's response.
type batchResponse struct {
	BatchDecisionID string                `json:"batch_decision_id"`
	Metrics         map[string]any        `json:"metrics,omitempty"`
	Responses       map[string]*batchItem `json:"responses"`
}

// batchItem is one answer of a batch: a Data API response, or an OPA error object, with
// http_status_code (a string, as Enterprise OPA writes it) unless every item succeeded: "200",
// or "500" for every failed item, whatever its status alone would be (see itemStatusCode).
type batchItem struct {
	DecisionID     string      `json:"decision_id,omitempty"`
	Provenance     *Provenance `json:"provenance,omitempty"`
	Result         any         `json:"result,omitempty"`
	Code           string      `json:"code,omitempty"`
	Message        string      `json:"message,omitempty"`
	HTTPStatusCode string      `json:"http_status_code,omitempty"`
	status         int
}

// batchInput is one decoded input of a batch.
type batchInput struct {
	value    any
	err      *apiError
	decoding time.Duration
}

// batch serves POST /v1/batch/data/{path}: {"inputs": {ID: input}, "common_input": {...}}.
// The answer is 200 when every item succeeded, 500 when every one failed with 500, 207
// otherwise; each item answers as a single request would, a bad one with its own error.
func (h *handler) batch(w http.ResponseWriter, r *http.Request, rest string, q url.Values, pretty bool, start time.Time) {
	idx, ok := decisionPath(rest)
	if !ok {
		notServed(rest).write(w, pretty)
		return
	}
	snap := h.state.Current() // read once: every item is answered on this revision
	if snap == nil {
		noRevision().write(w, pretty)
		return
	}
	body, e := h.readBody(w, r)
	if e != nil {
		e.write(w, pretty)
		return
	}
	var req struct {
		Inputs      map[string]json.RawMessage `json:"inputs"`
		CommonInput json.RawMessage            `json:"common_input"`
	}
	if err := decodeStrict(body, &req, false); err != nil {
		badRequest("error(s) occurred while decoding request: %v", err).write(w, pretty)
		return
	}
	if req.Inputs == nil {
		badRequest(`a batch request needs "inputs": an object of inputs by id`).write(w, pretty)
		return
	}
	if len(req.Inputs) > MaxBatchInputs {
		badRequest("a batch holds at most %d inputs, not %d", MaxBatchInputs, len(req.Inputs)).write(w, pretty)
		return
	}
	// common_input is decoded and converted once, and logged once (recordCommon); each item is
	// merged with it at the value level.
	var common ast.Object
	var commonValue any
	if len(req.CommonInput) > 0 && string(req.CommonInput) != "null" {
		v, e := decodeInput(req.CommonInput)
		if e != nil {
			badRequest("common_input: %s", e.body.Message).write(w, pretty)
			return
		}
		if _, ok := v.(map[string]any); !ok {
			badRequest("common_input must be an object").write(w, pretty)
			return
		}
		val, err := ast.InterfaceToValue(v)
		if err != nil {
			badRequest("common_input: %v", err).write(w, pretty)
			return
		}
		common, commonValue = val.(ast.Object), v
	}
	var prov *Provenance
	if boolParam(q, "provenance") {
		prov = h.provenance(snap)
	}
	batchID := decisionlog.NewID()
	resp := batchResponse{BatchDecisionID: batchID, Responses: make(map[string]*batchItem, len(req.Inputs))}
	ids := make([]string, 0, len(req.Inputs))
	for id := range req.Inputs {
		ids = append(ids, id)
	}
	slices.Sort(ids) // a stable order of evaluation and of decision-log entries
	// Every input is decoded before anything is evaluated, so that a batch whose merging would
	// cost too much is refused whole.
	items := make([]batchInput, len(ids))
	cost, memo := 0, map[ast.Object]int{}
	for i, id := range ids {
		t := time.Now()
		items[i].value, items[i].err = decodeInput(req.Inputs[id])
		items[i].decoding = time.Since(t)
		if m, ok := items[i].value.(map[string]any); ok && common != nil && items[i].err == nil {
			cost += mergeCost(common, m, memo)
		}
	}
	if cost > MaxBatchMergeCost {
		badRequest("common_input: merging it into %d inputs costs %d, over the limit of %d (object keys built, "+
			"long numbers and strings counting for more): send fewer inputs or a smaller common_input",
			len(ids), cost, MaxBatchMergeCost).write(w, pretty)
		return
	}
	ctx := r.Context()
	if common != nil {
		h.recordCommon(r, snap, idx, batchID, commonValue)
	}
	failed, failed500 := 0, 0
	for i, id := range ids {
		if ctx.Err() != nil {
			return // the client is gone
		}
		itemStart := time.Now().Add(-items[i].decoding)
		d := &decision{id: decisionlog.NewID(), path: idx}
		e := items[i].err
		if e == nil {
			d.input, e = h.finishInput(items[i].value, common)
		}
		items[i].value = nil // the decision (and its log entry) holds it now
		if e != nil {
			d.err = e
		} else {
			h.evaluate(ctx, snap, d)
		}
		h.record(r, snap, d, batchID, itemStart)
		item := &batchItem{DecisionID: d.id, status: http.StatusOK}
		if d.err != nil {
			item.status, item.Code, item.Message = d.err.status, d.err.body.Code, d.err.body.Message
			failed++
			if item.status >= 500 {
				failed500++
			}
		} else {
			item.Result, item.Provenance = d.result, prov
		}
		resp.Responses[id] = item
	}
	status := http.StatusOK
	switch {
	case failed == 0:
	case failed500 == len(ids):
		status = http.StatusInternalServerError
	default:
		status = http.StatusMultiStatus
	}
	if status != http.StatusOK {
		for _, item := range resp.Responses {
			item.HTTPStatusCode = itemStatusCode(item.status)
		}
	}
	if boolParam(q, "metrics") {
		resp.Metrics = map[string]any{"timer_server_handler_ns": time.Since(start).Nanoseconds()}
	}
	writeJSON(w, status, &resp, pretty)
}

// itemStatusCode is a batch item's http_status_code: "200", or "500" for an item that failed,
// refused (its own answer would be 400) or not. The official OPA SDKs (@styra/opa's
// evaluateBatch) accept "200" and "500" only, and lose every result of a batch holding another;
// the item's code (invalid_parameter, internal_error) tells a refused input from a failure.
func itemStatusCode(status int) string {
	if status == http.StatusOK {
		return "200"
	}
	return "500"
}
