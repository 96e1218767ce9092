// Package plan compares two revisions of a config repository for review: the objects added,
// changed and removed, who gains and who loses which permission, and the change rules of
// policies/permsets/plan (deny and warn) judged over both (docs/plan.md).
package plan

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"time"

	"github.com/permsets/permsets/config"
)

// FormatVersion is the version of the plan's JSON shape (schemas/plan.schema.json).
const FormatVersion = "1"

// Side is one end of a plan: the base or the head.
type Side struct {
	// Ref is what was asked for: a revision ("live", "origin/live"), a directory, "empty" or
	// "working tree".
	Ref      string `json:"ref"`
	Commit   string `json:"commit,omitempty"`
	Revision string `json:"revision,omitempty"` // digest of the config, rules and engine
	Empty    bool   `json:"empty,omitempty"`
}

// Revision is a loaded side: its model (nil for an empty base), the problems of its load, and
// its files (for the custom rules of its policies/; nil for none).
type Revision struct {
	Side
	Model    *config.Model
	Problems []config.Problem
	FS       fs.FS
	// Close releases FS, when it holds an open directory; nil or a no-op otherwise.
	Close func() error `json:"-"`
}

// Plan is what changes from the base to the head, and what the rules say of it.
type Plan struct {
	FormatVersion string `json:"format_version"`
	Base          Side   `json:"base"`
	Head          Side   `json:"head"`
	// Actor is who the plan judged (the User id, or the --actor value when no User has it).
	Actor   string          `json:"actor,omitempty"`
	Changes []config.Change `json:"changes"`
	Access  []AccessChange  `json:"access_changes"`
	// AccessNote says why the access diff is incomplete, when it is (an invalid head).
	AccessNote string    `json:"access_note,omitempty"`
	Deny       []Finding `json:"deny"`
	Warn       []Finding `json:"warn"`
	Summary    Summary   `json:"summary"`
	// Digest identifies the plan's content (sides, changes, access, findings), so a saved plan
	// can be matched against a new one.
	Digest string `json:"digest"`
}

// AccessChange is one user's change of effective access on one instance.
type AccessChange struct {
	User     string   `json:"user"`
	Instance string   `json:"instance"`
	Gained   []Access `json:"gained,omitempty"`
	Lost     []Access `json:"lost,omitempty"`
	// For the rules (separation of duties): feature=action keys held in any form.
	BeforeKeys     []string `json:"before_keys"`
	AfterKeys      []string `json:"after_keys"`
	SuperuserAfter bool     `json:"superuser_after"`
}

// Access is a permission (as granted: arguments kept) and the held sets that give it.
type Access struct {
	Permission string  `json:"permission"`
	Grants     []Grant `json:"grants"`
}

// Grant is a held set and how it is held: "direct" or "role:ID".
type Grant struct {
	Set string `json:"set"`
	Via string `json:"via"`
}

