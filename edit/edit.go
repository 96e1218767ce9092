// Package edit changes config files for the authoring commands of permsctl (init, import,
// duplicate): it renders new permission-set documents, edits existing documents as yaml.Node
// trees (keeping comments and key order), checks a change against the loader before it touches
// the disk (Overlay), and writes files confined to the config root with os.Root, each one
// written aside and moved into place so a failure never leaves half a file.
//
// What an edit may change in a file's formatting is written down in docs/authoring.md.
package edit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/permsets/permsets/config"
)

// Set is the content of a new PermissionSet document.
type Set struct {
	// Comment is written above the document (without '#'); may span lines; may be empty.
	Comment     string
	ID          string
	Instances   []string
	Name        string
	Description string
	Enabled     bool // false writes enabled: false; true (the default) writes nothing
	Builtin     bool
	Fixed       bool
	Permissions []string
}

// SetDocument renders s as one PermissionSet document in the layout of the examples: a flow list
// of instances, a block list of permissions, a long description folded (>-) at about 100
// columns. Scalars are quoted only where YAML would read them as something other than a string.
// The result is parsed back and compared with s before it is returned.
func SetDocument(s Set) ([]byte, error) {
	var b strings.Builder
	if c := strings.TrimSpace(s.Comment); c != "" {
		for _, l := range strings.Split(c, "\n") {
			// Nothing but printable characters: YAML ends a comment at \r, NEL, LS and PS too.
			l = strings.Map(func(r rune) rune {
				if r != ' ' && !unicode.IsPrint(r) {
					return '?'
				}
				return r
			}, l)
			b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
		}
	}
	field := func(key string, v *yaml.Node) error {
		text, err := scalarText(v, false)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s: %s\n", key, text)
		return nil
	}
	fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\n", config.APIVersion, config.KindPermissionSet)
	if err := field("id", str(s.ID)); err != nil {
		return nil, err
	}
	items := make([]string, 0, len(s.Instances))
	for _, in := range s.Instances {
		text, err := scalarText(str(in), true)
		if err != nil {
			return nil, err
		}
		items = append(items, text)
	}
	fmt.Fprintf(&b, "instances: [%s]\n", strings.Join(items, ", "))
	if err := field("name", str(s.Name)); err != nil {
		return nil, err
	}
	if s.Description != "" {
		if folded, ok := fold(s.Description, 2, 100); ok {
			fmt.Fprintf(&b, "description: >-\n%s", folded)
		} else if err := field("description", str(s.Description)); err != nil {
			return nil, err
		}
	}
	if !s.Enabled {
		b.WriteString("enabled: false\n")
	}
	if s.Builtin {
		b.WriteString("builtin: true\n")
	}
	if s.Fixed {
		b.WriteString("fixed: true\n")
	}
	b.WriteString("permissions:\n")
	for _, p := range s.Permissions {
		text, err := scalarText(str(p), false)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "  - %s\n", text)
	}
	out := []byte(b.String())
	if err := sameSet(out, s); err != nil {
		return nil, err
	}
	return out, nil
}

// sameSet checks that a rendered document reads back as s.
func sameSet(doc []byte, s Set) error {
	var got struct {
		APIVersion  string   `yaml:"apiVersion"`
		Kind        string   `yaml:"kind"`
		ID          string   `yaml:"id"`
		Instances   []string `yaml:"instances"`
		Name        string   `yaml:"name"`
		Description string   `yaml:"description"`
		Enabled     *bool    `yaml:"enabled"`
		Builtin     bool     `yaml:"builtin"`
		Fixed       bool     `yaml:"fixed"`
		Permissions []string `yaml:"permissions"`
	}
	if err := yaml.Unmarshal(doc, &got); err != nil {
		return fmt.Errorf("rendering the set: %v", err)
	}
	enabled := got.Enabled == nil || *got.Enabled
	if got.APIVersion != config.APIVersion || got.Kind != config.KindPermissionSet || got.ID != s.ID || got.Name != s.Name ||
		got.Description != s.Description || enabled != s.Enabled || got.Builtin != s.Builtin || got.Fixed != s.Fixed ||
		!slices.Equal(got.Instances, s.Instances) || !slices.Equal(got.Permissions, s.Permissions) {
		return fmt.Errorf("rendering set %s: the YAML does not read back as the set", s.ID)
	}
	return nil
}

