# Tests of unassigned-set (unassigned_set.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["unassigned-set_test"]

import data.permsets.plan_test as fixture

test_fail_unassigned_set if {
	after := fixture.patched([
		{
			"op": "add",
			"path": "/sets/spare",
			"value": fixture.permission_set(
				"Spare",
				["hq"],
				["events=read"],
				["events=read"],
				"sets/hq/spare.yaml",
			),
		},
	])
	fixture.warned(after, fixture.changes([fixture.set_added(after, "spare")])) == {{
		"code": "unassigned-set",
		"object": "PermissionSet/spare",
		"file": "sets/hq/spare.yaml",
		"line": 1,
		"message": concat(" ", [
			"permission set spare (sets/hq/spare.yaml:1) is assigned to nobody: no assignment or role gives it.",
			"Assign it, or leave it out until someone needs it.",
		]),
	}}
}

test_success_assigned_or_removed if {
	after := fixture.patched([{"op": "remove", "path": "/sets/events"}, {"op": "remove", "path": "/assigned/events"}])
	fixture.warned(after, fixture.changes([fixture.set_removed("events")])) == set()
	assigned := fixture.with_set(
		"spare",
		fixture.permission_set("Spare", ["hq"], ["events=read"], ["events=read"], "sets/hq/spare.yaml"),
	)
	fixture.warned(assigned, fixture.changes([fixture.set_added(assigned, "spare")])) == set()
}
