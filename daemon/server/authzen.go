package server

// The OpenID AuthZEN Authorization API 1.0 (package authzen has its shapes and mapping):
//
//	POST /access/v1/evaluation, /access/v1/evaluations
//	POST /access/v1/search/{subject,resource,action}
//	GET  /.well-known/authzen-configuration[/{instance}, /instances/{instance}]
//
// and each of them under /instances/{instance}/. Every decision is the allow decision of the
// Data API for the mapped input, on the revision current when the request started, logged and
// counted as the Data API's are.

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/server/types"

	"github.com/permsets/permsets/authzen"
	"github.com/permsets/permsets/daemon/decisionlog"
	"github.com/permsets/permsets/daemon/snapshot"
)

const (
	authzenPrefix    = "/access/v1/"
	instancesPrefix  = "/instances/"
	wellKnownAuthZEN = "/.well-known/authzen-configuration"
)

// isAuthZEN reports whether a path is one of the AuthZEN API's.
func isAuthZEN(p string) bool {
	return strings.HasPrefix(p, authzenPrefix) || strings.HasPrefix(p, instancesPrefix) ||
		p == wellKnownAuthZEN || strings.HasPrefix(p, wellKnownAuthZEN+"/")
}

var allowPath = decisionIndex["permsets/allow"]

// authzen serves an AuthZEN path (isAuthZEN).
func (h *handler) authzen(w http.ResponseWriter, r *http.Request, p string, q url.Values, pretty bool, start time.Time) {
	instance, rest := "", p
	switch {
	case p == wellKnownAuthZEN:
	case strings.HasPrefix(p, wellKnownAuthZEN+"/"):
		// /.well-known/authzen-configuration/{id}, and the form RFC 8615 derives from the base
		// URL /instances/{id}: /.well-known/authzen-configuration/instances/{id}.
		instance = strings.TrimPrefix(p, wellKnownAuthZEN+"/")
		if id, ok := strings.CutPrefix(instance, "instances/"); ok {
			instance = id
		}
		rest = wellKnownAuthZEN
	case strings.HasPrefix(p, instancesPrefix):
		instance, rest, _ = strings.Cut(strings.TrimPrefix(p, instancesPrefix), "/")
		rest = "/" + rest
	}
	var serve func(*snapshot.Snapshot)
	method := http.MethodPost
	switch rest {
	case wellKnownAuthZEN:
		method = http.MethodGet
		serve = func(*snapshot.Snapshot) { h.authzenMetadata(w, r, instance, pretty) }
	case authzenPrefix + "evaluation":
		serve = func(snap *snapshot.Snapshot) { h.authzenEvaluation(w, r, snap, instance, q, pretty, start) }
	case authzenPrefix + "evaluations":
		serve = func(snap *snapshot.Snapshot) { h.authzenEvaluations(w, r, snap, instance, q, pretty, start) }
	case authzenPrefix + "search/subject", authzenPrefix + "search/resource", authzenPrefix + "search/action":
		kind := strings.TrimPrefix(rest, authzenPrefix+"search/")
		serve = func(snap *snapshot.Snapshot) { h.authzenSearch(w, r, snap, kind, instance, pretty) }
	default:
		writeError(w, http.StatusNotFound, types.CodeResourceNotFound, fmt.Sprintf("%s: no such endpoint", p), pretty)
		return
	}
	if method == http.MethodGet && !allowMethod(w, r, pretty, http.MethodGet, http.MethodHead) ||
		method == http.MethodPost && !allowMethod(w, r, pretty, http.MethodPost) {
		return
	}
	snap := h.state.Current() // read once: the request finishes on this revision
	if snap == nil {
		noRevision().write(w, pretty)
		return
	}
	if instance != "" && !snap.Bundle.HasInstance(instance) {
		writeError(w, http.StatusNotFound, types.CodeResourceNotFound,
			fmt.Sprintf("no instance %s", quoteShort(instance)), pretty)
		return
	}
	serve(snap)
}

// authzenBody reads a request body that must be JSON (400 for another content type).
func (h *handler) authzenBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, badRequest("Content-Type must be application/json")
	}
	return h.readBody(w, r)
}

