package config

import (
	"cmp"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/permsets/permsets/internal/sorted"
)

// assembler builds the model from the decoded files and checks references across them.
type assembler struct {
	m     *Model
	probs []Problem
	hints hinter

	instances map[string]*Instance
	sets      map[string]*PermissionSet
	roles     map[string]*Role
	users     map[string]*User
	assignIDs map[string]Source

	// known ids include objects that failed validation, so references to them do not cascade.
	knownInstances, knownSets, knownUsers map[string]bool
	usersDeclared                         bool

	catalogs []catalogSource
	// catalogOrigin remembers where each catalog key was first declared.
	catalogOrigin map[string]located
}

type catalogSource struct {
	doc *catalogDoc
	src Source
}

type located struct {
	file string
	pos  Pos
}

func (l located) String() string { return fmt.Sprintf("%s:%d", l.file, l.pos.Line) }

func (a *assembler) add(file string, pos Pos, code, format string, args ...any) {
	a.probs = append(a.probs, Problem{File: file, Pos: pos, Code: code, Message: fmt.Sprintf(format, args...)})
}

// addRef adds a problem about a reference to the object kind/id that does not resolve.
func (a *assembler) addRef(file string, pos Pos, kind, id, code, format string, args ...any) {
	a.probs = append(a.probs, Problem{File: file, Pos: pos, Code: code, Message: fmt.Sprintf(format, args...), Object: ObjectRef(kind, id)})
}

func assemble(files []file, results []*fileResult) (*Model, []Problem) {
	a := &assembler{
		m:              &Model{},
		hints:          hinter{budget: 500},
		instances:      map[string]*Instance{},
		sets:           map[string]*PermissionSet{},
		roles:          map[string]*Role{},
		users:          map[string]*User{},
		assignIDs:      map[string]Source{},
		knownInstances: map[string]bool{},
		knownSets:      map[string]bool{},
		knownUsers:     map[string]bool{},
		catalogOrigin:  map[string]located{},
	}
	for i, f := range results {
		path := files[i].path
		for _, p := range f.problems {
			p.File = path
			a.probs = append(a.probs, p)
		}
		for _, d := range f.docs {
			a.collect(path, d)
		}
	}
	a.mergeCatalogs()
	a.checkCatalog()
	a.checkInstances()
	a.checkSets()
	a.checkRoles()
	a.checkAssignments()
	a.checkUsers()
	a.checkTests()
	a.normalize()
	return a.m, a.probs
}

// collect adds one decoded document to the model, reporting duplicate ids. Objects are copied:
// the decoded ones may be shared with other loads through the cache.
func (a *assembler) collect(file string, d decoded) {
	src := Source{File: file, Line: d.pos.Line, Col: d.pos.Col, Doc: d.index}
	switch d.kind {
	case KindInstance:
		a.knownInstances[d.id] = true
	case KindPermissionSet:
		a.knownSets[d.id] = true
	case KindUser:
		a.knownUsers[d.id] = true
		a.usersDeclared = true
	}
	if d.invalid {
		return
	}
	switch d.kind {
	case KindInstance:
		declare(a, file, d, src, a.instances, &a.m.Instances, d.instance)
	case KindPermissionSet:
		declare(a, file, d, src, a.sets, &a.m.Sets, d.set)
	case KindRole:
		declare(a, file, d, src, a.roles, &a.m.Roles, d.role)
	case KindUser:
		declare(a, file, d, src, a.users, &a.m.Users, d.user)
	case KindAssignment:
		x := *d.assignment
		x.Source = src
		if x.ID == "" {
			x.ID = docID(file, d.index)
		} else if first, ok := a.assignIDs[x.ID]; ok {
			a.add(file, x.At.ID, CodeDuplicateID, "assignment %q is already declared at %s:%d", x.ID, first.File, first.Line)
			return
		}
		a.assignIDs[x.ID] = src
		a.m.Assignments = append(a.m.Assignments, &x)
	case KindRepository:
		x := *d.repository
		x.Source = src
		if a.m.Repository != nil {
			a.add(file, d.pos, CodeDuplicateRepository, "only one Repository document is allowed; the first is at %s:%d", a.m.Repository.Source.File, a.m.Repository.Source.Line)
			return
		}
		a.m.Repository = &x
	case KindCatalog:
		a.catalogs = append(a.catalogs, catalogSource{doc: d.catalog, src: src})
	case KindTest:
		x := *d.test
		x.Source = src
		a.m.Tests = append(a.m.Tests, &x)
	}
}

