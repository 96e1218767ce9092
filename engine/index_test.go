package engine_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/sorted"
	"github.com/permsets/permsets/internal/synth"
	"github.com/permsets/permsets/internal/testutil"
)

// TestIndexReaders: the index's accessors on examples/nation.
func TestIndexReaders(t *testing.T) {
	idx := compileIndex(t, "../examples/nation")
	kwame := time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC)
	sam := func() any {
		var out []engine.Holding
		for h := range idx.UserHoldings("campaign", "sam") {
			out = append(out, h)
		}
		return out
	}
	for _, tc := range []struct {
		note      string
		got, want any
	}{
		{note: "sets", got: idx.Sets(), want: []string{"admin", "bookkeeper", "communications", "field-organizer", "finance", "staffer", "volunteer-coordinator"}},
		{note: "set", got: first(idx.Set("finance")), want: engine.SetInfo{ID: "finance", Name: "Finance reporting", Enabled: true,
			Permissions: []string{"finances=export", "finances=read", "people=export", "people=read"}}},
		{note: "superuser set", got: first(idx.Set("admin")), want: engine.SetInfo{ID: "admin", Name: "Admin", Enabled: true, Superuser: true, Permissions: []string{}}},
		{note: "unknown set", got: second(idx.Set("nobody")), want: false},
		{note: "grants by key, implied ones keep their arguments", got: idx.SetGrants("field-organizer"), want: []engine.SetGrant{
			{Permission: "communications=read", Text: "communications=read", Unconditional: true, Scopes: []string{}, Objects: []string{}, Relations: []string{}},
			{Permission: "people=edit", Text: "people=edit(assigned)", Scopes: []string{"assigned"}, Objects: []string{}, Relations: []string{"path_assignee", "point_person", "step_assignee"}},
			{Permission: "people=export", Text: "people=export(assigned)", Scopes: []string{"assigned"}, Objects: []string{}, Relations: []string{"path_assignee", "point_person", "step_assignee"}},
			{Permission: "people=read", Text: "people=read(assigned)", Scopes: []string{"assigned"}, Objects: []string{}, Relations: []string{"path_assignee", "point_person", "step_assignee"}},
		}},
		{note: "grants of a superuser set", got: idx.SetGrants("admin"), want: []engine.SetGrant(nil)},
		{note: "grants of an unknown set", got: idx.SetGrants("nobody"), want: []engine.SetGrant(nil)},
		{note: "instances", got: idx.Instances(), want: []string{"campaign", "hq"}},
		{note: "instance", got: first(idx.Instance("hq")), want: engine.InstanceInfo{ID: "hq", Name: "Riverside Party HQ", Sets: []string{"admin", "staffer"}}},
		{note: "unknown instance", got: second(idx.Instance("nowhere")), want: false},
		{note: "holdings in order", got: idx.Holdings("hq"), want: []engine.Holding{
			{Order: 0, Set: "admin", Via: engine.ViaDirect, Source: "owner-hq", Enabled: true, Superuser: true, ExpiresNs: engine.Never},
			{Order: 1, Set: "staffer", Via: engine.ViaDirect, Source: "hq-staff", Enabled: true, ExpiresNs: engine.Never},
		}},
		{note: "holdings of an unknown instance", got: idx.Holdings("nowhere"), want: []engine.Holding(nil)},
		{note: "expiring holding", got: idx.Holdings("campaign")[3], want: engine.Holding{Order: 3, Set: "field-organizer", Via: engine.ViaDirect,
			Source: "fall-fellowship-2026", Enabled: true, ExpiresNs: kwame.UnixNano()}},
		{note: "users", got: idx.Users("hq"), want: []string{"alice", "devon", "maria"}},
		{note: "a user's holdings", got: sam(), want: []engine.Holding{
			{Order: 4, Set: "field-organizer", Via: engine.ViaRole("organizers"), Source: "organizers", Enabled: true, ExpiresNs: engine.Never},
			{Order: 7, Set: "staffer", Via: engine.ViaRole("organizers"), Source: "organizers", Enabled: true, ExpiresNs: engine.Never},
		}},
		{note: "holders of a set", got: idx.Holders("campaign", "staffer"), want: []string{"devon", "jordan", "lena", "quinn", "sam"}},
		{note: "holders of a set nobody holds", got: idx.Holders("hq", "finance"), want: []string(nil)},
		{note: "suspended", got: []bool{idx.Suspended("quinn"), idx.Suspended("sam")}, want: []bool{true, false}},
		{note: "suspended users", got: idx.SuspendedUsers(), want: []string{"quinn"}},
		{note: "catalog", got: idx.HasCatalog(), want: true},
		{note: "permissions", got: len(idx.Permissions()), want: 19},
		{note: "known", got: []bool{idx.Known("people=read"), idx.Known("people=fly"), idx.Known("*=*")}, want: []bool{true, false, false}},
		{note: "requires", got: idx.Requires(), want: map[string][]string{
			"api=edit": {"settings=read"}, "api=read": {"settings=read"}, "finances=export": {"finances=read", "people=export"}}},
		{note: "requirements", got: idx.Requirements("finances=export"), want: []string{"finances=read", "people=export"}},
		{note: "no requirements", got: idx.Requirements("people=read"), want: []string(nil)},
	} {
		t.Run(tc.note, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", tc.got, tc.want)
			}
		})
	}
}

