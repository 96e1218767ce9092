package config

import (
	"bytes"
	"fmt"
	"io/fs"
	"regexp"
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
	for _, leaf := range leaves(ve) {
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
