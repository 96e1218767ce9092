# Tests of disabled-set-assigned (disabled_set_assigned.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["disabled-set-assigned_test"]

import data.permsets.plan_test as fixture

_hq_staff := {"id": "hq-staff", "instance": "hq", "users": ["bob", "alice"], "permissionSets": ["staffer"]}

_hq_staff_changed(new) := {
	"kind": "Assignment",
	"id": "hq-staff",
	"action": "change",
	"fields": [{"field": "permissionSets", "old": ["staffer"], "new": new.permissionSets}],
	"before": fixture.at("assignments/hq-staff.yaml"),
	"after": fixture.at("assignments/hq-staff.yaml"),
	"before_object": _hq_staff,
	"after_object": new,
}

test_fail_assignment_gives_disabled_set if {
	inp := fixture.changes([_hq_staff_changed(object.union(_hq_staff, {"permissionSets": ["staffer", "archived"]}))])
	fixture.denied(fixture.base, inp) == {{
		"code": "disabled-set-assigned",
		"object": "Assignment/hq-staff",
		"file": "assignments/hq-staff.yaml",
		"line": 1,
		"message": concat(" ", [
			"assignment hq-staff (assignments/hq-staff.yaml:1) newly gives permission set archived",
			"(sets/hq/archived.yaml:1), which is disabled, to alice, bob on hq.",
			"Enable the set, or assign an enabled one.",
		]),
	}}
}

test_fail_role_gives_disabled_set if {
	role := {"id": "archivists", "members": ["lena"], "permissionSets": ["leader/staffer", "hq/archived"]}
	inp := fixture.changes([
		{
			"kind": "Role",
			"id": "archivists",
			"action": "add",
			"after": fixture.at("roles/archivists.yaml"),
			"after_object": role,
		},
	])
	fixture.denied(fixture.base, inp) == {{
		"code": "disabled-set-assigned",
		"object": "Role/archivists",
		"file": "roles/archivists.yaml",
		"line": 1,
		"message": concat(" ", [
			"role archivists (roles/archivists.yaml:1) newly gives permission set archived",
			"(sets/hq/archived.yaml:1), which is disabled, to its members lena on hq.",
			"Enable the set, or give the role an enabled one.",
		]),
	}}
}

test_success_disabling_an_assigned_set if {
	after := fixture.patched([{"op": "replace", "path": "/sets/finance/enabled", "value": false}])
	inp := fixture.changes([fixture.set_changed(after, "finance", fixture.set_fields(after, "finance"))])
	fixture.denied(after, inp) == set()
}

test_success_assignment_that_already_gave_a_disabled_set if {
	old := object.union(_hq_staff, {"permissionSets": ["archived"]})
	change := {
		"kind": "Assignment", "id": "hq-staff", "action": "change",
		"fields": [{"field": "users", "old": old.users, "new": ["alice"]}],
		"before": fixture.at("assignments/hq-staff.yaml"), "after": fixture.at("assignments/hq-staff.yaml"),
		"before_object": old, "after_object": object.union(old, {"users": ["alice"]}),
	}
	fixture.denied(fixture.base, fixture.changes([change])) == set()
}
