package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/server/types"

	"github.com/permsets/permsets/authzen"
	"github.com/permsets/permsets/daemon/decisionlog"
	"github.com/permsets/permsets/daemon/snapshot"
	"github.com/permsets/permsets/engine"
)

// SubjectType is the subject type a subject search lists: users. A search for any other type
// finds nothing (evaluations do not interpret subject.type).
const SubjectType = "user"

// InstanceType is the resource type whose objects are the instances: a resource search of it
// lists the instances where the subject holds action.name (a feature=action permission).
const InstanceType = "instance"

// SetType is the feature whose objects are permission sets: a resource search of it lists the
// sets of the instance the subject may act on (assign, edit), those named and, with a grant
// without arguments, every set of the instance.
const SetType = "permset"

// routeMethods are the methods an action search over a route tries.
var routeMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

// authzenSearch serves the three searches. Every result is one the evaluation endpoint allows
// on the same revision: subjects come from who_can with the resource, actions and resources are
// candidates each evaluated as the allow decision.
func (h *handler) authzenSearch(w http.ResponseWriter, r *http.Request, snap *snapshot.Snapshot, kind, instance string, pretty bool) {
	body, e := h.authzenBody(w, r)
	if e != nil {
		e.write(w, pretty)
		return
	}
	s, err := authzen.DecodeSearch(kind, body)
	if err != nil {
		badRequest("%s", err.Message).write(w, pretty)
		return
	}
	var keys []string
	var ctx map[string]any
	var ae *apiError
	switch kind {
	case authzen.SearchSubject:
		keys, ae = h.searchSubjects(r.Context(), snap, s, instance)
	case authzen.SearchAction:
		keys, ae = h.searchActions(r, snap, s, instance)
	case authzen.SearchResource:
		keys, ctx, ae = h.searchResources(r, snap, s, instance)
	}
	if ae != nil {
		ae.write(w, pretty)
		return
	}
	page, next, err := authzen.Paginate(keys, s.Page)
	if err != nil {
		badRequest("%s", err.Message).write(w, pretty)
		return
	}
	resp := authzen.SearchResponse{Page: authzen.PageResponse{NextToken: next, Count: len(page)}, Context: ctx}
	switch kind {
	case authzen.SearchSubject:
		rs := make([]authzen.SubjectResult, len(page))
		for i, id := range page {
			rs[i] = authzen.SubjectResult{Type: s.Subject.Type, ID: id}
		}
		resp.Results = rs
	case authzen.SearchResource:
		rs := make([]authzen.ResourceResult, len(page))
		for i, id := range page {
			rs[i] = authzen.ResourceResult{Type: s.Resource.Type, ID: id}
		}
		resp.Results = rs
	case authzen.SearchAction:
		rs := make([]authzen.ActionResult, len(page))
		for i, name := range page {
			rs[i] = authzen.ActionResult{Name: name}
		}
		resp.Results = rs
	}
	writeJSON(w, http.StatusOK, &resp, pretty)
}

// searchInput maps a search's evaluation with a stand-in for the searched entity's id.
func (h *handler) searchInput(snap *snapshot.Snapshot, ev authzen.Evaluation, instance string) (map[string]any, string, *apiError) {
	input, denied, err := ev.Input(snap.Bundle, authzen.Options{Instance: instance, AllowTime: h.allowTime})
	if err != nil {
		return nil, "", badRequest("%s", err.Message)
	}
	return input, denied, nil
}

func (h *handler) evalTool(ctx context.Context, snap *snapshot.Snapshot, path string, input map[string]any) (any, *apiError) {
	di, e := h.finishInput(input, nil)
	if e != nil {
		return nil, e
	}
	res, err := snap.Evaluator.EvalValue(ctx, path, di.ast, engine.EvalOptions{})
	if err != nil {
		return nil, newAPIError(http.StatusInternalServerError, types.CodeInternal,
			fmt.Sprintf("%s: %v", types.MsgEvaluationError, err))
	}
	return res, nil
}

// searchSubjects lists the users who_can answers for the permission and the resource, leaving
// out any whose id also names another user (an evaluation of that id would be refused).
func (h *handler) searchSubjects(ctx context.Context, snap *snapshot.Snapshot, s *authzen.Search, instance string) ([]string, *apiError) {
	if s.Subject.Type != SubjectType {
		return nil, nil
	}
	ev := s.Evaluation
	ev.Subject = &authzen.Entity{Type: s.Subject.Type, ID: "-"} // not read: who_can has no user
	input, _, e := h.searchInput(snap, ev, instance)
	if e != nil {
		return nil, e
	}
	if _, ok := input["permission"]; !ok {
		return nil, nil // a route: who_can answers permissions only
	}
	delete(input, "user")
	res, e := h.evalTool(ctx, snap, "who_can", input)
	if e != nil {
		return nil, e
	}
	entries, _ := res.([]any)
	users := make([]string, 0, len(entries))
	for _, en := range entries {
		m, _ := en.(map[string]any)
		u, _ := m["user"].(string)
		if u == "" {
			continue
		}
		if resolved, err := snap.Bundle.ResolveUser(u); err != nil || resolved != u {
			continue
		}
		users = append(users, u)
	}
	slices.Sort(users)
	return slices.Compact(users), nil
}

