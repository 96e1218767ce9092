package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/permsets/permsets/internal/textfmt"
)

type listingOptions struct {
	queryFlags
	user, instance string
	resource       string
}

func newEffectiveCommand(g *globals) *cobra.Command {
	o := &listingOptions{}
	cmd := &cobra.Command{
		Use:   "effective --user U --instance I",
		Short: "List the sets a user holds on an instance and the permissions they give",
		Long: `effective lists the enabled, unexpired sets the user holds on the instance (directly or
through roles) and the permissions they give after implies and requires, and the sets the user
may assign.`,
		Example: `  permsctl -C examples/nation effective --user sam --instance campaign`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := formatFlag(o.format, "text", "json"); err != nil {
				return err
			}
			if o.user == "" || o.instance == "" {
				return usageError(fmt.Errorf("--user and --instance must not be empty"))
			}
			input := map[string]any{"user": o.user, "instance": o.instance}
			l, err := o.load(cmd.Context(), g, input)
			if err != nil {
				return err
			}
			eff, err := l.eval(cmd.Context(), "effective", input)
			if err != nil {
				return err
			}
			manageable, err := l.eval(cmd.Context(), "manageable_sets", input)
			if err != nil {
				return err
			}
			e, _ := eff.(map[string]any)
			if errs := asList(e["errors"]); len(errs) > 0 {
				return usageError(fmt.Errorf("%v", errs[0]))
			}
			if o.format == "json" {
				return writeJSON(g.stdout, struct {
					FormatVersion string `json:"format_version"`
					revisionInfo
					User           string `json:"user"`
					Instance       string `json:"instance"`
					Sets           []any  `json:"sets"`
					Permissions    []any  `json:"permissions"`
					ManageableSets []any  `json:"manageable_sets"`
				}{FormatVersion, l.info(), o.user, o.instance, asList(e["sets"]), asList(e["permissions"]), asList(manageable)})
			}
			var b strings.Builder
			fmt.Fprintf(&b, "%s\n", textfmt.Terminal(o.user+" on "+o.instance))
			writeList(&b, "sets", asList(e["sets"]))
			writeList(&b, "permissions", asList(e["permissions"]))
			writeList(&b, "may assign", asList(manageable))
			_, err = fmt.Fprint(g.stdout, b.String())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.user, "user", "", "the user `ID` (required)")
	f.StringVar(&o.instance, "instance", "", "the instance `ID` (required)")
	o.bind(f, "as of this time")
	_ = cmd.MarkFlagRequired("user")
	_ = cmd.MarkFlagRequired("instance")
	return cmd
}

// load adds --time to input and loads the config (--rev) the listing answers from, which must
// declare --instance.
func (o *listingOptions) load(ctx context.Context, g *globals, input map[string]any) (*loaded, error) {
	if err := o.addTime(input); err != nil {
		return nil, usageError(err)
	}
	l, err := g.loadConfig(ctx, g.dir(nil), o.rev, true)
	if err != nil {
		return nil, err
	}
	if err := l.requireInstance(o.instance); err != nil {
		return nil, err
	}
	return l, nil
}

func writeList(b *strings.Builder, title string, items []any) {
	if len(items) == 0 {
		fmt.Fprintf(b, "%s: none\n", title)
		return
	}
	fmt.Fprintf(b, "%s:\n", title)
	for _, it := range items {
		fmt.Fprintf(b, "  %s\n", textfmt.Terminal(fmt.Sprint(it)))
	}
}
