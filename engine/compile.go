// Package engine compiles a config model into the indexed data document the Rego policies read,
// builds OPA bundles from it, and evaluates decisions with prepared queries.
package engine

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/parallel"
	"github.com/permsets/permsets/internal/sorted"
)

// IndexRoot is the data path of the compiled index: data.permsets_index.
const IndexRoot = "permsets_index"

// Index is the compiled, indexed data document. Its shape is documented in docs/engine.md and
// read by policies/permsets; it stays private to the engine (MarshalJSON writes it). Go code
// reads an Index through its accessors (index.go).
type Index struct {
	catalog   *catalogIndex             // nil without a Catalog
	sets      map[string]*setIndex      // by set id
	instances map[string]*instanceIndex // by instance id
	suspended map[string]bool           // suspended users
	ids       *identities               // logins and emails (identity.go)

	setCovers map[string]*setCover // what each set grants, by fast-table position (with a catalog)
	requires  [][]int              // the positions each position requires (with a catalog)
}

type catalogIndex struct {
	Known     map[string]bool                `json:"known"`
	Positions map[string]int                 `json:"positions"` // offset of the cell in a fast row
	Requires  map[string][]string            `json:"requires"`
	Routes    map[string]map[string][]*route `json:"routes"`
	order     []string                       // the known permissions, in position order
	position  map[string]int                 // index in order
	implies   map[string][]string            // closure
	features  map[string]*config.Feature     // for wildcard expansion and scopes
}

type route struct {
	Segments    []string `json:"segments"`
	Permissions []string `json:"permissions"`
}

type setIndex struct {
	Name      string              `json:"name"`
	Enabled   bool                `json:"enabled"`
	Superuser bool                `json:"superuser"`
	Grants    map[string][]*grant `json:"grants"`
}

// grant is one way a set grants a permission key: unconditionally (no scopes, no objects), for
// named objects, or for resources whose relation fields hold the user.
type grant struct {
	Text          string   `json:"text"`
	Unconditional bool     `json:"unconditional"`
	Scopes        []string `json:"scopes"`
	Objects       []string `json:"objects"`
	Relations     []string `json:"relations"`
}

func (g *grant) unconditional() bool { return len(g.Scopes) == 0 && len(g.Objects) == 0 }

type instanceIndex struct {
	Name     string                `json:"name"`
	Sets     []string              `json:"sets"`
	Holdings map[string][]string   `json:"holdings"` // user -> record ids
	Records  map[string]*holding   `json:"records"`  // record id -> holding
	held     map[string][]*holding // user -> records, while compiling
	Holders  map[string][]string   `json:"holders"`
	Granting map[string][]string   `json:"granting"`
	// Covering lists, per permission key, the holding records whose set grants it in some form,
	// with how: coverSuperuser, coverUnconditional or coverScoped.
	Covering map[string]map[string]string `json:"covering"`
	Fast     map[string]string            `json:"fast,omitempty"`
}

// How a holding record covers a permission key in an instance's covering (the rules read these
// codes).
const (
	coverSuperuser     = "s" // the set is *=*: listed under every known key with a catalog, under "*=*" without one
	coverUnconditional = "u" // the set has a grant of the key without arguments
	coverScoped        = "c" // the set only has grants of the key for some resources
)

// holding is one way a user holds a set on an instance. It carries the set's enabled and
// superuser flags, so a decision reads them without another lookup.
type holding struct {
	Set       string `json:"set"`
	Via       string `json:"via"`
	Source    string `json:"source"`
	Enabled   bool   `json:"enabled"`
	Superuser bool   `json:"superuser"`
	ExpiresNs int64  `json:"expires_ns"` // active while now < ExpiresNs; Never when it does not expire
	order     int    // place among the instance's records (its id is "h" and order+1)
}

// Never is the expires_ns of a holding that does not expire: the largest int64.
const Never = int64(math.MaxInt64)

// Compile builds the index of a valid model. The model must have no problems (config.Result.OK).
func Compile(m *config.Model) (*Index, error) {
	idx, err := prepare(m)
	if err != nil {
		return nil, err
	}
	// Instances are independent from here on (each has its own holding records): finish them
	// in parallel. A reload under load then gets more than one goroutine's share of the CPU.
	instances := make([]*instanceIndex, 0, len(idx.instances))
	for _, id := range sorted.Keys(idx.instances) {
		instances = append(instances, idx.instances[id])
	}
	_ = parallel.Each(context.Background(), len(instances), 0, func(i int) {
		idx.finishInstance(instances[i])
	})
	return idx, nil
}