func first[A, B any](a A, _ B) A  { return a }
func second[A, B any](_ A, b B) B { return b }

func TestVia(t *testing.T) {
	for _, tc := range []struct {
		note   string
		via    engine.Via
		direct bool
		role   string
	}{
		{note: "assignment", via: engine.ViaDirect, direct: true},
		{note: "role", via: engine.ViaRole("organizers"), role: "organizers"},
		{note: "role prefix", via: engine.ViaRolePrefix + "x", role: "x"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			role, ok := tc.via.Role()
			if tc.via.Direct() != tc.direct || role != tc.role || ok != (tc.role != "") {
				t.Errorf("%q: direct %v, role %q %v", tc.via, tc.via.Direct(), role, ok)
			}
		})
	}
	h := engine.Holding{ExpiresNs: engine.Never}
	if _, ok := h.Expires(); ok {
		t.Error("a holding that never expires has an expiry")
	}
	h.ExpiresNs = 1801439999000000000
	if at, ok := h.Expires(); !ok || at.UTC() != time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC) {
		t.Errorf("expires %v %v", at, ok)
	}
}

// TestIndexReadersCopy: what the accessors return is the caller's to change; the index stays as
// compiled (it is shared by every reader).
func TestIndexReadersCopy(t *testing.T) {
	idx := compileIndex(t, "../examples/nation")
	set, _ := idx.Set("finance")
	set.Permissions[0] = "x"
	grants := idx.SetGrants("field-organizer")
	grants[1].Scopes[0], grants[1].Relations[0] = "x", "x"
	in, _ := idx.Instance("hq")
	in.Sets[0] = "x"
	idx.Holders("campaign", "staffer")[0] = "x"
	idx.Users("hq")[0] = "x"
	idx.Permissions()[0] = "x"
	idx.Requires()["finances=export"][0] = "x"
	idx.Requirements("finances=export")[0] = "x"
	fresh := compileIndex(t, "../examples/nation")
	a, _ := json.Marshal(idx)
	b, _ := json.Marshal(fresh)
	if string(a) != string(b) {
		t.Error("changing what an accessor returned changed the index")
	}
}

// TestIndexReadersNoCatalog: without a catalog nothing is known or required, and wildcard grants
// keep their keys.
func TestIndexReadersNoCatalog(t *testing.T) {
	m := &config.Model{Sets: []*config.PermissionSet{{ID: "s", Instances: []string{"i"}, Name: "S", Enabled: true,
		Permissions: []string{"people=*", "*=*"}, Parsed: []config.Permission{config.MustParsePermission("people=*"), config.MustParsePermission("*=*")}}},
		Instances: []*config.Instance{{ID: "i", Name: "I"}}}
	idx, err := engine.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := idx.Set("s")
	if idx.HasCatalog() || idx.Permissions() != nil || idx.Requires() != nil || idx.Requirements("people=read") != nil || idx.Known("people=read") {
		t.Error("an index without a catalog knows or requires something")
	}
	if !s.Superuser || !slices.Equal(s.Permissions, []string{"people=*"}) {
		t.Errorf("set %+v", s)
	}
}

