# METADATA
# title: set-in-use
# description: |
#   Deny removing a set while an assignment or role in after still references it, or taking an
#   instance out of a set's instances while references to the set on that instance remain.
#   after.references lists, for each set the change touches, who references it in after (the
#   engine fills it for those sets only).
# related_resources:
#   - ref: docs/plan.md#set-in-use
#     description: the rule and what to do about it
# scope: package
package permsets.plan.rules["set-in-use"]

import data.permsets.plan.lib
import data.permsets_plan.after

# A set is removed while references to it remain ...
deny contains finding if {
	some c in lib.set_changes
	c.action == "remove"
	refs := object.get(after.references, c.id, [])
	count(refs) > 0
	finding := lib.finding("set-in-use", lib.object_of(c), c.before, concat(" ", [
		sprintf("%s is removed but still held: %s.", [lib.set_text(c.id, c.before), _references_text(refs)]),
		sprintf("Remove %s in the same change, or keep the set.", [_those_references(refs)]),
	]))
}

# ... or an instance is taken out of a set's instances while references to the set on that
# instance remain.
deny contains finding if {
	some c in lib.set_changes
	c.action == "change"
	some i in lib.lost_instances(c.id)
	refs := [r |
		some r in after.references[c.id]
		r.instance == i
	]
	count(refs) > 0
	finding := lib.finding("set-in-use", lib.object_of(c), c.after, concat(" ", [
		sprintf(
			"%s is removed from instance %s but still held there: %s.",
			[lib.set_text(c.id, c.after), i, _references_text(refs)],
		),
		sprintf(
			"Remove %s in the same change, or keep %s in the set's instances.",
			[_those_references(refs), i],
		),
	]))
}

# The references of one set, assignments before roles, each by id and instance:
# "assignment organizers (assignments/organizers.yaml:1) gives it to alice, bob on hq; ...".
_references_text(refs) := concat("; ", [text |
	some [_, _, _, text] in sort([[r.kind, r.id, r.instance, _reference_text(r)] | some r in refs])
])

_reference_text(r) := sprintf(
	"%s %s (%s) gives it to %s on %s",
	[lower(r.kind), r.id, lib.at(r), lib.people(r.users), r.instance],
)

_those_references(refs) := "that reference" if {
	count(refs) == 1
} else := "those references"

# METADATA
# title: sets in use
# description: |
#   The sets this rule reports: the dangling references their removal leaves are not reported
#   again as invalid.
sets_in_use contains trim_prefix(finding.object, "PermissionSet/") if some finding in deny
