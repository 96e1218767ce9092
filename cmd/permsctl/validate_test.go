package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/permsets/permsets/schemas"
)

// TestValidateJSONMatchesSchema: the JSON output, valid and not, conforms to its published schema.
func TestValidateJSONMatchesSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	data, err := schemas.FS.ReadFile("validate.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("validate.schema.json", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("validate.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "x.yaml"), []byte("apiVersion: permsets/v1\nkind: Nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		note, dir string
		code      int
	}{
		{"valid example", "../../examples/nation", exitOK},
		{"problems", broken, exitProblems},
	} {
		t.Run(tc.note, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := runWith([]string{"validate", "--format", "json", tc.dir}, &out, &errOut); code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, errOut.String())
			}
			var v any
			dec := json.NewDecoder(strings.NewReader(out.String()))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(v); err != nil {
				t.Fatalf("output does not match schemas/validate.schema.json: %#v\n%s", err, out.String())
			}
		})
	}
}