// declare adds a copy of the decoded object doc, declared at src, to byID and to the model's list,
// unless its id is already declared: that is reported at the document's id.
func declare[T any, P interface {
	*T
	declared
}](a *assembler, file string, d decoded, src Source, byID map[string]P, list *[]P, doc P) {
	x := P(new(T))
	*x = *doc
	id, at := x.declaredAt()
	*at = src
	if first, ok := byID[id]; ok {
		_, at := first.declaredAt()
		a.add(file, d.idPos, CodeDuplicateID, "%s %q is already declared at %s:%d", strings.ToLower(d.kind), d.id, at.File, at.Line)
		return
	}
	byID[id] = x
	*list = append(*list, x)
}

// mergeCatalogs merges every Catalog document; one key defined differently twice is a conflict.
func (a *assembler) mergeCatalogs() {
	if len(a.catalogs) == 0 {
		return
	}
	c := &Catalog{Features: map[string]*Feature{}, Requires: map[string][]string{}, Implies: map[string][]string{}, Endpoints: map[string][]string{}}
	sod := map[string]SeparationRule{}
	for _, cs := range a.catalogs {
		doc, file := cs.doc, cs.src.File
		c.Sources = append(c.Sources, cs.src)
		conflict := func(ptr, what string, first located) {
			a.add(file, doc.at[ptr+"#key"], CodeCatalogConflict, "%s is defined differently at %s", what, first)
		}
		for _, name := range sorted.Keys(doc.cat.Features) {
			f := doc.cat.Features[name]
			ptr := "/features/" + escapePointer(name)
			a.checkListDups(file, doc, ptr+"/actions", f.Actions, "actions")
			for sn, s := range f.Scopes {
				a.checkListDups(file, doc, ptr+"/scopes/"+escapePointer(sn)+"/relations", s.Relations, "relations")
			}
			key := "feature " + name
			if prev, ok := c.Features[name]; ok {
				if !reflect.DeepEqual(normFeature(prev), normFeature(f)) {
					conflict(ptr, fmt.Sprintf("feature %q", name), a.catalogOrigin[key])
				}
				continue
			}
			nf := normFeature(f) // a copy: the decoded catalog may be shared through the cache
			c.Features[name] = &nf
			a.catalogOrigin[key] = located{file, doc.at[ptr+"#key"]}
		}
		for section, pair := range map[string][2]map[string][]string{
			"requires":  {doc.cat.Requires, c.Requires},
			"implies":   {doc.cat.Implies, c.Implies},
			"endpoints": {doc.cat.Endpoints, c.Endpoints},
		} {
			src, dst := pair[0], pair[1]
			for _, k := range sorted.Keys(src) {
				ptr := "/" + section + "/" + escapePointer(k)
				key := section + " " + k
				if prev, ok := dst[k]; ok {
					if !slices.Equal(sortedCopy(prev), sortedCopy(src[k])) {
						conflict(ptr, fmt.Sprintf("%s of %q", section, k), a.catalogOrigin[key])
					}
					continue
				}
				dst[k] = src[k]
				a.catalogOrigin[key] = located{file, doc.at[ptr+"#key"]}
			}
		}
		for i, r := range doc.cat.SeparationOfDuties {
			r.Source.File = file
			ptr := fmt.Sprintf("/separationOfDuties/%d", i)
			key := "separationOfDuties " + r.Name
			if prev, ok := sod[r.Name]; ok {
				if !slices.Equal(sortedCopy(prev.Permissions), sortedCopy(r.Permissions)) {
					a.add(file, doc.at[ptr], CodeCatalogConflict, "separation rule %q is defined differently at %s", r.Name, a.catalogOrigin[key])
				}
				continue
			}
			sod[r.Name] = r
			a.catalogOrigin[key] = located{file, doc.at[ptr]}
		}
	}
	for _, name := range sorted.Keys(sod) {
		c.SeparationOfDuties = append(c.SeparationOfDuties, sod[name])
	}
	a.m.Catalog = c
}

func (a *assembler) checkListDups(file string, doc *catalogDoc, ptr string, list []string, what string) {
	seen := map[string]bool{}
	for i, s := range list {
		if seen[s] {
			a.add(file, doc.at[fmt.Sprintf("%s/%d", ptr, i)], CodeDuplicateEntry, "%s lists %q twice", what, s)
		}
		seen[s] = true
	}
}

