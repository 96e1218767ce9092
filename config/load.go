package config

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"github.com/permsets/permsets/internal/parallel"
)

// IgnoreFile is the gitignore-syntax file at the config root listing paths not to load.
const IgnoreFile = ".permsetsignore"

// PoliciesDir is the top-level directory of custom Rego rules; it is not loaded as YAML.
const PoliciesDir = "policies"

// Options tune a load.
type Options struct {
	// Cache keeps parse results by content hash across loads (a daemon's reloads); nil: none.
	Cache *Cache
	// Workers is how many files are parsed at once; 0 means GOMAXPROCS.
	Workers int
	// MaxTotalSize is the most bytes of config files a load reads, summed over the files; 0
	// means DefaultMaxTotalSize. A larger organisation raises it here.
	MaxTotalSize int64
}

// DefaultMaxTotalSize is the most bytes of config files a repository may hold: 64 MiB, three
// times the 21 MiB permsgen writes for 100,000 users and 1,000,000 user-set pairs. Memory is
// proportional to what is read (about 12 times for such a repository), so the sum is bounded
// as well as each file.
const DefaultMaxTotalSize = 64 << 20

// Result is what a load found: the normalized model and every problem, sorted. The model is
// always present, but it is complete and safe to compile only when there is no problem.
type Result struct {
	Model    *Model
	Problems []Problem
	// Files is the number of YAML files read, Documents the number of documents in them,
	// Parsed the number of files parsed (not taken from the cache).
	Files, Documents, Parsed int
	// Hashes is the SHA-256 of each file read, by path.
	Hashes map[string][32]byte
}

// OK reports whether the load found no problem.
func (r *Result) OK() bool { return len(r.Problems) == 0 }

// LoadDir loads the config root DIR, confined to it with os.Root: a symbolic link that leads out
// of DIR is refused.
func LoadDir(ctx context.Context, dir string, opts Options) (*Result, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("config root: %w", err)
	}
	defer root.Close()
	return Load(ctx, root.FS(), opts)
}

// Load loads every config file of fsys. The error is for failures of the load itself (a
// cancelled context, an unreadable root); problems in the config are in Result.Problems.
func Load(ctx context.Context, fsys fs.FS, opts Options) (*Result, error) {
	v, err := kindSchemas()
	if err != nil {
		return nil, err
	}
	files, probs, err := findFiles(ctx, fsys)
	if err != nil {
		return nil, err
	}
	if p, over := overTotal(files, opts.MaxTotalSize); over {
		// Nothing is read: the repository is refused whole.
		res := &Result{Hashes: map[string][32]byte{}}
		res.Model, _ = assemble(nil, nil)
		res.Problems = SortProblems(append(probs, p))
		return res, nil
	}
	results := make([]*fileResult, len(files))
	parsed := make([]bool, len(files))
	if err := parallel.Each(ctx, len(files), opts.Workers, func(i int) {
		results[i], parsed[i] = loadFile(fsys, files[i], v, opts.Cache)
	}); err != nil {
		return nil, err
	}
	res := &Result{Files: len(files), Hashes: make(map[string][32]byte, len(files))}
	for i, fr := range results {
		res.Documents += len(fr.docs)
		if parsed[i] {
			res.Parsed++
		}
		res.Hashes[files[i].path] = fr.hash
	}
	if opts.Cache != nil {
		opts.Cache.keep(res.Hashes)
	}
	res.Model, res.Problems = assemble(files, results)
	res.Problems = SortProblems(append(res.Problems, probs...))
	return res, nil
}

// file is a config file found under the root.
type file struct {
	path string
	size int64 // as the walk saw it; reading more is an error
}

// overTotal reports the first file (in path order) with which the files' sizes go over max
// (0: DefaultMaxTotalSize). A file over MaxFileSize does not count: it is refused unread.
func overTotal(files []file, max int64) (Problem, bool) {
	if max <= 0 {
		max = DefaultMaxTotalSize
	}
	var total int64
	for _, f := range files {
		if f.size > MaxFileSize {
			continue
		}
		if total += f.size; total > max {
			return Problem{File: f.path, Code: CodeRepositoryTooLarge, Message: fmt.Sprintf(
				"the config files up to this one hold %d bytes, over the limit of %d (%s) for a repository; nothing was loaded",
				total, max, mib(max))}, true
		}
	}
	return Problem{}, false
}

