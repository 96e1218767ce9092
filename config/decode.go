package config

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoded is one document of a file after parsing, schema validation and typed decoding.
type decoded struct {
	kind  string
	index int // document number in the file, from 1
	pos   Pos
	// id and idPos are known even for a document that failed validation, so references to it
	// do not cascade into "unknown" errors.
	id      string
	idPos   Pos
	invalid bool

	instance   *Instance
	set        *PermissionSet
	role       *Role
	assignment *Assignment
	user       *User
	repository *Repository
	catalog    *catalogDoc
	test       *Test
}

// catalogDoc is one Catalog document with the position of every value in it, by JSON pointer.
type catalogDoc struct {
	cat *Catalog
	at  map[string]Pos
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// decodeDoc checks a document's apiVersion and kind, validates it against its kind's schema and
// decodes it. Problems go to ps (positions only; the file is filled in later).
func decodeDoc(doc yamlDoc, v *validator, ps *problems) (decoded, bool) {
	d := decoded{index: doc.index, pos: posOf(doc.root)}
	c := converter{ps: ps}
	value, ok := c.value(doc.root, 0, false)
	if !ok {
		return d, false
	}
	obj, isMap := value.(map[string]any)
	if !isMap {
		ps.add(d.pos, CodeUnknownDocument, "a document must be a mapping with apiVersion: %s and a kind, not a %s", APIVersion, kindName(resolve(doc.root)))
		return d, false
	}
	api, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	switch {
	case obj["apiVersion"] == nil:
		ps.add(d.pos, CodeUnknownDocument, "no apiVersion: every document needs apiVersion: %s and a kind", APIVersion)
		return d, false
	case api != APIVersion:
		ps.add(posOf(nodeAt(doc.root, "/apiVersion", false)), CodeUnknownDocument, "apiVersion %s is not %s", quoteAny(obj["apiVersion"]), APIVersion)
		return d, false
	case obj["kind"] == nil:
		ps.add(d.pos, CodeUnknownDocument, "no kind: one of %s", strings.Join(Kinds, ", "))
		return d, false
	case !isKind(kind):
		ps.add(posOf(nodeAt(doc.root, "/kind", false)), CodeUnknownDocument, "unknown kind %s%s; kinds are %s", quoteAny(obj["kind"]), didYouMean(kind, Kinds), strings.Join(Kinds, ", "))
		return d, false
	}
	d.kind = kind
	if id, isStr := obj["id"].(string); isStr && idPattern.MatchString(id) {
		d.id, d.idPos = id, posOf(nodeAt(doc.root, "/id", false))
	}
	if !v.validate(kind, obj, doc.root, ps) {
		d.invalid = true
		return d, false
	}
	r := reader{root: resolve(doc.root), obj: obj, ps: ps}
	switch kind {
	case KindInstance:
		d.instance = r.instance()
	case KindPermissionSet:
		d.set = r.set()
	case KindRole:
		d.role = r.role()
	case KindAssignment:
		d.assignment = r.assignment()
	case KindUser:
		d.user = r.user()
	case KindRepository:
		d.repository = r.repository()
	case KindCatalog:
		d.catalog = r.catalog()
	case KindTest:
		d.test = r.test()
	}
	if r.failed {
		d.invalid = true
		return d, false
	}
	return d, true
}

func isKind(k string) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

func quoteAny(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// reader decodes a schema-valid document into its Go type, with positions.
type reader struct {
	root   *yaml.Node
	obj    map[string]any
	ps     *problems
	failed bool
}

func (r *reader) node(key string) *yaml.Node {
	for i := 0; i+1 < len(r.root.Content); i += 2 {
		if resolve(r.root.Content[i]).Value == key {
			return resolve(r.root.Content[i+1])
		}
	}
	return nil
}

func (r *reader) str(key string) (string, Pos) {
	s, _ := r.obj[key].(string)
	if n := r.node(key); n != nil {
		return s, posOf(n)
	}
	return s, Pos{}
}

func (r *reader) boolean(key string, def bool) bool {
	if b, ok := r.obj[key].(bool); ok {
		return b
	}
	return def
}

// strs returns a list of strings with the position of each, reporting duplicates.
func (r *reader) strs(key string) ([]string, []Pos) {
	raw, _ := r.obj[key].([]any)
	n := r.node(key)
	out := make([]string, 0, len(raw))
	pos := make([]Pos, 0, len(raw))
	seen := make(map[string]bool, len(raw))
	for i, x := range raw {
		s, _ := x.(string)
		p := Pos{}
		if n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
			p = posOf(resolve(n.Content[i]))
		}
		if seen[s] {
			r.ps.add(p, CodeDuplicateEntry, "%s lists %q twice", key, s)
			continue
		}
		seen[s] = true
		out = append(out, s)
		pos = append(pos, p)
	}
	return out, pos
}

func (r *reader) instance() *Instance {
	in := &Instance{}
	in.ID, in.At.ID = r.str("id")
	in.Name, _ = r.str("name")
	in.Package, _ = r.str("package")
	if lim, ok := r.obj["limits"].(map[string]any); ok {
		in.Limits = &Limits{}
		if n, ok := lim["maxCustomSets"]; ok {
			v := toInt(n)
			in.Limits.MaxCustomSets = &v
		}
		if _, ok := lim["editableSets"]; ok {
			sub := reader{root: r.node("limits"), obj: lim, ps: r.ps}
			in.Limits.EditableSets, in.At.EditableSets = sub.strs("editableSets")
			sortWithPos(in.Limits.EditableSets, in.At.EditableSets, nil)
		}
	}
	return in
}

func toInt(v any) int {
	switch n := v.(type) {
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}

func (r *reader) set() *PermissionSet {
	s := &PermissionSet{}
	s.ID, s.At.ID = r.str("id")
	s.Name, s.At.Name = r.str("name")
	s.Description, _ = r.str("description")
	s.Enabled = r.boolean("enabled", true)
	s.Builtin = r.boolean("builtin", false)
	s.Fixed = r.boolean("fixed", false)
	s.Instances, s.At.Instances = r.strs("instances")
	s.Permissions, s.At.Permissions = r.strs("permissions")
	// A permission that does not parse is reported and left out, so the set's other references
	// are still checked; a model with problems is never compiled or served.
	perms, at := s.Permissions[:0], s.At.Permissions[:0]
	s.Parsed = make([]Permission, 0, len(s.Permissions))
	for i, raw := range s.Permissions {
		perm, err := ParsePermission(raw)
		if err != nil {
			r.ps.add(s.At.Permissions[i], CodeInvalidPermission, "%v", err)
			continue
		}
		perms, at = append(perms, perm.String()), append(at, s.At.Permissions[i])
		s.Parsed = append(s.Parsed, perm)
	}
	s.Permissions, s.At.Permissions = perms, at
	sortWithPos(s.Permissions, s.At.Permissions, s.Parsed)
	sortWithPos(s.Instances, s.At.Instances, nil)
	return s
}

func (r *reader) role() *Role {
	ro := &Role{}
	ro.ID, ro.At.ID = r.str("id")
	ro.Name, _ = r.str("name")
	ro.Description, _ = r.str("description")
	ro.Members, ro.At.Members = r.strs("members")
	ro.PermissionSets, ro.At.PermissionSets = r.strs("permissionSets")
	sortWithPos(ro.Members, ro.At.Members, nil)
	sortWithPos(ro.PermissionSets, ro.At.PermissionSets, nil)
	return ro
}

func (r *reader) assignment() *Assignment {
	a := &Assignment{}
	a.ID, a.At.ID = r.str("id")
	a.Instance, a.At.Instance = r.str("instance")
	a.Users, a.At.Users = r.strs("users")
	a.PermissionSets, a.At.PermissionSets = r.strs("permissionSets")
	a.Reason, _ = r.str("reason")
	sortWithPos(a.Users, a.At.Users, nil)
	sortWithPos(a.PermissionSets, a.At.PermissionSets, nil)
	if raw, pos := r.str("expires"); raw != "" {
		a.At.Expires = pos
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			r.ps.add(pos, CodeInvalidDate, "expires %q is not an RFC 3339 date and time (like 2026-12-31T23:59:59Z)", raw)
		} else {
			t = t.UTC()
			a.Expires = &t
		}
	}
	return a
}

func (r *reader) user() *User {
	u := &User{}
	u.ID, _ = r.str("id")
	u.Name, _ = r.str("name")
	u.Emails, u.At.Emails = r.strs("emails")
	u.Logins, u.At.Logins = r.strs("logins")
	sortWithPos(u.Emails, u.At.Emails, nil)
	sortWithPos(u.Logins, u.At.Logins, nil)
	u.SystemAdmin = r.boolean("systemAdmin", false)
	u.Suspended = r.boolean("suspended", false)
	return u
}

func (r *reader) repository() *Repository {
	repo := &Repository{Lint: Lint{ExpiringWithin: DefaultExpiringWithin}}
	lint, ok := r.obj["lint"].(map[string]any)
	if !ok {
		return repo
	}
	sub := reader{root: r.node("lint"), obj: lint, ps: r.ps}
	if raw, pos := sub.str("expiringWithin"); raw != "" {
		d, err := ParseDuration(raw)
		if err != nil {
			r.ps.add(pos, CodeInvalidDuration, "expiringWithin %q: %v", raw, err)
			r.failed = true
		}
		repo.Lint.ExpiringWithin = d
	}
	for _, key := range []string{"setIdPattern", "setNamePattern"} {
		raw, pos := sub.str(key)
		if raw == "" {
			continue
		}
		if _, err := regexp.Compile(raw); err != nil {
			r.ps.add(pos, CodeInvalidPattern, "%s: %v", key, err)
			r.failed = true
		}
		if key == "setIdPattern" {
			repo.Lint.SetIDPattern = raw
		} else {
			repo.Lint.SetNamePattern = raw
		}
	}
	return repo
}

var durationDays = regexp.MustCompile(`^(\d{1,5})d(.*)$`)

// ParseDuration parses a Go duration that may start with a number of days: 14d, 1d12h, 36h.
func ParseDuration(s string) (time.Duration, error) {
	var days time.Duration
	rest := s
	if m := durationDays.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		days, rest = time.Duration(n)*24*time.Hour, m[2]
		if rest == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(rest)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("not a duration (like 14d, 36h or 1d12h)")
	}
	return days + d, nil
}

