// Package authzen is the OpenID AuthZEN Authorization API 1.0 over permission sets: the shapes of
// its requests and responses, their validation, and the mapping of a subject, an action and a
// resource onto the input of a permsets decision (docs/permsd.md, "AuthZEN"). It knows nothing
// of HTTP or of OPA: the server reads the body, calls Decode*, maps each evaluation with Input,
// evaluates the inputs on one revision and writes the responses.
package authzen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/permsets/permsets/internal/jsondepth"
)

// Limits of a request; the server bounds the body's bytes.
const (
	// MaxDepth is how deeply arrays and objects may nest in a request; deeper is 400.
	MaxDepth = 64
	// MaxEvaluations is the most items one evaluations request may carry; more is 400.
	MaxEvaluations = 1000
	// MaxNameBytes bounds a type, an id or an action name.
	MaxNameBytes = 4096
)

// Error is a refused request or evaluation: always a 400 Bad Request, whose message names the
// field at fault. In an evaluations request, an item's Error is that item's decision: false, with
// the error in its context.
type Error struct {
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(format string, args ...any) *Error { return &Error{Message: fmt.Sprintf(format, args...)} }

// Entity is a subject or a resource: a type and an id (either may be missing until defaults are
// applied) and properties.
type Entity struct {
	Type       string         `json:"type"`
	ID         string         `json:"id,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Action is what the subject would do: a name (possibly missing until defaults are applied) and
// properties.
type Action struct {
	Name       string         `json:"name"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Evaluation is one access evaluation request: subject, action, resource and context. An entity
// that is nil was absent (or null).
type Evaluation struct {
	Subject  *Entity        `json:"subject,omitempty"`
	Action   *Action        `json:"action,omitempty"`
	Resource *Entity        `json:"resource,omitempty"`
	Context  map[string]any `json:"context,omitempty"`
}

// Semantics of an evaluations request (options.evaluations_semantic).
const (
	ExecuteAll          = "execute_all"
	DenyOnFirstDeny     = "deny_on_first_deny"
	PermitOnFirstPermit = "permit_on_first_permit"
)

// Evaluations is an access evaluations request. Without items (no "evaluations", or an empty
// array) it is a single evaluation: Defaults. Each item is its own evaluation with the defaults
// applied (see Merge), or its own error.
type Evaluations struct {
	Defaults Evaluation
	Items    []Item
	Semantic string
}

// Item is one entry of "evaluations": the evaluation with the defaults applied, or why it cannot
// be evaluated.
type Item struct {
	Evaluation Evaluation
	Err        *Error
}

// Page is a search request's page: the token of a previous answer's next_token ("" for the
// first page) and the most results wanted (0: the default).
type Page struct {
	Token string
	Limit int
}

// Search is a subject, resource or action search request: an evaluation whose searched entity
// lacks its id (or its action), and a page.
type Search struct {
	Evaluation
	Page Page
}

// Kinds of search, as the endpoints name them.
const (
	SearchSubject  = "subject"
	SearchResource = "resource"
	SearchAction   = "action"
)

// DecodeEvaluation decodes and checks an access evaluation request: subject (type, id), action
// (name) and resource (type, id) are required; unknown fields are ignored.
func DecodeEvaluation(body []byte) (*Evaluation, *Error) {
	top, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	ev, err := decodeEvaluation(top, "")
	if err != nil {
		return nil, err
	}
	if err := ev.Complete(); err != nil {
		return nil, err
	}
	return ev, nil
}

// DecodeEvaluations decodes an access evaluations request. The request itself is refused (an
// error) when it is not a JSON object, when a top-level field has the wrong type, when
// "evaluations" is not an array or holds more than MaxEvaluations items, when the semantic is
// unknown, and, without items, when the top level is not a complete evaluation. An item that
// is not an object, or is incomplete once the defaults are applied, is that item's error only.
func DecodeEvaluations(body []byte) (*Evaluations, *Error) {
	top, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	def, err := decodeEvaluation(top, "")
	if err != nil {
		return nil, err
	}
	out := &Evaluations{Defaults: *def, Semantic: ExecuteAll}
	if v, ok := top["options"]; ok && v != nil {
		opts, ok := v.(map[string]any)
		if !ok {
			return nil, errorf("options must be an object")
		}
		if s, ok := opts["evaluations_semantic"]; ok && s != nil {
			str, ok := s.(string)
			switch {
			case !ok:
				return nil, errorf("options.evaluations_semantic must be a string")
			case str != ExecuteAll && str != DenyOnFirstDeny && str != PermitOnFirstPermit:
				return nil, errorf("options.evaluations_semantic %s: use %s, %s or %s", quote(str), ExecuteAll, DenyOnFirstDeny, PermitOnFirstPermit)
			}
			out.Semantic = str
		}
	}
	var items []any
	if v, ok := top["evaluations"]; ok && v != nil {
		if items, ok = v.([]any); !ok {
			return nil, errorf("evaluations must be an array")
		}
	}
	if len(items) > MaxEvaluations {
		return nil, errorf("evaluations holds at most %d items, not %d", MaxEvaluations, len(items))
	}
	if len(items) == 0 {
		if err := out.Defaults.Complete(); err != nil {
			return nil, err
		}
		return out, nil
	}
	out.Items = make([]Item, len(items))
	for i, v := range items {
		obj, ok := v.(map[string]any)
		if !ok {
			out.Items[i].Err = errorf("evaluations[%d] must be an object", i)
			continue
		}
		ev, err := decodeEvaluation(obj, fmt.Sprintf("evaluations[%d].", i))
		if err == nil {
			*ev = Merge(&out.Defaults, ev)
			err = ev.completeAt(fmt.Sprintf("evaluations[%d].", i))
		}
		if err != nil {
			out.Items[i].Err = err
			continue
		}
		out.Items[i].Evaluation = *ev
	}
	return out, nil
}

// DecodeSearch decodes a search request of one kind. A subject search needs subject.type, an
// action and a resource (type, id); a resource search a subject (type, id), an action and
// resource.type; an action search a subject and a resource (type and id both). The id of the
// entity searched, and an action search's action, are ignored.
func DecodeSearch(kind string, body []byte) (*Search, *Error) {
	top, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	ev, err := decodeEvaluation(top, "")
	if err != nil {
		return nil, err
	}
	s := &Search{Evaluation: *ev}
	switch kind {
	case SearchSubject:
		if s.Subject == nil || s.Subject.Type == "" {
			return nil, errorf("a subject search needs subject.type")
		}
		s.Subject.ID = ""
		if err := s.needAction(""); err != nil {
			return nil, err
		}
		if err := s.Resource.need("", "resource"); err != nil {
			return nil, err
		}
	case SearchResource:
		if err := s.Subject.need("", "subject"); err != nil {
			return nil, err
		}
		if err := s.needAction(""); err != nil {
			return nil, err
		}
		if s.Resource == nil || s.Resource.Type == "" {
			return nil, errorf("a resource search needs resource.type")
		}
		s.Resource.ID = ""
	case SearchAction:
		if err := s.Subject.need("", "subject"); err != nil {
			return nil, err
		}
		if err := s.Resource.need("", "resource"); err != nil {
			return nil, err
		}
		s.Action = nil
	default:
		return nil, errorf("no %s search: search subject, resource or action", quote(kind))
	}
	if v, ok := top["page"]; ok && v != nil {
		p, ok := v.(map[string]any)
		if !ok {
			return nil, errorf("page must be an object")
		}
		if t, ok := p["token"]; ok && t != nil {
			if s.Page.Token, ok = t.(string); !ok {
				return nil, errorf("page.token must be a string")
			}
		}
		if l, ok := p["limit"]; ok && l != nil {
			n, ok := l.(json.Number)
			i, err := n.Int64()
			if !ok || err != nil || i < 1 {
				return nil, errorf("page.limit must be a positive integer")
			}
			s.Page.Limit = int(min(i, int64(MaxPageLimit)))
		}
	}
	return s, nil
}

// Merge applies an evaluations request's defaults to one item: each entity the item has replaces
// the default one whole (its properties included), but a type, id or action name it lacks is the
// default's; the item's context keys replace the default context's, the others are kept.
func Merge(def, item *Evaluation) Evaluation {
	out := *item
	out.Subject = mergeEntity(def.Subject, item.Subject)
	out.Resource = mergeEntity(def.Resource, item.Resource)
	switch {
	case item.Action == nil:
		out.Action = def.Action
	case item.Action.Name == "" && def.Action != nil:
		a := *item.Action
		a.Name = def.Action.Name
		out.Action = &a
	}
	switch {
	case item.Context == nil:
		out.Context = def.Context
	case def.Context != nil:
		ctx := make(map[string]any, len(def.Context)+len(item.Context))
		for k, v := range def.Context {
			ctx[k] = v
		}
		for k, v := range item.Context {
			ctx[k] = v
		}
		out.Context = ctx
	}
	return out
}

func mergeEntity(def, item *Entity) *Entity {
	if item == nil {
		return def
	}
	if def == nil || item.Type != "" && item.ID != "" {
		return item
	}
	e := *item
	if e.Type == "" {
		e.Type = def.Type
	}
	if e.ID == "" {
		e.ID = def.ID
	}
	return &e
}

// Complete checks that an evaluation has everything the evaluation endpoint needs.
func (ev *Evaluation) Complete() *Error { return ev.completeAt("") }

func (ev *Evaluation) completeAt(at string) *Error {
	if err := ev.Subject.need(at, "subject"); err != nil {
		return err
	}
	if err := ev.needAction(at); err != nil {
		return err
	}
	return ev.Resource.need(at, "resource")
}

func (e *Entity) need(at, what string) *Error {
	switch {
	case e == nil:
		return errorf("%s%s is required: {\"type\": ..., \"id\": ...}", at, what)
	case e.Type == "":
		return errorf("%s%s.type is required", at, what)
	case e.ID == "":
		return errorf("%s%s.id is required", at, what)
	}
	return nil
}

func (ev *Evaluation) needAction(at string) *Error {
	switch {
	case ev.Action == nil:
		return errorf("%saction is required: {\"name\": ...}", at)
	case ev.Action.Name == "":
		return errorf("%saction.name is required", at)
	}
	return nil
}

// decodeObject decodes a request body: one JSON object (numbers as json.Number), nested at most
// MaxDepth deep.
func decodeObject(body []byte) (map[string]any, *Error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errorf("the request body is empty: send a JSON object")
	}
	if jsondepth.Exceeds(body, MaxDepth) {
		return nil, errorf("the request is nested deeper than %d levels", MaxDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf("the request body is not JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errorf("the request body is not JSON: data after the object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errorf("the request body must be a JSON object")
	}
	return obj, nil
}

// decodeEvaluation reads the subject, action, resource and context of an object; each may be
// absent (or null), and each must have its type when present.
func decodeEvaluation(obj map[string]any, at string) (*Evaluation, *Error) {
	ev := &Evaluation{}
	var err *Error
	if ev.Subject, err = decodeEntity(obj, at, "subject"); err != nil {
		return nil, err
	}
	if ev.Resource, err = decodeEntity(obj, at, "resource"); err != nil {
		return nil, err
	}
	if v, ok := obj["action"]; ok && v != nil {
		a, ok := v.(map[string]any)
		if !ok {
			return nil, errorf("%saction must be an object: {\"name\": ...}", at)
		}
		ev.Action = &Action{}
		if ev.Action.Name, err = stringField(a, at+"action", "name"); err != nil {
			return nil, err
		}
		if ev.Action.Properties, err = objectField(a, at+"action", "properties"); err != nil {
			return nil, err
		}
	}
	if ev.Context, err = objectField(obj, strings.TrimSuffix(at, "."), "context"); err != nil {
		return nil, err
	}
	return ev, nil
}

func decodeEntity(obj map[string]any, at, what string) (*Entity, *Error) {
	v, ok := obj[what]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errorf("%s%s must be an object: {\"type\": ..., \"id\": ...}", at, what)
	}
	e := &Entity{}
	var err *Error
	if e.Type, err = stringField(m, at+what, "type"); err != nil {
		return nil, err
	}
	if e.ID, err = stringField(m, at+what, "id"); err != nil {
		return nil, err
	}
	if e.Properties, err = objectField(m, at+what, "properties"); err != nil {
		return nil, err
	}
	return e, nil
}

// stringField is obj[key]: "" when absent or null, an error when it is not a string or is too
// long.
func stringField(obj map[string]any, at, key string) (string, *Error) {
	v, ok := obj[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	switch {
	case !ok:
		return "", errorf("%s.%s must be a string", at, key)
	case len(s) > MaxNameBytes:
		return "", errorf("%s.%s is longer than %d bytes", at, key, MaxNameBytes)
	case !utf8.ValidString(s):
		return "", errorf("%s.%s is not valid UTF-8", at, key)
	}
	return s, nil
}

// objectField is obj[key]: nil when absent or null, an error when it is not an object.
func objectField(obj map[string]any, at, key string) (map[string]any, *Error) {
	v, ok := obj[key]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		if at == "" {
			return nil, errorf("%s must be an object", key)
		}
		return nil, errorf("%s.%s must be an object", at, key)
	}
	return m, nil
}

// quote shows a client's string in a message: quoted and escaped, at most 100 bytes of it.
func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return fmt.Sprintf("%q", s)
}
