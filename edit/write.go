package edit

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/permsets/permsets/internal/atomicfile"
)

// CreateFile writes a new file name (a slash path relative to root) with data, creating the
// directories it needs. The data goes to a temporary file in the same directory first and is
// then linked into place, which fails when name exists: a file is never overwritten, and never
// seen half-written (atomicfile.CreateIn). Everything goes through root, so a symbolic link (of name or of a directory
// on the way) that leads out of the root is refused. On failure, the directories created for the
// file are removed again. It returns the directories it created, outermost first.
func CreateFile(root *os.Root, name string, data []byte) (created []string, err error) {
	name, err = cleanRel(name)
	if err != nil {
		return nil, err
	}
	if _, err := root.Lstat(name); err == nil {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrExist}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	created, err = mkdirs(root, path.Dir(name))
	defer func() {
		if err != nil {
			removeDirs(root, created)
			created = nil
		}
	}()
	if err != nil {
		return created, err
	}
	if err := atomicfile.CreateIn(root, name, 0o644, writeBytes(data)); err != nil {
		return created, err
	}
	return created, nil
}

// ReplaceFile replaces the content of the existing regular file name with data: written aside,
// then renamed over it, keeping its permission bits. It returns the previous content, so a caller
// can put it back with RestoreFile.
func ReplaceFile(root *os.Root, name string, data []byte) (previous []byte, err error) {
	name, err = cleanRel(name)
	if err != nil {
		return nil, err
	}
	info, err := root.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "replace", Path: name, Err: errors.New("not a regular file (a symbolic link is not replaced)")}
	}
	previous, err = root.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.ReplaceIn(root, name, info.Mode().Perm(), writeBytes(data)); err != nil {
		return nil, err
	}
	return previous, nil
}

// RestoreFile undoes a CreateFile (previous nil: the file and the directories created for it are
// removed) or a ReplaceFile (previous: the old content is written back the same way).
func RestoreFile(root *os.Root, name string, previous []byte, created []string) error {
	if previous != nil {
		_, err := ReplaceFile(root, name, previous)
		return err
	}
	err := root.Remove(name)
	removeDirs(root, created)
	return err
}

// cleanRel checks that name is a relative slash path inside the root.
func cleanRel(name string) (string, error) {
	clean := path.Clean(name)
	if !fs.ValidPath(clean) || clean == "." || strings.Contains(name, `\`) {
		return "", &fs.PathError{Op: "write", Path: name, Err: errors.New("not a path inside the config root")}
	}
	return clean, nil
}

// mkdirs creates dir and its missing parents under root, returning those it created.
func mkdirs(root *os.Root, dir string) ([]string, error) {
	var missing []string
	for d := dir; d != "."; d = path.Dir(d) {
		info, err := root.Stat(d)
		if err == nil {
			if !info.IsDir() {
				return nil, &fs.PathError{Op: "mkdir", Path: d, Err: errors.New("exists and is not a directory")}
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := root.Mkdir(missing[i], 0o755); err != nil {
			return created, err
		}
		created = append(created, missing[i])
	}
	return created, nil
}

// removeDirs removes directories created by mkdirs, innermost first, if they are empty.
func removeDirs(root *os.Root, dirs []string) {
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = root.Remove(dirs[i])
	}
}

// writeBytes is an atomicfile writer of data.
func writeBytes(data []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}

// Confined checks that name and each directory on the way to it, where they exist, resolve
// inside root: a symbolic link that leads out of the root is an error that says so.
func Confined(root *os.Root, name string) error {
	name, err := cleanRel(name)
	if err != nil {
		return err
	}
	parts := strings.Split(name, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		if _, err := root.Stat(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			if Escapes(err) {
				return &fs.PathError{Op: "write", Path: p, Err: errors.New("a symbolic link leads out of the config root; refused")}
			}
			return err
		}
	}
	return nil
}

// Escapes reports whether err is os.Root refusing a path that leads out of the root.
func Escapes(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}
