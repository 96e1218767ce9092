# METADATA
# title: expiring-assignment
# description: |
#   Warn about an added or changed assignment that expires within the repository's
#   expiringWithin of the plan's time, or has already expired.
# related_resources:
#   - ref: docs/plan.md#expiring-assignment
#     description: the warning and what to do about it
# scope: package
package permsets.plan.rules["expiring-assignment"]

import data.permsets.plan.lib
import data.permsets_plan.after
import data.permsets_plan.now_ns

warn contains finding if {
	some c in input.changes
	c.kind == "Assignment"
	c.action in {"add", "change"}
	expires_ns := time.parse_rfc3339_ns(c.after_object.expires)
	expires_ns - now_ns <= after.repository.expiringWithinNs
	finding := lib.finding("expiring-assignment", lib.object_of(c), c.after, _expiry_text(c, expires_ns))
}

_expiry_text(c, expires_ns) := concat(" ", [
	sprintf(
		"assignment %s (%s) has already expired (expires %s), so it gives nothing.",
		[c.id, lib.at(c.after), c.after_object.expires],
	),
	"Remove it, or set a later expires if the access should go on.",
]) if {
	expires_ns <= now_ns
} else := concat(" ", [
	sprintf("assignment %s (%s) expires %s, within %s: from then on it no longer gives %s to %s on %s.", [
		c.id, lib.at(c.after), c.after_object.expires, _days(after.repository.expiringWithinNs),
		concat(", ", c.after_object.permissionSets), lib.people(c.after_object.users), c.after_object.instance,
	]),
	"Set a later expires if the access should last.",
])

# "14 days" (rounded up), "1 day".
_days(ns) := "1 day" if {
	ns <= 86400000000000
} else := sprintf("%d days", [ceil(ns / 86400000000000)])