// allowed evaluates candidates (each a variant of ev) as the allow decision, keeping those
// allowed; each is one decision, logged as the evaluation endpoint's are.
func (h *handler) allowed(r *http.Request, snap *snapshot.Snapshot, instance string, candidates []string,
	variant func(string) authzen.Evaluation) ([]string, *apiError) {
	batchID := decisionlog.NewID()
	var out []string
	for _, c := range candidates {
		if r.Context().Err() != nil {
			return nil, newAPIError(http.StatusInternalServerError, types.CodeInternal, "the request was cancelled")
		}
		ev := variant(c)
		d, e := h.authzenDecide(r, snap, &ev, nil, instance, batchID, false, time.Now())
		if e != nil && e.status >= 500 {
			return nil, e
		}
		if d.Decision {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// searchActions lists the actions of the feature resource.type (the methods, for a route) the
// subject is allowed on the resource.
func (h *handler) searchActions(r *http.Request, snap *snapshot.Snapshot, s *authzen.Search, instance string) ([]string, *apiError) {
	var candidates []string
	switch {
	case s.Resource.Type == authzen.RouteType:
		candidates = routeMethods
	default:
		actions, ok := snap.Bundle.Actions(s.Resource.Type)
		if !ok { // no catalog: the actions of the feature the user's effective permissions name
			ev := s.Evaluation
			ev.Action = &authzen.Action{Name: "-"}
			input, denied, e := h.searchInput(snap, ev, instance)
			if e != nil || denied != "" {
				return nil, e
			}
			delete(input, "resource")
			res, e := h.evalTool(r.Context(), snap, "effective", input)
			if e != nil {
				return nil, e
			}
			m, _ := res.(map[string]any)
			perms, _ := m["permissions"].([]any)
			for _, p := range perms {
				ps, _ := p.(string)
				if f, a, ok := cutPermission(ps); ok && f == s.Resource.Type && a != "*" {
					actions = append(actions, a)
				}
			}
		}
		candidates = actions
	}
	return h.allowed(r, snap, instance, candidates, func(a string) authzen.Evaluation {
		ev := s.Evaluation
		ev.Action = &authzen.Action{Name: a}
		return ev
	})
}

// searchResources lists the objects of resource.type the subject may action.name: the ids its
// grants name (then each evaluated), the sets of the instance for permset, the instances for
// instance. When a grant without arguments covers every object, or a scope covers those whose
// relation fields name the subject, the context says so: the list is then not all there is.
func (h *handler) searchResources(r *http.Request, snap *snapshot.Snapshot, s *authzen.Search, instance string) ([]string, map[string]any, *apiError) {
	if s.Resource.Type == InstanceType {
		// Every instance is a candidate; the permission is action.name (feature=action).
		keys, e := h.allowedInstances(r, snap, s)
		return keys, nil, e
	}
	ev := s.Evaluation
	ev.Resource = &authzen.Entity{Type: s.Resource.Type, ID: "-", Properties: s.Resource.Properties}
	input, denied, e := h.searchInput(snap, ev, instance)
	if e != nil || denied != "" {
		return nil, nil, e
	}
	if _, ok := input["permission"]; !ok {
		return nil, nil, nil // a route: nothing to list
	}
	delete(input, "resource")
	res, e := h.evalTool(r.Context(), snap, "objects", input)
	if e != nil {
		return nil, nil, e
	}
	m, _ := res.(map[string]any)
	var candidates []string
	if objs, ok := m["objects"].([]any); ok {
		for _, o := range objs {
			if id, ok := o.(string); ok {
				candidates = append(candidates, id)
			}
		}
	}
	every, _ := m["every"].(bool)
	scoped, _ := m["scoped"].(bool)
	var ctx map[string]any
	if every && s.Resource.Type == SetType {
		candidates = append(candidates, snap.Bundle.InstanceSets(input["instance"].(string))...)
		every = false // the list is complete: the instance's sets are all the objects there are
	}
	switch {
	case every:
		ctx = map[string]any{"complete": false, "every": true,
			"reason": "a grant without arguments covers every " + s.Resource.Type + ": the results are only those named"}
	case scoped:
		ctx = map[string]any{"complete": false, "scoped": true,
			"reason": "a scoped grant covers the " + s.Resource.Type + " objects whose relation fields name the subject: the results are only those named"}
	}
	slices.Sort(candidates)
	keys, e := h.allowed(r, snap, instance, slices.Compact(candidates), func(id string) authzen.Evaluation {
		ev := s.Evaluation
		ev.Resource = &authzen.Entity{Type: s.Resource.Type, ID: id, Properties: s.Resource.Properties}
		return ev
	})
	return keys, ctx, e
}

// allowedInstances lists the instances where the subject is allowed action.name.
func (h *handler) allowedInstances(r *http.Request, snap *snapshot.Snapshot, s *authzen.Search) ([]string, *apiError) {
	return h.allowed(r, snap, "", snap.Bundle.Instances(), func(inst string) authzen.Evaluation {
		ev := s.Evaluation
		ev.Resource = &authzen.Entity{Type: InstanceType, ID: inst, Properties: s.Resource.Properties}
		ctx := make(map[string]any, len(ev.Context)+1)
		for k, v := range ev.Context {
			ctx[k] = v
		}
		ctx["instance"] = inst
		ev.Context = ctx
		return ev
	})
}

// cutPermission splits a permission's text, feature=action(args), into feature and action.
func cutPermission(p string) (feature, action string, ok bool) {
	p, _, _ = strings.Cut(p, "(")
	return strings.Cut(p, "=")
}
