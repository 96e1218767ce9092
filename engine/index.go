package engine

import (
	"encoding/json"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/permsets/permsets/internal/sorted"
)

// Reading the index from Go. The index's fields carry the JSON shape the rules read
// (docs/engine.md) and stay private to the engine; these accessors answer from them with
// values and copies. An Index is shared (permsd's evaluators, the audit's workers) and nothing
// changes it once compiled, so readers may call them concurrently.

// How a holding gives its set: ViaDirect for an assignment, ViaRolePrefix and the role's id for
// a role.
const (
	ViaDirect     = "direct"
	ViaRolePrefix = "role:"
)

// Via is how a holding gives its set: ViaDirect, or ViaRole of a role's id.
type Via string

// ViaRole is the Via of a holding through a role.
func ViaRole(role string) Via { return Via(ViaRolePrefix + role) }

// Direct reports whether the holding is an assignment.
func (v Via) Direct() bool { return v == ViaDirect }

// Role is the role's id of a holding through a role; false for an assignment.
func (v Via) Role() (string, bool) {
	role, ok := strings.CutPrefix(string(v), ViaRolePrefix)
	if !ok {
		return "", false
	}
	return role, true
}

// SetInfo describes a compiled permission set.
type SetInfo struct {
	ID, Name string
	Enabled  bool
	// Superuser: the set holds *=*.
	Superuser bool
	// Permissions are the permission keys (feature=action) it grants, after wildcards and
	// implies, sorted; *=* itself is not among them. With a catalog, the catalog's permissions;
	// without one, wildcard permissions stay as wildcard keys (people=*, *=read).
	Permissions []string
}

// SetGrant is one way a set grants a permission key: unconditionally (no scopes, no objects),
// for named objects, or for resources whose relation fields hold the user.
type SetGrant struct {
	Permission    string // the key, feature=action
	Text          string // the permission as granted, arguments kept
	Unconditional bool
	Scopes        []string
	Objects       []string
	Relations     []string // the relation fields of the scopes
}

// InstanceInfo describes a compiled instance.
type InstanceInfo struct {
	ID, Name string
	Sets     []string // the sets that exist on the instance, in the model's order
}

// Holding is one holding record of an instance: an assignment or a role giving a set, shared by
// every user it lists.
type Holding struct {
	// Order is the record's place among the instance's holdings (Holdings(instance)[Order]): by
	// set, way, source and expiry. A user's holdings come in increasing Order.
	Order              int
	Set                string
	Via                Via
	Source             string // the assignment's or the role's id
	Enabled, Superuser bool   // the set's flags
	ExpiresNs          int64  // Never when it does not expire
}

// Expires is when the holding expires; false when it does not.
func (h Holding) Expires() (time.Time, bool) {
	if h.ExpiresNs == Never {
		return time.Time{}, false
	}
	return time.Unix(0, h.ExpiresNs), true
}

func (h *holding) public() Holding {
	return Holding{Order: h.order, Set: h.Set, Via: Via(h.Via), Source: h.Source, Enabled: h.Enabled,
		Superuser: h.Superuser, ExpiresNs: h.ExpiresNs}
}

// Sets lists the ids of the compiled sets, sorted.
func (idx *Index) Sets() []string { return sorted.Keys(idx.sets) }

// Set describes a set; false when the index has no such set.
func (idx *Index) Set(id string) (SetInfo, bool) {
	s := idx.sets[id]
	if s == nil {
		return SetInfo{}, false
	}
	return SetInfo{ID: id, Name: s.Name, Enabled: s.Enabled, Superuser: s.Superuser, Permissions: sorted.Keys(s.Grants)}, true
}

// SetGrants lists a set's grants by permission key, sorted, each key's grants in the index's
// order; none for an unknown set (or one that only holds *=*).
func (idx *Index) SetGrants(id string) []SetGrant {
	s := idx.sets[id]
	if s == nil {
		return nil
	}
	// The lists are copied into one array (the audit reads every set of a large repository),
	// each capped so that appending to one does not write into the next.
	n, strs := 0, 0
	for _, gs := range s.Grants {
		n += len(gs)
		for _, g := range gs {
			strs += len(g.Scopes) + len(g.Objects) + len(g.Relations)
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]SetGrant, 0, n)
	buf := make([]string, 0, strs)
	clone := func(list []string) []string {
		if list == nil {
			return nil
		}
		start := len(buf)
		buf = append(buf, list...)
		return buf[start:len(buf):len(buf)]
	}
	for _, key := range sorted.Keys(s.Grants) {
		for _, g := range s.Grants[key] {
			out = append(out, SetGrant{Permission: key, Text: g.Text, Unconditional: g.Unconditional,
				Scopes: clone(g.Scopes), Objects: clone(g.Objects), Relations: clone(g.Relations)})
		}
	}
	return out
}