func normFeature(f *Feature) Feature {
	n := Feature{Description: f.Description, Actions: sortedCopy(f.Actions)}
	if len(f.Scopes) > 0 {
		n.Scopes = map[string]*Scope{}
	}
	for k, s := range f.Scopes {
		n.Scopes[k] = &Scope{Description: s.Description, Relations: sortedCopy(s.Relations)}
	}
	return n
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}

var endpointPattern = regexp.MustCompile(`^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (/\S*)$`)
var endpointSegment = regexp.MustCompile(`^(\{[A-Za-z_][A-Za-z0-9_]*\}|[^{}]*)$`)

// checkCatalog checks the permissions the catalog itself names, its endpoints and its cycles.
func (a *assembler) checkCatalog() {
	c := a.m.Catalog
	if c == nil {
		return
	}
	for _, cs := range a.catalogs {
		doc, file := cs.doc, cs.src.File
		plain := func(ptr, raw, what string, key bool) {
			pos := doc.at[ptr]
			if key {
				pos = doc.at[ptr+"#key"]
			}
			p, err := ParsePermission(raw)
			if err != nil {
				a.add(file, pos, CodeInvalidPermission, "%s: %v", what, err)
				return
			}
			if p.Feature == Wildcard || p.Action == Wildcard || len(p.Args) > 0 {
				a.add(file, pos, CodeInvalidPermission, "%s: %q: catalog permissions name one feature and one action, without wildcards or arguments", what, raw)
				return
			}
			if msg := a.unknownInCatalog(p); msg != "" {
				a.add(file, pos, CodeUnknownPermission, "%s: %s", what, msg)
			}
		}
		for section, m := range map[string]map[string][]string{"requires": doc.cat.Requires, "implies": doc.cat.Implies} {
			for _, k := range sorted.Keys(m) {
				ptr := "/" + section + "/" + escapePointer(k)
				plain(ptr, k, section, true)
				for i, v := range m[k] {
					plain(fmt.Sprintf("%s/%d", ptr, i), v, section+" of "+k, false)
				}
			}
		}
		for _, k := range sorted.Keys(doc.cat.Endpoints) {
			ptr := "/endpoints/" + escapePointer(k)
			plain(ptr, k, "endpoints", true)
			for i, e := range doc.cat.Endpoints[k] {
				if msg := checkEndpoint(e); msg != "" {
					a.add(file, doc.at[fmt.Sprintf("%s/%d", ptr, i)], CodeInvalidEndpoint, "%q: %s", e, msg)
				}
			}
		}
		for i, r := range doc.cat.SeparationOfDuties {
			for j, p := range r.Permissions {
				plain(fmt.Sprintf("/separationOfDuties/%d/permissions/%d", i, j), p, "separation rule "+r.Name, false)
			}
		}
	}
	a.checkCycles("requires", c.Requires)
	a.checkCycles("implies", c.Implies)
}

func checkEndpoint(e string) string {
	m := endpointPattern.FindStringSubmatch(e)
	if m == nil {
		return "an endpoint is METHOD /path, with METHOD one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
	}
	for _, seg := range strings.Split(m[2], "/")[1:] {
		if !endpointSegment.MatchString(seg) {
			return fmt.Sprintf("path segment %q: a parameter is a whole segment like {id}", seg)
		}
	}
	return ""
}

