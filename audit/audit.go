// Package audit is the periodic access review of a config repository (permsctl audit): for each
// instance, who holds each set and through what, and the findings a reviewer acts on: sets
// nobody holds, holders of wildcard grants, separation-of-duties violations, disabled sets still
// assigned, expired and expiring assignments, roles without members, ineffective permissions
// and suspended users who still hold sets (docs/audit.md).
//
// Everything is read from the engine's compiled index (engine.Compile): the holding records of
// each instance, the sets' grants after wildcards and implies, the transitive requirements.
// Effective access is computed in Go with the definitions of policies/permsets (the access and
// effective listings); the package's tests compare it with the Rego answers, and the findings
// that plan also reports with the change rules over an empty base.
package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/parallel"
	"github.com/permsets/permsets/internal/sorted"
)

// FormatVersion is the version of the report's JSON shape (schemas/audit.schema.json).
const FormatVersion = "1"

// The kinds of rows of a report: holdings and findings. CSV rows carry them in the kind column.
const (
	KindHolding           = "holding"
	KindUnassignedSet     = "unassigned-set"
	KindSystemAdmin       = "system-admin"
	KindPrivilegedHolder  = "privileged-holder"
	KindSeparation        = "separation-of-duties"
	KindDisabledAssigned  = "disabled-set-assigned"
	KindExpiredAssignment = "expired-assignment"
	KindExpiringSoon      = "expiring-assignment"
	KindEmptyRole         = "empty-role"
	KindIneffective       = "ineffective-permission"
	KindSuspendedHolder   = "suspended-user-assigned"
)

// FindingKinds lists every finding kind, in the order reports show them.
var FindingKinds = []string{KindSeparation, KindPrivilegedHolder, KindSystemAdmin, KindDisabledAssigned,
	KindExpiredAssignment, KindExpiringSoon, KindIneffective, KindSuspendedHolder, KindEmptyRole, KindUnassignedSet}

// Where the report's time comes from.
const (
	NowFromFlag   = "flag"   // --now
	NowFromClock  = "clock"  // the wall clock
	NowFromCommit = "commit" // --rev without --now: the commit's time
)

// Options tune a report.
type Options struct {
	// Now is the time the report is made at: expiry is judged against it. Zero: the wall clock.
	Now time.Time
	// NowFrom says where Now came from (NowFromFlag, NowFromClock, NowFromCommit); default clock.
	NowFrom string
	// ExpiringWithin is how close to its expiry an assignment is reported as expiring; zero: the
	// Repository document's lint.expiringWithin, else config.DefaultExpiringWithin.
	ExpiringWithin time.Duration
	// Commit and Ref name the Git revision the model was read from, when it was.
	Commit, Ref string
}

// Report is the access review of one revision.
type Report struct {
	FormatVersion  string        `json:"format_version"`
	Revision       string        `json:"revision"`
	Commit         string        `json:"commit,omitempty"`
	Ref            string        `json:"ref,omitempty"`
	Now            string        `json:"now"`
	NowFrom        string        `json:"now_from"`
	ExpiringWithin string        `json:"expiring_within"`
	Summary        Counts        `json:"summary"`
	SystemAdmins   []SystemAdmin `json:"system_admins"`
	Instances      []*Instance   `json:"instances"` // last: WriteJSON streams them
}

// Counts are the sizes of a report's sections, for one instance or the whole repository.
type Counts struct {
	Sets                     int `json:"sets"`
	Holders                  int `json:"holders"`         // distinct users holding a set
	Holdings                 int `json:"holdings"`        // (user, set, assignment or role) triples
	UnassignedSets           int `json:"unassigned_sets"` // sets nobody holds
	PrivilegedHolders        int `json:"privileged_holders"`
	SystemAdmins             int `json:"system_admins"`
	SeparationOfDuties       int `json:"separation_of_duties"`        // violations
	SeparationOfDutiesExempt int `json:"separation_of_duties_exempt"` // *=* holders listed, exempt
	DisabledSetsAssigned     int `json:"disabled_sets_assigned"`
	ExpiredAssignments       int `json:"expired_assignments"`
	ExpiringAssignments      int `json:"expiring_assignments"`
	EmptyRoles               int `json:"empty_roles"`
	IneffectivePermissions   int `json:"ineffective_permissions"`
	SuspendedHolders         int `json:"suspended_holders"`
}

