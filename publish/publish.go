// Package publish is the Git mechanics of permsctl apply (README, Publishing: apply): a clean work tree,
// the branch live fetched from a remote or read locally, live moved to the applied commit as a
// compare-and-swap, and a git note on that commit under refs/notes/permsets saying who applied
// it, when, and which plan. Everything is done with go-git; no git binary is run once
// RegisterFileTransport has made local paths and file:// URLs served in process (go-git's own
// file transport would exec git-upload-pack and git-receive-pack).
//
// Each function opens the repository afresh and shares the go-git objects with nothing else, so
// only the read-check-write of a ref is done under refMu (which serialises it against the other
// functions of this package in the process); fetches and pushes run without it.
package publish

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/revlist"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/storage"

	"github.com/permsets/permsets/internal/credentials"
	"github.com/permsets/permsets/source"
)

// ErrDirty, ErrLiveMoved and ErrNotFastForward are matched (errors.Is) by the errors of
// CheckClean and Publish.
var (
	// ErrDirty: the work tree has changes that are not committed.
	ErrDirty = errors.New("the work tree has uncommitted changes")
	// ErrLiveMoved: live is no longer where the caller saw it (the compare-and-swap failed).
	ErrLiveMoved = errors.New("live moved")
	// ErrNotFastForward: the commit does not descend from live, and force was not given.
	ErrNotFastForward = errors.New("not a fast-forward of live")
)

// NotesRef is where apply records its notes; `git notes --ref permsets show COMMIT` reads them.
const NotesRef = "refs/notes/permsets"

const (
	liveBranch = plumbing.ReferenceName("refs/heads/live")
	notesRef   = plumbing.ReferenceName(NotesRef)
	// maxDirty is how many paths CheckClean names.
	maxDirty = 10
)

// LiveRef names the branch live: refs/heads/live locally (remote ""), or
// refs/remotes/<remote>/live, where FetchLive leaves the remote's.
func LiveRef(remote string) string {
	if remote == "" {
		return liveBranch.String()
	}
	return "refs/remotes/" + remote + "/live"
}

// fetchedNotesRef holds the remote's notes while FetchLive merges them into NotesRef.
func fetchedNotesRef(remote string) plumbing.ReferenceName {
	return plumbing.ReferenceName("refs/permsets/fetch/" + remote + "/notes")
}

// CheckClean fails, matching ErrDirty, when the work tree of the repository containing dir has
// changes: modified, added, deleted or untracked files that are not ignored (by .gitignore
// files, .git/info/exclude or the core.excludesFile of the repository, user or system config,
// by default ~/.config/git/ignore, as git reads them). The error names up to 10 paths, in git
// status --short style, and says how many more there are.
func CheckClean(dir string) error {
	repo, top, _, err := source.Open(dir)
	if err != nil {
		return err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	status, err := wt.Status()
	if err != nil {
		return fmt.Errorf("status of the work tree at %s: %w", top, err)
	}
	// go-git's status reads .gitignore and .git/info/exclude only; git also reads
	// core.excludesFile, with a lower priority than both.
	var ignored gitignore.Matcher
	if global := excludesFile(repo); len(global) > 0 {
		local, _ := gitignore.ReadPatterns(wt.Filesystem, nil)
		ignored = gitignore.NewMatcher(append(global, local...))
	}
	var dirty []string
	for name, st := range status {
		if st.Staging == git.Unmodified && st.Worktree == git.Unmodified {
			continue
		}
		code := string([]byte{byte(st.Staging), byte(st.Worktree)})
		if st.Staging == git.Untracked || st.Worktree == git.Untracked {
			if ignored != nil && ignored.Match(strings.Split(name, "/"), false) {
				continue
			}
			code = "??"
		}
		dirty = append(dirty, name+"\x00"+code)
	}
	if len(dirty) == 0 {
		return nil
	}
	sort.Strings(dirty)
	var b strings.Builder
	for i, d := range dirty {
		if i == maxDirty {
			fmt.Fprintf(&b, " and %d more", len(dirty)-maxDirty)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		name, code, _ := strings.Cut(d, "\x00")
		fmt.Fprintf(&b, "%s %s", strings.TrimSpace(code), name)
	}
	return fmt.Errorf("%w in %s: %s; commit or stash them first", ErrDirty, top, b.String())
}

// excludesFile returns the patterns of the core.excludesFile git would read for repo: the
// repository's setting, else the user's, else the system's, else $XDG_CONFIG_HOME/git/ignore
// (~/.config/git/ignore). Unreadable files give none.
func excludesFile(repo *git.Repository) []gitignore.Pattern {
	name := ""
	if cfg, err := repo.Config(); err == nil {
		name = cfg.Raw.Section("core").Option("excludesfile")
	}
	for _, scope := range []config.Scope{config.GlobalScope, config.SystemScope} {
		if name != "" {
			break
		}
		if cfg, err := config.LoadConfig(scope); err == nil {
			name = cfg.Raw.Section("core").Option("excludesfile")
		}
	}
	if name == "" {
		if xdg := os.Getenv("XDG_CONFIG_HOME"); xdg != "" {
			name = filepath.Join(xdg, "git", "ignore")
		} else if home, err := os.UserHomeDir(); err == nil {
			name = filepath.Join(home, ".config", "git", "ignore")
		} else {
			return nil
		}
	}
	if rest, ok := strings.CutPrefix(name, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil
		}
		name = filepath.Join(home, rest)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil
	}
	var ps []gitignore.Pattern
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, nil))
	}
	return ps
}

