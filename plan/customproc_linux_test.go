package plan

import (
	"syscall"
	"testing"
)

// childMaxRSS is the largest resident size of a child process this process waited for.
func childMaxRSS(t *testing.T) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Maxrss << 10 // kB
}
