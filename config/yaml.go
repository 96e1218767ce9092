package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Limits of the YAML reader. Each is a clear error when exceeded.
const (
	// MaxFileSize is the largest file read.
	MaxFileSize = 16 << 20
	// AliasBudget is the number of nodes that aliases may expand to in one document.
	AliasBudget = 10_000
	// MaxDepth is the deepest nesting of mappings and sequences.
	MaxDepth = 100
	// MaxTokens is the most YAML tokens one file may hold, counted before it is parsed (see
	// tokenBudget). The parser builds at most a few nodes per token, at about 180 bytes each,
	// and decoding costs several times that, so this bounds a file's memory: 1,000,000 tokens
	// is 1.9 times the tokens of the largest file permsgen writes for 1,000,000 user-set pairs
	// (530,000 in 3.2 MB of assignments).
	MaxTokens = 1_000_000
)

// yamlDoc is one parsed YAML document of a file.
type yamlDoc struct {
	index int        // from 1
	root  *yaml.Node // the document's content node
}

var yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML splits a file into documents. Problems carry positions but no file name.
func parseYAML(data []byte) (docs []yamlDoc, probs []Problem) {
	ps := &problems{}
	if bad := invalidText(data); bad >= 0 {
		line, col := lineCol(data, bad)
		ps.add(Pos{line, col}, CodeInvalidEncoding, "not UTF-8 text: byte 0x%02x at offset %d (binary data?)", data[bad], bad)
		return nil, ps.list
	}
	if _, over := tokenBudget(data, MaxTokens); over >= 0 {
		line, col := lineCol(data, over)
		ps.add(Pos{line, col}, CodeFileTooLarge, "more than %d YAML tokens in this file (values, keys, list entries and the words of text); split the file", MaxTokens)
		return nil, ps.list
	}
	defer func() {
		// yaml.v3 reports its own errors through panics it recovers; anything else escaping is
		// still a bad file, not a crash.
		if r := recover(); r != nil {
			ps.add(Pos{}, CodeYAMLSyntax, "the YAML parser gave up: %v", r)
			probs = ps.list
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 1; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "yaml: ")
			pos := Pos{}
			if m := yamlLineError.FindStringSubmatch(err.Error()); m != nil {
				line, _ := strconv.Atoi(m[1])
				pos, msg = Pos{line, 1}, m[2]
			}
			ps.add(pos, CodeYAMLSyntax, "%s", msg)
			break
		}
		if n.Kind != yaml.DocumentNode || len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // an empty document: only comments, or `---` alone
		}
		docs = append(docs, yamlDoc{index: i, root: root})
	}
	return docs, ps.list
}

// tokenBudget counts the tokens of data, stopping at the first past max: n is the count (at
// most max+1), over that token's offset, or -1. yaml.v3 has no
// limit of its own and builds the whole node tree of a document before anything can look at
// it, so the budget is checked on the bytes, before parsing. A token is a run of characters
// that starts after a blank, a line break or one of the flow indicators '[', '{', ',' and ':'.
// Every node but a document's root begins at a token or at an indicator a token holds ('-',
// '?', ':'), and no token holds more than a few of them (`? ` is a mapping, its empty key and
// empty value), so a file of n tokens has at most about 3n nodes (FuzzTokenBudget checks this
// against the parser). Text in quotes, comments and block scalars counts too, a token per word:
// the count is a bound, not the parser's.
func tokenBudget(data []byte, max int) (n, over int) {
	var p2, p1 byte = 0, '\n' // the two bytes before c
	for i, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			switch p1 {
			case ' ', '\t', '\r', '\n', '[', '{', ',', ':':
				if n++; n > max {
					return n, i
				}
			}
		}
		p2, p1 = p1, c
		// yaml.v3 also breaks lines at NEL (U+0085), LS (U+2028) and PS (U+2029).
		if c == 0x85 && p2 == 0xC2 || (c == 0xA8 || c == 0xA9) && p2 == 0x80 && i >= 2 && data[i-2] == 0xE2 {
			p1 = '\n'
		}
	}
	return n, -1
}

// invalidText returns the offset of the first byte that makes data not UTF-8 text, or -1.
func invalidText(data []byte) int {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		if j := firstInvalidUTF8(data[:i]); j >= 0 {
			return j
		}
		return i
	}
	return firstInvalidUTF8(data)
}