// fold renders text as the lines of a folded block scalar (indented, wrapped at width), when it
// is long, one line, and folding keeps it exactly (single spaces, nothing YAML treats specially).
func fold(text string, indent, width int) (string, bool) {
	if len(text) <= width-len("description: ") || strings.ContainsAny(text, "\n\r\t") || strings.Contains(text, "  ") ||
		strings.TrimSpace(text) != text {
		return "", false
	}
	for _, r := range text {
		if !unicode.IsPrint(r) {
			return "", false
		}
	}
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	line := pad
	for _, w := range strings.Split(text, " ") {
		if line != pad && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = pad
		}
		if line != pad {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
	return b.String(), true
}

func str(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

// ErrNotEditable is wrapped by the errors of AppendToList when the document cannot be edited
// safely by a program (an alias, a merge key, a value of the wrong shape): edit it by hand.
var ErrNotEditable = errors.New("not editable automatically")

// AppendToList returns src with value appended to the list under the top-level key of document
// doc (numbered from 1 as the loader numbers them, empty documents included).
//
// The file is parsed into yaml.Node trees and the list node is changed there. When the list is
// written in the usual way (a flow list on one line, or a block list of one-line items), the new
// item is spliced into the original text and the result is checked to parse to exactly the
// edited tree: every other byte of the file stays as it was. Otherwise the edited tree is encoded
// again (reformatted is true): comments, key order, quoting and list styles are kept, but
// indentation, blank lines and line wrapping may change; docs/authoring.md lists what.
//
// An error wraps ErrNotEditable when the list is an alias, carries an anchor, comes through a
// merge key or holds anything but strings.
func AppendToList(src []byte, doc int, key, value string) (out []byte, reformatted bool, err error) {
	defer func() {
		// yaml.v3 reports some errors by panicking; a bad file is an error here, not a crash.
		if r := recover(); r != nil {
			out, reformatted, err = nil, false, fmt.Errorf("yaml: %v", r)
		}
	}()
	docs, list, err := findList(src, doc, key)
	if err != nil {
		return nil, false, err
	}
	item := str(value)
	if n := len(list.Content); n > 0 {
		item.Style = list.Content[n-1].Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
	}
	spliced, ok := splice(src, list, item)
	list.Content = append(list.Content, item)
	want, err := encode(docs, 2)
	if err != nil {
		return nil, false, err
	}
	if ok {
		if got, err := parse(spliced); err == nil {
			if enc, err := encode(got, 2); err == nil && bytes.Equal(enc, want) {
				return spliced, false, nil
			}
		}
	}
	out, err = encode(docs, indentOf(src))
	return out, true, err
}

// findList parses src and finds the list to edit.
func findList(src []byte, doc int, key string) ([]*yaml.Node, *yaml.Node, error) {
	docs, err := parse(src)
	if err != nil {
		return nil, nil, err
	}
	if doc < 1 || doc > len(docs) {
		return nil, nil, fmt.Errorf("document %d: the file has %d", doc, len(docs))
	}
	d := docs[doc-1]
	if d.Kind != yaml.DocumentNode || len(d.Content) != 1 || d.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("document %d is not a mapping: %w", doc, ErrNotEditable)
	}
	m := d.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			return nil, nil, fmt.Errorf("line %d: a merge key (<<): %w", k.Line, ErrNotEditable)
		}
		if k.Kind == yaml.ScalarNode && k.Value == key {
			list = v
		}
	}
	if list == nil {
		return nil, nil, fmt.Errorf("document %d has no %s: %w", doc, key, ErrNotEditable)
	}
	at := fmt.Sprintf("line %d: %s", list.Line, key)
	switch {
	case list.Kind == yaml.AliasNode:
		return nil, nil, fmt.Errorf("%s is an alias (*%s): %w", at, list.Value, ErrNotEditable)
	case list.Anchor != "":
		return nil, nil, fmt.Errorf("%s carries an anchor (&%s) other values may share: %w", at, list.Anchor, ErrNotEditable)
	case list.Kind != yaml.SequenceNode:
		return nil, nil, fmt.Errorf("%s is not a list: %w", at, ErrNotEditable)
	}
	for _, it := range list.Content {
		if it.Kind != yaml.ScalarNode || it.Anchor != "" {
			return nil, nil, fmt.Errorf("line %d: %s holds something other than plain strings: %w", it.Line, key, ErrNotEditable)
		}
	}
	return docs, list, nil
}

