# METADATA
# title: catalog-removed
# description: |
#   Deny removing the catalog, and with it every requirement and separation rule (a catalog
#   spread over files stays one Catalog object: this is the last of them).
# related_resources:
#   - ref: docs/plan.md#catalog-removed
#     description: the rule and what to do about it
# scope: package
package permsets.plan.rules["catalog-removed"]

import data.permsets.plan.lib

deny contains finding if {
	some c in input.changes
	c.kind == "Catalog"
	c.action == "remove"
	finding := lib.finding("catalog-removed", lib.object_of(c), c.before, concat(" ", [
		sprintf("the catalog (%s) is removed:", [lib.at(c.before)]),
		"every requirement and separation-of-duties rule it declares would silently stop applying.",
		"Keep a catalog.",
	]))
}
