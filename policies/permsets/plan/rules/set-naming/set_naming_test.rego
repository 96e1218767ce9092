# Tests of set-naming (set_naming.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["set-naming_test"]

import data.permsets.plan_test as fixture

_naming := fixture.patched([
	{"op": "replace", "path": "/repository/setIdPattern", "value": "^[a-z][a-z0-9-]*$"},
	{"op": "replace", "path": "/repository/setNamePattern", "value": "^[A-Z]"},
	{
		"op": "add",
		"path": "/sets/Bulk_Export",
		"value": fixture.permission_set("bulk export", ["hq"], ["events=read"], ["events=read"], "sets/hq/bulk.yaml"),
	},
	{"op": "add", "path": "/assigned/Bulk_Export", "value": true},
])

test_fail_set_naming if {
	fixture.warned(_naming, fixture.changes([fixture.set_added(_naming, "Bulk_Export")])) == {
		{
			"code": "set-naming",
			"object": "PermissionSet/Bulk_Export",
			"file": "sets/hq/bulk.yaml",
			"line": 1,
			"message": concat(" ", [
				"permission set Bulk_Export (sets/hq/bulk.yaml:1) has an id that does not match the repository's",
				"setIdPattern ^[a-z][a-z0-9-]*$. Choose an id that matches.",
			]),
		},
		{
			"code": "set-naming",
			"object": "PermissionSet/Bulk_Export",
			"file": "sets/hq/bulk.yaml",
			"line": 1,
			"message": concat(" ", [
				"permission set Bulk_Export (sets/hq/bulk.yaml:1) is named \"bulk export\", which does not match",
				"the repository's setNamePattern ^[A-Z]. Rename it to match.",
			]),
		},
	}
}

test_success_matching_empty_or_invalid_pattern if {
	events := fixture.patched([
		{"op": "replace", "path": "/repository/setIdPattern", "value": "^[a-z][a-z0-9-]*$"},
		{"op": "replace", "path": "/repository/setNamePattern", "value": "^[A-Z]"},
		{"op": "replace", "path": "/sets/events/name", "value": "Events and rallies"},
	])
	fixture.warned(
		events,
		fixture.changes([fixture.set_changed(events, "events", fixture.set_fields(events, "events"))]),
	) == set()

	unchecked := json.patch(_naming, [
		{"op": "replace", "path": "/repository/setIdPattern", "value": ""},
		{"op": "replace", "path": "/repository/setNamePattern", "value": "(unclosed"},
	])
	fixture.warned(unchecked, fixture.changes([fixture.set_added(unchecked, "Bulk_Export")])) == set()
}