// Head returns the commit HEAD points at in the repository containing dir.
func Head(dir string) (string, error) {
	repo, top, _, err := source.Open(dir)
	if err != nil {
		return "", err
	}
	refMu.Lock()
	ref, err := repo.Head()
	refMu.Unlock()
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return "", fmt.Errorf("HEAD of the repository at %s has no commit yet", top)
	}
	if err != nil {
		return "", fmt.Errorf("HEAD of the repository at %s: %w", top, err)
	}
	return ref.Hash().String(), nil
}

// LocalLive returns the commit of the local branch live in the repository containing dir, or ""
// when there is none.
func LocalLive(dir string) (string, error) {
	repo, _, _, err := source.Open(dir)
	if err != nil {
		return "", err
	}
	refMu.Lock()
	defer refMu.Unlock()
	h, err := refHash(repo.Storer, liveBranch)
	if err != nil || h.IsZero() {
		return "", err
	}
	return h.String(), nil
}

// FetchLive fetches refs/heads/live of remote (a remote configured in the repository containing
// dir, e.g. "origin") into refs/remotes/<remote>/live, forced, and returns its commit, or ""
// when the remote has no live (a stale refs/remotes/<remote>/live is then removed). When the
// remote has refs/notes/permsets it is fetched too and merged into the local
// refs/notes/permsets (a fast-forward when it can be, else a merge commit keeping the notes of
// both), so that no note is lost when Publish pushes. auth may be nil; see credentials.AuthFromEnv.
func FetchLive(ctx context.Context, dir, remote string, auth transport.AuthMethod) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	repo, top, _, err := source.Open(dir)
	if err != nil {
		return "", err
	}
	url, err := remoteURL(repo, top, remote)
	if err != nil {
		return "", err
	}
	rem := git.NewRemote(repo.Storer, &config.RemoteConfig{Name: remote, URLs: []string{url}})
	advertised, err := rem.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return "", scrub(fmt.Errorf("fetch from %s: %w", url, err), url, auth)
	}
	var hasLive, hasNotes bool
	for _, r := range advertised {
		hasLive = hasLive || r.Name() == liveBranch
		hasNotes = hasNotes || r.Name() == notesRef
	}
	tracking := plumbing.ReferenceName(LiveRef(remote))
	var specs []config.RefSpec
	if hasLive {
		specs = append(specs, config.RefSpec("+"+liveBranch+":"+tracking))
	}
	if hasNotes {
		specs = append(specs, config.RefSpec("+"+notesRef+":"+fetchedNotesRef(remote)))
	}
	if len(specs) > 0 {
		err := rem.FetchContext(ctx, &git.FetchOptions{RemoteName: remote, RefSpecs: specs, Auth: auth, Tags: git.NoTags})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return "", scrub(fmt.Errorf("fetch live from %s: %w", url, err), url, auth)
		}
	}

	refMu.Lock()
	defer refMu.Unlock()
	if hasNotes {
		if err := mergeFetchedNotes(repo.Storer, fetchedNotesRef(remote)); err != nil {
			return "", fmt.Errorf("notes fetched from %s: %w", credentials.Redact(url), err)
		}
	}
	if !hasLive {
		if err := repo.Storer.RemoveReference(tracking); err != nil {
			return "", err
		}
		return "", nil
	}
	h, err := refHash(repo.Storer, tracking)
	if err != nil {
		return "", err
	}
	if h.IsZero() {
		// Listed, then gone before the fetch.
		return "", nil
	}
	return h.String(), nil
}

