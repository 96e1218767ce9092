package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/edit"
)

// maxSetName is the longest set name the schema allows, in characters.
const maxSetName = 128

type duplicateOptions struct {
	name string
}

func newDuplicateCommand(g *globals) *cobra.Command {
	o := &duplicateOptions{}
	cmd := &cobra.Command{
		Use:   "duplicate SET NEWID [--name NAME]",
		Short: "Copy a permission set under a new id, as an editable custom set",
		Long: `duplicate writes a new set NEWID with SET's description, enabled state and permissions, on the
same instances, named NAME (default: SET's name followed by " (copy)"). The copy is a custom set:
never builtin and never fixed, so a copy of a fixed set (admin) can be edited.

It is written at sets/FIRST/NEWID.yaml, FIRST being the first instance SET's file lists. Refused,
with nothing written: an existing NEWID, and a name another set on one of the instances already
uses (case-insensitively; choose one with --name). When the copy takes an instance over its
limits.maxCustomSets, or the instance's limits.editableSets does not list NEWID, duplicate still
writes it and says so: enforcing limits is plan's job.`,
		Example: `  permsctl duplicate staffer staffer-plus
  permsctl -C examples/nation duplicate admin admin-custom --name "Admin (editable)"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcID, id := args[0], args[1]
			if err := checkID("NEWID", id); err != nil {
				return err
			}
			dir := g.dir(nil)
			l, err := g.loadConfig(cmd.Context(), dir, "", false)
			if err != nil {
				return err
			}
			m := l.result.Model
			src := m.Set(srcID)
			if src == nil {
				return failf("unknown set %q", srcID)
			}
			if s := m.Set(id); s != nil {
				return failf("set %s already exists (%s); choose another NEWID", id, setAt(s))
			}
			name := o.name
			if name == "" {
				name = src.Name + " (copy)"
			}
			if n := utf8.RuneCountInString(name); n > maxSetName || name == "" {
				return failf("the name %q has %d characters; a set's name has 1 to %d: choose one with --name", name, n, maxSetName)
			}
			instances := fileOrder(src.Instances, src.At.Instances)
			for _, inst := range instances {
				if other := nameTaken(m, name, inst, ""); other != nil {
					return failf("the name %q is already used on instance %s by set %s (%s); names are unique per instance, case-insensitively: choose another with --name", name, inst, other.ID, setAt(other))
				}
			}
			path := conventionalPath(instances[0], id)
			data, err := edit.SetDocument(edit.Set{
				Comment: fmt.Sprintf("Copy of set %s (%s).", src.ID, src.Source.File), ID: id, Instances: instances, Name: name,
				Description: src.Description, Enabled: src.Enabled, Permissions: fileOrder(src.Permissions, src.At.Permissions),
			})
			if err != nil {
				return failf("%v", err)
			}
			after, err := g.applyChange(cmd, dir, fileChange{path: path, data: data}, func(m *config.Model) error {
				if s := m.Set(id); s == nil || !slices.Equal(s.Instances, src.Instances) || !slices.Equal(s.Permissions, src.Permissions) {
					return fmt.Errorf("%s would not be loaded as the copy (a hidden directory or %s excludes it)", path, config.IgnoreFile)
				}
				return nil
			})
			if err != nil {
				return err
			}
			g.limitHints(after, id, false, instances)
			_, err = fmt.Fprintf(g.stdout, "duplicated set %s as %s (%s) on %s: wrote %s\n", src.ID, id, name, strings.Join(instances, ", "), path)
			return err
		},
	}
	cmd.Flags().StringVar(&o.name, "name", "", `the copy's display `+"`NAME`"+` (default: "<SET's name> (copy)")`)
	return cmd
}

// fileOrder returns values in the order of their positions in the file (the model sorts them).
func fileOrder(values []string, at []config.Pos) []string {
	idx := make([]int, len(values))
	for i := range idx {
		idx[i] = i
	}
	if len(at) == len(values) {
		slices.SortStableFunc(idx, func(a, b int) int {
			return cmp.Or(cmp.Compare(at[a].Line, at[b].Line), cmp.Compare(at[a].Col, at[b].Col))
		})
	}
	out := make([]string, len(values))
	for i, j := range idx {
		out[i] = values[j]
	}
	return out
}
