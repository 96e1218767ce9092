package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
)

var registerOnce sync.Once

// RegisterFileTransport makes go-git serve local paths and file:// URLs in process, for every
// repository of the program (go-git keeps one table of transports): fetches and pushes to them
// then need no git binary, and a push is a compare-and-swap as git receive-pack's is (see
// localTransport). A binary that fetches from or pushes to local remotes calls it before its
// first Git operation (permsctl apply, permsd --git), as do the tests that do; calling it again
// does nothing.
func RegisterFileTransport() {
	registerOnce.Do(func() { client.InstallProtocol("file", localTransport{}) })
}

// localTransport serves local paths and file:// URLs in process with go-git's server, where
// go-git's file transport would exec git-upload-pack and git-receive-pack. Unlike the server's
// default loader it opens non-bare repositories too, and its ref updates are compare-and-swaps on
// the old value each pushed command carries, as git receive-pack's are; after one update fails
// the later ones of the push are refused, and the checked-out branch of a non-bare repository is
// never updated (git's receive.denyCurrentBranch).
type localTransport struct{}

func (localTransport) NewUploadPackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.UploadPackSession, error) {
	s, _, err := openLocal(ep)
	if err != nil {
		return nil, err
	}
	sess, err := server.NewClient(fixedLoader{s}).NewUploadPackSession(ep, auth)
	if err != nil {
		return nil, err
	}
	return &knownHaves{UploadPackSession: sess, s: s}, nil
}

// knownHaves drops the haves of a fetch that the served repository does not have: go-git's
// server fails the fetch on them (object not found), where git ignores them, so a clone with
// commits of its own could not fetch.
type knownHaves struct {
	transport.UploadPackSession
	s storer.Storer
}

func (u *knownHaves) UploadPack(ctx context.Context, req *packp.UploadPackRequest) (*packp.UploadPackResponse, error) {
	r := *req
	r.Haves = nil
	for _, h := range req.Haves {
		if u.s.HasEncodedObject(h) == nil {
			r.Haves = append(r.Haves, h)
		}
	}
	return u.UploadPackSession.UploadPack(ctx, &r)
}

func (localTransport) NewReceivePackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.ReceivePackSession, error) {
	s, checkedOut, err := openLocal(ep)
	if err != nil {
		return nil, err
	}
	cs := &casStorer{Storer: s, checkedOut: checkedOut}
	sess, err := server.NewClient(fixedLoader{cs}).NewReceivePackSession(ep, auth)
	if err != nil {
		return nil, err
	}
	return &casSession{ReceivePackSession: sess, cs: cs}, nil
}

// openLocal opens the repository at ep's path and names its checked-out branch ("" if bare).
func openLocal(ep *transport.Endpoint) (storer.Storer, plumbing.ReferenceName, error) {
	repo, err := git.PlainOpenWithOptions(ep.Path, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, "", transport.ErrRepositoryNotFound
	}
	if err != nil {
		return nil, "", err
	}
	var checkedOut plumbing.ReferenceName
	if _, err := repo.Worktree(); err == nil {
		if head, err := repo.Storer.Reference(plumbing.HEAD); err == nil && head.Type() == plumbing.SymbolicReference {
			checkedOut = head.Target()
		}
	}
	return repo.Storer, checkedOut, nil
}

type fixedLoader struct{ s storer.Storer }

func (l fixedLoader) Load(*transport.Endpoint) (storer.Storer, error) { return l.s, nil }

// casSession tells its storer the old value of each command before the server applies them.
type casSession struct {
	transport.ReceivePackSession
	cs *casStorer
}

func (s *casSession) ReceivePack(ctx context.Context, req *packp.ReferenceUpdateRequest) (*packp.ReportStatus, error) {
	s.cs.expect = map[plumbing.ReferenceName]plumbing.Hash{}
	for _, c := range req.Commands {
		s.cs.expect[c.Name] = c.Old
	}
	return s.ReceivePackSession.ReceivePack(ctx, req)
}

// casStorer is the storer the in-process server updates refs through.
type casStorer struct {
	storer.Storer
	checkedOut plumbing.ReferenceName
	expect     map[plumbing.ReferenceName]plumbing.Hash
	failed     bool
}

func (s *casStorer) SetReference(ref *plumbing.Reference) error {
	old, ok := s.expect[ref.Name()]
	if !ok {
		return s.Storer.SetReference(ref)
	}
	if s.failed {
		return errors.New("not updated: an earlier update of this push failed")
	}
	if ref.Name() == s.checkedOut {
		s.failed = true
		return fmt.Errorf("refusing to update the checked-out branch %s of a non-bare repository", ref.Name())
	}
	err := setRef(s.Storer, ref.Name(), ref.Hash(), old)
	switch {
	case errors.Is(err, errRefChanged) && old.IsZero():
		err = fmt.Errorf("stale info: %s already exists", ref.Name())
	case errors.Is(err, errRefChanged):
		err = fmt.Errorf("stale info: %s is no longer at %s", ref.Name(), old)
	}
	if err != nil {
		s.failed = true
	}
	return err
}

func (s *casStorer) RemoveReference(name plumbing.ReferenceName) error {
	if s.failed {
		return errors.New("not deleted: an earlier update of this push failed")
	}
	return s.Storer.RemoveReference(name)
}

// PackfileWriter lets the server write the pushed pack as a pack, as it would without casStorer.
func (s *casStorer) PackfileWriter() (io.WriteCloser, error) {
	if pw, ok := s.Storer.(storer.PackfileWriter); ok {
		return pw.PackfileWriter()
	}
	return nil, errors.New("the repository cannot store a packfile")
}
