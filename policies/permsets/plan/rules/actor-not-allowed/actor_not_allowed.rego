# METADATA
# title: actor-not-allowed
# description: |
#   Deny a change its actor may not make, judged on before: bootstrapping by someone who is not
#   a system admin of the head; an assignment change without permset=assign covering each set
#   the assignment gives (before or after) on its instance; a set change without permset=edit
#   covering the set on each instance it is on (before or after); a change to a set's builtin
#   or fixed flags, or to a Role, Instance, Catalog, User or Repository, by anyone but a system
#   admin.
# related_resources:
#   - ref: docs/plan.md#actor-not-allowed
#     description: the rule and what to do about it
# scope: package
package permsets.plan.rules["actor-not-allowed"]

import data.permsets.plan.lib

# Bootstrapping an empty base is for a system admin of the head.
deny contains finding if {
	input.actor.bootstrap
	input.actor.declared
	not input.actor.system_admin
	finding := {
		"code": "actor-not-allowed",
		"object": concat("/", ["User", input.actor.id]),
		"file": "",
		"line": 0,
		"message": concat(" ", [
			sprintf("%s may not bootstrap: --bootstrap applies the first revision without the actor rules,", [input.actor.id]),
			"which only a system admin (systemAdmin: true in the head) may do.",
		]),
	}
}

# Assignment changes need permset=assign covering each set the assignment gives (before or
# after the change) on its instance.
deny contains finding if {
	lib.judged
	some c in input.changes
	c.kind == "Assignment"
	some [instance, set] in _assignment_reaches(c)
	not lib.actor_holds(instance, {"feature": "permset", "action": "assign", "objects": [set], "scopes": []})
	finding := lib.finding("actor-not-allowed", lib.object_of(c), lib.where(c), concat(" ", [
		sprintf(
			"%s may not change assignment %s (%s): it gives set %s on %s,",
			[input.actor.id, c.id, lib.at(lib.where(c)), set, instance],
		),
		sprintf("and %s does not hold permset=assign covering %s there in the base.", [input.actor.id, set]),
		"Ask someone who may assign it, or a system admin.",
	]))
}

# Set changes need permset=edit covering the set on each instance it is on (before or after).
deny contains finding if {
	lib.judged
	some c in lib.set_changes
	some instance in _set_reaches(c)
	not lib.actor_holds(instance, {"feature": "permset", "action": "edit", "objects": [c.id], "scopes": []})
	finding := lib.finding("actor-not-allowed", lib.object_of(c), lib.where(c), concat(" ", [
		sprintf(
			"%s may not change permission set %s (%s) on %s: that needs permset=edit covering %s there in the base.",
			[input.actor.id, c.id, lib.at(lib.where(c)), instance, c.id],
		),
		"Ask someone who may edit it, or a system admin.",
	]))
}

# A set's builtin and fixed flags are for system admins.
deny contains finding if {
	lib.judged
	some c in lib.set_changes
	_touches_builtin_or_fixed(c)
	finding := lib.finding("actor-not-allowed", lib.object_of(c), lib.where(c), sprintf(
		"%s may not change whether permission set %s (%s) is builtin or fixed: only a system admin may.",
		[input.actor.id, c.id, lib.at(lib.where(c))],
	))
}

# Roles, instances, the catalog, users and repository settings are for system admins.
deny contains finding if {
	lib.judged
	some c in input.changes
	c.kind in {"Role", "Instance", "Catalog", "User", "Repository"}
	finding := lib.finding("actor-not-allowed", lib.object_of(c), lib.where(c), sprintf(
		"%s may not %s %s %s (%s): changes to %s documents need a system admin.",
		[input.actor.id, c.action, lower(c.kind), c.id, lib.at(lib.where(c)), c.kind],
	))
}

# [instance, set] for every set an assignment gives, before or after the change.
_assignment_reaches(c) := {[o.instance, s] |
	some o in _objects_of(c)
	some s in o.permissionSets
}

# The instances a set is on, before or after the change.
_set_reaches(c) := {i |
	some o in _objects_of(c)
	some i in o.instances
}

_objects_of(c) := [o |
	some k in ["before_object", "after_object"]
	o := c[k]
]

_touches_builtin_or_fixed(c) if {
	some f in c.fields
	f.field in {"builtin", "fixed"}
}

_touches_builtin_or_fixed(c) if {
	c.action in {"add", "remove"}
	some o in _objects_of(c)
	some k in ["builtin", "fixed"]
	o[k] == true
}
