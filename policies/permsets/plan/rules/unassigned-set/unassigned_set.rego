# METADATA
# title: unassigned-set
# description: Warn about an added or changed set that no assignment or role in after references.
# related_resources:
#   - ref: docs/plan.md#unassigned-set
#     description: the warning and what to do about it
# scope: package
package permsets.plan.rules["unassigned-set"]

import data.permsets.plan.lib
import data.permsets_plan.after

warn contains finding if {
	some c in lib.added_or_changed_sets
	not after.assigned[c.id]
	finding := lib.finding("unassigned-set", lib.object_of(c), c.after, concat(" ", [
		sprintf("%s is assigned to nobody: no assignment or role gives it.", [lib.set_text(c.id, c.after)]),
		"Assign it, or leave it out until someone needs it.",
	]))
}
