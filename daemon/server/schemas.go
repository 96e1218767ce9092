package server

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"

	"github.com/open-policy-agent/opa/v1/server/types"

	"github.com/permsets/permsets/schemas"
)

// schemasPrefix is where the JSON Schemas of the config kinds and outputs are served, for
// editors (a modeline or yaml.schemas may name http://permsd:8181/schemas/NAME.schema.json).
const schemasPrefix = "/schemas/"

// serveSchemas answers GET /schemas/ with the list of schema files and GET
// /schemas/NAME.schema.json with one. They are the binary's own embedded files, the same for
// every permsd of a version and free of config data, so they need no token, like /health.
func (h *handler) serveSchemas(w http.ResponseWriter, r *http.Request, pretty bool) {
	name := strings.TrimPrefix(r.URL.Path, schemasPrefix)
	if name == "" {
		files, _ := fs.Glob(schemas.FS, "*.schema.json")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string][]string{"schemas": files})
		return
	}
	data, err := fs.ReadFile(schemas.FS, name)
	if err != nil || !strings.HasSuffix(name, ".schema.json") || strings.Contains(name, "/") {
		writeError(w, http.StatusNotFound, types.CodeResourceNotFound, "no such schema; GET /schemas/ lists them", pretty)
		return
	}
	w.Header().Set("Content-Type", "application/schema+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}
