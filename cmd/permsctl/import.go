package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"github.com/spf13/cobra"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/edit"
	"github.com/permsets/permsets/schemas"
)

// Limits of an export file read by import.
const (
	maxExportFile  = 1 << 20 // 1 MiB: a set with thousands of permissions fits many times over
	maxExportDepth = 16      // the format is two levels deep
)

type importOptions struct {
	instance, id string
}

func newImportCommand(g *globals) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import --instance I FILE [--id NEW]",
		Short: "Add a permission set exported with permsctl export to an instance",
		Long: `import reads FILE, written by permsctl export (schemas/export.schema.json; at most 1 MiB;
- reads stdin), and adds its set to instance I of the config repository (-C or the current
directory; FILE is relative to -C too):

- no set has the id: the set is written as YAML at the conventional path sets/I/ID.yaml, as a
  custom set (not builtin, not fixed);
- a set with the id exists with the same name, description, enabled and permissions: I is added
  to its instances, editing its file in place (comments and key order are kept; see
  docs/authoring.md);
- a set with the id exists with other content: refused; import it under a new id with --id.

Also refused, with nothing written: a name another set on I already uses (case-insensitively),
permissions the catalog does not know, an unknown instance, and a path that leads out of the
repository. The change is checked with the loader before anything is written, and the
repository is loaded again afterwards; if it does not validate, the file is put back.`,
		Example: `  permsctl -C examples/nation export finance -o finance.json
  permsctl -C examples/nation import --instance hq finance.json
  permsctl import --instance prod finance.json --id finance-reporting`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkID("--instance", o.instance); err != nil {
				return err
			}
			if o.id != "" {
				if err := checkID("--id", o.id); err != nil {
					return err
				}
			}
			name, r := args[0], io.Reader(nil)
			if name == "-" {
				name, r = "stdin", cmd.InOrStdin()
			} else {
				name = g.path(name)
				f, err := os.Open(name)
				if err != nil {
					return &exitError{code: exitProblems, err: err}
				}
				defer f.Close()
				r = f
			}
			doc, err := readExport(name, r)
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			return runImport(cmd, g, doc, name, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.instance, "instance", "", "the instance `ID` to add the set to (required)")
	f.StringVar(&o.id, "id", "", "import under this set `ID` instead of the file's")
	_ = cmd.MarkFlagRequired("instance")
	return cmd
}