// mergeFetchedNotes brings the notes commit at fetched into refs/notes/permsets and removes
// fetched. The caller holds refMu.
func mergeFetchedNotes(s storage.Storer, fetched plumbing.ReferenceName) error {
	theirs, err := refHash(s, fetched)
	if err != nil || theirs.IsZero() {
		return err
	}
	ours, err := refHash(s, notesRef)
	if err != nil {
		return err
	}
	next := theirs
	switch {
	case ours.IsZero() || ours == theirs:
	default:
		if ok, err := isAncestor(s, theirs, ours); err != nil {
			return err
		} else if ok {
			next = ours // ours already has theirs
			break
		}
		if ok, err := isAncestor(s, ours, theirs); err != nil {
			return err
		} else if ok {
			break // a fast-forward to theirs
		}
		next, err = mergeNotes(s, ours, theirs)
		if err != nil {
			return err
		}
	}
	if next != ours {
		if err := setRef(s, notesRef, next, ours); err != nil {
			return err
		}
	}
	return s.RemoveReference(fetched)
}

// Note is what apply records on the applied commit.
type Note struct {
	Actor      string
	Time       time.Time // the zero time means now
	PlanDigest string
	Revision   string
}

// text is the note as stored: "actor: ...\ntime: RFC3339\nplan: ...\nrevision: ...\n".
func (n Note) text() (string, error) {
	for field, v := range map[string]string{"actor": n.Actor, "plan digest": n.PlanDigest, "revision": n.Revision} {
		if strings.ContainsAny(v, "\r\n") {
			return "", fmt.Errorf("note %s %q contains a line break", field, v)
		}
	}
	return fmt.Sprintf("actor: %s\ntime: %s\nplan: %s\nrevision: %s\n",
		n.Actor, n.Time.UTC().Format(time.RFC3339), n.PlanDigest, n.Revision), nil
}