// mib renders a byte count as MiB for messages ("64 MiB", "0.5 MiB").
func mib(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB"
}

// findFiles walks the root for YAML files, applying the exclusions of docs/config.md.
func findFiles(ctx context.Context, fsys fs.FS) ([]file, []Problem, error) {
	ignore, probs := readIgnore(fsys)
	var files []file
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			if p == "." {
				return err
			}
			probs = append(probs, Problem{File: p, Code: CodeReadError, Message: cleanErr(err)})
			return nil
		}
		if p == "." {
			return nil
		}
		name := d.Name()
		isDir := d.IsDir()
		if strings.HasPrefix(name, ".") || isDir && p == PoliciesDir ||
			ignore != nil && ignore.Match(strings.Split(p, "/"), isDir) {
			if isDir {
				return fs.SkipDir
			}
			return nil
		}
		if isDir {
			return nil
		}
		isYAML := strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
		mode := d.Type()
		if mode&fs.ModeSymlink != 0 {
			info, err := fs.Stat(fsys, p)
			switch {
			case err != nil && strings.Contains(err.Error(), "escapes"):
				probs = append(probs, Problem{File: p, Code: CodeOutsideRoot, Message: "symbolic link leads out of the config root; refused"})
				return nil
			case err != nil:
				msg := cleanErr(err)
				if errors.Is(err, fs.ErrNotExist) {
					msg = "broken symbolic link: its target does not exist"
				}
				if isYAML {
					probs = append(probs, Problem{File: p, Code: CodeReadError, Message: msg})
				}
				return nil
			case info.IsDir():
				probs = append(probs, Problem{File: p, Code: CodeNotRegularFile, Message: "linked directories are not followed; move the files or list them in " + IgnoreFile})
				return nil
			}
			mode = info.Mode().Type()
		}
		if !isYAML {
			return nil
		}
		if !mode.IsRegular() {
			probs = append(probs, Problem{File: p, Code: CodeNotRegularFile, Message: "not a regular file"})
			return nil
		}
		info, err := fs.Stat(fsys, p)
		if err != nil {
			probs = append(probs, Problem{File: p, Code: CodeReadError, Message: cleanErr(err)})
			return nil
		}
		files = append(files, file{path: p, size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("config root: %w", err)
	}
	slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.path, b.path) })
	return files, probs, nil
}

// Limits of the ignore file: a few lines in practice; a huge one would make every path of the
// walk match against every pattern.
const (
	// MaxIgnoreSize is the largest ignore file read, in bytes.
	MaxIgnoreSize = 64 << 10
	// MaxIgnorePatterns is the most patterns an ignore file may hold.
	MaxIgnorePatterns = 1000
)

// readIgnore reads the ignore file. One that cannot be read or is over a limit is a problem,
// and then nothing is ignored: the load still sees every file, and the problem fails it.
func readIgnore(fsys fs.FS) (gitignore.Matcher, []Problem) {
	fail := func(pos Pos, code, format string, args ...any) (gitignore.Matcher, []Problem) {
		return nil, []Problem{{File: IgnoreFile, Pos: pos, Code: code, Message: fmt.Sprintf(format, args...)}}
	}
	f, err := fsys.Open(IgnoreFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return fail(Pos{}, CodeReadError, "%s", cleanErr(err))
	}
	defer f.Close()
	tooBig := func(n int64) (gitignore.Matcher, []Problem) {
		what := "over"
		if n > 0 {
			what = fmt.Sprintf("%d bytes is over", n)
		}
		return fail(Pos{}, CodeFileTooLarge, "%s the limit of %d bytes (64 KiB) for %s; use fewer, wider patterns", what, MaxIgnoreSize, IgnoreFile)
	}
	if info, err := f.Stat(); err == nil && info.Size() > MaxIgnoreSize {
		return tooBig(info.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxIgnoreSize+1))
	if err != nil {
		return fail(Pos{}, CodeReadError, "%s", cleanErr(err))
	}
	if len(data) > MaxIgnoreSize {
		return tooBig(0)
	}
	var patterns []gitignore.Pattern
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, " \r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(patterns) == MaxIgnorePatterns {
			return fail(Pos{i + 1, 1}, CodeFileTooLarge, "more than %d patterns in %s; use fewer, wider patterns", MaxIgnorePatterns, IgnoreFile)
		}
		patterns = append(patterns, gitignore.ParsePattern(line, nil))
	}
	return gitignore.NewMatcher(patterns), nil
}