// checkCycles reports each cycle of a permission graph once, at the key that starts it.
func (a *assembler) checkCycles(section string, graph map[string][]string) {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(n string)
	visit = func(n string) {
		state[n] = active
		stack = append(stack, n)
		for _, next := range graph[n] {
			switch state[next] {
			case active:
				i := slices.Index(stack, next)
				cycle := append(slices.Clone(stack[i:]), next)
				origin := a.catalogOrigin[section+" "+next]
				a.add(origin.file, origin.pos, CodeCycle, "%s cycle: %s", section, strings.Join(cycle, " -> "))
			case unseen:
				visit(next)
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
	}
	for _, k := range sorted.Keys(graph) {
		if state[k] == unseen {
			visit(k)
		}
	}
}

// unknownInCatalog says what the catalog does not know about p, or "".
func (a *assembler) unknownInCatalog(p Permission) string {
	c := a.m.Catalog
	if p.Feature == Wildcard {
		if p.Action == Wildcard {
			return ""
		}
		for _, f := range c.Features {
			if slices.Contains(f.Actions, p.Action) {
				return ""
			}
		}
		return fmt.Sprintf("no feature of the catalog has the action %q", p.Action)
	}
	f, ok := c.Features[p.Feature]
	if !ok {
		return fmt.Sprintf("unknown feature %q%s", p.Feature, didYouMean(p.Feature, sorted.Keys(c.Features)))
	}
	if p.Action != Wildcard && !slices.Contains(f.Actions, p.Action) {
		return fmt.Sprintf("feature %q has no action %q%s; its actions are %s", p.Feature, p.Action, didYouMean(p.Action, f.Actions), strings.Join(sortedCopy(f.Actions), ", "))
	}
	for _, s := range p.Scopes() {
		if _, ok := f.Scopes[s]; !ok {
			scopes := sorted.Keys(f.Scopes)
			if len(scopes) == 0 {
				return fmt.Sprintf("feature %q defines no scopes, so %q cannot limit it", p.Feature, s)
			}
			return fmt.Sprintf("feature %q has no scope %q%s; its scopes are %s", p.Feature, s, didYouMean(s, scopes), strings.Join(scopes, ", "))
		}
	}
	return ""
}

func (a *assembler) checkInstances() {
	for _, in := range a.m.Instances {
		if in.Limits == nil {
			continue
		}
		for i, id := range in.Limits.EditableSets {
			if s := a.sets[id]; s != nil && !slices.Contains(s.Instances, in.ID) {
				a.addRef(in.Source.File, in.At.EditableSets[i], KindPermissionSet, id, CodeUnknownSet, "editableSets: set %q does not exist on instance %q", id, in.ID)
			} else if s == nil && !a.knownSets[id] {
				a.addRef(in.Source.File, in.At.EditableSets[i], KindPermissionSet, id, CodeUnknownSet, "editableSets: unknown set %q%s", id, a.hintSet(id))
			}
		}
	}
}

func (a *assembler) hintSet(id string) string {
	return a.hints.hint(id, func() []string { return sorted.Keys(a.sets) })
}

func (a *assembler) checkSets() {
	names := map[string]map[string]*PermissionSet{}
	for _, s := range a.m.Sets {
		file := s.Source.File
		for i, inst := range s.Instances {
			if a.instances[inst] == nil {
				if !a.knownInstances[inst] {
					a.addRef(file, s.At.Instances[i], KindInstance, inst, CodeUnknownInstance, "unknown instance %q%s", inst, a.hints.hint(inst, func() []string { return sorted.Keys(a.instances) }))
				}
				continue
			}
			if names[inst] == nil {
				names[inst] = map[string]*PermissionSet{}
			}
			key := strings.ToLower(s.Name)
			if first, ok := names[inst][key]; ok {
				a.add(file, s.At.Name, CodeDuplicateName, "instance %q already has a set named %q (%s at %s:%d); names are unique per instance, ignoring case", inst, first.Name, first.ID, first.Source.File, first.Source.Line)
				continue
			}
			names[inst][key] = s
		}
		for i, p := range s.Parsed {
			pos := s.At.Permissions[i]
			if a.m.Catalog != nil {
				if msg := a.unknownInCatalog(p); msg != "" {
					a.add(file, pos, CodeUnknownPermission, "%s: %s", p, msg)
					continue
				}
			}
			if p.Feature == SetFeature {
				for _, id := range p.Objects() {
					if a.sets[id] == nil && !a.knownSets[id] {
						a.addRef(file, pos, KindPermissionSet, id, CodeUnknownSet, "%s names unknown set %q%s", p, id, a.hintSet(id))
					}
				}
			}
		}
	}
}

func (a *assembler) checkUser(file string, pos Pos, id string) {
	if a.usersDeclared && a.users[id] == nil && !a.knownUsers[id] {
		a.addRef(file, pos, KindUser, id, CodeUnknownUser, "unknown user %q%s; with User documents present, every user must be declared", id, a.hints.hint(id, func() []string { return sorted.Keys(a.users) }))
	}
}

// checkSetOn reports a set reference that does not resolve to a set on the instance.
func (a *assembler) checkSetOn(file string, pos Pos, inst, id string) {
	s := a.sets[id]
	switch {
	case s == nil && a.knownSets[id]:
	case s == nil:
		a.addRef(file, pos, KindPermissionSet, id, CodeUnknownSet, "unknown set %q%s", id, a.hintSet(id))
	case a.instances[inst] != nil && !slices.Contains(s.Instances, inst):
		a.addRef(file, pos, KindPermissionSet, id, CodeUnknownSet, "set %q does not exist on instance %q (it is on %s); add the instance to the set's instances", id, inst, strings.Join(s.Instances, ", "))
	}
}

func (a *assembler) checkInstance(file string, pos Pos, id string) bool {
	if a.instances[id] != nil {
		return true
	}
	if !a.knownInstances[id] {
		a.addRef(file, pos, KindInstance, id, CodeUnknownInstance, "unknown instance %q%s", id, a.hints.hint(id, func() []string { return sorted.Keys(a.instances) }))
	}
	return false
}

func (a *assembler) checkRoles() {
	for _, r := range a.m.Roles {
		file := r.Source.File
		for i, u := range r.Members {
			a.checkUser(file, r.At.Members[i], u)
		}
		for i, ref := range r.PermissionSets {
			inst, id, _ := strings.Cut(ref, "/")
			if a.checkInstance(file, r.At.PermissionSets[i], inst) {
				a.checkSetOn(file, r.At.PermissionSets[i], inst, id)
			}
		}
	}
}

// checkUsers refuses a login or an email that two users declare: plan --actor names a user by
// one of them, and must name at most one. Emails are compared ignoring case, as --actor
// email:ADDR matches them. Each later declaration is reported, pointing at the first.
func (a *assembler) checkUsers() {
	type first struct {
		user string
		at   located
	}
	logins, emails := map[string]first{}, map[string]first{}
	check := func(u *User, seen map[string]first, key, value string, pos Pos, code, what string) {
		if f, ok := seen[key]; ok {
			if f.user != u.ID {
				a.add(u.Source.File, pos, code, "%s %q is already declared by user %q at %s", what, value, f.user, f.at)
			}
			return
		}
		seen[key] = first{u.ID, located{u.Source.File, pos}}
	}
	for _, u := range a.m.Users {
		for i, l := range u.Logins {
			check(u, logins, l, l, posAt(u.At.Logins, i, u.Source), CodeDuplicateLogin, "login")
		}
		for i, e := range u.Emails {
			check(u, emails, foldKey(e), e, posAt(u.At.Emails, i, u.Source), CodeDuplicateEmail, "email")
		}
	}
}

// foldKey is s with each rune replaced by the least rune of its case-folding orbit: two strings
// have the same key exactly when strings.EqualFold says they are equal.
func foldKey(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

// posAt is the i-th position of a list, or the document's when it is not known.
func posAt(pos []Pos, i int, src Source) Pos {
	if i < len(pos) && pos[i].Line > 0 {
		return pos[i]
	}
	return Pos{Line: src.Line, Col: src.Col}
}

func (a *assembler) checkAssignments() {
	for _, as := range a.m.Assignments {
		file := as.Source.File
		if a.checkInstance(file, as.At.Instance, as.Instance) {
			for i, id := range as.PermissionSets {
				a.checkSetOn(file, as.At.PermissionSets[i], as.Instance, id)
			}
		}
		if a.usersDeclared {
			for i, u := range as.Users {
				a.checkUser(file, as.At.Users[i], u)
			}
		}
	}
}

// normalize sorts every list by id and fills defaults.
func (a *assembler) normalize() {
	m := a.m
	sortByID(m.Instances)
	sortByID(m.Sets)
	sortByID(m.Roles)
	sortByID(m.Assignments)
	sortByID(m.Users)
	slices.SortStableFunc(m.Tests, func(x, y *Test) int { return cmp.Compare(x.ID, y.ID) })
	if c := m.Catalog; c != nil {
		for _, section := range []map[string][]string{c.Requires, c.Implies, c.Endpoints} {
			for k, v := range section {
				section[k] = sortedCopy(v)
			}
		}
		for i := range c.SeparationOfDuties {
			c.SeparationOfDuties[i].Permissions = sortedCopy(c.SeparationOfDuties[i].Permissions)
		}
		if c.SeparationOfDuties == nil {
			c.SeparationOfDuties = []SeparationRule{}
		}
	}
	for _, in := range m.Instances {
		if in.Name == "" {
			in.Name = in.ID
		}
	}
	for _, r := range m.Roles {
		if r.Name == "" {
			r.Name = r.ID
		}
	}
	if m.Instances == nil {
		m.Instances = []*Instance{}
	}
	if m.Sets == nil {
		m.Sets = []*PermissionSet{}
	}
	if m.Roles == nil {
		m.Roles = []*Role{}
	}
	if m.Assignments == nil {
		m.Assignments = []*Assignment{}
	}
	if m.Users == nil {
		m.Users = []*User{}
	}
}