// Publish makes live point at commit (a hash, or any revision Resolve accepts) as a
// compare-and-swap: live must still be at expected ("" = live must not exist yet), else an
// error matching ErrLiveMoved. Unless force, commit must descend from expected, else an error
// matching ErrNotFastForward. The note is recorded on commit under refs/notes/permsets (added to
// the notes there; appended to an earlier note on the same commit, as git notes append does).
//
// With remote "", the local refs/heads/live and refs/notes/permsets are updated; live may not be
// the checked-out branch. With a remote, call FetchLive first: commit goes to the remote's
// refs/heads/live and the notes to its refs/notes/permsets in one push (atomic when the server
// supports it), each command carrying the old value it replaces, so the server refuses it if
// live moved after the fetch; the remote's notes must be contained in the local ones (FetchLive
// makes them so), so no note is lost. Then refs/remotes/<remote>/live and the local notes are
// updated. ctx bounds the push.
func Publish(ctx context.Context, dir, remote, commit, expected string, force bool, note Note, auth transport.AuthMethod) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if note.Time.IsZero() {
		note.Time = time.Now()
	}
	text, err := note.text()
	if err != nil {
		return err
	}
	repo, top, _, err := source.Open(dir)
	if err != nil {
		return err
	}
	target, err := source.Resolve(repo, commit)
	if err != nil {
		return err
	}
	if _, err := object.GetCommit(repo.Storer, target); err != nil {
		return fmt.Errorf("%s is not a commit: %w", commit, err)
	}
	var old plumbing.Hash
	if expected != "" {
		if len(expected) != 2*len(plumbing.ZeroHash) || !isHex(expected) {
			return fmt.Errorf("expected live commit %q is not a full hex hash", expected)
		}
		old = plumbing.NewHash(expected)
	}
	sig := object.Signature{Name: signatureName(note.Actor), When: note.Time}
	if remote == "" {
		return publishLocal(repo, target, old, force, text, sig)
	}
	return publishRemote(ctx, repo, top, remote, target, old, force, text, sig, auth)
}

func publishLocal(repo *git.Repository, commit, expected plumbing.Hash, force bool, text string, sig object.Signature) error {
	s := repo.Storer
	refMu.Lock()
	defer refMu.Unlock()
	cur, err := refHash(s, liveBranch)
	if err != nil {
		return err
	}
	if cur != expected {
		return fmt.Errorf("%w: the local branch live is at %s, not %s as planned; re-run apply", ErrLiveMoved, describe(cur), describe(expected))
	}
	if cur != commit {
		if head, err := s.Reference(plumbing.HEAD); err == nil && head.Type() == plumbing.SymbolicReference && head.Target() == liveBranch {
			return errors.New("live is the checked-out branch: moving it would change the work tree under you; check out another branch first")
		}
	}
	if !force {
		if err := fastForward(s, expected, commit); err != nil {
			return err
		}
	}
	oldNotes, err := refHash(s, notesRef)
	if err != nil {
		return err
	}
	newNotes, err := addNote(s, oldNotes, commit, text, sig)
	if err != nil {
		return err
	}
	if cur != commit {
		if err := setRef(s, liveBranch, commit, cur); errors.Is(err, errRefChanged) {
			return fmt.Errorf("%w while applying (the local branch live changed); re-run apply", ErrLiveMoved)
		} else if err != nil {
			return err
		}
	}
	if err := setRef(s, notesRef, newNotes, oldNotes); err != nil {
		return fmt.Errorf("live now points at %s, but the note was not recorded: %w", commit, err)
	}
	return nil
}

