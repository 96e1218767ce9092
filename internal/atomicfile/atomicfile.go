// Package atomicfile writes files so that a reader, or a crash, sees the old content or the new
// one, whole: never half a file. Every writer of the project goes through it: permsctl's outputs,
// the files permsctl's authoring commands edit in a config repository, and permsd's persisted
// bundle.
package atomicfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// Write writes path with perm through a temporary file beside it (".NAME.tmp-*"): written
// through a buffer, synced, renamed into place, and the directory synced so the rename is
// durable. On any error the temporary file is removed and path is untouched.
func Write(name string, perm os.FileMode, write func(io.Writer) error) error {
	root, err := os.OpenRoot(filepath.Dir(name))
	if err != nil {
		return err
	}
	defer root.Close()
	return ReplaceIn(root, filepath.Base(name), perm, write)
}

// ReplaceIn writes name (a slash path relative to root) with perm as Write does, replacing it
// when it exists. Everything goes through root, so a symbolic link that leads out of it is
// refused.
func ReplaceIn(root *os.Root, name string, perm os.FileMode, write func(io.Writer) error) error {
	tmp, err := writeTemp(root, name, perm, write)
	if err != nil {
		return err
	}
	if err := root.Rename(tmp, name); err != nil {
		_ = root.Remove(tmp)
		return err
	}
	syncDir(root, path.Dir(name))
	return nil
}

// CreateIn writes the new file name (a slash path relative to root) with perm: written aside and
// then linked into place, which fails with fs.ErrExist when name exists, so a file is never
// overwritten and never seen half-written. The directory is synced.
func CreateIn(root *os.Root, name string, perm os.FileMode, write func(io.Writer) error) error {
	if _, err := root.Lstat(name); err == nil {
		return &fs.PathError{Op: "create", Path: name, Err: fs.ErrExist}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp, err := writeTemp(root, name, perm, write)
	if err != nil {
		return err
	}
	defer root.Remove(tmp)
	if err := root.Link(tmp, name); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// A file system without hard links: check, then rename (a narrow race, not a torn file).
		if _, serr := root.Lstat(name); serr == nil {
			return &fs.PathError{Op: "create", Path: name, Err: fs.ErrExist}
		}
		if err := root.Rename(tmp, name); err != nil {
			return err
		}
	}
	syncDir(root, path.Dir(name))
	return nil
}

// writeTemp writes a new hidden file beside name (".NAME.tmp-RANDOM") through a buffer, with
// perm, synced, and returns its path. On any error it is removed.
func writeTemp(root *os.Root, name string, perm os.FileMode, write func(io.Writer) error) (_ string, err error) {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(path.Dir(name), "."+path.Base(name)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			_ = root.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err = write(bw); err != nil {
		return "", err
	}
	if err = bw.Flush(); err != nil {
		return "", err
	}
	// The mode is set explicitly: OpenFile's is masked by the umask.
	if err = f.Chmod(perm); err != nil {
		return "", err
	}
	if err = f.Sync(); err != nil {
		return "", err
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return tmp, nil
}

// syncDir syncs a directory under root so that a rename or link in it is durable; a file
// system that cannot sync a directory is not an error.
func syncDir(root *os.Root, dir string) {
	if d, err := root.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
