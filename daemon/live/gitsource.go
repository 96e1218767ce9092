package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/permsets/permsets/internal/credentials"
	"github.com/permsets/permsets/internal/textfmt"
	"github.com/permsets/permsets/source"
)

// Defaults of a GitSource.
const (
	DefaultPoll       = 30 * time.Second
	DefaultGitTimeout = 30 * time.Second
)

// GitOptions configure a GitSource.
type GitOptions struct {
	URL    string // what git clones: https://, ssh://, user@host:path, file:// or a local path
	Branch string // the branch followed, e.g. live
	Path   string // the config root inside the repository (slash path); "" for the top
	// CacheDir holds the clone (CacheDir/repo.git, bare); created when missing.
	CacheDir string
	Poll     time.Duration // how often to fetch; <= 0 means DefaultPoll
	Timeout  time.Duration // bound of each Git operation; <= 0 means DefaultGitTimeout
	// Auth, when nil, is chosen from the environment by credentials.AuthFromEnv.
	Auth transport.AuthMethod
	Log  *slog.Logger // nil: discard
}

// GitSource follows a branch of a Git repository with go-git: it fetches the branch into a bare
// clone in the cache directory every Poll and whenever asked (Trigger: a webhook, SIGHUP), and
// signals Changes when a fetch moves the branch, fails, or recovers. Open gives the tree of the
// fetched commit at Path, read from the clone's object store: no work tree is checked out.
//
// Fetches never overlap: a request made while one is in flight is served by one more fetch
// after it, shared by every request made meanwhile, so a burst of poll ticks, webhooks and
// signals costs at most two. Each fetch runs under its own timeout.
//
// When a fetch fails (the remote is unreachable, the branch is gone), Open returns that error,
// so the reloader keeps the last good revision and shows the source as not OK, until a fetch
// succeeds again. Credentials (in the URL, or the token of PERMSETS_GIT_TOKEN) never appear in
// String, in errors or in logs.
type GitSource struct {
	url, branch, path string
	repoDir           string
	poll, timeout     time.Duration
	auth              transport.AuthMethod
	scrubber          *credentials.Scrubber // the URL's credentials and the environment's token
	log               *slog.Logger
	out               chan struct{} // capacity 1: signals coalesce

	life   context.Context // ends with Close or the Changes context
	cancel context.CancelFunc
	// flying counts the goroutines running fetches, so Close returns only once none writes
	// to the clone any more.
	flying sync.WaitGroup

	// repoMu: a fetch writes to the clone (Lock); an open revision reads it (RLock, until its
	// closer is closed).
	repoMu sync.RWMutex

	mu        sync.Mutex
	cur, next *flight       // the fetch in flight and the one queued after it
	attempted bool          // a fetch has completed (well or not)
	head      plumbing.Hash // the branch's commit at the last good fetch
	fetchErr  error         // the last fetch's error, scrubbed; nil after a good one
	opened    string        // what Open last returned: commit or error message
	hasOpened bool          // Open has been called: before, no one needs a signal

	closed    bool // out is closed
	fetches   atomic.Int64
	startOnce sync.Once
	// beforeFetch, in tests, is called as each fetch starts, before it is marked started.
	beforeFetch func()
}

// flight is one fetch: its requesters wait on done.
type flight struct {
	done    chan struct{}
	started bool // past the point where a new request could still be served by it
	err     error
}

var _ Source = (*GitSource)(nil)

