// Command permsgen writes a large, deterministic, synthetic permsets config repository for
// benchmarks and load tests. The same flags always give byte-identical output.
//
//	go run ./cmd/permsgen -out /tmp/big -instances 10 -sets 10000 -users 100000 -roles 1000 -pairs 1000000
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/permsets/permsets/internal/synth"
)

const usage = `Usage: permsgen -out DIR [flags]

Writes a synthetic permsets config repository into DIR, for benchmarks and load tests. The
same flags always give byte-identical output.

Layout written:
  catalog.yaml                      ~20 features, requires, implies, endpoints, one
                                    separation-of-duties rule
  instances/instances.yaml          Instance documents i000, i001, ...
  sets/<instance>/setsNNN.yaml      PermissionSet documents s00000, ...; the first -instances
                                    sets are the builtin, fixed "*=*" admin set of each instance
  users/usersNNN.yaml               User documents u000000, ...
  roles/rolesNNN.yaml               Role documents r0000, ... (r0000: the system admins)
  assignments/assignmentsNNN.yaml   Assignment documents a000000, ...
  inputs.jsonl                      decision inputs {"user","instance","permission"}, one a
                                    line, about half expected to be allowed (not loaded as config)

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	o := synth.DefaultOptions()
	fs := flag.NewFlagSet("permsgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Out, "out", "", "output `directory` (required); created if missing; must be empty unless -force")
	fs.BoolVar(&o.Force, "force", false, "write into a non-empty directory: the generated paths (catalog.yaml, instances/,\nsets/, users/, roles/, assignments/, inputs.jsonl) are removed first, anything else is kept")
	fs.IntVar(&o.Instances, "instances", o.Instances, "number of Instance documents (i000, ...); even ones are \"standard\" with a\nmaxCustomSets limit that fits, odd ones \"enterprise\" without limits")
	fs.IntVar(&o.Sets, "sets", o.Sets, "number of PermissionSet documents, including one builtin admin set per instance;\nothers hold 3-10 permissions, about 5% are on two instances, about 2% disabled")
	fs.IntVar(&o.Users, "users", o.Users, "number of User documents (u000000, ...); about 0.1% systemAdmin, 0.5% suspended")
	fs.IntVar(&o.Roles, "roles", o.Roles, "number of Role documents, each with 15-25 members and 1-5 \"instance/set\" entries")
	fs.IntVar(&o.Pairs, "pairs", o.Pairs, "user-set pairs given by Assignment documents: the sum of len(users)*len(permissionSets)\nover all assignments is exactly this (each assigns 1-3 sets of one instance to 50-200 users;\nabout 2% expire, between 2025-01-01 and 2026-12-31)")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed; the same flags give byte-identical output")
	fs.IntVar(&o.DocsPerFile, "docs-per-file", o.DocsPerFile, "documents per multi-document file (sets, users, roles, assignments); a file\nis also cut before it reaches 8 MiB")
	fs.IntVar(&o.Inputs, "inputs", o.Inputs, "number of decision inputs written to inputs.jsonl")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "permsgen: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if o.Out == "" {
		fmt.Fprintln(stderr, "permsgen: -out is required")
		fs.Usage()
		return 2
	}
	start := time.Now()
	st, err := synth.Generate(o)
	if err != nil {
		fmt.Fprintf(stderr, "permsgen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "permsgen: wrote %s: %d instances, %d sets, %d users, %d roles, %d assignments (%d pairs), %d inputs (%d expected allowed); %d files, %.1f MiB in %s\n",
		o.Out, st.Instances, st.Sets, st.Users, st.Roles, st.Assignments, st.Pairs, st.Inputs, st.AllowedInputs,
		st.Files, float64(st.Bytes)/(1<<20), time.Since(start).Round(time.Millisecond))
	return 0
}