// prepare compiles the catalog and the sets and gathers each instance's holding records,
// sorted and unique per user; finishInstance does the rest, per instance.
func prepare(m *config.Model) (*Index, error) {
	idx := &Index{
		sets:      make(map[string]*setIndex, len(m.Sets)),
		instances: make(map[string]*instanceIndex, len(m.Instances)),
		suspended: map[string]bool{},
	}
	if m.Catalog != nil {
		c, err := compileCatalog(m.Catalog)
		if err != nil {
			return nil, err
		}
		idx.catalog = c
	}
	idx.ids = compileIdentities(m.Users)
	for _, u := range m.Users {
		if u.Suspended {
			idx.suspended[u.ID] = true
		}
	}
	for _, in := range m.Instances {
		idx.instances[in.ID] = &instanceIndex{
			Name:     in.Name,
			Sets:     []string{},
			Holdings: map[string][]string{},
			Records:  map[string]*holding{},
			held:     map[string][]*holding{},
			Holders:  map[string][]string{},
			Granting: map[string][]string{},
			Covering: map[string]map[string]string{},
		}
	}
	for _, s := range m.Sets {
		si := idx.compileSet(s)
		idx.sets[s.ID] = si
		for _, inst := range s.Instances {
			ii := idx.instances[inst]
			if ii == nil {
				return nil, fmt.Errorf("set %s is on unknown instance %s", s.ID, inst)
			}
			ii.Sets = append(ii.Sets, s.ID)
			if si.Superuser {
				ii.Granting["*=*"] = append(ii.Granting["*=*"], s.ID)
			}
			for _, key := range sorted.Keys(si.Grants) {
				ii.Granting[key] = append(ii.Granting[key], s.ID)
			}
		}
	}
	for _, a := range m.Assignments {
		ii := idx.instances[a.Instance]
		if ii == nil {
			return nil, fmt.Errorf("assignment %s is on unknown instance %s", a.ID, a.Instance)
		}
		exp := Never
		if a.Expires != nil {
			exp = a.Expires.UnixNano()
		}
		for _, s := range a.PermissionSets {
			rec := &holding{Set: s, Via: ViaDirect, Source: a.ID, ExpiresNs: exp}
			for _, u := range a.Users {
				ii.held[u] = append(ii.held[u], rec)
			}
		}
	}
	for _, r := range m.Roles {
		for _, ref := range r.PermissionSets {
			inst, s, _ := strings.Cut(ref, "/")
			ii := idx.instances[inst]
			if ii == nil {
				return nil, fmt.Errorf("role %s lists unknown instance %s", r.ID, inst)
			}
			rec := &holding{Set: s, Via: ViaRolePrefix + r.ID, Source: r.ID, ExpiresNs: Never}
			for _, u := range r.Members {
				ii.held[u] = append(ii.held[u], rec)
			}
		}
	}
	if idx.catalog != nil {
		idx.setCovers, idx.requires = idx.covers()
	}
	for _, ii := range idx.instances {
		for u, hs := range ii.held {
			slices.SortFunc(hs, compareHoldings)
			ii.held[u] = slices.CompactFunc(hs, func(a, b *holding) bool { return compareHoldings(a, b) == 0 })
		}
	}
	return idx, nil
}

