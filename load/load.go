// Package load reads one revision of a config repository, the one way every command does: the
// working tree at a directory, a commit of the Git repository holding it, or nothing (an empty
// base). The config root is opened once (os.Root for a working tree), and the files the model
// was loaded from stay readable through the same fs.FS for what reads them besides the loader
// (plan's custom rules under policies/).
package load

import (
	"context"
	"io"
	"io/fs"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/source"
)

// Spec says which revision to load.
type Spec struct {
	// Dir is the config root. Without Rev, its working tree is loaded, confined to it with
	// os.Root (a symbolic link that leads out of it is refused); with Rev, the same path in the
	// Git repository holding it, which need not exist in the working tree.
	Dir string
	// Rev is a Git revision (anything source.AtRevision resolves: a branch, a tag, a commit,
	// HEAD~1, refs/remotes/origin/live); "" for the working tree.
	Rev string
	// Empty loads nothing: an empty base, which has no model and no files.
	Empty bool
}

// Options tune a load.
type Options struct {
	// Cache keeps parse results by content across loads (both sides of a plan share one, so a
	// file unchanged between them is parsed once); nil: none.
	Cache *config.Cache
	// Revision computes the revision digest (engine.RevisionOf) of a load without problems.
	Revision bool
}

// Loaded is a loaded revision. Close it when done with FS.
type Loaded struct {
	// Result is the model and its problems; nil for an empty load.
	Result *config.Result
	// FS is the config root the model was loaded from; nil for an empty load.
	FS fs.FS
	// Commit is the full hex hash of the commit loaded; "" for a working tree.
	Commit string
	// Ref is the revision asked for (Spec.Rev); "" for a working tree.
	Ref string
	// Revision is the revision digest, with Options.Revision and no problems; "" otherwise.
	Revision string
	// Empty says that nothing was loaded (Spec.Empty).
	Empty bool

	root io.Closer // the working tree's os.Root; nil otherwise
}

// Load loads the revision spec names. The error is for failures of the load itself (a root
// that does not open, a revision that does not resolve, a cancelled context), worded as
// source and sets word them; problems of the config are in Result.Problems.
func Load(ctx context.Context, spec Spec, opts Options) (*Loaded, error) {
	if spec.Empty {
		return &Loaded{Empty: true}, nil
	}
	l := &Loaded{Ref: spec.Rev}
	if spec.Rev == "" {
		r, root, err := source.Dir(spec.Dir)
		if err != nil {
			return nil, err
		}
		l.FS, l.root = r.FS, root
	} else {
		r, err := source.AtRevision(ctx, spec.Dir, spec.Rev)
		if err != nil {
			return nil, err
		}
		l.FS, l.Commit = r.FS, r.Commit
	}
	res, err := config.Load(ctx, l.FS, config.Options{Cache: opts.Cache})
	if err != nil {
		l.Close()
		return nil, err
	}
	l.Result = res
	if opts.Revision && res.OK() {
		if l.Revision, err = engine.RevisionOf(res.Model); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// Model is the loaded model; nil for an empty load.
func (l *Loaded) Model() *config.Model {
	if l.Result == nil {
		return nil
	}
	return l.Result.Model
}

// Close releases the working tree's root; it does nothing for a Git revision or an empty
// load, and may be called more than once.
func (l *Loaded) Close() error {
	if l == nil || l.root == nil {
		return nil
	}
	err := l.root.Close()
	l.root = nil
	return err
}
