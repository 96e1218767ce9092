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
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/permsets/permsets/config"
)

// DefaultDebounce is how long a DirSource waits for a burst of changes to settle.
const DefaultDebounce = 100 * time.Millisecond

// maxWaitFactor bounds the debounce: under a continuous stream of changes a signal is still
// sent every maxWaitFactor*debounce, so a busy tree is not starved of reloads.
const maxWaitFactor = 20

// rootPoll is how often a DirSource whose root was removed or renamed looks for it again.
const rootPoll = time.Second

// DirSource follows a working tree with fsnotify. fsnotify is not recursive, so it watches the
// root and every subdirectory but hidden ones (which the loader skips too), adds directories as
// they appear and drops the watches of directories that go away or are renamed.
//
// Any change under a watched directory signals (after the debounce), except changes to hidden
// names, which the loader does not read, with two exceptions: .permsetsignore, and hidden
// symbolic links at the root (the ..data link Kubernetes swaps to update a mounted ConfigMap).
// Watcher errors such as a queue overflow mean changes may have been missed: the tree is
// rescanned and a reload signalled.
type DirSource struct {
	dir      string // absolute, clean
	debounce time.Duration
	log      *slog.Logger
	w        *fsnotify.Watcher
	out      chan struct{} // capacity 1: signals coalesce

	mu       sync.Mutex
	watched  map[string]bool // absolute paths of the directories watched
	rootLost bool            // the root was removed or renamed; polled for

	startOnce sync.Once
	closeOnce sync.Once
	closeErr  error
}

var _ Source = (*DirSource)(nil)

// NewDirSource watches dir. debounce <= 0 means DefaultDebounce; log nil discards. The watches
// are set up at once, so changes made after NewDirSource returns are seen by Changes.
func NewDirSource(dir string, debounce time.Duration, log *slog.Logger) (*DirSource, error) {
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	log = orDiscard(log)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("config root: %w", err)
	}
	abs = filepath.Clean(abs)
	info, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("config root: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("config root %s: not a directory", abs)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", abs, watchHint(err))
	}
	s := &DirSource{
		dir:      abs,
		debounce: debounce,
		log:      log.With("dir", abs),
		w:        w,
		out:      make(chan struct{}, 1),
		watched:  map[string]bool{},
	}
	if err := s.addTree(abs); err != nil {
		w.Close()
		return nil, fmt.Errorf("watch %s: %w", abs, watchHint(err))
	}
	return s, nil
}

// watchHint adds the remedy to the error of running out of inotify watches or instances.
func watchHint(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w (out of inotify watches: raise the sysctl fs.inotify.max_user_watches)", err)
	case errors.Is(err, syscall.EMFILE):
		return fmt.Errorf("%w (out of inotify instances: raise the sysctl fs.inotify.max_user_instances)", err)
	}
	return err
}

// String is "dir " and the absolute path of the root.
func (s *DirSource) String() string { return "dir " + s.dir }

// Dir is the absolute path of the root.
func (s *DirSource) Dir() string { return s.dir }

// Open opens the root confined with os.Root, as config.LoadDir does: a symbolic link that leads
// out of the tree is refused by the loader. The commit is "" (a working tree has none).
func (s *DirSource) Open(ctx context.Context) (fs.FS, string, io.Closer, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", nil, err
	}
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, "", nil, err
	}
	return root.FS(), "", root, nil
}

// Changes starts following the tree and returns the channel signalled after each burst of
// changes settles. The channel is closed when ctx is done or the source is closed; then the
// watcher is closed too. A DirSource follows one context: later calls return the same channel.
func (s *DirSource) Changes(ctx context.Context) <-chan struct{} {
	s.startOnce.Do(func() { go s.run(ctx) })
	return s.out
}

// Close stops the watcher; a DirSource whose Changes context ends needs no Close.
func (s *DirSource) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.w.Close() })
	return s.closeErr
}

func (s *DirSource) run(ctx context.Context) {
	defer close(s.out)
	defer s.Close()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var (
		pending    bool
		burstStart time.Time
		poll       *time.Ticker
		pollC      <-chan time.Time
	)
	maxWait := maxWaitFactor * s.debounce
	arm := func() {
		now := time.Now()
		if !pending {
			pending, burstStart = true, now
		}
		d := min(s.debounce, max(0, burstStart.Add(maxWait).Sub(now)))
		timer.Reset(d)
	}
	startPoll := func() {
		if poll == nil {
			poll = time.NewTicker(rootPoll)
			pollC = poll.C
		}
	}
	stopPoll := func() {
		if poll != nil {
			poll.Stop()
			poll, pollC = nil, nil
		}
	}
	defer stopPoll()

	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-s.w.Events:
			if !ok {
				return
			}
			if s.handle(ev) {
				arm()
			}
			if s.lost() {
				startPoll()
			}
		case err, ok := <-s.w.Errors:
			if !ok {
				return
			}
			s.log.Warn("watcher error; rescanning the tree and reloading", "err", err)
			s.rescan()
			if s.lost() {
				startPoll()
			}
			arm()
		case <-pollC:
			if s.findRoot() {
				stopPoll()
				arm()
			}
		case <-timer.C:
			pending = false
			select {
			case s.out <- struct{}{}:
			default: // a signal is already waiting: it covers this one
			}
		}
	}
}

