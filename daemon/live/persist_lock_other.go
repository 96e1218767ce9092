//go:build !unix

package live

import (
	"fmt"
	"os"
)

// lock does nothing: without flock, two daemons sharing a cache directory are not detected on
// this system.
func lock(*os.File, string) error { return nil }

// privateDir creates dir (0700) when missing; file modes are not changed on this system.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cache directory: %w", err)
	}
	return nil
}
