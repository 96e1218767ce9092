// Command permsctl validates, plans and publishes a permsets config repository.
package main

import (
	"os"

	"github.com/permsets/permsets/plan"
)

func main() {
	// plan evaluates custom rules in a child process: this binary, started so.
	if code, ok := plan.CustomRulesChild(); ok {
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:]))
}
