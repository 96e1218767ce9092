package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/textfmt"
)

type checkOptions struct {
	queryFlags
	user, instance string
	method, path   string
	resource       string
}

func newCheckCommand(g *globals) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check --user U --instance I (PERMISSION | --method M --path P)",
		Short: "Decide one request and say why",
		Long: `check answers one decision from the config repository (-C DIR, or the current directory), as
permsd would: may the user do PERMISSION (feature=action), or call METHOD PATH, on the instance?
It prints allow or deny with the reason and exits 0 on allow, 3 on deny.`,
		Example: `  permsctl -C examples/nation check --user alice --instance campaign finances=export
  permsctl check --user sam --instance campaign people=read --resource '{"id":"p7","point_person":"sam"}'
  permsctl check --user ops --instance production --method DELETE --path /users/42
  permsctl check --user kwame --instance campaign people=edit --time 2027-02-01T00:00:00Z
  permsctl check --user alice --instance campaign finances=export --rev live`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := formatFlag(o.format, "text", "json"); err != nil {
				return err
			}
			input, err := o.input(args)
			if err != nil {
				return usageError(err)
			}
			l, err := g.loadConfig(cmd.Context(), g.dir(nil), o.rev, true)
			if err != nil {
				return err
			}
			result, err := l.eval(cmd.Context(), "decision", input)
			if err != nil {
				return err
			}
			d, _ := result.(map[string]any)
			allowed, _ := d["allow"].(bool)
			if o.format == "json" {
				err = writeJSON(g.stdout, struct {
					FormatVersion string `json:"format_version"`
					revisionInfo
					Input  map[string]any `json:"input"`
					Result any            `json:"result"`
				}{FormatVersion, l.info(), input, result})
			} else {
				verdict := "deny"
				if allowed {
					verdict = newColors(g.stdout).Green("allow")
				}
				_, err = fmt.Fprintf(g.stdout, "%s: %s\n", verdict, textfmt.Terminal(fmt.Sprint(d["reason"])))
			}
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			if !allowed {
				return &exitError{code: exitDenied}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.user, "user", "", "the user `ID` asking (required)")
	f.StringVar(&o.instance, "instance", "", "the instance `ID` (required)")
	f.StringVar(&o.method, "method", "", "an HTTP method, with --path, instead of a permission")
	f.StringVar(&o.path, "path", "", "an API path such as /users/42, with --method")
	f.StringVar(&o.resource, "resource", "", "the resource as a JSON object: {\"id\": ..., relation fields}")
	o.bind(f, "decide as of this time")
	_ = cmd.MarkFlagRequired("user")
	_ = cmd.MarkFlagRequired("instance")
	return cmd
}

func (o *checkOptions) input(args []string) (map[string]any, error) {
	if o.user == "" || o.instance == "" {
		return nil, fmt.Errorf("--user and --instance must not be empty")
	}
	in := map[string]any{"user": o.user, "instance": o.instance}
	switch {
	case len(args) == 1 && (o.method != "" || o.path != ""):
		return nil, fmt.Errorf("give a permission or --method and --path, not both")
	case len(args) == 1:
		if err := checkPermissionArg(args[0]); err != nil {
			return nil, err
		}
		in["permission"] = args[0]
	case o.method != "" && o.path != "":
		in["method"], in["path"] = o.method, o.path
	default:
		return nil, fmt.Errorf("give a permission (feature=action) or --method and --path")
	}
	if err := addResource(in, o.resource); err != nil {
		return nil, err
	}
	if err := o.addTime(in); err != nil {
		return nil, err
	}
	return in, nil
}

// addResource adds the --resource JSON object to an input.
func addResource(in map[string]any, raw string) error {
	if raw == "" {
		return nil
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(raw), &r); err != nil || r == nil {
		return fmt.Errorf("--resource must be a JSON object: %v", raw)
	}
	in["resource"] = r
	return nil
}

// checkPermissionArg accepts feature=action: arguments belong in --resource.
func checkPermissionArg(raw string) error {
	p, err := config.ParsePermission(raw)
	if err != nil {
		return err
	}
	if len(p.Args) > 0 {
		return fmt.Errorf("%q: ask for %s and give the object or scope as --resource, e.g. --resource '{\"id\": \"staffer\"}'", raw, p.Key())
	}
	if p.Feature == config.Wildcard || p.Action == config.Wildcard {
		return fmt.Errorf("%q: ask about one feature and one action, not a wildcard", raw)
	}
	return nil
}
