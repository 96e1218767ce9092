package examples_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/schemas"
)

var modelineRE = regexp.MustCompile(`(?m)^# yaml-language-server: \$schema=(\S+)$`)

// TestModelinesResolve: every example file's schema modeline names, relative to the file, a
// schema in this repository that is the embedded schema of the kind of the document it heads.
// Editors then find the schema offline, in a clone, with no server.
func TestModelinesResolve(t *testing.T) {
	seen := 0
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") || strings.HasPrefix(p, "deploy/") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		docs := splitDocuments(data)
		for _, doc := range docs {
			m := modelineRE.FindSubmatch(doc)
			if m == nil {
				continue
			}
			seen++
			ref := string(m[1])
			if strings.Contains(ref, "://") {
				t.Errorf("%s: modeline %s is a URL; it should be a path in this repository", p, ref)
				continue
			}
			var head struct{ Kind string }
			if err := yaml.Unmarshal(doc, &head); err != nil || head.Kind == "" {
				t.Errorf("%s: a modeline heads a document with no kind (%v)", p, err)
				continue
			}
			target := filepath.Join(filepath.Dir(p), filepath.FromSlash(ref))
			got, err := os.ReadFile(target)
			if err != nil {
				t.Errorf("%s: modeline %s does not resolve: %v", p, ref, err)
				continue
			}
			want, _ := schemas.FS.ReadFile(config.SchemaFile(head.Kind))
			if !bytes.Equal(got, want) {
				t.Errorf("%s: modeline %s is not the %s schema of this version", p, ref, head.Kind)
			}
		}
		if len(docs) > 0 && !modelineRE.Match(docs[0]) {
			t.Errorf("%s: no schema modeline on its first document", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 100 {
		t.Fatalf("checked %d modelines", seen)
	}
}

// splitDocuments splits a YAML stream at its "---" lines, keeping each document's comments.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	for _, part := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(data), -1) {
		if strings.TrimSpace(part) != "" {
			docs = append(docs, []byte(part))
		}
	}
	return docs
}
