// Package snapshot is what permsd serves: the current compiled revision, swapped in with one
// atomic store per revision, and the daemon's status. The reloader writes it; the HTTP server
// reads it, and no request ever waits on a lock for it.
package snapshot

import (
	"sync/atomic"
	"time"

	"github.com/permsets/permsets/engine"
)

// Snapshot is one revision, ready to answer: immutable once published.
type Snapshot struct {
	Evaluator  *engine.Evaluator
	Bundle     *engine.Bundle
	Revision   string // digest of the config, the rules and the engine version
	Commit     string // the Git commit, when the source is Git
	Generation uint64 // grows by one with every revision served
	LoadedAt   time.Time
	Counts     Counts
	// Persisted is true for the last good revision read back from the cache directory at start,
	// served because the source gave no good revision yet; a good load from the source replaces
	// it (or, when it is the same revision, clears the flag).
	Persisted bool
}

// Counts summarise what a revision holds, for /v1/status.
type Counts struct {
	Instances   int `json:"instances"`
	Sets        int `json:"permission_sets"`
	Roles       int `json:"roles"`
	Users       int `json:"users"`
	Assignments int `json:"assignments"`
	Files       int `json:"files"`
}

// Status is the daemon's state apart from the revision: immutable once published.
type Status struct {
	Source        string    // what is followed, credentials removed: "dir /etc/permsets", "git https://…@live"
	LastError     string    // the last failed reload, cleared by the next good one
	LastErrorAt   time.Time // when it failed
	ReloadsOK     uint64
	ReloadsFailed uint64
	SourceOK      bool // false while the source is unreachable (Git), the last good revision served
}

// State holds the current snapshot and status. The zero value serves nothing yet.
type State struct {
	current atomic.Pointer[Snapshot]
	status  atomic.Pointer[Status]
}

// Current is the revision to answer from; nil before the first good revision.
func (s *State) Current() *Snapshot { return s.current.Load() }

// Publish serves a new revision: one atomic store. Requests already running finish on the
// revision they started with.
func (s *State) Publish(snap *Snapshot) { s.current.Store(snap) }

// Status is the current status (a zero Status before the first one is set).
func (s *State) Status() Status {
	if st := s.status.Load(); st != nil {
		return *st
	}
	return Status{}
}

// SetStatus replaces the status; only the reloader writes it, from one goroutine.
func (s *State) SetStatus(st Status) { s.status.Store(&st) }
