package config

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/permsets/permsets/schemas"
)

var schemaPermission = regexp.MustCompile(permissionPattern)

// TestSchemaPermissionPattern: every permission string in every kind's schema carries the one
// pattern the reader's drop rule knows (a copy that drifted would be reported twice, or, if
// stricter than the parser, refuse in the editor what validate accepts).
func TestSchemaPermissionPattern(t *testing.T) {
	found := 0
	for _, kind := range Kinds {
		name := SchemaFile(kind)
		data, _ := schemas.FS.ReadFile(name)
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		walkSchema(doc, name, func(at string, node map[string]any) {
			desc, _ := node["description"].(string)
			pat, hasPat := node["pattern"].(string)
			isPerm := strings.HasPrefix(desc, "A permission string") || strings.HasPrefix(desc, "A permission, feature=action")
			if hasPat && strings.Contains(pat, "=") {
				isPerm = true
			}
			if ref, _ := node["$ref"].(string); !isPerm || ref == "#/definitions/permission" {
				return
			}
			found++
			if pat != permissionPattern {
				t.Errorf("%s: pattern %q, want %q", at, pat, permissionPattern)
			}
		})
	}
	if found < 7 {
		t.Fatalf("found %d permission strings in the schemas", found)
	}
}

func walkSchema(node any, at string, visit func(string, map[string]any)) {
	switch n := node.(type) {
	case map[string]any:
		visit(at, n)
		for k, v := range n {
			walkSchema(v, at+"/"+k, visit)
		}
	case []any:
		for _, v := range n {
			walkSchema(v, at, visit)
		}
	}
}

// TestSchemaFlagsWhatTheReaderRefuses: the schemas alone (what an editor checks) refuse the
// strings of docs' examples that validate refuses, and accept the good ones.
func TestSchemaFlagsWhatTheReaderRefuses(t *testing.T) {
	v, err := kindSchemas()
	if err != nil {
		t.Fatal(err)
	}
	set := func(perm string) map[string]any {
		return map[string]any{"apiVersion": APIVersion, "kind": KindPermissionSet, "id": "s", "instances": []any{"prod"}, "name": "S", "permissions": []any{perm}}
	}
	assignment := func(expires string) map[string]any {
		return map[string]any{"apiVersion": APIVersion, "kind": KindAssignment, "id": "a", "instance": "prod", "users": []any{"u"}, "permissionSets": []any{"s"}, "expires": expires}
	}
	for _, tc := range []struct {
		kind  string
		doc   map[string]any
		valid bool
	}{
		{KindPermissionSet, set("finances=export"), true},
		{KindPermissionSet, set("people=read(assigned)"), true},
		{KindPermissionSet, set("*=*"), true},
		{KindPermissionSet, set("finances export"), false},
		{KindPermissionSet, set("=export"), false},
		{KindPermissionSet, set("Finances=export"), false},
		{KindAssignment, assignment("2026-12-31T23:59:59Z"), true},
		{KindAssignment, assignment("tomorrow"), false},
		{KindAssignment, assignment("2026-12-31"), false},
	} {
		err := v.byKind[tc.kind].Validate(tc.doc)
		if (err == nil) != tc.valid {
			t.Errorf("%s %v: schema error %v, want valid=%v", tc.kind, tc.doc, err, tc.valid)
		}
	}
}
