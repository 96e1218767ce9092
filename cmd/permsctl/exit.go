package main

// Exit codes of permsctl, in one place. Only main calls os.Exit.
const (
	// exitOK: success; the config is valid; check allowed; plan found nothing to do.
	exitOK = 0
	// exitProblems: the config has problems, a plan has a deny, or the command failed.
	exitProblems = 1
	// exitChanges: plan --detailed-exitcode found changes and no deny.
	exitChanges = 2
	// exitDenied: check answered deny.
	exitDenied = 3
	// exitUsage: the command line is wrong (unknown flag, missing argument).
	exitUsage = 64
)

// exitError carries an exit code through cobra's error return.
type exitError struct {
	code int
	err  error // printed on stderr when set
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }
