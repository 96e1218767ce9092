package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func newBuildCommand(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "build [DIR] -o FILE.tar.gz",
		Short: "Write the config as a standard OPA bundle",
		Long: `build validates and compiles the config repository into a standard OPA bundle: a .manifest
with the revision and the roots permsets and permsets_index, the compiled index as data.json and
the rules. 'opa run --server --bundle FILE' then answers exactly as permsd does.`,
		Example: `  permsctl build examples/nation -o nation.tar.gz
  opa run --server --bundle nation.tar.gz`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError(fmt.Errorf("-o FILE.tar.gz is required"))
			}
			l, err := g.loadConfig(cmd.Context(), g.dir(args), "", false)
			if err != nil {
				return err
			}
			out := g.path(out)
			g.progress.phase("writing %s", out)
			if err := writeFileAtomic(out, l.bundle.WriteTarGz); err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			info, err := os.Stat(out)
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			_, err = fmt.Fprintf(g.stdout, "wrote %s: revision %s, %d bytes\n", out, l.bundle.Revision, info.Size())
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the bundle `FILE` to write (.tar.gz)")
	return cmd
}
