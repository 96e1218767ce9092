package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/permsets/permsets/schemas"
)

// TestSchemas: /schemas/ lists and serves the embedded schemas without a token (editors send
// none), read-only, and refuses names it does not hold and paths out of it.
func TestSchemas(t *testing.T) {
	f := newFixture(t, true, func(o *Options) { o.Token = "s3cret-token" })
	r := f.do("GET", "/schemas/", nil)
	f.expect(r, 200, "")
	if !strings.Contains(string(r.raw), `"permissionset.schema.json"`) {
		t.Fatalf("list: %s", r.raw)
	}
	want, _ := schemas.FS.ReadFile("permissionset.schema.json")
	r = f.do("GET", "/schemas/permissionset.schema.json", nil)
	f.expect(r, 200, "")
	if !bytes.Equal(r.raw, want) || r.header.Get("Content-Type") != "application/schema+json" {
		t.Fatalf("served %d bytes as %q", len(r.raw), r.header.Get("Content-Type"))
	}
	if r := f.do("HEAD", "/schemas/catalog.schema.json", nil); r.status != 200 || len(r.raw) != 0 {
		t.Fatalf("HEAD: %d %q", r.status, r.raw)
	}
	for _, p := range []string{"/schemas/nope.schema.json", "/schemas/embed.go", "/schemas/../server.go",
		"/schemas/%2e%2e/server.go", "/schemas/a/catalog.schema.json", "/schemas/" + strings.Repeat("x", 4000)} {
		f.expect(f.do("GET", p, nil), 404, "resource_not_found")
	}
	f.expect(f.do("POST", "/schemas/catalog.schema.json", "{}"), 405, "invalid_operation")
	f.expect(f.do("DELETE", "/schemas/catalog.schema.json", nil), 405, "invalid_operation")
}
