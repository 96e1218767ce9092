package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestCompletion: each shell's script is printed, names permsctl and is that shell's kind.
func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		shell string
		want  []string
	}{
		{"bash", []string{"# bash completion V2 for permsctl", "__start_permsctl()", "complete -o default -F __start_permsctl permsctl"}},
		{"zsh", []string{"#compdef permsctl", "compdef _permsctl permsctl", "__complete"}},
		{"fish", []string{"# fish completion for permsctl", "complete -c permsctl", "__complete"}},
		{"powershell", []string{"Register-ArgumentCompleter", "permsctl"}},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			code, out, errOut := runCLI(t, "completion", tc.shell)
			if code != exitOK || errOut != "" || len(out) < 1000 {
				t.Fatalf("exit %d, %d bytes, stderr %s", code, len(out), errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in the %s script", w, tc.shell)
				}
			}
			_, noDesc, _ := runCLI(t, "completion", tc.shell, "--no-descriptions")
			if noDesc == "" || noDesc == out {
				t.Errorf("--no-descriptions gave %d bytes, the same script: %v", len(noDesc), noDesc == out)
			}
			// Where the shell is installed, the script parses.
			if sh, err := exec.LookPath(tc.shell); err == nil && tc.shell != "powershell" {
				check := exec.Command(sh, "-n")
				check.Stdin = strings.NewReader(out)
				if msg, err := check.CombinedOutput(); err != nil {
					t.Errorf("%s -n: %v\n%s", tc.shell, err, msg)
				}
			}
		})
	}
	if code, _, errOut := runCLI(t, "completion"); code != exitUsage || !strings.Contains(errOut, "name a shell") {
		t.Errorf("no shell: exit %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "completion", "tcsh"); code != exitUsage {
		t.Errorf("tcsh: exit %d", code)
	}
}

// TestCompletionCompletes: the scripts call permsctl __complete, which answers with commands
// and flags.
func TestCompletionCompletes(t *testing.T) {
	_, out, _ := runCLI(t, "__complete", "im")
	if !strings.Contains(out, "import\t") {
		t.Errorf("__complete im:\n%s", out)
	}
	_, out, _ = runCLI(t, "__complete", "duplicate", "--")
	if !strings.Contains(out, "--name\t") {
		t.Errorf("__complete duplicate --:\n%s", out)
	}
}

// TestEveryCommandHasExample: --help of every command shows an example.
func TestEveryCommandHasExample(t *testing.T) {
	var walk func(c *cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		seen++
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no Example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand(&globals{}))
	if seen < 18 {
		t.Errorf("walked %d commands", seen)
	}
	code, out, _ := runCLI(t, "import", "--help")
	if code != exitOK || !strings.Contains(out, "Examples:\n  permsctl -C examples/nation export finance") {
		t.Errorf("import --help: exit %d\n%s", code, out)
	}
}
