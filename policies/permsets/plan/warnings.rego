# The warnings of DESIGN section 6, only about the sets and assignments this change adds or
# changes (never the whole repository). warn (plan.rego) is their union. (The package's
# annotations are in plan.rego.)
package permsets.plan

import data.permsets_plan.after

# ineffective-permission: a set (not *=*) grants a permission without one it requires
# (after.catalog.requires is transitive): holders who lack the requirement from another set
# get nothing from the permission.
_ineffective_permission contains entry if {
	some c in _added_or_changed_sets
	s := after.sets[c.id]
	not s.superuser
	some key in s.grants
	missing := sort([r |
		some r in after.catalog.requires[key]
		not r in s.grants
	])
	count(missing) > 0
	entry := _finding("ineffective-permission", _object(c), c.after, sprintf(
		"%s grants %s but not %s, which it requires: holders who lack %s from another set get nothing from %s. Add %s to the set, or check that every holder has %s elsewhere.",
		[_set_text(c.id, c.after), key, concat(", ", missing), _them(missing), key, _them(missing), _them(missing)],
	))
}

_them(xs) := "it" if {
	count(xs) == 1
} else := "them"

# wildcard-grant: a set that is not built in grants a wildcard (people=*, *=read, *=*), which
# silently grows with the catalog.
_wildcard_grant contains entry if {
	some c in _added_or_changed_sets
	s := after.sets[c.id]
	not s.builtin
	wildcards := sort([p |
		some p in s.permissions
		contains(p, "*")
	])
	count(wildcards) > 0
	entry := _finding("wildcard-grant", _object(c), c.after, sprintf(
		"%s is not built in but grants %s: a wildcard grows with every feature and action the catalog gains. List the permissions the set needs instead.",
		[_set_text(c.id, c.after), concat(", ", wildcards)],
	))
}

# unassigned-set: no assignment or role in after references the set.
_unassigned_set contains entry if {
	some c in _added_or_changed_sets
	not after.assigned[c.id]
	entry := _finding("unassigned-set", _object(c), c.after, sprintf(
		"%s is assigned to nobody: no assignment or role gives it. Assign it, or leave it out until someone needs it.",
		[_set_text(c.id, c.after)],
	))
}

# expiring-assignment: an added or changed assignment expires within the repository's
# expiringWithin of the plan's time, or has already expired.
_expiring_assignment contains entry if {
	some c in input.changes
	c.kind == "Assignment"
	c.action in {"add", "change"}
	a := c.after_object
	expires_ns := time.parse_rfc3339_ns(a.expires)
	expires_ns - data.permsets_plan.now_ns <= after.repository.expiringWithinNs
	entry := _finding("expiring-assignment", _object(c), c.after, _expiry_text(c, expires_ns))
}

_expiry_text(c, expires_ns) := sprintf(
	"assignment %s (%s) has already expired (expires %s), so it gives nothing. Remove it, or set a later expires if the access should go on.",
	[c.id, _at(c.after), c.after_object.expires],
) if {
	expires_ns <= data.permsets_plan.now_ns
} else := sprintf(
	"assignment %s (%s) expires %s, within %s: from then on it no longer gives %s to %s on %s. Set a later expires if the access should last.",
	[
		c.id, _at(c.after), c.after_object.expires, _days(after.repository.expiringWithinNs),
		concat(", ", c.after_object.permissionSets), _people(c.after_object.users), c.after_object.instance,
	],
)

# "14 days" (rounded up), "1 day".
_days(ns) := "1 day" if {
	ns <= 86400000000000
} else := sprintf("%d days", [ceil(ns / 86400000000000)])

# set-naming: a set's id does not match the repository's setIdPattern, or its name does not
# match setNamePattern (an empty pattern checks nothing; an invalid one is a validation problem).
_set_naming contains entry if {
	some c in _added_or_changed_sets
	pattern := after.repository.setIdPattern
	_checks(pattern)
	not regex.match(pattern, c.id)
	entry := _finding("set-naming", _object(c), c.after, sprintf(
		"%s has an id that does not match the repository's setIdPattern %s. Choose an id that matches.",
		[_set_text(c.id, c.after), pattern],
	))
}

_set_naming contains entry if {
	some c in _added_or_changed_sets
	pattern := after.repository.setNamePattern
	_checks(pattern)
	name := after.sets[c.id].name
	not regex.match(pattern, name)
	entry := _finding("set-naming", _object(c), c.after, sprintf(
		"%s is named %q, which does not match the repository's setNamePattern %s. Rename it to match.",
		[_set_text(c.id, c.after), name, pattern],
	))
}

_checks(pattern) if {
	pattern != ""
	regex.is_valid(pattern)
}
