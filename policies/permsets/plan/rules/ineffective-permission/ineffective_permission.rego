# METADATA
# title: ineffective-permission
# description: |
#   Warn about an added or changed set (not *=*) that grants a permission without one it
#   requires (after.catalog.requires is transitive): holders who lack the requirement from
#   another set get nothing from the permission.
# related_resources:
#   - ref: docs/plan.md#ineffective-permission
#     description: the warning and what to do about it
# scope: package
package permsets.plan.rules["ineffective-permission"]

import data.permsets.plan.lib
import data.permsets_plan.after

warn contains finding if {
	some c in lib.added_or_changed_sets
	s := after.sets[c.id]
	not s.superuser
	some key in s.grants
	missing := sort([r |
		some r in after.catalog.requires[key]
		not r in s.grants
	])
	count(missing) > 0
	them := _them(missing)
	finding := lib.finding("ineffective-permission", lib.object_of(c), c.after, concat(" ", [
		sprintf(
			"%s grants %s but not %s, which it requires: holders who lack %s from another set get nothing from %s.",
			[lib.set_text(c.id, c.after), key, concat(", ", missing), them, key],
		),
		sprintf("Add %s to the set, or check that every holder has %s elsewhere.", [them, them]),
	]))
}

_them(xs) := "it" if {
	count(xs) == 1
} else := "them"
