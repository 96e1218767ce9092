# METADATA
# title: disabled-set-assigned
# description: |
#   Deny an assignment (added, or changed so its permissionSets gains the set) or a role that
#   newly references a set that is disabled in after. Disabling a set that is still assigned is
#   not this: that takes access away on purpose.
# related_resources:
#   - ref: docs/plan.md#disabled-set-assigned
#     description: the rule and what to do about it
# scope: package
package permsets.plan.rules["disabled-set-assigned"]

import data.permsets.plan.lib
import data.permsets_plan.after

# An assignment newly gives a disabled set ...
deny contains finding if {
	some c in input.changes
	c.kind == "Assignment"
	some id in _gained_set_references(c)
	after.sets[id].enabled == false
	a := c.after_object
	finding := lib.finding("disabled-set-assigned", lib.object_of(c), c.after, concat(" ", [
		sprintf(
			"assignment %s (%s) newly gives %s, which is disabled, to %s on %s.",
			[c.id, lib.at(c.after), lib.set_text(id, after.sets[id]), lib.people(a.users), a.instance],
		),
		"Enable the set, or assign an enabled one.",
	]))
}

# ... or a role newly references instance/set, a disabled set.
deny contains finding if {
	some c in input.changes
	c.kind == "Role"
	some ref in _gained_set_references(c)
	[instance, id] := split(ref, "/")
	after.sets[id].enabled == false
	finding := lib.finding("disabled-set-assigned", lib.object_of(c), c.after, concat(" ", [
		sprintf("role %s (%s) newly gives %s, which is disabled, to its members %s on %s.", [
			c.id, lib.at(c.after), lib.set_text(id, after.sets[id]),
			lib.people(c.after_object.members), instance,
		]),
		"Enable the set, or give the role an enabled one.",
	]))
}

# The permissionSets entries an added or changed assignment or role has in after and did not
# have in before (set ids for an assignment, instance/set for a role).
_gained_set_references(c) := {ref |
	c.action in {"add", "change"}
	some ref in c.after_object.permissionSets
	not ref in object.get(c, ["before_object", "permissionSets"], [])
}