func publishRemote(ctx context.Context, repo *git.Repository, top, remote string, commit, expected plumbing.Hash, force bool, text string, sig object.Signature, auth transport.AuthMethod) error {
	s := repo.Storer
	url, err := remoteURL(repo, top, remote)
	if err != nil {
		return err
	}
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return fmt.Errorf("remote %s: %s is not a URL git understands", remote, credentials.Redact(url))
	}
	if !force {
		if err := fastForward(s, expected, commit); err != nil {
			return err
		}
	}
	refMu.Lock()
	localNotes, err := refHash(s, notesRef)
	refMu.Unlock()
	if err != nil {
		return err
	}
	newNotes, err := addNote(s, localNotes, commit, text, sig)
	if err != nil {
		return err
	}

	cl, err := client.NewClient(ep)
	if err != nil {
		return scrub(fmt.Errorf("push to %s: %w", url, err), url, auth)
	}
	sess, err := cl.NewReceivePackSession(ep, auth)
	if err != nil {
		return scrub(fmt.Errorf("push to %s: %w", url, err), url, auth)
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return scrub(fmt.Errorf("push to %s: %w", url, err), url, auth)
	}
	refs, err := ar.AllReferences()
	if err != nil {
		return err
	}
	remoteLive, err := refHash(refs, liveBranch)
	if err != nil {
		return err
	}
	if remoteLive != expected {
		return fmt.Errorf("%w since the fetch: %s has live at %s, not %s; re-run apply", ErrLiveMoved, remote, describe(remoteLive), describe(expected))
	}
	remoteNotes, err := refHash(refs, notesRef)
	if err != nil {
		return err
	}
	if !remoteNotes.IsZero() {
		if ok, _ := isAncestor(s, remoteNotes, newNotes); !ok {
			return fmt.Errorf("%w since the fetch: %s has new notes in %s; re-run apply", ErrLiveMoved, remote, NotesRef)
		}
	}

	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	if ar.Capabilities.Supports(capability.Atomic) {
		_ = req.Capabilities.Set(capability.Atomic)
	}
	if remoteLive != commit {
		req.Commands = append(req.Commands, &packp.Command{Name: liveBranch, Old: expected, New: commit})
	}
	req.Commands = append(req.Commands, &packp.Command{Name: notesRef, Old: remoteNotes, New: newNotes})
	var haves []plumbing.Hash
	iter, err := refs.IterReferences()
	if err != nil {
		return err
	}
	_ = iter.ForEach(func(r *plumbing.Reference) error {
		if r.Type() == plumbing.HashReference {
			haves = append(haves, r.Hash())
		}
		return nil
	})
	objs, err := revlist.Objects(s, []plumbing.Hash{commit, newNotes}, haves)
	if err != nil {
		return fmt.Errorf("objects to push: %w", err)
	}
	rs, err := sendPack(ctx, sess, s, req, objs, !ar.Capabilities.Supports(capability.OFSDelta))
	if rs != nil {
		if rs.UnpackStatus != "" && rs.UnpackStatus != "ok" {
			return scrub(fmt.Errorf("push to %s: the remote could not unpack: %s", url, rs.UnpackStatus), url, auth)
		}
		// live's status first, whatever order the server reports in: when live was stale, the
		// other updates of the push fail because of it.
		for _, st := range rs.CommandStatuses {
			if st.ReferenceName == liveBranch && st.Status != "ok" && looksStale(st.Status) && !(force && strings.Contains(st.Status, "non-fast-forward")) {
				return fmt.Errorf("%w since the fetch: %s refused to move live (%s); re-run apply", ErrLiveMoved, remote, st.Status)
			}
		}
		for _, st := range rs.CommandStatuses {
			if st.Status != "ok" {
				return scrub(fmt.Errorf("push to %s: %s refused: %s", url, st.ReferenceName, st.Status), url, auth)
			}
		}
	}
	if err != nil {
		return scrub(fmt.Errorf("push to %s: %w", url, err), url, auth)
	}

	refMu.Lock()
	defer refMu.Unlock()
	if err := s.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(LiveRef(remote)), commit)); err != nil {
		return fmt.Errorf("pushed, but %s: %w", LiveRef(remote), err)
	}
	// The remote has the note; a local notes ref that moved meanwhile is merged by the next
	// FetchLive.
	_ = setRef(s, notesRef, newNotes, localNotes)
	return nil
}

// sendPack sends req with a packfile of objs, as go-git's push does.
func sendPack(ctx context.Context, sess transport.ReceivePackSession, s storage.Storer, req *packp.ReferenceUpdateRequest, objs []plumbing.Hash, refDeltas bool) (*packp.ReportStatus, error) {
	cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	rd, wr := io.Pipe()
	req.Packfile = rd
	done := make(chan error, 1)
	go func() {
		_, err := packfile.NewEncoder(wr, s, refDeltas).Encode(objs, cfg.Pack.Window)
		done <- wr.CloseWithError(err)
	}()
	rs, err := sess.ReceivePack(ctx, req)
	_ = rd.Close()
	if perr := <-done; err == nil && perr != nil {
		err = perr
	}
	return rs, err
}

