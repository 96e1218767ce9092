package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/permsets/permsets/internal/textfmt"
)

func newWhoCanCommand(g *globals) *cobra.Command {
	o := &listingOptions{}
	cmd := &cobra.Command{
		Use:   "who-can PERMISSION --instance I",
		Short: "List every user allowed a permission on an instance, and how they hold it",
		Long: `who-can is the reverse lookup: every user allowed PERMISSION on the instance now (or at
--time), with the sets that grant it and whether they hold each directly or through a role.
Scoped grants count only with a --resource they cover.`,
		Example: `  permsctl -C examples/nation who-can finances=export --instance campaign`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := formatFlag(o.format, "text", "json"); err != nil {
				return err
			}
			if o.instance == "" {
				return usageError(fmt.Errorf("--instance must not be empty"))
			}
			if err := checkPermissionArg(args[0]); err != nil {
				return usageError(err)
			}
			input := map[string]any{"instance": o.instance, "permission": args[0]}
			if err := addResource(input, o.resource); err != nil {
				return usageError(err)
			}
			l, err := o.load(cmd.Context(), g, input)
			if err != nil {
				return err
			}
			if !l.bundle.KnownPermission(args[0]) {
				return &exitError{code: exitProblems, err: fmt.Errorf("the catalog has no permission %s", args[0])}
			}
			res, err := l.eval(cmd.Context(), "who_can", input)
			if err != nil {
				return err
			}
			users := asList(res)
			if o.format == "json" {
				return writeJSON(g.stdout, struct {
					FormatVersion string `json:"format_version"`
					revisionInfo
					Instance   string `json:"instance"`
					Permission string `json:"permission"`
					Users      []any  `json:"users"`
				}{FormatVersion, l.info(), o.instance, args[0], users})
			}
			fmt.Fprintf(g.stdout, "%s: %s\n", textfmt.Terminal(args[0]+" on "+o.instance), plural(len(users), "user"))
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			for _, u := range users {
				entry, _ := u.(map[string]any)
				var how []string
				for _, gr := range asList(entry["grants"]) {
					m, _ := gr.(map[string]any)
					how = append(how, fmt.Sprintf("%v (%v)", m["set"], m["via"]))
				}
				fmt.Fprintf(tw, "  %s\t%s\n", textfmt.Terminal(fmt.Sprint(entry["user"])), textfmt.Terminal(strings.Join(how, ", ")))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.instance, "instance", "", "the instance `ID` (required)")
	f.StringVar(&o.resource, "resource", "", "a resource as a JSON object, so scoped grants that cover it count")
	o.bind(f, "as of this time")
	_ = cmd.MarkFlagRequired("instance")
	return cmd
}
