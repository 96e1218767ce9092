package testrun

import (
	"slices"
	"strings"

	"github.com/permsets/permsets/config"
)

// touch is what one check's answers named.
type touch struct {
	sets   []string // instance/set
	perms  []string // "instance feature=action"
	users  []string // "instance user"
	grants []userGrant
}

type userGrant struct {
	user, inst string
	Grant
}

func (t *touch) add(user, inst, permission string, gs []Grant) {
	if permission != "" {
		t.perms = append(t.perms, inst+" "+permission)
	}
	for _, g := range gs {
		t.sets = append(t.sets, inst+"/"+g.Set)
		t.grants = append(t.grants, userGrant{user, inst, g})
	}
}

// Coverage lists what no check of a run touches: the access a change could alter without any
// test noticing.
type Coverage struct {
	// Sets are instance/set pairs no answer named as a grant or an effective set.
	Sets []string `json:"sets"`
	// Permissions are "instance/set permission" entries whose feature=action no check asked
	// about on the instance.
	Permissions []string `json:"permissions"`
	// Assignments and Roles are the ids of those no answer named a grant through.
	Assignments []string `json:"assignments"`
	Roles       []string `json:"roles"`
	// Covered and Total count each list: sets, permissions, assignments, roles.
	Covered map[string]int `json:"covered"`
	Total   map[string]int `json:"total"`
}

// CoverageOf computes the coverage of a run's checks over the model m.
func (r *Report) CoverageOf(m *config.Model) *Coverage {
	sets, perms, users := map[string]bool{}, map[string]bool{}, map[string]bool{}
	direct, viaRole := map[string]bool{}, map[string]bool{} // inst user set; role id
	for _, res := range r.Results {
		t := res.touched
		for _, s := range t.sets {
			sets[s] = true
		}
		for _, p := range t.perms {
			if parsed, err := config.ParsePermission(strings.SplitN(p, " ", 2)[1]); err == nil {
				perms[strings.SplitN(p, " ", 2)[0]+" "+parsed.Key()] = true
			}
		}
		for _, u := range t.users {
			users[u] = true
		}
		for _, g := range t.grants {
			if g.Via == "direct" {
				direct[g.inst+" "+g.user+" "+g.Set] = true
			} else if id, ok := strings.CutPrefix(g.Via, "role:"); ok {
				viaRole[id] = true
			}
		}
	}
	c := &Coverage{Sets: []string{}, Permissions: []string{}, Assignments: []string{}, Roles: []string{},
		Covered: map[string]int{}, Total: map[string]int{}}
	count := func(list string, covered bool, add func()) {
		c.Total[list]++
		if covered {
			c.Covered[list]++
		} else {
			add()
		}
	}
	for _, s := range m.Sets {
		for _, inst := range s.Instances {
			key := inst + "/" + s.ID
			count("sets", sets[key], func() { c.Sets = append(c.Sets, key) })
			for i, p := range s.Parsed {
				count("permissions", perms[inst+" "+p.Key()], func() { c.Permissions = append(c.Permissions, key+" "+s.Permissions[i]) })
			}
		}
	}
	for _, a := range m.Assignments {
		hit := false
		for _, u := range a.Users {
			for _, s := range a.PermissionSets {
				hit = hit || direct[a.Instance+" "+u+" "+s]
			}
		}
		count("assignments", hit, func() { c.Assignments = append(c.Assignments, a.ID) })
	}
	for _, ro := range m.Roles {
		count("roles", viaRole[ro.ID], func() { c.Roles = append(c.Roles, ro.ID) })
	}
	slices.Sort(c.Sets)
	slices.Sort(c.Permissions)
	return c
}