// finishInstance numbers the instance's holding records (in a deterministic order), lists each
// user's record ids and the holders of each set, and computes the fast table.
func (idx *Index) finishInstance(ii *instanceIndex) {
	covers, requires := idx.setCovers, idx.requires
	records := map[*holding]bool{}
	for _, hs := range ii.held {
		for _, h := range hs {
			records[h] = true
		}
	}
	ordered := make([]*holding, 0, len(records))
	for h := range records {
		if s := idx.sets[h.Set]; s != nil {
			h.Enabled, h.Superuser = s.Enabled, s.Superuser
		}
		ordered = append(ordered, h)
	}
	slices.SortFunc(ordered, compareHoldings)
	ids := make(map[*holding]string, len(ordered))
	cover := func(key, id, how string) {
		if ii.Covering[key] == nil {
			ii.Covering[key] = map[string]string{}
		}
		ii.Covering[key][id] = how
	}
	for i, h := range ordered {
		id := "h" + strconv.Itoa(i+1)
		h.order = i
		ids[h] = id
		ii.Records[id] = h
		s := idx.sets[h.Set]
		if s == nil {
			continue
		}
		for key, grants := range s.Grants {
			how := coverScoped
			for _, g := range grants {
				if g.unconditional() {
					how = coverUnconditional
				}
			}
			cover(key, id, how)
		}
		if s.Superuser {
			cover("*=*", id, coverSuperuser)
			if idx.catalog != nil {
				for _, key := range idx.catalog.order {
					cover(key, id, coverSuperuser)
				}
			}
		}
	}
	// Many users hold exactly the same records (everyone in one assignment, say): they share one
	// holdings list and one fast row, computed once.
	type shared struct {
		list []string
		row  string
	}
	byRecords := map[string]*shared{}
	var rb *rowBuilder
	if idx.catalog != nil {
		ii.Fast = make(map[string]string, len(ii.held))
		rb = newRowBuilder(idx, covers, requires)
	}
	holders := map[string]map[string]bool{}
	var key strings.Builder
	for u, hs := range ii.held {
		key.Reset()
		for _, h := range hs {
			key.WriteString(ids[h])
			key.WriteByte(' ')
			if holders[h.Set] == nil {
				holders[h.Set] = map[string]bool{}
			}
			holders[h.Set][u] = true
		}
		sh := byRecords[key.String()]
		if sh == nil {
			sh = &shared{list: make([]string, len(hs))}
			for i, h := range hs {
				sh.list[i] = ids[h]
			}
			if rb != nil {
				sh.row = rb.row(hs)
			}
			byRecords[key.String()] = sh
		}
		ii.Holdings[u] = sh.list
		if rb != nil && !idx.suspended[u] {
			ii.Fast[u] = sh.row
		}
	}
	for s, us := range holders {
		ii.Holders[s] = sorted.Keys(us)
	}
	ii.held = nil
}

func compareHoldings(a, b *holding) int {
	if c := strings.Compare(a.Set, b.Set); c != 0 {
		return c
	}
	if c := strings.Compare(a.Via, b.Via); c != 0 {
		return c
	}
	if c := strings.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	return cmp.Compare(a.ExpiresNs, b.ExpiresNs)
}

func compileCatalog(cat *config.Catalog) (*catalogIndex, error) {
	c := &catalogIndex{
		Known:     map[string]bool{},
		Positions: map[string]int{},
		position:  map[string]int{},
		Routes:    map[string]map[string][]*route{},
		features:  cat.Features,
	}
	for _, f := range sorted.Keys(cat.Features) {
		for _, a := range cat.Features[f].Actions {
			c.order = append(c.order, f+"="+a)
		}
	}
	sort.Strings(c.order)
	for i, p := range c.order {
		c.Known[p] = true
		c.Positions[p] = i * cellWidth
		c.position[p] = i
	}
	var err error
	if c.Requires, err = closure(cat.Requires, "requires"); err != nil {
		return nil, err
	}
	if c.implies, err = closure(cat.Implies, "implies"); err != nil {
		return nil, err
	}
	byTemplate := map[string]map[string]bool{}
	for perm, eps := range cat.Endpoints {
		for _, ep := range eps {
			if byTemplate[ep] == nil {
				byTemplate[ep] = map[string]bool{}
			}
			byTemplate[ep][perm] = true
		}
	}
	for _, ep := range sorted.Keys(byTemplate) {
		method, path, _ := strings.Cut(ep, " ")
		segments := strings.Split(strings.TrimSuffix(path, "/"), "/")
		n := strconv.Itoa(len(segments))
		if c.Routes[method] == nil {
			c.Routes[method] = map[string][]*route{}
		}
		c.Routes[method][n] = append(c.Routes[method][n], &route{Segments: segments, Permissions: sorted.Keys(byTemplate[ep])})
	}
	return c, nil
}