// looksStale tells whether a ref status from a server means the ref was not where the push
// said (git: "stale info", "failed to lock", "fetch first", "non-fast-forward").
func looksStale(status string) bool {
	for _, s := range []string{"stale", "failed to lock", "fetch first", "non-fast-forward", "failed to update ref", "but expected", "has changed", "already exists"} {
		if strings.Contains(status, s) {
			return true
		}
	}
	return false
}

func describe(h plumbing.Hash) string {
	if h.IsZero() {
		return "nothing (no branch live)"
	}
	return h.String()
}

// fastForward fails, matching ErrNotFastForward, unless commit descends from live (or live does
// not exist).
func fastForward(s storer.EncodedObjectStorer, live, commit plumbing.Hash) error {
	if live.IsZero() || live == commit {
		return nil
	}
	ok, err := isAncestor(s, live, commit)
	if err != nil {
		return fmt.Errorf("is %s a fast-forward of live (%s)? %w", commit, live, err)
	}
	if !ok {
		return fmt.Errorf("%w: %s does not descend from live (%s); only a forced apply moves live back or sideways", ErrNotFastForward, commit, live)
	}
	return nil
}

// isAncestor tells whether a is c or one of its ancestors.
func isAncestor(s storer.EncodedObjectStorer, a, c plumbing.Hash) (bool, error) {
	if a == c {
		return true, nil
	}
	ac, err := object.GetCommit(s, a)
	if err != nil {
		return false, fmt.Errorf("commit %s: %w", a, err)
	}
	cc, err := object.GetCommit(s, c)
	if err != nil {
		return false, fmt.Errorf("commit %s: %w", c, err)
	}
	ok, err := ac.IsAncestor(cc)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return false, fmt.Errorf("the history of %s is incomplete (a shallow clone?): %w", c, err)
	}
	return ok, err
}

// refHash returns the hash a ref points at, the zero hash when it does not exist.
func refHash(s storer.ReferenceStorer, name plumbing.ReferenceName) (plumbing.Hash, error) {
	r, err := s.Reference(name)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s: %w", name, err)
	}
	if r.Type() != plumbing.HashReference {
		return plumbing.ZeroHash, fmt.Errorf("%s is a symbolic reference", name)
	}
	return r.Hash(), nil
}

// refMu orders the read-check-write of a ref by this package's functions in the process.
var refMu sync.Mutex

var errRefChanged = errors.New("reference changed concurrently")

// setRef points name at h if it is still at old (zero: absent), else fails with errRefChanged.
// The check is done under the storer's file lock (CheckAndSetReference) when the ref exists; the
// caller holds refMu, which orders it with the other writers in this process.
func setRef(s storer.ReferenceStorer, name plumbing.ReferenceName, h, old plumbing.Hash) error {
	cur, err := refHash(s, name)
	if err != nil {
		return err
	}
	if cur != old {
		return fmt.Errorf("%s: %w", name, errRefChanged)
	}
	ref := plumbing.NewHashReference(name, h)
	if old.IsZero() {
		return s.SetReference(ref)
	}
	err = s.CheckAndSetReference(ref, plumbing.NewHashReference(name, old))
	if errors.Is(err, storage.ErrReferenceHasChanged) {
		return fmt.Errorf("%s: %w", name, errRefChanged)
	}
	return err
}