// splice inserts item into the source text of list, or reports that the list is not written in
// a way it handles. The caller checks the result.
func splice(src []byte, list, item *yaml.Node) ([]byte, bool) {
	lines := strings.SplitAfter(string(src), "\n")
	text, err := scalarText(item, list.Style&yaml.FlowStyle != 0)
	if err != nil || list.Line < 1 || list.Line > len(lines) {
		return nil, false
	}
	if list.Style&yaml.FlowStyle != 0 {
		line := lines[list.Line-1]
		open := byteOffset(line, list.Column-1)
		if open < 0 || open >= len(line) || line[open] != '[' {
			return nil, false
		}
		at := open + 1 // insert here
		sep := ""
		if n := len(list.Content); n > 0 {
			last := list.Content[n-1]
			if last.Line != list.Line {
				return nil, false
			}
			start := byteOffset(line, last.Column-1)
			if at = tokenEnd(line, start); at < 0 {
				return nil, false
			}
			sep = ", "
		}
		lines[list.Line-1] = line[:at] + sep + text + line[at:]
		return []byte(strings.Join(lines, "")), true
	}
	last := list.Content[len(list.Content)-1]
	if last.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || last.Line < 1 || last.Line > len(lines) {
		return nil, false
	}
	line := lines[last.Line-1]
	cut := byteOffset(line, last.Column-1)
	if cut < 0 {
		return nil, false
	}
	prefix := line[:cut]
	if p := strings.TrimRight(prefix, " "); !strings.HasSuffix(p, "-") || strings.TrimLeft(p, " ") != "-" {
		return nil, false
	}
	eol := "\n"
	if strings.HasSuffix(line, "\r\n") {
		eol = "\r\n"
	}
	if !strings.HasSuffix(line, "\n") {
		lines[last.Line-1] = line + eol
	}
	rest := append([]string{prefix + text + eol}, lines[last.Line:]...)
	lines = append(lines[:last.Line], rest...)
	return []byte(strings.Join(lines, "")), true
}

// scalarText renders a string scalar as YAML source, quoted where needed (in a flow list, also
// where a plain scalar would end early).
func scalarText(n *yaml.Node, flow bool) (string, error) {
	var v any = n
	if n.Style == 0 {
		v = n.Value // yaml.v3 then also quotes what YAML 1.1 reads as a bool (yes, on, ...)
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	s := strings.TrimSuffix(string(b), "\n")
	if strings.Contains(s, "\n") {
		if n.Style == yaml.DoubleQuotedStyle {
			return "", fmt.Errorf("%q does not fit on one line", n.Value)
		}
		q := *n
		q.Style = yaml.DoubleQuotedStyle // newlines escaped as \n
		return scalarText(&q, false)
	}
	if flow && n.Style == 0 && strings.ContainsAny(s, ",[]{}#") {
		q := *n
		q.Style = yaml.DoubleQuotedStyle
		return scalarText(&q, false)
	}
	return s, nil
}

// byteOffset converts a 0-based column (yaml.v3 counts characters) into a byte offset in line.
func byteOffset(line string, col int) int {
	if col < 0 {
		return -1
	}
	i := 0
	for n := 0; n < col; n++ {
		if i >= len(line) {
			return -1
		}
		_, size := utf8.DecodeRuneInString(line[i:])
		i += size
	}
	return i
}

// tokenEnd returns the offset just after the flow scalar starting at start, or -1.
func tokenEnd(line string, start int) int {
	if start < 0 || start >= len(line) {
		return -1
	}
	switch line[start] {
	case '\'':
		for i := start + 1; i < len(line); i++ {
			if line[i] == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
		return -1
	case '"':
		for i := start + 1; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return -1
	}
	i := start
	for i < len(line) && !strings.ContainsRune(",]\r\n", rune(line[i])) {
		i++
	}
	for i > start && line[i-1] == ' ' {
		i--
	}
	return i
}

// parse reads every document of src, empty ones included, without expanding aliases.
func parse(src []byte) ([]*yaml.Node, error) {
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		n := &yaml.Node{}
		err := dec.Decode(n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, n)
	}
}

func encode(docs []*yaml.Node, indent int) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(indent)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// indentOf guesses a file's indentation: the smallest indent of a line that is indented, not a
// comment and not a list item's continuation; 2 when nothing is indented.
func indentOf(src []byte) int {
	best := 0
	for _, line := range strings.Split(string(src), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		n := len(line) - len(trimmed)
		if n == 0 || trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if best == 0 || n < best {
			best = n
		}
	}
	if best < 2 || best > 8 {
		return 2
	}
	return best
}
