package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// maxLinks is how many symbolic links one lookup follows, as on Linux.
const maxLinks = 40

// maxLinkTarget is the longest symbolic link target read (PATH_MAX).
const maxLinkTarget = 4096

var (
	errEscapes = errors.New("path escapes from parent")
	errLoop    = errors.New("too many levels of symbolic links")
)

// storeMu serialises reads of go-git object storage: its filesystem storage loads pack indexes
// lazily into unguarded maps, so concurrent reads of one repository race. Blob contents are
// streamed outside the lock.
var storeMu sync.Mutex

// TreeFS returns an fs.FS over the tree of commit at subdir (a slash path, "" or "." for the
// top), read lazily from repo's object storage. It implements fs.ReadDirFS, fs.ReadFileFS,
// fs.StatFS and fs.ReadLinkFS. Symbolic links are followed within the tree at subdir only;
// submodules are irregular entries, never followed. Nothing may write to repo's object storage
// (a fetch, a commit) while the FS is in use.
func TreeFS(repo *git.Repository, commit plumbing.Hash, subdir string) (fs.FS, error) {
	return treeAt(repo, commit, subdir, commit.String()[:12])
}

// treeAt is TreeFS naming the revision as at in its errors.
func treeAt(repo *git.Repository, commit plumbing.Hash, subdir, at string) (*treeFS, error) {
	storeMu.Lock()
	c, err := object.GetCommit(repo.Storer, commit)
	storeMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	top := &treeFS{
		s:     repo.Storer,
		root:  node{mode: filemode.Dir, hash: c.TreeHash},
		mtime: c.Committer.When,
		trees: map[plumbing.Hash][]node{},
	}
	subdir = strings.Trim(subdir, "/")
	if subdir == "" || subdir == "." {
		return top, nil
	}
	if !fs.ValidPath(subdir) {
		return nil, fmt.Errorf("invalid config path %q", subdir)
	}
	n, err := top.lookup("open", subdir, true)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &missingError{path: subdir, at: at}
	case err != nil:
		return nil, err
	case n.mode != filemode.Dir:
		return nil, fmt.Errorf("%s is not a directory at %s", subdir, at)
	}
	top.root = n
	return top, nil
}

// missingError is a config root missing at a revision.
type missingError struct{ path, at string }

func (e *missingError) Error() string { return fmt.Sprintf("%s does not exist at %s", e.path, e.at) }
func (e *missingError) Unwrap() error { return fs.ErrNotExist }

// treeFS is a read-only file system over a Git tree.
type treeFS struct {
	s     storer.EncodedObjectStorer
	root  node
	mtime time.Time // the commit's time, the ModTime of every file

	mu    sync.Mutex
	trees map[plumbing.Hash][]node // decoded trees, sorted by name
}

var (
	_ fs.ReadDirFS  = (*treeFS)(nil)
	_ fs.ReadFileFS = (*treeFS)(nil)
	_ fs.StatFS     = (*treeFS)(nil)
	_ fs.ReadLinkFS = (*treeFS)(nil)
)

// node is one tree entry.
type node struct {
	name string
	mode filemode.FileMode
	hash plumbing.Hash
}

// Open opens the named file or directory, following symbolic links.
func (f *treeFS) Open(name string) (fs.File, error) {
	n, err := f.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	info, err := f.info(path.Base(name), n)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if n.mode == filemode.Dir {
		entries, err := f.children(n.hash)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dirFile{fsys: f, info: info, entries: entries}, nil
	}
	return &blobFile{fsys: f, name: name, info: info, hash: n.hash}, nil
}

// Stat describes the named file, following symbolic links.
func (f *treeFS) Stat(name string) (fs.FileInfo, error) { return f.stat("stat", name, true) }

// Lstat describes the named file without following a final symbolic link.
func (f *treeFS) Lstat(name string) (fs.FileInfo, error) { return f.stat("lstat", name, false) }

func (f *treeFS) stat(op, name string, follow bool) (fs.FileInfo, error) {
	n, err := f.lookup(op, name, follow)
	if err != nil {
		return nil, err
	}
	info, err := f.info(path.Base(name), n)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return info, nil
}