// TestIndexReadersMatchDocument holds the accessors to the document the rules read (the index's
// JSON), on every example and a generated repository: the same sets, grants, instances, holding
// records (Order is the record id's number less one), users' holdings, holders, suspensions
// and requirements.
func TestIndexReadersMatchDocument(t *testing.T) {
	gen := testutil.Generated(t, synth.Options{Instances: 2, Sets: 40, Users: 150, Roles: 6, Pairs: 1500})
	dirs := map[string]string{"generated": gen}
	for _, example := range []string{"nation", "portal", "api", "workflows", "ci"} {
		dirs[example] = "../examples/" + example
	}
	type grant struct {
		Text          string   `json:"text"`
		Unconditional bool     `json:"unconditional"`
		Scopes        []string `json:"scopes"`
		Objects       []string `json:"objects"`
		Relations     []string `json:"relations"`
	}
	type record struct {
		Set       string `json:"set"`
		Via       string `json:"via"`
		Source    string `json:"source"`
		Enabled   bool   `json:"enabled"`
		Superuser bool   `json:"superuser"`
		ExpiresNs int64  `json:"expires_ns"`
	}
	var doc struct {
		Catalog *struct {
			Known    map[string]bool     `json:"known"`
			Requires map[string][]string `json:"requires"`
		} `json:"catalog"`
		Sets map[string]struct {
			Name      string             `json:"name"`
			Enabled   bool               `json:"enabled"`
			Superuser bool               `json:"superuser"`
			Grants    map[string][]grant `json:"grants"`
		} `json:"sets"`
		Instances map[string]struct {
			Name     string              `json:"name"`
			Sets     []string            `json:"sets"`
			Records  map[string]record   `json:"records"`
			Holdings map[string][]string `json:"holdings"`
			Holders  map[string][]string `json:"holders"`
		} `json:"instances"`
		Suspended map[string]bool `json:"suspended"`
	}
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			idx := compileIndex(t, dir)
			raw, err := json.Marshal(idx)
			if err != nil {
				t.Fatal(err)
			}
			doc.Catalog, doc.Sets, doc.Instances, doc.Suspended = nil, nil, nil, nil
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Catalog == nil || !idx.HasCatalog() {
				t.Fatal("the examples have catalogs")
			}
			if !slices.Equal(idx.Permissions(), slices.Sorted(maps.Keys(doc.Catalog.Known))) {
				t.Errorf("permissions %v", idx.Permissions())
			}
			if !reflect.DeepEqual(idx.Requires(), doc.Catalog.Requires) {
				t.Errorf("requires %v, want %v", idx.Requires(), doc.Catalog.Requires)
			}
			if !slices.Equal(idx.Sets(), slices.Sorted(maps.Keys(doc.Sets))) {
				t.Errorf("sets %v", idx.Sets())
			}
			for id, s := range doc.Sets {
				info, _ := idx.Set(id)
				if want := (engine.SetInfo{ID: id, Name: s.Name, Enabled: s.Enabled, Superuser: s.Superuser,
					Permissions: sorted.Keys(s.Grants)}); !reflect.DeepEqual(info, want) {
					t.Errorf("set %+v, want %+v", info, want)
				}
				var want []engine.SetGrant
				for _, key := range info.Permissions {
					for _, g := range s.Grants[key] {
						want = append(want, engine.SetGrant{Permission: key, Text: g.Text, Unconditional: g.Unconditional,
							Scopes: g.Scopes, Objects: g.Objects, Relations: g.Relations})
					}
				}
				if got := idx.SetGrants(id); !reflect.DeepEqual(got, want) {
					t.Errorf("grants of %s: %+v, want %+v", id, got, want)
				}
			}
			if !slices.Equal(idx.Instances(), slices.Sorted(maps.Keys(doc.Instances))) {
				t.Errorf("instances %v", idx.Instances())
			}
			pairs := 0
			for id, ii := range doc.Instances {
				if info, _ := idx.Instance(id); !reflect.DeepEqual(info, engine.InstanceInfo{ID: id, Name: ii.Name, Sets: ii.Sets}) {
					t.Errorf("instance %+v", info)
				}
				holdings := idx.Holdings(id)
				if len(holdings) != len(ii.Records) {
					t.Fatalf("%s: %d holdings, %d records", id, len(holdings), len(ii.Records))
				}
				for i, h := range holdings {
					r := ii.Records["h"+strconv.Itoa(i+1)]
					if want := (engine.Holding{Order: i, Set: r.Set, Via: engine.Via(r.Via), Source: r.Source, Enabled: r.Enabled,
						Superuser: r.Superuser, ExpiresNs: r.ExpiresNs}); h != want {
						t.Errorf("%s: holding %+v, want %+v", id, h, want)
					}
				}
				if !slices.Equal(idx.Users(id), slices.Sorted(maps.Keys(ii.Holdings))) {
					t.Errorf("%s: users %v", id, idx.Users(id))
				}
				for u, ids := range ii.Holdings {
					var got []string
					for h := range idx.UserHoldings(id, u) {
						got = append(got, "h"+strconv.Itoa(h.Order+1))
						pairs++
					}
					if !slices.Equal(got, ids) {
						t.Errorf("%s: %s holds %v, want %v", id, u, got, ids)
					}
				}
				for s := range doc.Sets {
					if got := idx.Holders(id, s); !slices.Equal(got, ii.Holders[s]) {
						t.Errorf("%s: holders of %s %v, want %v", id, s, got, ii.Holders[s])
					}
				}
			}
			if pairs == 0 {
				t.Error("nobody holds anything: the comparison proves nothing")
			}
			if !slices.Equal(idx.SuspendedUsers(), slices.Sorted(maps.Keys(doc.Suspended))) {
				t.Errorf("suspended %v", idx.SuspendedUsers())
			}
		})
	}
}
