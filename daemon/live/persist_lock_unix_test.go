//go:build unix

package live

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A cache directory left readable by others (0755, with a 0644 bundle and a clone from an old
// run) is made private when permsd takes it: directories 0700, files 0600.
func TestLockDirMakesTheCachePrivate(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("not permsd's"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cache")
	for _, d := range []string{dir, filepath.Join(dir, "repo.git", "objects", "pack")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := []string{PersistedBundle, PersistedInfo, lockFile, "repo.git/HEAD", "repo.git/objects/pack/pack-1.pack"}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, "repo.git"), filepath.Join(dir, "repo.git/objects")} {
		if err := os.Chmod(p, 0o755); err != nil { // whatever the umask
			t.Fatal(err)
		}
	}

	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			return nil
		case d.IsDir():
			want = 0o700
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(outside); info.Mode().Perm() != 0o644 {
		t.Errorf("the target of a link was changed: %o", info.Mode().Perm())
	}
}

// A cache directory that belongs to another user cannot be made private: LockDir refuses it.
func TestLockDirRefusesAnotherUsersDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if l, err := LockDir(dir); err == nil {
		l.Close()
		t.Fatal("LockDir took a directory of uid 4242")
	} else if !strings.Contains(err.Error(), "belongs to uid 4242") || !strings.Contains(err.Error(), "cannot be made private") {
		t.Errorf("error %v", err)
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o755 {
		t.Errorf("mode %o: changed although refused", info.Mode().Perm())
	}
	// The same for a file in a directory of permsd's own.
	own := filepath.Join(t.TempDir(), "own")
	if err := os.Mkdir(own, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(own, PersistedBundle), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(own, PersistedBundle), 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if l, err := LockDir(own); err == nil {
		l.Close()
		t.Fatal("LockDir took a directory holding a file of uid 4242")
	}
}
