# METADATA
# title: invalid
# description: |
#   Deny each validation problem of after, except an unknown set that this change removes (from
#   the repository or from an instance) while it is still referenced: set-in-use reports that
#   once, naming who holds it.
# related_resources:
#   - ref: docs/plan.md#invalid
#     description: the rule and what to do about it
# scope: package
package permsets.plan.rules.invalid

import data.permsets.plan.lib
import data.permsets.plan.rules["set-in-use"] as set_in_use

deny contains finding if {
	some p in input.problems
	not _reported_as_set_in_use(p)
	finding := lib.finding("invalid", "", p, sprintf("%s: %s", [p.code, p.message]))
}

_reported_as_set_in_use(p) if {
	p.code == "unknown-set"
	p.set in set_in_use.sets_in_use
}
