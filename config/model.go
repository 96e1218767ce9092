package config

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"
)

// APIVersion is the apiVersion every document carries.
const APIVersion = "permsets/v1"

// Kinds of documents.
const (
	KindCatalog       = "Catalog"
	KindInstance      = "Instance"
	KindPermissionSet = "PermissionSet"
	KindRole          = "Role"
	KindAssignment    = "Assignment"
	KindUser          = "User"
	KindRepository    = "Repository"
)

// Kinds lists every kind, in the order they are documented.
var Kinds = []string{KindCatalog, KindInstance, KindPermissionSet, KindRole, KindAssignment, KindUser, KindRepository,
	KindTest}

// Source is where an object was declared: its file (relative to the config root, slash-separated),
// the position of its document, and the document's number in the file (from 1).
type Source struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"column"`
	Doc  int    `json:"doc"`
}

// Model is the normalized, deterministic config: every list sorted by id, defaults filled.
// Positions are kept beside the values (fields tagged json:"-") so later checks can point at them.
type Model struct {
	Catalog     *Catalog         `json:"catalog,omitempty"`
	Instances   []*Instance      `json:"instances"`
	Sets        []*PermissionSet `json:"permissionSets"`
	Roles       []*Role          `json:"roles"`
	Assignments []*Assignment    `json:"assignments"`
	Users       []*User          `json:"users"`
	Repository  *Repository      `json:"repository,omitempty"`
	// Tests are the Test documents (config/test.go), sorted by id. They say what the model
	// should decide and are no part of it: not compiled, not in the revision digest.
	Tests []*Test `json:"-"`
}

// Catalog is the merge of every Catalog document.
type Catalog struct {
	Features           map[string]*Feature `json:"features"`
	Requires           map[string][]string `json:"requires"`
	Implies            map[string][]string `json:"implies"`
	Endpoints          map[string][]string `json:"endpoints"`
	SeparationOfDuties []SeparationRule    `json:"separationOfDuties"`
	Sources            []Source            `json:"-"`
}

// Feature is one feature of the catalog: its actions and scopes.
type Feature struct {
	Description string            `json:"description,omitempty"`
	Actions     []string          `json:"actions"`
	Scopes      map[string]*Scope `json:"scopes,omitempty"`
}

// Scope is a named visibility limit: a grant in this scope covers a resource when the user is in
// one of its relation fields.
type Scope struct {
	Description string   `json:"description,omitempty"`
	Relations   []string `json:"relations"`
}

// SeparationRule forbids one user holding every listed permission on one instance.
type SeparationRule struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	Source      Source   `json:"-"`
}

// Instance is a tenant: the place sets exist and are assigned.
type Instance struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	Package string      `json:"package,omitempty"`
	Limits  *Limits     `json:"limits,omitempty"`
	Source  Source      `json:"-"`
	At      InstancePos `json:"-"`
}

// InstancePos holds the positions of an instance's fields.
type InstancePos struct {
	ID           Pos
	EditableSets []Pos
}

// Limits are the change limits of an instance.
type Limits struct {
	MaxCustomSets *int     `json:"maxCustomSets,omitempty"`
	EditableSets  []string `json:"editableSets,omitempty"`
}

// PermissionSet is a named group of permissions that exists on one or more instances.
type PermissionSet struct {
	ID          string   `json:"id"`
	Instances   []string `json:"instances"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Enabled     bool     `json:"enabled"`
	Builtin     bool     `json:"builtin"`
	Fixed       bool     `json:"fixed"`
	Permissions []string `json:"permissions"`
	// Parsed holds Permissions parsed, in the same order.
	Parsed []Permission `json:"-"`
	Source Source       `json:"-"`
	At     SetPos       `json:"-"`
}

// SetPos holds the positions of a set's fields.
type SetPos struct {
	ID, Name    Pos
	Instances   []Pos
	Permissions []Pos
}

// Role bundles sets on instances and has members.
type Role struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Description    string   `json:"description,omitempty"`
	Members        []string `json:"members"`
	PermissionSets []string `json:"permissionSets"`
	Source         Source   `json:"-"`
	At             RolePos  `json:"-"`
}

