package plan

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// limitMemory sets the child's RLIMIT_DATA to what it maps now, plus limit and a quarter (the
// watchdog stops gradual growth at limit, with a clearer message), plus 256 MiB for the stacks
// of the threads it may still start (8 MiB each, mapped but hardly touched). On Linux
// RLIMIT_DATA counts every private writable mapping, the Go heap included (reserved address
// space does not count), so an allocation past it fails and the Go runtime stops the process.
func limitMemory(limit int64) error {
	limit += limit/4 + 256<<20
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	var now int64 = -1
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmData:")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))), 10, 64)
			if err != nil {
				return fmt.Errorf("VmData in /proc/self/status: %w", err)
			}
			now = kb << 10
		}
	}
	if now < 0 {
		return fmt.Errorf("no VmData in /proc/self/status")
	}
	rl := syscall.Rlimit{Cur: uint64(now + limit), Max: uint64(now + limit)}
	return syscall.Setrlimit(syscall.RLIMIT_DATA, &rl)
}

// peakMemory is the most memory a finished child had resident.
func peakMemory(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10 // kB
	}
	return 0
}
