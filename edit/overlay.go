package edit

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// Overlay returns base with files (slash paths relative to the root, cleaned) added or replaced,
// and the directories they need. Loading the overlay shows what the config would be after a
// change, before anything is written. Only regular files are overlaid.
func Overlay(base fs.FS, files map[string][]byte) fs.FS {
	o := &overlay{base: base, files: map[string][]byte{}, dirs: map[string]bool{}}
	for p, data := range files {
		p = path.Clean(p)
		o.files[p] = data
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			o.dirs[d] = true
		}
	}
	return o
}

type overlay struct {
	base  fs.FS
	files map[string][]byte
	dirs  map[string]bool // directories holding an overlaid file, at any depth
}

var (
	_ fs.ReadDirFS = (*overlay)(nil)
	_ fs.StatFS    = (*overlay)(nil)
)

func (o *overlay) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := o.files[name]; ok {
		return &memFile{info: fileInfo{name: path.Base(name), size: int64(len(data))}, r: bytes.NewReader(data)}, nil
	}
	if o.dirs[name] || name == "." {
		entries, err := o.ReadDir(name)
		if err != nil {
			return nil, err
		}
		return &memDir{info: fileInfo{name: path.Base(name), dir: true}, entries: entries}, nil
	}
	return o.base.Open(name)
}

func (o *overlay) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := o.files[name]; ok {
		return fileInfo{name: path.Base(name), size: int64(len(data))}, nil
	}
	if o.dirs[name] {
		if info, err := fs.Stat(o.base, name); err == nil {
			return info, nil
		}
		return fileInfo{name: path.Base(name), dir: true}, nil
	}
	return fs.Stat(o.base, name)
}

func (o *overlay) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	entries, err := fs.ReadDir(o.base, name)
	if err != nil && !(errors.Is(err, fs.ErrNotExist) && (o.dirs[name] || name == ".")) {
		return nil, err
	}
	byName := map[string]fs.DirEntry{}
	for _, e := range entries {
		byName[e.Name()] = e
	}
	child := func(p string) (string, bool) {
		rest := p
		if name != "." {
			var ok bool
			if rest, ok = strings.CutPrefix(p, name+"/"); !ok {
				return "", false
			}
		}
		first, _, _ := strings.Cut(rest, "/")
		return first, true
	}
	for p, data := range o.files {
		if c, ok := child(p); ok && path.Join(name, c) == p {
			byName[c] = fs.FileInfoToDirEntry(fileInfo{name: c, size: int64(len(data))})
		}
	}
	for d := range o.dirs {
		if c, ok := child(d); ok && path.Join(name, c) == d {
			if _, exists := byName[c]; !exists {
				byName[c] = fs.FileInfoToDirEntry(fileInfo{name: c, dir: true})
			}
		}
	}
	out := make([]fs.DirEntry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (f fileInfo) Name() string { return f.name }
func (f fileInfo) Size() int64  { return f.size }
func (f fileInfo) Mode() fs.FileMode {
	if f.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (f fileInfo) ModTime() time.Time { return time.Time{} }
func (f fileInfo) IsDir() bool        { return f.dir }
func (f fileInfo) Sys() any           { return nil }

type memFile struct {
	info fileInfo
	r    *bytes.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *memFile) Close() error               { return nil }

type memDir struct {
	info    fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *memDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}
func (d *memDir) Close() error { return nil }

func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}
