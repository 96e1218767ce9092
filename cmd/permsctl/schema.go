package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/atomicfile"
	"github.com/permsets/permsets/schemas"
)

// schemaDir is where init writes the schemas of the config kinds, and where its files'
// modelines and .vscode/settings.json point.
const schemaDir = "schemas"

func newSchemaCommand(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "schema [NAME] | schema -o DIR",
		Short: "Print or write the JSON Schemas of the config kinds and of the JSON outputs",
		Long: `schema prints the JSON Schema NAME: a config kind (Catalog, PermissionSet, ...) or a JSON
output (plan, check, effective, who-can, validate, audit, export, test-report), case-insensitive.
Without NAME it lists the names. -o DIR writes every schema into DIR as NAME.schema.json,
for editors (yaml-language-server) and for checking outputs in CI.`,
		Example: `  permsctl schema permissionset
  permsctl schema -o schemas
  # yaml-language-server: $schema=../schemas/permissionset.schema.json`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return schemaNames(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case out != "" && len(args) > 0:
				return usageError(fmt.Errorf("name a schema or -o DIR, not both"))
			case out != "":
				return writeSchemas(g.path(out), schemaNames())
			case len(args) == 0:
				_, err := fmt.Fprintln(g.stdout, strings.Join(schemaNames(), "\n"))
				return err
			}
			name := strings.ToLower(args[0])
			data, err := schemas.FS.ReadFile(name + ".schema.json")
			if err != nil {
				return usageError(fmt.Errorf("no schema %q; schemas are %s", args[0], strings.Join(schemaNames(), ", ")))
			}
			_, err = g.stdout.Write(data)
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write every schema into `DIR`")
	return cmd
}

// schemaNames are the names of every embedded schema, sorted.
func schemaNames() []string {
	files, _ := fs.Glob(schemas.FS, "*.schema.json")
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(f, ".schema.json")
	}
	return names
}

// writeSchemas writes the named schemas into dir, creating it.
func writeSchemas(dir string, names []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &exitError{code: exitProblems, err: err}
	}
	for _, name := range names {
		data, err := schemas.FS.ReadFile(name + ".schema.json")
		if err != nil {
			return &exitError{code: exitProblems, err: err}
		}
		if err := atomicfile.Write(filepath.Join(dir, name+".schema.json"), 0o644, func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		}); err != nil {
			return &exitError{code: exitProblems, err: err}
		}
	}
	return nil
}

// editorFiles are what init writes for editors: the schema of every config kind under
// schemas/, and a .vscode/settings.json that maps the conventional paths to them.
func editorFiles() (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, kind := range config.Kinds {
		data, err := schemas.FS.ReadFile(config.SchemaFile(kind))
		if err != nil {
			return nil, err
		}
		files[path.Join(schemaDir, config.SchemaFile(kind))] = data
	}
	mapping := map[string][]string{}
	for kind, globs := range kindGlobs {
		mapping[path.Join(schemaDir, config.SchemaFile(kind))] = globs
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"yaml.schemas": mapping}); err != nil {
		return nil, err
	}
	files[".vscode/settings.json"] = b.Bytes()
	return files, nil
}

// kindGlobs are the conventional paths of each kind (README, the layout).
var kindGlobs = map[string][]string{
	config.KindCatalog:       {"catalog.yaml"},
	config.KindInstance:      {"instances/**/*.yaml"},
	config.KindPermissionSet: {"sets/**/*.yaml"},
	config.KindRole:          {"roles/**/*.yaml"},
	config.KindAssignment:    {"assignments/**/*.yaml"},
	config.KindUser:          {"users/**/*.yaml"},
	config.KindRepository:    {"repository.yaml"},
	config.KindTest:          {"tests/**/*.yaml"},
}

// modeline is the first line of a starter file of kind at slash path name: the schema by a
// path relative to the file, so editors other than VS Code find it too.
func modeline(name, kind string) string {
	up := strings.Repeat("../", strings.Count(name, "/"))
	if up == "" {
		up = "./"
	}
	return "# yaml-language-server: $schema=" + up + schemaDir + "/" + config.SchemaFile(kind) + "\n"
}

// kindOfStarter is the kind of a starter YAML file, by the conventional paths.
func kindOfStarter(name string) (string, bool) {
	for _, kind := range config.Kinds {
		for _, glob := range kindGlobs[kind] {
			dir, deep := strings.CutSuffix(glob, "**/*.yaml")
			if glob == name || deep && strings.HasPrefix(name, dir) {
				return kind, true
			}
		}
	}
	return "", false
}
