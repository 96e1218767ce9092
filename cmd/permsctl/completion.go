package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newCompletionCommand is cobra's completion command, declared here rather than added by cobra
// at run time so that it is part of the command tree tests walk and has examples. The scripts
// are cobra's own generators; they complete commands, flags and arguments by calling permsctl's
// hidden __complete command.
func newCompletionCommand() *cobra.Command {
	var noDesc bool
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `completion prints the script that makes a shell complete permsctl's commands, flags and
arguments. Load it once per session, or install it as the shell expects (see each shell's help:
permsctl completion bash --help).`,
		Example: `  source <(permsctl completion bash)
  permsctl completion zsh > "${fpath[1]}/_permsctl"
  permsctl completion fish > ~/.config/fish/completions/permsctl.fish`,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError(fmt.Errorf("name a shell: bash, zsh, fish or powershell"))
		},
	}
	cmd.PersistentFlags().BoolVar(&noDesc, "no-descriptions", false, "complete without descriptions")
	shell := func(name, long, example string, gen func(c *cobra.Command) error) *cobra.Command {
		return &cobra.Command{
			Use:               name,
			Short:             "Print the completion script for " + name,
			Long:              long,
			Example:           example,
			Args:              cobra.NoArgs,
			ValidArgsFunction: cobra.NoFileCompletions,
			RunE: func(c *cobra.Command, _ []string) error {
				if err := gen(c); err != nil {
					return &exitError{code: exitProblems, err: err}
				}
				return nil
			},
		}
	}
	cmd.AddCommand(
		shell("bash", `Prints the completion script for bash (it needs the bash-completion package).

Load it in the current shell with source <(permsctl completion bash); for every new shell, write
it to /etc/bash_completion.d/permsctl (Linux) or $(brew --prefix)/etc/bash_completion.d/permsctl
(macOS).`, `  source <(permsctl completion bash)
  permsctl completion bash > /etc/bash_completion.d/permsctl`,
			func(c *cobra.Command) error { return c.Root().GenBashCompletionV2(c.OutOrStdout(), !noDesc) }),
		shell("zsh", `Prints the completion script for zsh. If completion is not yet enabled in your zsh, run
once: echo "autoload -U compinit; compinit" >> ~/.zshrc. Load it in the current shell with
source <(permsctl completion zsh); for every new shell, write it to a directory of $fpath.`,
			`  permsctl completion zsh > "${fpath[1]}/_permsctl"`,
			func(c *cobra.Command) error {
				if noDesc {
					return c.Root().GenZshCompletionNoDesc(c.OutOrStdout())
				}
				return c.Root().GenZshCompletion(c.OutOrStdout())
			}),
		shell("fish", `Prints the completion script for fish. Load it in the current shell with
permsctl completion fish | source; for every new shell, write it to
~/.config/fish/completions/permsctl.fish.`,
			`  permsctl completion fish > ~/.config/fish/completions/permsctl.fish`,
			func(c *cobra.Command) error { return c.Root().GenFishCompletion(c.OutOrStdout(), !noDesc) }),
		shell("powershell", `Prints the completion script for PowerShell. Load it in the current shell with
permsctl completion powershell | Out-String | Invoke-Expression; for every new shell, add that
line to your PowerShell profile.`,
			`  permsctl completion powershell | Out-String | Invoke-Expression`,
			func(c *cobra.Command) error {
				if noDesc {
					return c.Root().GenPowerShellCompletion(c.OutOrStdout())
				}
				return c.Root().GenPowerShellCompletionWithDesc(c.OutOrStdout())
			}),
	)
	return cmd
}
