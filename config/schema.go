package config

import (
	"bytes"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"

	"github.com/permsets/permsets/schemas"
)

// validator holds the compiled JSON Schema of every kind.
type validator struct {
	byKind map[string]*jsonschema.Schema
}

var (
	validatorOnce sync.Once
	validatorErr  error
	theValidator  *validator
)

// kindSchemas returns the compiled schemas, compiling them once per process.
func kindSchemas() (*validator, error) {
	validatorOnce.Do(func() {
		theValidator, validatorErr = compileSchemas(schemas.FS)
	})
	return theValidator, validatorErr
}

// SchemaFile names the schema file of a kind: PermissionSet -> permissionset.schema.json.
func SchemaFile(kind string) string { return strings.ToLower(kind) + ".schema.json" }

func compileSchemas(fsys fs.FS) (*validator, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	for _, kind := range Kinds {
		data, err := fs.ReadFile(fsys, SchemaFile(kind))
		if err != nil {
			return nil, fmt.Errorf("schema of %s: %w", kind, err)
		}
		if err := c.AddResource(schemas.BaseURL+SchemaFile(kind), bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("schema of %s: %w", kind, err)
		}
	}
	v := &validator{byKind: map[string]*jsonschema.Schema{}}
	for _, kind := range Kinds {
		s, err := c.Compile(schemas.BaseURL + SchemaFile(kind))
		if err != nil {
			return nil, fmt.Errorf("schema of %s: %w", kind, err)
		}
		v.byKind[kind] = s
	}
	return v, nil
}

var additionalProps = regexp.MustCompile(`^additionalProperties ('.*') not allowed$`)

// validate checks a document's JSON value against its kind's schema, reporting every leaf
// violation at the position of the offending value (or unknown key).
func (v *validator) validate(kind string, value map[string]any, root *yaml.Node, ps *problems) bool {
	err := v.byKind[kind].Validate(value)
	if err == nil {
		return true
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		ps.add(posOf(root), CodeSchema, "%v", err)
		return false
	}
	all := leaves(ve)
	if everyOne(all, reportedByReader) {
		return true
	}
	for _, leaf := range all {
		where := describe(leaf.InstanceLocation)
		msg := leaf.Message
		node := nodeAt(root, leaf.InstanceLocation, false)
		if m := additionalProps.FindStringSubmatch(msg); m != nil {
			for _, name := range strings.Split(m[1], ", ") {
				name = strings.Trim(name, "'")
				key := nodeAt(root, leaf.InstanceLocation+"/"+escapePointer(name), true)
				ps.add(posOf(key), CodeSchema, "%s: unknown field %q", where, name)
			}
			continue
		}
		if strings.HasPrefix(msg, "expected string, but got number") || strings.HasPrefix(msg, "expected string, but got boolean") {
			msg += " (quote the value)"
		}
		ps.add(posOf(node), CodeSchema, "%s: %s", where, msg)
	}
	return false
}

func everyOne[T any](xs []T, f func(T) bool) bool {
	for _, x := range xs {
		if !f(x) {
			return false
		}
	}
	return true
}

// permissionPattern is the pattern every permission string has in the schemas: the editor's
// first line of defence against "finances export" or "=export". The parser is the definition.
const permissionPattern = `^([a-z][a-z0-9_-]*|\*)=([a-z][a-z0-9_-]*|\*)(\(|$)`

// reportedByReader tells the schema violations the reader reports better, with the character
// at fault: a permission string that does not match permissionPattern (invalid-permission) and
// a date that is not a date-time (invalid-date). The schemas carry them for editors; the reader
// checks every such field itself. They are dropped only when a document has no other
// violation, since only then does the reader run; otherwise the schema's messages stay.
func reportedByReader(leaf *jsonschema.ValidationError) bool {
	switch {
	case strings.HasSuffix(leaf.KeywordLocation, "/pattern"):
		return leaf.Message == "does not match pattern "+schemaQuote(permissionPattern)
	case strings.HasSuffix(leaf.KeywordLocation, "/format"):
		return strings.HasSuffix(leaf.Message, " is not valid 'date-time'")
	}
	return false
}

// leaves flattens a validation error tree into the errors that have no causes.
func leaves(ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return []*jsonschema.ValidationError{ve}
	}
	var out []*jsonschema.ValidationError
	for _, c := range ve.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// schemaQuote quotes s the way the schema library's messages do.
func schemaQuote(s string) string {
	s = strconv.Quote(s)
	s = strings.ReplaceAll(s, `\"`, `"`)
	s = strings.ReplaceAll(s, `'`, `\'`)
	return "'" + s[1:len(s)-1] + "'"
}
