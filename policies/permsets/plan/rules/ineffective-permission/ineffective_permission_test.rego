# Tests of ineffective-permission (ineffective_permission.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["ineffective-permission_test"]

import data.permsets.plan_test as fixture

test_fail_ineffective_permission if {
	# events gains finances=export without the finances=read and people=export it requires;
	# exporter grants finances=read and finances=export without people=export.
	after := json.patch(
		fixture.with_set("exporter", fixture.permission_set(
			"Exporter", ["hq"], ["finances=read", "finances=export"],
			["finances=export", "finances=read"], "sets/hq/exporter.yaml",
		)),
		[
			{"op": "replace", "path": "/sets/events/permissions", "value": ["events=read", "finances=export"]},
			{"op": "replace", "path": "/sets/events/grants", "value": ["events=read", "finances=export"]},
		],
	)
	inp := fixture.changes([
		fixture.set_changed(after, "events", fixture.set_fields(after, "events")),
		fixture.set_added(after, "exporter"),
	])
	fixture.warned(after, inp) == {
		{
			"code": "ineffective-permission",
			"object": "PermissionSet/events",
			"file": "sets/hq/events.yaml",
			"line": 1,
			"message": concat(" ", [
				"permission set events (sets/hq/events.yaml:1) grants finances=export but not finances=read,",
				"people=export, which it requires: holders who lack them from another set get nothing from",
				"finances=export. Add them to the set, or check that every holder has them elsewhere.",
			]),
		},
		{
			"code": "ineffective-permission",
			"object": "PermissionSet/exporter",
			"file": "sets/hq/exporter.yaml",
			"line": 1,
			"message": concat(" ", [
				"permission set exporter (sets/hq/exporter.yaml:1) grants finances=export but not people=export,",
				"which it requires: holders who lack it from another set get nothing from finances=export.",
				"Add it to the set, or check that every holder has it elsewhere.",
			]),
		},
	}
}

test_success_superuser_or_unchanged if {
	# root holds *=*: nothing it grants lacks a requirement. archived (unchanged) is not looked at.
	root := object.union(
		fixture.permission_set("Root", ["hq"], ["*=*"], ["finances=export"], "sets/hq/root.yaml"),
		{"builtin": true, "superuser": true},
	)
	after := json.patch(
		fixture.with_set("root", root),
		[{"op": "replace", "path": "/sets/archived/grants", "value": ["finances=export"]}],
	)
	fixture.warned(after, fixture.changes([fixture.set_added(after, "root")])) == set()
}
