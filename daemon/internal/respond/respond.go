// Package respond writes permsd's JSON answers: a value, or an error in OPA's shape
// ({"code": ..., "message": ...}), for the server's handler and the webhook alike.
package respond

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/open-policy-agent/opa/v1/server/types"
)

// CodeRequestTooLarge is the error code of 413 answers. OPA itself answers an oversized body
// with 400 invalid_parameter "request body too large"; permsd answers 413 with this code and
// that message.
const CodeRequestTooLarge = "request_too_large"

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// JSON writes v as the JSON response, indented with pretty.
func JSON(w http.ResponseWriter, status int, v any, pretty bool) {
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

// Error writes an error in OPA's shape: {"code": ..., "message": ...}.
func Error(w http.ResponseWriter, status int, code, msg string, pretty bool) {
	JSON(w, status, &types.ErrorV1{Code: code, Message: msg}, pretty)
}
