//go:build !linux

package plan

import "os"

// limitMemory has no hard limit to set outside Linux: there the child's heap watchdog is the
// limit (see customWatchdog).
func limitMemory(int64) error { return nil }

// peakMemory is not known here.
func peakMemory(*os.ProcessState) int64 { return 0 }
