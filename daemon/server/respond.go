package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/server/types"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSON writes v as the JSON response, indented with pretty.
func writeJSON(w http.ResponseWriter, status int, v any, pretty bool) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // do not keep the buffers of huge answers
			buf.Reset()
			bufPool.Put(buf)
		}
	}()
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		_ = json.NewEncoder(buf).Encode(types.NewErrorV1(types.CodeInternal, "encoding the response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeError writes an error in OPA's shape: {"code": ..., "message": ...}.
func writeError(w http.ResponseWriter, status int, code, msg string, pretty bool) {
	writeJSON(w, status, &types.ErrorV1{Code: code, Message: msg}, pretty)
}

// apiError is an error answer: its HTTP status and OPA error object.
type apiError struct {
	status int
	body   *types.ErrorV1
}

func newAPIError(status int, code, msg string) *apiError {
	return &apiError{status: status, body: &types.ErrorV1{Code: code, Message: msg}}
}

func (e *apiError) write(w http.ResponseWriter, pretty bool) {
	writeJSON(w, e.status, e.body, pretty)
}

// boolParam reads a boolean query parameter as OPA does: present without a value, or with
// "true" in any case, is true.
func boolParam(q url.Values, name string) bool {
	vs, ok := q[name]
	if !ok {
		return false
	}
	if len(vs) == 1 && vs[0] == "" {
		return true
	}
	for _, v := range vs {
		if strings.EqualFold(v, "true") {
			return true
		}
	}
	return false
}
