# METADATA
# title: fixed-set
# description: |
#   Deny removing a set that is fixed in before, or changing it other than by giving it
#   instances: adding an instance to it (the admin set of a new tenant) is allowed; any other
#   field, or losing an instance, is not.
# related_resources:
#   - ref: docs/plan.md#fixed-set
#     description: the rule and what to do about it
# scope: package
package permsets.plan.rules["fixed-set"]

import data.permsets.plan.lib
import data.permsets_plan.before

# A fixed set is removed ...
deny contains finding if {
	some c in lib.set_changes
	c.action == "remove"
	before.sets[c.id].fixed == true
	finding := lib.finding("fixed-set", lib.object_of(c), c.before, sprintf(
		"%s is fixed and cannot be removed. Keep it; a fixed set may only gain instances.",
		[lib.set_text(c.id, c.before)],
	))
}

# ... or changed other than by gaining instances.
deny contains finding if {
	some c in lib.set_changes
	c.action == "change"
	before.sets[c.id].fixed == true
	edits := array.concat(_field_edits(c), _instance_losses(c.id))
	count(edits) > 0
	finding := lib.finding("fixed-set", lib.object_of(c), c.after, sprintf(
		"%s is fixed, but this change %s. Revert that; a fixed set may only gain instances.",
		[lib.set_text(c.id, c.after), concat(" and ", edits)],
	))
}

# "edits its enabled, permissions", or nothing when only its instances changed.
_field_edits(c) := [sprintf("edits its %s", [concat(", ", fields)]) |
	fields := lib.edited_fields(c)
	count(fields) > 0
]

# "removes it from instance legacy", or nothing when it loses no instance.
_instance_losses(id) := [sprintf("removes it from %s", [lib.instances_text(lost)]) |
	lost := sort(lib.lost_instances(id))
	count(lost) > 0
]
