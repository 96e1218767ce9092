package audit

import (
	"slices"
	"strings"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/sorted"
)

// view is the compiled index as the audit reads it: the engine's holding records with the
// positions of their assignments and roles, and each set's grants.
type view struct {
	model      *config.Model
	known      map[string]bool     // the catalog's permissions; nil without a catalog
	requires   map[string][]string // transitive
	sets       map[string]*setView
	instances  map[string]*instanceView
	suspended  map[string]bool
	separation []config.SeparationRule
}

type setView struct {
	superuser bool
	// grants by permission key (after wildcards and implies), as the index holds them.
	keys          []string
	grants        map[string][]grantView
	unconditional map[string]bool // keys granted without arguments
	wildcards     []string        // the set's own permissions with a * in feature or action
	flat          []keyGrants     // grants by key, sorted by key, with the key's requirements
	withRequires  []int           // the entries of flat whose key requires something
}

type keyGrants struct {
	key      string
	requires []string
	grants   []grantView
}

type grantView struct {
	text          string
	unconditional bool
	relations     []string
	objects       []string
}

type instanceView struct {
	sets     []string
	records  []*record   // in the index's order
	users    []string    // holders, sorted
	holdings [][]*record // per user, in the order of the index's holdings
}

// record is one holding record of the index: an assignment or role giving a set.
type record struct {
	set, via, source   string
	direct             bool
	enabled, superuser bool
	expiresNs          int64
	file               string
	line               int
	users              []string // sorted
}

func newView(m *config.Model, idx *engine.Index) *view {
	v := &view{model: m, sets: map[string]*setView{}, instances: map[string]*instanceView{}, suspended: map[string]bool{}}
	for _, u := range idx.SuspendedUsers() {
		v.suspended[u] = true
	}
	if idx.HasCatalog() {
		v.known, v.requires = map[string]bool{}, idx.Requires()
		for _, p := range idx.Permissions() {
			v.known[p] = true
		}
	}
	if m.Catalog != nil {
		v.separation = m.Catalog.SeparationOfDuties
	}
	for _, id := range idx.Sets() {
		s, _ := idx.Set(id)
		sv := &setView{superuser: s.Superuser, grants: make(map[string][]grantView, len(s.Permissions)), unconditional: map[string]bool{}}
		for _, g := range idx.SetGrants(id) {
			sv.grants[g.Permission] = append(sv.grants[g.Permission], grantView{text: g.Text, unconditional: g.Unconditional, relations: g.Relations, objects: g.Objects})
			if g.Unconditional {
				sv.unconditional[g.Permission] = true
			}
		}
		sv.keys = s.Permissions
		for _, key := range sv.keys {
			if len(v.requires[key]) > 0 {
				sv.withRequires = append(sv.withRequires, len(sv.flat))
			}
			sv.flat = append(sv.flat, keyGrants{key: key, requires: v.requires[key], grants: sv.grants[key]})
		}
		v.sets[id] = sv
	}
	for _, s := range m.Sets {
		for _, p := range s.Parsed {
			if p.Feature == config.Wildcard || p.Action == config.Wildcard {
				v.sets[s.ID].wildcards = append(v.sets[s.ID].wildcards, p.String())
			}
		}
	}
	where := map[string]config.Source{}
	for _, a := range m.Assignments {
		where["direct\x00"+a.ID] = a.Source
	}
	for _, r := range m.Roles {
		where["role\x00"+r.ID] = r.Source
	}
	for _, id := range idx.Instances() {
		in, _ := idx.Instance(id)
		holdings := idx.Holdings(id)
		iv := &instanceView{sets: in.Sets, records: make([]*record, 0, len(holdings))}
		for _, h := range holdings {
			r := &record{set: h.Set, via: string(h.Via), source: h.Source, direct: h.Via.Direct(), enabled: h.Enabled,
				superuser: h.Superuser, expiresNs: h.ExpiresNs}
			src := where["role\x00"+h.Source]
			if r.direct {
				src = where["direct\x00"+h.Source]
			}
			r.file, r.line = src.File, src.Line
			iv.records = append(iv.records, r) // iv.records[h.Order] is r
		}
		iv.users = idx.Users(id)
		iv.holdings = make([][]*record, len(iv.users))
		var held []*record // scratch: each user's list is then allocated once, at its size
		for i, u := range iv.users {
			held = held[:0]
			for h := range idx.UserHoldings(id, u) {
				r := iv.records[h.Order]
				r.users = append(r.users, u) // users are visited in order: stays sorted
				held = append(held, r)
			}
			iv.holdings[i] = slices.Clone(held)
		}
		v.instances[id] = iv
	}
	return v
}

// userAccess is one user's effective access on one instance: what data.permsets.access and
// data.permsets.effective answer (policies/permsets/listings.rego), and the permissions left out
// of them because a requirement is not met. A million users are reviewed, so only the grants
// that are not effective are listed up front; permissions() gives the map the rules answer.
type userAccess struct {
	v         *view
	active    []*record
	superuser bool
	// lacking: each grant that is not effective, with the requirements it lacks.
	lacking []lacking
}

type lacking struct {
	text    string
	grant   Grant
	missing []string
}

