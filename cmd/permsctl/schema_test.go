package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/permsets/permsets/schemas"
)

// TestSchemaCommand: schema lists, prints and writes the embedded schemas, and refuses a
// name it does not have.
func TestSchemaCommand(t *testing.T) {
	code, out, _ := runCLI(t, "schema")
	if code != exitOK || !strings.Contains(out, "permissionset\n") || !strings.Contains(out, "test-report\n") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	want, _ := schemas.FS.ReadFile("permissionset.schema.json")
	if code, out, _ := runCLI(t, "schema", "PermissionSet"); code != exitOK || out != string(want) {
		t.Errorf("print: exit %d, %d bytes, want the embedded %d", code, len(out), len(want))
	}
	dir := filepath.Join(t.TempDir(), "out")
	if code, _, errOut := runCLI(t, "schema", "-o", dir); code != exitOK {
		t.Fatalf("-o: exit %d %s", code, errOut)
	}
	names := strings.Fields(out)
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join(dir, name+".schema.json"))
		embedded, _ := schemas.FS.ReadFile(name + ".schema.json")
		if err != nil || !bytes.Equal(got, embedded) {
			t.Errorf("-o wrote %s wrongly: %v", name, err)
		}
	}
	for _, args := range [][]string{{"schema", "../catalog"}, {"schema", "nope"}, {"schema", "catalog", "-o", dir}} {
		if code, _, errOut := runCLI(t, args...); code != exitUsage || !strings.Contains(errOut, "error:") {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
}