// Instances lists the ids of the compiled instances, sorted.
func (idx *Index) Instances() []string { return sorted.Keys(idx.instances) }

// Instance describes an instance; false when the index has no such instance.
func (idx *Index) Instance(id string) (InstanceInfo, bool) {
	ii := idx.instances[id]
	if ii == nil {
		return InstanceInfo{}, false
	}
	return InstanceInfo{ID: id, Name: ii.Name, Sets: slices.Clone(ii.Sets)}, true
}

// Holdings lists the holding records of an instance in their order (each one's Order is its
// place in the list), those of disabled sets and expired assignments included.
func (idx *Index) Holdings(instance string) []Holding {
	ii := idx.instances[instance]
	if ii == nil {
		return nil
	}
	out := make([]Holding, len(ii.Records))
	for _, h := range ii.Records {
		out[h.order] = h.public()
	}
	return out
}

// Users lists the users who hold anything on an instance, sorted (suspended users included).
func (idx *Index) Users(instance string) []string {
	ii := idx.instances[instance]
	if ii == nil {
		return nil
	}
	return sorted.Keys(ii.Holdings)
}

// UserHoldings yields a user's holdings on an instance, in increasing Order.
func (idx *Index) UserHoldings(instance, user string) iter.Seq[Holding] {
	return func(yield func(Holding) bool) {
		ii := idx.instances[instance]
		if ii == nil {
			return
		}
		for _, id := range ii.Holdings[user] {
			if !yield(ii.Records[id].public()) {
				return
			}
		}
	}
}

// Holders lists the users who hold a set on an instance, through any holding, sorted.
func (idx *Index) Holders(instance, set string) []string {
	ii := idx.instances[instance]
	if ii == nil {
		return nil
	}
	return slices.Clone(ii.Holders[set])
}

// Suspended reports whether a user is suspended (allowed nothing, whatever they hold).
func (idx *Index) Suspended(user string) bool { return idx.suspended[user] }

// SuspendedUsers lists the suspended users, sorted.
func (idx *Index) SuspendedUsers() []string { return sorted.Keys(idx.suspended) }

// HasCatalog reports whether the index was compiled with a catalog. Without one, nothing is
// known, nothing requires anything, and wildcard grants keep their wildcard keys.
func (idx *Index) HasCatalog() bool { return idx.catalog != nil }

// Permissions lists the catalog's permissions (feature=action), sorted; none without a catalog.
func (idx *Index) Permissions() []string {
	if idx.catalog == nil {
		return nil
	}
	return slices.Clone(idx.catalog.order)
}

// Known reports whether the catalog has the permission (feature=action); false without a
// catalog.
func (idx *Index) Known(perm string) bool {
	return idx.catalog != nil && idx.catalog.Known[perm]
}

// Requires is the catalog's requirements closed transitively: for each permission that requires
// any, every permission it requires, sorted. A copy; nil without a catalog.
func (idx *Index) Requires() map[string][]string {
	if idx.catalog == nil {
		return nil
	}
	out := make(map[string][]string, len(idx.catalog.Requires))
	for p, rs := range idx.catalog.Requires {
		out[p] = slices.Clone(rs)
	}
	return out
}

// Requirements lists every permission perm requires, transitively, sorted.
func (idx *Index) Requirements(perm string) []string {
	if idx.catalog == nil {
		return nil
	}
	return slices.Clone(idx.catalog.Requires[perm])
}

// MarshalJSON writes the index as the rules read it (data.permsets_index, docs/engine.md).
func (idx *Index) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Catalog    *catalogIndex             `json:"catalog,omitempty"`
		Sets       map[string]*setIndex      `json:"sets"`
		Instances  map[string]*instanceIndex `json:"instances"`
		Suspended  map[string]bool           `json:"suspended"`
		Identities *identities               `json:"identities"`
	}{idx.catalog, idx.sets, idx.instances, idx.suspended, idx.ids})
}
