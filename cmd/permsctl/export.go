package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/permsets/permsets/config"
)

// exportDoc is one permission set as `permsctl export` writes it and `permsctl import` reads it
// (schemas/export.schema.json). builtin and fixed are not carried: an imported set is custom.
type exportDoc struct {
	FormatVersion string `json:"format_version"`
	revisionInfo
	Instance    string   `json:"instance"`
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Enabled     bool     `json:"enabled"`
	Permissions []string `json:"permissions"`
}

type exportOptions struct {
	instance, out, rev string
}

func newExportCommand(g *globals) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export [--instance I] SET [-o FILE]",
		Short: "Write one permission set as JSON, for import into another instance or repository",
		Long: `export writes the permission set SET as it is on one instance: its id, name, description,
whether it is enabled, and its permissions, with the exporting instance and the revision it was
read from (schemas/export.schema.json). A set that exists on several instances needs --instance.
The output goes to stdout, or with -o to FILE (written aside and renamed; relative to -C).
permsctl import reads it.`,
		Example: `  permsctl -C examples/nation export finance
  permsctl -C examples/nation export admin --instance hq -o admin.json
  permsctl export staffer --rev live`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.instance != "" {
				if err := checkID("--instance", o.instance); err != nil {
					return err
				}
			}
			l, err := g.loadConfig(cmd.Context(), g.dir(nil), o.rev, false)
			if err != nil {
				return err
			}
			doc, err := exportSet(l, args[0], o.instance)
			if err != nil {
				return err
			}
			if o.out == "" {
				return writeJSON(g.stdout, doc)
			}
			out := g.path(o.out)
			if err := writeFileAtomic(out, func(w io.Writer) error { return writeJSON(w, doc) }); err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			_, err = fmt.Fprintf(g.stdout, "wrote %s: set %s of instance %s, revision %s\n", out, doc.ID, doc.Instance, doc.Revision)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.instance, "instance", "", "the instance `ID` to export from (required when the set is on several)")
	f.StringVarP(&o.out, "output", "o", "", "write to `FILE` instead of stdout")
	f.StringVar(&o.rev, "rev", "", "export from this Git revision of the repository instead of the working tree")
	return cmd
}

// exportSet finds the set and the instance to export it from.
func exportSet(l *loaded, id, instance string) (*exportDoc, error) {
	m := l.result.Model
	s := m.Set(id)
	if s == nil {
		return nil, &exitError{code: exitProblems, err: fmt.Errorf("unknown set %q", id)}
	}
	at := setAt(s)
	switch {
	case instance == "" && len(s.Instances) > 1:
		return nil, usageError(fmt.Errorf("set %s (%s) is on %d instances (%s): pass --instance", id, at, len(s.Instances), strings.Join(s.Instances, ", ")))
	case instance == "":
		instance = s.Instances[0]
	case m.Instance(instance) == nil:
		return nil, &exitError{code: exitProblems, err: fmt.Errorf("unknown instance %q", instance)}
	case !slices.Contains(s.Instances, instance):
		return nil, &exitError{code: exitProblems, err: fmt.Errorf("set %s (%s) is not on instance %s; it is on %s", id, at, instance, strings.Join(s.Instances, ", "))}
	}
	perms := append([]string{}, s.Permissions...)
	return &exportDoc{FormatVersion: FormatVersion, revisionInfo: l.info(), Instance: instance, ID: s.ID, Name: s.Name,
		Description: s.Description, Enabled: s.Enabled, Permissions: perms}, nil
}

// setAt names where a set is declared, as file:line.
func setAt(s *config.PermissionSet) string { return fmt.Sprintf("%s:%d", s.Source.File, s.Source.Line) }
