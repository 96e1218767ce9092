package schemas_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/permsets/permsets/schemas"
)

// TestSchemas: every schema compiles as draft-07, its $id matches its file name, and every
// property at every level has a description (editors show them as help).
func TestSchemas(t *testing.T) {
	names, err := fs.Glob(schemas.FS, "*.schema.json")
	if err != nil || len(names) < 8 {
		t.Fatalf("found %d schemas (%v)", len(names), err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, _ := schemas.FS.ReadFile(name)
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			if doc["$schema"] != "http://json-schema.org/draft-07/schema#" || doc["$id"] != schemas.BaseURL+name {
				t.Errorf("$schema %v, $id %v", doc["$schema"], doc["$id"])
			}
			c := jsonschema.NewCompiler()
			c.Draft = jsonschema.Draft7
			if err := c.AddResource(name, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Compile(name); err != nil {
				t.Fatal(err)
			}
			for _, missing := range undescribed(doc, "") {
				t.Errorf("no description: %s", missing)
			}
		})
	}
}

func undescribed(node any, path string) []string {
	var out []string
	switch n := node.(type) {
	case map[string]any:
		if props, ok := n["properties"].(map[string]any); ok {
			for name, p := range props {
				pm, _ := p.(map[string]any)
				if d, _ := pm["description"].(string); strings.TrimSpace(d) == "" {
					out = append(out, path+"/"+name)
				}
			}
		}
		for k, v := range n {
			out = append(out, undescribed(v, path+"/"+k)...)
		}
	case []any:
		for _, v := range n {
			out = append(out, undescribed(v, path)...)
		}
	}
	return out
}
