# METADATA
# title: set-naming
# description: |
#   Warn about an added or changed set whose id does not match the repository's setIdPattern,
#   or whose name does not match setNamePattern (an empty pattern checks nothing; an invalid one
#   is a validation problem).
# related_resources:
#   - ref: docs/plan.md#set-naming
#     description: the warning and what to do about it
# scope: package
package permsets.plan.rules["set-naming"]

import data.permsets.plan.lib
import data.permsets_plan.after

# The id ...
warn contains finding if {
	pattern := after.repository.setIdPattern
	_checks(pattern)
	some c in lib.added_or_changed_sets
	not regex.match(pattern, c.id)
	finding := lib.finding("set-naming", lib.object_of(c), c.after, sprintf(
		"%s has an id that does not match the repository's setIdPattern %s. Choose an id that matches.",
		[lib.set_text(c.id, c.after), pattern],
	))
}

# ... and the name.
warn contains finding if {
	pattern := after.repository.setNamePattern
	_checks(pattern)
	some c in lib.added_or_changed_sets
	name := after.sets[c.id].name
	not regex.match(pattern, name)
	finding := lib.finding("set-naming", lib.object_of(c), c.after, sprintf(
		"%s is named %q, which does not match the repository's setNamePattern %s. Rename it to match.",
		[lib.set_text(c.id, c.after), name, pattern],
	))
}

_checks(pattern) if {
	pattern != ""
	regex.is_valid(pattern)
}
