# METADATA
# title: set-not-editable
# description: |
#   Deny creating, changing or removing a set on an instance that exists in before and whose
#   editableSets (in before) does not list it. An instance without editableSets lets every set
#   be edited; one created in the same change may be given its first sets (custom-set-limit
#   still counts them).
# related_resources:
#   - ref: docs/plan.md#set-not-editable
#     description: the rule and what to do about it
# scope: package
package permsets.plan.rules["set-not-editable"]

import data.permsets.plan.lib
import data.permsets_plan.after
import data.permsets_plan.before

deny contains finding if {
	some [id, i, how, place] in _set_touches
	editable := before.instances[i].editableSets
	is_array(editable)
	not id in editable
	finding := lib.finding("set-not-editable", concat("/", ["PermissionSet", id]), place, concat(" ", [
		sprintf(
			"%s cannot be %s %s: its editableSets %s.",
			[lib.set_text(id, place), how, lib.instance_text(i), _editable_text(editable)],
		),
		"Leave the set as it is there, or have the instance's editableSets list it first, in a change of its own.",
	]))
}

_editable_text(editable) := sprintf("list only %s", [concat(", ", sort(editable))]) if {
	count(editable) > 0
} else := "list no set"

# [set, instance, how, place]: each instance on which the change creates, changes or removes
# a set. An added set is created on each of its instances and a removed one removed from each
# of its instances in before; a changed set is added to or removed from the instances its
# instances gain or lose, and changed on those it keeps when another field changed.
_set_touches contains [c.id, i, "created on", c.after] if {
	some c in lib.set_changes
	c.action == "add"
	some i in after.sets[c.id].instances
}

_set_touches contains [c.id, i, "removed from", c.before] if {
	some c in lib.set_changes
	c.action == "remove"
	some i in before.sets[c.id].instances
}

_set_touches contains [c.id, i, "added to", c.after] if {
	some c in lib.set_changes
	c.action == "change"
	some i in lib.gained_instances(c.id)
}

_set_touches contains [c.id, i, "removed from", c.after] if {
	some c in lib.set_changes
	c.action == "change"
	some i in lib.lost_instances(c.id)
}

_set_touches contains [c.id, i, "changed on", c.after] if {
	some c in lib.set_changes
	c.action == "change"
	count(lib.edited_fields(c)) > 0
	some i in before.sets[c.id].instances
	i in after.sets[c.id].instances
}
