# METADATA
# title: custom-set-limit
# description: |
#   Deny a change after which an instance with maxCustomSets holds more sets that are not built
#   in than that, and more than in before (0 for a new instance). An instance that is already
#   above its limit may keep its sets, and edit them, as long as their number does not grow.
#   Only the instances of the sets the change touches can grow, so only they are counted.
# related_resources:
#   - ref: docs/plan.md#custom-set-limit
#     description: the rule and what to do about it
# scope: package
package permsets.plan.rules["custom-set-limit"]

import data.permsets.plan.lib
import data.permsets_plan.after
import data.permsets_plan.before

deny contains finding if {
	some i in _instances_of_changed_sets
	limit := after.instances[i].maxCustomSets
	on_after := _custom_sets_after(i)
	count(on_after) > limit
	on_before := _custom_sets_before(i)
	count(on_after) > count(on_before)
	finding := lib.finding("custom-set-limit", concat("/", ["Instance", i]), after.instances[i], concat(" ", [
		sprintf("%s would have %s, more than its maxCustomSets of %d (%d before; new on it: %s).", [
			lib.instance_text(i), _custom_sets_text(count(on_after)), limit, count(on_before),
			concat(", ", sort(on_after - on_before)),
		]),
		sprintf("Remove custom sets from %s, or raise its maxCustomSets.", [i]),
	]))
}

_instances_of_changed_sets contains i if {
	some c in lib.set_changes
	some i in after.sets[c.id].instances
}

_custom_sets_text(n) := "1 custom permission set" if {
	n == 1
} else := sprintf("%d custom permission sets", [n])

# The sets that are not built in on an instance, in after and in before (none when the
# instance is new).
_custom_sets_after(i) := {id |
	some id, s in after.sets
	not s.builtin
	i in s.instances
}

_custom_sets_before(i) := {id |
	before.instances[i]
	some id, s in before.sets
	not s.builtin
	i in s.instances
}
