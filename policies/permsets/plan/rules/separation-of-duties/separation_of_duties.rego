# METADATA
# title: separation-of-duties
# description: |
#   Deny a change after which a user who gains a permission holds every permission of a
#   separation-of-duties rule of the catalog, without having held all of them before. Holders
#   of *=* (superuser_after) are exempt.
# related_resources:
#   - ref: docs/plan.md#separation-of-duties
#     description: the rule and what to do about it
# scope: package
package permsets.plan.rules["separation-of-duties"]

import data.permsets.plan.lib
import data.permsets_plan.after

deny contains finding if {
	some a in input.access_changes
	count(a.gained) > 0
	not a.superuser_after
	some rule in after.catalog.separationOfDuties
	every p in rule.permissions {
		p in a.after_keys
	}
	some p in rule.permissions
	not p in object.get(a, "before_keys", [])
	place := _rule_place(rule)
	finding := lib.finding("separation-of-duties", concat("/", ["User", a.user]), place, concat(" ", [
		sprintf(
			"%s would newly hold every permission of separation-of-duties rule %s (%s) on %s: %s.",
			[a.user, rule.name, lib.at(place), a.instance, concat(", ", rule.permissions)],
		),
		sprintf("Keep them with different people: drop the grant that gives %s the last of them.", [a.user]),
	]))
}

# Where a separation-of-duties rule is declared, or the catalog when that is not known.
_rule_place(rule) := rule if {
	rule.file != ""
} else := after.catalog