// SystemAdmin is a User with systemAdmin: they may change anything in the repository.
type SystemAdmin struct {
	User      string `json:"user"`
	Name      string `json:"name,omitempty"`
	File      string `json:"file"`
	Line      int    `json:"line"`
	Suspended bool   `json:"suspended"`
}

// Instance is the review of one instance.
type Instance struct {
	ID                     string        `json:"id"`
	Name                   string        `json:"name"`
	Summary                Counts        `json:"summary"`
	Sets                   []*SetHolders `json:"sets"`
	UnassignedSets         []SetRef      `json:"unassigned_sets"`
	PrivilegedHolders      []Privileged  `json:"privileged_holders"`
	SeparationOfDuties     []Separation  `json:"separation_of_duties"`
	DisabledSetsAssigned   []Reference   `json:"disabled_sets_assigned"`
	ExpiredAssignments     []Expiry      `json:"expired_assignments"`
	ExpiringAssignments    []Expiry      `json:"expiring_assignments"`
	EmptyRoles             []RoleRef     `json:"empty_roles"`
	IneffectivePermissions []Ineffective `json:"ineffective_permissions"`
	SuspendedHolders       []Suspended   `json:"suspended_holders"`
}

// Separations splits the instance's separation-of-duties findings into violations and the
// *=* holders listed as exempt, each in report order.
func (in *Instance) Separations() (violations, exempt []Separation) {
	for _, s := range in.SeparationOfDuties {
		if s.Exempt {
			exempt = append(exempt, s)
		} else {
			violations = append(violations, s)
		}
	}
	return violations, exempt
}

// SetHolders is a set on an instance and everyone who holds it there, by assignment and role.
type SetHolders struct {
	Set         string    `json:"set"`
	Name        string    `json:"name"`
	Enabled     bool      `json:"enabled"`
	Builtin     bool      `json:"builtin"`
	File        string    `json:"file"`
	Line        int       `json:"line"`
	Permissions []string  `json:"permissions"`
	Holders     []Holding `json:"holders"`
}

// Holding statuses.
const (
	StatusActive   = "active"
	StatusExpiring = "expiring" // active, and expires within the report's expiring_within
	StatusExpired  = "expired"
	StatusDisabled = "disabled" // the set is disabled: it grants nothing
)

// Holding is one assignment or role that gives a set on an instance, and its users.
type Holding struct {
	Via        string   `json:"via"` // "direct" or "role:ID"
	Assignment string   `json:"assignment,omitempty"`
	Role       string   `json:"role,omitempty"`
	File       string   `json:"file"`
	Line       int      `json:"line"`
	Expires    string   `json:"expires,omitempty"`
	Status     string   `json:"status"`
	Users      []string `json:"users"`
}

// SetRef is a set, where it is declared.
type SetRef struct {
	Set  string `json:"set"`
	Name string `json:"name"`
	File string `json:"file"`
	Line int    `json:"line"`
}

// Privileged is a user whose active sets on the instance grant wildcards (*=*, feature=*,
// *=action).
type Privileged struct {
	User        string          `json:"user"`
	Superuser   bool            `json:"superuser"` // holds *=*: exempt from separation of duties
	SystemAdmin bool            `json:"system_admin"`
	Grants      []WildcardGrant `json:"grants"`
}

// WildcardGrant is a held set and the wildcard permissions it grants.
type WildcardGrant struct {
	Set         string   `json:"set"`
	Via         string   `json:"via"`
	Permissions []string `json:"permissions"`
}

// Separation is a user who holds every permission of a separation-of-duties rule on the
// instance: a violation, or, for a holder of *=*, exempt.
type Separation struct {
	Rule        string            `json:"rule"`
	Permissions []string          `json:"permissions"`
	File        string            `json:"file"`
	Line        int               `json:"line"`
	User        string            `json:"user"`
	Exempt      bool              `json:"exempt"`
	Grants      []PermissionGrant `json:"grants"`
}

// PermissionGrant is a held set that gives a permission.
type PermissionGrant struct {
	Permission string `json:"permission"`
	Set        string `json:"set"`
	Via        string `json:"via"`
}