// ReadLink returns the target of the named symbolic link as committed.
func (f *treeFS) ReadLink(name string) (string, error) {
	n, err := f.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if n.mode != filemode.Symlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	target, err := f.readLink(n.hash)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return target, nil
}

// ReadDir lists the named directory, sorted by name.
func (f *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := f.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if n.mode != filemode.Dir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	nodes, err := f.children(n.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	entries := make([]fs.DirEntry, len(nodes))
	for i, c := range nodes {
		entries[i] = dirEntry{f, c}
	}
	return entries, nil
}

// ReadFile reads the named file, following symbolic links.
func (f *treeFS) ReadFile(name string) ([]byte, error) {
	file, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	var buf bytes.Buffer
	buf.Grow(int(info.Size()))
	if _, err := buf.ReadFrom(file); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// lookup finds the named entry below the root. Symbolic links are resolved within the root, in
// intermediate components always and in the last one when follow is set; a link that climbs
// above the root or is absolute escapes.
func (f *treeFS) lookup(op, name string, follow bool) (node, error) {
	fail := func(err error) (node, error) {
		return node{}, &fs.PathError{Op: op, Path: name, Err: err}
	}
	if !fs.ValidPath(name) {
		return fail(fs.ErrInvalid)
	}
	stack := []node{f.root}
	var todo []string
	if name != "." {
		todo = strings.Split(name, "/")
	}
	links := 0
	for len(todo) > 0 {
		elem := todo[0]
		todo = todo[1:]
		switch elem {
		case "", ".":
			continue
		case "..":
			if len(stack) == 1 {
				return fail(errEscapes)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		dir := stack[len(stack)-1]
		if dir.mode != filemode.Dir {
			return fail(fs.ErrNotExist)
		}
		nodes, err := f.children(dir.hash)
		if err != nil {
			return fail(err)
		}
		i, ok := slices.BinarySearchFunc(nodes, elem, func(n node, name string) int { return strings.Compare(n.name, name) })
		if !ok {
			return fail(fs.ErrNotExist)
		}
		n := nodes[i]
		if n.mode == filemode.Symlink && (len(todo) > 0 || follow) {
			if links++; links > maxLinks {
				return fail(errLoop)
			}
			target, err := f.readLink(n.hash)
			switch {
			case err != nil:
				return fail(err)
			case target == "":
				return fail(fs.ErrNotExist)
			case strings.HasPrefix(target, "/"):
				return fail(errEscapes)
			}
			todo = append(strings.Split(target, "/"), todo...)
			continue
		}
		stack = append(stack, n)
	}
	return stack[len(stack)-1], nil
}

// children returns the entries of the tree hash, sorted by name, decoding it once.
func (f *treeFS) children(hash plumbing.Hash) ([]node, error) {
	f.mu.Lock()
	nodes, ok := f.trees[hash]
	f.mu.Unlock()
	if ok {
		return nodes, nil
	}
	storeMu.Lock()
	t, err := object.GetTree(f.s, hash)
	storeMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", hash, err)
	}
	nodes = make([]node, 0, len(t.Entries))
	for _, e := range t.Entries {
		// A crafted tree could hold names no file system path can; they are left out.
		if e.Name == "" || e.Name == "." || e.Name == ".." || strings.ContainsAny(e.Name, "/\x00") {
			continue
		}
		nodes = append(nodes, node{name: e.Name, mode: e.Mode, hash: e.Hash})
	}
	// Git orders a directory as if its name ended in "/"; fs wants plain name order.
	slices.SortFunc(nodes, func(a, b node) int { return strings.Compare(a.name, b.name) })
	nodes = slices.CompactFunc(nodes, func(a, b node) bool { return a.name == b.name })
	f.mu.Lock()
	f.trees[hash] = nodes
	f.mu.Unlock()
	return nodes, nil
}

// readLink reads a symbolic link's target from its blob.
func (f *treeFS) readLink(hash plumbing.Hash) (string, error) {
	r, err := openBlob(f.s, hash)
	if err != nil {
		return "", err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxLinkTarget+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxLinkTarget {
		return "", errors.New("symbolic link target too long")
	}
	return string(data), nil
}

// info describes n under the given name; a blob's size comes from its object header.
func (f *treeFS) info(name string, n node) (*fileInfo, error) {
	info := &fileInfo{name: name, mode: fileMode(n.mode), mtime: f.mtime}
	if n.mode.IsFile() {
		storeMu.Lock()
		size, err := f.s.EncodedObjectSize(n.hash)
		storeMu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("blob %s: %w", n.hash, err)
		}
		info.size = size
	}
	return info, nil
}

// openBlob opens a blob's content for reading.
func openBlob(s storer.EncodedObjectStorer, hash plumbing.Hash) (io.ReadCloser, error) {
	storeMu.Lock()
	defer storeMu.Unlock()
	obj, err := s.EncodedObject(plumbing.BlobObject, hash)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	return obj.Reader()
}

// fileMode maps a Git file mode to an fs.FileMode. Submodules (and anything unknown) are
// irregular.
func fileMode(m filemode.FileMode) fs.FileMode {
	switch m {
	case filemode.Dir:
		return fs.ModeDir | 0o755
	case filemode.Regular, filemode.Deprecated:
		return 0o644
	case filemode.Executable:
		return 0o755
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	default:
		return fs.ModeIrregular
	}
}

// fileInfo describes a tree entry.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.size }
func (i *fileInfo) Mode() fs.FileMode  { return i.mode }
func (i *fileInfo) ModTime() time.Time { return i.mtime }
func (i *fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *fileInfo) Sys() any           { return nil }

// dirEntry is an entry of a directory listing; Info describes the entry itself (a symbolic
// link, not its target).
type dirEntry struct {
	fsys *treeFS
	n    node
}

func (e dirEntry) Name() string               { return e.n.name }
func (e dirEntry) IsDir() bool                { return e.n.mode == filemode.Dir }
func (e dirEntry) Type() fs.FileMode          { return fileMode(e.n.mode).Type() }
func (e dirEntry) Info() (fs.FileInfo, error) { return e.fsys.info(e.n.name, e.n) }
func (e dirEntry) String() string             { return fs.FormatDirEntry(e) }

// blobFile is an open file; its content is read from the blob on the first Read. An irregular
// entry (a submodule) reads as empty.
type blobFile struct {
	fsys   *treeFS
	name   string
	info   *fileInfo
	hash   plumbing.Hash
	r      io.ReadCloser
	closed bool
}

func (b *blobFile) Stat() (fs.FileInfo, error) { return b.info, nil }

func (b *blobFile) Read(p []byte) (int, error) {
	if b.closed {
		return 0, &fs.PathError{Op: "read", Path: b.name, Err: fs.ErrClosed}
	}
	if !b.info.mode.IsRegular() {
		return 0, io.EOF
	}
	if b.r == nil {
		r, err := openBlob(b.fsys.s, b.hash)
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: b.name, Err: err}
		}
		b.r = r
	}
	return b.r.Read(p)
}

func (b *blobFile) Close() error {
	if b.closed {
		return &fs.PathError{Op: "close", Path: b.name, Err: fs.ErrClosed}
	}
	b.closed = true
	if b.r != nil {
		return b.r.Close()
	}
	return nil
}

// dirFile is an open directory.
type dirFile struct {
	fsys    *treeFS
	info    *fileInfo
	entries []node
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

func (d *dirFile) Close() error { return nil }

// ReadDir returns the next n entries (all remaining when n <= 0), in name order.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n > 0 && len(rest) == 0 {
		return nil, io.EOF
	}
	if n > 0 && n < len(rest) {
		rest = rest[:n]
	}
	d.off += len(rest)
	entries := make([]fs.DirEntry, len(rest))
	for i, c := range rest {
		entries[i] = dirEntry{d.fsys, c}
	}
	return entries, nil
}