// RolePos holds the positions of a role's fields.
type RolePos struct {
	ID             Pos
	Members        []Pos
	PermissionSets []Pos
}

// Assignment gives sets on one instance to users.
type Assignment struct {
	ID             string        `json:"id"`
	Instance       string        `json:"instance"`
	Users          []string      `json:"users"`
	PermissionSets []string      `json:"permissionSets"`
	Expires        *time.Time    `json:"expires,omitempty"`
	Reason         string        `json:"reason,omitempty"`
	Source         Source        `json:"-"`
	At             AssignmentPos `json:"-"`
}

// AssignmentPos holds the positions of an assignment's fields.
type AssignmentPos struct {
	ID, Instance, Expires Pos
	Users                 []Pos
	PermissionSets        []Pos
}

// User is a person (or robot) who holds sets and may change the repository.
type User struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	Emails      []string `json:"emails,omitempty"`
	Logins      []string `json:"logins,omitempty"`
	SystemAdmin bool     `json:"systemAdmin"`
	Suspended   bool     `json:"suspended"`
	Source      Source   `json:"-"`
	At          UserPos  `json:"-"`
}

// UserPos holds the positions of a user's fields.
type UserPos struct {
	Emails, Logins []Pos
}

// Repository holds repository-wide settings: the thresholds of plan warnings.
type Repository struct {
	Lint   Lint   `json:"lint"`
	Source Source `json:"-"`
}

// Lint holds the thresholds of plan warnings.
type Lint struct {
	ExpiringWithin time.Duration `json:"expiringWithin"`
	SetIDPattern   string        `json:"setIdPattern,omitempty"`
	SetNamePattern string        `json:"setNamePattern,omitempty"`
}

// DefaultExpiringWithin is the default of lint.expiringWithin.
const DefaultExpiringWithin = 14 * 24 * time.Hour

// Instance returns the instance with the given id, or nil.
func (m *Model) Instance(id string) *Instance { return find(m.Instances, id) }

// Set returns the permission set with the given id, or nil.
func (m *Model) Set(id string) *PermissionSet { return find(m.Sets, id) }

// Role returns the role with the given id, or nil.
func (m *Model) Role(id string) *Role { return find(m.Roles, id) }

// User returns the user with the given id, or nil.
func (m *Model) User(id string) *User { return find(m.Users, id) }

// declared is an object of the model that a document declares by id: its id, and where it is
// declared (a pointer, so the assembler can set it).
type declared interface {
	declaredAt() (id string, src *Source)
}

func (x *Instance) declaredAt() (string, *Source)      { return x.ID, &x.Source }
func (x *PermissionSet) declaredAt() (string, *Source) { return x.ID, &x.Source }
func (x *Role) declaredAt() (string, *Source)          { return x.ID, &x.Source }
func (x *Assignment) declaredAt() (string, *Source)    { return x.ID, &x.Source }
func (x *User) declaredAt() (string, *Source)          { return x.ID, &x.Source }

// idOf is the id of a declared object.
func idOf[T declared](x T) string {
	id, _ := x.declaredAt()
	return id
}

// find is a binary search over a slice sorted by id.
func find[T declared](xs []T, id string) T {
	lo, hi := 0, len(xs)
	for lo < hi {
		mid := (lo + hi) / 2
		if idOf(xs[mid]) < id {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	var zero T
	if lo < len(xs) && idOf(xs[lo]) == id {
		return xs[lo]
	}
	return zero
}

// sortByID sorts a list of the model by id.
func sortByID[T declared](xs []T) {
	slices.SortFunc(xs, func(x, y T) int { return cmp.Compare(idOf(x), idOf(y)) })
}

// MarshalJSON writes expiringWithin as a duration string (336h0m0s), not nanoseconds.
func (l Lint) MarshalJSON() ([]byte, error) {
	type plain Lint
	return json.Marshal(struct {
		plain
		ExpiringWithin string `json:"expiringWithin"`
	}{plain(l), l.ExpiringWithin.String()})
}
