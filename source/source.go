// Package source is where configuration comes from: a working tree on disk or a past revision
// of a Git repository, each given to the loader as an fs.FS rooted at the config root.
package source

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// Revision is one readable state of a config repository.
type Revision struct {
	FS     fs.FS  // rooted at the config root (the --path subdirectory when there is one)
	Commit string // full hex commit hash; "" for a plain directory
	Ref    string // what the user asked for (e.g. "HEAD~1", "live", "v1.2"), "" for a directory
}

// ErrUnknownRevision is matched (errors.Is) by the error of a revision that does not resolve.
var ErrUnknownRevision = errors.New("unknown revision")

// Dir returns the working tree at dir, confined with os.Root: a symbolic link that leads out of
// dir fails. Close the closer when done with the revision.
func Dir(dir string) (*Revision, io.Closer, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("config root: %w", err)
	}
	return &Revision{FS: root.FS()}, root, nil
}

// AtRevision opens the Git repository containing dir (searching parent directories for .git as
// git does), resolves rev (anything go-git's ResolveRevision accepts: a branch, a tag, a full or
// short hash, HEAD~2, refs/remotes/origin/live), and returns that commit's tree, rooted at dir's
// path relative to the top of the repository. dir need not exist in the working tree.
func AtRevision(ctx context.Context, dir, rev string) (*Revision, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	repo, _, rel, err := Open(dir)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hash, err := Resolve(repo, rev)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fsys, err := treeAt(repo, hash, rel, rev)
	if err != nil {
		return nil, err
	}
	return &Revision{FS: fsys, Commit: hash.String(), Ref: rev}, nil
}

// RepoRoot returns the top directory of the Git repository containing dir, and dir's slash path
// relative to it ("." at the top).
func RepoRoot(dir string) (top, rel string, err error) {
	_, top, rel, err = Open(dir)
	return top, rel, err
}

// Open opens the Git repository containing dir (searching parent directories for .git as git
// does) and returns it with its top directory and dir's slash path relative to the top ("."
// there). Symbolic links in dir are resolved first, as git does, so that dir and the top
// compare.
func Open(dir string) (repo *git.Repository, top, rel string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	repo, err = git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, "", "", fmt.Errorf("%s is not in a git repository", dir)
	}
	if err != nil {
		return nil, "", "", fmt.Errorf("git repository at %s: %w", dir, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, "", "", fmt.Errorf("git repository at %s: %w", dir, err)
	}
	top = wt.Filesystem.Root()
	rel, err = filepath.Rel(top, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, "", "", fmt.Errorf("%s is outside the repository at %s", dir, top)
	}
	return repo, top, filepath.ToSlash(rel), nil
}

// Resolve resolves rev to a commit as git rev-parse does. Unlike go-git's ResolveRevision alone,
// a ref wins over a short hash of the same spelling, and a short hash needs at least four
// digits. A revision that does not resolve gives an error matching ErrUnknownRevision.
func Resolve(repo *git.Repository, rev string) (plumbing.Hash, error) {
	base := rev
	if i := strings.IndexAny(base, "~^:"); i >= 0 {
		base = base[:i]
	}
	if i := strings.Index(base, "@{"); i >= 0 {
		base = base[:i]
	}
	if strings.Contains(base, "..") || strings.ContainsAny(base, "\\\x00") || strings.HasPrefix(base, "/") {
		// Not a ref name git accepts; never let it name a file under .git.
		return plumbing.ZeroHash, &revisionError{rev: rev}
	}
	full := rev
	if base != "" && !(len(base) == 2*len(plumbing.ZeroHash) && isHex(base)) {
		name, ok := expandRef(repo, base)
		switch {
		case ok:
			full = string(name) + rev[len(base):]
		case len(base) < 4 && isHex(base):
			return plumbing.ZeroHash, &revisionError{rev: rev}
		}
	}
	storeMu.Lock()
	h, err := repo.ResolveRevision(plumbing.Revision(full))
	storeMu.Unlock()
	switch {
	case err == nil:
		return *h, nil
	case errors.Is(err, plumbing.ErrReferenceNotFound), errors.Is(err, plumbing.ErrObjectNotFound), errors.Is(err, io.EOF):
		// io.EOF: HEAD~N past the first commit.
		return plumbing.ZeroHash, &revisionError{rev: rev}
	default:
		return plumbing.ZeroHash, &revisionError{rev: rev, err: err}
	}
}

// expandRef finds the ref that the short name base stands for, by git's rules.
func expandRef(repo *git.Repository, base string) (plumbing.ReferenceName, bool) {
	storeMu.Lock()
	defer storeMu.Unlock()
	for _, rule := range plumbing.RefRevParseRules {
		name := plumbing.ReferenceName(fmt.Sprintf(rule, base))
		if _, err := repo.Storer.Reference(name); err == nil {
			return name, true
		}
	}
	return "", false
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s + s) // doubled: an odd length is fine
	return err == nil
}

// revisionError is a revision that does not resolve.
type revisionError struct {
	rev string
	err error // detail, when there is more to say than "unknown"
}

func (e *revisionError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("unknown revision %q: %v", e.rev, e.err)
	}
	return fmt.Sprintf("unknown revision %q", e.rev)
}

func (e *revisionError) Unwrap() error { return ErrUnknownRevision }

// ErrNoLiveBranch is matched (errors.Is) by the error of DefaultBase when no live branch exists.
var ErrNoLiveBranch = errors.New("no live branch")

// DefaultBase names the revision plan compares against when none is given: the local branch
// live, else a remote's live (origin's first, then the first by name), as the README's "Publishing: apply" says
// says. Neither is an error matching ErrNoLiveBranch: a shallow CI checkout must not silently
// plan against nothing.
func DefaultBase(dir string) (string, error) {
	repo, _, _, err := Open(dir)
	if err != nil {
		return "", err
	}
	storeMu.Lock()
	defer storeMu.Unlock()
	if _, err := repo.Storer.Reference(plumbing.NewBranchReferenceName("live")); err == nil {
		return "live", nil
	}
	refs, err := repo.Storer.IterReferences()
	if err != nil {
		return "", err
	}
	var remotes []string
	_ = refs.ForEach(func(r *plumbing.Reference) error {
		name := r.Name().String()
		if rest, ok := strings.CutPrefix(name, "refs/remotes/"); ok && strings.HasSuffix(rest, "/live") && strings.Count(rest, "/") == 1 {
			remotes = append(remotes, strings.TrimSuffix(rest, "/live"))
		}
		return nil
	})
	if len(remotes) == 0 {
		return "", fmt.Errorf("%w: neither a local branch live nor a remote's (refs/remotes/*/live); fetch it (git fetch origin live:refs/remotes/origin/live) or pass --base empty for a first plan", ErrNoLiveBranch)
	}
	sort.Strings(remotes)
	pick := remotes[0]
	if slices.Contains(remotes, "origin") {
		pick = "origin"
	}
	return "refs/remotes/" + pick + "/live", nil
}