// Finding is one deny or warn of the change rules.
type Finding struct {
	Code    string `json:"code"`
	Object  string `json:"object"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// Summary counts a plan.
type Summary struct {
	Add          int `json:"add"`
	Change       int `json:"change"`
	Remove       int `json:"remove"`
	UsersGaining int `json:"users_gaining"`
	UsersLosing  int `json:"users_losing"`
	Deny         int `json:"deny"`
	Warn         int `json:"warn"`
}

// Options tune a plan.
type Options struct {
	Now time.Time    // the time of the plan; zero means the wall clock
	Log *slog.Logger // stage timings at debug level; nil: none
	// Actor is who makes the change (--actor: a forge login, or id:ID, or email:ADDR; see
	// FindUser); "" judges the change without the actor rules.
	Actor string
	// Bootstrap lets a system admin of the head make the first change over an empty base
	// without the actor rules, which would deny everything (nobody holds anything before).
	Bootstrap bool
}

// Check says whether the options make sense together, before any work is done: --bootstrap
// needs --actor, the system admin who makes the first change. It is the one check of them:
// Compute makes it before any work, and commands call it first so that a usage error comes
// before loading anything.
func (o Options) Check() error {
	if o.Bootstrap && o.Actor == "" {
		return errors.New("--bootstrap needs --actor: the system admin who makes the first change")
	}
	return nil
}

// Compute plans the change from base to head. base.Model may be nil (an empty base); its
// problems must be none (a base that does not validate cannot be planned against). The head's
// problems become deny entries.
func Compute(ctx context.Context, base, head *Revision, opts Options) (*Plan, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if len(base.Problems) > 0 {
		return nil, fmt.Errorf("the base (%s) has %d problems, the first: %s", base.Ref, len(base.Problems), base.Problems[0].String())
	}
	if head.Model == nil {
		head.Model = &config.Model{}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	p := &Plan{FormatVersion: FormatVersion, Base: base.Side, Head: head.Side, Deny: []Finding{}, Warn: []Finding{}}
	p.Changes = config.Diff(base.Model, head.Model)
	log.Debug("plan: diff", "changes", len(p.Changes), "took", time.Since(start))
	start = time.Now()
	access, note, idx, err := accessDiff(ctx, base.Model, head.Model, p.Changes, len(head.Problems) > 0)
	if err != nil {
		return nil, err
	}
	p.Access, p.AccessNote = access, note
	log.Debug("plan: access diff", "access_changes", len(p.Access), "took", time.Since(start))
	start = time.Now()
	var actor *Actor
	if opts.Actor != "" {
		if actor, err = resolveActor(ctx, base.Model, head.Model, opts.Actor, opts.Bootstrap); err != nil {
			return nil, err
		}
		p.Actor = actor.ID
		if p.Actor == "" {
			p.Actor = opts.Actor
		}
	}
	if p.Deny, p.Warn, err = judge(ctx, base, head, p, actor, now, idx); err != nil {
		return nil, err
	}
	tests, err := testFindings(ctx, base, head, now)
	if err != nil {
		return nil, err
	}
	p.Deny = uniqueFindings(append(p.Deny, tests...))
	log.Debug("plan: rules", "deny", len(p.Deny), "warn", len(p.Warn), "took", time.Since(start))
	p.summarize()
	if p.Digest, err = p.digest(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Plan) summarize() {
	s := Summary{Deny: len(p.Deny), Warn: len(p.Warn)}
	for _, c := range p.Changes {
		switch c.Action {
		case config.ActionAdd:
			s.Add++
		case config.ActionChange:
			s.Change++
		case config.ActionRemove:
			s.Remove++
		}
	}
	gaining, losing := map[string]bool{}, map[string]bool{}
	for _, a := range p.Access {
		if len(a.Gained) > 0 {
			gaining[a.User] = true
		}
		if len(a.Lost) > 0 {
			losing[a.User] = true
		}
	}
	s.UsersGaining, s.UsersLosing = len(gaining), len(losing)
	p.Summary = s
}

// HasChanges reports whether the plan changes anything.
func (p *Plan) HasChanges() bool { return len(p.Changes) > 0 }

// digest hashes the plan's content without the digest itself.
func (p *Plan) digest() (string, error) {
	c := *p
	c.Digest = ""
	// Not how the sides were named, nor whether the head was a working tree or its commit, nor
	// who was judged: plan -o on a pull request and apply on its merge match when their content
	// does.
	c.Base.Ref, c.Head.Ref, c.Head.Commit, c.Actor = "", "", "", ""
	data, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16]), nil
}

// compareFindings orders findings by code, object, file, line and message: the one order of
// every list of findings (built-in and custom rules alike).
func compareFindings(a, b Finding) int {
	return cmp.Or(cmp.Compare(a.Code, b.Code), cmp.Compare(a.Object, b.Object), cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line), cmp.Compare(a.Message, b.Message))
}

// uniqueFindings sorts findings (compareFindings) and drops repeats (a custom rule in both
// revisions finds the same thing twice).
func uniqueFindings(fs []Finding) []Finding {
	slices.SortFunc(fs, compareFindings)
	return slices.Compact(fs)
}