// handle updates the watches for one event and reports whether it may change what the loader
// reads.
func (s *DirSource) handle(ev fsnotify.Event) bool {
	p := filepath.Clean(ev.Name)
	s.log.Debug("change", "path", p, "op", ev.Op.String())
	if p == s.dir {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			s.log.Warn("the config root was removed or renamed; serving the last good revision until it is back")
			s.mu.Lock()
			s.forgetLocked(s.dir)
			s.rootLost = true
			s.mu.Unlock()
		}
		return true
	}
	rel, err := filepath.Rel(s.dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return false // an event from a directory that has left the tree
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		// A directory that went away or moved: its watches (and its subdirectories') go too.
		// If it moved within the tree, its new name comes as a Create and is watched afresh.
		s.mu.Lock()
		s.forgetLocked(p)
		s.mu.Unlock()
	}
	if ev.Has(fsnotify.Create) && !hiddenPath(rel) {
		if info, err := os.Lstat(p); err == nil && info.IsDir() {
			// Files may have been created in it before the watch was added; the reload this
			// event signals reads them anyway, and addTree watches any subdirectory.
			if err := s.addTree(p); err != nil {
				s.log.Warn("cannot watch a new directory; changes under it will be seen only on the next reload", "path", p, "err", watchHint(err))
			}
		}
	}
	return relevant(rel, p)
}

// relevant reports whether a change at rel (absolute path p) may change what the loader reads.
func relevant(rel, p string) bool {
	if !hiddenPath(rel) || rel == config.IgnoreFile {
		return true
	}
	if !strings.ContainsRune(rel, filepath.Separator) {
		// A hidden symbolic link at the root, as Kubernetes swaps to update a ConfigMap volume.
		if info, err := os.Lstat(p); err == nil && info.Mode()&fs.ModeSymlink != 0 {
			return true
		}
	}
	return false
}

// hiddenPath reports whether a component of the slash or OS relative path starts with a dot.
func hiddenPath(rel string) bool {
	for _, c := range strings.Split(filepath.ToSlash(rel), "/") {
		if strings.HasPrefix(c, ".") && c != "." {
			return true
		}
	}
	return false
}

// addTree watches dir and every non-hidden directory under it. Each watch is added before the
// directory is listed, so a subdirectory created meanwhile is either listed or reported. It
// returns the error of watching dir itself; errors below are logged.
func (s *DirSource) addTree(dir string) error {
	if err := s.w.Add(dir); err != nil {
		return err
	}
	s.mu.Lock()
	s.watched[dir] = true
	s.mu.Unlock()
	entries, err := os.ReadDir(dir) // follows dir if it is a symbolic link (the root may be)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("cannot list a directory", "path", dir, "err", err)
		}
		return nil
	}
	for _, e := range entries {
		// DirEntry types come from lstat: linked directories are not followed, as the loader
		// does not follow them.
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		if err := s.addTree(sub); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("cannot watch a directory; changes under it will be seen only on the next reload", "path", sub, "err", watchHint(err))
		}
	}
	return nil
}

// forgetLocked drops the watches of dir and the directories under it.
func (s *DirSource) forgetLocked(dir string) {
	prefix := dir + string(filepath.Separator)
	for d := range s.watched {
		if d == dir || strings.HasPrefix(d, prefix) {
			delete(s.watched, d)
			_ = s.w.Remove(d) // inotify has already dropped the watch of a removed directory
		}
	}
}

// rescan drops every watch and watches the tree again: after a watcher error, watches may be
// missing or stale.
func (s *DirSource) rescan() {
	s.mu.Lock()
	s.forgetLocked(s.dir)
	s.mu.Unlock()
	if err := s.addTree(s.dir); err != nil {
		s.log.Warn("cannot watch the config root", "err", watchHint(err))
		s.mu.Lock()
		s.rootLost = true
		s.mu.Unlock()
	}
}

// findRoot watches the root again if it is back, and reports whether it is.
func (s *DirSource) findRoot() bool {
	if info, err := os.Stat(s.dir); err != nil || !info.IsDir() {
		return false
	}
	if err := s.addTree(s.dir); err != nil {
		return false
	}
	s.mu.Lock()
	s.rootLost = false
	s.mu.Unlock()
	s.log.Info("the config root is back")
	return true
}

func (s *DirSource) lost() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rootLost
}

// watchedDirs lists the directories watched, for tests.
func (s *DirSource) watchedDirs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.watched))
	for d := range s.watched {
		out = append(out, d)
	}
	return out
}