// access computes a (not suspended) user's effective access from their holding records at
// nowNs, with the definitions of the listings: only enabled, unexpired holdings count; a
// superuser holds every permission the catalog knows (given by their *=* sets, and by any other
// set granting the same text with its requirements met); otherwise each grant of an active set
// is effective when every permission its key requires is held without arguments (or through
// *=*) by an active holding. Whether a requirement is met depends on the key only, not on the
// set granting it.
func (v *view) access(user string, recs []*record, nowNs int64) *userAccess {
	a := &userAccess{v: v}
	for _, r := range recs {
		if r.enabled && r.expiresNs > nowNs {
			a.active = append(a.active, r)
			a.superuser = a.superuser || r.superuser
		}
	}
	if a.superuser {
		return a // a *=* holding meets every requirement
	}
	for _, r := range a.active {
		sv := v.sets[r.set]
		for _, i := range sv.withRequires {
			kg := sv.flat[i]
			if missing := v.missing(a, kg.requires); len(missing) > 0 {
				for _, g := range kg.grants {
					a.lacking = append(a.lacking, lacking{text: g.text, grant: Grant{Set: r.set, Via: r.via}, missing: missing})
				}
			}
		}
	}
	return a
}

// gives reports whether a grant of an active set is among the user's permissions: its key's
// requirements are met, and for a superuser, it is one of the catalog's permissions as such.
func (a *userAccess) gives(key, text string) bool {
	if a.superuser {
		return text == key && a.knows(key)
	}
	return len(a.v.missing(a, a.v.requires[key])) == 0
}

// knows reports whether key is among a superuser's permissions: those the catalog knows (*=*
// without a catalog).
func (a *userAccess) knows(key string) bool {
	if a.v.known == nil {
		return key == "*=*"
	}
	return a.v.known[key]
}

// missing lists the requirements that no active holding gives without arguments (a *=* holding
// gives every permission the catalog knows).
func (v *view) missing(a *userAccess, requires []string) []string {
	var out []string
	for _, req := range requires {
		held := false
		for _, r := range a.active {
			if (r.superuser && (v.known == nil || v.known[req])) || v.sets[r.set].unconditional[req] {
				held = true
				break
			}
		}
		if !held {
			out = append(out, req)
		}
	}
	return out
}

// permissions is the access as data.permsets.access answers it: each effective permission (as
// granted, arguments kept) with the held sets that give it, sorted.
func (a *userAccess) permissions() map[string][]Grant {
	out := map[string][]Grant{}
	add := func(p string, g Grant) {
		if !slices.Contains(out[p], g) {
			out[p] = append(out[p], g)
		}
	}
	if a.superuser {
		all := []string{"*=*"}
		if a.v.known != nil {
			all = sorted.Keys(a.v.known)
		}
		for _, r := range a.active {
			if r.superuser {
				for _, p := range all {
					add(p, Grant{Set: r.set, Via: r.via})
				}
			}
		}
	}
	for _, r := range a.active {
		for _, kg := range a.v.sets[r.set].flat {
			for _, g := range kg.grants {
				if a.gives(kg.key, g.text) {
					add(g.text, Grant{Set: r.set, Via: r.via})
				}
			}
		}
	}
	for _, gs := range out {
		slices.SortFunc(gs, compareGrants)
	}
	return out
}

// ineffective groups the grants that are not effective by permission text, sorted.
func (a *userAccess) ineffective() []Ineffective {
	if len(a.lacking) == 0 {
		return nil
	}
	ls := slices.Clone(a.lacking)
	slices.SortFunc(ls, func(x, y lacking) int {
		if c := strings.Compare(x.text, y.text); c != 0 {
			return c
		}
		return compareGrants(x.grant, y.grant)
	})
	var out []Ineffective
	for _, e := range ls {
		if n := len(out); n > 0 && out[n-1].Permission == e.text {
			if last := &out[n-1]; !slices.Contains(last.Grants, e.grant) {
				last.Grants = append(last.Grants, e.grant)
			}
			continue
		}
		missing := slices.Clone(e.missing)
		slices.Sort(missing)
		out = append(out, Ineffective{Permission: e.text, Missing: missing, Grants: []Grant{e.grant}})
	}
	return out
}

func compareGrants(a, b Grant) int {
	if c := strings.Compare(a.Set, b.Set); c != 0 {
		return c
	}
	return strings.Compare(a.Via, b.Via)
}

// holdsKey reports whether the feature=action key is among the keys of the user's effective
// permissions (arguments dropped), as plan's after_keys.
func (a *userAccess) holdsKey(key string) bool {
	if a.superuser {
		return a.knows(key)
	}
	for _, r := range a.active {
		if _, ok := a.v.sets[r.set].grants[key]; ok {
			return a.gives(key, key)
		}
	}
	return false
}

// holdsAll reports whether the user's effective keys include every one of perms.
func (a *userAccess) holdsAll(perms []string) bool {
	for _, p := range perms {
		if !a.holdsKey(p) {
			return false
		}
	}
	return true
}

// giversOfKey lists the held sets giving any effective permission with the key.
func (a *userAccess) giversOfKey(key string) []Grant {
	var out []Grant
	add := func(g Grant) {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	for _, r := range a.active {
		if r.superuser && a.knows(key) {
			add(Grant{Set: r.set, Via: r.via})
		}
		for _, g := range a.v.sets[r.set].grants[key] {
			if a.gives(key, g.text) {
				add(Grant{Set: r.set, Via: r.via})
			}
		}
	}
	slices.SortFunc(out, compareGrants)
	return out
}
