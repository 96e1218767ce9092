package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/textfmt"
	"github.com/permsets/permsets/load"
)

// FormatVersion is the version of every JSON output's shape.
const FormatVersion = "1"

type validateOptions struct {
	format string
}

func newValidateCommand(g *globals) *cobra.Command {
	o := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check a config repository and report every problem",
		Long: `validate loads every YAML file of the config repository, checks each document against its
JSON Schema and every reference across documents, and prints every problem as
file:LINE:COL: CODE: message. It exits 0 when the config is valid and 1 when it is not.`,
		Example: `  permsctl validate
  permsctl validate examples/nation --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := formatFlag(o.format, "text", "json", "github", "junit"); err != nil {
				return err
			}
			dir := g.dir(args)
			g.progress.phase("loading %s", dir)
			l, err := load.Load(cmd.Context(), load.Spec{Dir: dir}, load.Options{})
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			l.Close()
			res := l.Result
			g.log.Debug("loaded", "dir", dir, "files", res.Files, "documents", res.Documents)
			if res.OK() {
				// Compile too: what validates must also build.
				if _, err := engine.Compile(res.Model); err != nil {
					res.Problems = append(res.Problems, config.Problem{File: ".", Code: "compile", Message: err.Error()})
				}
			}
			var werr error
			switch o.format {
			case "json":
				werr = writeValidateJSON(g.stdout, dir, res)
			case "github":
				werr = writeProblemsGitHub(g.stdout, dir, res.Problems)
			case "junit":
				werr = writeJUnit(g.stdout, "permsctl validate", 0, []junitSuite{problemsSuite(res.Problems)})
			default:
				werr = writeValidateText(g.stdout, g.stderr, dir, res)
			}
			if werr != nil {
				return &exitError{code: exitProblems, err: werr}
			}
			if !res.OK() {
				return &exitError{code: exitProblems}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text, json, github (annotations) or junit")
	return cmd
}

// summary counts what a model holds.
type summary struct {
	Files       int               `json:"files"`
	Documents   int               `json:"documents"`
	Instances   int               `json:"instances"`
	Sets        int               `json:"permissionSets"`
	Roles       int               `json:"roles"`
	Users       int               `json:"users"`
	Assignments int               `json:"assignments"`
	Pairs       int               `json:"userSetPairs"`
	Features    int               `json:"features"`
	PerInstance []instanceSummary `json:"perInstance"`
}

type instanceSummary struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Package       string   `json:"package,omitempty"`
	Sets          int      `json:"sets"`
	Builtin       int      `json:"builtin"`
	Custom        int      `json:"custom"`
	Disabled      int      `json:"disabled"`
	MaxCustomSets *int     `json:"maxCustomSets,omitempty"`
	EditableSets  []string `json:"editableSets,omitempty"`
	Holders       int      `json:"holders"`
}

func summarize(res *config.Result) summary {
	m := res.Model
	s := summary{Files: res.Files, Documents: res.Documents, Instances: len(m.Instances), Sets: len(m.Sets),
		Roles: len(m.Roles), Users: len(m.Users), Assignments: len(m.Assignments), PerInstance: []instanceSummary{}}
	if m.Catalog != nil {
		s.Features = len(m.Catalog.Features)
	}
	holders := map[string]map[string]bool{}
	hold := func(inst, user string) {
		if holders[inst] == nil {
			holders[inst] = map[string]bool{}
		}
		holders[inst][user] = true
	}
	for _, a := range m.Assignments {
		s.Pairs += len(a.Users) * len(a.PermissionSets)
		for _, u := range a.Users {
			hold(a.Instance, u)
		}
	}
	for _, r := range m.Roles {
		for _, ref := range r.PermissionSets {
			inst, _, _ := strings.Cut(ref, "/")
			for _, u := range r.Members {
				hold(inst, u)
			}
		}
	}
	for _, in := range m.Instances {
		is := instanceSummary{ID: in.ID, Name: in.Name, Package: in.Package, Holders: len(holders[in.ID])}
		if in.Limits != nil {
			is.MaxCustomSets, is.EditableSets = in.Limits.MaxCustomSets, in.Limits.EditableSets
		}
		for _, set := range m.Sets {
			if !slices.Contains(set.Instances, in.ID) {
				continue
			}
			is.Sets++
			if set.Builtin {
				is.Builtin++
			} else {
				is.Custom++
			}
			if !set.Enabled {
				is.Disabled++
			}
		}
		s.PerInstance = append(s.PerInstance, is)
	}
	return s
}

func writeValidateText(stdout, stderr io.Writer, dir string, res *config.Result) error {
	c := newColors(stdout)
	for _, p := range res.Problems {
		if _, err := fmt.Fprintln(stdout, problemLine(c, p)); err != nil {
			return err
		}
	}
	if !res.OK() {
		files := map[string]bool{}
		for _, p := range res.Problems {
			files[p.File] = true
		}
		fmt.Fprintf(stderr, "validate %s: %s in %s\n", textfmt.Terminal(dir), plural(len(res.Problems), "problem"), plural(len(files), "file"))
		return nil
	}
	s := summarize(res)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: valid (%s, %s)\n", c.Green("ok"), textfmt.Terminal(dir), plural(s.Files, "file"), plural(s.Documents, "document"))
	fmt.Fprintf(&b, "  %s, %s, %s, %s, %s (%s), %s\n",
		plural(s.Instances, "instance"), plural(s.Sets, "permission set"), plural(s.Roles, "role"),
		plural(s.Users, "user"), plural(s.Assignments, "assignment"), plural(s.Pairs, "user-set pair"),
		plural(s.Features, "catalog feature"))
	for _, is := range s.PerInstance {
		pkg := ""
		if is.Package != "" {
			pkg = ", package " + is.Package
		}
		limit := ""
		if is.MaxCustomSets != nil {
			limit = fmt.Sprintf(" of at most %d", *is.MaxCustomSets)
		}
		fmt.Fprintf(&b, "  instance %s: %s: %d builtin, %d custom%s", textfmt.Terminal(is.ID+" ("+is.Name+pkg+")"), plural(is.Sets, "set"), is.Builtin, is.Custom, limit)
		if is.Disabled > 0 {
			fmt.Fprintf(&b, ", %d disabled", is.Disabled)
		}
		if is.EditableSets != nil {
			fmt.Fprintf(&b, "; editable: %s", textfmt.Terminal(strings.Join(is.EditableSets, ", ")))
		}
		fmt.Fprintf(&b, "; %s\n", plural(is.Holders, "holder"))
	}
	_, err := io.WriteString(stdout, b.String())
	return err
}

type validateOutput struct {
	FormatVersion string           `json:"format_version"`
	Root          string           `json:"root"`
	Valid         bool             `json:"valid"`
	Problems      []config.Problem `json:"problems"`
	Summary       summary          `json:"summary"`
}

func writeValidateJSON(w io.Writer, dir string, res *config.Result) error {
	out := validateOutput{FormatVersion: FormatVersion, Root: dir, Valid: res.OK(), Problems: res.Problems, Summary: summarize(res)}
	if out.Problems == nil {
		out.Problems = []config.Problem{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// newColors paints text only on a terminal, and never with NO_COLOR set.
func newColors(w io.Writer) textfmt.Painter {
	f, ok := unwrapped(w).(*os.File)
	return textfmt.Painter{On: ok && os.Getenv("NO_COLOR") == "" && isTerminal(f)}
}

// problem is a problem's line, its config text made safe for a terminal (textfmt.Terminal)
// before the code is coloured.
func problemLine(c textfmt.Painter, p config.Problem) string {
	line := textfmt.Terminal(p.String())
	if !c.On {
		return line
	}
	return strings.Replace(line, ": "+p.Code+":", ": "+c.Red(p.Code)+":", 1)
}
