# METADATA
# title: wildcard-grant
# description: |
#   Warn about an added or changed set that is not built in and grants a wildcard (people=*,
#   *=read, *=*), which silently grows with the catalog.
# related_resources:
#   - ref: docs/plan.md#wildcard-grant
#     description: the warning and what to do about it
# scope: package
package permsets.plan.rules["wildcard-grant"]

import data.permsets.plan.lib
import data.permsets_plan.after

warn contains finding if {
	some c in lib.added_or_changed_sets
	s := after.sets[c.id]
	not s.builtin
	wildcards := sort([p |
		some p in s.permissions
		contains(p, "*")
	])
	count(wildcards) > 0
	finding := lib.finding("wildcard-grant", lib.object_of(c), c.after, concat(" ", [
		sprintf(
			"%s is not built in but grants %s: a wildcard grows with every feature and action the catalog gains.",
			[lib.set_text(c.id, c.after), concat(", ", wildcards)],
		),
		"List the permissions the set needs instead.",
	]))
}
