package config

import "strings"

// Reduced returns m cut down to the holdings of the given users: assignments and roles keep
// only those users (an assignment left with none is dropped; a role is kept, as it holds
// nothing by itself), while the catalog, instances, sets, repository and every User stay whole,
// so identities (logins and emails, and which of them are ambiguous) resolve as in m. An
// instance in whole keeps every holding, and a role that reaches one all of its members: what
// lists holders (who-can) sees them all there. Decisions about the given users are those of m,
// since an answer about a user reads that user's holdings alone. The result shares m's objects
// where it keeps them whole and is meant for evaluating, never for serving or writing.
func (m *Model) Reduced(users, whole map[string]bool) *Model {
	out := *m
	out.Assignments = make([]*Assignment, 0, len(m.Assignments))
	for _, a := range m.Assignments {
		if whole[a.Instance] {
			out.Assignments = append(out.Assignments, a)
			continue
		}
		if us := keepOnly(a.Users, users); len(us) > 0 {
			c := *a
			c.Users, c.At.Users = us, nil
			out.Assignments = append(out.Assignments, &c)
		}
	}
	out.Roles = make([]*Role, 0, len(m.Roles))
	for _, r := range m.Roles {
		if reachesAny(r, whole) {
			out.Roles = append(out.Roles, r)
			continue
		}
		c := *r
		c.Members, c.At.Members = keepOnly(r.Members, users), nil
		out.Roles = append(out.Roles, &c)
	}
	return &out
}

func keepOnly(xs []string, keep map[string]bool) []string {
	var out []string
	for _, x := range xs {
		if keep[x] {
			out = append(out, x)
		}
	}
	return out
}

// reachesAny tells whether the role grants a set on one of the instances.
func reachesAny(r *Role, instances map[string]bool) bool {
	if len(instances) == 0 {
		return false
	}
	for _, ref := range r.PermissionSets {
		if inst, _, _ := strings.Cut(ref, "/"); instances[inst] {
			return true
		}
	}
	return false
}
