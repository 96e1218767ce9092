package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/permsets/permsets/internal/textfmt"
)

// globals are the flags every command shares.
type globals struct {
	chdir    string
	logLevel string
	stdout   io.Writer
	stderr   io.Writer
	log      *slog.Logger
	progress *progress // the phase of a long command, on a terminal
}

// dir resolves a command's config root: its positional DIR (if any) relative to -C.
func (g *globals) dir(args []string) string {
	d := "."
	if len(args) > 0 {
		d = args[0]
	}
	return filepath.Clean(g.path(d))
}

// path resolves any path named on the command line (a DIR, an -o FILE, a --plan or an import
// FILE): relative to -C, as if permsctl had changed there first, as git -C does.
func (g *globals) path(p string) string {
	if g.chdir != "" && p != "" && p != "-" && !filepath.IsAbs(p) {
		return filepath.Join(g.chdir, p)
	}
	return p
}

func run(args []string) int {
	return runWith(args, os.Stdout, os.Stderr)
}

func runWith(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := &globals{stdout: stdout, stderr: stderr, progress: newProgress(stderr)}
	if g.progress.on {
		g.stdout, g.stderr = clearFirst{stdout, g.progress}, clearFirst{stderr, g.progress}
	}
	root := newRootCommand(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	g.progress.done()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "error: %s\n", terminalLines(ee.err.Error()))
		}
		return ee.code
	}
	// Anything cobra itself rejects (unknown command or flag, wrong argument count) is usage.
	fmt.Fprintf(stderr, "error: %s\n", terminalLines(err.Error()))
	fmt.Fprintf(stderr, "hint: run 'permsctl --help' for usage\n")
	return exitUsage
}

// terminalLines makes an error message safe for a terminal line by line (an error may name
// config text: a file, a custom rule's message), keeping the lines an error is written in.
func terminalLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = textfmt.Terminal(l)
	}
	return strings.Join(lines, "\n")
}

func newRootCommand(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "permsctl",
		Short: "Validate, plan and publish permission sets kept as code",
		Long: `permsctl works on a permsets config repository: permission sets, roles and assignments
kept as YAML in Git. It validates them, answers decisions, plans changes for review and
publishes approved revisions.`,
		Example: `  permsctl validate
  permsctl -C access plan --base origin/live
  permsctl init access --instance prod --owner alice`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
				return usageError(fmt.Errorf("--log-level %q: use debug, info, warn or error", g.logLevel))
			}
			g.log = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: level}))
			if g.chdir != "" {
				if info, err := os.Stat(g.chdir); err != nil || !info.IsDir() {
					return usageError(fmt.Errorf("-C %s: not a directory", g.chdir))
				}
			}
			return nil
		},
	}
	root.PersistentFlags().StringVarP(&g.chdir, "chdir", "C", "", "run as if started in `DIR`")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	root.AddCommand(newValidateCommand(g), newCheckCommand(g), newEffectiveCommand(g), newWhoCanCommand(g), newBuildCommand(g), newPlanCommand(g), newApplyCommand(g), newAuditCommand(g), newInitCommand(g), newExportCommand(g), newImportCommand(g), newDuplicateCommand(g), newCompletionCommand(), newSchemaCommand(g),
		newTestCommand(g))
	return root
}

func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

// formatFlag checks a --format value against the formats a command offers.
func formatFlag(value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return usageError(fmt.Errorf("--format %q: use %s", value, strings.Join(allowed, ", ")))
}