// closure computes, for each key of a permission graph, every permission reachable from it.
// A cycle is an error (the loader reports it first, with its position).
func closure(graph map[string][]string, what string) (map[string][]string, error) {
	out := make(map[string][]string, len(graph))
	const (
		active = 1
		done   = 2
	)
	state := map[string]int{}
	var visit func(p string) error
	visit = func(p string) error {
		switch state[p] {
		case active:
			return fmt.Errorf("%s cycle through %s", what, p)
		case done:
			return nil
		}
		state[p] = active
		reach := map[string]bool{}
		for _, q := range graph[p] {
			if err := visit(q); err != nil {
				return err
			}
			reach[q] = true
			for _, r := range out[q] {
				reach[r] = true
			}
		}
		state[p] = done
		if len(reach) > 0 {
			out[p] = sorted.Keys(reach)
		}
		return nil
	}
	for _, p := range sorted.Keys(graph) {
		if err := visit(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// compileSet expands a set's permissions into grants by permission key: wildcards into the
// catalog's concrete permissions (kept as wildcard keys without a catalog), then implies,
// keeping each grant's scopes and object arguments.
func (idx *Index) compileSet(s *config.PermissionSet) *setIndex {
	si := &setIndex{Name: s.Name, Enabled: s.Enabled, Grants: map[string][]*grant{}}
	seen := map[string]bool{}
	for _, p := range s.Parsed {
		if p.Feature == config.Wildcard && p.Action == config.Wildcard {
			si.Superuser = true
			continue
		}
		scopes, objects := p.Scopes(), p.Objects()
		var relations []string
		if idx.catalog != nil {
			if f := idx.catalog.features[p.Feature]; f != nil {
				rel := map[string]bool{}
				for _, sc := range scopes {
					if scope := f.Scopes[sc]; scope != nil {
						for _, r := range scope.Relations {
							rel[r] = true
						}
					}
				}
				relations = sorted.Keys(rel)
			}
		}
		for _, key := range idx.expand(p) {
			keys := append([]string{key}, idx.implied(key)...)
			for _, k := range keys {
				f, a, _ := strings.Cut(k, "=")
				text := config.Permission{Feature: f, Action: a, Args: p.Args}.String()
				if seen[text] {
					continue
				}
				seen[text] = true
				si.Grants[k] = append(si.Grants[k], &grant{Text: text, Unconditional: len(scopes)+len(objects) == 0,
					Scopes: nonNil(scopes), Objects: nonNil(objects), Relations: nonNil(relations)})
			}
		}
	}
	return si
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// expand turns a permission into the keys it grants: itself, or with a catalog, every concrete
// permission a wildcard covers.
func (idx *Index) expand(p config.Permission) []string {
	if idx.catalog == nil || (p.Feature != config.Wildcard && p.Action != config.Wildcard) {
		return []string{p.Key()}
	}
	var keys []string
	for _, k := range idx.catalog.order {
		f, a, _ := strings.Cut(k, "=")
		if (p.Feature == config.Wildcard || p.Feature == f) && (p.Action == config.Wildcard || p.Action == a) {
			keys = append(keys, k)
		}
	}
	return keys
}

func (idx *Index) implied(key string) []string {
	if idx.catalog == nil {
		return nil
	}
	return idx.catalog.implies[key]
}

// setCover is what a set grants, by fast-table position: computed once per set.
type setCover struct {
	enabled, superuser bool
	any, unconditional []int // positions with any grant; with a grant without arguments
}

// covers returns the fast-table view of every set, and the positions each position requires.
func (idx *Index) covers() (map[string]*setCover, [][]int) {
	c := idx.catalog
	out := make(map[string]*setCover, len(idx.sets))
	for id, s := range idx.sets {
		sc := &setCover{enabled: s.Enabled, superuser: s.Superuser}
		for key, grants := range s.Grants {
			pos, ok := c.position[key]
			if !ok {
				continue
			}
			sc.any = append(sc.any, pos)
			for _, g := range grants {
				if g.unconditional() {
					sc.unconditional = append(sc.unconditional, pos)
					break
				}
			}
		}
		out[id] = sc
	}
	requires := make([][]int, len(c.order))
	for i, key := range c.order {
		for _, r := range c.Requires[key] {
			requires[i] = append(requires[i], c.position[r])
		}
	}
	return out, requires
}