// Reference is an assignment or a role that gives a set on the instance.
type Reference struct {
	Set        string   `json:"set"`
	Name       string   `json:"name"`
	Via        string   `json:"via"`
	Assignment string   `json:"assignment,omitempty"`
	Role       string   `json:"role,omitempty"`
	File       string   `json:"file"`
	Line       int      `json:"line"`
	Users      []string `json:"users"`
}

// Expiry is an assignment that has expired, or expires within the report's expiring_within.
type Expiry struct {
	Assignment string   `json:"assignment"`
	File       string   `json:"file"`
	Line       int      `json:"line"`
	Expires    string   `json:"expires"`
	DaysLeft   int      `json:"days_left"` // whole days to go (rounded up); 0 or less when expired
	Sets       []string `json:"sets"`
	Users      []string `json:"users"`
	Reason     string   `json:"reason,omitempty"`
}

// RoleRef is a role without members, with the sets it would give on the instance.
type RoleRef struct {
	Role string   `json:"role"`
	Name string   `json:"name"`
	File string   `json:"file"`
	Line int      `json:"line"`
	Sets []string `json:"sets"`
}

// Ineffective is a permission a user's active sets grant but that gives nothing: a permission it
// requires (catalog requires, transitively) is not held without arguments on the instance.
type Ineffective struct {
	User       string   `json:"user"`
	Permission string   `json:"permission"`
	Missing    []string `json:"missing"`
	Grants     []Grant  `json:"grants"`
}

// Grant is a held set and how it is held.
type Grant struct {
	Set string `json:"set"`
	Via string `json:"via"`
}

// Suspended is a suspended user (allowed nothing) who still holds sets on the instance.
type Suspended struct {
	User string   `json:"user"`
	Sets []string `json:"sets"`
}

// Compute reviews a valid model (config.Result.OK).
func Compute(ctx context.Context, m *config.Model, opts Options) (*Report, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	nowFrom := opts.NowFrom
	if nowFrom == "" {
		nowFrom = NowFromClock
	}
	within := opts.ExpiringWithin
	if within <= 0 {
		within = config.DefaultExpiringWithin
		if m.Repository != nil && m.Repository.Lint.ExpiringWithin > 0 {
			within = m.Repository.Lint.ExpiringWithin
		}
	}
	rev, err := engine.RevisionOf(m)
	if err != nil {
		return nil, err
	}
	idx, err := engine.Compile(m)
	if err != nil {
		return nil, err
	}
	v := newView(m, idx)
	r := &Report{
		FormatVersion:  FormatVersion,
		Revision:       rev,
		Commit:         opts.Commit,
		Ref:            opts.Ref,
		Now:            now.Format(time.RFC3339),
		NowFrom:        nowFrom,
		ExpiringWithin: FormatDuration(within),
		SystemAdmins:   []SystemAdmin{},
		Instances:      make([]*Instance, len(m.Instances)),
	}
	for _, u := range m.Users {
		if u.SystemAdmin {
			r.SystemAdmins = append(r.SystemAdmins, SystemAdmin{User: u.ID, Name: u.Name, File: u.Source.File, Line: u.Source.Line, Suspended: u.Suspended})
		}
	}
	admins := map[string]bool{}
	for _, a := range r.SystemAdmins {
		admins[a.User] = true
	}
	for i, in := range m.Instances {
		if r.Instances[i], err = v.instance(ctx, in, now, within, admins); err != nil {
			return nil, err
		}
	}
	r.Summary.SystemAdmins = len(r.SystemAdmins)
	holders := map[string]bool{}
	for _, in := range r.Instances {
		add(&r.Summary, in.Summary)
		for _, s := range in.Sets {
			for _, h := range s.Holders {
				for _, u := range h.Users {
					holders[u] = true
				}
			}
		}
	}
	r.Summary.Holders = len(holders)
	return r, nil
}

func add(total *Counts, c Counts) {
	total.Sets += c.Sets
	total.Holdings += c.Holdings
	total.UnassignedSets += c.UnassignedSets
	total.PrivilegedHolders += c.PrivilegedHolders
	total.SeparationOfDuties += c.SeparationOfDuties
	total.SeparationOfDutiesExempt += c.SeparationOfDutiesExempt
	total.DisabledSetsAssigned += c.DisabledSetsAssigned
	total.ExpiredAssignments += c.ExpiredAssignments
	total.ExpiringAssignments += c.ExpiringAssignments
	total.EmptyRoles += c.EmptyRoles
	total.IneffectivePermissions += c.IneffectivePermissions
	total.SuspendedHolders += c.SuspendedHolders
}

