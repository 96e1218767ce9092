package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/open-policy-agent/opa/v1/server/types"

	"github.com/permsets/permsets/daemon/internal/respond"
)

// writeJSON writes v as the JSON response, indented with pretty.
func writeJSON(w http.ResponseWriter, status int, v any, pretty bool) {
	respond.JSON(w, status, v, pretty)
}

// writeError writes an error in OPA's shape: {"code": ..., "message": ...}.
func writeError(w http.ResponseWriter, status int, code, msg string, pretty bool) {
	respond.Error(w, status, code, msg, pretty)
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