// signatureName is the committer of a notes commit: the actor, as far as a signature allows.
func signatureName(actor string) string {
	name := strings.Map(func(r rune) rune {
		if r == '<' || r == '>' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, actor)
	if strings.TrimSpace(name) == "" {
		return "permsctl"
	}
	return name
}

// notes is a notes tree read flat: annotated object → note blob, whatever the fanout, and the
// top-level entries that are not notes (kept as they are).
type notes struct {
	byObject map[plumbing.Hash]plumbing.Hash
	others   []object.TreeEntry
}

const hexLen = 2 * len(plumbing.ZeroHash)

func isHex(s string) bool {
	_, err := hex.DecodeString(s + s) // doubled: an odd length is fine
	return err == nil
}

func readNotes(s storer.EncodedObjectStorer, commit plumbing.Hash) (*notes, error) {
	n := &notes{byObject: map[plumbing.Hash]plumbing.Hash{}}
	if commit.IsZero() {
		return n, nil
	}
	c, err := object.GetCommit(s, commit)
	if err != nil {
		return nil, fmt.Errorf("notes commit %s: %w", commit, err)
	}
	tree, err := object.GetTree(s, c.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("notes tree %s: %w", c.TreeHash, err)
	}
	var walk func(t *object.Tree, prefix string) error
	walk = func(t *object.Tree, prefix string) error {
		for _, e := range t.Entries {
			name := prefix + e.Name
			switch {
			case e.Mode.IsFile() && len(name) == hexLen && isHex(name):
				n.byObject[plumbing.NewHash(name)] = e.Hash
			case e.Mode == filemode.Dir && len(e.Name) == 2 && isHex(e.Name) && len(name) < hexLen:
				sub, err := object.GetTree(s, e.Hash)
				if err != nil {
					return err
				}
				if err := walk(sub, name); err != nil {
					return err
				}
			case prefix == "":
				n.others = append(n.others, e)
			}
		}
		return nil
	}
	if err := walk(tree, ""); err != nil {
		return nil, err
	}
	return n, nil
}

// write stores the notes as a flat tree (every note at the top, named by the full hex hash of
// its object: git reads any fanout) and returns the tree's hash.
func (n *notes) write(s storer.EncodedObjectStorer) (plumbing.Hash, error) {
	entries := append([]object.TreeEntry(nil), n.others...)
	for obj, blob := range n.byObject {
		entries = append(entries, object.TreeEntry{Name: obj.String(), Mode: filemode.Regular, Hash: blob})
	}
	// git's order: by name, a tree's name compared as if it ended with a slash.
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	return store(s, &object.Tree{Entries: entries})
}

func store(s storer.EncodedObjectStorer, o interface {
	Encode(plumbing.EncodedObject) error
}) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

func storeBlob(s storer.EncodedObjectStorer, text string) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := io.WriteString(w, text); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

func blobText(s storer.EncodedObjectStorer, h plumbing.Hash) (string, error) {
	b, err := object.GetBlob(s, h)
	if err != nil {
		return "", err
	}
	r, err := b.Reader()
	if err != nil {
		return "", err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	return string(data), err
}

// appendNote joins two notes on one object as git notes append does: with a blank line.
func appendNote(old, text string) string {
	if old == "" {
		return text
	}
	if !strings.HasSuffix(old, "\n") {
		old += "\n"
	}
	return old + "\n" + text
}

// addNote writes a notes commit on top of base (zero: the first) that adds text to the note of
// target, and returns it. Only objects are written; no ref moves.
func addNote(s storer.EncodedObjectStorer, base, target plumbing.Hash, text string, sig object.Signature) (plumbing.Hash, error) {
	n, err := readNotes(s, base)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if old, ok := n.byObject[target]; ok {
		prev, err := blobText(s, old)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		text = appendNote(prev, text)
	}
	blob, err := storeBlob(s, text)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	n.byObject[target] = blob
	tree, err := n.write(s)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	c := &object.Commit{Author: sig, Committer: sig, Message: "Notes added by 'permsctl apply'\n", TreeHash: tree}
	if !base.IsZero() {
		c.ParentHashes = []plumbing.Hash{base}
	}
	return store(s, c)
}

// mergeNotes writes a notes commit with parents ours and theirs holding the notes of both; an
// object with a different note in each gets both, theirs first.
func mergeNotes(s storer.EncodedObjectStorer, ours, theirs plumbing.Hash) (plumbing.Hash, error) {
	a, err := readNotes(s, ours)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	b, err := readNotes(s, theirs)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	for obj, blob := range b.byObject {
		mine, ok := a.byObject[obj]
		if !ok || mine == blob {
			a.byObject[obj] = blob
			continue
		}
		t1, err := blobText(s, blob)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		t2, err := blobText(s, mine)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if a.byObject[obj], err = storeBlob(s, appendNote(t1, t2)); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	have := map[string]bool{}
	for _, e := range a.others {
		have[e.Name] = true
	}
	for _, e := range b.others {
		if !have[e.Name] {
			a.others = append(a.others, e)
		}
	}
	tree, err := a.write(s)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	sig := object.Signature{Name: "permsctl", When: time.Now()}
	return store(s, &object.Commit{Author: sig, Committer: sig, Message: "Notes merged by 'permsctl apply'\n", TreeHash: tree, ParentHashes: []plumbing.Hash{ours, theirs}})
}

// ReadNote returns the permsets note of commit (a hash or any revision Resolve accepts) in the
// repository at dir, which may be bare, or "" when it has none.
func ReadNote(dir, commit string) (string, error) {
	repo, err := openAny(dir)
	if err != nil {
		return "", err
	}
	// A full hash need not name an object of this repository (a commit not pushed to it).
	target := plumbing.NewHash(commit)
	if len(commit) != hexLen || !isHex(commit) {
		if target, err = source.Resolve(repo, commit); err != nil {
			return "", err
		}
	}
	refMu.Lock()
	defer refMu.Unlock()
	head, err := refHash(repo.Storer, notesRef)
	if err != nil || head.IsZero() {
		return "", err
	}
	n, err := readNotes(repo.Storer, head)
	if err != nil {
		return "", err
	}
	blob, ok := n.byObject[target]
	if !ok {
		return "", nil
	}
	return blobText(repo.Storer, blob)
}

// openAny opens the repository at dir, bare or not, or the one containing it.
func openAny(dir string) (*git.Repository, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	repo, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, _, _, err = source.Open(dir)
	}
	return repo, err
}

// RemoteURL returns the first URL of the remote configured in the repository containing dir, as
// configured (pass it to credentials.Redact before showing it).
func RemoteURL(dir, remote string) (string, error) {
	repo, top, _, err := source.Open(dir)
	if err != nil {
		return "", err
	}
	return configuredURL(repo, top, remote)
}

func configuredURL(repo *git.Repository, top, remote string) (string, error) {
	if remote == "" {
		return "", errors.New("no remote named")
	}
	refMu.Lock()
	r, err := repo.Remote(remote)
	refMu.Unlock()
	if errors.Is(err, git.ErrRemoteNotFound) {
		return "", fmt.Errorf("no remote %q in the repository at %s", remote, top)
	}
	if err != nil {
		return "", fmt.Errorf("remote %q: %w", remote, err)
	}
	if len(r.Config().URLs) == 0 {
		return "", fmt.Errorf("remote %q has no URL", remote)
	}
	return r.Config().URLs[0], nil
}

// remoteURL is configuredURL with a relative local path made absolute from the top of the
// repository, as git resolves it.
func remoteURL(repo *git.Repository, top, remote string) (string, error) {
	url, err := configuredURL(repo, top, remote)
	if err != nil {
		return "", err
	}
	if ep, err := transport.NewEndpoint(url); err == nil && ep.Protocol == "file" && !strings.HasPrefix(url, "file://") && !filepath.IsAbs(url) {
		url = filepath.Join(top, url)
	}
	return url, nil
}

// scrub rewrites the message of err so that it shows url redacted and neither the URL's
// credentials nor auth's token (credentials.Scrubber); errors.Is and errors.As still see err.
func scrub(err error, url string, auth transport.AuthMethod) error {
	if err == nil {
		return nil
	}
	var secrets []string
	if ep, e := transport.NewEndpoint(url); e == nil && ep.Password != "" {
		secrets = append(secrets, ep.Password)
	}
	secrets = append(secrets, credentials.AuthSecrets(auth)...)
	return &scrubbedError{msg: credentials.NewScrubber(url, secrets...).Scrub(err.Error()), err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
