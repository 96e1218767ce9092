//go:build !unix

package live

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// LockDir creates the lock file in dir; without flock, two daemons sharing a cache directory
// are not detected on this system.
func LockDir(dir string) (io.Closer, error) {
	if err := privateDir(dir); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	return f, nil
}

// privateDir creates dir (0700) when missing; file modes are not changed on this system.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cache directory: %w", err)
	}
	return nil
}