// FormatDuration writes a duration in days when it is a whole number of them (14d), else as Go
// does (36h0m0s), as lint.expiringWithin is written.
func FormatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// instance reviews one instance.
func (v *view) instance(ctx context.Context, in *config.Instance, now time.Time, within time.Duration, admins map[string]bool) (*Instance, error) {
	out := &Instance{ID: in.ID, Name: in.Name, Sets: []*SetHolders{}, UnassignedSets: []SetRef{}, PrivilegedHolders: []Privileged{},
		SeparationOfDuties: []Separation{}, DisabledSetsAssigned: []Reference{}, ExpiredAssignments: []Expiry{},
		ExpiringAssignments: []Expiry{}, EmptyRoles: []RoleRef{}, IneffectivePermissions: []Ineffective{}, SuspendedHolders: []Suspended{}}
	inst := v.instances[in.ID]
	nowNs, soonNs := now.UnixNano(), now.Add(within).UnixNano()

	// Holdings: each record with its users, grouped under its set.
	bySet := map[string][]*record{}
	for _, rec := range inst.records {
		bySet[rec.set] = append(bySet[rec.set], rec)
	}
	for _, id := range inst.sets {
		s := v.model.Set(id)
		sh := &SetHolders{Set: id, Name: s.Name, Enabled: s.Enabled, Builtin: s.Builtin, File: s.Source.File, Line: s.Source.Line,
			Permissions: s.Permissions, Holders: []Holding{}}
		for _, rec := range bySet[id] {
			if len(rec.users) == 0 {
				continue
			}
			h := Holding{Via: rec.via, File: rec.file, Line: rec.line, Users: rec.users, Status: StatusActive}
			if rec.direct {
				h.Assignment = rec.source
			} else {
				h.Role = rec.source
			}
			if rec.expiresNs != engine.Never {
				h.Expires = time.Unix(0, rec.expiresNs).UTC().Format(time.RFC3339)
			}
			switch {
			case !rec.enabled:
				h.Status = StatusDisabled
			case rec.expiresNs <= nowNs:
				h.Status = StatusExpired
			case rec.expiresNs <= soonNs:
				h.Status = StatusExpiring
			}
			sh.Holders = append(sh.Holders, h)
			out.Summary.Holdings += len(rec.users)
			if !rec.enabled {
				out.DisabledSetsAssigned = append(out.DisabledSetsAssigned, Reference{Set: id, Name: s.Name, Via: rec.via,
					Assignment: h.Assignment, Role: h.Role, File: rec.file, Line: rec.line, Users: rec.users})
			}
		}
		out.Sets = append(out.Sets, sh)
		if len(sh.Holders) == 0 {
			out.UnassignedSets = append(out.UnassignedSets, SetRef{Set: id, Name: s.Name, File: s.Source.File, Line: s.Source.Line})
		}
	}

	// Expired and expiring assignments, as plan's expiring-assignment judges them.
	for _, a := range v.model.Assignments {
		if a.Instance != in.ID || a.Expires == nil {
			continue
		}
		exp := a.Expires.UnixNano()
		if exp > soonNs {
			continue
		}
		e := Expiry{Assignment: a.ID, File: a.Source.File, Line: a.Source.Line, Expires: a.Expires.UTC().Format(time.RFC3339),
			DaysLeft: daysLeft(exp - nowNs), Sets: a.PermissionSets, Users: a.Users, Reason: a.Reason}
		if exp <= nowNs {
			out.ExpiredAssignments = append(out.ExpiredAssignments, e)
		} else {
			out.ExpiringAssignments = append(out.ExpiringAssignments, e)
		}
	}

	// Roles without members, under each instance they would give sets on.
	for _, ro := range v.model.Roles {
		if len(ro.Members) > 0 {
			continue
		}
		var on []string
		for _, ref := range ro.PermissionSets {
			if i, s, _ := strings.Cut(ref, "/"); i == in.ID {
				on = append(on, s)
			}
		}
		if len(on) > 0 {
			out.EmptyRoles = append(out.EmptyRoles, RoleRef{Role: ro.ID, Name: ro.Name, File: ro.Source.File, Line: ro.Source.Line, Sets: on})
		}
	}

	// Per user: effective access (as data.permsets.access), and what it says.
	users := inst.users
	results := make([]userFindings, len(users))
	if err := parallel.Each(ctx, (len(users)+chunk-1)/chunk, 0, func(c int) {
		for i := c * chunk; i < min(len(users), (c+1)*chunk); i++ {
			results[i] = v.review(users[i], inst.holdings[i], nowNs, admins)
		}
	}); err != nil {
		return nil, err
	}
	for _, f := range results {
		if f.privileged != nil {
			out.PrivilegedHolders = append(out.PrivilegedHolders, *f.privileged)
		}
		out.SeparationOfDuties = append(out.SeparationOfDuties, f.separation...)
		out.IneffectivePermissions = append(out.IneffectivePermissions, f.ineffective...)
		if f.suspended != nil {
			out.SuspendedHolders = append(out.SuspendedHolders, *f.suspended)
		}
	}
	slices.SortStableFunc(out.SeparationOfDuties, func(a, b Separation) int { return strings.Compare(a.Rule, b.Rule) })

	c := &out.Summary
	c.Sets = len(out.Sets)
	c.Holders = len(users)
	c.UnassignedSets = len(out.UnassignedSets)
	c.PrivilegedHolders = len(out.PrivilegedHolders)
	violations, exempt := out.Separations()
	c.SeparationOfDuties, c.SeparationOfDutiesExempt = len(violations), len(exempt)
	c.DisabledSetsAssigned = len(out.DisabledSetsAssigned)
	c.ExpiredAssignments = len(out.ExpiredAssignments)
	c.ExpiringAssignments = len(out.ExpiringAssignments)
	c.EmptyRoles = len(out.EmptyRoles)
	c.IneffectivePermissions = len(out.IneffectivePermissions)
	c.SuspendedHolders = len(out.SuspendedHolders)
	return out, nil
}

