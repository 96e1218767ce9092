# Tests of catalog-removed (catalog_removed.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["catalog-removed_test"]

import data.permsets.plan_test as fixture

_catalog_change(action) := {"kind": "Catalog", "id": "catalog", "action": action, "before": fixture.at("catalog.yaml")}

test_fail_catalog_removed if {
	after := fixture.patched([{"op": "replace", "path": "/catalog", "value": null}])
	fixture.denied(after, fixture.changes([_catalog_change("remove")])) == {{
		"code": "catalog-removed",
		"object": "Catalog/catalog",
		"file": "catalog.yaml",
		"line": 1,
		"message": concat(" ", [
			"the catalog (catalog.yaml:1) is removed: every requirement and separation-of-duties rule it declares",
			"would silently stop applying. Keep a catalog.",
		]),
	}}
}

test_success_catalog_changed if {
	change := object.union(
		_catalog_change("change"),
		{"after": fixture.at("catalog.yaml"), "fields": [{"field": "separationOfDuties", "old": [], "new": []}]},
	)
	fixture.denied(fixture.base, fixture.changes([change])) == set()
}