// NewGitSource prepares to follow o.Branch of o.URL; nothing is fetched until Open or a
// Trigger. It fails on a missing URL or branch, an invalid path, or credentials the environment
// cannot supply (SSH without an agent or known_hosts).
func NewGitSource(o GitOptions) (*GitSource, error) {
	if o.URL == "" || o.Branch == "" {
		return nil, errors.New("git source: a URL and a branch are required")
	}
	if !plumbing.NewBranchReferenceName(o.Branch).IsBranch() || strings.ContainsAny(o.Branch, " ~^:?*[\\") || strings.Contains(o.Branch, "..") {
		return nil, fmt.Errorf("git source: %q is not a branch name", o.Branch)
	}
	p := strings.Trim(o.Path, "/")
	if p == "." {
		p = ""
	}
	if p != "" && !fs.ValidPath(p) {
		return nil, fmt.Errorf("git source: invalid path %q", o.Path)
	}
	if o.CacheDir == "" {
		return nil, errors.New("git source: a cache directory is required")
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultGitTimeout
	}
	log := orDiscard(o.Log)
	s := &GitSource{
		url:     o.URL,
		branch:  o.Branch,
		path:    p,
		repoDir: filepath.Join(o.CacheDir, "repo.git"),
		poll:    o.Poll,
		timeout: o.Timeout,
		auth:    o.Auth,
		out:     make(chan struct{}, 1),
	}
	_, token := credentials.FromEnv()
	s.scrubber = credentials.NewScrubber(o.URL, token)
	if s.auth == nil {
		auth, err := credentials.AuthFromEnv(o.URL)
		if err != nil {
			return nil, errors.New(s.scrub(fmt.Sprintf("git source: %v", err)))
		}
		s.auth = auth
	}
	s.log = log.With("git", s.String())
	s.life, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// scrub removes the credentials from a message: the URL is shown redacted, and no password,
// token or query value survives, in any encoding (credentials.Scrubber).
func (s *GitSource) scrub(msg string) string { return s.scrubber.Scrub(msg) }

// String is "git URL@BRANCH", plus " path SUBDIR" with a path; the URL redacted.
func (s *GitSource) String() string {
	str := "git " + credentials.Redact(s.url) + "@" + s.branch
	if s.path != "" {
		str += " path " + s.path
	}
	return str
}

// Fetches is how many fetches have run (for tests and metrics).
func (s *GitSource) Fetches() int64 { return s.fetches.Load() }

// Trigger asks for a fetch now and returns at once; if it moves the branch, Changes signals.
func (s *GitSource) Trigger() { s.request() }

// Fetch fetches now (collapsed with a fetch in flight, as Trigger is) and waits for it; it
// returns the fetch's error, or ctx's.
func (s *GitSource) Fetch(ctx context.Context) error {
	f := s.request()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// request returns the fetch that will serve a request made now: the one in flight if it has not
// started yet, else the one queued after it (queued now if there is none), else a new one.
func (s *GitSource) request() *flight {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.life.Err() != nil:
		// Closed: no new fetch may start once Close is waiting for those in flight.
		f := &flight{done: make(chan struct{}), err: s.life.Err()}
		close(f.done)
		return f
	case s.cur == nil:
		s.cur = &flight{done: make(chan struct{})}
		s.flying.Add(1)
		go s.fly(s.cur)
		return s.cur
	case !s.cur.started:
		return s.cur
	case s.next == nil:
		s.next = &flight{done: make(chan struct{})}
	}
	return s.next
}

// fly runs f, then the fetch queued meanwhile, if any.
func (s *GitSource) fly(f *flight) {
	defer s.flying.Done()
	for f != nil {
		if s.beforeFetch != nil {
			s.beforeFetch()
		}
		s.mu.Lock()
		f.started = true
		s.mu.Unlock()
		f.err = s.fetch()
		s.mu.Lock()
		close(f.done)
		f, s.next = s.next, nil
		s.cur = f
		s.mu.Unlock()
	}
}

// fetch fetches the branch into the clone, records the outcome, and signals Changes when what
// Open would return has changed.
func (s *GitSource) fetch() error {
	s.repoMu.Lock()
	head, err := s.fetchLocked()
	s.repoMu.Unlock()
	s.fetches.Add(1)

	s.mu.Lock()
	prevHead, prevErr := s.head, s.fetchErr
	s.attempted = true
	if err == nil {
		s.head, s.fetchErr = head, nil
	} else {
		s.fetchErr = err
	}
	if s.hasOpened && s.stateLocked() != s.opened && !s.closed {
		select {
		case s.out <- struct{}{}:
		default: // a signal is already waiting: it covers this one
		}
	}
	s.mu.Unlock()

	switch {
	case s.life.Err() != nil:
		// Shutting down: the fetch was cancelled, nothing to report.
	case err != nil && (prevErr == nil || prevErr.Error() != err.Error()):
		s.log.Warn("fetch failed; the last good revision, if any, stays served", "err", err.Error())
	case err != nil:
		s.log.Debug("fetch still failing", "err", err.Error())
	case prevErr != nil:
		s.log.Info("fetch works again", "commit", head.String())
	case head != prevHead:
		s.log.Info("fetched a new commit", "commit", head.String(), "was", shortHash(prevHead))
	default:
		s.log.Debug("fetched; nothing new", "commit", head.String())
	}
	return err
}

func shortHash(h plumbing.Hash) string {
	if h.IsZero() {
		return ""
	}
	return textfmt.Short(h.String())
}

// stateLocked is what Open would return now, as a string to compare.
func (s *GitSource) stateLocked() string {
	if s.fetchErr != nil {
		return "error " + s.fetchErr.Error()
	}
	return s.head.String()
}

// fetchLocked fetches under repoMu and returns the branch's commit. Its errors are scrubbed.
func (s *GitSource) fetchLocked() (plumbing.Hash, error) {
	ctx, cancel := context.WithTimeout(s.life, s.timeout)
	defer cancel()
	repo, err := s.openRepo()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	tracking := plumbing.NewRemoteReferenceName("origin", s.branch)
	spec := config.RefSpec("+" + plumbing.NewBranchReferenceName(s.branch).String() + ":" + tracking.String())
	// The remote lives in memory only: a URL with credentials is never written to the clone's
	// config.
	rem := git.NewRemote(repo.Storer, &config.RemoteConfig{Name: "origin", URLs: []string{s.url}})
	err = rem.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{spec}, Auth: s.auth, Tags: git.NoTags})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		if ctx.Err() != nil && s.life.Err() == nil {
			err = fmt.Errorf("%w (timed out after %s)", err, s.timeout)
		}
		return plumbing.ZeroHash, &fetchError{msg: s.scrub(fmt.Sprintf("fetch %s: %v", s.url, err)), err: err}
	}
	if err == nil {
		// go-git writes its pack files 0444 whatever the umask: the clone is user data.
		if err := privateDir(s.repoDir); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	ref, err := repo.Storer.Reference(tracking)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetch %s: branch %s: %s", credentials.Redact(s.url), s.branch, s.scrub(err.Error()))
	}
	if _, err := repo.CommitObject(ref.Hash()); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetch %s: commit %s of %s: %s", credentials.Redact(s.url), ref.Hash(), s.branch, s.scrub(err.Error()))
	}
	return ref.Hash(), nil
}