func firstInvalidUTF8(data []byte) int {
	if utf8.Valid(data) {
		return -1
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

func lineCol(data []byte, off int) (int, int) {
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return line, col
}

func posOf(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// converter turns a document's node tree into JSON values (for the JSON Schema validator),
// expanding aliases within a budget and refusing what JSON cannot hold.
type converter struct {
	ps       *problems
	expanded int  // nodes visited inside alias expansions
	blown    bool // the alias budget was exceeded (reported once)
	deep     bool // the depth limit was exceeded (reported once)
}

// value converts n. ok is false when n (or something in it) could not be converted; the
// problem has been recorded.
func (c *converter) value(n *yaml.Node, depth int, inAlias bool) (v any, ok bool) {
	if inAlias {
		c.expanded++
		if c.expanded > AliasBudget {
			if !c.blown {
				c.blown = true
				c.ps.add(posOf(n), CodeAliasBudget, "aliases expand to more than %d nodes in this document", AliasBudget)
			}
			return nil, false
		}
	}
	if depth > MaxDepth {
		if !c.deep {
			c.deep = true
			c.ps.add(posOf(n), CodeTooDeep, "nesting deeper than %d levels", MaxDepth)
		}
		return nil, false
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			c.ps.add(posOf(n), CodeYAMLSyntax, "alias %q has no anchor", n.Value)
			return nil, false
		}
		return c.value(n.Alias, depth+1, true)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		ok := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, kv := n.Content[i], n.Content[i+1]
			key, kok := c.key(k)
			if !kok {
				ok = false
				continue
			}
			if _, dup := m[key]; dup {
				c.ps.add(posOf(k), CodeDuplicateKey, "key %q appears twice in this mapping", key)
				ok = false
				continue
			}
			val, vok := c.value(kv, depth+1, inAlias)
			ok = ok && vok
			m[key] = val
		}
		return m, ok
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		ok := true
		for _, e := range n.Content {
			val, vok := c.value(e, depth+1, inAlias)
			ok = ok && vok
			s = append(s, val)
		}
		return s, ok
	case yaml.ScalarNode:
		return c.scalar(n)
	}
	c.ps.add(posOf(n), CodeUnsupportedYAML, "unexpected YAML node")
	return nil, false
}

func (c *converter) key(k *yaml.Node) (string, bool) {
	if k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	if k.Kind != yaml.ScalarNode {
		c.ps.add(posOf(k), CodeUnsupportedYAML, "mapping keys must be strings, not a %s", kindName(k))
		return "", false
	}
	switch k.ShortTag() {
	case "!!str":
		return k.Value, true
	case "!!merge":
		c.ps.add(posOf(k), CodeUnsupportedYAML, "merge keys (<<) are not supported; write the fields out or use an alias for the whole value")
		return "", false
	}
	c.ps.add(posOf(k), CodeUnsupportedYAML, "mapping key %q reads as %s, not a string (quote it)", k.Value, strings.TrimPrefix(k.ShortTag(), "!!"))
	return "", false
}

func (c *converter) scalar(n *yaml.Node) (any, bool) {
	switch tag := n.ShortTag(); tag {
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, true
	case "!!null":
		return nil, true
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			c.ps.add(posOf(n), CodeUnsupportedYAML, "%v", err)
			return nil, false
		}
		return b, true
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, true
		}
		fallthrough
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			c.ps.add(posOf(n), CodeUnsupportedYAML, "%q is not a finite number", n.Value)
			return nil, false
		}
		return f, true
	default:
		c.ps.add(posOf(n), CodeUnsupportedYAML, "tag %s is not supported", tag)
		return nil, false
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

// nodeAt follows a JSON pointer (as the schema validator reports it) through a document.
// It returns the deepest node it reached; with key set, the key node of the last mapping step.
func nodeAt(root *yaml.Node, pointer string, key bool) *yaml.Node {
	n := resolve(root)
	if pointer == "" {
		return n
	}
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch n.Kind {
		case yaml.MappingNode:
			next := (*yaml.Node)(nil)
			for i := 0; i+1 < len(n.Content); i += 2 {
				if resolve(n.Content[i]).Value == tok {
					next = n.Content[i+1]
					if key {
						next = n.Content[i]
					}
					break
				}
			}
			if next == nil {
				return n
			}
			n = resolve(next)
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) {
				return n
			}
			n = resolve(n.Content[i])
		default:
			return n
		}
	}
	return n
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// describe renders a JSON pointer as a field path for messages: /permissions/2 -> permissions[2].
func describe(pointer string) string {
	if pointer == "" {
		return "document"
	}
	var b strings.Builder
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		if _, err := strconv.Atoi(tok); err == nil {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}
