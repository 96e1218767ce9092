package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/permsets/permsets/edit"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/examples"
)

// idPattern is the pattern of every id (docs/config.md).
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// checkID is a usage error when a flag or argument is not a valid id.
func checkID(what, id string) error {
	if !idPattern.MatchString(id) {
		return usageError(fmt.Errorf("%s %q is not an id: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters", what, id))
	}
	return nil
}

type initOptions struct {
	instance, owner string
}

func newInitCommand(g *globals) *cobra.Command {
	o := &initOptions{}
	cmd := &cobra.Command{
		Use:   "init DIR --instance ID --owner USER",
		Short: "Write a starter config repository",
		Long: `init writes a new config repository in DIR: a catalog, the instance, its two builtin sets
(admin: fixed, *=*; staffer: no settings access, cannot manage users), the owner as a User who is
a system admin and holds admin, the CI workflow that plans pull requests and applies main
(.github/workflows/permsets.yml, with the permsctl version it pins in .permsets-version), a
starter decision test, the JSON Schemas of every kind in schemas/ with a modeline at the top of
each file and a .vscode/settings.json mapping for editors, and a README. DIR must not exist or be empty; nothing is written unless all of it is.

For --instance prod --owner owner it writes exactly examples/ci. The README names DIR as given.`,
		Example: `  permsctl init access --instance prod --owner alice
  permsctl validate access
  permsctl plan access --base empty --actor alice --bootstrap`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkID("--instance", o.instance); err != nil {
				return err
			}
			if err := checkID("--owner", o.owner); err != nil {
				return err
			}
			files, err := starterFiles(args[0], o.instance, o.owner)
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			dir := g.dir(args)
			if err := writeNewTree(dir, files); err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			var b strings.Builder
			fmt.Fprintf(&b, "initialized %s: instance %s, owner %s (system admin, holds admin)\n", dir, o.instance, o.owner)
			for _, name := range slices.Sorted(maps.Keys(files)) {
				fmt.Fprintf(&b, "  %s\n", name)
			}
			fmt.Fprintf(&b, "next: permsctl validate %s; commit it; the first plan is permsctl plan %s --base empty --actor %s --bootstrap\n", dir, dir, o.owner)
			_, err = io.WriteString(g.stdout, b.String())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.instance, "instance", "", "the `ID` of the first instance (required)")
	f.StringVar(&o.owner, "owner", "", "the user `ID` of the owner: a system admin who holds admin (required)")
	_ = cmd.MarkFlagRequired("instance")
	_ = cmd.MarkFlagRequired("owner")
	return cmd
}

// starterData is what the templates of init_templates.go are rendered with.
type starterData struct {
	Dir, Instance, InstanceName, Owner, AssignmentID string
}

// starterFiles renders the starter repository: slash paths to contents.
func starterFiles(dirArg, instance, owner string) (map[string][]byte, error) {
	d := starterData{Dir: readmeDir(dirArg), Instance: instance, InstanceName: instanceName(instance), Owner: owner,
		AssignmentID: owner + "-" + instance}
	if !idPattern.MatchString(d.AssignmentID) {
		d.AssignmentID = owner // too long together; one assignment, so the owner's id is unique
	}
	files := map[string][]byte{
		examples.CIWorkflowPath: examples.CIWorkflow,
		".permsets-version":     []byte("v" + engine.Version + "\n"),
	}
	for name, text := range map[string]string{
		"README.md":                          initReadme,
		"catalog.yaml":                       initCatalog,
		"instances/" + instance + ".yaml":    initInstance,
		"sets/" + instance + "/admin.yaml":   initAdmin,
		"sets/" + instance + "/staffer.yaml": initStaffer,
		"users/" + owner + ".yaml":           initUser,
		"assignments/" + owner + ".yaml":     initAssignment,
		"tests/access.yaml":                  initTest,
	} {
		t, err := template.New(name).Funcs(template.FuncMap{"yaml": yamlScalar}).Option("missingkey=error").Parse(text)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, d); err != nil {
			return nil, err
		}
		if kind, ok := kindOfStarter(name); ok {
			files[name] = append([]byte(modeline(name, kind)), b.Bytes()...)
		} else {
			files[name] = b.Bytes()
		}
	}
	editor, err := editorFiles()
	if err != nil {
		return nil, err
	}
	maps.Copy(files, editor)
	return files, nil
}

// yamlScalar renders s as a YAML string scalar: plain where YAML reads it back as that string,
// quoted otherwise (an id such as 123, true or null).
func yamlScalar(s string) (string, error) {
	b, err := yaml.Marshal(s) // also quotes what YAML 1.1 reads as a bool (yes, on, ...)
	return strings.TrimSuffix(string(b), "\n"), err
}

// instanceName is the display name init gives an instance: common abbreviations spelled out,
// otherwise the id with a capital letter. It may be changed freely afterwards.
func instanceName(id string) string {
	switch id {
	case "prod", "production":
		return "Production"
	case "stage", "staging", "stg":
		return "Staging"
	case "dev", "development":
		return "Development"
	case "qa":
		return "QA"
	}
	return strings.ToUpper(id[:1]) + id[1:]
}

var readmeUnsafe = regexp.MustCompile(`[^A-Za-z0-9._/-]`)

// readmeDir is how the README names the repository: DIR as given, when it is a plain relative
// path; otherwise its last element.
func readmeDir(arg string) string {
	p := filepath.ToSlash(filepath.Clean(arg))
	if filepath.IsAbs(arg) || p == "." || p == ".." || strings.HasPrefix(p, "../") {
		if abs, err := filepath.Abs(arg); err == nil {
			p = filepath.Base(abs)
		}
	}
	if p = readmeUnsafe.ReplaceAllString(p, "-"); p == "" || p == "." || p == "/" {
		return "this repository"
	}
	return p
}

// writeNewTree writes files into the new directory dir: all of them into a hidden directory
// beside it, which is then renamed to dir, so dir holds either the whole tree or nothing. dir may
// exist as an empty directory (not a symbolic link); anything else there is refused.
func writeNewTree(dir string, files map[string][]byte) error {
	replaceEmpty := false
	switch info, err := os.Lstat(dir); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case info.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; init writes a new directory", dir)
	case !info.IsDir():
		return fmt.Errorf("%s exists and is not a directory", dir)
	default:
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		if len(entries) > 0 {
			return fmt.Errorf("%s exists and is not empty; init writes a new repository: name a new or empty directory", dir)
		}
		replaceEmpty = true
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".init-*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if _, err := edit.CreateFile(root, path.Clean(name), files[name]); err != nil {
			return err
		}
	}
	if replaceEmpty {
		if err := os.Remove(dir); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if replaceEmpty {
			_ = os.Mkdir(dir, 0o755)
		}
		return err
	}
	done = true
	return nil
}
