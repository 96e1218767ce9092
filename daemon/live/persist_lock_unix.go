//go:build unix

package live

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// lock takes an exclusive lock on f, the lock file of the cache directory dir, without waiting.
func lock(f *os.File, dir string) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("cache directory %s is in use by another permsd", dir)
		}
		return fmt.Errorf("cache directory %s: lock: %w", dir, err)
	}
	return nil
}

// privateDir creates dir (0700) when missing, and makes it and all it holds private to this
// process's user: the clone is user data. Directories become 0700 and files lose their group and
// other bits (a file permsd writes is 0600); symbolic links inside are left alone and not
// followed. A cache directory, or anything in it, that belongs to another user cannot be made
// private: that is an error, and nothing is served from it.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cache directory: %w", err)
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("cache directory: %w", err)
	}
	uid := os.Geteuid()
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("cache directory %s: %w", dir, err)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("cache directory %s: %w", dir, err)
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != uid {
			return fmt.Errorf("cache directory %s: %s belongs to uid %d, not to permsd's uid %d, so it cannot be made private (0700): chown it to uid %d, or choose a --cache-dir permsd creates", dir, p, st.Uid, uid, uid)
		}
		want := info.Mode().Perm() &^ 0o077
		if d.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm() != want {
			if err := os.Chmod(p, want); err != nil {
				return fmt.Errorf("cache directory %s: making %s private: %w", dir, p, err)
			}
		}
		return nil
	})
}