// cleanErr drops the path an fs error repeats: the problem already names the file.
func cleanErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// fileResult is everything learned from one file's content; it does not depend on the path, so
// it is cached by content hash.
type fileResult struct {
	hash     [32]byte
	docs     []decoded
	problems []Problem // File left empty
}

// loadFile reads, parses and decodes one file, or takes it from the cache.
func loadFile(fsys fs.FS, f file, v *validator, cache *Cache) (*fileResult, bool) {
	data, prob := readLimited(fsys, f)
	if prob != nil {
		return &fileResult{problems: []Problem{*prob}}, true
	}
	hash := sha256.Sum256(data)
	if fr := cache.get(hash); fr != nil {
		return fr, false
	}
	fr := parseFile(data, v)
	fr.hash = hash
	cache.put(hash, fr)
	return fr, true
}

// readLimited reads a file of at most MaxFileSize bytes, and no more than the walk saw (the
// total budget counted that).
func readLimited(fsys fs.FS, fl file) ([]byte, *Problem) {
	p := fl.path
	fail := func(code, msg string) ([]byte, *Problem) {
		return nil, &Problem{Code: code, Message: msg}
	}
	f, err := fsys.Open(p)
	if err != nil {
		if strings.Contains(err.Error(), "escapes") {
			return fail(CodeOutsideRoot, "symbolic link leads out of the config root; refused")
		}
		return fail(CodeReadError, cleanErr(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fail(CodeReadError, cleanErr(err))
	}
	if !info.Mode().IsRegular() {
		return fail(CodeNotRegularFile, "not a regular file")
	}
	if info.Size() > MaxFileSize {
		return fail(CodeFileTooLarge, fmt.Sprintf("%d bytes is over the limit of %d (16 MiB); split the file", info.Size(), MaxFileSize))
	}
	limit := min(int64(MaxFileSize), fl.size)
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return fail(CodeReadError, cleanErr(err))
	}
	if int64(len(data)) > limit {
		if limit < MaxFileSize {
			return fail(CodeReadError, "the file grew while it was being loaded; load again")
		}
		return fail(CodeFileTooLarge, fmt.Sprintf("over the limit of %d bytes (16 MiB); split the file", MaxFileSize))
	}
	return data, nil
}

// parseFile parses and decodes one file's content.
func parseFile(data []byte, v *validator) (fr *fileResult) {
	fr = &fileResult{}
	ps := &problems{}
	defer func() {
		// Nothing in a config file may crash the loader; a bug here is reported as a problem.
		if r := recover(); r != nil {
			ps.add(Pos{}, CodeYAMLSyntax, "internal error reading this file: %v", r)
			fr.docs, fr.problems = nil, ps.list
		}
	}()
	docs, probs := parseYAML(data)
	ps.list = append(ps.list, probs...)
	for _, doc := range docs {
		d, _ := decodeDoc(doc, v, ps)
		if d.kind != "" {
			fr.docs = append(fr.docs, d)
		}
	}
	fr.problems = ps.list
	return fr
}

// Cache keeps the parse results of files by content hash, so a reload re-parses only the files
// that changed. It is safe for concurrent use. Entries not seen in the latest load are dropped.
type Cache struct {
	mu      sync.Mutex
	entries map[[32]byte]*fileResult
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{entries: map[[32]byte]*fileResult{}} }

// Len is the number of cached files.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *Cache) get(h [32]byte) *fileResult {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[h]
}

func (c *Cache) put(h [32]byte, fr *fileResult) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[h] = fr
}

func (c *Cache) keep(used map[string][32]byte) {
	live := make(map[[32]byte]bool, len(used))
	for _, h := range used {
		live[h] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for h := range c.entries {
		if !live[h] {
			delete(c.entries, h)
		}
	}
}

// docID is the default id of an Assignment without one: its file and document number.
func docID(file string, index int) string { return fmt.Sprintf("%s#%d", path.Clean(file), index) }
