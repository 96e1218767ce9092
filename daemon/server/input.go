package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/server/types"

	"github.com/permsets/permsets/internal/jsondepth"
)

// readBody reads a request body of at most h.maxBody bytes: more is 413.
func (h *handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	if r.ContentLength > h.maxBody {
		return nil, h.tooLarge()
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, newAPIError(http.StatusBadRequest, types.CodeInvalidParameter,
			fmt.Sprintf("Content-Encoding %q is not supported: send the body uncompressed", ce))
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, h.tooLarge()
		}
		return nil, newAPIError(http.StatusBadRequest, types.CodeInvalidParameter,
			fmt.Sprintf("reading the request body: %v", err))
	}
	return buf.Bytes(), nil
}

func (h *handler) tooLarge() *apiError {
	return newAPIError(http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
		fmt.Sprintf("%s: over %d bytes", types.MsgDecodingLimitError, h.maxBody))
}

// badRequest is a 400 invalid_parameter.
func badRequest(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, types.CodeInvalidParameter, fmt.Sprintf(format, args...))
}

// decodeStrict decodes the one JSON value of b into v; anything but white space after it is an
// error.
func decodeStrict(b []byte, v any, useNumber bool) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if useNumber {
		dec.UseNumber()
	}
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("no JSON value")
		}
		return err
	}
	if len(bytes.TrimSpace(b[dec.InputOffset():])) != 0 {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// dataBodyInput is the raw "input" of a Data API body {"input": ...}: nil when the body is
// empty or has no input (the decision then has no input, as in OPA).
func dataBodyInput(body []byte) ([]byte, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var req struct {
		Input json.RawMessage `json:"input"`
	}
	if err := decodeStrict(body, &req, false); err != nil {
		return nil, badRequest("error(s) occurred while decoding request: %v", err)
	}
	return req.Input, nil
}

// decodeInput decodes one raw input (numbers as json.Number), refusing one nested deeper than
// MaxInputDepth.
func decodeInput(raw []byte) (any, *apiError) {
	if jsondepth.Exceeds(raw, MaxInputDepth) {
		return nil, badRequest("input is nested deeper than %d levels", MaxInputDepth)
	}
	var v any
	if err := decodeStrict(raw, &v, true); err != nil {
		return nil, badRequest("error(s) occurred while decoding input: %v", err)
	}
	return v, nil
}

// decisionInput is an input ready to evaluate.
type decisionInput struct {
	present bool
	value   any       // as decoded, for the decision log (a batch item's own input, without common_input)
	ast     ast.Value // converted once; nil without an input
}

// timeKey is the input key refused without --allow-input-time.
var timeKey = ast.InternedTerm("time")

// finishInput converts a decoded input to an ast.Value and checks it. common, when not nil, is a
// batch's common_input, merged under v (see mergeObjects); the check applies to the merged input.
func (h *handler) finishInput(v any, common ast.Object) (decisionInput, *apiError) {
	refused := decisionInput{present: true, value: v}
	val, err := ast.InterfaceToValue(v)
	if err != nil {
		return refused, badRequest("input: %v", err)
	}
	if obj, ok := val.(ast.Object); ok {
		if common != nil {
			obj = mergeObjects(common, obj)
			val = obj
		}
		if !h.allowTime && obj.Get(timeKey) != nil {
			return refused, badRequest(
				"permsd refuses input.time unless started with --allow-input-time (decisions are made as of now)")
		}
	}
	return decisionInput{present: true, value: v, ast: val}, nil
}

// mergeObjects deep-merges a batch's common_input under an item's input, the item winning (as
// Enterprise OPA's batch API does): a key of both whose two values are objects is merged the
// same way, any other key of the item replaces common's. An item that is not an object is used
// as it is (the caller merges only objects). Neither argument is modified; the result shares
// their terms, so an item costs the keys of the objects it is merged with, never a copy of their
// values.
func mergeObjects(common, item ast.Object) ast.Object {
	pairs := make([][2]*ast.Term, 0, common.Len()+item.Len())
	common.Foreach(func(k, cv *ast.Term) {
		iv := item.Get(k)
		switch {
		case iv == nil:
			pairs = append(pairs, [2]*ast.Term{k, cv})
		default:
			co, cok := cv.Value.(ast.Object)
			io, iok := iv.Value.(ast.Object)
			if cok && iok {
				iv = ast.NewTerm(mergeObjects(co, io))
			}
			pairs = append(pairs, [2]*ast.Term{k, iv})
		}
	})
	item.Foreach(func(k, iv *ast.Term) {
		if common.Get(k) == nil {
			pairs = append(pairs, [2]*ast.Term{k, iv})
		}
	})
	return ast.NewObject(pairs...)
}

// Weights of mergeCost: building a pair of an object costs about as much as OPA hashing
// costPerNumberDigits digits of a number or costPerStringBytes bytes of a string (a key, or a
// string value) to insert it.
const (
	costPerNumberDigits = 8
	costPerStringBytes  = 512
)

// mergeCost is the work of mergeObjects(common, item) in pairs built, each weighted by what OPA
// hashes to insert it (objects and arrays keep their hashes; strings and numbers are hashed
// again). It reads only item's keys and, once per common object (memo), common's: computing it
// costs what the item costs, however large common is.
func mergeCost(common ast.Object, item map[string]any, memo map[ast.Object]int) int {
	n := objectCost(common, memo)
	for k, iv := range item {
		cv := common.Get(ast.StringTerm(k))
		if cv == nil {
			n += pairCost(k, iv)
			continue
		}
		n -= termPairCost(k, cv.Value)
		co, cok := cv.Value.(ast.Object)
		im, iok := iv.(map[string]any)
		if cok && iok {
			n += 1 + len(k)/costPerStringBytes + mergeCost(co, im, memo)
			continue
		}
		n += pairCost(k, iv)
	}
	return n
}

// objectCost is the mergeCost of building obj's pairs again.
func objectCost(obj ast.Object, memo map[ast.Object]int) int {
	if n, ok := memo[obj]; ok {
		return n
	}
	n := 0
	obj.Foreach(func(k, v *ast.Term) {
		ks, _ := k.Value.(ast.String)
		n += termPairCost(string(ks), v.Value)
	})
	memo[obj] = n
	return n
}

func termPairCost(k string, v ast.Value) int {
	n := 1 + len(k)/costPerStringBytes
	switch v := v.(type) {
	case ast.String:
		n += len(v) / costPerStringBytes
	case ast.Number:
		n += len(v) / costPerNumberDigits
	}
	return n
}

func pairCost(k string, v any) int {
	n := 1 + len(k)/costPerStringBytes
	switch v := v.(type) {
	case string:
		n += len(v) / costPerStringBytes
	case json.Number:
		n += len(v) / costPerNumberDigits
	}
	return n
}