func (r *reader) catalog() *catalogDoc {
	c := &Catalog{
		Features:  map[string]*Feature{},
		Requires:  map[string][]string{},
		Implies:   map[string][]string{},
		Endpoints: map[string][]string{},
	}
	at := map[string]Pos{}
	indexPositions(r.root, "", at, 0)
	if fs, ok := r.obj["features"].(map[string]any); ok {
		for name, raw := range fs {
			f := raw.(map[string]any)
			feat := &Feature{Description: asString(f["description"]), Actions: asStrings(f["actions"])}
			if scopes, ok := f["scopes"].(map[string]any); ok {
				feat.Scopes = map[string]*Scope{}
				for sn, sraw := range scopes {
					s := sraw.(map[string]any)
					feat.Scopes[sn] = &Scope{Description: asString(s["description"]), Relations: asStrings(s["relations"])}
				}
			}
			c.Features[name] = feat
		}
	}
	for key, dst := range map[string]map[string][]string{"requires": c.Requires, "implies": c.Implies, "endpoints": c.Endpoints} {
		if m, ok := r.obj[key].(map[string]any); ok {
			for k, v := range m {
				dst[k] = asStrings(v)
			}
		}
	}
	if rules, ok := r.obj["separationOfDuties"].([]any); ok {
		for i, raw := range rules {
			m := raw.(map[string]any)
			c.SeparationOfDuties = append(c.SeparationOfDuties, SeparationRule{
				Name:        asString(m["name"]),
				Permissions: asStrings(m["permissions"]),
				Source:      Source{Line: at[fmt.Sprintf("/separationOfDuties/%d", i)].Line, Col: at[fmt.Sprintf("/separationOfDuties/%d", i)].Col},
			})
		}
	}
	return &catalogDoc{cat: c, at: at}
}

