package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
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
		if !schemaPermission.MatchString(s) {
			t.Fatalf("%q parses but the schemas' pattern refuses it", s)
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

// FuzzTokenBudget: the token count bounds the nodes yaml.v3 builds (at most 3 per token, and a
// root per document), so the budget checked before parsing bounds the parse.
func FuzzTokenBudget(f *testing.F) {
	for _, s := range []string{"a:\nb:\n", "- - -\n-\n", "? \n? \n", "[?, ?, : x]", "{a, b, ? c}", "a: &x [*x, *x]",
		"- a\u2028- b\u2028-\u0085-", "\"a\":b\n", "--- !t\n--- !t\n", "[!a,!a,&b c]", "k: |\n  - x\n  - y\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4<<10 || invalidText(data) >= 0 {
			return
		}
		tokens, _ := tokenBudget(data, len(data)+1)
		var count func(n *yaml.Node) int
		count = func(n *yaml.Node) int {
			c := 1
			for _, k := range n.Content {
				c += count(k)
			}
			return c
		}
		nodes, docs := 0, 0
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for docs < 1000 {
			var n yaml.Node
			if err := dec.Decode(&n); err != nil {
				break
			}
			docs++
			nodes += count(&n) - 1 // not the document node
		}
		if nodes > 3*tokens+docs {
			t.Fatalf("%q: %d nodes in %d documents from %d tokens", data, nodes, docs, tokens)
		}
	})
}
