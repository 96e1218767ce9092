# Tests of set-not-editable (set_not_editable.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["set-not-editable_test"]

import data.permsets.plan_test as fixture

test_fail_editing_other_set_on_leader if {
	after := fixture.patched([{
		"op": "replace", "path": "/sets/reports/permissions",
		"value": ["finances=read", "people=read"],
	}])
	fixture.denied(
		after,
		fixture.changes([fixture.set_changed(after, "reports", fixture.set_fields(after, "reports"))]),
	) == {{
		"code": "set-not-editable",
		"object": "PermissionSet/reports",
		"file": "sets/reports.yaml",
		"line": 1,
		"message": concat(" ", [
			"permission set reports (sets/reports.yaml:1) cannot be changed on instance leader",
			"(instances/leader.yaml:1): its editableSets list only staffer.",
			"Leave the set as it is there, or have the instance's editableSets list it first, in a change of its",
			"own.",
		]),
	}}
}

test_success_editing_staffer_on_leader if {
	after := fixture.patched([{"op": "replace", "path": "/sets/staffer/permissions", "value": ["people=read"]}])
	fixture.denied(
		after,
		fixture.changes([fixture.set_changed(after, "staffer", fixture.set_fields(after, "staffer"))]),
	) == set()
}

test_fail_set_created_added_and_removed_on_leader if {
	after := fixture.patched([
		{
			"op": "add",
			"path": "/sets/bulletin",
			"value": fixture.permission_set(
				"Bulletin",
				["leader"],
				["events=read"],
				["events=read"],
				"sets/leader/bulletin.yaml",
			),
		},
		{"op": "replace", "path": "/sets/finance/instances", "value": ["hq", "leader"]},
		{"op": "replace", "path": "/sets/reports/instances", "value": ["legacy"]},
		{"op": "remove", "path": "/sets/events"},
	])
	inp := fixture.changes([
		fixture.set_added(after, "bulletin"),
		fixture.set_changed(after, "finance", fixture.set_fields(after, "finance")),
		fixture.set_changed(after, "reports", fixture.set_fields(after, "reports")),
		fixture.set_removed("events"),
	])
	{[f.object, f.message] | some f in fixture.of_code(fixture.denied(after, inp), "set-not-editable")} == {
		["PermissionSet/bulletin", concat(" ", [
			"permission set bulletin (sets/leader/bulletin.yaml:1) cannot be created on instance leader",
			"(instances/leader.yaml:1): its editableSets list only staffer.",
			"Leave the set as it is there, or have the instance's editableSets list it first, in a change of its",
			"own.",
		])],
		["PermissionSet/finance", concat(" ", [
			"permission set finance (sets/hq/finance.yaml:1) cannot be added to instance leader",
			"(instances/leader.yaml:1): its editableSets list only staffer.",
			"Leave the set as it is there, or have the instance's editableSets list it first, in a change of its",
			"own.",
		])],
		["PermissionSet/reports", concat(" ", [
			"permission set reports (sets/reports.yaml:1) cannot be removed from instance leader",
			"(instances/leader.yaml:1): its editableSets list only staffer.",
			"Leave the set as it is there, or have the instance's editableSets list it first, in a change of its",
			"own.",
		])],
	}
}

test_fail_set_removed_on_instance_that_lists_no_editable_set if {
	# hq, which lets no set be edited, is removed with its sets: the message points at it in
	# before.
	before := json.patch(fixture.base, [{"op": "add", "path": "/instances/hq/editableSets", "value": []}])
	after := json.patch(before, [{"op": "remove", "path": "/sets/events"}, {"op": "remove", "path": "/instances/hq"}])
	fixture.denied_from(before, after, fixture.changes([fixture.set_removed("events")])) == {{
		"code": "set-not-editable",
		"object": "PermissionSet/events",
		"file": "sets/hq/events.yaml",
		"line": 1,
		"message": concat(" ", [
			"permission set events (sets/hq/events.yaml:1) cannot be removed from instance hq",
			"(instances/hq.yaml:1): its editableSets list no set. Leave the set as it is there, or have the",
			"instance's editableSets list it first, in a change of its own.",
		]),
	}}
}