// chunk is how many users one piece of parallel work reviews.
const chunk = 512

// daysLeft is whole days to go, rounded up; for a time past, minus the whole days since.
func daysLeft(ns int64) int {
	day := int64(24 * time.Hour)
	if ns > 0 {
		return int((ns + day - 1) / day)
	}
	return -int(-ns / day)
}

// userFindings is what one user's review on one instance found.
type userFindings struct {
	privileged  *Privileged
	separation  []Separation
	ineffective []Ineffective
	suspended   *Suspended
}

// review judges one user's holdings on an instance.
func (v *view) review(user string, recs []*record, nowNs int64, admins map[string]bool) userFindings {
	var f userFindings
	if v.suspended[user] {
		held := map[string]bool{}
		for _, r := range recs {
			held[r.set] = true
		}
		f.suspended = &Suspended{User: user, Sets: sorted.Keys(held)}
		return f
	}
	a := v.access(user, recs, nowNs)
	// Wildcard grants of the active holdings.
	var wild []WildcardGrant
	for _, r := range a.active {
		if ps := v.sets[r.set].wildcards; len(ps) > 0 {
			wild = append(wild, WildcardGrant{Set: r.set, Via: r.via, Permissions: ps})
		}
	}
	if len(wild) > 0 {
		f.privileged = &Privileged{User: user, Superuser: a.superuser, SystemAdmin: admins[user], Grants: wild}
	}
	// Separation of duties, as plan's rule judges it: every permission of the rule among the
	// feature=action keys of the user's effective permissions; holders of *=* are exempt.
	for _, rule := range v.separation {
		if !a.holdsAll(rule.Permissions) {
			continue
		}
		s := Separation{Rule: rule.Name, Permissions: rule.Permissions, File: rule.Source.File, Line: rule.Source.Line,
			User: user, Exempt: a.superuser, Grants: []PermissionGrant{}}
		for _, p := range rule.Permissions {
			for _, g := range a.giversOfKey(p) {
				s.Grants = append(s.Grants, PermissionGrant{Permission: p, Set: g.Set, Via: g.Via})
			}
		}
		f.separation = append(f.separation, s)
	}
	for _, in := range a.ineffective() {
		in.User = user
		f.ineffective = append(f.ineffective, in)
	}
	return f
}