// indexPositions records the position of every node of a small document by JSON pointer;
// a mapping key's position is recorded under its pointer with a "#key" suffix.
func indexPositions(n *yaml.Node, ptr string, at map[string]Pos, depth int) {
	n = resolve(n)
	if depth > MaxDepth {
		return
	}
	at[ptr] = posOf(n)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i]).Value
			p := ptr + "/" + escapePointer(k)
			at[p+"#key"] = posOf(n.Content[i])
			indexPositions(n.Content[i+1], p, at, depth+1)
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			indexPositions(e, ptr+"/"+strconv.Itoa(i), at, depth+1)
		}
	}
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func asString(v any) string { s, _ := v.(string); return s }

func asStrings(v any) []string {
	raw, _ := v.([]any)
	out := make([]string, 0, len(raw))
	for _, x := range raw {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// sortWithPos sorts values and keeps their positions (and parsed forms, when given) beside them.
func sortWithPos(vals []string, pos []Pos, parsed []Permission) {
	sort.Sort(byValue{vals, pos, parsed})
}

type byValue struct {
	vals   []string
	pos    []Pos
	parsed []Permission
}

func (b byValue) Len() int           { return len(b.vals) }
func (b byValue) Less(i, j int) bool { return b.vals[i] < b.vals[j] }
func (b byValue) Swap(i, j int) {
	b.vals[i], b.vals[j] = b.vals[j], b.vals[i]
	if len(b.pos) == len(b.vals) {
		b.pos[i], b.pos[j] = b.pos[j], b.pos[i]
	}
	if len(b.parsed) == len(b.vals) {
		b.parsed[i], b.parsed[j] = b.parsed[j], b.parsed[i]
	}
}
