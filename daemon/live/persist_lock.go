package live

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// LockDir makes dir private (privateDir) and takes an exclusive lock on it (a lock file in it),
// so that two daemons never share a cache directory; the lock goes with the process. Close
// releases it. Where the system has no flock, the lock file is created but two daemons sharing
// a cache directory are not detected.
func LockDir(dir string) (io.Closer, error) {
	if err := privateDir(dir); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	if err := lock(f, dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