// authzenDecide evaluates one mapped evaluation as the allow decision, records it, and answers it
// as an AuthZEN decision: false, with the error in its context, when it could not be made.
func (h *handler) authzenDecide(r *http.Request, snap *snapshot.Snapshot, ev *authzen.Evaluation, mapErr *authzen.Error,
	instance, batchID string, prov bool, start time.Time) (authzen.Decision, *apiError) {
	d := &decision{id: decisionlog.NewID(), path: allowPath}
	var denied string
	if mapErr == nil {
		var input map[string]any
		input, denied, mapErr = ev.Input(snap.Bundle, authzen.Options{Instance: instance, AllowTime: h.allowTime})
		if mapErr == nil && denied == "" {
			var e *apiError
			d.input, e = h.finishInput(input, nil)
			if e != nil {
				mapErr = &authzen.Error{Message: e.body.Message}
			}
		}
	}
	var out authzen.Decision
	if mapErr != nil && batchID == "" { // a single evaluation is refused whole, as a Data API request is
		return out, badRequest("%s", mapErr.Message)
	}
	switch {
	case mapErr != nil:
		d.err = badRequest("%s", mapErr.Message)
	case denied != "":
		d.result = false
		out.Context = map[string]any{"reason_admin": map[string]any{"en": denied}}
	default:
		h.evaluate(r.Context(), snap, d)
		out.Decision = d.result == true // anything but true denies
	}
	h.record(r, snap, d, batchID, start)
	if d.err != nil {
		out.Context = authzen.ErrorContext(d.err.status, d.err.body.Message)
	}
	if prov {
		if out.Context == nil {
			out.Context = map[string]any{}
		}
		out.Context["decision_id"] = d.id
		out.Context["revision"] = snap.Revision
		out.Context["commit"] = snap.Commit
		out.Context["generation"] = snap.Generation
	}
	return out, d.err
}

func (h *handler) authzenEvaluation(w http.ResponseWriter, r *http.Request, snap *snapshot.Snapshot, instance string,
	q url.Values, pretty bool, start time.Time) {
	body, e := h.authzenBody(w, r)
	if e != nil {
		e.write(w, pretty)
		return
	}
	ev, err := authzen.DecodeEvaluation(body)
	if err != nil {
		badRequest("%s", err.Message).write(w, pretty)
		return
	}
	h.authzenSingle(w, r, snap, ev, instance, q, pretty, start)
}

// authzenSingle answers one evaluation: 400 when it cannot be mapped, 500 when it fails.
func (h *handler) authzenSingle(w http.ResponseWriter, r *http.Request, snap *snapshot.Snapshot, ev *authzen.Evaluation,
	instance string, q url.Values, pretty bool, start time.Time) {
	out, e := h.authzenDecide(r, snap, ev, nil, instance, "", boolParam(q, "provenance"), start)
	if e != nil {
		e.write(w, pretty)
		return
	}
	writeJSON(w, http.StatusOK, &out, pretty)
}

func (h *handler) authzenEvaluations(w http.ResponseWriter, r *http.Request, snap *snapshot.Snapshot, instance string,
	q url.Values, pretty bool, start time.Time) {
	body, e := h.authzenBody(w, r)
	if e != nil {
		e.write(w, pretty)
		return
	}
	req, err := authzen.DecodeEvaluations(body)
	if err != nil {
		badRequest("%s", err.Message).write(w, pretty)
		return
	}
	if len(req.Items) == 0 { // no "evaluations": the single evaluation of the top level
		h.authzenSingle(w, r, snap, &req.Defaults, instance, q, pretty, start)
		return
	}
	prov := boolParam(q, "provenance")
	batchID := decisionlog.NewID()
	resp := authzen.EvaluationsResponse{Evaluations: make([]authzen.Decision, 0, len(req.Items))}
	for i := range req.Items {
		if r.Context().Err() != nil {
			return // the client is gone
		}
		item := &req.Items[i]
		out, _ := h.authzenDecide(r, snap, &item.Evaluation, item.Err, instance, batchID, prov, time.Now())
		resp.Evaluations = append(resp.Evaluations, out)
		if authzen.Stop(req.Semantic, out.Decision) {
			break
		}
	}
	writeJSON(w, http.StatusOK, &resp, pretty)
}

// authzenMetadata answers the PDP metadata: the base URL is the one the document was fetched
// from (scheme from the connection, host from the request), with /instances/{id} for an
// instance's.
func (h *handler) authzenMetadata(w http.ResponseWriter, r *http.Request, instance string, pretty bool) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host
	if instance != "" {
		base += instancesPrefix + url.PathEscape(instance)
	}
	w.Header().Set("Cache-Control", "max-age=300")
	writeJSON(w, http.StatusOK, authzen.NewMetadata(base), pretty)
}

// quoteShort quotes a client's string for a message, at most 100 bytes of it.
func quoteShort(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return fmt.Sprintf("%q", s)
}
