package sets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParsePermission: no input panics; what parses renders to a canonical form that parses
// back to itself.
func FuzzParsePermission(f *testing.F) {
	for _, s := range []string{"people=read", "people=read(assigned)", "permset=assign('a', 'b')", "*=*", "x=*(y,'z')", "a=b(", "'", "=", "a=b('\\')"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePermission(s)
		if err != nil {
			if _, ok := err.(*PermissionError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		c := p.String()
		q, err := ParsePermission(c)
		if err != nil || q.String() != c {
			t.Fatalf("canonical %q of %q does not round-trip: %v", c, s, err)
		}
	})
}

// FuzzParseFile: no file content panics or hangs the loader, and every problem has a code.
func FuzzParseFile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bad/*/*.y*ml")
	examples, _ := filepath.Glob("../examples/nation/*/*.yaml")
	for _, p := range append(seeds, examples...) {
		if data, err := os.ReadFile(p); err == nil && len(data) < 64<<10 {
			f.Add(data)
		}
	}
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("apiVersion: permsets/v1\nkind: Catalog\nfeatures: {x: {actions: [a]}}\nimplies: {x=a: [x=a]}\n"))
	v, err := kindSchemas()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		fr := parseFile(data, v)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("parsing %d bytes took %v", len(data), d)
		}
		for _, p := range fr.problems {
			if p.Code == "" || p.Message == "" || strings.Contains(p.Message, "internal error") {
				t.Fatalf("bad problem %+v", p)
			}
		}
		// Assembling the decoded documents must not panic either.
		assemble([]file{{path: "fuzz.yaml"}}, []*fileResult{fr})
	})
}
