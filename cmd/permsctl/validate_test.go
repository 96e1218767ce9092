package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/permsets/permsets/internal/testutil"
	"github.com/permsets/permsets/schemas"
)

func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	data, err := schemas.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(name, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(name)
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// brokenConfig is a config root whose one document has an unknown kind: a config problem.
func brokenConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	testutil.WriteFile(t, dir, "x.yaml", "apiVersion: permsets/v1\nkind: Nope\n")
	return dir
}

// TestJSONOutputsMatchSchemas: every --format json output conforms to its published schema.
func TestJSONOutputsMatchSchemas(t *testing.T) {
	broken := brokenConfig(t)
	nation := "../../examples/nation"
	for _, tc := range []struct {
		note, schema string
		args         []string
		code         int
	}{
		{"valid example", "validate.schema.json", []string{"validate", nation}, exitOK},
		{"problems", "validate.schema.json", []string{"validate", broken}, exitProblems},
		{"dangling references", "validate.schema.json", []string{"validate", "../../config/testdata/bad/dangling"}, exitProblems},
		{"check allow", "check.schema.json", []string{"-C", nation, "check", "--user", "alice", "--instance", "campaign", "finances=export"}, exitOK},
		{"check deny", "check.schema.json", []string{"-C", nation, "check", "--user", "alice", "--instance", "hq", "finances=export"}, exitDenied},
		{"effective", "effective.schema.json", []string{"-C", nation, "effective", "--user", "priya", "--instance", "campaign"}, exitOK},
		{"who-can", "who-can.schema.json", []string{"-C", nation, "who-can", "people=read", "--instance", "campaign"}, exitOK},
	} {
		t.Run(tc.note, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := runWith(append(tc.args, "--format", "json"), &out, &errOut); code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, errOut.String())
			}
			var v any
			dec := json.NewDecoder(strings.NewReader(out.String()))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			if err := compileSchema(t, tc.schema).Validate(v); err != nil {
				t.Fatalf("output does not match schemas/%s: %#v\n%s", tc.schema, err, out.String())
			}
		})
	}
}