// fetchError is a scrubbed fetch error; Unwrap gives go-git's error for errors.Is.
type fetchError struct {
	msg string
	err error
}

func (e *fetchError) Error() string { return e.msg }
func (e *fetchError) Unwrap() error { return e.err }

// openRepo opens the clone, creating it when missing. A clone that cannot be opened (left
// broken by a crash) is only a cache: it is removed and created afresh.
func (s *GitSource) openRepo() (*git.Repository, error) {
	repo, err := git.PlainOpen(s.repoDir)
	if err == nil {
		return repo, nil
	}
	if !errors.Is(err, git.ErrRepositoryNotExists) {
		s.log.Warn("the clone in the cache directory is broken; cloning afresh", "dir", s.repoDir, "err", err.Error())
		if err := os.RemoveAll(s.repoDir); err != nil {
			return nil, fmt.Errorf("cache %s: %w", s.repoDir, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(s.repoDir), 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	repo, err = git.PlainInit(s.repoDir, true)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", s.repoDir, err)
	}
	return repo, nil
}

// Open returns the tree of the fetched commit at the path, and the commit. The first Open
// fetches; after that Open reads what the last fetch left, and returns its error if it failed.
// Close the closer once the load has read the files: fetches wait for it.
func (s *GitSource) Open(ctx context.Context) (fs.FS, string, io.Closer, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", nil, err
	}
	s.mu.Lock()
	attempted := s.attempted
	s.mu.Unlock()
	if !attempted {
		if err := s.Fetch(ctx); err != nil && ctx.Err() != nil {
			return nil, "", nil, err
		}
	}
	s.mu.Lock()
	head, ferr := s.head, s.fetchErr
	s.opened, s.hasOpened = s.stateLocked(), true
	s.mu.Unlock()
	if ferr != nil {
		return nil, "", nil, ferr
	}
	s.repoMu.RLock()
	release := &releaser{unlock: s.repoMu.RUnlock}
	repo, err := git.PlainOpen(s.repoDir)
	if err != nil {
		release.Close()
		return nil, "", nil, fmt.Errorf("cache %s: %w", s.repoDir, err)
	}
	fsys, err := source.TreeFS(repo, head, s.path)
	if err != nil {
		release.Close()
		return nil, "", nil, err
	}
	return fsys, head.String(), release, nil
}

// releaser calls unlock once.
type releaser struct {
	once   sync.Once
	unlock func()
}

func (r *releaser) Close() error {
	r.once.Do(r.unlock)
	return nil
}

// Changes starts polling and returns the channel signalled after each fetch that changes what
// Open returns (a new commit, a failure, a recovery). The channel is closed when ctx is done;
// fetches stop then too. A GitSource follows one context: later calls return the same channel.
func (s *GitSource) Changes(ctx context.Context) <-chan struct{} {
	s.startOnce.Do(func() { go s.run(ctx) })
	return s.out
}

func (s *GitSource) run(ctx context.Context) {
	defer func() {
		s.cancel()
		s.mu.Lock()
		s.closed = true
		close(s.out)
		s.mu.Unlock()
	}()
	t := time.NewTicker(s.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.life.Done():
			return
		case <-t.C:
			s.request()
		}
	}
}

// Close stops polling, cancels a fetch in flight and waits for it to return, so nothing writes
// to the cache directory after Close (a caller may remove it, or release its lock).
func (s *GitSource) Close() error {
	s.mu.Lock() // request starts fetches under mu, after seeing life not done
	s.cancel()
	s.mu.Unlock()
	s.flying.Wait()
	return nil
}
