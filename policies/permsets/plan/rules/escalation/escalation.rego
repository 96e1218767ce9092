# METADATA
# title: escalation
# description: |
#   Deny a change that gives anyone, on an instance, what the actor's own grants there in
#   before do not cover: nobody may grant more than they hold. Holders of *=* on the instance
#   and system admins are exempt. One finding per (user, instance), naming what is not covered.
# related_resources:
#   - ref: docs/plan.md#escalation
#     description: the rule and what to do about it
# scope: package
package permsets.plan.rules.escalation

import data.permsets.plan.lib
import data.permsets_plan.after

deny contains finding if {
	lib.judged
	some a in input.access_changes
	not input.actor.superuser[a.instance]
	uncovered := [g |
		some g in a.gained
		not lib.actor_holds(a.instance, g.parsed)
	]
	count(uncovered) > 0
	place := _granted_at(uncovered[0])
	finding := lib.finding("escalation", concat("/", ["User", a.user]), place, concat(" ", [
		sprintf(
			"%s would give %s %s on %s, which %s does not hold there in the base: nobody may grant more than they hold.",
			[input.actor.id, a.user, concat(", ", [g.permission | some g in uncovered]), a.instance, input.actor.id],
		),
		"Leave it out, or have someone who holds it (or a system admin) make the change.",
	]))
}

# Where a gained permission comes from: the first set that gives it, in after.
_granted_at(g) := {"file": s.file, "line": s.line} if {
	s := after.sets[g.grants[0].set]
} else := {"file": "", "line": 0}
