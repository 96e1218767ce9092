# Tests of fixed-set (fixed_set.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["fixed-set_test"]

import data.permsets.plan_test as fixture

_admin_without_superuser := fixture.patched([
	{"op": "replace", "path": "/sets/admin/permissions", "value": ["people=read"]},
	{"op": "replace", "path": "/sets/admin/grants", "value": ["people=read"]},
	{"op": "replace", "path": "/sets/admin/superuser", "value": false},
])

test_fail_edited if {
	inp := fixture.changes([fixture.set_changed(
		_admin_without_superuser, "admin",
		fixture.set_fields(_admin_without_superuser, "admin"),
	)])
	fixture.denied(_admin_without_superuser, inp) == {
		{
			"code": "fixed-set",
			"object": "PermissionSet/admin",
			"file": "sets/admin.yaml",
			"line": 1,
			"message": concat(" ", [
				"permission set admin (sets/admin.yaml:1) is fixed, but this change edits its permissions.",
				"Revert that; a fixed set may only gain instances.",
			]),
		},
		# The admin set is not in leader's editableSets either.
		{
			"code": "set-not-editable",
			"object": "PermissionSet/admin",
			"file": "sets/admin.yaml",
			"line": 1,
			"message": concat(" ", [
				"permission set admin (sets/admin.yaml:1) cannot be changed on instance leader",
				"(instances/leader.yaml:1): its editableSets list only staffer.",
				"Leave the set as it is there, or have the instance's editableSets list it first, in a change of",
				"its own.",
			]),
		},
	}
}

test_fail_loses_instance if {
	after := fixture.patched([{"op": "replace", "path": "/sets/admin/instances", "value": ["hq", "leader"]}])
	inp := fixture.changes([fixture.set_changed(after, "admin", fixture.set_fields(after, "admin"))])
	fixture.denied(after, inp) == {{
		"code": "fixed-set",
		"object": "PermissionSet/admin",
		"file": "sets/admin.yaml",
		"line": 1,
		"message": concat(" ", [
			"permission set admin (sets/admin.yaml:1) is fixed, but this change removes it from instance legacy.",
			"Revert that; a fixed set may only gain instances.",
		]),
	}}
}

test_fail_edited_and_loses_instances if {
	after := fixture.patched([
		{"op": "replace", "path": "/sets/admin/instances", "value": ["leader"]},
		{"op": "replace", "path": "/sets/admin/name", "value": "Administrators"},
		{"op": "replace", "path": "/sets/admin/enabled", "value": false},
	])
	inp := fixture.changes([fixture.set_changed(after, "admin", fixture.set_fields(after, "admin"))])
	[entry] := [e | some e in fixture.of_code(fixture.denied(after, inp), "fixed-set")]
	entry.message == concat(" ", [
		"permission set admin (sets/admin.yaml:1) is fixed, but this change edits its enabled, name and removes it",
		"from instances hq, legacy. Revert that; a fixed set may only gain instances.",
	])
}

test_fail_removed if {
	after := fixture.patched([{"op": "remove", "path": "/sets/admin"}])
	fixture.of_code(fixture.denied(after, fixture.changes([fixture.set_removed("admin")])), "fixed-set") == {{
		"code": "fixed-set",
		"object": "PermissionSet/admin",
		"file": "sets/admin.yaml",
		"line": 1,
		"message": concat(" ", [
			"permission set admin (sets/admin.yaml:1) is fixed and cannot be removed.",
			"Keep it; a fixed set may only gain instances.",
		]),
	}}
}

test_success_admin_set_gains_new_instance if {
	after := fixture.patched([
		{"op": "add", "path": "/instances/tenant", "value": fixture.tenant},
		{"op": "add", "path": "/sets/admin/instances/-", "value": "tenant"},
	])
	inp := fixture.changes([fixture.tenant_added, fixture.set_changed(after, "admin", fixture.set_fields(after, "admin"))])
	fixture.denied(after, inp) == set()
	fixture.warned(after, inp) == set()
}