func runImport(cmd *cobra.Command, g *globals, doc *exportDoc, file string, o *importOptions) error {
	dir := g.dir(nil)
	l, err := g.loadConfig(cmd.Context(), dir, "", false)
	if err != nil {
		return err
	}
	m := l.result.Model
	inst := o.instance
	if m.Instance(inst) == nil {
		return failf("unknown instance %q; the instances are %s", inst, instanceList(m))
	}
	id := doc.ID
	if o.id != "" {
		id = o.id
	}
	perms, err := canonicalPermissions(doc.Permissions)
	if err != nil {
		return failf("%s: %v", file, err)
	}
	existing := m.Set(id)
	if existing == nil {
		if other := nameTaken(m, doc.Name, inst, ""); other != nil {
			return failf("the name %q is already used on instance %s by set %s (%s); names are unique per instance, case-insensitively: rename one of them", doc.Name, inst, other.ID, setAt(other))
		}
		path := conventionalPath(inst, id)
		comment := fmt.Sprintf("Imported from %s: set %s of instance %s, revision %s.", filepath.Base(file), doc.ID, doc.Instance, doc.Revision)
		data, err := edit.SetDocument(edit.Set{Comment: comment, ID: id, Instances: []string{inst}, Name: doc.Name,
			Description: doc.Description, Enabled: doc.Enabled, Permissions: doc.Permissions})
		if err != nil {
			return failf("%v", err)
		}
		after, err := g.applyChange(cmd, dir, fileChange{path: path, data: data}, func(m *config.Model) error {
			if s := m.Set(id); s == nil || !slices.Equal(s.Instances, []string{inst}) {
				return fmt.Errorf("%s would not be loaded (a hidden directory or %s excludes it)", path, config.IgnoreFile)
			}
			return nil
		})
		if err != nil {
			return err
		}
		g.limitHints(after, id, false, []string{inst})
		_, err = fmt.Fprintf(g.stdout, "imported set %s (%s) to instance %s: wrote %s\n", id, doc.Name, inst, path)
		return err
	}
	if diff := contentDiff(existing, doc, perms); diff != "" {
		hint := ""
		if o.id == "" {
			hint = "; import it under a new id with --id"
		}
		return failf("set %s already exists (%s) and differs from the file in: %s%s", id, setAt(existing), diff, hint)
	}
	if slices.Contains(existing.Instances, inst) {
		_, err := fmt.Fprintf(g.stdout, "set %s (%s) is already on instance %s, with the same content; nothing to do\n", id, setAt(existing), inst)
		return err
	}
	if other := nameTaken(m, existing.Name, inst, id); other != nil {
		return failf("set %s is named %q, which set %s (%s) already uses on instance %s; names are unique per instance, case-insensitively", id, existing.Name, other.ID, setAt(other), inst)
	}
	path := existing.Source.File
	root, err := os.OpenRoot(dir)
	if err != nil {
		return failf("config root: %v", err)
	}
	src, err := root.ReadFile(path)
	root.Close()
	if err != nil {
		return failf("%s: %v", path, err)
	}
	data, reformatted, err := edit.AppendToList(src, existing.Source.Doc, "instances", inst)
	if err != nil {
		return failf("%s:%d: cannot add instance %s to set %s: %v; add it by hand", path, existing.Source.Line, inst, id, err)
	}
	after, err := g.applyChange(cmd, dir, fileChange{path: path, data: data, previous: src}, func(m *config.Model) error {
		if s := m.Set(id); s == nil || !slices.Contains(s.Instances, inst) {
			return fmt.Errorf("set %s is not on instance %s after the edit of %s", id, inst, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	g.limitHints(after, id, existing.Builtin, []string{inst})
	if reformatted {
		fmt.Fprintf(g.stderr, "hint: %s was encoded again by the YAML library: indentation, blank lines or line wrapping may have changed (docs/authoring.md)\n", path)
	}
	_, err = fmt.Fprintf(g.stdout, "added instance %s to set %s (%s): edited %s\n", inst, id, existing.Name, path)
	return err
}

func failf(format string, args ...any) error {
	return &exitError{code: exitProblems, err: fmt.Errorf(format, args...)}
}

// conventionalPath is where permsctl init, import and duplicate put a set: sets/INSTANCE/ID.yaml.
func conventionalPath(instance, id string) string { return "sets/" + instance + "/" + id + ".yaml" }

func instanceList(m *config.Model) string {
	var ids []string
	for _, in := range m.Instances {
		ids = append(ids, in.ID)
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// nameTaken returns a set other than except on instance whose name equals name, ignoring case.
func nameTaken(m *config.Model, name, instance, except string) *config.PermissionSet {
	for _, s := range m.Sets {
		if s.ID != except && slices.Contains(s.Instances, instance) && strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// canonicalPermissions parses permissions and returns them in canonical form, sorted.
func canonicalPermissions(raw []string) ([]string, error) {
	out := make([]string, 0, len(raw))
	for i, r := range raw {
		p, err := config.ParsePermission(r)
		if err != nil {
			return nil, fmt.Errorf("permissions[%d]: %v", i, err)
		}
		out = append(out, p.String())
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// contentDiff names what differs between a set and an export ("" when nothing does). The model
// holds permissions canonical and sorted, as perms is.
func contentDiff(s *config.PermissionSet, doc *exportDoc, perms []string) string {
	var diff []string
	if s.Name != doc.Name {
		diff = append(diff, fmt.Sprintf("name (%q, the file has %q)", s.Name, doc.Name))
	}
	if s.Description != doc.Description {
		diff = append(diff, "description")
	}
	if s.Enabled != doc.Enabled {
		diff = append(diff, fmt.Sprintf("enabled (%t, the file has %t)", s.Enabled, doc.Enabled))
	}
	if !slices.Equal(s.Permissions, perms) {
		diff = append(diff, "permissions")
	}
	return strings.Join(diff, ", ")
}

// readExport reads and checks an export file: size, UTF-8, JSON syntax, duplicate keys, depth,
// then the schema. Every error names the file.
func readExport(name string, r io.Reader) (*exportDoc, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxExportFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(data) > maxExportFile {
		return nil, fmt.Errorf("%s: larger than the limit of %d bytes (1 MiB) for an export file", name, maxExportFile)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not UTF-8 text; an export file is JSON written by permsctl export", name)
	}
	if err := checkJSON(data); err != nil {
		return nil, fmt.Errorf("%s:%v", name, err)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	schema, err := exportSchema()
	if err != nil {
		return nil, err
	}
	if err := schema.Validate(v); err != nil {
		return nil, fmt.Errorf("%s: not an export of permsctl (schemas/export.schema.json): %s", name, schemaErrors(err))
	}
	doc := &exportDoc{}
	strict := json.NewDecoder(bytes.NewReader(data))
	strict.DisallowUnknownFields()
	if err := strict.Decode(doc); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return doc, nil
}

// checkJSON checks that data is one JSON value, with no key twice in an object (decoders
// disagree on which one wins) and nested at most maxExportDepth deep. Errors start with
// "LINE:COL: ".
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	at := func(off int64) string {
		before := data[:min(int(off), len(data))]
		line := bytes.Count(before, []byte{'\n'}) + 1
		col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
		return fmt.Sprintf("%d:%d", line, col)
	}
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next token of an object is a key
	}
	var stack []*frame
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				return fmt.Errorf("%s: invalid JSON: the file ends inside %s", at(int64(len(data))), plural(len(stack), "open bracket"))
			}
			if off == 0 && len(bytes.TrimSpace(data)) == 0 {
				return fmt.Errorf("1:1: empty file; an export file is JSON written by permsctl export")
			}
			return nil
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return fmt.Errorf("%s: invalid JSON: %v", at(se.Offset), err)
			}
			return fmt.Errorf("%s: invalid JSON: %v", at(dec.InputOffset()), err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return fmt.Errorf("%s: key %q appears twice in this object", at(off), k)
				}
				top.keys[k] = true
				top.key = false
				continue
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxExportDepth {
					return fmt.Errorf("%s: nested deeper than %d levels", at(off), maxExportDepth)
				}
				stack = append(stack, &frame{object: t == '{', keys: map[string]bool{}, key: t == '{'})
				continue
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		}
		if len(stack) == 0 {
			if dec.More() {
				return fmt.Errorf("%s: more than one JSON value", at(dec.InputOffset()))
			}
		} else if top := stack[len(stack)-1]; top.object {
			top.key = true
		}
	}
}

var exportSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	const name = "export.schema.json"
	data, err := schemas.FS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	if err := c.AddResource(name, bytes.NewReader(data)); err != nil {
		return nil, err
	}
	return c.Compile(name)
})

// schemaErrors renders a validation error as its leaf causes: "at /permissions/0: ...".
func schemaErrors(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := e.InstanceLocation
			if loc == "" {
				loc = "/"
			}
			out = append(out, fmt.Sprintf("at %s: %s", loc, e.Message))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("and %d more", len(out)-5))
	}
	return strings.Join(out, "; ")
}
